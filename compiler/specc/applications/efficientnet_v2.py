"""EfficientNetV2B0 to B3, S, M and L, as ``keras/src/applications/efficientnet_v2.py``
builds them: fused and plain MBConv blocks, Dropout of whole samples on residual sums."""

from __future__ import annotations

import math
from typing import Any

from specc.applications.common import ApplicationError, Net, check_common, check_weights
from specc.applications.common import obtain_input_shape as input_shape_of
from specc.applications.efficientnet import (
    CONV_KERNEL_INITIALIZER,
    conv_bn,
    residual,
    squeeze_excite,
    top,
)

Stage = tuple[int, int, int, int, int, float, int, int]
"""(kernel_size, num_repeat, input_filters, output_filters, expand_ratio, se_ratio, strides,
conv_type) of one stage; conv_type 1 is the fused block."""
_B = (
    (3, 1, 32, 16, 1, 0, 1, 1), (3, 2, 16, 32, 4, 0, 2, 1), (3, 2, 32, 48, 4, 0, 2, 1),
    (3, 3, 48, 96, 4, 0.25, 2, 0), (3, 5, 96, 112, 6, 0.25, 1, 0), (3, 8, 112, 192, 6, 0.25, 2, 0),
)  # fmt: skip
BLOCKS: dict[str, tuple[Stage, ...]] = {
    "efficientnetv2-s": (
        (3, 2, 24, 24, 1, 0, 1, 1), (3, 4, 24, 48, 4, 0, 2, 1), (3, 4, 48, 64, 4, 0, 2, 1),
        (3, 6, 64, 128, 4, 0.25, 2, 0), (3, 9, 128, 160, 6, 0.25, 1, 0),
        (3, 15, 160, 256, 6, 0.25, 2, 0),
    ),
    "efficientnetv2-m": (
        (3, 3, 24, 24, 1, 0, 1, 1), (3, 5, 24, 48, 4, 0, 2, 1), (3, 5, 48, 80, 4, 0, 2, 1),
        (3, 7, 80, 160, 4, 0.25, 2, 0), (3, 14, 160, 176, 6, 0.25, 1, 0),
        (3, 18, 176, 304, 6, 0.25, 2, 0), (3, 5, 304, 512, 6, 0.25, 1, 0),
    ),
    "efficientnetv2-l": (
        (3, 4, 32, 32, 1, 0, 1, 1), (3, 7, 32, 64, 4, 0, 2, 1), (3, 7, 64, 96, 4, 0, 2, 1),
        (3, 10, 96, 192, 4, 0.25, 2, 0), (3, 19, 192, 224, 6, 0.25, 1, 0),
        (3, 25, 224, 384, 6, 0.25, 2, 0), (3, 7, 384, 640, 6, 0.25, 1, 0),
    ),
    **{f"efficientnetv2-b{n}": _B for n in range(4)},
}  # fmt: skip
"""DEFAULT_BLOCKS_ARGS, which Keras looks up by the model's name."""
MODELS = {
    "B0": (1.0, 1.0, 224), "B1": (1.0, 1.1, 240), "B2": (1.1, 1.2, 260), "B3": (1.2, 1.4, 300),
    "S": (1.0, 1.0, 384), "M": (1.0, 1.0, 480), "L": (1.0, 1.0, 480),
}  # fmt: skip
"""Each model's (width_coefficient, depth_coefficient, default_size)."""
BN = {"axis": 3, "momentum": 0.9}


