"""Image classification via fine-tuning with EfficientNet (Stanford Dogs), fine-tuned state.

Source: keras-team/keras-io examples/vision/image_classification_efficientnet_fine_tuning.py
        (commit 0773468)
        https://keras.io/examples/vision/image_classification_efficientnet_fine_tuning/
Copied: ``build_model`` (EfficientNetB0 built on the model's own input through ``input_tensor``,
so its 238 layers are rows of this model, frozen; a new top) and ``unfreeze_model`` with its
defaults (the last 20 layers trainable again except BatchNormalization, recompiled): the model
as it is trained last. EfficientNet's blocks use Dropout with ``noise_shape=(None, 1, 1, 1)``.
Keras 3 adaptations: ``weights="imagenet"`` -> ``weights=None`` (nothing is downloaded; the
table is the same). Data-derived values: IMG_SIZE = 224, NUM_CLASSES = 120 (Stanford Dogs).
"""

import keras
from keras import layers
from keras.applications import EfficientNetB0

IMG_SIZE = 224
NUM_CLASSES = 120


def build_model(num_classes):
    inputs = layers.Input(shape=(IMG_SIZE, IMG_SIZE, 3))
    model = EfficientNetB0(include_top=False, input_tensor=inputs, weights=None)

    # Freeze the pretrained weights
    model.trainable = False

    # Rebuild top
    x = layers.GlobalAveragePooling2D(name="avg_pool")(model.output)
    x = layers.BatchNormalization()(x)

    top_dropout_rate = 0.2
    x = layers.Dropout(top_dropout_rate, name="top_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="pred")(x)

    # Compile
    model = keras.Model(inputs, outputs, name="EfficientNet")
    optimizer = keras.optimizers.Adam(learning_rate=1e-2)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def unfreeze_model(
    model,
    layers_to_unfreeze=20,
    learning_rate=1e-5,
    loss="categorical_crossentropy",
    metrics=None,
):
    if metrics is None:
        metrics = ["accuracy"]

    if isinstance(layers_to_unfreeze, str):
        unfreeze_from = None
        for i, layer in enumerate(model.layers):
            if layers_to_unfreeze in layer.name:
                unfreeze_from = i
                break
        if unfreeze_from is None:
            raise ValueError(f"No layer name contains {layers_to_unfreeze!r}.")
        layers_to_process = model.layers[unfreeze_from:]
    elif isinstance(layers_to_unfreeze, int):
        n_layers_to_unfreeze = min(layers_to_unfreeze, len(model.layers))
        layers_to_process = model.layers[-n_layers_to_unfreeze:]
    else:
        raise TypeError(
            f"layers_to_unfreeze must be an int or str, received: {type(layers_to_unfreeze)}"
        )

    # We keep BatchNorm layers frozen -- see "Tips for fine-tuning
    # EfficientNet" in the tutorial for why.
    for layer in layers_to_process:
        if not isinstance(layer, layers.BatchNormalization):
            layer.trainable = True

    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    return model


def build() -> keras.Model:
    model = build_model(num_classes=NUM_CLASSES)
    return unfreeze_model(model)
