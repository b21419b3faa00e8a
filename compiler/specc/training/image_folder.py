"""An image folder, one subfolder per class, streamed through tf.data.

Layout: ``path/<class>/<image>`` (the folder trains; ``training.validation_split`` of it,
drawn with ``training.seed``, validates, and the validation part is also the test
split), or ``path/train/<class>/...`` with optional ``validation/`` and ``test/`` beside
it (each with the same class subfolders). Images are .bmp, .gif, .jpeg, .jpg and .png, as
``keras.utils.image_dataset_from_directory`` reads them.

Checked before training, from the files' headers (no image is decoded), each a one-line
:class:`DataError`: a folder without class subfolders or with one class; an image that is
not one (an unreadable header, or a JPEG or PNG cut short: refused, naming the first and
the count, never skipped); images of different channel counts when the spec does not set
``color_mode`` (with it, Keras converts each image); class names that differ between
splits; a class count other than the model's output units; an empty split.

The pipeline is Keras' own loader (file paths shuffled with the seed before decode,
parallel decode and resize, batches), the spec's x steps, then ``cache`` and
``prefetch(AUTOTUNE)``. The cache rule (``data.cache: auto``): the decoded training split
(float32) in memory when it takes at most 1/``CACHE_SHARE`` of the machine's memory, else
a file cache in the run folder (``cache/``, removed when the run ends), so memory stays
bounded whatever the folder's size; ``memory``, ``file`` and ``none`` force one. The first
epoch decodes in the loader's shuffled order; later epochs read the cache and take its
batches in a new order every epoch (a batch keeps the images the first epoch put in
it): all of them for a memory cache (the shuffle holds references, no copies), through a
buffer of at most ``SHUFFLE_BYTES`` of batches for a file cache. Uncached, Keras' loader
reshuffles the file order every epoch. Under a strategy every worker runs the whole
pipeline and keeps its share of each global batch (auto-shard policy ``DATA``: the loader
reads files inside a ``map``, which ``FILE`` sharding cannot split).
"""

from __future__ import annotations

import math
import os
import shutil
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specc.analysis.checks import CHANNELS
from specc.language.schema import CastStep, Data, DivideStep, PadStep, ReshapeStep
from specc.training.data import DataError, _memory_bytes

FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
"""What image_dataset_from_directory reads (its ALLOWLIST_FORMATS)."""
SPLITS = ("train", "validation", "test")
CACHE_SHARE = 4
"""cache: auto keeps decoded images in memory when they take at most 1/CACHE_SHARE of it."""
SHUFFLE_BYTES = 64 * 2**20
"""A file cache's batches are reshuffled through a buffer of at most this many bytes."""


@dataclass
class Folder:
    """One split's folder: class names (sorted, as Keras orders them) and files per class."""

    path: Path
    classes: list[str]
    files: dict[str, list[Path]]

    @property
    def count(self) -> int:
        return sum(len(f) for f in self.files.values())


@dataclass
class Streams:
    """The tf.data datasets ``fit`` and ``evaluate`` take, and what the run reports."""

    train: Any
    validation: Any | None
    test: Any
    class_names: list[str]
    train_samples: int
    test_samples: int
    source: str
    notes: list[str] = field(default_factory=list)
    cache_dir: Path | None = field(default=None, kw_only=True)
    """A file cache's folder (removed by :meth:`close`)."""

    def close(self) -> None:
        """Remove the file cache: decoded images, as large as the split, rebuilt each run."""
        if self.cache_dir is not None:
            shutil.rmtree(self.cache_dir, ignore_errors=True)


def layout(path: Path) -> dict[str, Path]:
    """The split folders: ``train``/``validation``/``test`` subfolders, or the folder itself."""
    if not path.is_dir():
        raise DataError(f"{path}: no such folder" if not path.exists() else f"{path}: not a folder")
    if (path / "train").is_dir():
        return {s: path / s for s in SPLITS if (path / s).is_dir()}
    return {"train": path}


def load_splits(
    load_dir: Any, folders: dict[str, Folder], split: float, common: dict[str, Any]
) -> tuple[Any, Any, Any, list[str]]:
    """Train, validation and test datasets by Keras' ``*_dataset_from_directory``
    (``load_dir``, its arguments ``common``): validation as a ``split`` of train/ or its own
    folder, test its own folder or else the validation part (said in the notes)."""
    train_dir = str(folders["train"].path)
    validation = None
    if split:
        train, validation = load_dir(train_dir, validation_split=split, subset="both", **common)
    else:
        train = load_dir(train_dir, **common)
        if "validation" in folders:
            validation = load_dir(str(folders["validation"].path), shuffle=False, **common)
    test, notes = validation, []
    if "test" in folders:
        test = load_dir(str(folders["test"].path), shuffle=False, **common)
    else:
        notes.append("no test/ folder: the test metrics are the validation split's")
    return train, validation, test, notes


