"""Timeseries classification with a Transformer model (FordA).

Source: keras-team/keras-io examples/timeseries/timeseries_classification_transformer.py
        (commit 2024821)
        https://keras.io/examples/timeseries/timeseries_classification_transformer/
Copied: ``transformer_encoder``, ``build_model`` with the published hyperparameters, and the
compile call. The residuals are written ``x + inputs`` / ``x + res``: Keras 3 records each as an
operation node (``keras.src.ops.numpy.Add``), a row ``add (Add)`` of the summary.
Keras 3 adaptations: ``from tensorflow import keras`` -> ``import keras``. Data-derived values:
``x_train.shape[1:]`` is (500, 1) (FordA series have 500 points) and ``n_classes`` is 2.
"""

import keras
from keras import layers

n_classes = 2
input_shape = (500, 1)


def transformer_encoder(inputs, head_size, num_heads, ff_dim, dropout=0):
    # Attention and Normalization
    x = layers.MultiHeadAttention(key_dim=head_size, num_heads=num_heads, dropout=dropout)(
        inputs, inputs
    )
    x = layers.Dropout(dropout)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    res = x + inputs

    # Feed Forward Part
    x = layers.Conv1D(filters=ff_dim, kernel_size=1, activation="relu")(res)
    x = layers.Dropout(dropout)(x)
    x = layers.Conv1D(filters=inputs.shape[-1], kernel_size=1)(x)
    x = layers.LayerNormalization(epsilon=1e-6)(x)
    return x + res


def build_model(
    input_shape,
    head_size,
    num_heads,
    ff_dim,
    num_transformer_blocks,
    mlp_units,
    dropout=0,
    mlp_dropout=0,
):
    inputs = keras.Input(shape=input_shape)
    x = inputs
    for _ in range(num_transformer_blocks):
        x = transformer_encoder(x, head_size, num_heads, ff_dim, dropout)

    x = layers.GlobalAveragePooling1D(data_format="channels_last")(x)
    for dim in mlp_units:
        x = layers.Dense(dim, activation="relu")(x)
        x = layers.Dropout(mlp_dropout)(x)
    outputs = layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def build() -> keras.Model:
    model = build_model(
        input_shape,
        head_size=256,
        num_heads=4,
        ff_dim=4,
        num_transformer_blocks=4,
        mlp_units=[128],
        mlp_dropout=0.4,
        dropout=0.25,
    )
    model.compile(
        loss="sparse_categorical_crossentropy",
        optimizer=keras.optimizers.Adam(learning_rate=1e-4),
        metrics=["sparse_categorical_accuracy"],
    )
    return model
