"""Recurrent layers and the wrappers around them: RNNs, ConvLSTMs, Bidirectional, TimeDistributed.

An RNN reads ``(batch, timesteps, features)``; with ``return_state`` it has several outputs
(the sequence or last output, then its states), which is why ``Out.shape`` may be a list.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from specc.layers import shapes
from specc.layers.base import (
    Container,
    Layer,
    Out,
    Trainable,
    apply,
    format_out,
    need_known,
    need_rank,
    nested,
    spatial_rank,
)
from specc.layers.shapes import Shape, ShapeError
from specc.terms.values import (
    Activation,
    Initializer,
    Padding,
    PosInt,
    Regularizer,
    Seed,
    Spatial1,
    Spatial2,
)

DropoutRate = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
"""An RNN's dropout fraction: Keras clamps it into [0, 1], so only [0, 1] means anything."""


def rnn_params(gates: int, units_in: int, units: int, use_bias: bool, biases: int = 1) -> int:
    """Weights of a recurrent layer: per gate, an input kernel, a recurrent kernel, biases.

    SimpleRNN has 1 gate, LSTM 4, GRU 3; GRU with ``reset_after`` has 2 biases per gate.

    >>> rnn_params(1, 3, 4, True)              # SimpleRNN(4) on 3 features
    32
    >>> rnn_params(4, 3, 4, True)              # LSTM(4)
    128
    >>> rnn_params(3, 3, 4, True, biases=2)    # GRU(4), reset_after=True
    108
    >>> rnn_params(3, 3, 4, True)              # GRU(4, reset_after=False)
    96
    >>> rnn_params(4, 3, 4, False)
    112
    """
    return gates * units * (units_in + units) + (gates * units * biases if use_bias else 0)


def conv_lstm_params(kernel: tuple[int, ...], channels: int, filters: int, use_bias: bool) -> int:
    """Weights of a ConvLSTM: 4 gates of an input and a recurrent convolution, plus biases.

    >>> conv_lstm_params((3,), 3, 2, True)      # ConvLSTM1D(2, 3) on 3 channels
    128
    >>> conv_lstm_params((3, 3), 3, 2, True)    # ConvLSTM2D(2, 3)
    368
    >>> conv_lstm_params((3,), 3, 2, False)
    120
    """
    k = math.prod(kernel)
    return 4 * (k * channels * filters + k * filters * filters + (filters if use_bias else 0))


def with_states(
    output: Shape, state: Shape, states: int, return_state: bool
) -> Shape | list[Shape]:
    """A recurrent layer's output: alone, or followed by its states.

    >>> with_states((None, 5, 4), (None, 4), 2, True)
    [(None, 5, 4), (None, 4), (None, 4)]
    >>> with_states((None, 4), (None, 4), 2, False)
    (None, 4)
    """
    return [output, *[state] * states] if return_state else output


class _Recurrent(Trainable):
    """Arguments every Keras recurrent layer takes."""

    VALUE = "argument"

    activation: Activation | None = "tanh"
    use_bias: bool = True
    kernel_initializer: Initializer = "glorot_uniform"
    recurrent_initializer: Initializer = "orthogonal"
    bias_initializer: Initializer = "zeros"
    kernel_regularizer: Regularizer | None = None
    recurrent_regularizer: Regularizer | None = None
    bias_regularizer: Regularizer | None = None
    activity_regularizer: Regularizer | None = None
    dropout: DropoutRate = 0.0
    recurrent_dropout: DropoutRate = 0.0
    seed: Seed | None = None
    return_sequences: bool = False
    return_state: bool = False
    go_backwards: bool = False
    stateful: bool = False

    def _stateless(self) -> None:
        if self.stateful:
            raise ShapeError(
                f"{self.type} with stateful: true needs a fixed batch size, and a spec's input "
                "has none (Keras refuses a dynamic batch size); remove stateful",
                "stateful",
                show_input=False,
            )


_STATE_NAMES = {1: "h", 2: "h, c"}


