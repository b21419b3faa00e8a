"""NASNetMobile and NASNetLarge, as ``keras/src/applications/nasnet.py`` builds them.

A cell's layers depend on its inputs' sizes (Keras reads ``p.shape`` to decide how to
adjust the previous cell's output), so each tensor here carries its height and width and
its channels: :class:`T`.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    obtain_input_shape,
    pool,
)

BN = {"axis": -1, "momentum": 0.9997, "epsilon": 0.001}


@dataclass(frozen=True)
class T:
    """A tensor: the reference to it, its height and width, its channels."""

    ref: str
    size: Size
    channels: int


def _separable_conv_block(
    net: Net, ip: T, filters: int, kernel_size: int = 3, strides: int = 1, block_id: str = ""
) -> T:
    """ReLU, separable convolution (padded as 'same' would where strided), BN, twice."""
    x = net.add("Activation", ip.ref, activation="relu")
    pad = None
    if strides == 2:
        pad = correct_pad(ip.size, kernel_size)
        x = net.add("ZeroPadding2D", x, name=f"separable_conv_1_pad_{block_id}", padding=pad)
    conv_pad = "valid" if strides == 2 else "same"
    x = net.add(
        "SeparableConv2D",
        x,
        name=f"separable_conv_1_{block_id}",
        filters=filters,
        kernel_size=(kernel_size, kernel_size),
        strides=(strides, strides),
        padding=conv_pad,
        use_bias=False,
    )
    x = net.add("BatchNormalization", x, name=f"separable_conv_1_bn_{block_id}", **BN)
    x = net.add("Activation", x, activation="relu")
    x = net.add(
        "SeparableConv2D",
        x,
        name=f"separable_conv_2_{block_id}",
        filters=filters,
        kernel_size=(kernel_size, kernel_size),
        padding="same",
        use_bias=False,
    )
    x = net.add("BatchNormalization", x, name=f"separable_conv_2_bn_{block_id}", **BN)
    return T(x, conv_size(ip.size, kernel_size, strides, conv_pad, pad), filters)


def _conv(net: Net, x: str, filters: int, name: str, strides: int = 1) -> str:
    """A 1x1 convolution without bias, he_normal, as every NASNet projection."""
    return net.add(
        "Conv2D",
        x,
        name=name,
        filters=filters,
        kernel_size=(1, 1),
        strides=(strides, strides),
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
    )


def _adjust_block(net: Net, p: T | None, ip: T, filters: int, block_id: str) -> T:
    """The previous cell's output made to fit this one: halved where its width differs
    (two offset average poolings, concatenated), projected where its channels differ."""
    if p is None:
        return ip
    if p.size[1] != ip.size[1]:
        x = net.add("Activation", p.ref, name=f"adjust_relu_1_{block_id}", activation="relu")
        pooling = {"pool_size": (1, 1), "strides": (2, 2), "padding": "valid"}
        p1 = net.add("AveragePooling2D", x, name=f"adjust_avg_pool_1_{block_id}", **pooling)
        p1 = _conv(net, p1, filters // 2, f"adjust_conv_1_{block_id}")
        p2 = net.add("ZeroPadding2D", x, padding=((0, 1), (0, 1)))
        p2 = net.add("Cropping2D", p2, cropping=((1, 0), (1, 0)))
        p2 = net.add("AveragePooling2D", p2, name=f"adjust_avg_pool_2_{block_id}", **pooling)
        p2 = _conv(net, p2, filters // 2, f"adjust_conv_2_{block_id}")
        x = net.add("Concatenate", [p1, p2], axis=-1)
        x = net.add("BatchNormalization", x, name=f"adjust_bn_{block_id}", **BN)
        return T(x, conv_size(p.size, 1, 2, "valid"), 2 * (filters // 2))
    if p.channels != filters:
        x = net.add("Activation", p.ref, activation="relu")
        x = _conv(net, x, filters, f"adjust_conv_projection_{block_id}")
        x = net.add("BatchNormalization", x, name=f"adjust_bn_{block_id}", **BN)
        return T(x, p.size, filters)
    return p


def _h(net: Net, ip: T, filters: int, kind: str, block_id: str) -> T:
    """The cell's own input, ReLU, 1x1 convolution and BN."""
    h = net.add("Activation", ip.ref, activation="relu")
    h = _conv(net, h, filters, f"{kind}_conv_1_{block_id}")
    h = net.add("BatchNormalization", h, name=f"{kind}_bn_1_{block_id}", **BN)
    return T(h, ip.size, filters)


