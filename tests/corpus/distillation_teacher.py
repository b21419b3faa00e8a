"""Knowledge distillation: the teacher convnet, trained as usual.

Source: keras-team/keras-io examples/vision/knowledge_distillation.py (commit 1da2fde)
        https://keras.io/examples/vision/knowledge_distillation/
Copied: the teacher's definition and its compile call ("Train teacher as usual").
Keras 3 adaptations: ``from tensorflow import keras`` -> ``import keras``. ``LeakyReLU(alpha=)``
is kept as written: Keras 3 still accepts it (deprecated for ``negative_slope``).
"""

import keras
from keras import layers


def build() -> keras.Model:
    # Create the teacher
    teacher = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(256, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(alpha=0.2),
            layers.MaxPooling2D(pool_size=(2, 2), strides=(1, 1), padding="same"),
            layers.Conv2D(512, (3, 3), strides=(2, 2), padding="same"),
            layers.Flatten(),
            layers.Dense(10),
        ],
        name="teacher",
    )
    # Train teacher as usual
    teacher.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    return teacher
