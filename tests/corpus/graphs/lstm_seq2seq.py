"""Character-level recurrent sequence-to-sequence model (English to French), training model.

Source: keras-team/keras-io examples/nlp/lstm_seq2seq.py (commit 1909c67)
        https://keras.io/examples/nlp/lstm_seq2seq/
Copied: the training model (two inputs; the encoder LSTM's states start the decoder LSTM) and
its compile call.
Keras 3 adaptations: none. Data-derived values (fra-eng, num_samples = 10000):
num_encoder_tokens = 71, num_decoder_tokens = 93.
"""

import keras

latent_dim = 256  # Latent dimensionality of the encoding space.
num_encoder_tokens = 71
num_decoder_tokens = 93


def build() -> keras.Model:
    # Define an input sequence and process it.
    encoder_inputs = keras.Input(shape=(None, num_encoder_tokens))
    encoder = keras.layers.LSTM(latent_dim, return_state=True)
    encoder_outputs, state_h, state_c = encoder(encoder_inputs)  # noqa: RUF059 (as published)

    # We discard `encoder_outputs` and only keep the states.
    encoder_states = [state_h, state_c]

    # Set up the decoder, using `encoder_states` as initial state.
    decoder_inputs = keras.Input(shape=(None, num_decoder_tokens))

    # We set up our decoder to return full output sequences,
    # and to return internal states as well. We don't use the
    # return states in the training model, but we will use them in inference.
    decoder_lstm = keras.layers.LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
    decoder_dense = keras.layers.Dense(num_decoder_tokens, activation="softmax")
    decoder_outputs = decoder_dense(decoder_outputs)

    # Define the model that will turn
    # `encoder_input_data` & `decoder_input_data` into `decoder_target_data`
    model = keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)

    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model
