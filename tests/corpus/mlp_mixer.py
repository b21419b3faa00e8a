"""Image classification with MLP-Mixer: the user's own layer classes, inside a Sequential.

Source: keras-team/keras-io examples/vision/mlp_image_classification.py
        (commit 8bda227) https://keras.io/examples/vision/mlp_image_classification/
Written after the published model: ``Patches`` and ``MLPMixerLayer`` keep their arguments,
sublayers and ``call``; ``build_classifier`` as published with the MLP-Mixer blocks. Left out:
the data-augmentation Sequential (it adapts a Normalization to the data). Reduced: 32x32
images (published 64x64 resized), patch 8, ``embedding_dim`` 32 (256), 2 blocks (4).
Keras 3 adaptations: none (the example is written for Keras 3: ``keras.ops.image.extract_patches``).
"""

import keras
from keras import layers

num_classes = 100
input_shape = (32, 32, 3)
image_size = 32
patch_size = 8
num_patches = (image_size // patch_size) ** 2
embedding_dim = 32
dropout_rate = 0.2
num_blocks = 2


class Patches(layers.Layer):
    def __init__(self, patch_size, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = patch_size

    def call(self, x):
        patches = keras.ops.image.extract_patches(x, self.patch_size)
        batch_size = keras.ops.shape(patches)[0]
        num_patches = keras.ops.shape(patches)[1] * keras.ops.shape(patches)[2]
        patch_dim = keras.ops.shape(patches)[3]
        return keras.ops.reshape(patches, (batch_size, num_patches, patch_dim))


class MLPMixerLayer(layers.Layer):
    def __init__(self, num_patches, hidden_units, dropout_rate, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mlp1 = keras.Sequential(
            [
                layers.Dense(units=num_patches, activation="gelu"),
                layers.Dense(units=num_patches),
                layers.Dropout(rate=dropout_rate),
            ]
        )
        self.mlp2 = keras.Sequential(
            [
                layers.Dense(units=num_patches, activation="gelu"),
                layers.Dense(units=hidden_units),
                layers.Dropout(rate=dropout_rate),
            ]
        )
        self.normalize = layers.LayerNormalization(epsilon=1e-6)

    def build(self, input_shape):
        return super().build(input_shape)

    def call(self, inputs):
        x = self.normalize(inputs)
        x_channels = keras.ops.transpose(x, axes=(0, 2, 1))
        mlp1_outputs = self.mlp1(x_channels)
        mlp1_outputs = keras.ops.transpose(mlp1_outputs, axes=(0, 2, 1))
        x = mlp1_outputs + inputs
        x_patches = self.normalize(x)
        mlp2_outputs = self.mlp2(x_patches)
        return x + mlp2_outputs


def build_classifier(blocks, positional_encoding=False):
    inputs = layers.Input(shape=input_shape)
    patches = Patches(patch_size)(inputs)
    x = layers.Dense(units=embedding_dim)(patches)
    x = blocks(x)
    representation = layers.GlobalAveragePooling1D()(x)
    representation = layers.Dropout(rate=dropout_rate)(representation)
    logits = layers.Dense(num_classes)(representation)
    return keras.Model(inputs=inputs, outputs=logits)


def build():
    mlpmixer_blocks = keras.Sequential(
        [MLPMixerLayer(num_patches, embedding_dim, dropout_rate) for _ in range(num_blocks)]
    )
    model = build_classifier(mlpmixer_blocks)
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=0.005, weight_decay=0.0001),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")],
    )
    return model
