"""Keras guide "Working with RNNs": Embedding -> GRU (sequences) -> SimpleRNN -> Dense.

Source: keras-team/keras-io guides/working_with_rnns.py (commit 4849412)
        https://keras.io/guides/working_with_rnns/
Copied: the "Outputs and states" model. The guide neither compiles it nor gives it an input
(its summary is of an unbuilt model), so ``build`` returns it uncompiled.
Keras 3 adaptations: the guide's Embedding expects token ids of any length; that input is
written here as ``keras.Input(shape=(None,), dtype="int32")`` so the model is built.
"""

import keras
from keras import layers


def build() -> keras.Model:
    model = keras.Sequential()
    model.add(keras.Input(shape=(None,), dtype="int32"))  # see docstring
    model.add(layers.Embedding(input_dim=1000, output_dim=64))

    # The output of GRU will be a 3D tensor of shape (batch_size, timesteps, 256)
    model.add(layers.GRU(256, return_sequences=True))

    # The output of SimpleRNN will be a 2D tensor of shape (batch_size, 128)
    model.add(layers.SimpleRNN(128))

    model.add(layers.Dense(10))
    return model
