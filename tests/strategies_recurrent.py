"""Hypothesis strategy for the recurrent family: RNNs, ConvLSTMs, Bidirectional, TimeDistributed.

``layer_for(draw, shape)`` returns a layer entry for an input of ``shape`` (without the batch
axis, ``None`` for an unknown size): mostly one that suits the shape, now and then a
borderline one (wrong rank, stateful, a kernel that may not fit) that specc and Keras must
both refuse. ``return_state`` and ``merge_mode: null`` give several outputs: such a layer
can only end a layer list, so ``multi_output`` says whether the strategy may draw them.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

ACTIVATIONS = ["tanh", "relu", "sigmoid", "linear"]


def _rnn(draw: Any, multi_output: bool) -> dict[str, Any]:
    kind = draw(st.sampled_from(["SimpleRNN", "LSTM", "GRU"]))
    layer: dict[str, Any] = {"type": kind, "units": draw(st.integers(1, 6))}
    if draw(st.booleans()):
        layer["return_sequences"] = True
    if multi_output and draw(st.integers(0, 4)) == 0:
        layer["return_state"] = True
    if draw(st.integers(0, 3)) == 0:
        layer["go_backwards"] = True
    if draw(st.integers(0, 3)) == 0:
        layer["use_bias"] = False
    if draw(st.integers(0, 3)) == 0:
        layer["activation"] = draw(st.sampled_from(ACTIVATIONS))
    if draw(st.integers(0, 4)) == 0:
        layer["dropout"] = draw(st.sampled_from([0.0, 0.2, 1.0]))
    if kind == "GRU" and draw(st.booleans()):
        layer["reset_after"] = False
    if kind != "SimpleRNN" and draw(st.integers(0, 4)) == 0:
        layer["recurrent_activation"] = draw(st.sampled_from(["hard_sigmoid", "sigmoid"]))
    if draw(st.integers(0, 5)) == 0:
        layer["unroll"] = True
    if draw(st.integers(0, 19)) == 0:
        layer["stateful"] = True  # borderline: no fixed batch size, refused by both
    if draw(st.integers(0, 9)) == 0:
        layer["trainable"] = False
    return layer


def _conv_lstm(draw: Any, spatial: int, multi_output: bool) -> dict[str, Any]:
    def size(hi: int) -> Any:
        values = [draw(st.integers(1, hi)) for _ in range(spatial)]
        return values[0] if len(set(values)) == 1 else values

    layer: dict[str, Any] = {
        "type": f"ConvLSTM{spatial}D",
        "filters": draw(st.integers(1, 4)),
        "kernel_size": size(4),
        "padding": draw(st.sampled_from(["valid", "same"])),
    }
    if draw(st.booleans()):
        layer["strides"] = size(2)
    if draw(st.integers(0, 3)) == 0:
        layer["dilation_rate"] = size(2)  # with strides > 1: refused by both
    if draw(st.booleans()):
        layer["return_sequences"] = True
    if multi_output and draw(st.integers(0, 5)) == 0:
        layer["return_state"] = True
    if draw(st.integers(0, 3)) == 0:
        layer["use_bias"] = False
    return layer


def _per_step(draw: Any, rank: int) -> dict[str, Any]:
    """A layer for TimeDistributed: it sees ``rank - 1`` axes (one step)."""
    step_rank = rank - 1
    choices = ["Dense", "Dropout", "LayerNormalization", "BatchNormalization"]
    if step_rank == 2:
        choices += ["Conv1D", "MaxPooling1D", "GlobalAveragePooling1D", "Flatten"]
    if step_rank == 3:
        choices += ["Conv2D", "MaxPooling2D", "Flatten"]
    kind = draw(st.sampled_from(choices))
    if kind == "Dense":
        layer: dict[str, Any] = {"type": "Dense", "units": draw(st.integers(1, 5))}
        if draw(st.integers(0, 4)) == 0:
            layer["trainable"] = False
        return layer
    if kind == "Dropout":
        return {"type": "Dropout", "rate": 0.5}
    if kind.startswith("Conv"):
        return {"type": kind, "filters": draw(st.integers(1, 4)), "kernel_size": 2}
    if kind.startswith("MaxPooling"):
        return {"type": kind, "pool_size": 2}
    return {"type": kind}


def layer_for(
    draw: Any, shape: list[int | None], multi_output: bool = False
) -> dict[str, Any] | None:
    """A recurrent-family layer for an input of ``shape`` (batch axis excluded), or None."""
    rank = len(shape) + 1  # with the batch axis
    if rank == 2:  # vectors: only borderline entries (refused by specc and Keras)
        if draw(st.integers(0, 2)):
            return None
        return draw(
            st.sampled_from(
                [
                    {"type": "LSTM", "units": 2},
                    {"type": "TimeDistributed", "layer": {"type": "Dense", "units": 2}},
                ]
            )
        )
    if rank == 3:
        kind = draw(st.sampled_from(["rnn", "rnn", "bidirectional", "time_distributed"]))
    elif rank == 4:
        kind = draw(st.sampled_from(["conv1d", "time_distributed", "bidirectional_conv", "rnn"]))
    elif rank == 5:
        kind = draw(st.sampled_from(["conv2d", "time_distributed", "bidirectional_conv"]))
    else:
        return None
    if kind == "rnn":
        return _rnn(draw, multi_output)
    if kind == "conv1d":
        return _conv_lstm(draw, 1, multi_output)
    if kind == "conv2d":
        return _conv_lstm(draw, 2, multi_output)
    if kind == "time_distributed":
        return {"type": "TimeDistributed", "layer": _per_step(draw, rank)}
    inner = (
        _rnn(draw, multi_output)
        if kind == "bidirectional"
        else _conv_lstm(draw, rank - 3, multi_output)
    )
    inner.pop("trainable", None)
    layer = {"type": "Bidirectional", "layer": inner}
    modes = ["concat", "sum", "mul", "ave"] + ([None] if multi_output else [])
    if draw(st.booleans()):
        layer["merge_mode"] = draw(st.sampled_from(modes))
    return layer
