"""PointNet point-cloud classification: the user's own regularizer class on a Dense layer.

Source: keras-team/keras-io examples/vision/pointnet.py
        (commit 8bda227) https://keras.io/examples/vision/pointnet/
Written after the published model: ``conv_bn``, ``dense_bn``, the ``OrthogonalRegularizer``
(a ``keras.regularizers.Regularizer`` subclass: an activity regularizer of the T-net's last
Dense) and ``tnet`` with its ``Dot`` of the input and the learned transform; the model and
compile call as published. Reduced: 64 points (published 2048), filters 16/32/64 (32/64/512),
dense 64/32 (256/128). Fixed: the published ``get_config`` names ``l2reg`` as
``l2reg_strength`` (the saved config could not make the regularizer again) and starts from
``Regularizer.get_config()``, which Keras 3.15 raises NotImplementedError for (it could not
be saved).
Keras 3 adaptations: none (the example is written for Keras 3: ``keras.ops``).
"""

import keras
import numpy as np
from keras import layers

NUM_POINTS = 64
NUM_CLASSES = 10


def conv_bn(x, filters):
    x = layers.Conv1D(filters, kernel_size=1, padding="valid")(x)
    x = layers.BatchNormalization(momentum=0.0)(x)
    return layers.Activation("relu")(x)


def dense_bn(x, filters):
    x = layers.Dense(filters)(x)
    x = layers.BatchNormalization(momentum=0.0)(x)
    return layers.Activation("relu")(x)


class OrthogonalRegularizer(keras.regularizers.Regularizer):
    def __init__(self, num_features, l2reg=0.001):
        self.num_features = num_features
        self.l2reg = l2reg
        self.eye = keras.ops.eye(num_features)

    def __call__(self, x):
        x = keras.ops.reshape(x, (-1, self.num_features, self.num_features))
        xxt = keras.ops.tensordot(x, x, axes=(2, 2))
        xxt = keras.ops.reshape(xxt, (-1, self.num_features, self.num_features))
        return keras.ops.sum(self.l2reg * keras.ops.square(xxt - self.eye))

    def get_config(self):
        return {"num_features": self.num_features, "l2reg": self.l2reg}


def tnet(inputs, num_features):
    bias = keras.initializers.Constant(np.eye(num_features).flatten())
    reg = OrthogonalRegularizer(num_features)
    x = conv_bn(inputs, 16)
    x = conv_bn(x, 32)
    x = conv_bn(x, 64)
    x = layers.GlobalMaxPooling1D()(x)
    x = dense_bn(x, 64)
    x = dense_bn(x, 32)
    x = layers.Dense(
        num_features * num_features,
        kernel_initializer="zeros",
        bias_initializer=bias,
        activity_regularizer=reg,
    )(x)
    feat_T = layers.Reshape((num_features, num_features))(x)
    return layers.Dot(axes=(2, 1))([inputs, feat_T])


def build():
    inputs = keras.Input(shape=(NUM_POINTS, 3))
    x = tnet(inputs, 3)
    x = conv_bn(x, 16)
    x = conv_bn(x, 16)
    x = tnet(x, 16)
    x = conv_bn(x, 16)
    x = conv_bn(x, 32)
    x = conv_bn(x, 64)
    x = layers.GlobalMaxPooling1D()(x)
    x = dense_bn(x, 64)
    x = layers.Dropout(0.3)(x)
    x = dense_bn(x, 32)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax")(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="pointnet")
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=0.001),
        metrics=["sparse_categorical_accuracy"],
    )
    return model
