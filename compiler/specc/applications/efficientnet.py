"""EfficientNetB0 to B7, as ``keras/src/applications/efficientnet.py`` builds them: the
stem's Rescaling and Normalization, MBConv blocks with squeeze-excite (a Multiply layer)
and, on residual sums, a Dropout of whole samples (``noise_shape: [null, 1, 1, 1]``)."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

from specc.applications.common import (
    Arguments,
    Generator,
    Net,
    Size,
    classifier,
    conv_size,
    correct_pad,
    make_divisible,
    pool,
    standard,
)

CONV_KERNEL_INITIALIZER = {
    "type": "VarianceScaling", "scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal",
}  # fmt: skip
DENSE_KERNEL_INITIALIZER = {
    "type": "VarianceScaling", "scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform",
}  # fmt: skip
IMAGENET_STDDEV_RGB = (0.229, 0.224, 0.225)
BLOCKS = (
    (3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2), (3, 3, 40, 80, 6, 2),
    (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2), (3, 1, 192, 320, 6, 1),
)  # fmt: skip
"""DEFAULT_BLOCKS_ARGS: (kernel_size, repeats, filters_in, filters_out, expand_ratio,
strides) of each stage; every stage has id_skip and se_ratio 0.25."""
MODELS = {
    "B0": (1.0, 1.0, 224, 0.2), "B1": (1.0, 1.1, 240, 0.2), "B2": (1.1, 1.2, 260, 0.3),
    "B3": (1.2, 1.4, 300, 0.3), "B4": (1.4, 1.8, 380, 0.4), "B5": (1.6, 2.2, 456, 0.4),
    "B6": (1.8, 2.6, 528, 0.5), "B7": (2.0, 3.1, 600, 0.5),
}  # fmt: skip
"""Each model's (width_coefficient, depth_coefficient, default_size, dropout_rate)."""


def squeeze_excite(
    net: Net, x: str, name: str, filters: tuple[int, int], activation: str, ratio: float
) -> str:
    """The squeeze-excite phase both EfficientNets share: average, reshape, reduce to
    ``filters_in * ratio`` channels, expand to ``filters`` with a sigmoid, multiply."""
    filters_in, expanded = filters
    se = net.add("GlobalAveragePooling2D", x, name=f"{name}se_squeeze")
    se = net.add("Reshape", se, name=f"{name}se_reshape", target_shape=[1, 1, expanded])
    for step, (size, function) in {
        "reduce": (max(1, int(filters_in * ratio)), activation),
        "expand": (expanded, "sigmoid"),
    }.items():
        se = net.add(
            "Conv2D",
            se,
            name=f"{name}se_{step}",
            filters=size,
            kernel_size=1,
            padding="same",
            activation=function,
            kernel_initializer=CONV_KERNEL_INITIALIZER,
        )
    return net.add("Multiply", [x, se], name=f"{name}se_excite")


def conv_bn(net: Net, x: str, name: str, filters: int, **bn: Any) -> str:
    """A 1x1 convolution without bias (expand, project, top) and its BatchNormalization
    (``{name}_conv``, ``{name}_bn``)."""
    x = net.add(
        "Conv2D",
        x,
        name=f"{name}_conv",
        filters=filters,
        kernel_size=1,
        padding="same",
        use_bias=False,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
    )
    return net.add("BatchNormalization", x, name=f"{name}_bn", axis=3, **bn)


def residual(net: Net, x: str, inputs: str, name: str, drop_rate: float) -> str:
    """The residual sum, after a Dropout of whole samples where the rate is above 0."""
    if drop_rate > 0:
        x = net.add("Dropout", x, name=f"{name}drop", rate=drop_rate, noise_shape=[None, 1, 1, 1])
    return net.add("Add", [x, inputs], name=f"{name}add")


