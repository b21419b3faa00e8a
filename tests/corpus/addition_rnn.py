"""Sequence to sequence learning for performing number addition.

Source: keras-team/keras-io examples/nlp/addition_rnn.py (commit 0e2325b)
        https://keras.io/examples/nlp/addition_rnn/
Copied: the model definition and the compile call (DIGITS = 3, num_layers = 1).
Keras 3 adaptations: ``from tensorflow import keras`` -> ``import keras``; ``input_shape``
on the first LSTM is kept (Keras 3 still accepts it, with a warning).
"""

import keras
from keras import layers

DIGITS = 3
MAXLEN = DIGITS + 1 + DIGITS
# All the numbers, plus sign and space for padding.
chars = "0123456789+ "


def build() -> keras.Model:
    num_layers = 1  # Try to add more LSTM layers!

    model = keras.Sequential()
    # "Encode" the input sequence using a LSTM, producing an output of size 128.
    model.add(layers.LSTM(128, input_shape=(MAXLEN, len(chars))))
    # As the decoder RNN's input, repeatedly provide with the last output of
    # RNN for each time step. Repeat 'DIGITS + 1' times as that's the maximum
    # length of output, e.g., when DIGITS=3, max output is 999+999=1998.
    model.add(layers.RepeatVector(DIGITS + 1))
    # The decoder RNN could be multiple layers stacked or a single layer.
    for _ in range(num_layers):
        model.add(layers.LSTM(128, return_sequences=True))
    # Apply a dense layer to the every temporal slice of an input.
    model.add(layers.Dense(len(chars), activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model
