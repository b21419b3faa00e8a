"""Hypothesis strategy for the core, activation, convolution, pooling, normalization,
regularization and reshaping layers added with the catalog.

:func:`layer_for` draws one layer entry for an input of a given shape (batch axis
included, ``None`` for unknown sizes): mostly layers that suit the shape, with sizes
drawn so that some do not fit (a kernel or crop too big, groups that do not divide, an
einsum ``output_shape`` of the wrong length), and now and then a layer made for another
rank. Every entry is schema-valid; whether it fits the shape is for specc and Keras to say.
"""

from __future__ import annotations

import string
from typing import Any

from hypothesis import strategies as st

Shape = tuple[int | None, ...]

ACTIVATIONS = ["relu", "tanh", "linear", "gelu"]
REGULARIZERS = [None, None, {"l2": 0.01}, {"l1": 0.001, "l2": 0.01}]


def _size(draw: Any, n: int, lo: int, hi: int) -> Any:
    """``n`` ints for a tuple argument, written as one int when they are equal, or a list."""
    values = [draw(st.integers(lo, hi)) for _ in range(n)]
    return values[0] if len(set(values)) == 1 and draw(st.booleans()) else values


def _maybe(draw: Any, layer: dict[str, Any], key: str, values: st.SearchStrategy) -> None:
    if draw(st.integers(0, 2)) == 0:
        layer[key] = draw(values)


# ------------------------------------------------------------------------------ core
def _einsum(draw: Any, shape: Shape) -> dict[str, Any]:
    """An EinsumDense whose equation matches the input's rank most of the time."""
    rank = len(shape)
    form = draw(st.sampled_from(["", "", "left", "right"]))
    if form == "left":
        spec_len = draw(st.integers(1, rank))
        dims = list(shape[rank - spec_len :])
    elif form == "right":
        spec_len = draw(st.integers(2, max(2, rank)))
        dims = list(shape[:spec_len])
    else:
        spec_len = rank + draw(st.sampled_from([0, 0, 0, 0, 0, 1, -1]))
        spec_len = max(spec_len, 1)
        dims = list(shape[:spec_len])
    letters = iter(string.ascii_lowercase)
    inp = "".join(next(letters) for _ in range(spec_len))
    batch_in_spec = form != "left" or spec_len == rank
    out, weight, sizes = [], [], []
    for i, c in enumerate(inp):
        if i == 0 and batch_in_spec:
            out.append(c)  # the batch axis: kept, never in the weight
            continue
        role = draw(st.sampled_from(["keep", "contract", "contract", "both"]))
        if role in ("keep", "both"):
            out.append(c)
        if role in ("contract", "both"):
            weight.append(c)
    for _ in range(draw(st.integers(0 if weight and out else 1, 2))):
        c = next(letters)
        out.append(c)
        weight.append(c)
    size_of = dict(zip(inp, dims + [None] * (spec_len - len(dims)), strict=True))
    for c in out[1:] if batch_in_spec else out:
        if c in size_of:
            known = size_of[c]
            sizes.append(draw(st.sampled_from([known, known, known, None, 3])))
        else:
            sizes.append(draw(st.sampled_from([1, 2, 3, 5, 5, None])))
    if draw(st.integers(0, 9)) == 0:
        sizes.append(2)  # one size too many
    ellipsis = "..."
    equation = {
        "": f"{inp},{''.join(weight)}->{''.join(out)}",
        "left": f"{ellipsis}{inp},{''.join(weight)}->{ellipsis}{''.join(out)}",
        "right": f"{inp}{ellipsis},{''.join(weight)}->{''.join(out)}{ellipsis}",
    }[form]
    layer: dict[str, Any] = {
        "type": "EinsumDense",
        "equation": equation,
        "output_shape": sizes[0] if len(sizes) == 1 and sizes[0] and draw(st.booleans()) else sizes,
    }
    if draw(st.booleans()):
        picked = [c for c in out if draw(st.booleans())]
        if picked:
            layer["bias_axes"] = "".join(picked)
    _maybe(draw, layer, "activation", st.sampled_from(ACTIVATIONS))
    return layer


def _core(draw: Any, shape: Shape) -> dict[str, Any]:
    kind = draw(st.sampled_from(["EinsumDense", "Embedding", "Identity"]))
    if kind == "EinsumDense":
        return _einsum(draw, shape)
    if kind == "Embedding":
        layer = {
            "type": "Embedding",
            "input_dim": draw(st.integers(2, 50)),
            "output_dim": draw(st.integers(1, 8)),
        }
        _maybe(draw, layer, "mask_zero", st.booleans())
        return layer
    return {"type": "Identity"}