def _normal_a_cell(net: Net, ip: T, p: T | None, filters: int, block_id: str) -> tuple[T, T]:
    """``_normal_a_cell``: five branches on the cell's input and the previous cell's."""
    q = _adjust_block(net, p, ip, filters, block_id)
    h = _h(net, ip, filters, "normal", block_id)
    sep = _separable_conv_block
    x1_1 = sep(net, h, filters, 5, block_id=f"normal_left1_{block_id}")
    x1_2 = sep(net, q, filters, block_id=f"normal_right1_{block_id}")
    x1 = net.add("Add", [x1_1.ref, x1_2.ref], name=f"normal_add_1_{block_id}")
    x2_1 = sep(net, q, filters, 5, block_id=f"normal_left2_{block_id}")
    x2_2 = sep(net, q, filters, 3, block_id=f"normal_right2_{block_id}")
    x2 = net.add("Add", [x2_1.ref, x2_2.ref], name=f"normal_add_2_{block_id}")
    same = {"pool_size": (3, 3), "strides": (1, 1), "padding": "same"}
    x3 = net.add("AveragePooling2D", h.ref, name=f"normal_left3_{block_id}", **same)
    x3 = net.add("Add", [x3, q.ref], name=f"normal_add_3_{block_id}")
    x4_1 = net.add("AveragePooling2D", q.ref, name=f"normal_left4_{block_id}", **same)
    x4_2 = net.add("AveragePooling2D", q.ref, name=f"normal_right4_{block_id}", **same)
    x4 = net.add("Add", [x4_1, x4_2], name=f"normal_add_4_{block_id}")
    x5 = sep(net, h, filters, block_id=f"normal_left5_{block_id}")
    x5_ref = net.add("Add", [x5.ref, h.ref], name=f"normal_add_5_{block_id}")
    joined = [q.ref, x1, x2, x3, x4, x5_ref]
    x = net.add("Concatenate", joined, name=f"normal_concat_{block_id}", axis=-1)
    return T(x, h.size, q.channels + 5 * filters), ip


def _reduction_a_cell(net: Net, ip: T, p: T | None, filters: int, block_id: str) -> tuple[T, T]:
    """``_reduction_a_cell``: the cell that halves the size."""
    q = _adjust_block(net, p, ip, filters, block_id)
    h = _h(net, ip, filters, "reduction", block_id)
    pad = correct_pad(h.size, 3)
    h3 = net.add("ZeroPadding2D", h.ref, name=f"reduction_pad_1_{block_id}", padding=pad)
    sep = _separable_conv_block
    x1_1 = sep(net, h, filters, 5, strides=2, block_id=f"reduction_left1_{block_id}")
    x1_2 = sep(net, q, filters, 7, strides=2, block_id=f"reduction_right1_{block_id}")
    x1 = net.add("Add", [x1_1.ref, x1_2.ref], name=f"reduction_add_1_{block_id}")
    halving = {"pool_size": (3, 3), "strides": (2, 2), "padding": "valid"}
    x2_1 = net.add("MaxPooling2D", h3, name=f"reduction_left2_{block_id}", **halving)
    x2_2 = sep(net, q, filters, 7, strides=2, block_id=f"reduction_right2_{block_id}")
    x2 = net.add("Add", [x2_1, x2_2.ref], name=f"reduction_add_2_{block_id}")
    x3_1 = net.add("AveragePooling2D", h3, name=f"reduction_left3_{block_id}", **halving)
    x3_2 = sep(net, q, filters, 5, strides=2, block_id=f"reduction_right3_{block_id}")
    x3 = net.add("Add", [x3_1, x3_2.ref], name=f"reduction_add3_{block_id}")
    same = {"pool_size": (3, 3), "strides": (1, 1), "padding": "same"}
    x4 = net.add("AveragePooling2D", x1, name=f"reduction_left4_{block_id}", **same)
    x4 = net.add("Add", [x2, x4])
    x5_1 = sep(net, T(x1, x1_1.size, filters), filters, 3, block_id=f"reduction_left4_{block_id}")
    x5_2 = net.add("MaxPooling2D", h3, name=f"reduction_right5_{block_id}", **halving)
    x5 = net.add("Add", [x5_1.ref, x5_2], name=f"reduction_add4_{block_id}")
    x = net.add("Concatenate", [x2, x3, x4, x5], name=f"reduction_concat_{block_id}", axis=-1)
    return T(x, x1_1.size, 4 * filters), ip


