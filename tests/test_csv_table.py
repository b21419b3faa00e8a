"""A CSV table streamed with tf.data: checked before training in one line each
(``file:line:column``, exit 1), and trained by `specc train` and the emitted script to the
same test metrics for the same seed."""

from __future__ import annotations

import csv
import io
import json
import math

import numpy as np
import pytest

from specc.analysis.pipeline import compile_file
from tests.emitted import emit
from tests.helpers import run_script

SPEC = """\
name: heart
data:
  dataset: csv
  path: {path}
  label: target
{extra}model:
  input: {{shape: [{width}]}}
  layers:
    - {{type: Normalization}}
    - {{type: Dense, units: 8, activation: relu}}
    - {{type: Dense, units: {units}, activation: softmax}}
compile: {{optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}}
training: {{epochs: 1, batch_size: 16, validation_split: 0.25, seed: 5}}
"""


def write_csv(path, rows=120, seed=0, edit=None):
    """age, chol (numbers), thal (categories), target (0..2), learnable from all three."""
    rng = np.random.default_rng(seed)
    lines = [["age", "chol", "thal", "target"]]
    for _ in range(rows):
        t = int(rng.integers(0, 3))
        thal = ["normal", "fixed", "reversible"][t] if rng.random() < 0.8 else "normal"
        lines.append([f"{rng.normal(40 + 8 * t, 4):.1f}", str(int(rng.normal(200 + 25 * t, 15))),
                      thal, str(t)])  # fmt: skip
    if edit:
        edit(lines)
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(lines)
    return path


def spec(tmp_path, data, *, width=6, units=3, extra="  categorical: [thal]\n"):
    path = tmp_path / "heart.yaml"
    path.write_text(SPEC.format(path=data, width=width, units=units, extra=extra))
    return path


