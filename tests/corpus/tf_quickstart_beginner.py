"""TensorFlow 2 quickstart for beginners (MNIST, logits + from_logits loss).

Source: tensorflow/docs site/en/tutorials/quickstart/beginner.ipynb (commit bfde3c2)
        https://www.tensorflow.org/tutorials/quickstart/beginner
Copied: the model definition, ``loss_fn`` and the compile call.
Keras 3 adaptations: ``tf.keras`` -> ``keras``; ``Flatten(input_shape=...)`` is kept as written
(Keras 3 still accepts it, with a warning).
"""

import keras


def build() -> keras.Model:
    model = keras.models.Sequential(
        [
            keras.layers.Flatten(input_shape=(28, 28)),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(10),
        ]
    )
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer="adam", loss=loss_fn, metrics=["accuracy"])
    return model
