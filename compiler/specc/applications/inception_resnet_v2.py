"""InceptionResNetV2, as ``keras/src/applications/inception_resnet_v2.py`` builds it
(its residuals scaled by Keras' own ``CustomScaleLayer``, declared in the catalog)."""

from __future__ import annotations

from typing import Any

from specc.applications.common import Arguments, Net, classifier, pool, standard


def conv2d_bn(
    net: Net,
    x: str,
    filters: int,
    kernel_size: int | tuple[int, int],
    strides: int = 1,
    padding: str = "same",
    activation: str | None = "relu",
    use_bias: bool = False,
    name: str | None = None,
) -> str:
    """``conv2d_bn``: a convolution, BatchNormalization without scale unless it has a
    bias, then the activation."""
    x = net.add(
        "Conv2D",
        x,
        name=name,
        filters=filters,
        kernel_size=kernel_size,
        strides=strides,
        padding=padding,
        use_bias=use_bias,
    )
    if not use_bias:
        bn_name = None if name is None else f"{name}_bn"
        x = net.add("BatchNormalization", x, name=bn_name, axis=3, scale=False)
    if activation is not None:
        ac_name = None if name is None else f"{name}_ac"
        x = net.add("Activation", x, name=ac_name, activation=activation)
    return x


def _branches(net: Net, x: str, block_type: str) -> list[str]:
    if block_type == "block35":
        branch_0 = conv2d_bn(net, x, 32, 1)
        branch_1 = conv2d_bn(net, x, 32, 1)
        branch_1 = conv2d_bn(net, branch_1, 32, 3)
        branch_2 = conv2d_bn(net, x, 32, 1)
        branch_2 = conv2d_bn(net, branch_2, 48, 3)
        branch_2 = conv2d_bn(net, branch_2, 64, 3)
        return [branch_0, branch_1, branch_2]
    if block_type == "block17":
        branch_0 = conv2d_bn(net, x, 192, 1)
        branch_1 = conv2d_bn(net, x, 128, 1)
        branch_1 = conv2d_bn(net, branch_1, 160, (1, 7))
        branch_1 = conv2d_bn(net, branch_1, 192, (7, 1))
        return [branch_0, branch_1]
    branch_0 = conv2d_bn(net, x, 192, 1)
    branch_1 = conv2d_bn(net, x, 192, 1)
    branch_1 = conv2d_bn(net, branch_1, 224, (1, 3))
    branch_1 = conv2d_bn(net, branch_1, 256, (3, 1))
    return [branch_0, branch_1]


def inception_resnet_block(
    net: Net,
    x: str,
    channels: int,
    scale: float,
    block_type: str,
    block_idx: int,
    activation: str | None = "relu",
) -> str:
    """``inception_resnet_block``: branches concatenated, projected back to ``channels``
    (``x``'s), scaled and added to ``x``."""
    block_name = f"{block_type}_{block_idx}"
    branches = _branches(net, x, block_type)
    mixed = net.add("Concatenate", branches, name=f"{block_name}_mixed", axis=3)
    up = conv2d_bn(
        net, mixed, channels, 1, activation=None, use_bias=True, name=f"{block_name}_conv"
    )
    x = net.add("CustomScaleLayer", [x, up], scale=scale)
    if activation is not None:
        x = net.add("Activation", x, name=f"{block_name}_ac", activation=activation)
    return x


def _stem(net: Net) -> str:
    """The stem and mixed_5b (35 x 35 x 320)."""
    x = conv2d_bn(net, net.INPUT, 32, 3, strides=2, padding="valid")
    x = conv2d_bn(net, x, 32, 3, padding="valid")
    x = conv2d_bn(net, x, 64, 3)
    x = net.add("MaxPooling2D", x, pool_size=3, strides=2)
    x = conv2d_bn(net, x, 80, 1, padding="valid")
    x = conv2d_bn(net, x, 192, 3, padding="valid")
    x = net.add("MaxPooling2D", x, pool_size=3, strides=2)
    branch_0 = conv2d_bn(net, x, 96, 1)
    branch_1 = conv2d_bn(net, x, 48, 1)
    branch_1 = conv2d_bn(net, branch_1, 64, 5)
    branch_2 = conv2d_bn(net, x, 64, 1)
    branch_2 = conv2d_bn(net, branch_2, 96, 3)
    branch_2 = conv2d_bn(net, branch_2, 96, 3)
    branch_pool = net.add("AveragePooling2D", x, pool_size=3, strides=1, padding="same")
    branch_pool = conv2d_bn(net, branch_pool, 64, 1)
    branches = [branch_0, branch_1, branch_2, branch_pool]
    return net.add("Concatenate", branches, name="mixed_5b", axis=3)


def _mixed_6a(net: Net, x: str) -> str:
    """Reduction to 17 x 17 x 1088."""
    branch_0 = conv2d_bn(net, x, 384, 3, strides=2, padding="valid")
    branch_1 = conv2d_bn(net, x, 256, 1)
    branch_1 = conv2d_bn(net, branch_1, 256, 3)
    branch_1 = conv2d_bn(net, branch_1, 384, 3, strides=2, padding="valid")
    branch_pool = net.add("MaxPooling2D", x, pool_size=3, strides=2, padding="valid")
    branches = [branch_0, branch_1, branch_pool]
    return net.add("Concatenate", branches, name="mixed_6a", axis=3)


def _mixed_7a(net: Net, x: str) -> str:
    """Reduction to 8 x 8 x 2080."""
    branch_0 = conv2d_bn(net, x, 256, 1)
    branch_0 = conv2d_bn(net, branch_0, 384, 3, strides=2, padding="valid")
    branch_1 = conv2d_bn(net, x, 256, 1)
    branch_1 = conv2d_bn(net, branch_1, 288, 3, strides=2, padding="valid")
    branch_2 = conv2d_bn(net, x, 256, 1)
    branch_2 = conv2d_bn(net, branch_2, 288, 3)
    branch_2 = conv2d_bn(net, branch_2, 320, 3, strides=2, padding="valid")
    branch_pool = net.add("MaxPooling2D", x, pool_size=3, strides=2, padding="valid")
    branches = [branch_0, branch_1, branch_2, branch_pool]
    return net.add("Concatenate", branches, name="mixed_7a", axis=3)


def _inception_resnet_v2(a: Arguments) -> dict[str, Any]:
    """``InceptionResNetV2``: 10 block35, 20 block17 and 10 block8 residual blocks."""
    net = Net(a.name, a.input(default_size=299, min_size=75))
    x = _stem(net)
    for block_idx in range(1, 11):
        x = inception_resnet_block(net, x, 320, 0.17, "block35", block_idx)
    x = _mixed_6a(net, x)
    for block_idx in range(1, 21):
        x = inception_resnet_block(net, x, 1088, 0.1, "block17", block_idx)
    x = _mixed_7a(net, x)
    for block_idx in range(1, 10):
        x = inception_resnet_block(net, x, 2080, 0.2, "block8", block_idx)
    x = inception_resnet_block(net, x, 2080, 1.0, "block8", 10, activation=None)
    x = conv2d_bn(net, x, 1536, 1, name="conv_7b")
    if a.include_top:
        x = net.add("GlobalAveragePooling2D", x, name="avg_pool")
        x = classifier(net, x, a.classes, a.classifier_activation)
    else:
        x = pool(net, x, a.pooling)
    return net.spec(x)


APPLICATIONS = {
    "InceptionResNetV2": standard("inception_resnet_v2", _inception_resnet_v2),
}
