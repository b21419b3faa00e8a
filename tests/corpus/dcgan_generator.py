"""GAN overriding ``Model.train_step``: the DCGAN generator (MNIST).

Source: keras-team/keras-io examples/generative/dcgan_overriding_train_step.py (commit 0d5f327)
        https://keras.io/examples/generative/dcgan_overriding_train_step/
Copied: the generator's definition. The source never compiles it on its own: the GAN
wrapper is compiled (two Adam(0.0003), BinaryCrossentropy(from_logits=True)), so ``build``
returns it uncompiled, as the source has it.
Keras 3 adaptations: ``from tensorflow import keras`` -> ``import keras``. ``LeakyReLU(alpha=)``
is kept as written: Keras 3 still accepts it.
"""

import keras
from keras import layers

latent_dim = 128


def build() -> keras.Model:
    generator = keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            # We want to generate 128 coefficients to reshape into a 7x7x128 map
            layers.Dense(7 * 7 * 128),
            layers.LeakyReLU(alpha=0.2),
            layers.Reshape((7, 7, 128)),
            layers.Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
        ],
        name="generator",
    )
    return generator
