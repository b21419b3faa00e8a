"""Video classification with a CNN-RNN architecture: the InceptionV3 frame feature extractor.

Source: keras-team/keras-io examples/vision/video_classification.py (commit 02aec1b)
        https://keras.io/examples/vision/video_classification/
Copied: ``build_feature_extractor`` (the example never compiles it). The InceptionV3 base
(``pooling="avg"``) is one nested model; ``inception_v3.preprocess_input`` is arithmetic on the
input tensor (``x / 127.5 - 1``: two operation nodes, ``true_divide`` and ``subtract``).
Keras 3 adaptations: ``weights="imagenet"`` -> ``weights=None`` (nothing is downloaded; the
table is the same). IMG_SIZE = 224 as in the example.
"""

import keras

IMG_SIZE = 224


def build_feature_extractor():
    feature_extractor = keras.applications.InceptionV3(
        weights=None,
        include_top=False,
        pooling="avg",
        input_shape=(IMG_SIZE, IMG_SIZE, 3),
    )
    preprocess_input = keras.applications.inception_v3.preprocess_input

    inputs = keras.Input((IMG_SIZE, IMG_SIZE, 3))
    preprocessed = preprocess_input(inputs)

    outputs = feature_extractor(preprocessed)
    return keras.Model(inputs, outputs, name="feature_extractor")


def build() -> keras.Model:
    return build_feature_extractor()
