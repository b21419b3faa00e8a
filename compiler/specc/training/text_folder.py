"""A text folder, one subfolder of ``.txt`` files per class, streamed through tf.data.

Layout as an image folder's (:mod:`specc.training.image_folder`): ``path/<class>/<file>.txt``
(``training.validation_split`` of it, drawn with ``training.seed``, validates, and the
validation part is also the test split), or ``path/train/<class>/...`` with optional
``validation/`` and ``test/`` beside it. The pipeline is Keras' own
``keras.utils.text_dataset_from_directory`` (one string a file, as ``aclImdb`` is read in
keras-io's text classification), each batch of texts shaped ``(batch, 1)`` for the
model's ``shape: [1], dtype: string`` input, then ``prefetch(AUTOTUNE)``. A
``TextVectorization`` given no vocabulary is adapted on the training split before
training (as every adapted layer is).

Checked before Keras loads, one line each, exit 1: a folder without class subfolders or
with one class, class subfolders without ``.txt`` files, class names that differ between
splits, a class count other than the model's output units, an empty split, and a model
input other than ``shape: [1], dtype: string``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specc.language.schema import Data
from specc.training.data import DataError
from specc.training.image_folder import (
    Folder,
    Streams,
    _check_units,
    _matching,
    _split_counts,
    layout,
    load_splits,
    scan_classes,
)

FORMATS = (".txt",)
"""What text_dataset_from_directory reads."""


def scan(path: Path) -> Folder:
    """Class subfolders and their text files."""
    return scan_classes(path, FORMATS, "text files", "pos/, neg/")


@dataclass
class Checked:
    """A text folder that passed every check, and how to stream it."""

    data: Data
    folders: dict[str, Folder]
    split: float

    @property
    def train_samples(self) -> int:
        return _split_counts(self.folders["train"].count, self.split)[0]

    @property
    def test_samples(self) -> int:
        for name in ("test", "validation"):
            if name in self.folders:
                return self.folders[name].count
        return _split_counts(self.folders["train"].count, self.split)[1]


def check(
    data: Data, path: Path, input_shape: tuple[int | None, ...], units: int | None,
    validation_split: float, dtype: str = "string",
) -> Checked:  # fmt: skip
    """Every check, before Keras is loaded: one DataError for the first problem."""
    if tuple(input_shape) != (1,) or dtype != "string":
        raise DataError(
            f"{path}: a text folder gives one string per sample: make the model input "
            f"{{shape: [1], dtype: string}} (it is shape {list(input_shape)}, dtype {dtype}) "
            "and put a TextVectorization after it"
        )
    folders = {split: scan(folder) for split, folder in layout(path).items()}
    _matching(folders)
    train = folders["train"]
    _check_units(train, units)
    split = 0.0 if "validation" in folders else validation_split
    if not split and not ({"validation", "test"} & folders.keys()):
        raise DataError(
            f"{path}: nothing to test on: add test/ (or validation/) beside train/, or set "
            "training.validation_split"
        )
    n_train, n_val = _split_counts(train.count, split)
    if n_train == 0 or (split and n_val == 0):
        raise DataError(
            f"{train.path}: {train.count} file(s): validation_split {split} leaves {n_train} "
            f"for training and {n_val} for validation; each needs at least one file"
        )
    return Checked(data, folders, split)


def predict_feed(x: Any, batch: int) -> dict[str, Any]:
    """``model.predict``'s arguments for test arrays: Keras' predict takes no NumPy strings
    (texts, categories), so those go in as a batched tf.data dataset."""
    arrays = list(x.values()) if isinstance(x, dict) else [x]
    if not any(getattr(a, "dtype", None) is not None and a.dtype.kind in "OSU" for a in arrays):
        return {"x": x, "batch_size": batch}
    import tensorflow as tf

    return {"x": tf.data.Dataset.from_tensor_slices(x).batch(batch)}


def open_streams(checked: Checked, batch_size: int, seed: int) -> Streams:
    """The datasets, through keras.utils.text_dataset_from_directory."""
    import tensorflow as tf

    from specc.backends.kerasenv import keras

    data, folders, split = checked.data, checked.folders, checked.split
    one_hot = bool(data.preprocessing.y_steps())
    common = {"label_mode": "categorical" if one_hot else "int", "batch_size": batch_size,
              "seed": seed, "verbose": False}  # fmt: skip
    load_dir = keras().utils.text_dataset_from_directory
    train, validation, test, notes = load_splits(load_dir, folders, split, common)

    def prepare(ds: Any) -> Any:
        if ds is None:
            return None
        ds = ds.map(lambda x, y: (tf.expand_dims(x, -1), y), num_parallel_calls=tf.data.AUTOTUNE)
        return ds.prefetch(tf.data.AUTOTUNE)

    return Streams(prepare(train), prepare(validation), prepare(test), list(train.class_names),
                   checked.train_samples, checked.test_samples, str(folders["train"].path),
                   notes)  # fmt: skip
