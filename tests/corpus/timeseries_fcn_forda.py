"""Timeseries classification from scratch: fully convolutional network on FordA.

Source: keras-team/keras-io examples/timeseries/timeseries_classification_from_scratch.py
        (commit 02cfaa2)
        https://keras.io/examples/timeseries/timeseries_classification_from_scratch/
Copied: ``make_model`` and the compile call.
Keras 3 adaptations: ``from tensorflow import keras`` -> ``import keras``. Data-derived values:
``x_train.shape[1:]`` is (500, 1) (FordA series have 500 points) and ``num_classes`` is 2.
"""

import keras

num_classes = 2


def make_model(input_shape):
    input_layer = keras.layers.Input(input_shape)

    conv1 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(input_layer)
    conv1 = keras.layers.BatchNormalization()(conv1)
    conv1 = keras.layers.ReLU()(conv1)

    conv2 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv1)
    conv2 = keras.layers.BatchNormalization()(conv2)
    conv2 = keras.layers.ReLU()(conv2)

    conv3 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv2)
    conv3 = keras.layers.BatchNormalization()(conv3)
    conv3 = keras.layers.ReLU()(conv3)

    gap = keras.layers.GlobalAveragePooling1D()(conv3)

    output_layer = keras.layers.Dense(num_classes, activation="softmax")(gap)

    return keras.models.Model(inputs=input_layer, outputs=output_layer)


def build() -> keras.Model:
    model = make_model(input_shape=(500, 1))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
