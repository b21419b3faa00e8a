"""Character-level text generation with LSTM (Nietzsche).

Source: keras-team/keras-io examples/generative/lstm_character_level_text_generation.py
        (commit 0a09cb6)
        https://keras.io/examples/generative/lstm_character_level_text_generation/
Copied: the model definition and the compile call.
Keras 3 adaptations: ``from tensorflow import keras`` -> ``import keras``. Data-derived value:
``len(chars)`` is 57 (distinct characters of the lower-cased Nietzsche corpus).
"""

import keras
from keras import layers

maxlen = 40
num_chars = 57  # len(chars)


def build() -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input(shape=(maxlen, num_chars)),
            layers.LSTM(128),
            layers.Dense(num_chars, activation="softmax"),
        ]
    )
    optimizer = keras.optimizers.RMSprop(learning_rate=0.01)
    model.compile(loss="categorical_crossentropy", optimizer=optimizer)
    return model
