"""TensorFlow "Overfit and underfit" tutorial (Higgs): the combined L2 + dropout model.

Source: tensorflow/docs site/en/tutorials/keras/overfit_and_underfit.ipynb (commit 0775cca)
        https://www.tensorflow.org/tutorials/keras/overfit_and_underfit
Copied: ``lr_schedule``, ``get_optimizer``, ``combined_model`` and the compile call of
``compile_and_fit`` (a loss object is also used as a metric).
Keras 3 adaptations: ``tf.keras`` -> ``keras``; ``input_shape`` on the first Dense is kept as
written (Keras 3 still accepts it). Data-derived values: FEATURES = 28 (Higgs features),
STEPS_PER_EPOCH = N_TRAIN // BATCH_SIZE = 10000 // 500 = 20.
"""

import keras
from keras import layers, regularizers

FEATURES = 28
N_TRAIN = int(1e4)
BATCH_SIZE = 500
STEPS_PER_EPOCH = N_TRAIN // BATCH_SIZE


def get_optimizer():
    lr_schedule = keras.optimizers.schedules.InverseTimeDecay(
        0.001, decay_steps=STEPS_PER_EPOCH * 1000, decay_rate=1, staircase=False
    )
    return keras.optimizers.Adam(lr_schedule)


def build() -> keras.Model:
    combined_model = keras.Sequential(
        [
            layers.Dense(
                512,
                kernel_regularizer=regularizers.l2(0.0001),
                activation="elu",
                input_shape=(FEATURES,),
            ),
            layers.Dropout(0.5),
            layers.Dense(512, kernel_regularizer=regularizers.l2(0.0001), activation="elu"),
            layers.Dropout(0.5),
            layers.Dense(512, kernel_regularizer=regularizers.l2(0.0001), activation="elu"),
            layers.Dropout(0.5),
            layers.Dense(512, kernel_regularizer=regularizers.l2(0.0001), activation="elu"),
            layers.Dropout(0.5),
            layers.Dense(1),
        ]
    )
    combined_model.compile(
        optimizer=get_optimizer(),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[
            keras.losses.BinaryCrossentropy(from_logits=True, name="binary_crossentropy"),
            "accuracy",
        ],
    )
    return combined_model
