"""Supervised contrastive learning: the classifier on the frozen CIFAR-10 encoder.

Source: keras-team/keras-io examples/vision/supervised-contrastive-learning.py (commit 048d90a)
        https://keras.io/examples/vision/supervised-contrastive-learning/
Copied: ``data_augmentation``, ``create_encoder``, ``create_classifier`` and the last use,
``create_classifier(encoder, trainable=False)`` (experiment 2, step 3), which compiles. Models
in models: the classifier holds the encoder (``cifar10-encoder``), which holds the augmentation
Sequential and ResNet50V2 (``weights=None`` as published, ``pooling="avg"``).
Keras 3 adaptations: ``from tensorflow import keras`` -> ``import keras``;
``layers.experimental.preprocessing.X`` -> ``layers.X``; ``RandomWidth(0.2)`` and
``RandomHeight(0.2)`` dropped (Keras 3 has no such layers). Not copied: ``adapt(x_train)`` on the
Normalization layer (it sets values, not the table) and the projection-head pretraining, whose
loss is a Python class.
"""

import keras
from keras import layers

num_classes = 10
input_shape = (32, 32, 3)

learning_rate = 0.001
hidden_units = 512
dropout_rate = 0.5


def build() -> keras.Model:
    data_augmentation = keras.Sequential(
        [
            layers.Normalization(),
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(0.02),
        ]
    )

    def create_encoder():
        resnet = keras.applications.ResNet50V2(
            include_top=False, weights=None, input_shape=input_shape, pooling="avg"
        )

        inputs = keras.Input(shape=input_shape)
        augmented = data_augmentation(inputs)
        outputs = resnet(augmented)
        model = keras.Model(inputs=inputs, outputs=outputs, name="cifar10-encoder")
        return model

    def create_classifier(encoder, trainable=True):
        for layer in encoder.layers:
            layer.trainable = trainable

        inputs = keras.Input(shape=input_shape)
        features = encoder(inputs)
        features = layers.Dropout(dropout_rate)(features)
        features = layers.Dense(hidden_units, activation="relu")(features)
        features = layers.Dropout(dropout_rate)(features)
        outputs = layers.Dense(num_classes, activation="softmax")(features)

        model = keras.Model(inputs=inputs, outputs=outputs, name="cifar10-classifier")
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss=keras.losses.SparseCategoricalCrossentropy(),
            metrics=[keras.metrics.SparseCategoricalAccuracy()],
        )
        return model

    encoder = create_encoder()
    return create_classifier(encoder, trainable=False)
