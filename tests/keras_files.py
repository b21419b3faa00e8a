"""Small synthetic files in the formats ``keras.datasets`` keeps in its cache, under the
names it gives them: the data tests read them offline (nothing is ever downloaded).

Images carry their class (class k brightens a k-th patch) so a model can learn them;
word-id lists have different lengths, so padding matters.
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np

from tests.helpers import synthetic_mnist, write_npz

DATASETS = (
    "mnist", "fashion_mnist", "cifar10", "cifar100", "imdb", "reuters", "boston_housing",
    "california_housing",
)  # fmt: skip


def _idx(path: Path, values: np.ndarray) -> None:
    magic = 2049 if values.ndim == 1 else 2051
    head = struct.pack(f">I{values.ndim}I", magic, *values.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(head + values.astype(np.uint8).tobytes())


def write_fashion(folder: Path, n_train: int = 64, n_test: int = 16) -> Path:
    """fashion-mnist/{train,t10k}-{labels-idx1,images-idx3}-ubyte.gz, as Keras caches them."""
    target = folder / "fashion-mnist"
    target.mkdir(parents=True, exist_ok=True)
    arrays = synthetic_mnist(n_train, n_test, seed=3)
    for split, keras_split in (("train", "train"), ("test", "t10k")):
        _idx(target / f"{keras_split}-labels-idx1-ubyte.gz", arrays[f"y_{split}"])
        _idx(target / f"{keras_split}-images-idx3-ubyte.gz", arrays[f"x_{split}"])
    return target


def cifar_batch(n: int, classes: int, seed: int, key: str = "labels") -> dict[bytes, object]:
    """A CIFAR batch as pickled by its authors: (n, 3072) uint8 rows (channels first)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    images = rng.integers(0, 60, (n, 3, 32, 32), dtype=np.uint8)
    for i, k in enumerate(labels):
        row, col = divmod(int(k) % 16, 4)
        images[i, int(k) % 3, 8 * row : 8 * row + 8, 8 * col : 8 * col + 8] = 255
    batch: dict[bytes, object] = {b"data": images.reshape(n, -1), key.encode(): labels.tolist()}
    if key == "fine_labels":
        batch[b"coarse_labels"] = (labels // 5).tolist()
    return batch


def write_cifar(
    folder: Path, dataset: str = "cifar10", n: int = 20, extracted: bool = False
) -> Path:
    """Keras' download (``<target>_archive``, a .tar.gz) or what it extracts (``<target>/``)."""
    target, inner = {
        "cifar10": ("cifar-10-batches-py-target", "cifar-10-batches-py"),
        "cifar100": ("cifar-100-python-target", "cifar-100-python"),
    }[dataset]
    if dataset == "cifar10":
        members = {f"data_batch_{i}": cifar_batch(n, 10, i) for i in range(1, 6)}
        members["test_batch"] = cifar_batch(n, 10, 9)
    else:
        members = {"train": cifar_batch(5 * n, 100, 1, "fine_labels"),
                   "test": cifar_batch(n, 100, 2, "fine_labels")}  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    if extracted:
        (folder / target / inner).mkdir(parents=True)
        for name, batch in members.items():
            (folder / target / inner / name).write_bytes(pickle.dumps(batch))
        return folder / target
    path = folder / f"{target}_archive"
    with tarfile.open(path, "w:gz") as archive:
        for name, batch in members.items():
            raw = pickle.dumps(batch)
            info = tarfile.TarInfo(f"{inner}/{name}")
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    return path


def ragged(lists: list[list[int]]) -> np.ndarray:
    out = np.empty(len(lists), dtype=object)
    out[:] = lists
    return out


def word_lists(n: int, seed: int, vocabulary: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Reviews of 3-30 word ids (before Keras' offset of 3); label 1 uses high ids."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    lists = [
        (rng.integers(1, vocabulary // 2, rng.integers(3, 30)) + label * vocabulary // 2).tolist()
        for label in labels
    ]
    return ragged(lists), labels


def write_keras_file(folder: Path, dataset: str) -> Path:
    """The file(s) Keras keeps for ``dataset``, small and synthetic; returns the first."""
    folder.mkdir(parents=True, exist_ok=True)
    if dataset == "mnist":
        return write_npz(folder / "mnist.npz")
    if dataset == "fashion_mnist":
        return write_fashion(folder)
    if dataset in ("cifar10", "cifar100"):
        return write_cifar(folder, dataset)
    if dataset == "imdb":
        (x_train, y_train), (x_test, y_test) = word_lists(40, 1), word_lists(20, 2)
        np.savez(folder / "imdb.npz", x_train=x_train, y_train=y_train, x_test=x_test,
                 y_test=y_test)  # fmt: skip
        return folder / "imdb.npz"
    rng = np.random.default_rng(5)
    if dataset == "reuters":
        x, _ = word_lists(50, 3)
        np.savez(folder / "reuters.npz", x=x, y=rng.integers(0, 46, 50))
        return folder / "reuters.npz"
    features = {"boston_housing": 13, "california_housing": 8}[dataset]
    x = rng.normal(size=(60, features)) * 10 + 50
    y = x @ rng.normal(size=features) + rng.normal(size=60)
    np.savez(folder / f"{dataset}.npz", x=x, y=y)
    return folder / f"{dataset}.npz"
