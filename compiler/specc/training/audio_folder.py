"""An audio folder, one subfolder of WAV files per class, streamed through tf.data.

Layout as an image folder's: ``path/<class>/<clip>.wav`` (``training.validation_split``
of it, drawn with ``training.seed``, validates and is also the test split), or
``path/train/<class>/...`` with optional ``validation/`` and ``test/`` beside it.
``keras.utils.audio_dataset_from_directory`` decodes each clip (``tf.audio.decode_wav``:
16-bit PCM) to ``output_sequence_length`` samples (shorter clips padded with zeros,
longer ones cut) of its channels: the model takes ``[output_sequence_length, channels]``.

Checked before training from the files' headers (Python's ``wave`` module; no clip is
decoded by TensorFlow), each a one-line :class:`DataError`: a folder without class
subfolders or with one class; a file that is not a readable 16-bit PCM WAV, or one cut
short (refused, naming the first and the count, never skipped); clips of different
sample rates or channel counts (nothing is resampled: Keras needs tensorflow-io for
that); a rate other than ``data.sampling_rate`` where the spec states one; a class count
other than the model's output units; an empty split.

The pipeline is Keras' loader, then ``cache()`` in memory when the decoded training
clips take at most a quarter of the machine's memory (the batches reshuffled every
epoch once cached), and ``prefetch(AUTOTUNE)``.
"""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specc.language.schema import Data
from specc.training.data import DataError, _memory_bytes
from specc.training.image_folder import (
    CACHE_SHARE,
    Folder,
    Streams,
    _check_units,
    _matching,
    _split_counts,
    layout,
    load_splits,
    scan_classes,
)

FORMATS = (".wav",)
"""What audio_dataset_from_directory reads (its ALLOWED_FORMATS)."""


def scan(path: Path) -> Folder:
    """Class subfolders and their WAV files."""
    return scan_classes(path, FORMATS, "WAV files", "yes/, no/")


def header(path: Path) -> tuple[int, int]:
    """(sample rate, channels) of a WAV that ``tf.audio.decode_wav`` reads; ValueError for
    one it cannot (not a WAV, not 16-bit PCM, cut short)."""
    try:
        with wave.open(str(path), "rb") as clip:
            rate, channels, width = clip.getframerate(), clip.getnchannels(), clip.getsampwidth()
            frames = clip.getnframes()
            held = len(clip.readframes(frames))
    except (wave.Error, EOFError, OSError) as exc:
        raise ValueError(f"not a readable WAV ({exc})") from None
    if width != 2:
        raise ValueError(
            f"a {8 * width}-bit WAV; Keras' decoder (tf.audio.decode_wav) reads 16-bit PCM only"
        )
    if held < frames * channels * width:
        raise ValueError(f"a WAV cut short ({held} of {frames * channels * width} data bytes)")
    return rate, channels


def check_clips(folder: Folder, rate: int | None) -> tuple[int, int]:
    """Every clip's header read; unreadable ones refused (the first named, with the count),
    mixed rates or channels refused. Returns the (rate, channels) they share."""
    bad: list[tuple[Path, str]] = []
    seen: dict[tuple[int, int], Path] = {}
    for files in folder.files.values():
        for f in files:
            try:
                seen.setdefault(header(f), f)
            except ValueError as exc:
                bad.append((f, str(exc)))
    if bad:
        first, why = bad[0]
        raise DataError(
            f"{first}: {why}; {len(bad)} of {folder.count} file(s) in {folder.path} are not "
            "readable WAVs: remove or replace them"
        )
    rates = sorted({r for r, _ in seen})
    if len(rates) > 1:
        kinds = ", ".join(f"{r} Hz ({next(p for (q, _), p in seen.items() if q == r).name})"
                          for r in rates)  # fmt: skip
        raise DataError(
            f"{folder.path}: clips of mixed sample rates: {kinds}; resample them to one rate"
        )
    layouts = sorted({c for _, c in seen})
    if len(layouts) > 1:
        raise DataError(
            f"{folder.path}: clips of mixed channel counts ({', '.join(map(str, layouts))}); "
            "convert them to one"
        )
    if rate is not None and rates[0] != rate:
        raise DataError(
            f"{folder.path}: the clips are {rates[0]} Hz but data.sampling_rate is {rate}; "
            f"resample them or set it to {rates[0]}"
        )
    return rates[0], layouts[0]


