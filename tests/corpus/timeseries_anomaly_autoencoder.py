"""Timeseries anomaly detection using an Autoencoder.

Source: keras-team/keras-io examples/timeseries/timeseries_anomaly_detection.py (commit 3aca056)
        https://keras.io/examples/timeseries/timeseries_anomaly_detection/
Copied: the model definition and the compile call.
Keras 3 adaptations: ``from tensorflow import keras`` -> ``import keras``. The input shape
``(x_train.shape[1], x_train.shape[2])`` is (288, 1): TIME_STEPS = 288 values of one feature.
"""

import keras
from keras import layers

TIME_STEPS = 288


def build() -> keras.Model:
    model = keras.Sequential(
        [
            layers.Input(shape=(TIME_STEPS, 1)),
            layers.Conv1D(filters=32, kernel_size=7, padding="same", strides=2, activation="relu"),
            layers.Dropout(rate=0.2),
            layers.Conv1D(filters=16, kernel_size=7, padding="same", strides=2, activation="relu"),
            layers.Conv1DTranspose(
                filters=16, kernel_size=7, padding="same", strides=2, activation="relu"
            ),
            layers.Dropout(rate=0.2),
            layers.Conv1DTranspose(
                filters=32, kernel_size=7, padding="same", strides=2, activation="relu"
            ),
            layers.Conv1DTranspose(filters=1, kernel_size=7, padding="same"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001), loss="mse")
    return model
