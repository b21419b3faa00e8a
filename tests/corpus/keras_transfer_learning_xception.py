"""Transfer learning & fine-tuning guide: a frozen Xception base on cats vs dogs (top training).

Source: keras-team/keras-io guides/transfer_learning.py (commit 0a57de4)
        https://keras.io/guides/transfer_learning/
Copied: ``data_augmentation``, the base model (frozen), the model on top and the compile call
of "Train the top layer". The Xception base is one nested model, called with
``training=False``; the augmentation a nested Sequential.
Keras 3 adaptations: ``from tensorflow import keras`` -> ``import keras``;
``weights="imagenet"`` -> ``weights=None`` (nothing is downloaded; the table is the same).
"""

import keras
from keras import layers


def build() -> keras.Model:
    data_augmentation = keras.Sequential(
        [
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(0.1),
        ]
    )

    base_model = keras.applications.Xception(
        weights=None,  # Load weights pre-trained on ImageNet.
        input_shape=(150, 150, 3),
        include_top=False,
    )  # Do not include the ImageNet classifier at the top.

    # Freeze the base_model
    base_model.trainable = False

    # Create new model on top
    inputs = keras.Input(shape=(150, 150, 3))
    x = data_augmentation(inputs)  # Apply random data augmentation

    # Pre-trained Xception weights requires that input be scaled
    # from (0, 255) to a range of (-1., +1.), the rescaling layer
    # outputs: `(inputs * scale) + offset`
    scale_layer = keras.layers.Rescaling(scale=1 / 127.5, offset=-1)
    x = scale_layer(x)

    # The base model contains batchnorm layers. We want to keep them in inference mode
    # when we unfreeze the base model for fine-tuning, so we make sure that the
    # base_model is running in inference mode here.
    x = base_model(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.2)(x)  # Regularize with dropout
    outputs = keras.layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)

    model.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy()],
    )
    return model
