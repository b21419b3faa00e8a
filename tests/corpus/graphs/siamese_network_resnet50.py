"""Image similarity with a Siamese network and a triplet loss: the embedding network applied
to the three ``resnet.preprocess_input``-ed inputs (Totally Looks Like dataset).

Source: keras-team/keras-io examples/vision/siamese_network.py
        https://keras.io/examples/vision/siamese_network/
Copied: the embedding generator (ResNet50 base, layers frozen up to ``conv5_block1_out``, the
Flatten/Dense/BatchNormalization head, ``Model(base_cnn.input, output, name="Embedding")``)
and the Siamese network's inputs and calls: ``embedding(resnet.preprocess_input(...))`` for
anchor, positive and negative. ``resnet.preprocess_input`` is the caffe mode (three
``GetItem`` operations, a ``Stack``, an ``Add`` of the ImageNet mean as a float32 tensor) per
input; the embedding is one sub-model called three times (shared weights).
Adaptations: the published ``DistanceLayer`` (a custom layer, Python code no spec holds) is left
out, so the three embeddings are the outputs; the model is not compiled (the published
``SiameseModel`` trains it with a custom ``train_step``). ``weights="imagenet"`` ->
``weights=None``. Reduced: ``target_shape`` is (32, 32) (published (200, 200)), so the
flattened features are 1 x 1 x 2048 (1 million Dense weights, not 51 million).
"""

import keras
from keras import Model, layers
from keras.applications import resnet

target_shape = (32, 32)  # published: (200, 200)


def build() -> keras.Model:
    base_cnn = resnet.ResNet50(
        weights=None,
        input_shape=target_shape + (3,),  # noqa: RUF005 (as published)
        include_top=False,
    )

    flatten = layers.Flatten()(base_cnn.output)
    dense1 = layers.Dense(512, activation="relu")(flatten)
    dense1 = layers.BatchNormalization()(dense1)
    dense2 = layers.Dense(256, activation="relu")(dense1)
    dense2 = layers.BatchNormalization()(dense2)
    output = layers.Dense(256)(dense2)

    embedding = Model(base_cnn.input, output, name="Embedding")

    trainable = False
    for layer in base_cnn.layers:
        if layer.name == "conv5_block1_out":
            trainable = True
        layer.trainable = trainable

    anchor_input = layers.Input(name="anchor", shape=target_shape + (3,))  # noqa: RUF005 (as published)
    positive_input = layers.Input(name="positive", shape=target_shape + (3,))  # noqa: RUF005 (as published)
    negative_input = layers.Input(name="negative", shape=target_shape + (3,))  # noqa: RUF005 (as published)

    embeddings = [
        embedding(resnet.preprocess_input(anchor_input)),
        embedding(resnet.preprocess_input(positive_input)),
        embedding(resnet.preprocess_input(negative_input)),
    ]
    return Model(inputs=[anchor_input, positive_input, negative_input], outputs=embeddings)
