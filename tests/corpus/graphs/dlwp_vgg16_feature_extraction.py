"""Feature extraction with data augmentation on a frozen VGG16 base (cats vs dogs).

Source: fchollet/deep-learning-with-python-notebooks chapter08_intro-to-dl-for-computer-vision
        (Deep Learning with Python, 2nd edition, listings 8.27-8.28: "Instantiating and
        freezing the VGG16 convolutional base", "Adding a data augmentation stage and a
        classifier to the convolutional base").
Copied: the conv base, the augmentation Sequential, the model and its compile call.
``keras.applications.vgg16.preprocess_input`` is the caffe mode: the channels flipped by
indexing (``x[..., 2]``, ``x[..., 1]``, ``x[..., 0]``: three ``GetItem`` operations and a
``Stack``) and the ImageNet mean added as a float32 tensor constant (an ``Add`` whose second
argument is a ``__tensor__`` of shape (1, 1, 1, 3)).
Keras 3 adaptations: ``weights="imagenet"`` -> ``weights=None`` (nothing is downloaded; the
table is the same); the base is given ``input_shape`` as the book's first VGG16 (listing
8.19) is, so the nested model's own output shape is the one its call prints (the corpus
rows record ``layer.output``; without it Keras keeps ``(None, None, None, 512)`` there). Reduced: the input is 64 x 64 (published 180 x 180), so the flattened
features are 2 x 2 x 512 rather than 5 x 5 x 512 (524,288 Dense weights, not 3.3 million).
"""

import keras
from keras import layers

IMAGE_SIZE = 64  # published: 180


def build() -> keras.Model:
    conv_base = keras.applications.vgg16.VGG16(
        weights=None, include_top=False, input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3)
    )
    conv_base.trainable = False

    data_augmentation = keras.Sequential(
        [
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(0.1),
            layers.RandomZoom(0.2),
        ]
    )

    inputs = keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 3))
    x = data_augmentation(inputs)
    x = keras.applications.vgg16.preprocess_input(x)
    x = conv_base(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256)(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    return model
