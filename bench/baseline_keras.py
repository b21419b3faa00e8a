"""The baseline: the MNIST CNN as a Keras user writes it by hand, plain model.fit.

No tricks: numpy arrays straight into fit(), default runtime settings. bench/train_speed.py
times this against `specc train` with the same batch size and epochs.

    python bench/baseline_keras.py --data ../shared/data/mnist.npz --epochs 3 --batch-size 64
"""

from __future__ import annotations

import argparse
import json
import time

import keras
import numpy as np
from keras import layers, regularizers


def build_model() -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.Dropout(0.2),
            layers.Flatten(),
            layers.Dropout(0.2),
            layers.Dense(128, activation="relu", kernel_regularizer=regularizers.L2(0.001)),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--validation-split", type=float, default=0.0)
    parser.add_argument("--verbose", type=int, default=2)
    parser.add_argument(
        "--track-test-accuracy",
        action="store_true",
        help="evaluate on the test split after each epoch (not counted in epoch time)",
    )
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    with np.load(args.data) as data:
        x_train, y_train = data["x_train"], data["y_train"]
        x_test, y_test = data["x_test"], data["y_test"]
    x_train = x_train.reshape(-1, 28, 28, 1).astype("float32") / 255
    x_test = x_test.reshape(-1, 28, 28, 1).astype("float32") / 255
    y_train = keras.utils.to_categorical(y_train, 10)
    y_test = keras.utils.to_categorical(y_test, 10)

    model = build_model()
    timer = EpochTimer()
    by_epoch = []

    class TrackTest(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            by_epoch.append(
                self.model.evaluate(x_test, y_test, batch_size=args.batch_size, verbose=0)[1]
            )

    callbacks = [timer, *([TrackTest()] if args.track_test_accuracy else [])]
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
              validation_split=args.validation_split, verbose=args.verbose, callbacks=callbacks)  # fmt: skip
    wall = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    result = {"epoch_seconds": timer.seconds, "wall_seconds": wall, "test_accuracy": accuracy}
    print(json.dumps(result | ({"test_accuracy_by_epoch": by_epoch} if by_epoch else {})))


if __name__ == "__main__":
    main()