class _RNN(_Recurrent):
    """SimpleRNN, LSTM, GRU: ``(batch, timesteps, features)`` -> ``(batch, [timesteps,] units)``."""

    CALL = "states"

    POSITIONAL = ("units",)
    INITIAL_STATE = True
    GATES: ClassVar[int] = 1
    STATES: ClassVar[int] = 1
    units: PosInt
    unroll: bool = False

    def infer_many(self, shapes: list[Shape]) -> Out:
        """The sequence, then the initial states (a seq2seq decoder starts from the
        encoder's): each ``(batch, units)``, as many as the layer has states."""
        sequence, *states = shapes
        if len(states) != self.STATES:
            raise ShapeError(
                f"{self.type} takes its input sequence, then {self.STATES} initial "
                f"state{'s' if self.STATES > 1 else ''} ({_STATE_NAMES[self.STATES]}); "
                f"inputs gives {len(states)} after the sequence",
                "inputs",
                show_input=False,
            )
        out = self.infer(sequence)
        for k, state in enumerate(states, 1):
            if len(state) != 2 or state[1] not in (None, self.units):
                raise ShapeError(
                    f"{self.type}'s initial state inputs[{k}] must have shape (None, "
                    f"{self.units}), the layer's units; it gets {format_out(state)}",
                    ("inputs", k),
                    show_input=False,
                )
        return out

    def _biases(self) -> int:
        return 1

    def infer(self, shape: Shape) -> Out:
        need_rank(self, shape, 3, "(batch, timesteps, features)")
        self._stateless()
        units_in = need_known(self, shape, -1, "the kernel's size depends on it")
        last = (shape[0], self.units)
        output = (shape[0], shape[1], self.units) if self.return_sequences else last
        params = rnn_params(self.GATES, units_in, self.units, self.use_bias, self._biases())
        return Out(with_states(output, last, self.STATES, self.return_state), params)


class SimpleRNN(_RNN):
    type: Literal["SimpleRNN"]


class LSTM(_RNN):
    GATES: ClassVar[int] = 4
    STATES: ClassVar[int] = 2
    type: Literal["LSTM"]
    recurrent_activation: Activation | None = "sigmoid"
    unit_forget_bias: bool = True
    use_cudnn: Literal["auto"] | bool = "auto"


class GRU(_RNN):
    GATES: ClassVar[int] = 3
    type: Literal["GRU"]
    recurrent_activation: Activation | None = "sigmoid"
    reset_after: bool = True
    use_cudnn: Literal["auto"] | bool = "auto"

    def _biases(self) -> int:
        return 2 if self.reset_after else 1


class _ConvLSTM(_Recurrent):
    """A convolutional LSTM: ``(batch, time, *spatial, channels)``; spatial sizes must be known."""

    POSITIONAL = ("filters", "kernel_size")
    filters: PosInt
    padding: Padding = "valid"
    recurrent_activation: Activation | None = "sigmoid"
    unit_forget_bias: bool = True

    def infer(self, shape: Shape) -> Out:
        rank, _ = spatial_rank(self)
        layout = "(batch, time, " + ("steps" if rank == 1 else "rows, cols") + ", channels)"
        need_rank(self, shape, rank + 3, layout)
        self._stateless()
        strides, dilation = self.strides, self.dilation_rate  # type: ignore[attr-defined]  # mixin: fields of the ConvLSTM layers using it
        if max(strides) > 1 and max(dilation) > 1:
            raise ShapeError(
                "strides > 1 cannot be combined with dilation_rate > 1 (Keras refuses it)",
                "strides",
                show_input=False,
            )
        if None in shape[2:-1]:
            raise ShapeError(
                f"{self.type} needs known spatial sizes (Keras refuses unknown ones), but gets "
                f"{shapes.format_shape(shape)}",
                show_input=False,
            )
        channels = need_known(self, shape, -1, "the channels axis sizes the kernel")
        dims = []
        for axis, n in enumerate(shape[2:-1]):
            k, s, d = self.kernel_size[axis], strides[axis], dilation[axis]  # type: ignore[attr-defined]  # mixin: kernel_size is a field of the ConvLSTM layers
            out = shapes.conv_output_length(n, k, s, d, self.padding)  # type: ignore[arg-type]  # mixin: padding is a field of the ConvLSTM layers
            if out < 1:
                raise ShapeError(
                    f"kernel of size {k} does not fit input of size {n} on axis {axis + 2} with "
                    f"padding 'valid' (output would be {out})",
                    "kernel_size",
                )
            dims.append(out)
        last = (shape[0], *dims, self.filters)
        output = (shape[0], shape[1], *dims, self.filters) if self.return_sequences else last
        params = conv_lstm_params(self.kernel_size, channels, self.filters, self.use_bias)  # type: ignore[attr-defined]  # mixin: fields of the ConvLSTM layers using it
        return Out(with_states(output, last, 2, self.return_state), params)


