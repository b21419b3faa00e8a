"""Training data: find it, check it, preprocess it exactly as the spec says.

Sources, first match wins: ``--data PATH``; the spec's ``data.path``; for mnist,
fashion_mnist, cifar10 and cifar100 a ready ``$SPECC_DATA_DIR/<dataset>.npz``; Keras' own
files of a ``keras.datasets`` dataset, under Keras' names, in ``$SPECC_DATA_DIR`` and then
Keras' cache (``$KERAS_HOME/datasets``, else ``~/.keras/datasets``), read offline
(:mod:`specc.training.keras_datasets`); ``keras.datasets`` (downloads, so only online). A
local ``.npz`` holds ``x_train``, ``y_train``, ``x_test``, ``y_test``. Every problem with a
file is one :class:`DataError` naming the file and what is wrong; keras is imported only
to download.

A model with several inputs takes ``x_train_<input>``/``x_test_<input>`` per input (the
names of ``model.inputs``), one with several outputs ``y_train_<output>``/``y_test_<output>``
per output (the output layer's name, as Keras' ``model.output_names``); ``fit`` gets them as
dicts by those names. All arrays of a split hold the same number of samples.

A ``.npz`` is a zip of ``.npy`` files. Each array's header is read (through ``zipfile``)
before any array is: a header whose shape needs more bytes than the file holds, or more
memory than the machine has, is refused before numpy would try to allocate it.
"""

from __future__ import annotations

import math
import os
import zipfile
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

import numpy as np

from specc.analysis.arrays import ONE, DataArrays
from specc.analysis.checks import dataset_shape
from specc.files import human_size
from specc.language.schema import CastStep, Data, DivideStep, PadStep, ReshapeStep

KEYS = ("x_train", "y_train", "x_test", "y_test")
"""The arrays of a one-input, one-output model's file (:class:`DataArrays` for several)."""
NPY_MAX_HEADER = 10_000  # numpy's own default bound on a .npy header
DEFLATE_MAX_RATIO = 1100  # deflate cannot expand more than ~1032:1
NPY_MAGIC = b"\x93NUMPY"


class DataError(Exception):
    """A data file that cannot be used; the message names the file and the problem."""


Feed = np.ndarray | dict[str, np.ndarray]
"""One array, or arrays by input (output) name for a model with several."""


def each(value: Feed, fn: Any) -> Feed:
    """``fn`` applied to the one array, or to each array of a dict (keeping the names)."""
    return {k: fn(v) for k, v in value.items()} if isinstance(value, dict) else fn(value)


def first(value: Feed) -> np.ndarray:
    """The one array, or the first input's (sample counts agree: :func:`check`)."""
    return next(iter(value.values())) if isinstance(value, dict) else value


@dataclass(frozen=True)
class Arrays:
    x_train: Feed
    y_train: Feed
    x_test: Feed
    y_test: Feed
    source: str

    def subset(self, n: int | None) -> Arrays:
        """The first ``n`` train and test samples (for quick runs)."""
        if not n:
            return self

        def head(a: np.ndarray) -> np.ndarray:
            return a[:n]

        return Arrays(
            each(self.x_train, head), each(self.y_train, head), each(self.x_test, head),
            each(self.y_test, head), self.source,
        )  # fmt: skip

    def items(self, part: str, split: str) -> list[tuple[str, np.ndarray]]:
        """``[(file key, array)]`` of ``x``/``y`` in ``split``, as the file names them."""
        value = getattr(self, f"{part}_{split}")
        if isinstance(value, dict):
            return [(f"{part}_{split}_{name}", a) for name, a in value.items()]
        return [(f"{part}_{split}", value)]