def scan_classes(path: Path, formats: tuple[str, ...], what: str, example: str) -> Folder:
    """Class subfolders and their files of ``formats`` (``what`` they hold, an ``example``
    of class names), refusing a folder Keras' ``*_dataset_from_directory`` could not train
    on: image, text and audio folders alike."""
    classes = sorted(p.name for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataError(
            f"{path}: no class subfolders; put each class's {what} in a subfolder named after "
            f"the class (e.g. {example})"
        )
    if len(classes) == 1:
        raise DataError(
            f"{path}: one class subfolder ({classes[0]}/); a classifier needs at least two"
        )
    files = {
        c: sorted(f for f in (path / c).rglob("*") if f.suffix.lower() in formats and f.is_file())
        for c in classes
    }
    folder = Folder(path, classes, files)
    if folder.count == 0:
        raise DataError(f"{path}: no {what} ({', '.join(formats)}) in its class subfolders")
    return folder


def scan(path: Path) -> Folder:
    """Class subfolders and their image files."""
    return scan_classes(path, FORMATS, "images", "cats/, dogs/")


def channels(path: Path) -> int:
    """The channels Keras decodes the image to, from its header; a file that is no image,
    or a JPEG or PNG cut short, raises ValueError."""
    with open(path, "rb") as fh:
        head = fh.read(64 * 1024)
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 16))
        tail = fh.read()
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR" and len(head) >= 26:
        if b"IEND" not in tail:
            raise ValueError("a PNG cut short (no IEND chunk)")
        # color type: gray, -, RGB, palette, gray+alpha, -, RGBA
        return {0: 1, 2: 3, 3: 3, 4: 2, 6: 4}.get(head[25], 0) or _bad("unknown PNG color type")
    if head.startswith(b"\xff\xd8"):
        if not tail.rstrip(b"\0").endswith(b"\xff\xd9"):
            raise ValueError("a JPEG cut short (no end-of-image marker)")
        return _jpeg_components(head)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return 3
    if head.startswith(b"BM") and len(head) >= 30:
        bits = struct.unpack("<H", head[28:30])[0]
        return 4 if bits == 32 else 3
    raise ValueError("not a BMP, GIF, JPEG or PNG image")


def _bad(why: str) -> int:
    raise ValueError(why)


