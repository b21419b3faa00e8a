"""MobileNet (v1), as ``keras/src/applications/mobilenet.py`` builds it."""

from __future__ import annotations

from typing import Any

from specc.applications.common import (
    ApplicationError,
    Net,
    check_common,
    check_weights,
    obtain_input_shape,
)

IMAGENET_SIZES = (128, 160, 192, 224)
IMAGENET_ALPHAS = (0.25, 0.5, 0.75, 1.0)


def check_width(alpha: Any, depth_multiplier: Any, dropout: Any = 0.0) -> None:
    """Values Keras would build a broken model with (no filters, no channels) or refuse."""
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or alpha <= 0:
        raise ApplicationError(f"alpha must be a positive number (the width factor), got {alpha!r}")
    if (
        isinstance(depth_multiplier, bool)
        or not isinstance(depth_multiplier, int)
        or depth_multiplier < 1
    ):
        raise ApplicationError(
            f"depth_multiplier must be a positive integer, got {depth_multiplier!r}"
        )
    if isinstance(dropout, bool) or not isinstance(dropout, int | float) or not 0 <= dropout < 1:
        raise ApplicationError(f"dropout must be a rate in [0, 1), got {dropout!r}")


def _conv_block(net: Net, x: str, filters: int, alpha: float, strides: tuple[int, int]) -> str:
    filters = int(filters * alpha)
    x = net.add(
        "Conv2D",
        x,
        name="conv1",
        filters=filters,
        kernel_size=(3, 3),
        padding="same",
        use_bias=False,
        strides=strides,
    )
    x = net.add("BatchNormalization", x, name="conv1_bn", axis=-1)
    return net.add("ReLU", x, name="conv1_relu", max_value=6.0)


def _depthwise_conv_block(
    net: Net,
    x: str,
    pointwise_conv_filters: int,
    alpha: float,
    depth_multiplier: int,
    strides: tuple[int, int] = (1, 1),
    block_id: int = 1,
) -> str:
    """A padded (where strided) depthwise 3x3 and a pointwise 1x1, each with BN, ReLU6."""
    pointwise_conv_filters = int(pointwise_conv_filters * alpha)
    if strides != (1, 1):
        x = net.add("ZeroPadding2D", x, name=f"conv_pad_{block_id}", padding=((0, 1), (0, 1)))
    x = net.add(
        "DepthwiseConv2D",
        x,
        name=f"conv_dw_{block_id}",
        kernel_size=(3, 3),
        padding="same" if strides == (1, 1) else "valid",
        depth_multiplier=depth_multiplier,
        strides=strides,
        use_bias=False,
    )
    x = net.add("BatchNormalization", x, name=f"conv_dw_{block_id}_bn", axis=-1)
    x = net.add("ReLU", x, name=f"conv_dw_{block_id}_relu", max_value=6.0)
    x = net.add(
        "Conv2D",
        x,
        name=f"conv_pw_{block_id}",
        filters=pointwise_conv_filters,
        kernel_size=(1, 1),
        padding="same",
        use_bias=False,
        strides=(1, 1),
    )
    x = net.add("BatchNormalization", x, name=f"conv_pw_{block_id}_bn", axis=-1)
    return net.add("ReLU", x, name=f"conv_pw_{block_id}_relu", max_value=6.0)


def default_size(input_shape: Any) -> int:
    """The size Keras checks a top's input against: the given one where square and of
    the pretrained sizes, else 224."""
    if isinstance(input_shape, list | tuple) and len(input_shape) >= 2:
        rows, cols = input_shape[0], input_shape[1]
        if rows == cols and rows in IMAGENET_SIZES:
            return int(rows)
    return 224


def check_pretrained(weights: Any, alpha: float, depth_multiplier: int) -> None:
    if weights == "imagenet" and depth_multiplier != 1:
        raise ApplicationError(
            f"with weights: imagenet, depth_multiplier must be 1 (got {depth_multiplier}); "
            "give weights: null for another"
        )
    if weights == "imagenet" and alpha not in IMAGENET_ALPHAS:
        raise ApplicationError(
            f"with weights: imagenet, alpha must be 0.25, 0.5, 0.75 or 1.0 (got {alpha}); "
            "give weights: null for another"
        )


def mobilenet(
    input_shape: Any = None,
    alpha: float = 1.0,
    depth_multiplier: int = 1,
    dropout: float = 1e-3,
    include_top: bool = True,
    weights: Any = "imagenet",
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> dict[str, Any]:
    """``keras.applications.MobileNet``."""
    check_common(include_top, pooling, classes, classifier_activation, weights)
    check_width(alpha, depth_multiplier, dropout)
    check_weights(weights, include_top, classes)
    shape = obtain_input_shape(input_shape, default_size(input_shape), 32, include_top, weights)
    rows = shape[0]
    check_pretrained(weights, alpha, depth_multiplier)
    if weights == "imagenet" and (rows != shape[1] or rows not in IMAGENET_SIZES):
        rows = 224
    net = Net(name if name is not None else f"mobilenet_{alpha:0.2f}_{rows}", shape)
    x = _conv_block(net, net.INPUT, 32, alpha, strides=(2, 2))
    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)]
    blocks += [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for block_id, (filters, stride) in enumerate(blocks, start=1):
        x = _depthwise_conv_block(
            net, x, filters, alpha, depth_multiplier, (stride, stride), block_id
        )
    if include_top:
        x = net.add("GlobalAveragePooling2D", x, keepdims=True)
        x = net.add("Dropout", x, name="dropout", rate=dropout)
        x = net.add(
            "Conv2D", x, name="conv_preds", filters=classes, kernel_size=(1, 1), padding="same"
        )
        x = net.add("Reshape", x, name="reshape_2", target_shape=(classes,))
        activation = classifier_activation if classifier_activation is not None else "linear"
        x = net.add("Activation", x, name="predictions", activation=activation)
    elif pooling == "avg":
        x = net.add("GlobalAveragePooling2D", x)
    elif pooling == "max":
        x = net.add("GlobalMaxPooling2D", x)
    return net.spec(x)


APPLICATIONS = {"MobileNet": mobilenet}
