"""VGG16 and VGG19, as ``keras/src/applications/vgg16.py`` and ``vgg19.py`` build them."""

from __future__ import annotations

from typing import Any

from specc.applications.common import (
    Net,
    check_common,
    check_weights,
    classifier,
    obtain_input_shape,
    pool,
)


def _vgg(
    convs: tuple[int, ...],
    include_top: bool,
    weights: Any,
    input_shape: Any,
    pooling: str | None,
    classes: int,
    classifier_activation: str | None,
    name: str,
) -> dict[str, Any]:
    """Five blocks of 3x3 convolutions (``convs`` per block) and a 2x2 max pooling each."""
    check_common(include_top, pooling, classes, classifier_activation, weights)
    check_weights(weights, include_top, classes)
    shape = obtain_input_shape(input_shape, 224, 32, include_top, weights)
    net = Net(name, shape)
    x = net.INPUT
    for block, (count, filters) in enumerate(zip(convs, (64, 128, 256, 512, 512), strict=True)):
        for conv in range(count):
            x = net.add(
                "Conv2D",
                x,
                name=f"block{block + 1}_conv{conv + 1}",
                filters=filters,
                kernel_size=[3, 3],
                activation="relu",
                padding="same",
            )
        x = net.add(
            "MaxPooling2D", x, name=f"block{block + 1}_pool", pool_size=[2, 2], strides=[2, 2]
        )
    if include_top:
        x = net.add("Flatten", x, name="flatten")
        x = net.add("Dense", x, name="fc1", units=4096, activation="relu")
        x = net.add("Dense", x, name="fc2", units=4096, activation="relu")
        x = classifier(net, x, classes, classifier_activation)
    else:
        x = pool(net, x, pooling)
    return net.spec(x)


def vgg16(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str = "vgg16",
) -> dict[str, Any]:
    """``keras.applications.VGG16``."""
    args = (include_top, weights, input_shape, pooling, classes, classifier_activation, name)
    return _vgg((2, 2, 3, 3, 3), *args)


def vgg19(
    include_top: bool = True,
    weights: Any = "imagenet",
    input_shape: Any = None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str = "vgg19",
) -> dict[str, Any]:
    """``keras.applications.VGG19``."""
    args = (include_top, weights, input_shape, pooling, classes, classifier_activation, name)
    return _vgg((2, 2, 4, 4, 4), *args)


APPLICATIONS = {"VGG16": vgg16, "VGG19": vgg19}
