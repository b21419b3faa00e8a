"""InceptionV3, as ``keras/src/applications/inception_v3.py`` builds it."""

from __future__ import annotations

from typing import Any

from specc.applications.common import Arguments, Net, classifier, pool, standard


def conv2d_bn(
    net: Net,
    x: str,
    filters: int,
    num_row: int,
    num_col: int,
    padding: str = "same",
    strides: tuple[int, int] = (1, 1),
) -> str:
    """``conv2d_bn``: convolution without bias, BatchNormalization without scale, ReLU
    (all named automatically: Keras' InceptionV3 names none of them)."""
    x = net.add(
        "Conv2D",
        x,
        filters=filters,
        kernel_size=(num_row, num_col),
        strides=strides,
        padding=padding,
        use_bias=False,
    )
    x = net.add("BatchNormalization", x, axis=3, scale=False)
    return net.add("Activation", x, activation="relu")


def _avg_branch(net: Net, x: str, filters: int) -> str:
    branch_pool = net.add("AveragePooling2D", x, pool_size=(3, 3), strides=(1, 1), padding="same")
    return conv2d_bn(net, branch_pool, filters, 1, 1)


def _mixed_35(net: Net, x: str, pool_filters: int, name: str) -> str:
    """mixed0 to mixed2: 35 x 35 x 256 (288)."""
    branch1x1 = conv2d_bn(net, x, 64, 1, 1)
    branch5x5 = conv2d_bn(net, x, 48, 1, 1)
    branch5x5 = conv2d_bn(net, branch5x5, 64, 5, 5)
    branch3x3dbl = conv2d_bn(net, x, 64, 1, 1)
    branch3x3dbl = conv2d_bn(net, branch3x3dbl, 96, 3, 3)
    branch3x3dbl = conv2d_bn(net, branch3x3dbl, 96, 3, 3)
    branch_pool = _avg_branch(net, x, pool_filters)
    branches = [branch1x1, branch5x5, branch3x3dbl, branch_pool]
    return net.add("Concatenate", branches, name=name, axis=3)


def _mixed_17(net: Net, x: str, filters: int, name: str) -> str:
    """mixed4 to mixed7: 17 x 17 x 768, factorized 7x7 convolutions of ``filters``."""
    branch1x1 = conv2d_bn(net, x, 192, 1, 1)
    branch7x7 = conv2d_bn(net, x, filters, 1, 1)
    branch7x7 = conv2d_bn(net, branch7x7, filters, 1, 7)
    branch7x7 = conv2d_bn(net, branch7x7, 192, 7, 1)
    branch7x7dbl = conv2d_bn(net, x, filters, 1, 1)
    branch7x7dbl = conv2d_bn(net, branch7x7dbl, filters, 7, 1)
    branch7x7dbl = conv2d_bn(net, branch7x7dbl, filters, 1, 7)
    branch7x7dbl = conv2d_bn(net, branch7x7dbl, filters, 7, 1)
    branch7x7dbl = conv2d_bn(net, branch7x7dbl, 192, 1, 7)
    branch_pool = _avg_branch(net, x, 192)
    branches = [branch1x1, branch7x7, branch7x7dbl, branch_pool]
    return net.add("Concatenate", branches, name=name, axis=3)


def _mixed_8(net: Net, x: str, i: int) -> str:
    """mixed9 and mixed10: 8 x 8 x 2048."""
    branch1x1 = conv2d_bn(net, x, 320, 1, 1)
    branch3x3 = conv2d_bn(net, x, 384, 1, 1)
    branch3x3_1 = conv2d_bn(net, branch3x3, 384, 1, 3)
    branch3x3_2 = conv2d_bn(net, branch3x3, 384, 3, 1)
    branch3x3 = net.add("Concatenate", [branch3x3_1, branch3x3_2], name=f"mixed9_{i}", axis=3)
    branch3x3dbl = conv2d_bn(net, x, 448, 1, 1)
    branch3x3dbl = conv2d_bn(net, branch3x3dbl, 384, 3, 3)
    branch3x3dbl_1 = conv2d_bn(net, branch3x3dbl, 384, 1, 3)
    branch3x3dbl_2 = conv2d_bn(net, branch3x3dbl, 384, 3, 1)
    branch3x3dbl = net.add("Concatenate", [branch3x3dbl_1, branch3x3dbl_2], axis=3)
    branch_pool = _avg_branch(net, x, 192)
    branches = [branch1x1, branch3x3, branch3x3dbl, branch_pool]
    return net.add("Concatenate", branches, name=f"mixed{9 + i}", axis=3)


def _reductions(net: Net, x: str, stage: int) -> str:
    """mixed3 (``stage`` 3: 35 -> 17) and mixed8 (``stage`` 8: 17 -> 8)."""
    if stage == 3:
        branch3x3 = conv2d_bn(net, x, 384, 3, 3, strides=(2, 2), padding="valid")
        branch3x3dbl = conv2d_bn(net, x, 64, 1, 1)
        branch3x3dbl = conv2d_bn(net, branch3x3dbl, 96, 3, 3)
        other = conv2d_bn(net, branch3x3dbl, 96, 3, 3, strides=(2, 2), padding="valid")
    else:
        branch3x3 = conv2d_bn(net, x, 192, 1, 1)
        branch3x3 = conv2d_bn(net, branch3x3, 320, 3, 3, strides=(2, 2), padding="valid")
        branch7x7x3 = conv2d_bn(net, x, 192, 1, 1)
        branch7x7x3 = conv2d_bn(net, branch7x7x3, 192, 1, 7)
        branch7x7x3 = conv2d_bn(net, branch7x7x3, 192, 7, 1)
        other = conv2d_bn(net, branch7x7x3, 192, 3, 3, strides=(2, 2), padding="valid")
    branch_pool = net.add("MaxPooling2D", x, pool_size=(3, 3), strides=(2, 2))
    return net.add("Concatenate", [branch3x3, other, branch_pool], name=f"mixed{stage}", axis=3)


def _inception_v3(a: Arguments) -> dict[str, Any]:
    """``InceptionV3``: the stem, mixed0 to mixed10, the top."""
    net = Net(a.name, a.input(default_size=299, min_size=75))
    x = conv2d_bn(net, net.INPUT, 32, 3, 3, strides=(2, 2), padding="valid")
    x = conv2d_bn(net, x, 32, 3, 3, padding="valid")
    x = conv2d_bn(net, x, 64, 3, 3)
    x = net.add("MaxPooling2D", x, pool_size=(3, 3), strides=(2, 2))
    x = conv2d_bn(net, x, 80, 1, 1, padding="valid")
    x = conv2d_bn(net, x, 192, 3, 3, padding="valid")
    x = net.add("MaxPooling2D", x, pool_size=(3, 3), strides=(2, 2))
    for i, pool_filters in enumerate((32, 64, 64)):
        x = _mixed_35(net, x, pool_filters, name=f"mixed{i}")
    x = _reductions(net, x, 3)
    for i, filters in enumerate((128, 160, 160, 192)):
        x = _mixed_17(net, x, filters, name=f"mixed{4 + i}")
    x = _reductions(net, x, 8)
    for i in range(2):
        x = _mixed_8(net, x, i)
    if a.include_top:
        x = net.add("GlobalAveragePooling2D", x, name="avg_pool")
        x = classifier(net, x, a.classes, a.classifier_activation)
    else:
        x = pool(net, x, a.pooling)
    return net.spec(x)


APPLICATIONS = {"InceptionV3": standard("inception_v3", _inception_v3)}
