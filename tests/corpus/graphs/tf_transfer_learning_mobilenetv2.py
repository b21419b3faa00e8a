"""Transfer learning and fine-tuning with a MobileNetV2 base (cats vs dogs), fine-tuned state.

Source: tensorflow/docs site/en/tutorials/images/transfer_learning.ipynb (commit 01b5a05)
        https://www.tensorflow.org/tutorials/images/transfer_learning
Copied: ``data_augmentation``, ``preprocess_input``, the base model, the classification head,
the functional model, then the fine-tuning cells (``base_model.trainable = True``, the first
``fine_tune_at = 100`` layers frozen again) and their compile call: the model as it is trained
last. The MobileNetV2 base is one nested model (a row ``mobilenetv2_1.00_160 (Functional)``),
the augmentation a nested Sequential, and ``mobilenet_v2.preprocess_input`` is arithmetic on the
tensor (``x / 127.5 - 1``: two operation nodes, ``true_divide`` and ``subtract``).
Keras 3 adaptations: ``tf.keras`` -> ``keras``; ``layers.experimental.preprocessing.X`` ->
``layers.X``; ``RMSprop(lr=...)`` -> ``RMSprop(learning_rate=...)``; ``weights='imagenet'`` ->
``weights=None`` (nothing is downloaded; the table is the same).
"""

import keras

IMG_SIZE = (160, 160)
base_learning_rate = 0.0001


def build() -> keras.Model:
    data_augmentation = keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal"),
            keras.layers.RandomRotation(0.2),
        ]
    )
    preprocess_input = keras.applications.mobilenet_v2.preprocess_input

    # Create the base model from the pre-trained model MobileNet V2
    IMG_SHAPE = IMG_SIZE + (3,)  # noqa: RUF005 (as published)
    base_model = keras.applications.MobileNetV2(
        input_shape=IMG_SHAPE, include_top=False, weights=None
    )
    base_model.trainable = False

    global_average_layer = keras.layers.GlobalAveragePooling2D()
    prediction_layer = keras.layers.Dense(1)

    inputs = keras.Input(shape=(160, 160, 3))
    x = data_augmentation(inputs)
    x = preprocess_input(x)
    x = base_model(x, training=False)
    x = global_average_layer(x)
    x = keras.layers.Dropout(0.2)(x)
    outputs = prediction_layer(x)
    model = keras.Model(inputs, outputs)

    # Fine tuning: un-freeze the top layers of the model.
    base_model.trainable = True
    # Fine-tune from this layer onwards
    fine_tune_at = 100
    # Freeze all the layers before the `fine_tune_at` layer
    for layer in base_model.layers[:fine_tune_at]:
        layer.trainable = False

    model.compile(
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        optimizer=keras.optimizers.RMSprop(learning_rate=base_learning_rate / 10),
        metrics=["accuracy"],
    )
    return model
