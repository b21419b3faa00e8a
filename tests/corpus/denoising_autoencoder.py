"""Convolutional autoencoder for image denoising (MNIST).

Source: keras-team/keras-io examples/vision/autoencoder.py (commit 28033e1)
        https://keras.io/examples/vision/autoencoder/
Copied: the model definition and the compile call (this revision decodes with UpSampling2D).
Keras 3 adaptations: ``from tensorflow.keras.layers import ...`` -> ``keras.layers``.
"""

import keras
from keras.layers import Conv2D, Input, MaxPooling2D, UpSampling2D
from keras.models import Model


def build() -> keras.Model:
    input = Input(shape=(28, 28, 1))

    # Encoder
    x = Conv2D(32, (3, 3), activation="relu", padding="same")(input)
    x = MaxPooling2D((2, 2), padding="same")(x)
    x = Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = MaxPooling2D((2, 2), padding="same")(x)

    # Decoder
    x = Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = UpSampling2D((2, 2))(x)
    x = Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = UpSampling2D((2, 2))(x)
    x = Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)

    # Autoencoder
    autoencoder = Model(input, x)
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    return autoencoder
