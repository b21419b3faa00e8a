"""Next-frame video prediction with convolutional LSTMs (Moving MNIST).

Source: keras-team/keras-io examples/vision/conv_lstm.py (commit 0a4be8b)
        https://keras.io/examples/vision/conv_lstm/
Copied: the model definition and the compile call.
Keras 3 adaptations: ``from tensorflow import keras`` -> ``import keras``. Data-derived value:
``x_train.shape[2:]`` is (64, 64, 1) (Moving MNIST frames); the frame count stays ``None``.
"""

import keras
from keras import layers


def build() -> keras.Model:
    # Construct the input layer with no definite frame size.
    inp = layers.Input(shape=(None, 64, 64, 1))

    # We will construct 3 `ConvLSTM2D` layers with batch normalization,
    # followed by a `Conv3D` layer for the spatiotemporal outputs.
    x = layers.ConvLSTM2D(
        filters=64,
        kernel_size=(5, 5),
        padding="same",
        return_sequences=True,
        activation="relu",
    )(inp)
    x = layers.BatchNormalization()(x)
    x = layers.ConvLSTM2D(
        filters=64,
        kernel_size=(3, 3),
        padding="same",
        return_sequences=True,
        activation="relu",
    )(x)
    x = layers.BatchNormalization()(x)
    x = layers.ConvLSTM2D(
        filters=64,
        kernel_size=(1, 1),
        padding="same",
        return_sequences=True,
        activation="relu",
    )(x)
    x = layers.Conv3D(filters=1, kernel_size=(3, 3, 3), activation="sigmoid", padding="same")(x)

    # Next, we will build the complete model and compile it.
    model = keras.models.Model(inp, x)
    model.compile(
        loss=keras.losses.binary_crossentropy,
        optimizer=keras.optimizers.Adam(),
    )
    return model
