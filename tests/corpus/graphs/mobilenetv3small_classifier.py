"""A MobileNetV3-Small classifier: the application's layers with a new head (citrus leaves).

Source: PhungTrinhUET/Citrus-leaf-diseases citrusseg/models/MobileNetV3Small.py
        (commit 0aef65b) https://github.com/PhungTrinhUET/Citrus-leaf-diseases
Copied: ``build`` with its defaults (224x224x3, 5 classes, dropout 0.2): MobileNetV3Small
(``weights=None`` as published) whose output feeds a new head, so the application's layers
are rows of this model; its hard-sigmoid is arithmetic on tensors (``x + 3.0`` and
``* (1.0 / 6.0)``: ``add`` and ``multiply`` operation nodes, with ReLU(6) between). The file
never compiles the model.
Keras 3 adaptations: ``tf.keras`` -> ``keras``. The licence of the source was not checked.
"""

import keras
from keras import layers


def build(input_shape=(224, 224, 3), num_classes=5, dropout=0.2) -> keras.Model:
    """MobileNetV3-Small + GAP + Dense (the source's docstring: "MobileNetV3-Small gốc")."""
    base = keras.applications.MobileNetV3Small(
        input_shape=input_shape, include_top=False, weights=None
    )
    x = layers.GlobalAveragePooling2D()(base.output)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(base.input, outputs, name="MBV3_Small_Base")