def _block(
    net: Net,
    inputs: tuple[str, Size],
    args: tuple[int, int, int, int, int],
    drop_rate: float,
    name: str,
    activation: str,
) -> tuple[str, Size]:
    """Keras' ``block``: expand, depthwise (padded where strided), squeeze-excite,
    project, and the residual sum where shapes allow."""
    kernel_size, filters_in, filters_out, expand_ratio, strides = args
    x, size = inputs
    filters = filters_in * expand_ratio
    if expand_ratio != 1:
        x = conv_bn(net, x, f"{name}expand", filters)
        x = net.add("Activation", x, name=f"{name}expand_activation", activation=activation)
    pad, padding = None, "same"
    if strides == 2:
        pad, padding = correct_pad(size, kernel_size), "valid"
        x = net.add("ZeroPadding2D", x, name=f"{name}dwconv_pad", padding=pad)
    x = net.add(
        "DepthwiseConv2D",
        x,
        name=f"{name}dwconv",
        kernel_size=kernel_size,
        strides=strides,
        padding=padding,
        use_bias=False,
        depthwise_initializer=CONV_KERNEL_INITIALIZER,
    )
    size = conv_size(size, kernel_size, strides, padding, pad)
    x = net.add("BatchNormalization", x, name=f"{name}bn", axis=3)
    x = net.add("Activation", x, name=f"{name}activation", activation=activation)
    x = squeeze_excite(net, x, name, (filters_in, filters), activation, 0.25)
    x = conv_bn(net, x, f"{name}project", filters_out)
    if strides == 1 and filters_in == filters_out:
        x = residual(net, x, inputs[0], name, drop_rate)
    return x, size


def _stem(net: Net, weights: Any, shape: tuple[int | None, ...], width: float) -> tuple[str, Size]:
    """Rescaling to [0, 1], Normalization (adapted), for ImageNet weights a Rescaling by
    1 / sqrt(stddev) per channel, then the padded strided 3x3 convolution."""
    x = net.add("Rescaling", net.INPUT, scale=1.0 / 255.0)
    x = net.add("Normalization", x, axis=3)
    if weights == "imagenet":
        x = net.add("Rescaling", x, scale=[1.0 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB])
    pad = correct_pad((shape[0], shape[1]), 3)
    x = net.add("ZeroPadding2D", x, name="stem_conv_pad", padding=pad)
    x = net.add(
        "Conv2D",
        x,
        name="stem_conv",
        filters=make_divisible(32 * width, 8),
        kernel_size=3,
        strides=2,
        padding="valid",
        use_bias=False,
        kernel_initializer=CONV_KERNEL_INITIALIZER,
    )
    x = net.add("BatchNormalization", x, name="stem_bn", axis=3)
    x = net.add("Activation", x, name="stem_activation", activation="swish")
    return x, conv_size((shape[0], shape[1]), 3, 2, "valid", pad)


def top(
    net: Net, x: str, arguments: tuple[bool, str | None, int, str | None], dropout_rate: float
) -> str:
    """The top both EfficientNets share: average, Dropout, the Dense classifier; or the
    pooling asked for."""
    include_top, pooling, classes, classifier_activation = arguments
    if not include_top:
        return pool(net, x, pooling, ("avg_pool", "max_pool"))
    x = net.add("GlobalAveragePooling2D", x, name="avg_pool")
    if dropout_rate > 0:
        x = net.add("Dropout", x, name="top_dropout", rate=dropout_rate)
    x = classifier(net, x, classes, classifier_activation)
    net.entries[-1]["kernel_initializer"] = DENSE_KERNEL_INITIALIZER
    return x


def _efficientnet(model: str, a: Arguments) -> dict[str, Any]:
    """Keras' ``EfficientNet`` for one of :data:`MODELS`."""
    width, depth, default_size, dropout_rate = MODELS[model]
    shape = a.input(default_size, 32)
    net = Net(a.name, shape)
    x, size = _stem(net, a.weights, shape, width)
    b, blocks = 0, float(sum(math.ceil(depth * stage[1]) for stage in BLOCKS))
    for i, (kernel_size, repeats, filters_in, filters_out, expand, strides) in enumerate(BLOCKS):
        filters_in, filters_out = (
            make_divisible(filters_in * width, 8),
            make_divisible(filters_out * width, 8),
        )
        for j in range(math.ceil(depth * repeats)):
            if j > 0:
                strides, filters_in = 1, filters_out
            args = (kernel_size, filters_in, filters_out, expand, strides)
            x, size = _block(
                net, (x, size), args, 0.2 * b / blocks, f"block{i + 1}{chr(j + 97)}_", "swish"
            )
            b += 1
    x = conv_bn(net, x, "top", make_divisible(1280 * width, 8))
    x = net.add("Activation", x, name="top_activation", activation="swish")
    x = top(net, x, (a.include_top, a.pooling, a.classes, a.classifier_activation), dropout_rate)
    return net.spec(x)


def _generator(model: str) -> Generator:
    """``keras.applications.EfficientNet<model>``, with Keras' signature and defaults."""
    generator = standard(f"efficientnet{model.lower()}", partial(_efficientnet, model))
    generator.__doc__ = f"``keras.applications.EfficientNet{model}``."
    return generator


APPLICATIONS = {f"EfficientNet{model}": _generator(model) for model in MODELS}
