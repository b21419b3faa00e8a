"""Keras example: hierarchical RNN (TimeDistributed LSTM over rows, then LSTM) on MNIST.

Source: keras-team/keras examples/mnist_hierarchical_rnn.py (commit 10bfb1c; Keras 2 scripts)
Copied: the model definition and the compile call.
Keras 3 adaptations: ``LSTM(output_dim=...)`` -> ``LSTM(units=...)`` and
``Model(input=, output=)`` -> ``Model(inputs=, outputs=)`` (Keras 3 rejects the old names).
``X_train.shape[1:]`` is (28, 28, 1).
"""

import keras
from keras.layers import LSTM, Dense, Input, TimeDistributed
from keras.models import Model

num_classes = 10

# Embedding dimensions.
row_hidden = 128
col_hidden = 128

row, col, pixel = 28, 28, 1  # X_train.shape[1:]


def build() -> keras.Model:
    # 4D input.
    x = Input(shape=(row, col, pixel))

    # Encodes a row of pixels using TimeDistributed Wrapper.
    encoded_rows = TimeDistributed(LSTM(units=row_hidden))(x)

    # Encodes columns of encoded rows.
    encoded_columns = LSTM(col_hidden)(encoded_rows)

    # Final predictions and model.
    prediction = Dense(num_classes, activation="softmax")(encoded_columns)
    model = Model(inputs=x, outputs=prediction)
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    return model
