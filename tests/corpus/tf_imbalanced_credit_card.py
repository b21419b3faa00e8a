"""TensorFlow "Classification on imbalanced data" tutorial (credit card fraud): baseline model.

Source: tensorflow/docs site/en/tutorials/structured_data/imbalanced_data.ipynb (commit 023b91c)
        https://www.tensorflow.org/tutorials/structured_data/imbalanced_data
Copied: ``METRICS`` and ``make_model()`` (with its compile call), called as the baseline is:
``make_model()`` (no output bias).
Keras 3 adaptations: ``tf.keras`` -> ``keras``; ``keras.optimizers.Adam(lr=1e-3)`` ->
``learning_rate=1e-3`` (Keras 3 rejects ``lr``); ``input_shape`` on the first Dense is kept as
written. Data-derived value: ``train_features.shape[-1]`` is 29 (V1..V28 and Log Amount).
"""

import keras

num_features = 29  # train_features.shape[-1]

METRICS = [
    keras.metrics.TruePositives(name="tp"),
    keras.metrics.FalsePositives(name="fp"),
    keras.metrics.TrueNegatives(name="tn"),
    keras.metrics.FalseNegatives(name="fn"),
    keras.metrics.BinaryAccuracy(name="accuracy"),
    keras.metrics.Precision(name="precision"),
    keras.metrics.Recall(name="recall"),
    keras.metrics.AUC(name="auc"),
]


def make_model(metrics=METRICS, output_bias=None):
    if output_bias is not None:
        output_bias = keras.initializers.Constant(output_bias)
    model = keras.Sequential(
        [
            keras.layers.Dense(16, activation="relu", input_shape=(num_features,)),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(1, activation="sigmoid", bias_initializer=output_bias),
        ]
    )

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss=keras.losses.BinaryCrossentropy(),
        metrics=metrics,
    )

    return model


def build() -> keras.Model:
    return make_model()
