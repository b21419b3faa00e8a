"""Hypothesis strategies: random specs built from every supported layer type.

Layers are drawn to suit the current tensor rank most of the time, so most specs are
valid; sizes are random, so some shrink a dimension below 1, and now and then a layer of
the wrong rank or a clashing explicit name is drawn on purpose. Both kinds are needed:
valid specs must match Keras exactly, rejected ones must fail in Keras too.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

NAMES = ["conv2d", "dense", "dense_1", "block_a", "block_b", "dropout"]
ACTIVATIONS = ["relu", "softmax", "tanh", "gelu", "linear"]


def _size(draw: Any, rank: int, lo: int = 1, hi: int = 5) -> Any:
    values = [draw(st.integers(lo, hi)) for _ in range(rank)]
    if draw(st.booleans()) or len(set(values)) == 1:
        return values[0] if len(set(values)) == 1 else values
    return values


def _regularizer(draw: Any) -> dict[str, float] | None:
    kind = draw(st.sampled_from([None, None, "l1", "l2", "both"]))
    if kind is None:
        return None
    reg = {}
    if kind in ("l1", "both"):
        reg["l1"] = draw(st.sampled_from([0.0, 0.001, 0.01]))
    if kind in ("l2", "both"):
        reg["l2"] = draw(st.sampled_from([0.001, 0.01, 0.1]))
    return reg


def _weighted(draw: Any, layer: dict[str, Any]) -> dict[str, Any]:
    if draw(st.booleans()):
        layer["activation"] = draw(st.sampled_from(ACTIVATIONS))
    if draw(st.integers(0, 3)) == 0:
        layer["use_bias"] = False
    reg = _regularizer(draw)
    if reg:
        layer["kernel_regularizer"] = reg
    return layer


def _conv(draw: Any, spatial: int) -> dict[str, Any]:
    layer: dict[str, Any] = {
        "type": f"Conv{spatial}D",
        "filters": draw(st.integers(1, 8)),
        "kernel_size": _size(draw, spatial),
    }
    paddings = ["valid", "same"] + (["causal"] if spatial == 1 else [])
    layer["padding"] = draw(st.sampled_from(paddings))
    if draw(st.booleans()):
        layer["strides"] = _size(draw, spatial, 1, 3)
    elif draw(st.booleans()):
        layer["dilation_rate"] = _size(draw, spatial, 1, 3)
    return _weighted(draw, layer)


def _pool(draw: Any, spatial: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(["Max", "Average"]))
    layer: dict[str, Any] = {"type": f"{kind}Pooling{spatial}D"}
    if kind == "Average" or draw(st.booleans()):
        layer["pool_size"] = _size(draw, spatial, 1, 4)
    if draw(st.booleans()):
        layer["strides"] = _size(draw, spatial, 1, 3)
    layer["padding"] = draw(st.sampled_from(["valid", "same"]))
    return layer


def _layer_for(draw: Any, rank: int) -> dict[str, Any]:
    """A layer for an input of ``rank`` non-batch dims (1 vector, 2 sequence, 3 image)."""
    spatial = rank - 1
    common = [
        "Dense",
        "BatchNormalization",
        "LayerNormalization",
        "Dropout",
        "Activation",
        "Reshape",
    ]
    choices = common + (
        ["Flatten", "Conv", "Pool", "Global", "SpatialDropout"] * 2 if spatial else []
    )
    kind = draw(st.sampled_from(choices))
    if kind == "Conv":
        return _conv(draw, spatial)
    if kind == "Pool":
        return _pool(draw, spatial)
    if kind == "Global":
        layer = {"type": f"Global{draw(st.sampled_from(['Max', 'Average']))}Pooling{spatial}D"}
        if draw(st.integers(0, 3)) == 0:
            layer["keepdims"] = True
        return layer
    if kind == "SpatialDropout":
        return {"type": f"SpatialDropout{spatial}D", "rate": draw(st.sampled_from([0.0, 0.1, 0.5]))}
    if kind == "Dense":
        return _weighted(draw, {"type": "Dense", "units": draw(st.integers(1, 16))})
    if kind in ("BatchNormalization", "LayerNormalization"):
        layer = {"type": kind}
        if draw(st.booleans()):
            layer["center"] = False
        if draw(st.booleans()):
            layer["scale"] = False
        return layer
    if kind == "Dropout":
        return {"type": "Dropout", "rate": draw(st.sampled_from([0.0, 0.2, 0.5]))}
    if kind == "Activation":
        return {"type": "Activation", "activation": draw(st.sampled_from(ACTIVATIONS))}
    if kind == "Reshape":
        target = draw(st.sampled_from([[-1], [2, -1], [-1, 2], [2, 2, -1], [-1, 1, 1]]))
        return {"type": "Reshape", "target_shape": target}
    return {"type": "Flatten"}


def _rank_after(layer: dict[str, Any], rank: int) -> int:
    kind = layer["type"]
    if kind == "Flatten" or (kind.startswith("Global") and not layer.get("keepdims")):
        return 1
    if kind == "Reshape":
        return len(layer["target_shape"])
    return rank


@st.composite
def random_specs(draw: Any) -> dict[str, Any]:
    """A spec mapping (as YAML would load it) with 1..8 random layers."""
    rank = draw(st.integers(1, 3))
    shape = [draw(st.integers(1, 24)) for _ in range(rank - 1)] + [draw(st.integers(1, 4))]
    if rank == 1:
        shape = [draw(st.integers(1, 32))]
    layers = []
    current = rank
    for _ in range(draw(st.integers(1, 8))):
        wrong = draw(st.integers(0, 15)) == 0  # now and then, a layer of the wrong rank
        layer = _layer_for(draw, draw(st.integers(1, 3)) if wrong else current)
        if draw(st.integers(0, 4)) == 0:
            layer["name"] = draw(st.sampled_from(NAMES))
        if draw(st.integers(0, 9)) == 0 and not layer["type"].startswith("SpatialDropout"):
            layer["trainable"] = False  # SpatialDropout takes no trainable argument in Keras
        layers.append(layer)
        current = _rank_after(layer, current)
    return {"name": "random", "model": {"input": {"shape": shape}, "layers": layers}}
