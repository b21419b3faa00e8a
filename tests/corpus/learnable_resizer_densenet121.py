"""Learning to resize in computer vision: a learnable resizer in front of DenseNet-121.

Source: keras-team/keras-io examples/vision/learnable_resizer.py (commit 05bb46b)
        https://keras.io/examples/vision/learnable_resizer/
Copied: ``conv_block``, ``res_block``, ``get_learnable_resizer``, ``get_model`` and the compile
call. Two nested models: the resizer (a functional model with residual Adds and Resizing) and
keras.applications DenseNet121 (``weights=None`` as published, trainable).
Keras 3 adaptations: ``from tensorflow import keras`` / ``tf.keras`` -> ``keras``. Kept from the
script's order of execution: ``conv_block``'s default LeakyReLU is one layer made when the
function is defined (before the resizer), which ``build`` re-creates at that point so that each
build in a fresh session names the layers as the script does; ``get_model`` takes the resizer
the script keeps in a global.
"""

import keras
from keras import layers

INP_SIZE = (300, 300)
TARGET_SIZE = (150, 150)
INTERPOLATION = "bilinear"


def conv_block(x, filters, kernel_size, strides, activation=layers.LeakyReLU(0.2)):  # noqa: B008 (as published)
    x = layers.Conv2D(filters, kernel_size, strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    if activation:
        x = activation(x)
    return x


def res_block(x):
    inputs = x
    x = conv_block(x, 16, 3, 1)
    x = conv_block(x, 16, 3, 1, activation=None)
    return layers.Add()([inputs, x])


# Note: User can change num_res_blocks to >1 also if needed
def get_learnable_resizer(filters=16, num_res_blocks=1, interpolation=INTERPOLATION):
    inputs = layers.Input(shape=[None, None, 3])

    # First, perform naive resizing.
    naive_resize = layers.Resizing(*TARGET_SIZE, interpolation=interpolation)(inputs)

    # First convolution block without batch normalization.
    x = layers.Conv2D(filters=filters, kernel_size=7, strides=1, padding="same")(inputs)
    x = layers.LeakyReLU(0.2)(x)

    # Second convolution block with batch normalization.
    x = layers.Conv2D(filters=filters, kernel_size=1, strides=1, padding="same")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.BatchNormalization()(x)

    # Intermediate resizing as a bottleneck.
    bottleneck = layers.Resizing(*TARGET_SIZE, interpolation=interpolation)(x)

    # Residual passes.
    # First res_block will get bottleneck output as input
    x = res_block(bottleneck)
    # Remaining res_blocks will get previous res_block output as input
    for _ in range(num_res_blocks - 1):
        x = res_block(x)

    # Projection.
    x = layers.Conv2D(filters=filters, kernel_size=3, strides=1, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)

    # Skip connection.
    x = layers.Add()([bottleneck, x])

    # Final resized image.
    x = layers.Conv2D(filters=3, kernel_size=7, strides=1, padding="same")(x)
    final_resize = layers.Add()([naive_resize, x])

    return keras.Model(inputs, final_resize, name="learnable_resizer")


def get_model(learnable_resizer):
    backbone = keras.applications.DenseNet121(
        weights=None,
        include_top=True,
        classes=2,
        input_shape=((TARGET_SIZE[0], TARGET_SIZE[1], 3)),
    )
    backbone.trainable = True

    inputs = layers.Input((INP_SIZE[0], INP_SIZE[1], 3))
    x = layers.Rescaling(scale=1.0 / 255)(inputs)
    x = learnable_resizer(x)
    outputs = backbone(x)

    return keras.Model(inputs, outputs)


def build() -> keras.Model:
    conv_block.__defaults__ = (layers.LeakyReLU(0.2),)  # as at the script's `def conv_block`
    learnable_resizer = get_learnable_resizer()
    model = get_model(learnable_resizer)
    model.compile(
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
        optimizer="sgd",
        metrics=["accuracy"],
    )
    return model
