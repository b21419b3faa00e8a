"""MobileNetV3Small and MobileNetV3Large, as ``keras/src/applications/mobilenet_v3.py``
builds them: its hard sigmoid is arithmetic on tensors (``ReLU(6.)(x + 3.) * (1. / 6.)``),
written as operations (``{op: add, value: 3.0}``), which Keras' table lists as rows."""

from __future__ import annotations

from typing import Any

from specc.applications.common import (
    ApplicationError,
    Net,
    Size,
    check_common,
    check_weights,
    conv_size,
    correct_pad,
    make_divisible,
    pool,
)

Tensor = tuple[str, int, Size]
"""A reference to a layer's output with its channels, height and width (Keras reads them
off ``x.shape`` while it builds)."""

SMALL = (
    (1, 16, 3, 2, True, "relu"), (72 / 16, 24, 3, 2, False, "relu"),
    (88 / 24, 24, 3, 1, False, "relu"), (4, 40, 0, 2, True, "act"), (6, 40, 0, 1, True, "act"),
    (6, 40, 0, 1, True, "act"), (3, 48, 0, 1, True, "act"), (3, 48, 0, 1, True, "act"),
    (6, 96, 0, 2, True, "act"), (6, 96, 0, 1, True, "act"), (6, 96, 0, 1, True, "act"),
)  # fmt: skip
"""MobileNetV3Small's stack_fn: each block's (expansion, filters, kernel size (0: the
model's), stride, squeeze-excite, activation ("act": the model's))."""
LARGE = (
    (1, 16, 3, 1, False, "relu"), (4, 24, 3, 2, False, "relu"), (3, 24, 3, 1, False, "relu"),
    (3, 40, 0, 2, True, "relu"), (3, 40, 0, 1, True, "relu"), (3, 40, 0, 1, True, "relu"),
    (6, 80, 3, 2, False, "act"), (2.5, 80, 3, 1, False, "act"), (2.3, 80, 3, 1, False, "act"),
    (2.3, 80, 3, 1, False, "act"), (6, 112, 3, 1, True, "act"), (6, 112, 3, 1, True, "act"),
    (6, 160, 0, 2, True, "act"), (6, 160, 0, 1, True, "act"), (6, 160, 0, 1, True, "act"),
)  # fmt: skip
"""MobileNetV3Large's stack_fn, as :data:`SMALL`."""


def op(net: Net, kind: str, x: str | list[str], **args: Any) -> str:
    """An operation on tensors (``x + 3.0``) as a ``{op: ...}`` entry, named by Keras."""
    ref = net.add("", x, **args)
    entry = net.entries[-1]
    del entry["type"]
    net.entries[-1] = {"op": kind, **entry}
    return ref


def _bn(net: Net, x: str, name: str) -> str:
    return net.add("BatchNormalization", x, name=name, axis=-1, epsilon=0.001, momentum=0.999)


def _activation(net: Net, x: str, kind: str) -> str:
    """mobilenet_v3's ``relu`` (an unnamed ReLU) or ``hard_swish`` (an unnamed Activation)."""
    if kind == "relu":
        return net.add("ReLU", x)
    return net.add("Activation", x, activation="hard_swish")


def hard_sigmoid(net: Net, x: str) -> str:
    """``layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)``: an add, a ReLU, a multiply."""
    x = op(net, "add", x, value=3.0)
    x = net.add("ReLU", x, max_value=6.0)
    return op(net, "multiply", x, value=1.0 / 6.0)


def _se_block(net: Net, inputs: str, filters: int, prefix: str) -> str:
    x = net.add(
        "GlobalAveragePooling2D", inputs, name=f"{prefix}squeeze_excite_avg_pool", keepdims=True
    )
    x = net.add(
        "Conv2D",
        x,
        name=f"{prefix}squeeze_excite_conv",
        filters=make_divisible(filters * 0.25, 8),
        kernel_size=1,
        padding="same",
    )
    x = net.add("ReLU", x, name=f"{prefix}squeeze_excite_relu")
    x = net.add(
        "Conv2D",
        x,
        name=f"{prefix}squeeze_excite_conv_1",
        filters=filters,
        kernel_size=1,
        padding="same",
    )
    x = hard_sigmoid(net, x)
    return net.add("Multiply", [inputs, x], name=f"{prefix}squeeze_excite_mul")


