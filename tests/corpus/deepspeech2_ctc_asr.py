"""Automatic speech recognition using CTC (LJSpeech): a DeepSpeech2-like model.

Source: keras-team/keras-io examples/audio/ctc_asr.py (commit ad4fc80)
        https://keras.io/examples/audio/ctc_asr/
Copied: ``CTCLoss``, ``build_model`` and the call that builds it (``rnn_units=512``).
Keras 3 adaptations: ``from tensorflow import keras`` -> ``import keras``. ``CTCLoss`` called
``keras.backend.ctc_batch_cost``, which Keras 3 no longer has; its body is written with
``keras.ops.ctc_loss`` (same inputs: labels, softmax outputs, full lengths). The corpus never
trains, so only its name and presence matter here. Data-derived values: ``input_dim`` is
fft_length // 2 + 1 = 384 // 2 + 1 = 193; ``output_dim`` is
``char_to_num.vocabulary_size()`` = 31 (30 characters plus the OOV token "").
"""

import keras
from keras import layers

fft_length = 384
vocabulary_size = 31  # char_to_num.vocabulary_size()


def CTCLoss(y_true, y_pred):
    # Compute the training-time loss value
    batch_len = keras.ops.shape(y_true)[0]
    input_length = keras.ops.shape(y_pred)[1]
    label_length = keras.ops.shape(y_true)[1]

    input_length = input_length * keras.ops.ones((batch_len,), dtype="int32")
    label_length = label_length * keras.ops.ones((batch_len,), dtype="int32")

    return keras.ops.ctc_loss(y_true, y_pred, label_length, input_length)


def build_model(input_dim, output_dim, rnn_layers=5, rnn_units=128):
    """Model similar to DeepSpeech2."""
    # Model's input
    input_spectrogram = layers.Input((None, input_dim), name="input")
    # Expand the dimension to use 2D CNN.
    x = layers.Reshape((-1, input_dim, 1), name="expand_dim")(input_spectrogram)
    # Convolution layer 1
    x = layers.Conv2D(
        filters=32,
        kernel_size=[11, 41],
        strides=[2, 2],
        padding="same",
        use_bias=False,
        name="conv_1",
    )(x)
    x = layers.BatchNormalization(name="conv_1_bn")(x)
    x = layers.ReLU(name="conv_1_relu")(x)
    # Convolution layer 2
    x = layers.Conv2D(
        filters=32,
        kernel_size=[11, 21],
        strides=[1, 2],
        padding="same",
        use_bias=False,
        name="conv_2",
    )(x)
    x = layers.BatchNormalization(name="conv_2_bn")(x)
    x = layers.ReLU(name="conv_2_relu")(x)
    # Reshape the resulted volume to feed the RNNs layers
    x = layers.Reshape((-1, x.shape[-2] * x.shape[-1]))(x)
    # RNN layers
    for i in range(1, rnn_layers + 1):
        recurrent = layers.GRU(
            units=rnn_units,
            activation="tanh",
            recurrent_activation="sigmoid",
            use_bias=True,
            return_sequences=True,
            reset_after=True,
            name=f"gru_{i}",
        )
        x = layers.Bidirectional(recurrent, name=f"bidirectional_{i}", merge_mode="concat")(x)
        if i < rnn_layers:
            x = layers.Dropout(rate=0.5)(x)
    # Dense layer
    x = layers.Dense(units=rnn_units * 2, name="dense_1")(x)
    x = layers.ReLU(name="dense_1_relu")(x)
    x = layers.Dropout(rate=0.5)(x)
    # Classification layer
    output = layers.Dense(units=output_dim + 1, activation="softmax")(x)
    # Model
    model = keras.Model(input_spectrogram, output, name="DeepSpeech_2")
    # Optimizer
    opt = keras.optimizers.Adam(learning_rate=1e-4)
    # Compile the model and return
    model.compile(optimizer=opt, loss=CTCLoss)
    return model


def build() -> keras.Model:
    return build_model(
        input_dim=fft_length // 2 + 1,
        output_dim=vocabulary_size,
        rnn_units=512,
    )
