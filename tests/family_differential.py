"""Shared machinery of the per-family differential tests (test_differential_<family>.py).

A family's ``layer_for(draw, shape)`` draws layers one at a time; the shape each next layer
sees comes from specc's own resolution (Keras then judges the whole model). Accepted specs
must equal Keras layer for layer, table and summary text; rejected ones must be refused by
Keras too: when it builds the model, when it runs it (predict), or when it trains it (one
step of fit), since Keras checks some sizes only then.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import HealthCheck, note
from hypothesis import strategies as st
from pydantic import ValidationError

from specc.analysis import graph
from specc.backends import keras_build, table
from specc.errors import Diagnostic
from specc.language.schema import Spec
from tests.keras_helpers import keras, keras_rows, raw_keras_model, static_rows

SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "derandomize": False}

DELIBERATE = (
    "Keras would take the batch axis for image rows",
    "but computes",
    "it fits only inputs where",
)
"""Refusals where Keras builds and runs the model, but not as the spec means it: an image
layer on ``(batch, rows, cols)`` treats the batch axis as image rows (specc asks for a
channels axis); per-channel values on an axis of size 1 silently widen it at run time,
while Keras' declared output keeps size 1; a size fixed where the input's is unknown (a
dropout mask's batch size, LayerScale's channels) runs on the inputs where it happens to
match only (specc.layers.shapes.FITS_SOME)."""


def _portable_seed(error: Any) -> bool:
    """A layer seed of 2**32 .. 2**63 - 1: tensorflow takes it, the jax backend's uint32
    seed state does not; specc keeps specs portable across back ends (values.SEED_MAX)."""
    return (
        error["loc"][-1:] == ("seed",)
        and error["type"] == "less_than_equal"
        and isinstance(error["input"], int)
        and error["input"] < 2**63
    )


def _resolve(data: dict[str, Any]) -> tuple[Any, list[Diagnostic]]:
    spec = Spec.model_validate(data)
    return graph.resolve(spec, lambda loc, msg: Diagnostic(msg, loc=tuple(loc)))


def specs(
    shapes: st.SearchStrategy[list[int | None]],
    layer_for: Callable[..., dict[str, Any] | None],
    max_layers: int = 3,
    **options: Any,
) -> st.SearchStrategy[dict[str, Any]]:
    """Specs of 1..``max_layers`` layers of one family; ``options`` go to ``layer_for``
    (``multi_output=True`` is passed for the last layer only, if given)."""

    @st.composite
    def build(draw: Any) -> dict[str, Any]:
        shape = draw(shapes)
        data: dict[str, Any] = {
            "name": "random",
            "model": {"input": {"shape": shape}, "layers": []},
        }
        count = draw(st.integers(1, max_layers))
        current: list[int | None] = shape
        for i in range(count):
            kwargs = dict(options)
            if "multi_output" in kwargs:
                kwargs["multi_output"] = kwargs["multi_output"] and i == count - 1
            layer = layer_for(draw, current, **kwargs)
            if layer is None:
                break
            data["model"]["layers"].append(layer)
            try:
                resolved, problems = _resolve(data)
            except ValidationError:
                break
            if problems or resolved is None or isinstance(resolved.output_shape, list):
                break
            current = list(resolved.output_shape[1:])
        if not data["model"]["layers"]:
            data["model"]["layers"].append({"type": "Flatten"})
        return data

    return build()


def _sample(shape: tuple[int | None, ...], batch: int = 2) -> np.ndarray:
    return np.random.default_rng(0).random((batch, *(3 if d is None else d for d in shape[1:])))


def keras_refuses(data: dict[str, Any]) -> str | None:
    """How Keras refuses the spec (build, predict or fit), or None if it takes it all.

    A model whose output on a batch is not of the shape it declares counts as refused."""
    try:
        model = raw_keras_model(data)
    except Exception as exc:  # Keras raises ValueError, TypeError, ...
        return f"build: {exc}"
    x = _sample(tuple(model.inputs[0].shape))
    try:
        y = model.predict(x, verbose=0)
    except Exception as exc:
        return f"predict: {exc}"
    if isinstance(y, list):
        return None
    declared = tuple(model.output_shape)
    if len(y.shape) != len(declared) or any(
        d is not None and d != n for d, n in zip(declared[1:], y.shape[1:], strict=True)
    ):  # Keras built it, but what it computes is not what it declared (nothing to agree on)
        return f"predict: output {y.shape[1:]} is not the declared {declared}"
    try:
        model.compile(optimizer="sgd", loss="mse")
        model.fit(x, y, epochs=1, verbose=0)
    except Exception as exc:
        return f"fit: {exc}"
    return None


def keras_summary(model: Any) -> str:
    """``model.summary()`` as text, 88 wide (rich reads the console width from COLUMNS)."""
    lines: list[str] = []
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "200"
    try:
        model.summary(line_length=88, print_fn=lambda text, line_break=True: lines.append(text))
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    return "".join(lines).strip()


def check(data: dict[str, Any]) -> str:
    """Compare specc with Keras on one spec; return "accepted" or "rejected"."""
    note(repr(data))
    try:
        resolved, problems = _resolve(data)
    except ValidationError as exc:
        if all(_portable_seed(error) for error in exc.errors()):
            return "rejected"
        refusal = keras_refuses(data)
        assert refusal is not None, f"specc refuses an argument Keras takes: {exc}"
        return "rejected"
    if problems:
        messages = [p.message for p in problems]
        note(repr(messages))
        if not any(reason in m for m in messages for reason in DELIBERATE):
            assert keras_refuses(data) is not None, f"Keras takes what specc refuses: {messages}"
        return "rejected"
    assert resolved is not None
    k = keras()
    k.backend.clear_session()
    spec = Spec.model_validate(data)
    model = keras_build.build(spec, resolved, compile=False, keras_names=True)
    assert keras_rows(model) == static_rows(resolved)
    assert keras_summary(model) == table.as_text(resolved, width=88).strip()
    return "accepted"


def both_outcomes(specs_strategy: st.SearchStrategy[dict[str, Any]], examples: int = 60) -> dict:
    """How many drawn specs specc accepts and rejects (the property needs both); a fixed
    draw, so the count is the same on every run."""
    from hypothesis import given, settings

    outcomes = {"accepted": 0, "rejected": 0}

    @settings(max_examples=examples, database=None, **{**SETTINGS, "derandomize": True})
    @given(specs_strategy)
    def count(data: dict[str, Any]) -> None:
        try:
            _, problems = _resolve(data)
        except ValidationError:
            problems = ["schema"]
        outcomes["rejected" if problems else "accepted"] += 1

    count()
    return outcomes