@pytest.mark.keras
def test_specc_train_and_the_emitted_script_agree_on_a_csv(tmp_path, specc):
    """Two numeric features and a category (3 values + 1 unseen slot): width 6."""
    path = spec(tmp_path, write_csv(tmp_path / "heart.csv"))
    run = specc("train", str(path), "--output-dir", str(tmp_path / "specc"))
    assert run.exit_code == 0, run.stderr
    ours = json.loads((tmp_path / "specc" / "metrics.json").read_text())
    assert ours["train_samples"] == 72  # 120 rows: 24 test, 24 validation
    script = emit(compile_file(path), tmp_path / "gen")
    proc = run_script(script, "--output-dir", str(tmp_path / "script"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    theirs = json.loads((tmp_path / "script" / "metrics.json").read_text())
    for key in ("test_loss", "test_accuracy"):
        assert math.isclose(ours[key], theirs[key], rel_tol=1e-5), (key, ours[key], theirs[key])


def _error(tmp_path, specc, spec_path):
    run = specc("train", str(spec_path), "--output-dir", str(tmp_path / "run"))
    assert run.exit_code == 1, run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("error: "), run.stderr
    return run.stderr.removeprefix("error: ").strip()


def test_a_missing_column(tmp_path, specc):
    data = write_csv(tmp_path / "h.csv")
    message = _error(tmp_path, specc, spec(tmp_path, data, extra="  categorical: [thall]\n"))
    assert message == f"{data}:1:1: no column 'thall' in the header; it has age, chol, thal, target"


def test_a_value_that_is_not_a_number(tmp_path, specc):
    def edit(lines):
        lines[7][1] = "n/a"

    data = write_csv(tmp_path / "h.csv", edit=edit)
    message = _error(tmp_path, specc, spec(tmp_path, data))
    assert message == (
        f"{data}:8:2: column 'chol' holds 'n/a', not a number; fix the value or list the "
        "column under data.categorical"
    )


def test_a_label_outside_the_classes_and_a_short_row(tmp_path, specc):
    def edit(lines):
        lines[3][3] = "3"

    data = write_csv(tmp_path / "h.csv", edit=edit)
    message = _error(tmp_path, specc, spec(tmp_path, data))
    assert message == f"{data}:4:4: label '3' is not a class index 0..2"
    data = write_csv(tmp_path / "h.csv", edit=lambda lines: lines[5].pop())
    assert (
        _error(tmp_path, specc, spec(tmp_path, data)) == f"{data}:6:1: 3 fields, the header has 4"
    )


def test_the_width_must_be_the_model_inputs(tmp_path, specc):
    data = write_csv(tmp_path / "h.csv")
    message = _error(tmp_path, specc, spec(tmp_path, data, width=5))
    assert message == (
        f"{data}: a row gives 6 values (2 numeric, 4 one-hot) but model.input.shape is [5]; "
        "make it [6]"
    )


def test_an_empty_split(tmp_path, specc):
    data = write_csv(tmp_path / "h.csv", rows=3)
    message = _error(tmp_path, specc, spec(tmp_path, data))
    assert message == (
        f"{data}: 3 row(s) split into 2 for training, 1 for validation and 0 for testing; "
        "each needs at least one"
    )


def test_csv_keys_are_validated(tmp_path, specc):
    data = write_csv(tmp_path / "h.csv")
    path = spec(tmp_path, data, extra="  preprocessing: {x: [{divide: 2}]}\n")
    run = specc("validate", str(path))
    assert run.exit_code == 1 and "csv rows take no x steps" in run.stdout + run.stderr
    path.write_text(path.read_text().replace("  label: target\n", ""))
    run = specc("validate", str(path))
    assert run.exit_code == 1 and "dataset 'csv' needs 'label'" in run.stdout + run.stderr


def _exact(path, header, checks, units, label):
    """The check by Python's csv module alone, from the first data line."""
    from specc.training import csv_table

    with open(path, "rb") as fh:
        fh.readline()
        text = io.TextIOWrapper(fh, encoding="utf-8", errors="replace", newline="")
        try:
            return csv_table._count_exact(text, path, 1, header, checks, units, label)
        except csv_table.DataError as exc:
            return str(exc)


EDITS = {
    "clean": None,
    "blank_lines": lambda lines: lines.insert(150, []) or lines.insert(40, []),
    "a_quoted_field": lambda lines: lines[160].__setitem__(2, "a, quoted"),
    "not_a_number_late": lambda lines: lines[170].__setitem__(1, "x"),
    "nan_late": lambda lines: lines[171].__setitem__(0, "nan"),
    "a_short_row_late": lambda lines: lines[172].pop(),
    "a_long_row_late": lambda lines: lines[173].append("7"),
    "a_label_out_of_range_late": lambda lines: lines[174].__setitem__(3, "5"),
    "a_fractional_label_late": lambda lines: lines[175].__setitem__(3, "1.5"),
    "an_empty_number": lambda lines: lines[176].__setitem__(1, ""),
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS)
def test_the_chunked_check_agrees_with_the_csv_module(tmp_path, monkeypatch, edit):
    """Chunks of 300 bytes (most problems past the first chunks): the same row count and
    empty-line flag, or the same first problem at the same line:column, as reading every
    row with Python's csv module; CRLF line ends too."""
    from specc.training import csv_table

    monkeypatch.setattr(csv_table, "CHUNK_BYTES", 300)
    header = ["age", "chol", "thal", "target"]
    checks = {0: "age", 1: "chol", 3: "target"}
    for crlf in (False, True):
        data = write_csv(tmp_path / "h.csv", rows=200, edit=edit)
        if crlf:
            data.write_bytes(data.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        else:
            data.write_bytes(data.read_bytes().replace(b"\r\n", b"\n"))
        want = _exact(data, header, checks, 3, 3)
        try:
            got = csv_table._count(data, header, checks, 3, 3)
        except csv_table.DataError as exc:
            got = str(exc)
        assert got == want
    if edit is None:
        assert want == (200, False)


def test_a_clean_file_is_checked_without_a_python_float_per_value(tmp_path, monkeypatch):
    """The check pass parses numbers with numpy, a chunk at a time: Python's per-value
    float() (2.4 MB/s, about 7 minutes for 1 GB) runs only where a chunk needs a closer
    look."""
    from specc.training import csv_table

    monkeypatch.setattr(csv_table, "CHUNK_BYTES", 4096, raising=False)
    calls = []
    exact = csv_table._number
    monkeypatch.setattr(csv_table, "_number", lambda *a: calls.append(a) or exact(*a))
    data = write_csv(tmp_path / "h.csv", rows=3000)  # CRLF line ends, as csv.writer writes
    table = csv_table.check(compile_file(spec(tmp_path, data)).spec.data, data, (6,), 3, 0.25)
    assert (table.rows, len(calls)) == (3000, 0)
    assert not table.blank
    data.write_bytes(data.read_bytes().replace(b"\r\n", b"\n"))
    table = csv_table.check(compile_file(spec(tmp_path, data)).spec.data, data, (6,), 3, 0.25)
    assert (table.rows, table.blank, calls) == (3000, False, [])
    lines = data.read_text().splitlines()
    lines[2500] = lines[2500].replace(",", ",x", 1)
    data.write_text("\n".join(lines) + "\n")
    with pytest.raises(csv_table.DataError, match=r"h.csv:2501:2: column 'chol' holds 'x"):
        csv_table.check(compile_file(spec(tmp_path, data)).spec.data, data, (6,), 3, 0.25)
    assert 0 < len(calls) < 3 * 600  # the exact reader ran from the bad line's chunk only


@pytest.mark.keras
def test_subset_and_replicas(tmp_path):
    """--subset N: the first N rows of each part; under a strategy every batch splits evenly
    over the replicas and the stream is sharded by DATA (every worker reads the file)."""
    from dataclasses import replace

    import tensorflow as tf

    from specc.training import csv_table

    data = write_csv(tmp_path / "h.csv", rows=120)
    table = csv_table.check(compile_file(spec(tmp_path, data)).spec.data, data, (6,), 3, 0.25)
    streams = csv_table.open_streams(replace(table, subset=10), 4, 1)
    assert [int(x.shape[0]) for x, _ in streams.train] == [4, 4, 2]
    assert sum(int(x.shape[0]) for x, _ in streams.test) == streams.test_samples == 10
    streams = csv_table.open_streams(table, 20, 1, replicas=4)  # 72 rows: 3 x 20, then 12
    assert [int(x.shape[0]) for x, _ in streams.train] == [20, 20, 20, 12]
    streams = csv_table.open_streams(table, 14, 1, replicas=7)  # 5 x 14, then 2: left out
    assert [int(x.shape[0]) for x, _ in streams.train] == [14] * 5 and len(streams.train) == 5
    policy = streams.train.options().experimental_distribute.auto_shard_policy
    assert policy == tf.data.experimental.AutoShardPolicy.DATA
