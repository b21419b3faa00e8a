"""Keras example: recurrent convolutional network on IMDB (Conv1D + MaxPooling1D + LSTM).

Source: keras-team/keras examples/imdb_cnn_lstm.py (commit 0681160; Keras 2 example scripts)
Copied: the model definition and the compile call.
Keras 3 adaptations: ``Embedding(..., input_length=maxlen)`` no longer builds the model in
Keras 3 (the argument is ignored); the input it declared is written as
``keras.Input(shape=(maxlen,))`` before the Embedding.
"""

import keras
from keras.layers import LSTM, Activation, Conv1D, Dense, Dropout, Embedding, MaxPooling1D
from keras.models import Sequential

# Embedding
max_features = 20000
maxlen = 100
embedding_size = 128

# Convolution
kernel_size = 5
filters = 64
pool_size = 4

# LSTM
lstm_output_size = 70


def build() -> keras.Model:
    model = Sequential()
    model.add(keras.Input(shape=(maxlen,)))  # was Embedding(input_length=maxlen)
    model.add(Embedding(max_features, embedding_size))
    model.add(Dropout(0.25))
    model.add(Conv1D(filters, kernel_size, padding="valid", activation="relu", strides=1))
    model.add(MaxPooling1D(pool_size=pool_size))
    model.add(LSTM(lstm_output_size))
    model.add(Dense(1))
    model.add(Activation("sigmoid"))

    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model
