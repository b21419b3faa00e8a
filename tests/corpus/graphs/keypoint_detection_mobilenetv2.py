"""Keypoint detection with transfer learning: a frozen MobileNetV2 backbone (StanfordExtra).

Source: keras-team/keras-io examples/vision/keypoint_detection.py (commit 05938ba)
        https://keras.io/examples/vision/keypoint_detection/
Copied: ``get_model`` and the compile call. The backbone is one nested model, frozen;
``mobilenet_v2.preprocess_input`` is arithmetic on the input tensor (``x / 127.5 - 1``: two
operation nodes, ``true_divide`` and ``subtract``).
Keras 3 adaptations: ``from tensorflow import keras`` -> ``import keras``; ``weights="imagenet"``
-> ``weights=None`` (nothing is downloaded; the table is the same). Data-derived values:
IMG_SIZE = 224, NUM_KEYPOINTS = 24 * 2 (24 keypoints, x and y).
"""

import keras
from keras import layers

IMG_SIZE = 224
NUM_KEYPOINTS = 24 * 2  # 24 pairs each having x and y coordinates


def get_model():
    # Load the pre-trained weights of MobileNetV2 and freeze the weights
    backbone = keras.applications.MobileNetV2(
        weights=None, include_top=False, input_shape=(IMG_SIZE, IMG_SIZE, 3)
    )
    backbone.trainable = False

    inputs = layers.Input((IMG_SIZE, IMG_SIZE, 3))
    x = keras.applications.mobilenet_v2.preprocess_input(inputs)
    x = backbone(x)
    x = layers.Dropout(0.3)(x)
    x = layers.SeparableConv2D(NUM_KEYPOINTS, kernel_size=5, strides=1, activation="relu")(x)
    outputs = layers.SeparableConv2D(NUM_KEYPOINTS, kernel_size=3, strides=1, activation="sigmoid")(
        x
    )

    return keras.Model(inputs, outputs, name="keypoint_detector")


def build() -> keras.Model:
    model = get_model()
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(1e-4))
    return model
