"""Google ML guide "Text classification": the sepCNN sequence model.

Source: google/eng-edu ml/guides/text_classification/build_model.py (commit 499b61c),
        ``sepcnn_model``, with the hyper-parameters and compile call of
        ml/guides/text_classification/train_sequence_model.py (commit dc7dc09)
        https://developers.google.com/machine-learning/guides/text-classification
Copied: ``sepcnn_model``, ``_get_last_layer_units_and_activation`` and the compile call.
Keras 3 adaptations: ``tensorflow.python.keras`` -> ``keras``; ``Adam(lr=...)`` ->
``Adam(learning_rate=...)``; ``Embedding(input_length=...)`` no longer builds the model, so the
input it declared is written as ``keras.Input(shape=input_shape)``. Data-derived values, set to
the caps the training script applies: sequences of MAX_SEQUENCE_LENGTH = 500 tokens,
num_features = TOP_K = 20000, and the 5 sentiment classes of the Rotten Tomatoes data.
"""

import keras
from keras import models
from keras.layers import (
    Dense,
    Dropout,
    Embedding,
    GlobalAveragePooling1D,
    MaxPooling1D,
    SeparableConv1D,
)

TOP_K = 20000
MAX_SEQUENCE_LENGTH = 500


def sepcnn_model(
    blocks,
    filters,
    kernel_size,
    embedding_dim,
    dropout_rate,
    pool_size,
    input_shape,
    num_classes,
    num_features,
    use_pretrained_embedding=False,
    is_embedding_trainable=False,
    embedding_matrix=None,
):
    op_units, op_activation = _get_last_layer_units_and_activation(num_classes)
    model = models.Sequential()
    model.add(keras.Input(shape=input_shape))  # was Embedding(input_length=input_shape[0])

    # Add embedding layer. If pre-trained embedding is used add weights to the
    # embeddings layer and set trainable to input is_embedding_trainable flag.
    if use_pretrained_embedding:
        model.add(
            Embedding(
                input_dim=num_features,
                output_dim=embedding_dim,
                weights=[embedding_matrix],
                trainable=is_embedding_trainable,
            )
        )
    else:
        model.add(Embedding(input_dim=num_features, output_dim=embedding_dim))

    for _ in range(blocks - 1):
        model.add(Dropout(rate=dropout_rate))
        model.add(
            SeparableConv1D(
                filters=filters,
                kernel_size=kernel_size,
                activation="relu",
                bias_initializer="random_uniform",
                depthwise_initializer="random_uniform",
                padding="same",
            )
        )
        model.add(
            SeparableConv1D(
                filters=filters,
                kernel_size=kernel_size,
                activation="relu",
                bias_initializer="random_uniform",
                depthwise_initializer="random_uniform",
                padding="same",
            )
        )
        model.add(MaxPooling1D(pool_size=pool_size))

    model.add(
        SeparableConv1D(
            filters=filters * 2,
            kernel_size=kernel_size,
            activation="relu",
            bias_initializer="random_uniform",
            depthwise_initializer="random_uniform",
            padding="same",
        )
    )
    model.add(
        SeparableConv1D(
            filters=filters * 2,
            kernel_size=kernel_size,
            activation="relu",
            bias_initializer="random_uniform",
            depthwise_initializer="random_uniform",
            padding="same",
        )
    )
    model.add(GlobalAveragePooling1D())
    model.add(Dropout(rate=dropout_rate))
    model.add(Dense(op_units, activation=op_activation))
    return model


def _get_last_layer_units_and_activation(num_classes):
    if num_classes == 2:
        activation = "sigmoid"
        units = 1
    else:
        activation = "softmax"
        units = num_classes
    return units, activation


def build() -> keras.Model:
    # train_sequence_model's defaults
    learning_rate = 1e-3
    num_classes = 5
    model = sepcnn_model(
        blocks=2,
        filters=64,
        kernel_size=3,
        embedding_dim=200,
        dropout_rate=0.2,
        pool_size=3,
        input_shape=(MAX_SEQUENCE_LENGTH,),
        num_classes=num_classes,
        num_features=TOP_K,
    )
    # Compile model with learning parameters.
    if num_classes == 2:  # noqa: SIM108 (as published)
        loss = "binary_crossentropy"
    else:
        loss = "sparse_categorical_crossentropy"
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    model.compile(optimizer=optimizer, loss=loss, metrics=["acc"])
    return model