class ConvLSTM1D(_ConvLSTM):
    type: Literal["ConvLSTM1D"]
    kernel_size: Spatial1
    strides: Spatial1 = (1,)
    dilation_rate: Spatial1 = (1,)


class ConvLSTM2D(_ConvLSTM):
    type: Literal["ConvLSTM2D"]
    kernel_size: Spatial2
    strides: Spatial2 = (1, 1)
    dilation_rate: Spatial2 = (1, 1)


RECURRENT = (SimpleRNN, LSTM, GRU, ConvLSTM1D, ConvLSTM2D)


def merge(output: Shape, mode: str | None) -> Shape | list[Shape]:
    """How Bidirectional combines its forward and backward outputs.

    >>> merge((None, 5, 4), "concat")
    (None, 5, 8)
    >>> merge((None, 4), "sum")
    (None, 4)
    >>> merge((None, 4), None)
    [(None, 4), (None, 4)]
    """
    if mode == "concat":
        last = output[-1]
        return (*output[:-1], None if last is None else 2 * last)
    if mode is None:
        return [output, output]
    return output


class Bidirectional(Container):
    """A recurrent layer run forwards and backwards: twice its weights, outputs merged."""

    POSITIONAL = ("layer",)
    MINIMAL: ClassVar[dict[str, Any]] = {"layer": {"type": "LSTM", "units": 1}}
    VALUE = "inner"
    MIRRORED = True
    type: Literal["Bidirectional"]
    layer: Layer
    merge_mode: Literal["concat", "sum", "mul", "ave"] | None = "concat"

    def rules(self) -> None:
        super().rules()
        layer = self.layer
        if not isinstance(layer, RECURRENT):
            names = ", ".join(c.__name__ for c in RECURRENT)
            raise ShapeError(
                f"Bidirectional wraps a recurrent layer ({names}), not {layer.type} "
                "(Keras cannot run it backwards)",
                "layer",
                show_input=False,
            )
        if layer.go_backwards:
            raise ShapeError(
                "Bidirectional runs its layer backwards itself; leave go_backwards out of the "
                "inner layer (Keras refuses it)",
                ("layer", "go_backwards"),
                show_input=False,
            )

    def infer(self, shape: Shape) -> Out:
        try:
            inner = apply(self.layer, shape)
        except ShapeError as exc:
            raise nested(exc, shape, "layer") from None
        output, states = (
            (inner.shape[0], inner.shape[1:])
            if isinstance(inner.shape, list)
            else (inner.shape, [])
        )
        merged = merge(output, self.merge_mode)
        both = (
            [*merged, *states, *states] if isinstance(merged, list) else [merged, *states, *states]
        )
        out = both if len(both) > 1 else both[0]
        return Out(out, 2 * inner.trainable, 2 * inner.non_trainable, 2 * inner.int64_params)


class TimeDistributed(Container):
    """Any layer applied to every time step: axis 1 is kept, the rest goes through the layer."""

    POSITIONAL = ("layer",)
    MINIMAL: ClassVar[dict[str, Any]] = {"layer": {"type": "Dense", "units": 1}}
    VALUE = "inner"
    type: Literal["TimeDistributed"]
    layer: Layer

    def infer(self, shape: Shape) -> Out:
        if len(shape) < 3:
            raise ShapeError(
                "TimeDistributed needs an input of rank 3 or more (batch, time, ...), but gets "
                f"{shapes.format_shape(shape)}",
                show_input=False,
            )
        try:
            child = (shape[0], *shape[2:])
            inner = apply(self.layer, child)
        except ShapeError as exc:
            raise nested(exc, child, "layer") from None
        if isinstance(inner.shape, list):
            raise ShapeError(
                f"TimeDistributed cannot wrap a layer with {len(inner.shape)} outputs "
                "(Keras fails on it); set return_state: false",
                "layer",
                show_input=False,
            )
        out = (inner.shape[0], shape[1], *inner.shape[1:])
        return Out(out, inner.trainable, inner.non_trainable, inner.int64_params)


__all__ = [
    "GRU",
    "LSTM",
    "Bidirectional",
    "ConvLSTM1D",
    "ConvLSTM2D",
    "SimpleRNN",
    "TimeDistributed",
]
