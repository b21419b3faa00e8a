"""Image similarity with a Siamese network and a contrastive loss (MNIST pairs).

Source: keras-team/keras-io examples/vision/siamese_contrastive.py (commit 12bad05)
        https://keras.io/examples/vision/siamese_contrastive/
Copied: ``euclidean_distance``, the embedding network (one functional model), the Siamese model
that calls it on both inputs (a sub-model used twice: one row, shared weights), ``loss`` and
the compile call. The distance is a ``Lambda`` and the loss a Python closure: Python code a
spec does not hold.
Keras 3 adaptations: ``tf.math``/``tf.keras.backend`` on tensors -> ``keras.ops`` and
``keras.config.epsilon()`` (a TensorFlow function cannot take a Keras 3 symbolic tensor);
the Lambda gets ``output_shape=(1,)`` (Keras 3 cannot infer it from a function of a list),
as the current keras.io version writes it.
"""

import keras
from keras import layers, ops

margin = 1  # Margin for constrastive loss.


# Provided two tensors t1 and t2
# Euclidean distance = sqrt(sum(square(t1-t2)))
def euclidean_distance(vects):
    x, y = vects
    sum_square = ops.sum(ops.square(x - y), axis=1, keepdims=True)
    return ops.sqrt(ops.maximum(sum_square, keras.config.epsilon()))


def loss(margin=1):
    # Contrastive loss = mean( (1-true_value) * square(prediction) +
    #                         true_value * square( max(margin-prediction, 0) ))
    def contrastive_loss(y_true, y_pred):
        square_pred = ops.square(y_pred)
        margin_square = ops.square(ops.maximum(margin - (y_pred), 0))
        return ops.mean((1 - y_true) * square_pred + (y_true) * margin_square)

    return contrastive_loss


def build() -> keras.Model:
    input = layers.Input((28, 28, 1))
    x = layers.BatchNormalization()(input)
    x = layers.Conv2D(4, (5, 5), activation="tanh")(x)
    x = layers.AveragePooling2D(pool_size=(2, 2))(x)
    x = layers.Conv2D(16, (5, 5), activation="tanh")(x)
    x = layers.AveragePooling2D(pool_size=(2, 2))(x)
    x = layers.Flatten()(x)

    x = layers.BatchNormalization()(x)
    x = layers.Dense(10, activation="tanh")(x)
    embedding_network = keras.Model(input, x)

    input_1 = layers.Input((28, 28, 1))
    input_2 = layers.Input((28, 28, 1))

    # As mentioned above, Siamese Network share weights between
    # tower networks (sister networks). To allow this, we will use
    # same embedding network for both tower networks.
    tower_1 = embedding_network(input_1)
    tower_2 = embedding_network(input_2)

    merge_layer = layers.Lambda(euclidean_distance, output_shape=(1,))([tower_1, tower_2])
    normal_layer = layers.BatchNormalization()(merge_layer)
    output_layer = layers.Dense(1, activation="sigmoid")(normal_layer)
    siamese = keras.Model(inputs=[input_1, input_2], outputs=output_layer)

    siamese.compile(loss=loss(margin=margin), optimizer="RMSprop", metrics=["accuracy"])
    return siamese
