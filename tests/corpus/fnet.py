"""Image classification with FNet: the user's own layer classes, inside a Sequential.

Source: keras-team/keras-io examples/vision/mlp_image_classification.py (the FNet part)
        (commit 8bda227) https://keras.io/examples/vision/mlp_image_classification/
Written after the published model: ``Patches`` and ``FNetLayer`` (token mixing by the real
part of a 2-D Fourier transform, then a feed-forward network) keep their arguments,
sublayers and ``call``. Left out: the data-augmentation Sequential. Reduced: 32x32 images,
patch 8, ``embedding_dim`` 32 (published 256), 2 blocks (4).
Keras 3 adaptations: none (the example is written for Keras 3: ``keras.ops.fft2``).
"""

import keras
from keras import layers

num_classes = 100
input_shape = (32, 32, 3)
patch_size = 8
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


class FNetLayer(layers.Layer):
    def __init__(self, embedding_dim, dropout_rate, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ffn = keras.Sequential(
            [
                layers.Dense(units=embedding_dim, activation="gelu"),
                layers.Dropout(rate=dropout_rate),
                layers.Dense(units=embedding_dim),
            ]
        )
        self.normalize1 = layers.LayerNormalization(epsilon=1e-6)
        self.normalize2 = layers.LayerNormalization(epsilon=1e-6)

    def call(self, inputs):
        real_part = inputs
        im_part = keras.ops.zeros_like(inputs)
        x = keras.ops.fft2((real_part, im_part))[0]
        x = x + inputs
        x = self.normalize1(x)
        x_ffn = self.ffn(x)
        x = x + x_ffn
        return self.normalize2(x)


def build():
    fnet_blocks = keras.Sequential(
        [FNetLayer(embedding_dim, dropout_rate) for _ in range(num_blocks)]
    )
    inputs = layers.Input(shape=input_shape)
    patches = Patches(patch_size)(inputs)
    x = layers.Dense(units=embedding_dim)(patches)
    x = fnet_blocks(x)
    representation = layers.GlobalAveragePooling1D()(x)
    representation = layers.Dropout(rate=dropout_rate)(representation)
    logits = layers.Dense(num_classes)(representation)
    model = keras.Model(inputs=inputs, outputs=logits)
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=0.003, weight_decay=0.0001),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")],
    )
    return model