def round_filters(filters: int, width: float) -> int:
    """EfficientNetV2's rounding (no 10% rule, unlike V1's): to a multiple of 8, at least 8.

    >>> round_filters(32, 1.1), round_filters(1280, 1.2)
    (32, 1536)
    """
    return int(max(8, int(filters * width + 4) // 8 * 8))


def _block(net: Net, x: str, stage: Stage, drop_rate: float, name: str) -> str:
    """``MBConvBlock`` or, for conv_type 1, ``FusedMBConvBlock``."""
    kernel_size, _, filters_in, filters_out, expand_ratio, se_ratio, strides, fused = stage
    inputs, filters = x, filters_in * expand_ratio
    conv = {"padding": "same", "use_bias": False, "kernel_initializer": CONV_KERNEL_INITIALIZER}
    if expand_ratio != 1:
        size = {"kernel_size": kernel_size, "strides": strides} if fused else {"kernel_size": 1}
        x = net.add("Conv2D", x, name=f"{name}expand_conv", filters=filters, **size, **conv)
        x = net.add("BatchNormalization", x, name=f"{name}expand_bn", **BN)
        x = net.add("Activation", x, name=f"{name}expand_activation", activation="swish")
    if not fused:
        x = net.add(
            "DepthwiseConv2D",
            x,
            name=f"{name}dwconv2",
            kernel_size=kernel_size,
            strides=strides,
            padding="same",
            use_bias=False,
            depthwise_initializer=CONV_KERNEL_INITIALIZER,
        )
        x = net.add("BatchNormalization", x, name=f"{name}bn", **BN)
        x = net.add("Activation", x, name=f"{name}activation", activation="swish")
    if 0 < se_ratio <= 1:
        x = squeeze_excite(net, x, name, (filters_in, filters), "swish", se_ratio)
    if fused and expand_ratio == 1:
        x = net.add(
            "Conv2D",
            x,
            name=f"{name}project_conv",
            filters=filters_out,
            kernel_size=kernel_size,
            strides=strides,
            **conv,
        )
        x = net.add("BatchNormalization", x, name=f"{name}project_bn", **BN)
        x = net.add("Activation", x, name=f"{name}project_activation", activation="swish")
    else:
        x = conv_bn(net, x, f"{name}project", filters_out, momentum=0.9)
    if strides == 1 and filters_in == filters_out:
        x = residual(net, x, inputs, name, drop_rate)
    return x


def _preprocessing(net: Net, name: str, channels: int | None) -> str:
    """The B models' Rescaling and Normalization by ImageNet's statistics (3 channels), or
    a Rescaling to [-1, 1]; Keras tells them apart by the model's name."""
    if name.split("-")[-1].startswith("b") and channels == 3:
        x = net.add("Rescaling", net.INPUT, scale=1.0 / 255)
        return net.add(
            "Normalization",
            x,
            mean=[0.485, 0.456, 0.406],
            variance=[0.229**2, 0.224**2, 0.225**2],
            axis=3,
        )
    return net.add("Rescaling", net.INPUT, scale=1.0 / 128.0, offset=-1)


def _efficientnet_v2(
    model: str, arguments: tuple[bool, Any, Any, str | None, int, str | None], name: str, raw: bool
) -> dict[str, Any]:
    """Keras' ``EfficientNetV2`` for one of :data:`MODELS` (``raw``: no preprocessing)."""
    include_top, weights, input_shape, pooling, classes, classifier_activation = arguments
    width, depth, default_size = MODELS[model]
    check_common(include_top, pooling, classes, classifier_activation, weights)
    stages = BLOCKS.get(name)
    if stages is None:
        raise ApplicationError(
            f"EfficientNetV2{model} with name {name!r}: Keras looks up the blocks by the "
            f"model's name, one of {', '.join(BLOCKS)} (it raises KeyError otherwise)"
        )
    check_weights(weights, include_top, classes)
    shape = input_shape_of(input_shape, default_size, 32, include_top, weights)
    net = Net(name, shape)
    x = net.INPUT if raw else _preprocessing(net, name, shape[2])
    stem = {"kernel_size": 3, "strides": 2, "padding": "same", "use_bias": False}
    filters = round_filters(stages[0][2], width)
    conv = {"kernel_initializer": CONV_KERNEL_INITIALIZER}
    x = net.add("Conv2D", x, name="stem_conv", filters=filters, **stem, **conv)
    x = net.add("BatchNormalization", x, name="stem_bn", **BN)
    x = net.add("Activation", x, name="stem_activation", activation="swish")
    b, blocks = 0, float(sum(stage[1] for stage in stages))
    for i, stage in enumerate(stages):
        kernel, repeats, filters_in, filters_out, expand, ratio, strides, fused = stage
        filters_in, filters_out = (
            round_filters(filters_in, width),
            round_filters(filters_out, width),
        )
        for j in range(math.ceil(depth * repeats)):
            if j > 0:
                strides, filters_in = 1, filters_out
            at = (kernel, repeats, filters_in, filters_out, expand, ratio, strides, fused)
            x = _block(net, x, at, 0.2 * b / blocks, f"block{i + 1}{chr(j + 97)}_")
            b += 1
    x = conv_bn(net, x, "top", round_filters(1280, width), momentum=0.9)
    x = net.add("Activation", x, name="top_activation", activation="swish")
    x = top(net, x, (include_top, pooling, classes, classifier_activation), 0.2)
    if include_top:
        net.entries[-1]["bias_initializer"] = {"type": "Constant", "value": 0.0}
    return net.spec(x)


def _generator(model: str) -> Any:
    """``keras.applications.EfficientNetV2<model>``, with Keras' signature and defaults."""

    def generator(
        include_top: bool = True,
        weights: Any = "imagenet",
        input_shape: Any = None,
        pooling: str | None = None,
        classes: int = 1000,
        classifier_activation: str | None = "softmax",
        include_preprocessing: bool = True,
        name: str = f"efficientnetv2-{model.lower()}",
    ) -> dict[str, Any]:
        arguments = (include_top, weights, input_shape, pooling, classes, classifier_activation)
        return _efficientnet_v2(model, arguments, name, not include_preprocessing)

    generator.__doc__ = f"``keras.applications.EfficientNetV2{model}``."
    return generator


APPLICATIONS = {f"EfficientNetV2{model}": _generator(model) for model in MODELS}
