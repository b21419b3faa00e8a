"""A ``keras.saving.register_keras_serializable`` package's layer in a model.

Source: keras-team/keras-io guides/serialization_and_saving.py
        (commit 8bda227) https://keras.io/guides/serialization_and_saving/
Written after the guide's registered custom layer: a Dense-like ``CustomLayer`` registered
under ``package="MyLayers"`` (config.json records ``registered_name: MyLayers>CustomLayer``)
with ``get_config``, in a small functional classifier compiled as the guide compiles.
Keras 3 adaptations: none (the guide is written for Keras 3).
"""

import keras


@keras.saving.register_keras_serializable(package="MyLayers")
class CustomLayer(keras.layers.Layer):
    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.factor), initializer="random_normal")
        self.b = self.add_weight(shape=(self.factor,), initializer="zeros")

    def call(self, x):
        return keras.ops.matmul(x, self.w) + self.b

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor})
        return config


def build():
    inputs = keras.Input(shape=(32,))
    x = CustomLayer(16)(inputs)
    x = keras.layers.Activation("relu")(x)
    x = CustomLayer(8)(x)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return model
