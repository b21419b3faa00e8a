"""Training data: find it, check it, preprocess it exactly as the spec says.

Sources, first match wins: ``--data PATH``; the spec's ``data.path``; ``$SPECC_DATA_DIR/
<dataset>.npz``; ``keras.datasets`` (downloads, so only online). A local ``.npz`` holds
``x_train``, ``y_train``, ``x_test``, ``y_test``. Every problem with a file is one
:class:`DataError` naming the file and what is wrong; keras is imported only to download.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from specc.checks import KNOWN_DATASETS
from specc.schema import CastStep, Data, DivideStep, ReshapeStep

KEYS = ("x_train", "y_train", "x_test", "y_test")


class DataError(Exception):
    """A data file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Arrays:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    def subset(self, n: int | None) -> Arrays:
        """The first ``n`` train and test samples (for quick runs)."""
        if not n:
            return self
        return Arrays(
            self.x_train[:n], self.y_train[:n], self.x_test[:n], self.y_test[:n], self.source
        )


def locate(data: Data, override: str | os.PathLike[str] | None = None) -> Path | None:
    """The local file to read, or None to download through keras.datasets."""
    if override:
        return Path(override)
    if data.path:
        return Path(data.path)
    folder = os.environ.get("SPECC_DATA_DIR")
    if folder:
        return Path(folder) / f"{data.dataset}.npz"
    if data.dataset == "npz":
        raise DataError("dataset 'npz' needs a file: set data.path, --data PATH or SPECC_DATA_DIR")
    return None


def read_npz(path: Path) -> Arrays:
    """Read and sanity-check a local .npz (never unpickles)."""
    if not path.is_file():
        raise DataError(
            f"{path}: no such file"
            + ("" if path.parent.exists() else f" (folder {path.parent} missing)")
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in KEYS if k not in npz.files]
            if missing:
                raise DataError(
                    f"{path}: missing key(s) {', '.join(missing)}; found {', '.join(npz.files) or 'none'}"
                )
            arrays = {k: npz[k] for k in KEYS}
    except DataError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise DataError(f"{path}: not a readable .npz (truncated or corrupt?): {exc}") from None
    except ValueError as exc:  # e.g. object arrays, which would need pickle
        raise DataError(f"{path}: cannot be read safely: {exc}") from None
    return Arrays(**arrays, source=str(path))


def download(dataset: str) -> Arrays:
    """keras.datasets.<dataset>.load_data(), for users who are online."""
    from specc.kerasenv import keras

    module = getattr(keras().datasets, dataset)
    try:
        (x_train, y_train), (x_test, y_test) = module.load_data()
    except Exception as exc:  # network errors come in many types
        raise DataError(
            f"could not download {dataset} through keras.datasets ({type(exc).__name__}: {exc}); "
            "offline? pass --data PATH to a local .npz or set SPECC_DATA_DIR"
        ) from None
    return Arrays(x_train, y_train, x_test, y_test, source=f"keras.datasets.{dataset}")


def check(arrays: Arrays, data: Data, classes: int | None) -> None:
    """Shapes, dtypes and label ranges, so a bad file fails here and not inside fit()."""
    src = arrays.source
    for split in ("train", "test"):
        x, y = getattr(arrays, f"x_{split}"), getattr(arrays, f"y_{split}")
        if x.dtype.kind not in "uif" or y.dtype.kind not in "uif":
            raise DataError(
                f"{src}: x_{split}/y_{split} must be numeric arrays (got {x.dtype} and {y.dtype})"
            )
        if x.ndim < 2 or len(x) == 0:
            raise DataError(f"{src}: x_{split} must hold at least one sample (got shape {x.shape})")
        if len(x) != len(y):
            raise DataError(f"{src}: x_{split} has {len(x)} samples but y_{split} has {len(y)}")
        expected = KNOWN_DATASETS.get(data.dataset, (None, None))[0]
        if expected is not None and x.shape[1:] != expected:
            raise DataError(
                f"{src}: {data.dataset} images should be {expected}, x_{split} has {x.shape[1:]}"
            )
        if classes is not None:
            if y.ndim != 1 or (y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0)):
                raise DataError(
                    f"{src}: y_{split} must be integer class labels (got {y.dtype} {y.shape})"
                )
            low, high = int(y.min()), int(y.max())
            if low < 0 or high >= classes:
                raise DataError(
                    f"{src}: y_{split} labels range {low}..{high}, outside 0..{classes - 1}"
                )


def preprocess(arrays: Arrays, data: Data) -> Arrays:
    """Apply the spec's steps: images in order, then labels (one-hot as float32)."""

    def x_steps(x: np.ndarray) -> np.ndarray:
        for step in data.preprocessing.x:
            if isinstance(step, ReshapeStep):
                if x[0].size != np.prod(step.reshape):
                    raise DataError(
                        f"{arrays.source}: cannot reshape samples of shape {x.shape[1:]} into {step.reshape}"
                    )
                x = x.reshape((-1, *step.reshape))
            elif isinstance(step, CastStep):
                x = x.astype(step.cast)
            elif isinstance(step, DivideStep):
                x = x / step.divide
        return x

    def y_steps(y: np.ndarray) -> np.ndarray:
        for step in data.preprocessing.y:
            y = np.eye(step.one_hot, dtype="float32")[y.astype("int64")]
        return y

    return Arrays(
        x_steps(arrays.x_train), y_steps(arrays.y_train), x_steps(arrays.x_test), y_steps(arrays.y_test),
        arrays.source,
    )  # fmt: skip


def load(data: Data, classes: int | None, override: str | os.PathLike[str] | None = None) -> Arrays:
    """Find, read, check: the raw arrays of a spec's dataset."""
    path = locate(data, override)
    arrays = download(data.dataset) if path is None else read_npz(path)
    check(arrays, data, classes)
    return arrays