# long: mirrors Keras' NASNet, its checks, stem and three stacks of cells, call for call
def _nasnet(
    input_shape: Any,
    penultimate_filters: int,
    num_blocks: int,
    stem_block_filters: int,
    skip_reduction: bool,
    default_size: int,
    include_top: bool,
    weights: Any,
    pooling: str | None,
    classes: int,
    classifier_activation: str | None,
    name: str,
) -> dict[str, Any]:
    """``NASNet``: a strided stem, two reduction cells, then three stacks of ``num_blocks``
    normal cells with a reduction cell between (filter multiplier 2)."""
    check_common(include_top, pooling, classes, classifier_activation, weights)
    check_weights(weights, include_top, classes)
    if isinstance(input_shape, list | tuple) and None in input_shape and weights == "imagenet":
        raise ApplicationError(
            f"with weights: imagenet a NASNet's input_shape must be static (no null), got "
            f"{list(input_shape)}"
        )
    shape = obtain_input_shape(input_shape, default_size, 32, include_top, weights)
    net = Net(name, shape)
    filters = penultimate_filters // 24
    x = net.add(
        "Conv2D",
        net.INPUT,
        name="stem_conv1",
        filters=stem_block_filters,
        kernel_size=(3, 3),
        strides=(2, 2),
        padding="valid",
        use_bias=False,
        kernel_initializer="he_normal",
    )
    x = net.add("BatchNormalization", x, name="stem_bn1", **BN)
    t = T(x, conv_size((shape[0], shape[1]), 3, 2, "valid"), stem_block_filters)
    p: T | None = None
    t, p = _reduction_a_cell(net, t, p, filters // 4, "stem_1")
    t, p = _reduction_a_cell(net, t, p, filters // 2, "stem_2")
    for stack in range(3):
        if stack:
            block_id = f"reduce_{stack * num_blocks}"
            t, p0 = _reduction_a_cell(net, t, p, filters * 2**stack, block_id)
            p = p0 if not skip_reduction else p
        for i in range(num_blocks):
            block_id = f"{stack * num_blocks + i + (1 if stack else 0)}"
            t, p = _normal_a_cell(net, t, p, filters * 2**stack, block_id)
    x = net.add("Activation", t.ref, activation="relu")
    if include_top:
        x = net.add("GlobalAveragePooling2D", x)
        x = classifier(net, x, classes, classifier_activation)
    else:
        x = pool(net, x, pooling)
    return net.spec(x)


def nasnet_mobile(
    input_shape: Any = None,
    include_top: bool = True,
    weights: Any = "imagenet",
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str = "nasnet_mobile",
) -> dict[str, Any]:
    """``keras.applications.NASNetMobile`` (224 x 224 where no input_shape is given)."""
    if not include_top and input_shape is None:
        input_shape = (224, 224, 3)
    top = (include_top, weights, pooling, classes, classifier_activation, name)
    return _nasnet(input_shape, 1056, 4, 32, False, 224, *top)


def nasnet_large(
    input_shape: Any = None,
    include_top: bool = True,
    weights: Any = "imagenet",
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str = "nasnet_large",
) -> dict[str, Any]:
    """``keras.applications.NASNetLarge``."""
    top = (include_top, weights, pooling, classes, classifier_activation, name)
    return _nasnet(input_shape, 4032, 6, 96, True, 331, *top)


APPLICATIONS = {"NASNetMobile": nasnet_mobile, "NASNetLarge": nasnet_large}
