"""ConvNeXtTiny, Small, Base, Large and XLarge, as ``keras/src/applications/convnext.py``
builds them: a Normalization pre-stem, a stem and three downsampling blocks that are
nested Sequential models (one row each), blocks of a depthwise 7x7 convolution (a grouped
Conv2D), LayerNormalization, two pointwise Dense layers with GELU, ``LayerScale`` (a layer
Keras keeps in that module) and a residual sum, ``inputs + x`` (an operation)."""

from __future__ import annotations

from typing import Any

from specc.applications.common import (
    ApplicationError,
    Net,
    check_common,
    check_weights,
    classifier,
    obtain_input_shape,
    pool,
)
from specc.applications.mobilenet_v3 import op

MODELS = {
    "tiny": ((3, 3, 9, 3), (96, 192, 384, 768)),
    "small": ((3, 3, 27, 3), (96, 192, 384, 768)),
    "base": ((3, 3, 27, 3), (128, 256, 512, 1024)),
    "large": ((3, 3, 27, 3), (192, 384, 768, 1536)),
    "xlarge": ((3, 3, 27, 3), (256, 512, 1024, 2048)),
}
"""MODEL_CONFIGS: each model's depths and projection_dims (all take 224x224 by default)."""
NORM: dict[str, Any] = {"epsilon": 1e-6}


def _downsampling(name: str, i: int, dims: tuple[int, ...]) -> dict[str, Any]:
    """The stem (i 0: a 4x4/4 convolution, LayerNormalization) or downsampling block i
    (LayerNormalization, a 2x2/2 convolution), each a nested Sequential."""
    if i == 0:
        inner: list[dict[str, Any]] = [
            {"type": "Conv2D", "name": f"{name}_stem_conv", "filters": dims[0],
             "kernel_size": 4, "strides": 4},
            {"type": "LayerNormalization", "name": f"{name}_stem_layernorm", **NORM},
        ]  # fmt: skip
        return {"type": "Sequential", "name": f"{name}_stem", "layers": inner}
    inner = [
        {"type": "LayerNormalization", "name": f"{name}_downsampling_layernorm_{i - 1}", **NORM},
        {"type": "Conv2D", "name": f"{name}_downsampling_conv_{i - 1}", "filters": dims[i],
         "kernel_size": 2, "strides": 2},
    ]  # fmt: skip
    return {"type": "Sequential", "name": f"{name}_downsampling_block_{i - 1}", "layers": inner}


def block(net: Net, inputs: str, dim: int, name: str, layer_scale: float | None = 1e-6) -> str:
    """Keras' ``ConvNeXtBlock`` with drop_path_rate 0 (an identity Activation where
    StochasticDepth would go): the residual sum is ``inputs + x``, an operation."""
    x = net.add(
        "Conv2D",
        inputs,
        name=f"{name}_depthwise_conv",
        filters=dim,
        kernel_size=7,
        padding="same",
        groups=dim,
    )
    x = net.add("LayerNormalization", x, name=f"{name}_layernorm", **NORM)
    x = net.add("Dense", x, name=f"{name}_pointwise_conv_1", units=4 * dim)
    x = net.add("Activation", x, name=f"{name}_gelu", activation="gelu")
    x = net.add("Dense", x, name=f"{name}_pointwise_conv_2", units=dim)
    if layer_scale is not None:
        x = net.add(
            "LayerScale", x, name=f"{name}_layer_scale", init_values=layer_scale, projection_dim=dim
        )
    x = net.add("Activation", x, name=f"{name}_identity", activation="linear")
    return op(net, "add", [inputs, x])


def _check(model: str, weights: Any, name: Any, include_top: bool, classes: int) -> None:
    """Keras' checks, and the one on the name it makes for ImageNet weights."""
    check_weights(weights, include_top, classes)
    if not isinstance(name, str):
        raise ApplicationError(f"name must be a string, got {name!r}")
    if weights == "imagenet" and f"convnext_{model}" not in name:
        raise ApplicationError(
            f"with weights: imagenet the model's name must contain convnext_{model} (got "
            f"{name!r}); give weights: null for another name"
        )


def _convnext(
    model: str,
    arguments: tuple[bool, bool, Any, Any, str | None, int, str | None],
    name: str,
) -> dict[str, Any]:
    """Keras' ``ConvNeXt`` for one of :data:`MODELS`."""
    include_top, preprocessing, weights, input_shape, pooling, classes, activation = arguments
    depths, dims = MODELS[model]
    check_common(include_top, pooling, classes, activation, weights)
    _check(model, weights, name, include_top, classes)
    shape = obtain_input_shape(input_shape, 224, 32, include_top, weights)
    net = Net(name, shape)
    x = net.INPUT
    if preprocessing and shape[2] == 3:
        x = net.add(
            "Normalization",
            x,
            name=f"{name}_prestem_normalization",
            mean=[0.485 * 255, 0.456 * 255, 0.406 * 255],
            variance=[(0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2],
        )
    for i in range(4):
        stage = _downsampling(name, i, dims)
        x = net.add("Sequential", x, **{k: v for k, v in stage.items() if k != "type"})
        for j in range(depths[i]):
            x = block(net, x, dims[i], f"{name}_stage_{i}_block_{j}")
    if include_top:
        x = net.add("GlobalAveragePooling2D", x, name=f"{name}_head_gap")
        x = net.add("LayerNormalization", x, name=f"{name}_head_layernorm", **NORM)
        x = classifier(net, x, classes, activation, name=f"{name}_head_dense")
    else:
        x = pool(net, x, pooling)
        x = net.add("LayerNormalization", x, epsilon=1e-6)
    return net.spec(x)


def _generator(model: str) -> Any:
    """``keras.applications.ConvNeXt<Model>``, with Keras' signature and defaults."""

    def generator(
        include_top: bool = True,
        include_preprocessing: bool = True,
        weights: Any = "imagenet",
        input_shape: Any = None,
        pooling: str | None = None,
        classes: int = 1000,
        classifier_activation: str | None = "softmax",
        name: str = f"convnext_{model}",
    ) -> dict[str, Any]:
        arguments = (
            include_top, include_preprocessing, weights, input_shape, pooling, classes,
            classifier_activation,
        )  # fmt: skip
        return _convnext(model, arguments, name)

    generator.__doc__ = f"``keras.applications.ConvNeXt{model.capitalize()}``."
    return generator


APPLICATIONS = {
    f"ConvNeXt{'XLarge' if model == 'xlarge' else model.capitalize()}": _generator(model)
    for model in MODELS
}
