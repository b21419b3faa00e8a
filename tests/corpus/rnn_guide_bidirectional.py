"""Keras guide "Working with RNNs": stacked bidirectional LSTMs.

Source: keras-team/keras-io guides/working_with_rnns.py (commit 4849412)
        https://keras.io/guides/working_with_rnns/
Copied: the "Bidirectional RNNs" model. The guide does not compile it, so ``build`` returns it
uncompiled.
Keras 3 adaptations: none (``input_shape`` on the wrapper is still accepted, with a warning).
"""

import keras
from keras import layers


def build() -> keras.Model:
    model = keras.Sequential()

    model.add(layers.Bidirectional(layers.LSTM(64, return_sequences=True), input_shape=(5, 10)))
    model.add(layers.Bidirectional(layers.LSTM(32)))
    model.add(layers.Dense(10))
    return model
