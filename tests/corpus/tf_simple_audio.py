"""TensorFlow simple audio recognition (mini Speech Commands spectrograms).

Source: tensorflow/docs site/en/tutorials/audio/simple_audio.ipynb (commit 094ee6c)
        https://www.tensorflow.org/tutorials/audio/simple_audio
Copied: the model definition and the compile call.
Keras 3 adaptations: ``tf.keras`` / ``layers.experimental.preprocessing`` -> ``keras.layers``;
the source ``adapt``s ``Normalization`` to the training spectrograms (mean and variance per
channel): here it is left un-adapted, which gives it the same weights and shapes. Data-derived
values: spectrogram ``input_shape`` is (124, 129, 1) and ``num_labels`` is 8 (the eight
commands).
"""

import keras
from keras import layers, models

input_shape = (124, 129, 1)
num_labels = 8


def build() -> keras.Model:
    norm_layer = layers.Normalization()

    model = models.Sequential(
        [
            layers.Input(shape=input_shape),
            layers.Resizing(32, 32),
            norm_layer,
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Dropout(0.25),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(num_labels),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model
