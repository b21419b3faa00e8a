"""A CSV time series cut into windows by ``keras.utils.timeseries_dataset_from_array``.

The rows are split by time, in order: the first rows train, the next validate
(``training.validation_split`` of the rows before the test part), the last ``test_split``
(default 0.2) test. Each part is windowed on its own, so no window and no target crosses
a boundary. Window ``i`` of a part holds rows ``i, i + r, ..., i + (L - 1) r`` of the
``features`` (``L`` the sequence length, ``r`` the sampling rate); its target is the
``targets`` row ``offset`` rows after the window's last row (offset 1: the next row).

``normalize: train`` (the default) standardises every column, features and targets, by
the mean and standard deviation (pandas' ``std``, ``ddof=1``) of the training rows only,
as the Keras and TensorFlow weather tutorials do; ``none`` feeds the raw values (then an
adapted ``Normalization`` in the model learns them from the training windows).

Memory rule: the selected columns are held in memory (float64 while read and normalised,
float32 after; a file whose columns could take more than a quarter of the machine's
memory is refused); the windows, ``L`` times larger, never are: Keras cuts them batch by
batch from the series.

Checked before Keras loads, reading the file once with Python's csv module, one line each
(``file:line:column``), exit 1: a named column the header lacks, a row of another length,
a value that is not a finite number, a constant column (its standard deviation is 0), a
window (with its offset) longer than a split or an empty split, a model input other than
``[L, features]`` and an output other than one unit per target, and a classification loss.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from specc.language.schema import Data
from specc.training.data import DataError, _memory_bytes
from specc.training.image_folder import Streams

TEST_SPLIT = 0.2
CHUNK_ROWS = 65_536
"""Rows converted to a numpy array at a time while reading (bounded Python lists)."""


@dataclass
class Series:
    """A time series that passed every check, its values and how to window it."""

    data: Data
    path: Path
    features: list[str]
    targets: list[str]
    values: np.ndarray
    """(rows, columns) float32, the columns of ``columns``, normalised as the spec says."""
    columns: list[str]
    parts: dict[str, tuple[int, int]]
    """Rows ``[start, stop)`` of ``train``, ``validation`` (when any) and ``test``."""
    sequence_length: int
    sampling_rate: int
    offset: int
    statistics: dict[str, list[float]]
    """Per column ``[mean, std]`` of the training rows (empty for ``normalize: none``)."""
    shuffle: bool = True
    """Whether the training windows are shuffled (``training.shuffle``)."""
    target_steps: int | None = None
    """Consecutive target rows per window (None: one, fed as ``[targets]``)."""

    @property
    def delay(self) -> int:
        """Rows from a window's first row to its target."""
        return (self.sequence_length - 1) * self.sampling_rate + self.offset

    @property
    def span(self) -> int:
        """Rows from a window's first row to its last target row, both included."""
        return self.delay + (self.target_steps or 1)

    def windows(self, part: str) -> int:
        start, stop = self.parts[part]
        return stop - start - self.span + 1

    @property
    def train_samples(self) -> int:
        return self.windows("train")

    @property
    def test_samples(self) -> int:
        return self.windows("test")


