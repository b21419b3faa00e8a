"""TensorFlow image classification tutorial (flowers): augmentation + dropout model.

Source: tensorflow/docs site/en/tutorials/images/classification.ipynb (commit 021385d)
        https://www.tensorflow.org/tutorials/images/classification
Copied: ``data_augmentation``, the model with dropout and its compile call.
Keras 3 adaptations: ``tf.keras`` -> ``keras``; ``input_shape`` on the first augmentation layer
is kept as written (Keras 3 still accepts it). Data-derived values: img_height = img_width =
180 and num_classes = 5 (the five flower classes).
"""

import keras
from keras import layers
from keras.models import Sequential

img_height = 180
img_width = 180
num_classes = 5


def build() -> keras.Model:
    data_augmentation = keras.Sequential(
        [
            layers.RandomFlip("horizontal", input_shape=(img_height, img_width, 3)),
            layers.RandomRotation(0.1),
            layers.RandomZoom(0.1),
        ]
    )
    model = Sequential(
        [
            data_augmentation,
            layers.Rescaling(1.0 / 255),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Dropout(0.2),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(num_classes),
        ]
    )
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model
