"""DenseNet121/169/201, as ``keras/src/applications/densenet.py`` builds them."""

from __future__ import annotations

from functools import partial
from typing import Any

from specc.applications.common import Arguments, Net, classifier, standard

EPSILON = 1.001e-5
GROWTH = 32


def _bn_relu(net: Net, x: str, name: str) -> str:
    x = net.add("BatchNormalization", x, name=f"{name}_bn", axis=3, epsilon=EPSILON)
    return net.add("Activation", x, name=f"{name}_relu", activation="relu")


def _conv_block(net: Net, x: str, name: str) -> str:
    """``conv_block``: a 1x1 then 3x3 bottleneck whose output is concatenated to ``x``."""
    x1 = _bn_relu(net, x, f"{name}_0")
    x1 = net.add(
        "Conv2D", x1, name=f"{name}_1_conv", filters=4 * GROWTH, kernel_size=1, use_bias=False
    )
    x1 = _bn_relu(net, x1, f"{name}_1")
    x1 = net.add(
        "Conv2D",
        x1,
        name=f"{name}_2_conv",
        filters=GROWTH,
        kernel_size=3,
        padding="same",
        use_bias=False,
    )
    return net.add("Concatenate", [x, x1], name=f"{name}_concat", axis=3)


def _transition(net: Net, x: str, channels: int, name: str) -> tuple[str, int]:
    """``transition_block``: channels halved (``int(channels * 0.5)``), size halved."""
    x = _bn_relu(net, x, name)
    channels = int(channels * 0.5)
    x = net.add("Conv2D", x, name=f"{name}_conv", filters=channels, kernel_size=1, use_bias=False)
    return net.add("AveragePooling2D", x, name=f"{name}_pool", pool_size=2, strides=2), channels


def _densenet(blocks: tuple[int, int, int, int], a: Arguments) -> dict[str, Any]:
    """``DenseNet``: the stem, four dense blocks with transitions between, the top."""
    net = Net(a.name, a.input(default_size=224, min_size=32))
    x = net.add("ZeroPadding2D", net.INPUT, padding=((3, 3), (3, 3)))
    x = net.add(
        "Conv2D", x, name="conv1_conv", filters=64, kernel_size=7, strides=2, use_bias=False
    )
    x = net.add("BatchNormalization", x, name="conv1_bn", axis=3, epsilon=EPSILON)
    x = net.add("Activation", x, name="conv1_relu", activation="relu")
    x = net.add("ZeroPadding2D", x, padding=((1, 1), (1, 1)))
    x = net.add("MaxPooling2D", x, name="pool1", pool_size=3, strides=2)
    channels = 64
    for stage, count in enumerate(blocks):
        for i in range(count):
            x = _conv_block(net, x, name=f"conv{stage + 2}_block{i + 1}")
        channels += count * GROWTH
        if stage < 3:
            x, channels = _transition(net, x, channels, name=f"pool{stage + 2}")
    x = net.add("BatchNormalization", x, name="bn", axis=3, epsilon=EPSILON)
    x = net.add("Activation", x, name="relu", activation="relu")
    if a.include_top:
        x = net.add("GlobalAveragePooling2D", x, name="avg_pool")
        x = classifier(net, x, a.classes, a.classifier_activation)
    elif a.pooling == "avg":
        x = net.add("GlobalAveragePooling2D", x, name="avg_pool")
    elif a.pooling == "max":
        x = net.add("GlobalMaxPooling2D", x, name="max_pool")
    return net.spec(x)


APPLICATIONS = {
    "DenseNet121": standard("densenet121", partial(_densenet, (6, 12, 24, 16))),
    "DenseNet169": standard("densenet169", partial(_densenet, (6, 12, 32, 32))),
    "DenseNet201": standard("densenet201", partial(_densenet, (6, 12, 48, 32))),
}
