"""ConvMixer-256/8 for CIFAR-10: patches are all you need?

Source: keras-team/keras-io examples/vision/convmixer.py (commit 031c426)
        https://keras.io/examples/vision/convmixer/
Copied: ``activation_block``, ``conv_stem``, ``conv_mixer_block``, ``get_conv_mixer_256_8`` and
the compile call of ``run_experiment``. Depthwise convolution written as ``Conv2D`` with
``groups=filters``; residual ``Add`` layers; GELU as an Activation layer.
Keras 3 adaptations: ``from tensorflow import keras`` -> ``import keras``;
``tfa.optimizers.AdamW(learning_rate=0.001, weight_decay=0.0001)`` (TensorFlow Addons, gone) ->
``keras.optimizers.AdamW`` with the same values.
"""

import keras
from keras import layers

learning_rate = 0.001
weight_decay = 0.0001


def activation_block(x):
    x = layers.Activation("gelu")(x)
    return layers.BatchNormalization()(x)


def conv_stem(x, filters: int, patch_size: int):
    x = layers.Conv2D(filters, kernel_size=patch_size, strides=patch_size)(x)
    return activation_block(x)


def conv_mixer_block(x, filters: int, kernel_size: int):
    # Depthwise convolution.
    x0 = x
    x = layers.Conv2D(filters, kernel_size=kernel_size, groups=filters, padding="same")(x)
    x = layers.Add()([activation_block(x), x0])  # Residual.

    # Pointwise convolution.
    x = layers.Conv2D(filters, kernel_size=1)(x)
    x = activation_block(x)

    return x


def get_conv_mixer_256_8(
    image_size=32, filters=256, depth=8, kernel_size=5, patch_size=2, num_classes=10
):
    """ConvMixer-256/8: https://openreview.net/pdf?id=TVHS5Y4dNvM.

    The hyperparameter values are taken from the paper.
    """
    inputs = keras.Input((image_size, image_size, 3))
    x = layers.Rescaling(scale=1.0 / 255)(inputs)

    # Extract patch embeddings.
    x = conv_stem(x, filters, patch_size)

    # ConvMixer blocks.
    for _ in range(depth):
        x = conv_mixer_block(x, filters, kernel_size)

    # Classification block.
    x = layers.GlobalAvgPool2D()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)

    return keras.Model(inputs, outputs)


def build() -> keras.Model:
    model = get_conv_mixer_256_8()
    optimizer = keras.optimizers.AdamW(learning_rate=learning_rate, weight_decay=weight_decay)
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model