def _conv_bn(net: Net, x: str, name: str, filters: int, bn: str) -> str:
    """A 1x1 convolution without bias (expand, project), batch-normalised."""
    x = net.add(
        "Conv2D", x, name=name, filters=filters, kernel_size=1, padding="same", use_bias=False
    )
    return _bn(net, x, bn)


def _inverted_res_block(
    net: Net,
    inputs: Tensor,
    block: tuple[float, int, int, int, bool, str],
    alpha: float,
    model: tuple[int, str, bool],
    block_id: int,
) -> Tensor:
    """Expand (1x1), depthwise (padded where strided), squeeze-excite, project, add."""
    expansion, filters, kernel_size, stride, se, activation = block
    kernel_size, activation = kernel_size or model[0], model[1] if activation == "act" else "relu"
    filters = make_divisible(filters * alpha, 8)
    x, infilters, size = inputs
    prefix = "expanded_conv_"
    expanded = make_divisible(infilters * expansion, 8)
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = _conv_bn(net, x, f"{prefix}expand", expanded, f"{prefix}expand_bn")
        x = _activation(net, x, activation)
    pad = None
    if stride == 2:
        pad = correct_pad(size, kernel_size)
        x = net.add("ZeroPadding2D", x, name=f"{prefix}depthwise_pad", padding=pad)
    padding = "same" if stride == 1 else "valid"
    x = net.add(
        "DepthwiseConv2D",
        x,
        name=f"{prefix}depthwise",
        kernel_size=kernel_size,
        strides=stride,
        padding=padding,
        use_bias=False,
    )
    size = conv_size(size, kernel_size, stride, padding, pad)
    x = _bn(net, x, f"{prefix}depthwise_bn")
    x = _activation(net, x, activation)
    if se and model[2]:
        x = _se_block(net, x, expanded, prefix)
    x = _conv_bn(net, x, f"{prefix}project", filters, f"{prefix}project_bn")
    if stride == 1 and infilters == filters:
        x = net.add("Add", [inputs[0], x], name=f"{prefix}add")
    return x, filters, size


def _input_shape(input_shape: Any) -> tuple[int | None, ...]:
    """Keras' default ``(None, None, 3)`` and its one check (at least 32x32)."""
    if input_shape is None:
        return (None, None, 3)
    if not isinstance(input_shape, list | tuple) or len(input_shape) != 3:
        raise ApplicationError(
            f"input_shape must be [height, width, channels], got {input_shape!r}"
        )
    rows, cols = input_shape[0], input_shape[1]
    if rows and cols and (rows < 32 or cols < 32):
        raise ApplicationError(f"input size must be at least 32x32, got {list(input_shape)}")
    if rows is not None and cols is None:
        raise ApplicationError(  # correct_pad computes None % 2 in Keras
            f"input_shape {list(input_shape)}: a known height needs a known width"
        )
    return tuple(input_shape)


def _check(
    weights: Any,
    alpha: Any,
    minimalistic: bool,
    arguments: tuple[bool, Any, Any, Any],
    dropout_rate: Any,
) -> None:
    """Keras' checks (weights, classes, the alphas it has weights for, the top's
    activation), and the values it would fail on later (pooling, alpha, dropout_rate)."""
    include_top, pooling, classes, classifier_activation = arguments
    check_common(include_top, pooling, classes, classifier_activation, weights)
    check_weights(weights, include_top, classes)
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or alpha <= 0:
        raise ApplicationError(f"alpha must be a positive number (the width factor), got {alpha!r}")
    if weights == "imagenet" and alpha not in ((1.0,) if minimalistic else (0.75, 1.0)):
        raise ApplicationError(
            "with weights: imagenet, alpha must be "
            + ("1.0 for minimalistic" if minimalistic else "0.75 or 1.0")
            + f" (got {alpha}); give weights: null for another"
        )
    if not isinstance(dropout_rate, int | float) or not 0 <= dropout_rate < 1:
        raise ApplicationError(f"dropout_rate must be a rate in [0, 1), got {dropout_rate!r}")


