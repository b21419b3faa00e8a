"""Merging layers: one output from a list of input tensors (residual sums, skip concats).

A layer list hands a layer one tensor, so there they are refused (Keras refuses a merge
layer on one tensor too) unless the layer before outputs several (an LSTM with
``return_state``: Keras then hands the list on). ``infer_many`` holds the rule over a list
of input shapes, for the graph specs that route several tensors to a layer. The shape
arithmetic below is Keras 3.15's (``layers/merging/``), written as pure functions; where
Keras builds a model whose sizes cannot agree when it runs, specc refuses with the reason.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from specc.layers import shapes
from specc.layers.base import LayerSpec, Out, Trainable
from specc.layers.shapes import Shape, ShapeError
from specc.terms.values import Float

RUNS_INTO = " (Keras builds it, then fails when run)"


def _fmt(shape_list: list[Shape]) -> str:
    return ", ".join(shapes.format_shape(s) for s in shape_list)


def _graph_only(layer: LayerSpec) -> ShapeError:
    return ShapeError(
        f"{layer.type} needs several inputs (it merges a list of tensors), but a layer list "
        "hands it one; graph specs route them (Keras refuses it on one tensor too)",
        show_input=False,
    )


def elementwise_shape(shape_list: list[Shape], what: str = "Add") -> Shape:
    """Output of an elementwise merge (Add, Multiply, ...), as Keras declares it.

    Axes line up from the last one; a shorter input gains size-1 axes after the batch axis.
    On each axis the known sizes other than 1 must be equal. Keras folds the inputs left to
    right and declares an axis unknown from the first unknown size on, so an unknown size
    hides a later mismatch until the model runs: specc refuses that too.

    >>> elementwise_shape([(None, 4, 3), (None, 3)])
    (None, 4, 3)
    >>> elementwise_shape([(None, 1, 3), (None, 4, 1)])
    (None, 4, 3)
    >>> elementwise_shape([(None, 2), (None, None), (None, 2)])
    (None, None)
    >>> elementwise_shape([(None, 2), (None, 3)], "Add")
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: Add needs inputs that broadcast together, but (None, 2), (None, 3) have sizes 2 and 3 on axis -1 (counting from the last); make them equal there (or 1)
    >>> elementwise_shape([(None, 2), (None, None), (None, 3)], "Add")
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: Add needs inputs that broadcast together, but (None, 2), (None, None), (None, 3) have sizes 2 and 3 on axis -1 (counting from the last); make them equal there (or 1) (Keras builds it, then fails when run)
    """
    rank = max(len(s) for s in shape_list) - 1  # axes after the batch axis
    out: list[int | None] = []
    clashes: list[tuple[bool, int, list[int]]] = []  # (only when run, axis, sizes)
    for back in range(rank, 0, -1):  # axis -back, counting from the last
        sizes = [s[-back] if back < len(s) else 1 for s in shape_list]
        folded: int | None = sizes[0]
        for size in sizes[1:]:  # Keras' fold: unknown stays unknown
            folded = None if folded is None or size is None else size if folded == 1 else folded
        out.append(folded)
        known = sorted({n for n in sizes if n is not None and n != 1})
        if len(known) > 1:  # Keras' fold sees it unless an unknown size comes first
            first_unknown = next((i for i, n in enumerate(sizes) if n is None), len(sizes))
            seen = {n for n in sizes[:first_unknown] if n is not None and n != 1}
            clashes.append((len(seen) < 2, back, known))
    if clashes:
        when_run, back, known = min(clashes)
        raise ShapeError(
            f"{what} needs inputs that broadcast together, but {_fmt(shape_list)} have "
            f"sizes {known[0]} and {known[1]} on axis -{back} (counting from the last); "
            "make them equal there (or 1)" + (RUNS_INTO if when_run else ""),
            show_input=False,
        )
    return (None, *out)


def concat_shape(shape_list: list[Shape], axis: int) -> Shape:
    """Output of Concatenate on ``axis``: the sizes on that axis add up; every other axis
    must agree (an unknown size agrees with anything). Keras takes the other sizes from
    the first input, and the joined size is unknown if any is.

    >>> concat_shape([(None, 4, 3), (None, 4, 5)], -1)
    (None, 4, 8)
    >>> concat_shape([(None, None, 3), (None, 2, 5)], -1)
    (None, None, 8)
    >>> concat_shape([(None, 4, 3), (None, None, 5)], 1)
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: Concatenate on axis 1 needs inputs equal on every other axis, but (None, 4, 3), (None, None, 5) have sizes 3 and 5 on axis 2; make them equal there, or concatenate on axis 2
    >>> concat_shape([(None, 4), (None, 4, 5)], -1)
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: Concatenate needs inputs of the same rank, but gets (None, 4), (None, 4, 5); reshape them to one rank
    """
    ranks = {len(s) for s in shape_list}
    rank = len(shape_list[0])
    if len(ranks) > 1:
        raise ShapeError(
            f"Concatenate needs inputs of the same rank, but gets {_fmt(shape_list)}; "
            "reshape them to one rank",
            show_input=False,
        )
    if not -rank <= axis < rank:
        raise ShapeError(
            f"axis {axis} is out of range for inputs of rank {rank} ({_fmt(shape_list)}); "
            f"use an axis from 1 to {rank - 1} (or -1 to {1 - rank})",
            "axis",
            show_input=False,
        )
    resolved = axis % rank
    if resolved == 0:
        raise ShapeError(
            f"axis {axis} is the batch axis of {_fmt(shape_list)}: Keras would stack the "
            "samples of the inputs into one longer batch; use an axis from 1 on",
            "axis",
            show_input=False,
        )
    for a in range(1, rank):
        known = sorted({n for s in shape_list if (n := s[a]) is not None})
        if a != resolved and len(known) > 1:
            raise ShapeError(
                f"Concatenate on axis {axis} needs inputs equal on every other axis, but "
                f"{_fmt(shape_list)} have sizes {known[0]} and {known[1]} on axis {a}; make "
                f"them equal there, or concatenate on axis {a}",
                show_input=False,
            )
    joined = [s[resolved] for s in shape_list]
    total = None if None in joined else sum(n for n in joined if n is not None)
    first = shape_list[0]
    return (*first[:resolved], total, *first[resolved + 1 :])


def dot_axes(left: int, right: int, axes: int | list[int]) -> tuple[int, int]:
    """The axis of each input that Dot sums over, as Keras reads ``axes`` for inputs of
    ranks ``left`` and ``right`` (batch axis included): one int names the same axis of
    both, a negative one counted from each input's end (Keras wraps it round the rank);
    a pair names one axis per input. Raises ShapeError for an axis an input lacks.

    >>> dot_axes(3, 2, -1), dot_axes(3, 3, 1), dot_axes(4, 3, [1, -1])
    ((2, 1), (1, 1), (1, 2))
    >>> dot_axes(3, 3, -4)
    (2, 2)
    >>> dot_axes(2, 3, [2, 1])
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: axes [2, 1] names axis 2 of an input of rank 2; its axes are 1 to 1 (or -1 to -1)
    """
    if isinstance(axes, int) and axes < 0:
        return axes % left, axes % right
    pair = [axes, axes] if isinstance(axes, int) else list(axes)
    for a, rank in zip(pair, (left, right), strict=True):
        if not -rank <= a < rank:
            raise ShapeError(
                f"axes {axes} names axis {a} of an input of rank {rank}; its axes are 1 to "
                f"{rank - 1} (or -1 to {1 - rank})",
                "axes",
                show_input=False,
            )
    return pair[0] % left, pair[1] % right


def dot_shape(left: Shape, right: Shape, axes: int | list[int]) -> Shape:
    """Output of Dot: ``left`` without its summed axis, then ``right`` without its batch
    axis and its summed axis; (batch, 1) if nothing else is left. The summed sizes must
    be equal, and Keras takes an unknown size as equal only to an unknown one.

    >>> dot_shape((None, 5, 3), (None, 7, 3), -1)
    (None, 5, 7)
    >>> dot_shape((None, 3), (None, 3), 1)
    (None, 1)
    >>> dot_shape((None, 2, 3, 4), (None, 1, 2, 5), [1, 2])
    (None, 3, 4, 1, 5)
    >>> dot_shape((None, 5, 3), (None, 5, 4), -1)
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: Dot sums over axis 2 of (None, 5, 3) and axis 2 of (None, 5, 4), but their sizes 3 and 4 differ; choose axes of equal size
    """
    try:
        a, b = dot_axes(len(left), len(right), axes)
    except ShapeError as exc:
        raise ShapeError(
            f"{exc} (inputs {_fmt([left, right])})", "axes", show_input=False
        ) from None
    if 0 in (a, b):
        raise ShapeError(
            f"axes {axes} names the batch axis of {_fmt([left, right])}, which Dot cannot "
            "sum over (Keras refuses it); name axes from 1 on",
            "axes",
            show_input=False,
        )
    if left[a] != right[b]:
        unknown = None in (left[a], right[b])
        raise ShapeError(
            f"Dot sums over axis {a} of {shapes.format_shape(left)} and axis {b} of "
            f"{shapes.format_shape(right)}, but their sizes {left[a]} and {right[b]} "
            + (
                "are not both known (Keras requires equal sizes); give both a size"
                if unknown
                else "differ; choose axes of equal size"
            ),
            show_input=False,
        )
    out = (*left[:a], *left[a + 1 :], *(right[i] for i in range(1, len(right)) if i != b))
    return out if len(out) > 1 else (*out, 1)


class _Merge(Trainable):
    """Elementwise merges: inputs that broadcast together, no weights."""

    CALL = "list"
    VALUE = "same"

    LIST_INPUT: ClassVar[bool] = True

    def infer(self, shape: Shape) -> Out:
        raise _graph_only(self)

    def infer_many(self, shapes: list[Shape]) -> Out:
        """Output for the list of inputs (Keras' ``Merge.compute_output_shape``).

        >>> Add(type="Add").infer_many([(None, 4, 3), (None, 1, 3), (None, 3)])
        Out(shape=(None, 4, 3), trainable=0, non_trainable=0, int64_params=0, largest=None)
        """
        self._check_count(shapes)
        return Out(elementwise_shape(shapes, self.type))

    def _check_count(self, shapes: list[Shape]) -> None:
        if not shapes:
            raise ShapeError(f"{self.type} needs at least one input", show_input=False)


class Add(_Merge):
    """Sum of the inputs (a residual connection)."""

    type: Literal["Add"]


class Subtract(_Merge):
    """First input minus the second."""

    type: Literal["Subtract"]

    def _check_count(self, shapes: list[Shape]) -> None:
        if len(shapes) != 2:
            raise ShapeError(
                f"Subtract takes exactly 2 inputs (the first minus the second), but gets "
                f"{len(shapes)}: {_fmt(shapes)}; give it two (Add sums any number)",
                show_input=False,
            )


class Multiply(_Merge):
    """Elementwise product of the inputs (a gate)."""

    type: Literal["Multiply"]


class Average(_Merge):
    """Elementwise mean of the inputs."""

    type: Literal["Average"]


class Maximum(_Merge):
    """Elementwise maximum of the inputs."""

    type: Literal["Maximum"]


class Minimum(_Merge):
    """Elementwise minimum of the inputs."""

    type: Literal["Minimum"]


class CustomScaleLayer(_Merge):
    """``inputs[0] + inputs[1] * scale``: InceptionResNetV2's scaled residual, a class of
    Keras' own applications (``keras.src.applications.inception_resnet_v2``), not of
    ``keras.layers``. Its output is the two inputs broadcast together, as Keras computes
    it by calling it on symbolic tensors."""

    KERAS_PATH = "src.applications.inception_resnet_v2.CustomScaleLayer"
    POSITIONAL = ("scale",)
    MINIMAL: ClassVar[dict[str, Any]] = {"scale": 1.0}
    VALUE = "linear"
    type: Literal["CustomScaleLayer"]
    scale: Float

    def _check_count(self, shapes: list[Shape]) -> None:
        if len(shapes) != 2:
            raise ShapeError(
                f"CustomScaleLayer takes exactly 2 inputs (the shortcut, then the residual "
                f"it scales), but gets {len(shapes)}: {_fmt(shapes)}; give it two",
                show_input=False,
            )


class Concatenate(Trainable):
    """The inputs joined along ``axis`` (a U-Net's skip connection, branches' features)."""

    LIST_INPUT: ClassVar[bool] = True
    VALUE = "same"
    CALL = "list"
    type: Literal["Concatenate"]
    axis: int = -1

    def infer(self, shape: Shape) -> Out:
        raise _graph_only(self)

    def infer_many(self, shapes: list[Shape]) -> Out:
        """Output for the list of inputs.

        >>> Concatenate(type="Concatenate", axis=1).infer_many([(None, 2, 3), (None, 4, 3)])
        Out(shape=(None, 6, 3), trainable=0, non_trainable=0, int64_params=0, largest=None)
        """
        if not shapes:
            raise ShapeError("Concatenate needs at least one input", show_input=False)
        return Out(concat_shape(shapes, self.axis))


class Dot(Trainable):
    """Dot products of two inputs over ``axes`` (cosine similarity with ``normalize``)."""

    LIST_INPUT: ClassVar[bool] = True
    POSITIONAL = ("axes",)
    MINIMAL: ClassVar[dict[str, Any]] = {"axes": 1}
    VALUE = "same"
    CALL = "list"
    type: Literal["Dot"]
    axes: int | Annotated[list[int], Field(min_length=2, max_length=2)]
    normalize: bool = False

    @classmethod
    def from_keras(cls, key: str, value: Any) -> Any:
        return list(value) if key == "axes" and isinstance(value, tuple) else value

    def infer(self, shape: Shape) -> Out:
        raise _graph_only(self)

    def infer_many(self, shapes: list[Shape]) -> Out:
        """Output for ``[left, right]``.

        >>> Dot(type="Dot", axes=[2, 2], normalize=True).infer_many([(None, 5, 3), (None, 7, 3)])
        Out(shape=(None, 5, 7), trainable=0, non_trainable=0, int64_params=0, largest=None)
        """
        if len(shapes) != 2:
            raise ShapeError(
                f"Dot takes exactly 2 inputs, but gets {len(shapes)}: {_fmt(shapes)}; give it two",
                show_input=False,
            )
        return Out(dot_shape(shapes[0], shapes[1], self.axes))


__all__ = [
    "Add",
    "Average",
    "Concatenate",
    "Dot",
    "Maximum",
    "Minimum",
    "Multiply",
    "Subtract",
    "concat_shape",
    "dot_axes",
    "dot_shape",
    "elementwise_shape",
]
