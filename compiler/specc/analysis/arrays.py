"""Which arrays a data file holds for a model: one input and output, or several by name.

Pure Python, no numpy: ``emit-code`` writes the same convention into the training script.
"""

from __future__ import annotations

from dataclasses import dataclass

from specc.analysis.checks import input_names, output_names
from specc.analysis.graph import Graph


@dataclass(frozen=True)
class DataArrays:
    """The arrays a data file holds for a model: ``x_train`` and ``x_test`` for one input,
    ``x_train_<name>`` and ``x_test_<name>`` for each of several (``inputs``); the labels
    likewise (``outputs``). Empty ``inputs``/``outputs``: one input/output."""

    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()

    @classmethod
    def of(cls, graph: Graph) -> DataArrays:
        ins, outs = input_names(graph), output_names(graph)
        return cls(ins if len(ins) > 1 else (), outs if len(outs) > 1 else ())

    def names(self, part: str, split: str) -> dict[str, str | None]:
        """``{file key: input/output name}`` of ``x``/``y`` in ``split`` (None: the one)."""
        several = self.inputs if part == "x" else self.outputs
        if not several:
            return {f"{part}_{split}": None}
        return {f"{part}_{split}_{name}": name for name in several}

    def keys(self) -> tuple[str, ...]:
        return tuple(k for split in ("train", "test") for part in "xy"
                     for k in self.names(part, split))  # fmt: skip

    def hint(self) -> str:
        """What a file for several inputs/outputs holds, for a missing-key message."""
        parts = []
        if self.inputs:
            parts.append(
                f"x_train_<input> and x_test_<input> for each input ({', '.join(self.inputs)})"
            )
        if self.outputs:
            parts.append(
                f"y_train_<output> and y_test_<output> for each output ({', '.join(self.outputs)})"
            )
        return f" (this model takes {' and '.join(parts)})" if parts else ""


ONE = DataArrays()
"""One input and one output: ``x_train``, ``y_train``, ``x_test``, ``y_test``."""