def _mobilenet_v3(
    stack: tuple[tuple[float, int, int, int, bool, str], ...],
    last_point_ch: int,
    input_shape: Any,
    alpha: float,
    minimalistic: bool,
    include_top: bool,
    weights: Any,
    classes: int,
    pooling: str | None,
    dropout_rate: float,
    classifier_activation: str | None,
    include_preprocessing: bool,
    name: str,
) -> dict[str, Any]:
    """The stem, the stack of blocks, the last 1x1 convolution and the top."""
    arguments = (include_top, pooling, classes, classifier_activation)
    _check(weights, alpha, minimalistic, arguments, dropout_rate)
    shape = _input_shape(input_shape)
    net = Net(name, shape)
    kernel, activation = (3, "relu") if minimalistic else (5, "hard_swish")
    x = net.INPUT
    if include_preprocessing:
        x = net.add("Rescaling", x, scale=1.0 / 127.5, offset=-1.0)
    x = net.add(
        "Conv2D",
        x,
        name="conv",
        filters=16,
        kernel_size=3,
        strides=2,
        padding="same",
        use_bias=False,
    )
    x = _activation(net, _bn(net, x, "conv_bn"), activation)
    tensor: Tensor = (x, 16, conv_size((shape[0], shape[1]), 3, 2, "same"))
    for block_id, block in enumerate(stack):
        model = (kernel, activation, not minimalistic)
        tensor = _inverted_res_block(net, tensor, block, alpha, model, block_id)
    if alpha > 1.0:
        last_point_ch = make_divisible(last_point_ch * alpha, 8)
    x = _conv_bn(net, tensor[0], "conv_1", make_divisible(tensor[1] * 6, 8), "conv_1_bn")
    x = _activation(net, x, activation)
    if include_top:
        x = net.add("GlobalAveragePooling2D", x, keepdims=True)
        x = net.add(
            "Conv2D", x, name="conv_2", filters=last_point_ch, kernel_size=1, padding="same"
        )
        x = _activation(net, x, activation)
        if dropout_rate > 0:
            x = net.add("Dropout", x, rate=dropout_rate)
        x = net.add("Conv2D", x, name="logits", filters=classes, kernel_size=1, padding="same")
        x = net.add("Flatten", x)
        x = net.add(
            "Activation", x, name="predictions", activation=classifier_activation or "linear"
        )
    else:
        x = pool(net, x, pooling, ("avg_pool", "max_pool"))
    return net.spec(x)


def mobilenet_v3_small(
    input_shape: Any = None,
    alpha: float = 1.0,
    minimalistic: bool = False,
    include_top: bool = True,
    weights: Any = "imagenet",
    classes: int = 1000,
    pooling: str | None = None,
    dropout_rate: float = 0.2,
    classifier_activation: str | None = "softmax",
    include_preprocessing: bool = True,
    name: str = "MobileNetV3Small",
) -> dict[str, Any]:
    """``keras.applications.MobileNetV3Small``."""
    return _mobilenet_v3(
        SMALL, 1024, input_shape, alpha, minimalistic, include_top, weights, classes,
        pooling, dropout_rate, classifier_activation, include_preprocessing, name,
    )  # fmt: skip


def mobilenet_v3_large(
    input_shape: Any = None,
    alpha: float = 1.0,
    minimalistic: bool = False,
    include_top: bool = True,
    weights: Any = "imagenet",
    classes: int = 1000,
    pooling: str | None = None,
    dropout_rate: float = 0.2,
    classifier_activation: str | None = "softmax",
    include_preprocessing: bool = True,
    name: str = "MobileNetV3Large",
) -> dict[str, Any]:
    """``keras.applications.MobileNetV3Large``."""
    return _mobilenet_v3(
        LARGE, 1280, input_shape, alpha, minimalistic, include_top, weights, classes,
        pooling, dropout_rate, classifier_activation, include_preprocessing, name,
    )  # fmt: skip


APPLICATIONS = {"MobileNetV3Small": mobilenet_v3_small, "MobileNetV3Large": mobilenet_v3_large}
