"""The functional API guide's ensemble: three models used as layers, their outputs averaged.

Source: keras-team/keras-io guides/functional_api.py (commit 14a2af7)
        https://keras.io/guides/functional_api/
Copied: ``get_model`` and ``ensemble_model`` of "All models are callable, just like layers"
(the guide never compiles it). Each member is a nested functional model, one row
``functional (Functional)``, ``functional_1``, ``functional_2``.
Keras 3 adaptations: none.
"""

import keras
from keras import layers


def get_model():
    inputs = keras.Input(shape=(128,))
    outputs = layers.Dense(1)(inputs)
    return keras.Model(inputs, outputs)


def build() -> keras.Model:
    model1 = get_model()
    model2 = get_model()
    model3 = get_model()

    inputs = keras.Input(shape=(128,))
    y1 = model1(inputs)
    y2 = model2(inputs)
    y3 = model3(inputs)
    outputs = layers.average([y1, y2, y3])
    ensemble_model = keras.Model(inputs=inputs, outputs=outputs)
    return ensemble_model
