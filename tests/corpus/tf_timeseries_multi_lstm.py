"""TensorFlow "Time series forecasting" tutorial (Jena climate): multi-step single-shot LSTM.

Source: tensorflow/docs site/en/tutorials/structured_data/time_series.ipynb (commit a68c452)
        https://www.tensorflow.org/tutorials/structured_data/time_series
Copied: ``multi_lstm_model`` and the compile call of ``compile_and_fit``.
Keras 3 adaptations: ``tf.keras`` / ``tf.losses`` / ``tf.metrics`` / ``tf.optimizers`` /
``tf.initializers`` -> ``keras.*``. The source builds the model on its first batch of
``multi_window`` (24 input steps of the 19 engineered features); that input is written here as
``keras.Input(shape=(24, 19))``.
"""

import keras

OUT_STEPS = 24
INPUT_WIDTH = 24
num_features = 19


def build() -> keras.Model:
    multi_lstm_model = keras.Sequential(
        [
            keras.Input(shape=(INPUT_WIDTH, num_features)),  # the window the source feeds
            # Shape [batch, time, features] => [batch, lstm_units]
            # Adding more `lstm_units` just overfits more quickly.
            keras.layers.LSTM(32, return_sequences=False),
            # Shape => [batch, out_steps*features]
            keras.layers.Dense(
                OUT_STEPS * num_features, kernel_initializer=keras.initializers.zeros
            ),
            # Shape => [batch, out_steps, features]
            keras.layers.Reshape([OUT_STEPS, num_features]),
        ]
    )
    multi_lstm_model.compile(
        loss=keras.losses.MeanSquaredError(),
        optimizer=keras.optimizers.Adam(),
        metrics=[keras.metrics.MeanAbsoluteError()],
    )
    return multi_lstm_model
