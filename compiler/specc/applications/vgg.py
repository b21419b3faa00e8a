"""VGG16 and VGG19, as ``keras/src/applications/vgg16.py`` and ``vgg19.py`` build them."""

from __future__ import annotations

from functools import partial
from typing import Any

from specc.applications.common import Arguments, Net, classifier, pool, standard


def _vgg(convs: tuple[int, ...], a: Arguments) -> dict[str, Any]:
    """Five blocks of 3x3 convolutions (``convs`` per block) and a 2x2 max pooling each."""
    net = Net(a.name, a.input(default_size=224, min_size=32))
    x = net.INPUT
    for block, (count, filters) in enumerate(zip(convs, (64, 128, 256, 512, 512), strict=True)):
        for conv in range(count):
            x = net.add(
                "Conv2D",
                x,
                name=f"block{block + 1}_conv{conv + 1}",
                filters=filters,
                kernel_size=(3, 3),
                activation="relu",
                padding="same",
            )
        x = net.add(
            "MaxPooling2D", x, name=f"block{block + 1}_pool", pool_size=(2, 2), strides=(2, 2)
        )
    if a.include_top:
        x = net.add("Flatten", x, name="flatten")
        x = net.add("Dense", x, name="fc1", units=4096, activation="relu")
        x = net.add("Dense", x, name="fc2", units=4096, activation="relu")
        x = classifier(net, x, a.classes, a.classifier_activation)
    else:
        x = pool(net, x, a.pooling)
    return net.spec(x)


APPLICATIONS = {
    "VGG16": standard("vgg16", partial(_vgg, (2, 2, 3, 3, 3))),
    "VGG19": standard("vgg19", partial(_vgg, (2, 2, 4, 4, 4))),
}
