"""Xception, as ``keras/src/applications/xception.py`` builds it."""

from __future__ import annotations

from typing import Any

from specc.applications.common import Arguments, Net, classifier, pool, standard


def _sepconv_bn(net: Net, x: str, filters: int, name: str) -> str:
    x = net.add(
        "SeparableConv2D",
        x,
        name=name,
        filters=filters,
        kernel_size=(3, 3),
        padding="same",
        use_bias=False,
    )
    return net.add("BatchNormalization", x, name=f"{name}_bn", axis=-1)


def _downsampling(net: Net, x: str, block: int, filters: tuple[int, int]) -> str:
    """Blocks 2, 3, 4 and 13: two separable convolutions and a max pooling, added to a
    strided 1x1 projection made first (so its layers take the automatic names)."""
    residual = net.add(
        "Conv2D",
        x,
        filters=filters[1],
        kernel_size=(1, 1),
        strides=(2, 2),
        padding="same",
        use_bias=False,
    )
    residual = net.add("BatchNormalization", residual, axis=-1)
    prefix = f"block{block}"
    if block != 2:
        x = net.add("Activation", x, name=f"{prefix}_sepconv1_act", activation="relu")
    x = _sepconv_bn(net, x, filters[0], f"{prefix}_sepconv1")
    x = net.add("Activation", x, name=f"{prefix}_sepconv2_act", activation="relu")
    x = _sepconv_bn(net, x, filters[1], f"{prefix}_sepconv2")
    x = net.add(
        "MaxPooling2D", x, name=f"{prefix}_pool", pool_size=(3, 3), strides=(2, 2), padding="same"
    )
    return net.add("Add", [x, residual])


def _middle(net: Net, x: str, block: int) -> str:
    """Blocks 5 to 12: three separable convolutions added to the block's input."""
    residual = x
    prefix = f"block{block}"
    for k in (1, 2, 3):
        x = net.add("Activation", x, name=f"{prefix}_sepconv{k}_act", activation="relu")
        x = _sepconv_bn(net, x, 728, f"{prefix}_sepconv{k}")
    return net.add("Add", [x, residual])


def _xception(a: Arguments) -> dict[str, Any]:
    """``Xception``: entry flow, 8 middle blocks, exit flow, the top."""
    net = Net(a.name, a.input(default_size=299, min_size=71))
    x = net.add(
        "Conv2D",
        net.INPUT,
        name="block1_conv1",
        filters=32,
        kernel_size=(3, 3),
        strides=(2, 2),
        use_bias=False,
    )
    x = net.add("BatchNormalization", x, name="block1_conv1_bn", axis=-1)
    x = net.add("Activation", x, name="block1_conv1_act", activation="relu")
    x = net.add("Conv2D", x, name="block1_conv2", filters=64, kernel_size=(3, 3), use_bias=False)
    x = net.add("BatchNormalization", x, name="block1_conv2_bn", axis=-1)
    x = net.add("Activation", x, name="block1_conv2_act", activation="relu")
    for block, filters in ((2, 128), (3, 256), (4, 728)):
        x = _downsampling(net, x, block, (filters, filters))
    for i in range(8):
        x = _middle(net, x, i + 5)
    x = _downsampling(net, x, 13, (728, 1024))
    x = _sepconv_bn(net, x, 1536, "block14_sepconv1")
    x = net.add("Activation", x, name="block14_sepconv1_act", activation="relu")
    x = _sepconv_bn(net, x, 2048, "block14_sepconv2")
    x = net.add("Activation", x, name="block14_sepconv2_act", activation="relu")
    if a.include_top:
        x = net.add("GlobalAveragePooling2D", x, name="avg_pool")
        x = classifier(net, x, a.classes, a.classifier_activation)
    else:
        x = pool(net, x, a.pooling)
    return net.spec(x)


APPLICATIONS = {"Xception": standard("xception", _xception)}
