"""OCR of captchas: a layer class that adds its own CTC loss and takes two tensors.

Source: keras-team/keras-io examples/vision/captcha_ocr.py
        (commit 8bda227) https://keras.io/examples/vision/captcha_ocr/
Written after the published model: ``CTCLayer`` (``call(self, y_true, y_pred)`` adds the
batch's CTC loss with ``add_loss`` and passes the predictions on) and ``build_model`` with
its layer names and ``compile(optimizer=Adam())`` (no loss: the layer adds it). The
published CTC helpers (``ctc_batch_cost`` over ``tf.nn.ctc_loss``) are ``keras.ops.ctc_loss``
here. Data-derived: images 200x50, 19 characters. Reduced: LSTMs of 32 and 16 units
(published 128 and 64).
Keras 3 adaptations: the published CTC helper over ``tf.nn.ctc_loss`` is ``keras.ops.ctc_loss``.
"""

import keras
from keras import layers, ops

img_width = 200
img_height = 50
downsample_factor = 4
num_characters = 19


class CTCLayer(layers.Layer):
    def __init__(self, name=None, **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        batch_len = ops.shape(y_true)[0]
        input_length = ops.full((batch_len,), ops.shape(y_pred)[1], dtype="int32")
        label_length = ops.full((batch_len,), ops.shape(y_true)[1], dtype="int32")
        loss = ops.ctc_loss(ops.cast(y_true, "int32"), y_pred, label_length, input_length)
        self.add_loss(ops.mean(loss))
        return y_pred


def build():
    input_img = layers.Input(shape=(img_width, img_height, 1), name="image", dtype="float32")
    labels = layers.Input(name="label", shape=(None,), dtype="float32")
    x = layers.Conv2D(
        32, (3, 3), activation="relu", kernel_initializer="he_normal", padding="same",
        name="Conv1",
    )(input_img)  # fmt: skip
    x = layers.MaxPooling2D((2, 2), name="pool1")(x)
    x = layers.Conv2D(
        64, (3, 3), activation="relu", kernel_initializer="he_normal", padding="same",
        name="Conv2",
    )(x)  # fmt: skip
    x = layers.MaxPooling2D((2, 2), name="pool2")(x)
    new_shape = ((img_width // 4), (img_height // 4) * 64)
    x = layers.Reshape(target_shape=new_shape, name="reshape")(x)
    x = layers.Dense(64, activation="relu", name="dense1")(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Bidirectional(layers.LSTM(32, return_sequences=True, dropout=0.25))(x)
    x = layers.Bidirectional(layers.LSTM(16, return_sequences=True, dropout=0.25))(x)
    x = layers.Dense(num_characters + 1, activation="softmax", name="dense2")(x)
    output = CTCLayer(name="ctc_loss")(labels, x)
    model = keras.Model(inputs=[input_img, labels], outputs=output, name="ocr_model_v1")
    model.compile(optimizer=keras.optimizers.Adam())
    return model
