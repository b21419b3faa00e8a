"""Bidirectional LSTM on IMDB.

Source: keras-team/keras-io examples/nlp/bidirectional_lstm_imdb.py (commit 0a4be8b)
        https://keras.io/examples/nlp/bidirectional_lstm_imdb/
Copied: the model definition and the compile call.
Keras 3 adaptations: ``from tensorflow import keras`` -> ``import keras``.
"""

import keras
from keras import layers

max_features = 20000  # Only consider the top 20k words


def build() -> keras.Model:
    # Input for variable-length sequences of integers
    inputs = keras.Input(shape=(None,), dtype="int32")
    # Embed each integer in a 128-dimensional vector
    x = layers.Embedding(max_features, 128)(inputs)
    # Add 2 bidirectional LSTMs
    x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(64))(x)
    # Add a classifier
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model