def _jpeg_components(head: bytes) -> int:
    """Components of a JPEG's frame header (SOFn): 1 grey, 3 colour."""
    at = 2
    while at + 9 < len(head):
        if head[at] != 0xFF:
            raise ValueError("a broken JPEG marker")
        marker, length = head[at + 1], struct.unpack(">H", head[at + 2 : at + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return {1: 1, 3: 3, 4: 3}.get(head[at + 9], 0) or _bad("unusual JPEG components")
        at += 2 + length
    raise ValueError("no JPEG frame header in its first 64 KiB")


def check_images(folder: Folder, color_mode: str | None) -> set[int]:
    """Every image's header read; unreadable ones refused (the first named, with the count);
    mixed channel counts refused unless ``color_mode`` converts them. Returns the counts."""
    bad: list[tuple[Path, str]] = []
    seen: dict[int, Path] = {}
    for files in folder.files.values():
        for f in files:
            try:
                seen.setdefault(channels(f), f)
            except (OSError, ValueError) as exc:
                bad.append((f, str(exc)))
    if bad:
        first, why = bad[0]
        raise DataError(
            f"{first}: {why}; {len(bad)} of {folder.count} file(s) in {folder.path} are not "
            "readable images: remove or replace them"
        )
    if len(seen) > 1 and color_mode is None:
        kinds = ", ".join(f"{n} channel(s) ({seen[n].name})" for n in sorted(seen))
        raise DataError(
            f"{folder.path}: images of mixed channels: {kinds}; set data.color_mode "
            "(grayscale, rgb or rgba) to convert every image to it"
        )
    return set(seen)


def _matching(folders: dict[str, Folder]) -> None:
    train = folders["train"]
    for other in folders.values():
        if other.classes != train.classes:
            raise DataError(
                f"{other.path}: class subfolders {', '.join(other.classes)} differ from "
                f"{train.path}'s ({', '.join(train.classes)}); give every "
                "split the same classes"
            )


def _check_units(folder: Folder, units: int | None) -> None:
    if units is not None and units != len(folder.classes):
        raise DataError(
            f"{folder.path}: {len(folder.classes)} classes ({', '.join(folder.classes)}) but the "
            f"model's last layer has {units} units; make them equal"
        )


def _split_counts(n: int, split: float) -> tuple[int, int]:
    """Keras' get_training_or_validation_split: validation takes int(split * n) samples."""
    held = int(split * n)
    return n - held, held


def settings(data: Data, input_shape: tuple[int | None, ...]) -> tuple[list[int], str]:
    """Image size and colour mode: the spec's, else the model input's (height, width,
    channels)."""
    if data.image_size:
        size = list(data.image_size)
    elif len(input_shape) == 3 and None not in input_shape[:2]:
        size = [int(d) for d in input_shape[:2]]  # type: ignore[arg-type]  # None excluded just above
    else:
        raise DataError(
            f"{data.path}: set data.image_size: the model input {list(input_shape)} gives no size"
        )
    by_channels = {v: k for k, v in CHANNELS.items()}
    mode = data.color_mode or by_channels.get(input_shape[-1] or 3, "rgb")
    return size, mode


def cache_kind(data: Data, samples: int, size: list[int], mode: str) -> str:
    """``memory``, ``file`` or ``none``: the spec's, or for ``auto`` memory when the decoded
    split (float32) takes at most 1/CACHE_SHARE of the machine's memory, else a file."""
    if data.cache not in (None, "auto"):
        return str(data.cache)
    memory = _memory_bytes()
    decoded = samples * size[0] * size[1] * CHANNELS[mode] * 4  # float32
    return "memory" if memory is None or decoded * CACHE_SHARE <= memory else "file"


@dataclass
class Checked:
    """A folder that passed every check, and how to stream it."""

    data: Data
    folders: dict[str, Folder]
    size: list[int]
    mode: str
    split: float
    cache: str
    """memory, file or none (:func:`cache_kind`)."""
    subset: int | None = None
    """Train and test on the first N images the loader yields (``--subset``)."""

    @property
    def train_samples(self) -> int:
        n = _split_counts(self.folders["train"].count, self.split)[0]
        return min(n, self.subset) if self.subset else n

    @property
    def validation_samples(self) -> int:
        if "validation" in self.folders:
            return self.folders["validation"].count
        return _split_counts(self.folders["train"].count, self.split)[1]

    @property
    def test_samples(self) -> int:
        if "test" in self.folders:
            n = self.folders["test"].count
        elif "validation" in self.folders:
            n = self.folders["validation"].count
        else:
            n = _split_counts(self.folders["train"].count, self.split)[1]
        return min(n, self.subset) if self.subset else n


def check(
    data: Data, path: Path, input_shape: tuple[int | None, ...], units: int | None,
    validation_split: float,
) -> Checked:  # fmt: skip
    """Every check, before Keras is loaded: one DataError for the first problem."""
    splits = layout(path)
    folders = {split: scan(folder) for split, folder in splits.items()}
    _matching(folders)
    size, mode = settings(data, input_shape)
    for folder in folders.values():
        check_images(folder, data.color_mode)
    train = folders["train"]
    _check_units(train, units)
    if any(isinstance(step, PadStep) for step in data.preprocessing.x_steps()):
        raise DataError(f"{path}: {{pad: N}} applies to word-id lists, not images")
    split = 0.0 if "validation" in folders else validation_split
    if not split and not ({"validation", "test"} & folders.keys()):
        raise DataError(
            f"{path}: nothing to test on: add test/ (or validation/) beside train/, or set "
            "training.validation_split"
        )
    n_train, n_val = _split_counts(train.count, split)
    if n_train == 0 or (split and n_val == 0):
        raise DataError(
            f"{train.path}: {train.count} image(s): validation_split {split} leaves {n_train} "
            f"for training and {n_val} for validation; each needs at least one image"
        )
    return Checked(data, folders, size, mode, split, cache_kind(data, n_train, size, mode))


def open_streams(
    checked: Checked, batch_size: int, seed: int, cache_dir: Path | None = None,
    replicas: int = 1,
) -> Streams:  # fmt: skip
    """The datasets, through keras.utils.image_dataset_from_directory; a file cache in
    ``cache_dir`` (emptied first: a cache left by another run would be read as this
    one's); ``replicas`` > 1: every batch cut to a multiple of them (a strategy)."""
    import tensorflow as tf

    from specc.backends.kerasenv import keras

    data, folders, split = checked.data, checked.folders, checked.split
    one_hot = bool(data.preprocessing.y_steps())
    common = {"label_mode": "categorical" if one_hot else "int", "color_mode": checked.mode,
              "batch_size": batch_size, "image_size": tuple(checked.size), "seed": seed,
              "verbose": False}  # fmt: skip
    load_dir = keras().utils.image_dataset_from_directory
    train, validation, test, notes = load_splits(load_dir, folders, split, common)
    if replicas > 1:
        notes.append(f"the last batch of each split cut to a multiple of the {replicas} replicas")
    steps = data.preprocessing.x_steps()
    if checked.cache == "file":
        if cache_dir is None:
            raise ValueError("a file cache needs cache_dir")
        shutil.rmtree(cache_dir, ignore_errors=True)
        cache_dir.mkdir(parents=True)
    batch_bytes = batch_size * math.prod(checked.size) * CHANNELS[checked.mode] * 4

    def prepare(ds: Any, name: str | None, shuffle: bool, subset: int | None, samples: int) -> Any:
        """The spec's steps, the cache (``name``: the split's file; None: uncached),
        the reshuffle of cached batches, prefetch."""
        if ds is None:
            return None
        if subset:  # the first N images the loader yields (before the cache: the same N)
            ds = _first(tf, ds, subset, batch_size)
        if steps:
            ds = ds.map(lambda x, y: (_apply(tf, steps, x), y), num_parallel_calls=tf.data.AUTOTUNE)
        if name is not None and checked.cache != "none":
            in_file = checked.cache == "file"
            ds = ds.cache(str(cache_dir / name) if in_file and cache_dir else "")
            if shuffle:  # the cached batches, in a new order every epoch
                buffer = max(1, SHUFFLE_BYTES // batch_bytes) if in_file else len(ds)
                ds = ds.shuffle(min(len(ds), buffer), seed=seed, reshuffle_each_iteration=True)
        if replicas > 1:  # the last batch too must split evenly over the replicas
            ds = even_batches(tf, ds, samples, batch_size, replicas)
        return ds.prefetch(tf.data.AUTOTUNE)

    return Streams(
        prepare(train, "train", True, checked.subset, checked.train_samples),
        prepare(validation, "validation", False, None, checked.validation_samples),
        prepare(test, None, False, checked.subset, checked.test_samples),  # read once: uncached
        list(train.class_names), checked.train_samples, checked.test_samples,
        str(folders["train"].path), notes,
        cache_dir=cache_dir if checked.cache == "file" else None,
    )  # fmt: skip


def _first(tf: Any, ds: Any, n: int, batch_size: int) -> Any:
    """The first ``n`` samples of a batched dataset (the last batch cut), its length known."""
    whole, rest = divmod(n, batch_size)
    if len(ds) * batch_size <= n:
        return ds
    if not rest:
        return ds.take(whole)

    def cut(i: Any, xy: Any) -> tuple[Any, Any]:
        k = tf.where(i == whole, rest, batch_size)
        return xy[0][:k], xy[1][:k]

    return ds.take(whole + 1).enumerate().map(cut)


def even_batches(tf: Any, ds: Any, samples: int, batch_size: int, replicas: int) -> Any:
    """Every batch cut to a multiple of ``replicas`` (only a last, short batch changes; one
    that would be empty is left out), sharded by DATA for a strategy."""
    from specc.training.distribute import shard_by_data

    def cut(x: Any, y: Any) -> tuple[Any, Any]:
        n = tf.shape(x)[0] - tf.shape(x)[0] % replicas
        return x[:n], y[:n]

    ds = ds.map(cut)
    if 0 < samples % batch_size < replicas:
        ds = ds.take(samples // batch_size)
    return shard_by_data(tf, ds)


def test_arrays(streams: Streams, budget: int = 256 * 2**20) -> tuple[Any, Any, bool]:
    """The test images and labels as arrays for the report, at most ``budget`` bytes of
    them (the first batches); and whether that is all of them."""
    import numpy as np

    xs: list[Any] = []
    ys: list[Any] = []
    used = 0

    def joined(parts: list[Any]) -> Any:  # a CSV's several inputs come as dicts by name
        if parts and isinstance(parts[0], dict):
            return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        return np.concatenate(parts)

    for x, y in streams.test.as_numpy_iterator():
        size = sum(v.nbytes for v in x.values()) if isinstance(x, dict) else x.nbytes
        if xs and used + size > budget:
            return joined(xs), np.concatenate(ys), False
        xs.append(x)
        ys.append(y)
        used += size
    return joined(xs), np.concatenate(ys), True


def _apply(tf: Any, steps: list[Any], x: Any) -> Any:
    """The spec's x steps on a batch of images (cast, divide, reshape each image)."""
    for step in steps:
        if isinstance(step, CastStep):
            x = tf.cast(x, step.cast)
        elif isinstance(step, DivideStep):
            x = x / step.divide
        elif isinstance(step, ReshapeStep):
            x = tf.reshape(x, (-1, *step.reshape))
    return x
