"""ResNet50/101/152 and their V2s, as ``keras/src/applications/resnet.py`` and
``resnet_v2.py`` build them."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from specc.applications.common import Arguments, Net, classifier, standard

EPSILON = 1.001e-5


def _bn(net: Net, x: str, name: str) -> str:
    return net.add("BatchNormalization", x, name=name, axis=3, epsilon=EPSILON)


def _block_v1(
    net: Net, x: str, filters: int, stride: int = 1, conv_shortcut: bool = True, name: str = ""
) -> str:
    """``residual_block_v1``: a bottleneck with an identity or 1x1 projection shortcut."""
    if conv_shortcut:
        shortcut = net.add(
            "Conv2D", x, name=f"{name}_0_conv", filters=4 * filters, kernel_size=1, strides=stride
        )
        shortcut = _bn(net, shortcut, f"{name}_0_bn")
    else:
        shortcut = x
    x = net.add("Conv2D", x, name=f"{name}_1_conv", filters=filters, kernel_size=1, strides=stride)
    x = _bn(net, x, f"{name}_1_bn")
    x = net.add("Activation", x, name=f"{name}_1_relu", activation="relu")
    x = net.add("Conv2D", x, name=f"{name}_2_conv", filters=filters, kernel_size=3, padding="same")
    x = _bn(net, x, f"{name}_2_bn")
    x = net.add("Activation", x, name=f"{name}_2_relu", activation="relu")
    x = net.add("Conv2D", x, name=f"{name}_3_conv", filters=4 * filters, kernel_size=1)
    x = _bn(net, x, f"{name}_3_bn")
    x = net.add("Add", [shortcut, x], name=f"{name}_add")
    return net.add("Activation", x, name=f"{name}_out", activation="relu")


def _stack_v1(net: Net, x: str, filters: int, blocks: int, stride1: int = 2, name: str = "") -> str:
    x = _block_v1(net, x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = _block_v1(net, x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def _block_v2(
    net: Net, x: str, filters: int, stride: int = 1, conv_shortcut: bool = False, name: str = ""
) -> str:
    """``residual_block_v2``: pre-activation, the shortcut pooled where the block strides."""
    preact = _bn(net, x, f"{name}_preact_bn")
    preact = net.add("Activation", preact, name=f"{name}_preact_relu", activation="relu")
    if conv_shortcut:
        shortcut = net.add(
            "Conv2D",
            preact,
            name=f"{name}_0_conv",
            filters=4 * filters,
            kernel_size=1,
            strides=stride,
        )
    else:
        shortcut = net.add("MaxPooling2D", x, pool_size=1, strides=stride) if stride > 1 else x
    x = net.add(
        "Conv2D",
        preact,
        name=f"{name}_1_conv",
        filters=filters,
        kernel_size=1,
        strides=1,
        use_bias=False,
    )
    x = _bn(net, x, f"{name}_1_bn")
    x = net.add("Activation", x, name=f"{name}_1_relu", activation="relu")
    x = net.add("ZeroPadding2D", x, name=f"{name}_2_pad", padding=((1, 1), (1, 1)))
    x = net.add(
        "Conv2D",
        x,
        name=f"{name}_2_conv",
        filters=filters,
        kernel_size=3,
        strides=stride,
        use_bias=False,
    )
    x = _bn(net, x, f"{name}_2_bn")
    x = net.add("Activation", x, name=f"{name}_2_relu", activation="relu")
    x = net.add("Conv2D", x, name=f"{name}_3_conv", filters=4 * filters, kernel_size=1)
    return net.add("Add", [shortcut, x], name=f"{name}_out")


def _stack_v2(net: Net, x: str, filters: int, blocks: int, stride1: int = 2, name: str = "") -> str:
    x = _block_v2(net, x, filters, conv_shortcut=True, name=f"{name}_block1")
    for i in range(2, blocks):
        x = _block_v2(net, x, filters, name=f"{name}_block{i}")
    return _block_v2(net, x, filters, stride=stride1, name=f"{name}_block{blocks}")


def _resnet(
    stack_fn: Callable[[Net, str], str], preact: bool, use_bias: bool, a: Arguments
) -> dict[str, Any]:
    """``ResNet``: the stem, the stacks, and the top."""
    net = Net(a.name, a.input(default_size=224, min_size=32))
    x = net.add("ZeroPadding2D", net.INPUT, name="conv1_pad", padding=((3, 3), (3, 3)))
    x = net.add(
        "Conv2D", x, name="conv1_conv", filters=64, kernel_size=7, strides=2, use_bias=use_bias
    )
    if not preact:
        x = _bn(net, x, "conv1_bn")
        x = net.add("Activation", x, name="conv1_relu", activation="relu")
    x = net.add("ZeroPadding2D", x, name="pool1_pad", padding=((1, 1), (1, 1)))
    x = net.add("MaxPooling2D", x, name="pool1_pool", pool_size=3, strides=2)
    x = stack_fn(net, x)
    if preact:
        x = _bn(net, x, "post_bn")
        x = net.add("Activation", x, name="post_relu", activation="relu")
    if a.include_top:
        x = net.add("GlobalAveragePooling2D", x, name="avg_pool")
        x = classifier(net, x, a.classes, a.classifier_activation)
    elif a.pooling == "avg":
        x = net.add("GlobalAveragePooling2D", x, name="avg_pool")
    elif a.pooling == "max":
        x = net.add("GlobalMaxPooling2D", x, name="max_pool")
    return net.spec(x)


def _stacks_v1(blocks: tuple[int, int, int, int], net: Net, x: str) -> str:
    x = _stack_v1(net, x, 64, blocks[0], stride1=1, name="conv2")
    x = _stack_v1(net, x, 128, blocks[1], name="conv3")
    x = _stack_v1(net, x, 256, blocks[2], name="conv4")
    return _stack_v1(net, x, 512, blocks[3], name="conv5")


def _stacks_v2(blocks: tuple[int, int, int, int], net: Net, x: str) -> str:
    x = _stack_v2(net, x, 64, blocks[0], name="conv2")
    x = _stack_v2(net, x, 128, blocks[1], name="conv3")
    x = _stack_v2(net, x, 256, blocks[2], name="conv4")
    return _stack_v2(net, x, 512, blocks[3], stride1=1, name="conv5")


def _v1(blocks: tuple[int, int, int, int]) -> Callable[[Arguments], dict[str, Any]]:
    return partial(_resnet, partial(_stacks_v1, blocks), False, True)


def _v2(blocks: tuple[int, int, int, int]) -> Callable[[Arguments], dict[str, Any]]:
    return partial(_resnet, partial(_stacks_v2, blocks), True, True)


APPLICATIONS = {
    "ResNet50": standard("resnet50", _v1((3, 4, 6, 3))),
    "ResNet101": standard("resnet101", _v1((3, 4, 23, 3))),
    "ResNet152": standard("resnet152", _v1((3, 8, 36, 3))),
    "ResNet50V2": standard("resnet50v2", _v2((3, 4, 6, 3))),
    "ResNet101V2": standard("resnet101v2", _v2((3, 4, 23, 3))),
    "ResNet152V2": standard("resnet152v2", _v2((3, 8, 36, 3))),
}
