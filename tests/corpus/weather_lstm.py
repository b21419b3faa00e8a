"""Timeseries forecasting for weather prediction (Jena climate), single LSTM.

Source: keras-team/keras-io examples/timeseries/timeseries_weather_forecasting.py (commit 0a57de4)
        https://keras.io/examples/timeseries/timeseries_weather_forecasting/
Copied: the model definition and the compile call.
Keras 3 adaptations: ``from tensorflow import keras`` -> ``import keras``. Data-derived values:
the input batch is (256, 120, 7): sequence_length = past / step = 720 / 6 = 120 steps of the
7 selected features; learning_rate = 0.001 as set in the example.
"""

import keras

learning_rate = 0.001
past = 720
step = 6
sequence_length = int(past / step)
num_features = 7


def build() -> keras.Model:
    inputs = keras.layers.Input(shape=(sequence_length, num_features))
    lstm_out = keras.layers.LSTM(32)(inputs)
    outputs = keras.layers.Dense(1)(lstm_out)

    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mse")
    return model
