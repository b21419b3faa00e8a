"""A CSV table: a label column and feature columns by name, streamed through tf.data.

Rows split by position, as Keras' ``validation_split`` splits: the last ``test_split``
(default 0.2) of the rows test, the last ``training.validation_split`` of the rest
validate, the first rows train. The file is read line by line every epoch
(``TextLineDataset``: one row a line, never all of it into memory, so a file larger than
memory trains); the training lines are shuffled through a buffer of at most 10,000, every
epoch, then parsed a batch at a time (``tf.io.decode_csv``).

A sample is the numeric features in the order of ``features``, then each ``categorical``
column one-hot encoded by a ``keras.layers.StringLookup`` adapted on the training rows
(its first slot is for values the training rows never had). The model input's width must
be that sum.

Checked before Keras loads, streaming the file once in 4 MiB chunks (numpy parses a chunk's
numeric columns; a chunk with a quote, a lone carriage return or any problem, and every
chunk after it, is read again with Python's csv module, which finds the exact place), one line
each (``file:line:column``), exit 1: a named column the header lacks, a row of another
length, a value that is not a number in a numeric column (or the label of a classifier
that is not a whole number in ``0..classes-1``), a feature width other than the model
input's, and an empty split. Nothing holds more than a chunk: counting rows, the label
checks, the lookups' and a ``Normalization``'s adapting (on the training stream) all
stream. Under a strategy every worker reads the whole file and keeps its share of each
global batch (auto-shard policy ``DATA``: one file cannot be split by ``FILE``).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specc.language.schema import Data
from specc.training.data import DataError
from specc.training.image_folder import Streams, even_batches

SHUFFLE_ROWS = 10_000
TEST_SPLIT = 0.2
CHUNK_BYTES = 4 * 2**20


@dataclass
class Table:
    """A CSV that passed every check, and how to stream it."""

    data: Data
    path: Path
    label: str
    header: list[str]
    features: list[str]
    categorical: list[str]
    rows: int
    train: int
    validation: int
    classes: int | None
    blank: bool = False
    """Whether the file has empty lines (the stream then filters them out)."""
    subset: int | None = None
    """Train, validate and test on the first N rows of each part (``--subset``)."""
    groups: dict[str, list[str]] | None = None
    """``data.inputs``: each model input's columns (then no features or categorical)."""
    dtypes: dict[str, str] | None = None
    """Each grouped column's dtype: its input's (string, an int type, else float32)."""

    @property
    def test(self) -> int:
        return self.rows - self.train - self.validation

    def _first(self, n: int) -> int:
        return min(n, self.subset) if self.subset else n

    @property
    def train_samples(self) -> int:
        return self._first(self.train)

    @property
    def test_samples(self) -> int:
        return self._first(self.test)


def _columns(data: Data, header: list[str], path: Path) -> list[str]:
    """The numeric features: the spec's, else every column but the label and categories."""
    assert data.label is not None  # the schema requires it for csv
    named = [data.label, *(data.features or []), *data.categorical]
    missing = [c for c in named if c not in header]
    if missing:
        raise DataError(
            f"{path}:1:1: no column {', '.join(map(repr, missing))} in the header; it has "
            f"{', '.join(header)}"
        )
    skip = {data.label, *data.categorical}
    return list(data.features) if data.features else [c for c in header if c not in skip]


