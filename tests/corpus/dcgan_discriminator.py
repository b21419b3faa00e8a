"""GAN overriding ``Model.train_step``: the DCGAN discriminator (MNIST).

Source: keras-team/keras-io examples/generative/dcgan_overriding_train_step.py (commit 0d5f327)
        https://keras.io/examples/generative/dcgan_overriding_train_step/
Copied: the discriminator's definition. The source never compiles it on its own (the GAN
wrapper is compiled), so ``build`` returns it uncompiled, as the source has it.
Keras 3 adaptations: ``from tensorflow import keras`` -> ``import keras``. ``LeakyReLU(alpha=)``
is kept as written: Keras 3 still accepts it.
"""

import keras
from keras import layers


def build() -> keras.Model:
    discriminator = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(64, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.Conv2D(128, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )
    return discriminator
