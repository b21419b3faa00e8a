"""Hypothesis strategies: random specs built from every supported layer type.

Layers are drawn to suit the current tensor rank most of the time, so most specs are
valid; sizes are random, so some shrink a dimension below 1, and now and then a layer of
the wrong rank or a clashing explicit name is drawn on purpose. Both kinds are needed:
valid specs must match Keras exactly, rejected ones must fail in Keras too.

Now and then a value from the edges Keras draws its own lines at is drawn too: the name
``input_layer``, seeds around 2**32, 2**63 and 2**64, optimizers with several clip
arguments, floats that are inf, nan or huge, and sizes past int64.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

NAMES = ["conv2d", "dense", "dense_1", "block_a", "block_b", "dropout", "input_layer"]
ACTIVATIONS = ["relu", "softmax", "tanh", "gelu", "linear"]
INF, NAN = float("inf"), float("nan")
SEEDS = [0, 7, 2**31, 2**32 - 1]
BIG_SEEDS = [2**32, 2**63 - 1, 2**63, 2**64 - 1, 2**64]
"""Seeds Keras refuses: past 32 bits for jax and set_random_seed, past int64 for tensorflow."""
NON_FINITE = [INF, -INF, NAN]
HUGE_FLOATS = [1.0e38, 3.4e38, 3.5e38, 1.0e308]
"""Finite, around float32's largest (3.4028235e38), up to float64's."""
HUGE_SIZES = [2**63, 2**64]
"""Sizes Keras refuses at once (int64 overflow). Sizes it would try to allocate are left to
``tests/cases``: a failed 8 TiB allocation takes TensorFlow 10 s of retries."""
OPTIMIZERS = ["SGD", "RMSprop", "Adam", "AdamW", "Adamax", "Nadam", "Adagrad", "Adadelta"]
CLIPS = ["clipnorm", "clipvalue", "global_clipnorm"]


def _edge(draw: Any, usual: list[Any], edges: list[Any], one_in: int = 8) -> Any:
    """Mostly a usual value; about one time in ``one_in`` an edge. (Not at 0 or one_in - 1:
    Hypothesis draws the ends of a range far more often than the rest.)"""
    pool = edges if draw(st.integers(0, one_in - 1)) == one_in // 2 else usual
    return draw(st.sampled_from(pool))


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
        reg["l1"] = _edge(draw, [0.0, 0.001, 0.01], NON_FINITE + HUGE_FLOATS, 16)
    if kind in ("l2", "both"):
        reg["l2"] = _edge(draw, [0.001, 0.01, 0.1], NON_FINITE + HUGE_FLOATS, 16)
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
        "filters": _edge(draw, list(range(1, 9)), HUGE_SIZES, 40),
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


def _dropout(draw: Any, kind: str, rates: list[float]) -> dict[str, Any]:
    layer: dict[str, Any] = {"type": kind, "rate": _edge(draw, rates, NON_FINITE, 16)}
    if draw(st.integers(0, 2)) == 0:
        layer["seed"] = _edge(draw, SEEDS, BIG_SEEDS, 8)
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
        return _dropout(draw, f"SpatialDropout{spatial}D", [0.0, 0.1, 0.5])
    if kind == "Dense":
        units = _edge(draw, list(range(1, 17)), HUGE_SIZES, 40)
        return _weighted(draw, {"type": "Dense", "units": units})
    if kind in ("BatchNormalization", "LayerNormalization"):
        layer = {"type": kind}
        if draw(st.booleans()):
            layer["center"] = False
        if draw(st.booleans()):
            layer["scale"] = False
        return layer
    if kind == "Dropout":
        return _dropout(draw, "Dropout", [0.0, 0.2, 0.5])
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
    spec: dict[str, Any] = {
        "name": "random",
        "model": {"input": {"shape": shape}, "layers": layers},
    }
    if draw(st.integers(0, 2)) == 0:
        spec["compile"] = {"optimizer": draw(_optimizers()), "loss": "mse"}
    if draw(st.integers(0, 4)) == 0:
        spec["training"] = {"seed": _edge(draw, SEEDS, BIG_SEEDS, 4)}
    return spec


@st.composite
def _optimizers(draw: Any) -> str | dict[str, Any]:
    """By name (any case, as Keras takes it) or as arguments, with the edges Keras has:
    one clip argument at most; floats it refuses or trains into inf/nan weights."""
    cls = draw(st.sampled_from(OPTIMIZERS))
    if draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from([cls, cls.lower(), cls.upper()]))
    opt: dict[str, Any] = {"type": cls}
    if draw(st.booleans()):
        opt["learning_rate"] = _edge(draw, [0.001, 0.01, 0.5], NON_FINITE + HUGE_FLOATS[:2], 4)
    if draw(st.integers(0, 3)) == 0:
        opt["weight_decay"] = _edge(draw, [0.0, 0.004], NON_FINITE, 4)
    clips = draw(st.permutations(CLIPS))[: _edge(draw, [0, 0, 1], [2, 3], 6)]
    for clip in clips:
        opt[clip] = _edge(draw, [0.5, 1.0], [INF], 6) if clip == "clipnorm" else 1.0
    if cls == "SGD" and draw(st.booleans()):
        opt["momentum"] = _edge(draw, [0.0, 0.9], NON_FINITE, 4)
    return opt
