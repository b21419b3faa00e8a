"""Keras example: train a simple deep CNN on the CIFAR10 small images dataset.

Source: keras-team/keras examples/cifar10_cnn.py (commit 026858e; Keras 2 example scripts)
Copied: the model definition, the optimizer and the compile call.
Keras 3 adaptations: ``keras.optimizers.rmsprop(lr=0.0001, decay=1e-6)`` ->
``keras.optimizers.RMSprop(learning_rate=InverseTimeDecay(0.0001, decay_steps=1,
decay_rate=1e-6))``: Keras 3 has no ``lr`` and ignores ``decay``; the legacy ``decay`` was
lr / (1 + decay * iterations), which is exactly that schedule. ``input_shape`` on the first
Conv2D is kept as written (``x_train.shape[1:]`` is (32, 32, 3)).
"""

import keras
from keras.layers import Activation, Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from keras.models import Sequential

num_classes = 10
input_shape = (32, 32, 3)  # x_train.shape[1:]


def build() -> keras.Model:
    model = Sequential()
    model.add(Conv2D(32, (3, 3), padding="same", input_shape=input_shape))
    model.add(Activation("relu"))
    model.add(Conv2D(32, (3, 3)))
    model.add(Activation("relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))

    model.add(Conv2D(64, (3, 3), padding="same"))
    model.add(Activation("relu"))
    model.add(Conv2D(64, (3, 3)))
    model.add(Activation("relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))

    model.add(Flatten())
    model.add(Dense(512))
    model.add(Activation("relu"))
    model.add(Dropout(0.5))
    model.add(Dense(num_classes))
    model.add(Activation("softmax"))

    # initiate RMSprop optimizer (legacy `decay` written as its InverseTimeDecay schedule)
    opt = keras.optimizers.RMSprop(
        learning_rate=keras.optimizers.schedules.InverseTimeDecay(
            0.0001, decay_steps=1, decay_rate=1e-6
        )
    )

    # Let's train the model using RMSprop
    model.compile(loss="categorical_crossentropy", optimizer=opt, metrics=["accuracy"])
    return model
