"""MobileNetV2, as ``keras/src/applications/mobilenet_v2.py`` builds it."""

from __future__ import annotations

from typing import Any

from specc.applications.common import (
    ApplicationError,
    Net,
    Size,
    check_common,
    check_weights,
    classifier,
    conv_size,
    correct_pad,
    make_divisible,
    obtain_input_shape,
    pool,
)
from specc.applications.mobilenet import check_width

IMAGENET_SIZES = (96, 128, 160, 192, 224)
IMAGENET_ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
BLOCKS = (
    (16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6),
    (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6), (160, 2, 6),
    (160, 1, 6), (160, 1, 6), (320, 1, 6),
)  # fmt: skip
"""Each inverted residual block's (filters, stride, expansion), block_id 0 to 16."""


def _bn(net: Net, x: str, name: str) -> str:
    return net.add("BatchNormalization", x, name=name, axis=-1, epsilon=0.001, momentum=0.999)


def _inverted_res_block(
    net: Net,
    inputs: tuple[str, int, Size],
    expansion: int,
    stride: int,
    alpha: float,
    filters: int,
    block_id: int,
) -> tuple[str, int, Size]:
    """``_inverted_res_block`` on (tensor, channels, height and width): expand, depthwise
    (padded as 'same' would where strided), project; added to the input where it fits."""
    x, in_channels, size = inputs
    pointwise_filters = make_divisible(int(filters * alpha), 8)
    prefix = f"block_{block_id}_"
    if block_id:
        x = net.add(
            "Conv2D",
            x,
            name=f"{prefix}expand",
            filters=expansion * in_channels,
            kernel_size=1,
            padding="same",
            use_bias=False,
        )
        x = _bn(net, x, f"{prefix}expand_BN")
        x = net.add("ReLU", x, name=f"{prefix}expand_relu", max_value=6.0)
    else:
        prefix = "expanded_conv_"
    pad = None
    if stride == 2:
        pad = correct_pad(size, 3)
        x = net.add("ZeroPadding2D", x, name=f"{prefix}pad", padding=pad)
    x = net.add(
        "DepthwiseConv2D",
        x,
        name=f"{prefix}depthwise",
        kernel_size=3,
        strides=stride,
        use_bias=False,
        padding="same" if stride == 1 else "valid",
    )
    size = conv_size(size, 3, stride, "same" if stride == 1 else "valid", pad)
    x = _bn(net, x, f"{prefix}depthwise_BN")
    x = net.add("ReLU", x, name=f"{prefix}depthwise_relu", max_value=6.0)
    x = net.add(
        "Conv2D",
        x,
        name=f"{prefix}project",
        filters=pointwise_filters,
        kernel_size=1,
        padding="same",
        use_bias=False,
    )
    x = _bn(net, x, f"{prefix}project_BN")
    if in_channels == pointwise_filters and stride == 1:
        x = net.add("Add", [inputs[0], x], name=f"{prefix}add")
    return x, pointwise_filters, size


def _rows(input_shape: Any) -> int:
    """Keras' ``default_size``: the given size where square and pretrained, else 224."""
    if isinstance(input_shape, list | tuple) and len(input_shape) >= 2:
        rows, cols = input_shape[0], input_shape[1]
        if rows == cols and rows in IMAGENET_SIZES:
            return int(rows)
    return 224


def mobilenet_v2(
    input_shape: Any = None,
    alpha: float = 1.0,
    include_top: bool = True,
    weights: Any = "imagenet",
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> dict[str, Any]:
    """``keras.applications.MobileNetV2``."""
    check_common(include_top, pooling, classes, classifier_activation, weights)
    check_width(alpha, 1)
    check_weights(weights, include_top, classes)
    shape = obtain_input_shape(input_shape, _rows(input_shape), 32, include_top, weights)
    rows = shape[0]
    if weights == "imagenet":
        if alpha not in IMAGENET_ALPHAS:
            raise ApplicationError(
                "with weights: imagenet, alpha must be 0.35, 0.5, 0.75, 1.0, 1.3 or 1.4 "
                f"(got {alpha}); give weights: null for another"
            )
        if rows != shape[1] or rows not in IMAGENET_SIZES:
            rows = 224
    net = Net(name if name is not None else f"mobilenetv2_{alpha:0.2f}_{rows}", shape)
    first_block_filters = make_divisible(32 * alpha, 8)
    x = net.add(
        "Conv2D",
        net.INPUT,
        name="Conv1",
        filters=first_block_filters,
        kernel_size=3,
        strides=(2, 2),
        padding="same",
        use_bias=False,
    )
    x = _bn(net, x, "bn_Conv1")
    x = net.add("ReLU", x, name="Conv1_relu", max_value=6.0)
    block = (x, first_block_filters, conv_size((shape[0], shape[1]), 3, 2, "same"))
    for block_id, (filters, stride, expansion) in enumerate(BLOCKS):
        block = _inverted_res_block(net, block, expansion, stride, alpha, filters, block_id)
    last_block_filters = make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = net.add(
        "Conv2D", block[0], name="Conv_1", filters=last_block_filters, kernel_size=1, use_bias=False
    )
    x = _bn(net, x, "Conv_1_bn")
    x = net.add("ReLU", x, name="out_relu", max_value=6.0)
    if include_top:
        x = net.add("GlobalAveragePooling2D", x)
        x = classifier(net, x, classes, classifier_activation)
    else:
        x = pool(net, x, pooling)
    return net.spec(x)


APPLICATIONS = {"MobileNetV2": mobilenet_v2}