# ----------------------------------------------------------------------- activations
def _activation(draw: Any, shape: Shape) -> dict[str, Any]:
    rank = len(shape)
    kind = draw(st.sampled_from(["ReLU", "LeakyReLU", "PReLU", "PReLU", "ELU", "Softmax"]))
    layer: dict[str, Any] = {"type": kind}
    if kind == "ReLU":
        _maybe(draw, layer, "max_value", st.sampled_from([0.0, 1.0, 6.0]))
        _maybe(draw, layer, "negative_slope", st.sampled_from([0.0, 0.1]))
        _maybe(draw, layer, "threshold", st.sampled_from([0.0, 0.5]))
    elif kind == "LeakyReLU":
        _maybe(draw, layer, "negative_slope", st.sampled_from([0.0, 0.2, 1.0]))
    elif kind == "ELU":
        _maybe(draw, layer, "alpha", st.sampled_from([0.5, 1.0, -1.0]))
    elif kind == "PReLU":
        if draw(st.booleans()):
            axes = sorted({draw(st.integers(1, rank)) for _ in range(draw(st.integers(1, 2)))})
            layer["shared_axes"] = axes[0] if len(axes) == 1 and draw(st.booleans()) else axes
    else:
        layer["axis"] = _axes(draw, rank)
    return layer


def _axes(draw: Any, rank: int) -> int | list[int]:
    """An axis in range most of the time; sometimes out of range, or two (maybe the same)."""
    one = st.integers(-rank - 1, rank)
    if draw(st.integers(0, 3)) == 0:
        return [draw(one), draw(one)]
    return draw(one)


# ------------------------------------------------------------------------ convolution
def _regularized(draw: Any, layer: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        reg = draw(st.sampled_from(REGULARIZERS))
        if reg:
            layer[key] = reg
    _maybe(draw, layer, "activation", st.sampled_from(ACTIVATIONS))
    _maybe(draw, layer, "use_bias", st.just(False))
    return layer


def _convolution(draw: Any, n: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["Conv", "Transpose", "Separable", "Depthwise"]))
    if kind in ("Separable", "Depthwise") and n == 3:
        kind = "Conv"  # Keras has no 3D separable or depthwise convolution
    name = {
        "Conv": f"Conv{n}D",
        "Transpose": f"Conv{n}DTranspose",
        "Separable": f"SeparableConv{n}D",
        "Depthwise": f"DepthwiseConv{n}D",
    }[kind]
    layer: dict[str, Any] = {"type": name, "kernel_size": _size(draw, n, 1, 4)}
    if kind != "Depthwise":
        layer["filters"] = draw(st.integers(1, 8))
    paddings = ["valid", "same"] + (["causal"] if kind == "Conv" and n == 1 else [])
    _maybe(draw, layer, "padding", st.sampled_from(paddings))
    if draw(st.booleans()):
        layer["strides"] = _size(draw, n, 1, 3)
    if draw(st.integers(0, 2)) == 0:
        layer["dilation_rate"] = _size(draw, n, 1, 2)
    if kind in ("Separable", "Depthwise"):
        _maybe(draw, layer, "depth_multiplier", st.integers(1, 3))
    if kind == "Conv" and draw(st.booleans()):
        groups = draw(st.sampled_from([1, 2, 3]))
        layer["filters"] = groups * draw(st.integers(1, 3))
        layer["groups"] = groups
    if kind == "Transpose" and draw(st.booleans()):
        layer["output_padding"] = _size(draw, n, 0, 2)
    keys = {
        "Conv": ("kernel_regularizer",),
        "Transpose": ("kernel_regularizer",),
        "Separable": ("depthwise_regularizer", "pointwise_regularizer"),
        "Depthwise": ("depthwise_regularizer",),
    }[kind]
    return _regularized(draw, layer, *keys)


def _pooling(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(["Max", "Average", "GlobalMax", "GlobalAverage"]))
    if kind.startswith("Global"):
        layer: dict[str, Any] = {"type": f"{kind}Pooling3D"}
        _maybe(draw, layer, "keepdims", st.booleans())
        return layer
    layer = {"type": f"{kind}Pooling3D"}
    if kind == "Average" or draw(st.booleans()):
        layer["pool_size"] = _size(draw, 3, 1, 3)
    _maybe(draw, layer, "strides", st.lists(st.integers(1, 3), min_size=3, max_size=3))
    _maybe(draw, layer, "padding", st.sampled_from(["valid", "same"]))
    return layer


# --------------------------------------------------------- normalization, regularization
def _normalization(draw: Any, shape: Shape) -> dict[str, Any]:
    rank = len(shape)
    if draw(st.booleans()):
        return {"type": "UnitNormalization", "axis": _axes(draw, rank)}
    layer: dict[str, Any] = {"type": "GroupNormalization"}
    channels = shape[-1] or 6
    divisors = [g for g in range(1, channels + 1) if channels % g == 0]
    layer["groups"] = draw(st.sampled_from([*divisors, -1, 4, 32]))
    _maybe(draw, layer, "axis", st.integers(1 - rank, rank - 1))
    _maybe(draw, layer, "center", st.booleans())
    _maybe(draw, layer, "scale", st.booleans())
    return layer


