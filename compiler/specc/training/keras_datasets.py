"""The datasets of ``keras.datasets``, read offline from Keras' own files.

``keras.datasets.<name>.load_data()`` downloads a file once into Keras' cache
(``$KERAS_HOME/datasets``, else ``~/.keras/datasets``, else ``/tmp/.keras/datasets``) and
reads it from there afterwards. specc reads those same files, under the same names, from
``$SPECC_DATA_DIR`` and then from Keras' cache, without importing Keras (and without
its download, which re-fetches any file whose hash differs), and applies exactly what
``load_data`` applies: the same shuffles (seed 113), train/test splits, word-id offsets and
``num_words`` cut. Only where no folder holds the files does it call ``keras.datasets``
(online); when that fails too, one line names the files and where to put them.

Pickled files (CIFAR's batches, the word-id lists of IMDB and Reuters) are read with an
unpickler that rebuilds numpy arrays and nothing else, as Keras' own ``npz_utils`` does.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from specc.language.schema import Data
from specc.training.data import Arrays, DataError, keras_cache_dirs, read_npz

KERAS_SEED = 113
"""The seed keras.datasets shuffles (and splits) with."""
ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FASHION = (
    "train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)  # fmt: skip
CIFAR = {  # name: (cache name, folder inside the archive, origin, train files, test files, label key)
    "cifar10": ("cifar-10-batches-py-target", "cifar-10-batches-py",
                "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                tuple(f"data_batch_{i}" for i in range(1, 6)), ("test_batch",)),
    "cifar100": ("cifar-100-python-target", "cifar-100-python",
                 "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz", ("train",), ("test",)),
}  # fmt: skip
_PICKLE_GLOBALS = frozenset({
    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
})  # fmt: skip


class _ArraysOnly(pickle.Unpickler):
    """Rebuilds numpy arrays, lists, dicts and numbers; refuses every other global, so a
    tampered file cannot run code (Keras' ``npz_utils.RestrictedUnpickler`` does the same)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


@dataclass(frozen=True)
class Files:
    """Where one dataset's Keras files are: the names to look for and how to read them."""

    names: tuple[str, ...]
    """Paths under a cache folder, all needed (the first is named in messages)."""
    read: Callable[[Path, Data], Arrays]
    origin: str


def _shuffled(seed_rng: np.random.RandomState, *arrays: np.ndarray) -> list[np.ndarray]:
    indices = np.arange(len(arrays[0]))
    seed_rng.shuffle(indices)
    return [a[indices] for a in arrays]


def _split(x: np.ndarray, y: np.ndarray, source: str, test_split: float = 0.2) -> Arrays:
    """keras.datasets' split: the first ``int(n * (1 - test_split))`` samples train."""
    at = int(len(x) * (1 - test_split))
    return Arrays(np.array(x[:at]), np.array(y[:at]), np.array(x[at:]), np.array(y[at:]), source)


def _npz_members(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The named arrays of a Keras .npz, object arrays rebuilt by :class:`_ArraysOnly`."""
    out = {}
    try:
        with zipfile.ZipFile(path) as archive:
            names = {n.removesuffix(".npy") for n in archive.namelist()}
            missing = [k for k in keys if k not in names]
            if missing:
                raise DataError(f"{path}: missing key(s) {', '.join(missing)} (not Keras' file?)")
            for key in keys:
                with archive.open(f"{key}.npy") as raw:
                    out[key] = _npy(io.BytesIO(raw.read()))
    except DataError:
        raise
    except (
        zipfile.BadZipFile,
        EOFError,
        OSError,
        zlib.error,
        ValueError,
        pickle.UnpicklingError,
    ) as exc:
        raise DataError(
            f"{path}: not a readable Keras dataset file (truncated or corrupt?): {exc}"
        ) from None
    return out  # fmt: skip


def _npy(fh: IO[bytes]) -> np.ndarray:
    """One .npy member: numeric without pickle, an object array through :class:`_ArraysOnly`."""
    try:
        return np.lib.format.read_array(fh, allow_pickle=False)
    except ValueError:
        fh.seek(0)
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            np.lib.format.read_array_header_1_0(fh)
        else:
            np.lib.format.read_array_header_2_0(fh)
        return _ArraysOnly(fh).load()


def _words(xs: list[Any], num_words: int | None) -> list[list[int]]:
    """keras.datasets' word ids: a start mark (1), ids moved up by 3, ids at or above
    ``num_words`` replaced by the out-of-vocabulary id (2)."""
    xs = [[1] + [w + 3 for w in x] for x in xs]
    top = num_words or max(max(x) for x in xs)
    return [[w if w < top else 2 for w in x] for x in xs]


def _ragged(lists: list[list[int]]) -> np.ndarray:
    out = np.empty(len(lists), dtype=object)
    out[:] = lists
    return out


def read_imdb(path: Path, data: Data) -> Arrays:
    f = _npz_members(path, ("x_train", "y_train", "x_test", "y_test"))
    rng = np.random.RandomState(KERAS_SEED)
    x_train, y_train = _shuffled(rng, f["x_train"], f["y_train"])
    x_test, y_test = _shuffled(rng, f["x_test"], f["y_test"])
    xs = _words([*x_train, *x_test], data.num_words)
    n = len(x_train)
    labels = np.concatenate([y_train, y_test])
    return Arrays(_ragged(xs[:n]), labels[:n], _ragged(xs[n:]), labels[n:], str(path))


def read_reuters(path: Path, data: Data) -> Arrays:
    f = _npz_members(path, ("x", "y"))
    xs, labels = _shuffled(np.random.RandomState(KERAS_SEED), f["x"], f["y"])
    words = _ragged(_words(list(xs), data.num_words))
    return _split(words, np.asarray(labels), str(path))


def read_housing(path: Path, data: Data) -> Arrays:
    """boston_housing and california_housing (its 'large' version, Keras' default)."""
    f = _npz_members(path, ("x", "y"))
    x, y = _shuffled(np.random.RandomState(KERAS_SEED), f["x"], f["y"])
    return _split(x, y, str(path))


def read_mnist(path: Path, data: Data) -> Arrays:
    return read_npz(path)


def _idx(path: Path, magic: int, dims: int) -> np.ndarray:
    """An IDX file (gzip), as Fashion-MNIST ships: a header, then uint8 values."""
    try:
        with gzip.open(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(
            f"{path}: not a readable gzip file (truncated or corrupt?): {exc}"
        ) from None
    head = 4 * (1 + dims)
    if len(raw) < head or struct.unpack(">I", raw[:4])[0] != magic:
        raise DataError(f"{path}: not an IDX file of {'labels' if dims == 1 else 'images'}")
    shape = struct.unpack(f">{dims}I", raw[4:head])
    values = np.frombuffer(raw, np.uint8, offset=head)
    if values.size != int(np.prod(shape)):
        raise DataError(f"{path}: the header says {shape} but it holds {values.size} values")
    return values.reshape(shape)


def read_fashion(first: Path, data: Data) -> Arrays:
    folder = first.parent
    y_train, x_train, y_test, x_test = (
        _idx(folder / name, 2049 if "labels" in name else 2051, 1 if "labels" in name else 3)
        for name in FASHION
    )
    return Arrays(x_train, y_train, x_test, y_test, str(folder))


def _batch(fh: IO[bytes], where: str, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """One CIFAR batch (a pickled dict): images as (n, 32, 32, 3), labels as (n,)."""
    try:
        batch = _ArraysOnly(fh, encoding="bytes").load()
        batch = {k.decode("utf8"): v for k, v in batch.items()}
        images = np.asarray(batch["data"]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return images, np.asarray(batch[label_key]).reshape(-1)
    except (pickle.UnpicklingError, EOFError, KeyError, AttributeError, ValueError) as exc:
        raise DataError(
            f"{where}: not a readable CIFAR batch: {type(exc).__name__}: {exc}"
        ) from None


def _cifar_files(found: Path, inner: str, names: tuple[str, ...]) -> list[tuple[str, bytes]]:
    """``(where, bytes)`` of each batch, from the folder Keras extracts to or from the
    archive it downloads (read in place, never extracted)."""
    if found.is_dir():
        return [(str(found / inner / n), (found / inner / n).read_bytes()) for n in names]
    out = []
    try:
        with tarfile.open(found) as archive:
            for name in names:
                try:
                    member = archive.extractfile(f"{inner}/{name}")
                except KeyError:
                    member = None
                if member is None:
                    raise DataError(f"{found}: has no {inner}/{name} (not Keras' CIFAR archive?)")
                out.append((f"{found}: {inner}/{name}", member.read()))
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{found}: not a readable .tar.gz (truncated or corrupt?): {exc}") from None
    return out


def read_cifar(found: Path, data: Data) -> Arrays:
    """CIFAR-10 or -100 (``label_mode`` fine or coarse), from Keras' extracted folder or archive."""
    _target, inner, _origin, train, test = CIFAR[data.dataset]
    label_key = "labels" if data.dataset == "cifar10" else f"{data.label_mode or 'fine'}_labels"

    def part(names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        batches = [_batch(io.BytesIO(raw), where, label_key)
                   for where, raw in _cifar_files(found, inner, names)]  # fmt: skip
        return np.concatenate([x for x, _ in batches]), np.concatenate([y for _, y in batches])

    (x_train, y_train), (x_test, y_test) = part(train), part(test)
    return Arrays(
        x_train, y_train, x_test, y_test, str(found if found.is_file() else found / inner)
    )


def files(dataset: str) -> list[Files]:
    """The ways Keras keeps ``dataset`` in its cache, in the order specc looks for them."""
    npz = Files((f"{dataset}.npz",), read_housing, f"{ORIGIN}{dataset}.npz")
    if dataset in CIFAR:
        target, _inner, origin, _tr, _te = CIFAR[dataset]
        return [
            Files((target,), read_cifar, origin),
            Files((f"{target}_archive",), read_cifar, origin),
        ]
    return {
        "mnist": [Files(("mnist.npz",), read_mnist, f"{ORIGIN}mnist.npz")],
        "fashion_mnist": [Files(tuple(f"fashion-mnist/{n}" for n in FASHION), read_fashion,
                                f"{ORIGIN}<file>")],
        "imdb": [Files(("imdb.npz",), read_imdb, f"{ORIGIN}imdb.npz")],
        "reuters": [Files(("reuters.npz",), read_reuters, f"{ORIGIN}reuters.npz")],
    }.get(dataset, [npz])  # fmt: skip


def folders() -> list[Path]:
    """Where Keras' files are looked for: ``$SPECC_DATA_DIR``, then Keras' cache."""
    given = os.environ.get("SPECC_DATA_DIR")
    return list(dict.fromkeys([*([Path(given)] if given else []), *keras_cache_dirs()]))


def find(dataset: str) -> tuple[Path, Files] | None:
    """The first folder holding all of one way's files, and that way."""
    for folder in folders():
        for way in files(dataset):
            if all((folder / name).exists() for name in way.names):
                return folder / way.names[0], way
    return None


def where_to_put(dataset: str) -> str:
    """The files to place, and where, for a message."""
    way = files(dataset)[-1]
    names = (
        " and ".join(way.names)
        if len(way.names) < 3
        else f"{way.names[0].split('/')[0]}/ ({', '.join(n.split('/')[-1] for n in way.names)})"
    )
    return f"{names} (from {way.origin}) in {keras_cache_dirs()[0]} or $SPECC_DATA_DIR"  # fmt: skip


def download(data: Data) -> Arrays:
    """keras.datasets.<dataset>.load_data(...), for users who are online."""
    from specc.backends.kerasenv import keras

    module = getattr(keras().datasets, data.dataset)
    try:
        (x_train, y_train), (x_test, y_test) = module.load_data(**data.keras_arguments())
    except Exception as exc:  # network errors come in many types
        reason = (str(exc).strip().splitlines() or [""])[0]
        raise DataError(
            f"{data.dataset}: not found offline, and keras.datasets could not download it "
            f"({type(exc).__name__}: {reason}); put {where_to_put(data.dataset)}, or pass "
            "--data PATH to a .npz with x_train, y_train, x_test, y_test"
        ) from None
    return Arrays(x_train, y_train, x_test, y_test, source=f"keras.datasets.{data.dataset}")


def load(data: Data) -> Arrays:
    """The dataset from Keras' files where a folder holds them, else downloaded."""
    found = find(data.dataset)
    if found is None:
        return download(data)
    path, way = found
    return way.read(path, data)