def _number(text: str, where: str, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(
            f"{where}: column {column!r} holds {text!r}, not a number; fix the value or name "
            "the numeric columns under data.features"
        ) from None
    if not math.isfinite(value):
        raise DataError(f"{where}: column {column!r} holds {text!r}; clean the data")
    return value


def read(path: Path, columns: list[str], header: list[str]) -> np.ndarray:
    """The named columns of every row as float64, each value checked (file:line:column)."""
    index = [header.index(c) for c in columns]
    chunks: list[np.ndarray] = []
    rows: list[list[float]] = []
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        for row in reader:
            if not row:
                continue
            line = reader.line_num
            if len(row) != len(header):
                raise DataError(f"{path}:{line}:1: {len(row)} fields, the header has {len(header)}")
            rows.append([_number(row[i], f"{path}:{line}:{i + 1}", header[i]) for i in index])
            if len(rows) == CHUNK_ROWS:
                chunks.append(np.array(rows, dtype=np.float64))
                rows = []
    chunks.append(np.array(rows, dtype=np.float64).reshape(-1, len(columns)))
    return np.concatenate(chunks)


def split_rows(rows: int, test_split: float, validation_split: float) -> dict[str, tuple[int, int]]:
    """Train, validation and test rows, in time order (positional, as csv splits)."""
    kept = rows - int(rows * test_split)
    train = math.floor(kept * (1 - validation_split))
    parts = {"train": (0, train)}
    if validation_split:
        parts["validation"] = (train, kept)
    parts["test"] = (kept, rows)
    return parts


def settings(data: Data, input_shape: tuple[int | None, ...]) -> tuple[int, int, int]:
    """Sequence length (the spec's, else the model input's first dimension), sampling rate
    and offset."""
    length = data.sequence_length or (input_shape[0] if len(input_shape) == 2 else None)
    if length is None:
        raise DataError(
            f"{data.path}: set data.sequence_length: the model input {list(input_shape)} "
            "gives no window length"
        )
    rate = data.sampling_rate or 1
    offset = 1 if data.offset is None else data.offset
    return int(length), rate, offset


def check(
    data: Data, path: Path, input_shape: tuple[int | None, ...],
    output_shape: tuple[int | None, ...], classes: Any, validation_split: float,
    shuffle: bool = True,
) -> Series:  # fmt: skip
    """Every check, before Keras is loaded: one DataError for the first problem."""
    if classes is not None:
        raise DataError(
            f"{path}: a time series' targets are numbers to regress, but the loss is a "
            "classification's; use a regression loss such as mse or mae"
        )
    if not path.is_file():
        raise DataError(f"{path}: no such file" if not path.exists() else f"{path}: not a file")
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        header = next(csv.reader(fh), [])
    if not header:
        raise DataError(f"{path}:1:1: empty file; the first line names the columns")
    assert data.targets is not None  # the schema requires them for timeseries
    features = list(data.features) if data.features else list(header)
    missing = [c for c in dict.fromkeys([*features, *data.targets]) if c not in header]
    if missing:
        raise DataError(
            f"{path}:1:1: no column {', '.join(map(repr, missing))} in the header; it has "
            f"{', '.join(header)}"
        )
    length, rate, offset = settings(data, input_shape)
    if len(input_shape) != 2 or input_shape[0] not in (None, length) or input_shape[1] not in (None, len(features)):  # fmt: skip
        raise DataError(
            f"{path}: a window is {length} rows of {len(features)} feature(s) but "
            f"model.input.shape is {list(input_shape)}; make it [{length}, {len(features)}]"
        )
    wanted = (
        [len(data.targets)] if data.target_steps is None else [data.target_steps, len(data.targets)]
    )
    if len(output_shape) != len(wanted) or any(d not in (None, w) for d, w in zip(output_shape, wanted, strict=True)):  # fmt: skip
        over = "" if data.target_steps is None else f" over {data.target_steps} step(s)"
        raise DataError(
            f"{path}: {len(data.targets)} target column(s) ({', '.join(data.targets)}){over} but "
            f"the model's output shape is {list(output_shape)}; make it {wanted}"
        )
    columns = list(dict.fromkeys([*features, *data.targets]))
    memory = _memory_bytes()
    with open(path, "rb") as fh:  # a bound before reading: bytes per value >= 2 ("0,")
        size = fh.seek(0, 2)
    if memory is not None and size // max(2 * len(header), 1) * len(columns) * 8 * 4 > memory:
        raise DataError(
            f"{path}: its {len(columns)} column(s) could take more than a quarter of this "
            "machine's memory (float64 while read); use fewer rows or columns"
        )
    values = read(path, columns, header)
    parts = split_rows(len(values), data.test_split if data.test_split is not None else TEST_SPLIT,
                       validation_split)  # fmt: skip
    steps = data.target_steps or 1
    span = (length - 1) * rate + offset + steps
    for part, (start, stop) in parts.items():
        if stop - start < span or rate >= stop - start - offset - steps + 1:
            target = f"its target {offset} row(s) later" + (
                f" and {steps - 1} more" if data.target_steps and steps > 1 else ""
            )
            raise DataError(
                f"{path}: the {part} split has {stop - start} row(s) (of {len(values)}), but a "
                f"window of {length} rows every {rate} with {target} spans {span}; use more "
                "rows, a shorter window or other split fractions"
            )
    statistics: dict[str, list[float]] = {}
    if (data.normalize or "train") == "train":
        train = values[slice(*parts["train"])]
        mean, std = train.mean(axis=0), train.std(axis=0, ddof=1)
        flat = [c for c, s in zip(columns, std, strict=True) if not s > 0]
        if flat:
            raise DataError(
                f"{path}: column {flat[0]!r} is constant over the {len(train)} training rows "
                "(standard deviation 0), so it cannot be standardised; drop it from "
                "data.features or set data.normalize: none"
            )
        values = (values - mean) / std
        statistics = {c: [float(m), float(s)] for c, m, s in zip(columns, mean, std, strict=True)}
    return Series(data, path, features, list(data.targets), values.astype(np.float32), columns,
                  parts, length, rate, offset, statistics, shuffle, data.target_steps)  # fmt: skip


@dataclass
class SeriesStreams(Streams):
    """The windows' streams, and the training rows' ``[mean, std]`` per column."""

    normalization: dict[str, list[float]] = field(default_factory=dict)


def open_streams(series: Series, batch_size: int, seed: int) -> SeriesStreams:
    """Each split's windows (and targets), batched by Keras' own windowing, prefetched;
    the training windows shuffled (Keras reshuffles them locally every epoch)."""
    import tensorflow as tf

    from specc.backends.kerasenv import keras

    x_at = [series.columns.index(c) for c in series.features]
    y_at = [series.columns.index(c) for c in series.targets]

    def windows(part: str) -> Any:
        start, stop = series.parts[part]
        rows = series.values[start:stop]
        count = series.windows(part)
        # Keras pairs window i with targets[i]: the target row itself, or for several
        # target steps the window's index, whose target rows are gathered per batch.
        several = series.target_steps is not None
        dataset = keras().utils.timeseries_dataset_from_array(
            rows[: count + (series.sequence_length - 1) * series.sampling_rate, x_at],
            np.arange(count) if several else rows[series.delay :, y_at],
            sequence_length=series.sequence_length,
            sampling_rate=series.sampling_rate,
            batch_size=batch_size,
            shuffle=series.shuffle and part == "train",
            seed=seed,
        )
        if several:
            targets = tf.constant(rows[:, y_at])
            ahead = series.delay + tf.range(series.target_steps, dtype=tf.int64)
            dataset = dataset.map(
                lambda x, i: (x, tf.gather(targets, tf.cast(i, tf.int64)[:, None] + ahead)),
                num_parallel_calls=tf.data.AUTOTUNE,
            )
        return dataset.prefetch(tf.data.AUTOTUNE)

    validation = windows("validation") if "validation" in series.parts else None
    notes = [
        f"windows of {series.sequence_length} rows every {series.sampling_rate}, target "
        f"{series.offset} row(s) after; {series.windows('train'):,} training, "
        + (f"{series.windows('validation'):,} validation, " if validation is not None else "")
        + f"{series.test_samples:,} test windows"
    ]
    return SeriesStreams(windows("train"), validation, windows("test"), [], series.train_samples,
                         series.test_samples, str(series.path), notes, series.statistics)  # fmt: skip