def noise_shape_near(draw: Any, shape: Shape) -> list[int | None]:
    """A dropout mask's shape near the input's: per axis null, 1, its size or another size,
    now and then an entry fewer or more (Keras lines a shorter mask up from the right)."""
    noise = [
        draw(st.sampled_from([None, 1, 2 if size is None else size, (size or 5) + 1]))
        for size in shape
    ]
    cut = draw(st.sampled_from([0, 0, 0, 1, 2, -1]))
    return noise[cut:] if cut >= 0 else [*noise, draw(st.sampled_from([None, 1]))]


def _regularization(draw: Any, shape: Shape) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            ["GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization"]
            + ["Dropout", "Dropout"]
            + (["SpatialDropout3D"] if len(shape) == 5 else [])
        )
    )
    if kind == "GaussianNoise":
        return {"type": kind, "stddev": draw(st.sampled_from([0.0, 0.1, 1.0])), "seed": 1}
    if kind == "ActivityRegularization":
        return {"type": kind, "l1": draw(st.sampled_from([0.0, 0.01])), "l2": 0.001}
    layer = {"type": kind, "rate": draw(st.sampled_from([0.0, 0.2, 0.5]))}
    if kind in ("Dropout", "AlphaDropout") and draw(st.booleans()):
        layer["noise_shape"] = noise_shape_near(draw, shape)
    return layer


# ------------------------------------------------------------------------- reshaping
def _margins(draw: Any, n: int, hi: int) -> Any:
    """Padding or cropping in one of the forms Keras takes."""
    form = draw(st.sampled_from(["int", "pairs", "mixed"]))
    if form == "int":
        return draw(st.integers(0, hi))
    if n == 1:
        return [draw(st.integers(0, hi)), draw(st.integers(0, hi))]
    items: list[Any] = []
    for _ in range(n):
        if form == "mixed" and draw(st.booleans()):
            items.append(draw(st.integers(0, hi)))
        else:
            items.append([draw(st.integers(0, hi)), draw(st.integers(0, hi))])
    return items


def _spatial(draw: Any, n: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["UpSampling", "ZeroPadding", "Cropping"]))
    layer: dict[str, Any] = {"type": f"{kind}{n}D"}
    if kind == "UpSampling":
        if draw(st.booleans()):
            layer["size"] = draw(st.integers(1, 3)) if n == 1 else _size(draw, n, 1, 3)
        if n == 2:
            _maybe(draw, layer, "interpolation", st.sampled_from(["nearest", "bilinear"]))
    elif kind == "ZeroPadding":
        if draw(st.booleans()):
            layer["padding"] = _margins(draw, n, 3)
    elif draw(st.integers(0, 3)):
        layer["cropping"] = _margins(draw, n, 3)
    return layer


def _permute(draw: Any, shape: Shape) -> dict[str, Any]:
    n = len(shape) - 1
    if draw(st.integers(0, 7)) == 0:
        n = max(1, n + draw(st.sampled_from([-1, 1])))  # a permutation of the wrong rank
    return {"type": "Permute", "dims": draw(st.permutations(list(range(1, n + 1))))}


def _reshaping(draw: Any, shape: Shape) -> dict[str, Any]:
    kind = draw(st.sampled_from(["Permute", "Flatten", "RepeatVector"]))
    if kind == "Permute":
        return _permute(draw, shape)
    if kind == "RepeatVector":
        return {"type": "RepeatVector", "n": draw(st.integers(1, 4))}
    return {"type": "Flatten"}


# ----------------------------------------------------------------------------- entry
def layer_for(draw: Any, shape: Shape) -> dict[str, Any] | None:
    """A layer entry for an input of ``shape`` (batch included); None for no input at all."""
    if len(shape) < 2:
        return None
    rank = len(shape)
    if draw(st.integers(0, 11)) == 0:
        rank = draw(st.integers(2, 5))  # now and then, a layer made for another rank
    n = rank - 2
    families = ["core", "activation", "normalization", "regularization", "reshaping"]
    if 1 <= n <= 3:
        families += ["convolution", "convolution", "spatial", "spatial"]
    if n == 3:
        families += ["pooling", "pooling"]
    family = draw(st.sampled_from(families))
    if family == "core":
        return _core(draw, shape)
    if family == "activation":
        return _activation(draw, shape)
    if family == "normalization":
        return _normalization(draw, shape)
    if family == "regularization":
        return _regularization(draw, shape if rank == len(shape) else (None,) * rank)
    if family == "convolution":
        return _convolution(draw, n)
    if family == "spatial":
        return _spatial(draw, n)
    if family == "pooling":
        return _pooling(draw)
    return _reshaping(draw, shape)
