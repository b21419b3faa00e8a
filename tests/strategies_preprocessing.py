"""Hypothesis strategy for the preprocessing family (and nested Sequential blocks).

``layer_for(draw, shape)`` returns a layer entry for an input of ``shape`` (without the batch
axis, ``None`` for an unknown size). Image layers are drawn for ``(height, width, channels)``
inputs; for other ranks now and then too (borderline: specc refuses them, and Keras either
refuses them, fails when run, or takes the batch axis for image rows).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

IMAGE = [
    "Resizing", "CenterCrop", "RandomCrop", "RandomFlip", "RandomRotation", "RandomZoom",
    "RandomTranslation", "RandomContrast",
]  # fmt: skip


def _factor(draw: Any, low: float, high: float) -> Any:
    numbers = st.sampled_from([low, -0.5, -0.1, 0.0, 0.1, 0.3, high])
    if draw(st.booleans()):
        return draw(numbers)
    return [draw(numbers), draw(numbers)]


def _image(draw: Any, kind: str) -> dict[str, Any]:
    layer: dict[str, Any] = {"type": kind}
    if kind in ("Resizing", "CenterCrop", "RandomCrop"):
        layer["height"], layer["width"] = draw(st.integers(1, 12)), draw(st.integers(1, 12))
    if kind == "Resizing":
        if draw(st.booleans()):
            layer["interpolation"] = draw(st.sampled_from(["nearest", "bicubic", "lanczos3"]))
        option = draw(st.sampled_from([None, "crop_to_aspect_ratio", "pad_to_aspect_ratio"]))
        if option:
            layer[option] = True
    if kind == "RandomFlip" and draw(st.booleans()):
        layer["mode"] = draw(st.sampled_from(["horizontal", "vertical", "horizontal_and_vertical"]))
    if kind == "RandomRotation":
        layer["factor"] = _factor(draw, -1.0, 1.0)
    if kind == "RandomZoom":
        layer["height_factor"] = _factor(draw, -0.9, 1.0)
        if draw(st.booleans()):
            layer["width_factor"] = _factor(draw, -0.9, 1.0)
    if kind == "RandomTranslation":
        layer["height_factor"] = _factor(draw, -1.0, 1.0)
        layer["width_factor"] = _factor(draw, -1.0, 1.0)
    if kind == "RandomContrast":
        layer["factor"] = _factor(draw, 0.0, 1.0)
    if kind in ("RandomRotation", "RandomZoom", "RandomTranslation") and draw(st.booleans()):
        layer["fill_mode"] = draw(st.sampled_from(["reflect", "wrap", "constant", "nearest"]))
    if kind.startswith("Random") and draw(st.booleans()):
        layer["seed"] = draw(st.integers(0, 99))
    return layer


def _values(draw: Any, size: int | None) -> Any:
    n = draw(st.sampled_from([1, 2, 3] + ([size] if size else [])))
    values = [draw(st.sampled_from([0.5, 1.0, 2.0])) for _ in range(n)]
    return values[0] if n == 1 and draw(st.booleans()) else values


def _normalization(draw: Any, shape: list[int | None]) -> dict[str, Any]:
    layer: dict[str, Any] = {"type": "Normalization"}
    rank = len(shape) + 1
    axis = draw(st.sampled_from(["default", None, -1, "several", rank, 0]))
    if axis == "several":
        layer["axis"] = sorted(
            set(draw(st.lists(st.integers(1, rank - 1), min_size=1, max_size=2)))
        )
    elif axis != "default":
        layer["axis"] = axis
    if draw(st.booleans()) and axis in ("default", -1):
        values = _values(draw, shape[-1])
        layer["mean"] = values
        layer["variance"] = values
    if draw(st.integers(0, 3)) == 0:
        layer["invert"] = True
    return layer


def _simple(draw: Any, shape: list[int | None]) -> dict[str, Any]:
    """A layer of this family for ``shape``; image layers only for images (mostly)."""
    image = len(shape) == 3
    kind = draw(st.sampled_from(["Rescaling", "Normalization"] + (IMAGE if image else [])))
    if not image and draw(st.integers(0, 3)) == 0:
        kind = draw(st.sampled_from(IMAGE))  # borderline: an image layer on a non-image
    if kind == "Rescaling":
        layer: dict[str, Any] = {"type": "Rescaling", "scale": _values(draw, shape[-1])}
        if draw(st.booleans()):
            layer["offset"] = draw(st.sampled_from([-1.0, 0.5]))
        return layer
    if kind == "Normalization":
        return _normalization(draw, shape)
    return _image(draw, kind)


def layer_for(draw: Any, shape: list[int | None]) -> dict[str, Any] | None:
    """A preprocessing layer (or a nested Sequential of them) for ``shape``."""
    if draw(st.integers(0, 4)) == 0:
        layers = [_simple(draw, shape) for _ in range(draw(st.integers(1, 3)))]
        return {"type": "Sequential", "layers": layers}
    return _simple(draw, shape)