def keras_cache_dirs() -> list[Path]:
    """Where ``keras.datasets`` keeps downloads: ``$KERAS_HOME`` or ``~/.keras``, and the
    ``/tmp/.keras`` Keras falls back to when home is not writable."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    dirs = [Path(home) / "datasets", Path("/tmp/.keras/datasets")]
    return list(dict.fromkeys(dirs))


READY_NPZ = ("mnist", "fashion_mnist", "cifar10", "cifar100")
"""Datasets whose ready ``$SPECC_DATA_DIR/<dataset>.npz`` is read as is (for the others,
``<dataset>.npz`` is Keras' own file, read as Keras reads it)."""


def locate(data: Data, override: str | os.PathLike[str] | None = None) -> Path | None:
    """The local ready .npz to read, or None for the dataset's Keras files (cache or download)."""
    if override:
        return Path(override)
    if data.path:
        return Path(data.path)
    if data.dataset == "npz":
        raise DataError("dataset 'npz' needs a file: set data.path, --data PATH or SPECC_DATA_DIR")
    folder = os.environ.get("SPECC_DATA_DIR")
    if folder and data.dataset in READY_NPZ and (Path(folder) / f"{data.dataset}.npz").is_file():
        return Path(folder) / f"{data.dataset}.npz"
    return None


def _memory_bytes() -> int | None:
    """Physical memory, where the platform says (None: unknown, no memory bound)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


@dataclass(frozen=True)
class _Header:
    shape: tuple[int, ...]
    dtype: np.dtype
    nbytes: int


def _read_header(path: Path, key: str, info: zipfile.ZipInfo, fh: IO[bytes]) -> _Header:
    """Shape and dtype of one member, and a check that its data fits in the member."""
    where = f"{path}: {key}"
    if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
        raise DataError(f"{where}: zip sizes disagree (truncated or corrupt?)")
    if info.file_size > DEFLATE_MAX_RATIO * info.compress_size + 2**20:
        raise DataError(
            f"{where}: declares {human_size(info.file_size)} from {human_size(info.compress_size)} stored, "
            "more than compression can produce (corrupt, or a decompression bomb)"
        )
    try:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_1_0(
                fh, max_header_size=NPY_MAX_HEADER
            )
        elif version == (2, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_2_0(
                fh, max_header_size=NPY_MAX_HEADER
            )
        else:
            raise DataError(f"{where}: .npy format version {version} is not supported")
    except ValueError as exc:
        raise DataError(f"{where}: not a valid .npy array ({exc})") from None
    if dtype.hasobject:
        raise DataError(
            f"{where}: holds Python objects (reading them would need pickle); save numeric arrays"
        )
    nbytes = math.prod(shape) * dtype.itemsize
    held = info.file_size - fh.tell()
    if nbytes > held:
        raise DataError(
            f"{where}: header declares shape {tuple(shape)} {dtype} ({human_size(nbytes)}) but the "
            f"file holds {human_size(max(held, 0))} of data (truncated or corrupt?)"
        )
    return _Header(tuple(shape), dtype, nbytes)


def read_npz(path: Path, file_arrays: DataArrays = ONE) -> Arrays:
    """Read and sanity-check a local .npz (never unpickles, never over-allocates)."""
    keys = file_arrays.keys()
    if path.is_dir():
        raise DataError(f"{path}: a folder, not a .npz file")
    if not path.is_file():
        raise DataError(
            f"{path}: no such file"
            + ("" if path.parent.exists() else f" (folder {path.parent} missing)")
        )
    try:
        with open(path, "rb") as file:
            start = file.read(len(NPY_MAGIC))
        if not start.startswith(b"PK"):
            raise DataError(
                f"{path}: not a .npz (zip) file"
                + ("; it is a single .npy array: save all four with numpy.savez" if start == NPY_MAGIC else "")
            )  # fmt: skip
        with zipfile.ZipFile(path) as zf:
            members = {i.filename.removesuffix(".npy"): i for i in zf.infolist() if not i.is_dir()}
            missing = [k for k in keys if k not in members]
            if missing:
                raise DataError(
                    f"{path}: missing key(s) {', '.join(missing)}; found "
                    f"{', '.join(members) or 'none'}{file_arrays.hint()}"
                )
            headers = {}
            for key in keys:
                with zf.open(members[key]) as fh:
                    headers[key] = _read_header(path, key, members[key], fh)
            total, memory = sum(h.nbytes for h in headers.values()), _memory_bytes()
            if memory is not None and total > memory:
                raise DataError(
                    f"{path}: the arrays need {human_size(total)} in memory; this machine has "
                    f"{human_size(memory)}"
                )
            arrays = {}
            for key in keys:
                with zf.open(members[key]) as fh:
                    arrays[key] = np.lib.format.read_array(
                        fh, allow_pickle=False, max_header_size=NPY_MAX_HEADER
                    )
    except DataError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, NotImplementedError) as exc:
        raise DataError(f"{path}: not a readable .npz (truncated or corrupt?): {exc}") from None
    except ValueError as exc:
        raise DataError(f"{path}: cannot be read safely: {exc}") from None

    def feed(part: str, split: str) -> Feed:
        names = file_arrays.names(part, split)
        if None in names.values():
            return arrays[f"{part}_{split}"]
        return {name: arrays[key] for key, name in names.items()}  # type: ignore[misc]  # names without None (checked just above); mypy cannot narrow dict values

    return Arrays(feed("x", "train"), feed("y", "train"), feed("x", "test"), feed("y", "test"),
                  source=str(path))  # fmt: skip


def pad_sequences(x: np.ndarray, maxlen: int) -> np.ndarray:
    """``keras.utils.pad_sequences(x, maxlen)``: int32, zeros in front, longer sequences
    keeping their last ``maxlen`` ids; for lists of different lengths or a 2-D array."""
    out = np.zeros((len(x), maxlen), dtype="int32")
    if x.dtype != object and x.ndim == 2:
        kept = x[:, -maxlen:]
        out[:, maxlen - kept.shape[1] :] = kept
        return out
    for i, seq in enumerate(x):
        kept = np.asarray(seq)[-maxlen:]
        if len(kept):
            out[i, maxlen - len(kept) :] = kept
    return out


def _padded(arrays: Arrays, data: Data) -> Arrays:
    """Lists of word ids of different lengths made one length by the spec's first x step
    ({pad: N}), so the arrays can be checked and fed (analysis requires that step)."""
    steps = data.preprocessing.x_steps()
    if isinstance(arrays.x_train, dict) or arrays.x_train.dtype != object:
        return arrays
    if not (steps and isinstance(steps[0], PadStep)):
        raise DataError(
            f"{arrays.source}: samples are lists of different lengths; add {{pad: N}} as the "
            "first x step"
        )
    n = steps[0].pad
    return replace(arrays, x_train=each(arrays.x_train, lambda x: pad_sequences(x, n)),
                   x_test=each(arrays.x_test, lambda x: pad_sequences(x, n)))  # fmt: skip


def _flat_labels(arrays: Arrays, classes: int | dict[str, int | None] | None) -> Arrays:
    """Class labels of shape (n, 1), as keras.datasets gives CIFAR's, as (n,)."""

    def flat(y: np.ndarray) -> np.ndarray:
        return y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y

    if not isinstance(classes, int) or isinstance(arrays.y_train, dict):
        return arrays
    return replace(arrays, y_train=each(arrays.y_train, flat), y_test=each(arrays.y_test, flat))


def _non_finite(src: str, name: str, x: np.ndarray, after: str = "") -> None:
    """NaN or inf in floating data trains to NaN (or to nonsense): refuse it, saying where."""
    if x.dtype.kind != "f":
        return
    bad = ~np.isfinite(x.reshape(len(x), -1)) if x.ndim else ~np.isfinite(x)
    count = int(bad.sum())
    if count:
        first = int(np.argmax(bad.any(axis=1))) if bad.ndim == 2 else 0
        raise DataError(
            f"{src}: {name} has {count:,} non-finite value(s) (NaN or inf){after}, "
            f"the first in sample {first}; clean the data"
        )


def check(arrays: Arrays, data: Data, classes: int | dict[str, int | None] | None) -> None:
    """Shapes, dtypes, values and label ranges, so a bad file fails here and not inside fit().

    ``classes``: the number of classes of the labels (None: not class labels), by output
    name for a model with several outputs."""
    src = arrays.source
    for split in ("train", "test"):
        xs, ys = arrays.items("x", split), arrays.items("y", split)
        if any(a.dtype.kind not in "uif" for _, a in xs + ys):
            raise DataError(
                f"{src}: {'/'.join(k for k, _ in xs + ys)} must be numeric arrays "
                f"(got {' and '.join(str(a.dtype) for _, a in xs + ys)})"
            )
        for key, x in xs:
            if x.ndim < 2 or len(x) == 0:
                raise DataError(f"{src}: {key} must hold at least one sample (got shape {x.shape})")
        for key, y in ys:
            if y.ndim == 0:
                raise DataError(
                    f"{src}: {key} must be an array with one label per sample (got a single value)"
                )
        (first_key, x0), *rest = xs + ys
        for key, a in rest:
            if len(a) != len(x0):
                raise DataError(f"{src}: {first_key} has {len(x0)} samples but {key} has {len(a)}")
        expected = dataset_shape(data)
        if expected is not None and x0.shape[1:] != expected:
            raise DataError(
                f"{src}: {data.dataset} images should be {expected}, {first_key} has {x0.shape[1:]}"
            )
        for key, x in xs:
            _non_finite(src, key, x)
        labels = getattr(arrays, f"y_{split}")
        names = list(labels) if isinstance(labels, dict) else [None]
        for (key, y), name in zip(ys, names, strict=True):
            n = classes.get(name) if isinstance(classes, dict) else classes  # type: ignore[arg-type]  # None is a key only when classes is a plain int, not a dict
            if n is not None:
                if y.ndim != 1 or (y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0)):
                    raise DataError(
                        f"{src}: {key} must be integer class labels (got {y.dtype} {y.shape})"
                    )
                low, high = int(y.min()), int(y.max())
                if low < 0 or high >= n:
                    raise DataError(f"{src}: {key} labels range {low}..{high}, outside 0..{n - 1}")
            else:
                _non_finite(src, key, y)


