"""The example graph specs equal the Keras code they stand for, table for table.

ResNet-20 and the U-Net are the published models of the corpus (tests/corpus/graphs/,
built by the code copied from their sources); the others are written here as a person
would in Keras. Text compared byte for byte (Keras' functional table, "Connected to"
included), with the console as wide as the other graph tests use.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from specc.analysis.pipeline import compile_file
from specc.backends import keras_build, table
from tests.helpers import KERAS_MISSING, SPECS

if KERAS_MISSING:  # the reference models below are Keras programs
    pytest.skip(KERAS_MISSING, allow_module_level=True)

from tests.corpus.graphs import oxford_pets_unet, resnet20_cifar10_v1
from tests.keras_helpers import keras


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")


def _text(model: Any) -> str:
    out = io.StringIO()
    model.summary(print_fn=lambda line, line_break=True: out.write(line))
    return out.getvalue()


def _mnist_cnn_residual(k: Any) -> Any:
    layers = k.layers
    inputs = k.Input((28, 28, 1))
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    y = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = layers.add([x, y])
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Dense(128, activation="relu", kernel_regularizer=k.regularizers.l2(0.001))(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return k.Model(inputs, outputs)


def _two_inputs(k: Any) -> Any:
    layers = k.layers
    image = k.Input((28, 28, 1), name="image")
    side = k.Input((4,), name="side")
    x = layers.Conv2D(16, 3, activation="relu")(image)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    s = layers.Dense(8, activation="relu")(side)
    x = layers.concatenate([x, s])
    return k.Model([image, side], layers.Dense(10, activation="softmax")(x))


def _convnext_block(k: Any) -> Any:
    """ConvNeXtBlock of keras/src/applications/convnext.py (drop_path_rate 0), twice,
    between the stem and the head of ConvNeXt, layers unnamed."""
    from keras.src.applications.convnext import LayerScale

    layers = k.layers
    inputs = k.Input((32, 32, 3))
    x = layers.Conv2D(96, kernel_size=4, strides=4)(inputs)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    for _ in range(2):
        block_input = x
        x = layers.Conv2D(filters=96, kernel_size=7, padding="same", groups=96)(x)
        x = layers.LayerNormalization(epsilon=1e-6)(x)
        x = layers.Dense(4 * 96)(x)
        x = layers.Activation("gelu")(x)
        x = layers.Dense(96)(x)
        x = LayerScale(1e-6, 96)(x)
        x = block_input + layers.Activation("linear")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    return k.Model(inputs, layers.Dense(10, activation="softmax")(x))


EXAMPLES = {
    "resnet20_cifar10": (SPECS / "resnet20_cifar10.yaml", lambda k: resnet20_cifar10_v1.build()),
    "unet_oxford_pets": (SPECS / "unet_oxford_pets.yaml", lambda k: oxford_pets_unet.build()),
    "mnist_cnn_residual": (SPECS / "mnist_cnn_residual.yaml", _mnist_cnn_residual),
    "two_inputs": (SPECS / "two_inputs.yaml", _two_inputs),
    "convnext_block": (SPECS / "convnext_block.yaml", _convnext_block),
}


def _named(text: str) -> str:
    return text.split("\n", 1)[1]  # the model's name line aside


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_table_is_the_keras_codes(example):
    path, code = EXAMPLES[example]
    compiled = compile_file(path)
    k = keras()
    k.backend.clear_session()
    theirs = code(k)
    assert _named(table.as_text(compiled.graph)) == _named(_text(theirs))
    assert compiled.graph.total_params == theirs.count_params()
    k.backend.clear_session()
    built = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert _named(_text(built)) == _named(_text(theirs))


def test_resnet20_has_the_published_size():
    assert compile_file(SPECS / "resnet20_cifar10.yaml").graph.total_params == 274_442
    assert compile_file(SPECS / "mnist_cnn_residual.yaml").graph.total_params == 43_290
