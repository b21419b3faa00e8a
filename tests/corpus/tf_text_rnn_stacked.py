"""TensorFlow "Text classification with an RNN" tutorial (IMDB): the stacked BiLSTM model.

Source: tensorflow/docs site/en/tutorials/text/text_classification_rnn.ipynb (commit a68c452)
        https://www.tensorflow.org/tutorials/text/text_classification_rnn
Copied: the "Stack two or more LSTM layers" model and its compile call.
Keras 3 adaptations: ``tf.keras`` -> ``keras``. The source's first layer is ``encoder``, a
``TextVectorization(max_tokens=1000)`` adapted on the IMDB text; it is replaced here by the
integer input it produces, ``keras.Input(shape=(None,), dtype="int64")``, and
``len(encoder.get_vocabulary())`` by its value, VOCAB_SIZE = 1000.
"""

import keras

VOCAB_SIZE = 1000


def build() -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input(shape=(None,), dtype="int64"),  # stands for `encoder` (see docstring)
            keras.layers.Embedding(VOCAB_SIZE, 64, mask_zero=True),
            keras.layers.Bidirectional(keras.layers.LSTM(64, return_sequences=True)),
            keras.layers.Bidirectional(keras.layers.LSTM(32)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(1),
        ]
    )
    model.compile(
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        optimizer=keras.optimizers.Adam(1e-4),
        metrics=["accuracy"],
    )
    return model
