"""Image segmentation: a U-Net with a MobileNetV2 encoder of five outputs (Oxford-IIIT Pets).

Source: tensorflow/docs site/en/tutorials/images/segmentation.ipynb (commit 023b91c)
        https://www.tensorflow.org/tutorials/images/segmentation
        and ``upsample`` from tensorflow/examples
        tensorflow_examples/models/pix2pix/pix2pix.py (commit 269b2f3), which the tutorial
        imports as ``pix2pix.upsample``.
Copied: the encoder (``down_stack``: a functional model on MobileNetV2's input with five of its
layers' outputs, frozen), ``up_stack`` (four ``pix2pix.upsample`` Sequentials), ``unet_model``
and the compile call. The encoder is one nested row with five outputs; each upsample block a
nested Sequential.
Keras 3 adaptations: ``tf.keras`` -> ``keras``; ``tf.random_normal_initializer(0., 0.02)`` ->
``keras.initializers.RandomNormal(0.0, 0.02)``; MobileNetV2's default ``weights='imagenet'`` ->
``weights=None`` (nothing is downloaded; the table is the same).
"""

import keras

OUTPUT_CHANNELS = 3


def upsample(filters, size, apply_dropout=False):
    """Upsamples an input: Conv2DTranspose => Batchnorm => Dropout => Relu (pix2pix.py)."""
    initializer = keras.initializers.RandomNormal(0.0, 0.02)

    result = keras.Sequential()
    result.add(
        keras.layers.Conv2DTranspose(
            filters,
            size,
            strides=2,
            padding="same",
            kernel_initializer=initializer,
            use_bias=False,
        )
    )

    result.add(keras.layers.BatchNormalization())

    if apply_dropout:
        result.add(keras.layers.Dropout(0.5))

    result.add(keras.layers.ReLU())

    return result


def build() -> keras.Model:
    base_model = keras.applications.MobileNetV2(
        input_shape=[128, 128, 3], include_top=False, weights=None
    )

    # Use the activations of these layers
    layer_names = [
        "block_1_expand_relu",  # 64x64
        "block_3_expand_relu",  # 32x32
        "block_6_expand_relu",  # 16x16
        "block_13_expand_relu",  # 8x8
        "block_16_project",  # 4x4
    ]
    layers = [base_model.get_layer(name).output for name in layer_names]

    # Create the feature extraction model
    down_stack = keras.Model(inputs=base_model.input, outputs=layers)

    down_stack.trainable = False

    up_stack = [
        upsample(512, 3),  # 4x4 -> 8x8
        upsample(256, 3),  # 8x8 -> 16x16
        upsample(128, 3),  # 16x16 -> 32x32
        upsample(64, 3),  # 32x32 -> 64x64
    ]

    def unet_model(output_channels):
        inputs = keras.layers.Input(shape=[128, 128, 3])
        x = inputs

        # Downsampling through the model
        skips = down_stack(x)
        x = skips[-1]
        skips = reversed(skips[:-1])

        # Upsampling and establishing the skip connections
        for up, skip in zip(up_stack, skips):  # noqa: B905 (as published)
            x = up(x)
            concat = keras.layers.Concatenate()
            x = concat([x, skip])

        # This is the last layer of the model
        last = keras.layers.Conv2DTranspose(
            output_channels, 3, strides=2, padding="same"
        )  # 64x64 -> 128x128

        x = last(x)

        return keras.Model(inputs=inputs, outputs=x)

    model = unet_model(OUTPUT_CHANNELS)
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model