def _number(text: str, where: str, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise DataError(
            f"{where}: column {column!r} holds {text!r}, not a number; fix the value or list "
            "the column under data.categorical"
        ) from None
    if not math.isfinite(value):
        raise DataError(f"{where}: column {column!r} holds {text!r}; clean the data")
    return value


def _nonempty_splits(
    path: Path, rows: int, test_split: float | None, validation_split: float
) -> tuple[int, int]:
    """Rows for training and validation (the rest tests); one line where a part is empty."""
    train, validation = _splits(rows, test_split or TEST_SPLIT, validation_split)
    test = rows - train - validation
    if train == 0 or test == 0 or (validation_split and validation == 0):
        raise DataError(
            f"{path}: {rows} row(s) split into {train} for training, {validation} for "
            f"validation and {test} for testing; each needs at least one"
        )
    return train, validation


def _splits(rows: int, test_split: float, validation_split: float) -> tuple[int, int]:
    """(training rows, validation rows): positional, as Keras' validation_split."""
    kept = rows - int(rows * test_split)
    train = math.floor(kept * (1 - validation_split))
    return train, kept - train


def _count(
    path: Path, header: list[str], checks: dict[int, str], units: int | None, label: int
) -> tuple[int, bool]:
    """Every row read once: its length, numbers where numbers belong, the label's range.
    Returns the row count and whether there are empty lines."""
    rows, blank, line = 0, False, 1
    with open(path, "rb") as fh:
        fh.readline()
        while True:
            start = fh.tell()
            chunk = fh.read(CHUNK_BYTES)
            if not chunk:
                return rows, blank
            chunk += fh.readline()  # to the end of the line
            counted = _fast_chunk(chunk, len(header), checks, units, label)
            if counted is None:  # read exactly from here on, finding the first problem
                fh.seek(start)
                text = io.TextIOWrapper(fh, encoding="utf-8", errors="replace", newline="")
                more, more_blank = _count_exact(text, path, line, header, checks, units, label)
                return rows + more, blank or more_blank
            rows += counted[0]
            blank = blank or counted[1]
            line += chunk.count(b"\n")


def _fast_chunk(
    chunk: bytes, width: int, checks: dict[int, str], units: int | None, label: int
) -> tuple[int, bool] | None:
    """(rows, any empty line) of a chunk numpy parses cleanly and every check passes; None
    for anything else (a quote, a lone carriage return, a problem): the exact reader decides."""
    import numpy as np

    if b"\r" in chunk:  # CRLF line ends (a lone CR is left to the csv module)
        if chunk.count(b"\r") != chunk.count(b"\r\n"):
            return None
        chunk = chunk.replace(b"\r\n", b"\n")
    if b'"' in chunk:
        return None
    lines = chunk.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    rows = [row for row in lines if row]
    if any(row.count(b",") != width - 1 for row in rows):
        return None
    if rows and checks:
        columns = sorted(checks)
        try:
            values = np.loadtxt(rows, delimiter=",", usecols=columns, dtype=np.float64,
                                comments=None, ndmin=2)  # fmt: skip
        except ValueError:
            return None
        if not np.isfinite(values).all():
            return None
        if units is not None and label in checks:
            y = values[:, columns.index(label)]
            if not ((y == np.floor(y)) & (y >= 0) & (y < units)).all():
                return None
    return len(rows), len(rows) != len(lines)


def _count_exact(
    fh: io.TextIOWrapper, path: Path, line0: int, header: list[str], checks: dict[int, str],
    units: int | None, label: int,
) -> tuple[int, bool]:  # fmt: skip
    """The rows from ``fh`` on (its first line is line ``line0 + 1`` of the file), read with
    Python's csv module: the first problem raised with its line and column."""
    rows, blank = 0, False
    reader = csv.reader(fh)
    for row in reader:
        line = line0 + reader.line_num
        if not row:
            blank = True
            continue
        if len(row) != len(header):
            raise DataError(f"{path}:{line}:1: {len(row)} fields, the header has {len(header)}")
        for i, column in checks.items():
            value = _number(row[i], f"{path}:{line}:{i + 1}", column)
            if i == label and units is not None and (value != int(value) or not 0 <= value < units):
                raise DataError(
                    f"{path}:{line}:{i + 1}: label {row[i]!r} is not a class index 0..{units - 1}"
                )
        rows += 1
    return rows, blank


def _vocabulary_sizes(path: Path, header: list[str], categorical: list[str], train: int) -> int:
    """One-hot width of the categorical columns: distinct training values, plus one."""
    if not categorical:
        return 0
    seen: dict[str, set[str]] = {c: set() for c in categorical}
    index = {c: header.index(c) for c in categorical}
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        done = 0
        for row in reader:
            if not row:
                continue
            if done == train:
                break
            for c in categorical:
                seen[c].add(row[index[c]])
            done += 1
    return sum(len(values) + 1 for values in seen.values())


def check(
    data: Data, path: Path, input_shape: tuple[int | None, ...], units: int | None,
    validation_split: float, dtypes: dict[str, str] | None = None,
) -> Table:  # fmt: skip
    """Every check, before Keras is loaded: one DataError for the first problem.
    ``dtypes``: each model input's dtype, by name (for ``data.inputs``)."""
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        header = next(csv.reader(fh), [])
    if not header:
        raise DataError(f"{path}:1:1: empty file; the first line names the columns")
    assert data.label is not None  # the schema requires it for csv
    if data.inputs:
        return _check_groups(data, path, header, units, validation_split, dtypes or {})
    features = _columns(data, header, path)
    label = header.index(data.label)
    numeric = {header.index(c): c for c in [*features, data.label]}
    rows, blank = _count(path, header, numeric, units, label)
    train, validation = _nonempty_splits(path, rows, data.test_split, validation_split)
    width = len(features) + _vocabulary_sizes(path, header, data.categorical, train)
    if len(input_shape) != 1 or input_shape[0] not in (None, width):
        raise DataError(
            f"{path}: a row gives {width} values ({len(features)} numeric"
            + (f", {width - len(features)} one-hot" if data.categorical else "")
            + f") but model.input.shape is {list(input_shape)}; make it [{width}]"
        )
    return Table(data, path, data.label, header, features, data.categorical, rows, train,
                 validation, units, blank)  # fmt: skip


def _check_groups(
    data: Data, path: Path, header: list[str], units: int | None, validation_split: float,
    dtypes: dict[str, str],
) -> Table:  # fmt: skip
    """``data.inputs``: each named column exists, numbers where an input takes numbers,
    whole numbers where it takes integers."""
    assert data.inputs is not None and data.label is not None
    kinds: dict[str, str] = {}
    for name, columns in data.inputs.items():
        for column in columns:
            kind = dtypes.get(name, "float32")
            kind = kind if kind == "string" or kind.startswith(("int", "uint")) else "float32"
            if kinds.setdefault(column, kind) != kind:
                raise DataError(
                    f"{path}: column {column!r} feeds inputs of dtypes {kinds[column]} and {kind}"
                )
    missing = [c for c in [data.label, *kinds] if c not in header]
    if missing:
        raise DataError(
            f"{path}:1:1: no column {', '.join(map(repr, missing))} in the header; it has "
            f"{', '.join(header)}"
        )
    label = header.index(data.label)
    numeric = {header.index(c): c for c, kind in kinds.items() if kind != "string"}
    numeric[label] = data.label
    rows, blank = _count(path, header, numeric, units, label)
    _whole_numbers(
        path, {header.index(c): c for c, k in kinds.items() if k not in ("float32", "string")}
    )
    train, validation = _nonempty_splits(path, rows, data.test_split, validation_split)
    return Table(data, path, data.label, header, [], [], rows, train, validation, units, blank,
                 groups=dict(data.inputs), dtypes=kinds)  # fmt: skip


def _whole_numbers(path: Path, columns: dict[int, str]) -> None:
    """The columns that feed an integer input hold whole numbers (checked after _count)."""
    if not columns:
        return
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        next(reader, None)
        for row in reader:
            for i, column in columns.items():
                if row and not row[i].strip().lstrip("+-").isdigit():
                    raise DataError(
                        f"{path}:{reader.line_num}:{i + 1}: column {column!r} holds {row[i]!r}, "
                        "not a whole number, but feeds an integer input"
                    )


def open_streams(
    table: Table, batch_size: int, seed: int, cache_dir: Path | None = None, replicas: int = 1
) -> Streams:
    """The datasets: lines split by position, parsed per batch, lookups adapted on the
    training rows (``cache_dir`` unused: a CSV is read again every epoch); ``replicas`` > 1:
    every batch cut to a multiple of them (a strategy)."""
    import tensorflow as tf

    from specc.backends.kerasenv import keras

    header, data, label = table.header, table.data, table.label
    kinds = table.dtypes or {}
    grouped = [c for c in kinds if c != label]
    wanted = sorted(
        {header.index(c) for c in [*table.features, *table.categorical, *grouped, label]}
    )
    text = {header.index(c) for c in table.categorical}
    parsed = {"string": tf.string, "float32": tf.float32}
    defaults = [
        tf.string if i in text else parsed.get(kinds.get(header[i], "float32"), tf.int64)
        for i in wanted
    ]
    names = [header[i] for i in wanted]
    types = [tf.constant([], d) for d in defaults]  # no default: an empty field is an error
    # Lines stay strings until batched (shuffling one string a row is cheap), then parsed
    # a batch at a time: 4x the rows per second of shuffling CsvDataset's parsed rows here.
    lines = tf.data.TextLineDataset(str(table.path)).skip(1)
    if table.blank:  # a filter per line costs more than all the rest (measured: 4 s of 7)
        lines = lines.filter(lambda line: tf.strings.length(tf.strings.strip(line)) > 0)

    def parse(batch: Any) -> list[Any]:
        return tf.io.decode_csv(batch, types, select_cols=wanted)

    train = lines.take(table.train)
    lookups = {}
    for column in table.categorical:
        lookup = keras().layers.StringLookup(output_mode="one_hot")
        at = names.index(column)
        lookup.adapt(train.batch(1024).map(lambda batch, at=at: parse(batch)[at]))
        lookups[column] = lookup
    one_hot = data.preprocessing.y_steps()

    def sample(batch: Any) -> tuple[Any, Any]:
        """A batch of lines -> (features, labels)."""
        row = dict(zip(names, parse(batch), strict=True))
        y = row[label]
        if table.classes is not None:
            y = tf.cast(y, tf.int32)
            if one_hot:
                y = tf.one_hot(y, one_hot[-1].one_hot)
        if table.groups:  # each model input its columns, by name
            x = {name: tf.stack([row[c] for c in cs], axis=1) for name, cs in table.groups.items()}
            return x, y
        parts = [tf.stack([row[c] for c in table.features], axis=1)] if table.features else []
        parts += [tf.cast(lookups[c](row[c]), tf.float32) for c in table.categorical]
        return tf.concat(parts, axis=1), y

    def batched(part: Any, count: int, shuffle: bool) -> Any:
        count = table._first(count)
        part = part.take(count).apply(tf.data.experimental.assert_cardinality(count))
        if shuffle:
            part = part.shuffle(min(count, SHUFFLE_ROWS), seed=seed, reshuffle_each_iteration=True)
        part = part.batch(batch_size).map(sample, num_parallel_calls=tf.data.AUTOTUNE)
        if replicas > 1:  # the last batch too must split evenly over the replicas
            part = even_batches(tf, part, count, batch_size, replicas)
        return part.prefetch(tf.data.AUTOTUNE)

    rest = lines.skip(table.train)
    validation = rest.take(table.validation)
    validation = batched(validation, table.validation, False) if table.validation else None
    test = batched(rest.skip(table.validation), table.test, False)
    notes = [f"the last batch of each split cut to a multiple of the {replicas} replicas"]
    return Streams(batched(train, table.train, True), validation, test, [], table.train_samples,
                   table.test_samples, str(table.path), notes if replicas > 1 else [])  # fmt: skip