def preprocess(arrays: Arrays, data: Data) -> Arrays:
    """Apply the spec's steps: images in order, then labels (one-hot as float32); for several
    inputs (outputs), each its own steps."""

    def x_steps(x: np.ndarray, steps: list[Any]) -> np.ndarray:
        for step in steps:
            if isinstance(step, ReshapeStep):
                if x[0].size != np.prod(step.reshape):
                    raise DataError(
                        f"{arrays.source}: cannot reshape samples of shape {x.shape[1:]} into {step.reshape}"
                    )
                x = x.reshape((-1, *step.reshape))
            elif isinstance(step, CastStep):
                with np.errstate(over="ignore"):
                    x = x.astype(step.cast)
            elif isinstance(step, DivideStep):
                with np.errstate(over="ignore"):
                    x = x / step.divide
            elif isinstance(step, PadStep):
                x = pad_sequences(x, step.pad)
        return x

    def y_steps(y: np.ndarray, steps: list[Any]) -> np.ndarray:
        for step in steps:
            y = np.eye(step.one_hot, dtype="float32")[y.astype("int64")]
        return y

    def by_name(value: Feed, apply: Any, steps_of: Any) -> Feed:
        if isinstance(value, dict):
            return {name: apply(a, steps_of(name)) for name, a in value.items()}
        return apply(value, steps_of(None))

    prep = data.preprocessing
    out = Arrays(
        by_name(arrays.x_train, x_steps, prep.x_steps), by_name(arrays.y_train, y_steps, prep.y_steps),
        by_name(arrays.x_test, x_steps, prep.x_steps), by_name(arrays.y_test, y_steps, prep.y_steps),
        arrays.source,
    )  # fmt: skip
    if prep.x:
        after = " after preprocessing (a cast or divide overflowed)"
        for key, x in out.items("x", "train") + out.items("x", "test"):
            _non_finite(out.source, key, x, after)
    return out


def load(
    data: Data,
    classes: int | dict[str, int | None] | None,
    override: str | os.PathLike[str] | None = None,
    file_arrays: DataArrays = ONE,
) -> Arrays:
    """Find, read, check: the raw arrays of a spec's dataset (word-id lists padded)."""
    path = locate(data, override)
    if path is None:
        from specc.training import keras_datasets  # it builds on this module's readers

        arrays = keras_datasets.load(data)
    else:
        arrays = read_npz(path, file_arrays)
    arrays = _flat_labels(_padded(arrays, data), classes)
    check(arrays, data, classes)
    return arrays