@dataclass
class Checked:
    """An audio folder that passed every check, and how to stream it."""

    data: Data
    folders: dict[str, Folder]
    length: int
    rate: int
    channels: int
    split: float
    cached: bool

    @property
    def train_samples(self) -> int:
        return _split_counts(self.folders["train"].count, self.split)[0]

    @property
    def test_samples(self) -> int:
        if "test" in self.folders:
            return self.folders["test"].count
        if "validation" in self.folders:
            return self.folders["validation"].count
        return _split_counts(self.folders["train"].count, self.split)[1]


def check(
    data: Data, path: Path, input_shape: tuple[int | None, ...], units: int | None,
    validation_split: float,
) -> Checked:  # fmt: skip
    """Every check, before Keras is loaded: one DataError for the first problem."""
    folders = {split: scan(folder) for split, folder in layout(path).items()}
    _matching(folders)
    length = data.output_sequence_length or (input_shape[0] if len(input_shape) == 2 else None)
    if length is None:
        raise DataError(
            f"{path}: set data.output_sequence_length: the model input {list(input_shape)} "
            "gives no clip length"
        )
    shared = {part: check_clips(folder, data.sampling_rate) for part, folder in folders.items()}
    rate, channels = shared["train"]
    for part, (other_rate, other_channels) in shared.items():
        if (other_rate, other_channels) != (rate, channels):
            raise DataError(
                f"{folders[part].path}: clips of {other_rate} Hz, {other_channels} channel(s), "
                f"but {folders['train'].path}'s are {rate} Hz, {channels} channel(s); make them "
                "the same"
            )
    if len(input_shape) != 2 or input_shape[0] not in (None, length) or input_shape[1] not in (None, channels):  # fmt: skip
        raise DataError(
            f"{path}: a clip is {length} samples of {channels} channel(s) but model.input.shape "
            f"is {list(input_shape)}; make it [{length}, {channels}]"
        )
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
            f"{train.path}: {train.count} clip(s): validation_split {split} leaves {n_train} "
            f"for training and {n_val} for validation; each needs at least one clip"
        )
    memory = _memory_bytes()
    cached = memory is None or n_train * length * channels * 4 * CACHE_SHARE <= memory
    return Checked(data, folders, int(length), rate, channels, split, cached)


def open_streams(checked: Checked, batch_size: int, seed: int) -> Streams:
    """The datasets, through keras.utils.audio_dataset_from_directory."""
    import tensorflow as tf

    from specc.backends.kerasenv import keras

    folders, split = checked.folders, checked.split
    one_hot = bool(checked.data.preprocessing.y_steps())
    common = {"label_mode": "categorical" if one_hot else "int", "batch_size": batch_size,
              "output_sequence_length": checked.length, "seed": seed, "verbose": False}  # fmt: skip
    load_dir = keras().utils.audio_dataset_from_directory
    train, validation, test, notes = load_splits(load_dir, folders, split, common)

    def prepare(ds: Any, shuffle: bool) -> Any:
        if ds is None:
            return None
        if checked.cached:
            ds = ds.cache()
            if shuffle:  # the cached batches, in a new order every epoch
                ds = ds.shuffle(len(ds), seed=seed, reshuffle_each_iteration=True)
        return ds.prefetch(tf.data.AUTOTUNE)

    return Streams(prepare(train, True), prepare(validation, False), prepare(test, False),
                   list(train.class_names), checked.train_samples, checked.test_samples,
                   str(folders["train"].path), notes)  # fmt: skip
