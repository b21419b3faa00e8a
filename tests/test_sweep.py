"""specc sweep: grid/random/TPE sweeps over spec paths on Optuna, on a synthetic .npz.

Trials here are one-layer models on 64 synthetic samples (about a second each); the
kill/resume and two-worker tests run the sweep in subprocesses, as a user would.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from specc.files import HOST
from specc.training.sweep import liveness, scheduling
from specc.training.sweep import params as sweep_params
from specc.training.sweep import storage as sweep_storage
from specc.training.sweep import study as sweep_study
from tests.helpers import deadline, wait_until, write_npz

optuna = pytest.importorskip("optuna")

TINY = """\
name: tiny
data:
  dataset: npz
  path: {data}
  preprocessing:
    x: [{{reshape: [784]}}, {{cast: float32}}, {{divide: 255}}]
    y: [{{one_hot: 10}}]
model:
  input: {{shape: [784]}}
  layers:
    - {{type: Dense, units: 8, activation: relu}}
    - {{type: Dense, units: 10, activation: softmax}}
compile:
  optimizer: {{type: Adam, learning_rate: 0.01}}
  loss: categorical_crossentropy
  metrics: [accuracy]
training:
  epochs: 1
  batch_size: 16
  validation_split: 0.25
  seed: 1
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    data = write_npz(tmp_path / "d.npz")
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY.format(data=data))
    return spec


def study_of(folder: Path, storage: str | None = None) -> optuna.Study:
    url = storage or f"sqlite:///{folder / 'study.db'}"
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)  # as specc sweep opens it
    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend

        url = optuna.storages.JournalStorage(JournalFileBackend(url.removeprefix("journal:")))
    return optuna.load_study(study_name="tiny", storage=url)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def sweep_process(spec: Path, *args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "specc", "sweep", str(spec), *args],
        cwd=spec.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        **kwargs,
    )  # fmt: skip


# -- the command line -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (["--grid", "model.layers[0].units"],
         "error: --grid #1: 'model.layers[0].units': expected PATH=VALUES, "
         "e.g. 'model.layers[1].rate=[0.25, 0.5]'"),
        (["--grid", "model.layers[0.units=[1]"],
         "error: --grid #1: 'model.layers[0.units': expected a key or [index] at column 13"),
        (["--grid", "model.layers[0].units=[4, 8"],
         "error: --grid #1: '[4, 8' is not a YAML value: YAML syntax error: "
         "did not find expected ',' or ']'"),
        (["--grid", "model.layers[0].units=[]"],
         "error: --grid #1: model.layers[0].units: the list of values is empty"),
        (["--grid", "model.layers[0].units=[4, 4]"],
         "error: --grid #1: model.layers[0].units: 4 is listed twice"),
        (["--grid", "model.layers[0].units=[[4]]"],
         "error: --grid #1: model.layers[0].units: [4] is not a single value; sweep a nested "
         "value by its own path (e.g. model.layers[0].kernel_size[0])"),
        (["--range", "compile.optimizer.learning_rate=1e-2..1e-4"],
         "error: --range #1: '1e-2..1e-4': the low end must be below the high end"),
        (["--range", "compile.optimizer.learning_rate=0..1e-2:log"],
         "error: --range #1: '0..1e-2:log': a :log range needs a low end above 0"),
        (["--range", "compile.optimizer.learning_rate=1e-4-1e-2"],
         "error: --range #1: '1e-4-1e-2': expected LOW..HIGH or LOW..HIGH:log, "
         "e.g. 'compile.optimizer.learning_rate=1e-4..1e-2:log'"),
        (["--range", "compile.optimizer.learning_rate=a..b"],
         "error: --range #1: 'a..b': 'a' is not a finite number"),
        (["--sampler", "grid", "--range", "compile.optimizer.learning_rate=1e-4..1e-2"],
         "error: --range #1: a grid sweep needs lists of values (--grid); "
         "a range needs --sampler random or tpe"),
        (["--grid", "model.layers[0].units=[4, 8]", "--trials", "3"],
         "error: --trials 3: a grid sweep runs each of its 2 point(s) once; "
         "leave --trials out, or use --sampler random or tpe"),
        (["--grid", "model.layers[0].units=[4]", "--grid", "model.layers[0].units=[8]"],
         "error: --grid #2: model.layers[0].units is already swept by --grid #1"),
        (["--grid", "compile.optimizer.learning_rate=[0.1]", "--grid", "compile.optimizer=[sgd]"],
         "error: --grid #1: compile.optimizer.learning_rate is inside compile.optimizer, swept by "
         "--grid #2: each value there would replace it; sweep paths that do not contain each other"),
        (["--grid", "compile.optimizer=[sgd]", "--range", "compile.optimizer.learning_rate=0.1..1"],
         "error: --range #1: compile.optimizer.learning_rate is inside compile.optimizer, swept by "
         "--grid #1: each value there would replace it; sweep paths that do not contain each other"),
        (["--grid", "training.epochs=[1, 2]", "--epochs", "1"],
         "error: --epochs: training.epochs is swept; leave --epochs out"),
        ([], "error: nothing to sweep: give at least one --grid or --range"),
        (["--grid", "model.layers[5].units=[4]"],
         "error: --grid #1: model.layers[5].units: not in the spec: model.layers has 2 item(s): "
         "index 5 is out of range"),
        (["--grid", "model.stack.units=[4]"],
         "error: --grid #1: model.stack.units: not in the spec: model.stack: no such key"),
        (["--grid", "training.epochz=[4]"],
         "tiny.yaml: --grid #1 (training.epochz=4): error: training.epochz: unknown key 'epochz' "
         "(did you mean 'epochs'?)"),
        (["--grid", "model.layers[0].units=[4, -1]"],
         "tiny.yaml: --grid #1 (model.layers[0].units=-1): error: model.layers[0].units: must "
         "be greater than 0 (got -1)"),
        (["--storage", "nowhere", "--grid", "model.layers[0].units=[4]"],
         "error: --storage 'nowhere': expected a database URL (sqlite:///sweep.db, "
         "postgresql://user@host/db, mysql://...) or journal:PATH"),
    ],
)  # fmt: skip
def test_bad_sweeps_are_one_line_usage_errors(tiny, specc, args, stderr):
    run = specc(
        "sweep", str(tiny), "--output-dir", str(tiny.parent / "out"), *args, cwd=tiny.parent
    )
    assert (run.exit_code, run.stderr.strip()) == (2, stderr)
    assert not (tiny.parent / "out" / "trial-000").exists()


def test_a_file_that_is_not_a_journal_is_refused_untouched(tiny, specc):
    for text in (b"notes, not a journal\n", b"SQLite format 3\x00\x10\x00"):  # study.db given
        other = tiny.parent / "notes.log"
        other.write_bytes(text)
        run = specc("sweep", str(tiny), "--output-dir", "out", "--grid", "model.layers[0].units=[4]",
                    "--storage", "journal:notes.log", cwd=tiny.parent)  # fmt: skip
        assert (run.exit_code, run.stderr.strip()) == (
            2,
            (
                "error: --storage 'journal:notes.log': notes.log is not an Optuna journal file (its "
                "first line is not a journal record); name a new file or one an earlier sweep wrote"
            ),
        )
        assert other.read_bytes() == text
    broken = tiny.parent / "broken.log"  # records, but not ones Optuna can replay
    broken.write_text('{"op_code": 0, "worker_id": "w", "study_name": "s", "directions": [2]}\n'
                      '{"op_code": 99}\n')  # fmt: skip
    before = broken.read_bytes()
    run = specc("sweep", str(tiny), "--output-dir", "out", "--grid", "model.layers[0].units=[4]",
                "--storage", "journal:broken.log", cwd=tiny.parent)  # fmt: skip
    assert run.exit_code == 2
    assert run.stderr.startswith(
        "error: --storage 'journal:broken.log': not an Optuna journal file: "
    )
    assert broken.read_bytes() == before


def test_a_spec_without_an_accuracy_is_refused_before_any_trial(tiny, specc):
    tiny.write_text(tiny.read_text().replace("metrics: [accuracy]", "metrics: [mae]"))
    run = specc("sweep", str(tiny), "--output-dir", "out", "--grid", "model.layers[0].units=[4]",
                cwd=tiny.parent)  # fmt: skip
    assert (run.exit_code, run.stderr.strip()) == (2, (
        f"{tiny}: error: compile.metrics: no accuracy to rank the trials by; add one "
        "(metrics: [accuracy])"))  # fmt: skip
    assert not (tiny.parent / "out").exists()


def test_a_spec_without_a_compile_section_is_refused_before_any_trial(tmp_path, specc):
    # mypy found it: compile may be None, and the sweep read compile.metrics (AttributeError)
    spec = tmp_path / "nocompile.yaml"
    spec.write_text(
        "specc: 1\nname: tiny\nmodel: {input: {shape: [4]}, layers: [{type: Dense, units: 2}]}\n"
    )
    run = specc("sweep", str(spec), "--output-dir", "out", "--grid", "model.layers[0].units=[2,3]",
                cwd=tmp_path)  # fmt: skip
    assert (run.exit_code, run.stderr.strip()) == (2, (
        f"{spec}: error: compile: no compile section, so no accuracy to rank the trials by; "
        "add one (compile: {loss: ..., metrics: [accuracy]})"))  # fmt: skip
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("keys", "prefix", "key"),
    [
        (["test_loss", "test_acc"], "test_", "test_acc"),  # metrics: [acc], as Keras names it
        (["test_acc", "test_accuracy"], "test_", "test_accuracy"),
        (["test_loss", "test_sparse_categorical_accuracy"], "test_", "test_sparse_categorical_accuracy"),
        (["test_loss", "test_digit_accuracy"], "test_", "test_digit_accuracy"),  # an output's
        (["test_loss", "test_mae"], "test_", None),
        (["loss", "acc", "val_loss", "val_acc"], "val_", "val_acc"),
        (["loss", "acc", "val_loss"], "", "acc"),
        (["loss", "val_acc"], "", None),
    ],
)  # fmt: skip
def test_the_accuracy_ranked_and_pruned_by(keys, prefix, key):
    from specc.training import sweep as sweeping

    assert sweeping.accuracy_key(keys, prefix) == key


def test_tpe_sweeps_use_optunas_tpe_sampler():

    assert type(sweep_study._sampler("tpe")) is optuna.samplers.TPESampler
    assert type(sweep_study._sampler("random")) is optuna.samplers.RandomSampler


def test_help_teaches_with_examples(specc):
    run = specc("sweep", "--help")
    assert run.exit_code == 0
    for text in ("--grid 'model.layers", "--range 'compile.optimizer.learning_rate=1e-4..1e-2:log'",
                 "journal:PATH", "resume", "Exit codes: 0 at least one trial completed"):  # fmt: skip
        assert text in " ".join(run.stdout.split()), text


# -- running sweeps ------------------------------------------------------------------------
def test_set_is_applied_before_the_swept_values(tiny, specc):
    """--set, as on every command that reads a spec: in every trial, under the swept value."""
    out = tiny.parent / "out"
    run = specc("sweep", str(tiny), "--output-dir", str(out), "--set", "model.layers[0].units=5",
                "--set", "model.layers[0].activation=tanh", "--grid", "model.layers[0].units=[3]")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    [row] = read_csv(out / "sweep.csv")
    ran = (out / row["run_folder"] / "spec.yaml").read_text()
    assert "units: 3\n" in ran and "activation: tanh\n" in ran
    bad = specc("sweep", str(tiny), "--output-dir", str(out), "--set", "modle.x=1",
                "--grid", "model.layers[0].units=[3]", cwd=tiny.parent)  # fmt: skip
    assert (bad.exit_code, bad.stderr) == (
        2, "tiny.yaml: --set #1 (modle.x=1): error: modle: no such key (did you mean 'model'?)\n"
    )  # fmt: skip


def test_grid_sweep_runs_each_point_once_and_ranks_them(tiny, specc):
    out = tiny.parent / "out"
    args = ("sweep", str(tiny), "--output-dir", str(out), "--epochs", "2", "--prune",
            "--grid", "model.layers[0].units=[2, 16]")  # fmt: skip
    run = specc(*args)
    assert run.exit_code == 0, run.stderr
    assert f"wrote {out}/: sweep.csv, sweep.md, sweep.png (2 complete)" in run.stdout
    rows = read_csv(out / "sweep.csv")
    assert [r["state"] for r in rows] == ["complete", "complete"]
    assert sorted(r["model.layers[0].units"] for r in rows) == ["16", "2"]
    accuracy = [float(r["test_accuracy"]) for r in rows]
    assert accuracy == sorted(accuracy, reverse=True) and [r["rank"] for r in rows] == ["1", "2"]
    for r in rows:  # the run folder holds what specc train writes, with the swept value
        metrics = json.loads((out / r["run_folder"] / "metrics.json").read_text())
        assert metrics["test_accuracy"] == pytest.approx(float(r["test_accuracy"]))
        assert float(r["seconds_per_epoch"]) == metrics["seconds_per_epoch"]
        units = int(r["model.layers[0].units"])
        assert int(r["params"]) == 784 * units + units + units * 10 + 10
        assert f"units: {units}\n" in (out / r["run_folder"] / "spec.yaml").read_text()
    md = (out / "sweep.md").read_text()
    assert "| rank | trial | state | model.layers[0].units | params | seconds_per_epoch |" in md
    assert f"| 1 | {rows[0]['trial']} | complete | {rows[0]['model.layers[0].units']} |" in md
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    study = study_of(out)  # --prune: validation accuracy reported per epoch
    assert [sorted(t.intermediate_values) for t in study.trials] == [[1, 2], [1, 2]]
    again = specc(*args)  # all done: nothing runs twice
    assert again.exit_code == 0 and "trial " not in again.stdout
    assert len(study_of(out).trials) == 2


def test_a_variant_is_swept_with_its_base_merged(tiny, specc):
    """A variant (``extends:``) sweeps like any spec: each trial is the base, the
    variant's own values, then the swept one; a swept path may be one only the base has."""
    variant = tiny.parent / "tiny_tanh.yaml"
    variant.write_text("extends: tiny.yaml\nname: tiny\nset:\n  model.layers[0].activation: tanh\n")
    out = tiny.parent / "out"
    run = specc("sweep", str(variant), "--output-dir", str(out),
                "--grid", "model.layers[0].units=[3]")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    [row] = read_csv(out / "sweep.csv")
    ran = (out / row["run_folder"] / "spec.yaml").read_text()
    assert "units: 3\n" in ran and "activation: tanh\n" in ran and "epochs: 1\n" in ran
    bad = specc("sweep", str(variant), "--output-dir", str(out), "--grid",
                "model.layers[0].units=[0]")  # fmt: skip
    assert (bad.exit_code, bad.stderr) == (2, (
        f"{variant}: --grid #1 (model.layers[0].units=0): error: model.layers[0].units: "
        "must be greater than 0 (got 0)\n"
    ))  # fmt: skip


def test_random_sweep_over_a_log_range_and_choices(tiny, specc):
    out = tiny.parent / "out"
    run = specc("sweep", str(tiny), "--output-dir", str(out), "--sampler", "random",
                "--trials", "2", "--range", "compile.optimizer.learning_rate=1e-4..1e-1:log",
                "--grid", "model.layers[0].activation=[relu, tanh]")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    rows = read_csv(out / "sweep.csv")
    assert len(rows) == 2 and {r["state"] for r in rows} == {"complete"}
    for r in rows:
        rate = float(r["compile.optimizer.learning_rate"])
        assert 1e-4 <= rate <= 1e-1
        spec = (out / r["run_folder"] / "spec.yaml").read_text()
        assert f"activation: {r['model.layers[0].activation']}" in spec
        assert f"learning_rate: {rate!r}" in spec or f"learning_rate: {rate}" in spec


def test_a_failing_trial_is_recorded_and_the_sweep_goes_on(tiny, specc):
    out = tiny.parent / "out"
    run = specc("sweep", str(tiny), "--output-dir", str(out),
                "--grid", "data.path=[missing.npz, d.npz]", cwd=tiny.parent)  # fmt: skip
    assert run.exit_code == 0, run.stderr
    assert "trial 0: failed: missing.npz: no such file" in run.stdout
    rows = read_csv(out / "sweep.csv")
    assert [(r["state"], r["data.path"], r["error"]) for r in rows] == [
        ("complete", "d.npz", ""),
        ("failed", "missing.npz", "missing.npz: no such file"),
    ]
    assert "| failed | missing.npz |" in (out / "sweep.md").read_text()
    assert study_of(out).trials[0].state == optuna.trial.TrialState.FAIL


def test_a_sweep_whose_trials_all_fail_exits_1(tiny, specc):
    out = tiny.parent / "out"
    run = specc("sweep", str(tiny), "--output-dir", str(out), "--grid", "data.path=[gone.npz]")
    assert run.exit_code == 1
    assert "(1 failed)" in run.stdout
    assert read_csv(out / "sweep.csv")[0]["error"] == "gone.npz: no such file"


def test_pruning_stops_a_trial_the_pruner_gives_up(tiny):
    """The callback reports each epoch's validation accuracy and stops fit when told to."""
    from specc.backends.kerasenv import keras as get_keras
    from specc.training.sweep.scheduling import _pruning_callback

    class Trial:
        reports: list = []  # noqa: RUF012

        def report(self, value, step):
            self.reports.append((step, value))

        def should_prune(self):
            return len(self.reports) >= 2

    keras = get_keras()
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    state: dict = {}
    callback = _pruning_callback(Trial(), state)
    model.stop_training = False  # as fit sets it
    callback.set_model(model)
    callback.on_epoch_end(0, {"accuracy": 0.5, "val_accuracy": 0.25})
    assert not model.stop_training and state == {}
    callback.on_epoch_end(1, {"accuracy": 0.5, "val_accuracy": 0.75})
    assert model.stop_training and state == {"pruned": 2}
    assert Trial.reports == [(1, 0.25), (2, 0.75)]


def test_a_killed_sweep_resumes_without_losing_or_repeating_a_trial(tiny, specc):
    """kill -9 during trial 0; the same command again marks it failed (interrupted), runs its
    values again and then the rest: each grid point completes exactly once."""
    out = tiny.parent / "out"
    args = ("--output-dir", str(out), "--grid", "training.epochs=[15, 1]")
    proc = sweep_process(tiny, *args)
    try:

        def mid_trial() -> bool:  # an epoch of trial 0 done
            assert proc.poll() is None, proc.communicate()
            return (out / "trial-000" / "history.json").exists()

        wait_until(mid_trial, 600, "the sweep did not finish an epoch of trial 0")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.communicate()
    assert [t.state.name for t in study_of(out).trials] == ["RUNNING", "WAITING"]
    run = specc("sweep", str(tiny), *args)
    assert run.exit_code == 0, run.stderr
    assert "ended before it finished; marked failed, its values queued again" in run.stdout
    trials = study_of(out).trials
    assert [(t.state.name, t.params.get("training.epochs")) for t in trials] == [
        ("FAIL", 15), ("COMPLETE", 1), ("COMPLETE", 15)
    ]  # fmt: skip
    assert trials[0].user_attrs["error"].startswith("interrupted: its worker (pid ")
    assert trials[2].user_attrs["retry_of"] == 0
    rows = read_csv(out / "sweep.csv")
    assert sorted((r["state"], r["training.epochs"]) for r in rows) == [
        ("complete", "1"), ("complete", "15"), ("failed", "15")
    ]  # fmt: skip
    assert specc("sweep", str(tiny), *args).exit_code == 0
    assert len(study_of(out).trials) == 3


def test_two_workers_share_one_study_and_run_each_trial_once(tiny, specc):
    """Two processes, one journal-file study: every grid point runs exactly once. The test's
    own process is the second worker (it has Keras loaded already: a quicker test)."""
    out = tiny.parent / "out"
    journal = f"journal:{tiny.parent / 'study.log'}"
    args = ("--output-dir", str(out), "--storage", journal, "--epochs", "2",
            "--grid", "model.layers[0].units=[2, 4, 6, 8]")  # fmt: skip
    other = sweep_process(tiny, *args)
    here = specc("sweep", str(tiny), *args)
    stdout, stderr = other.communicate(timeout=600)
    assert (other.returncode, here.exit_code) == (0, 0), stderr[-3000:] + here.stderr
    trials = study_of(out, journal).trials
    assert sorted(t.params["model.layers[0].units"] for t in trials) == [2, 4, 6, 8]
    assert {t.state.name for t in trials} == {"COMPLETE"}
    ran = [
        [line.split(":")[0] for line in text.splitlines() if "test_accuracy" in line]
        for text in (stdout, here.stdout)
    ]
    assert sorted(ran[0] + ran[1]) == sorted(f"trial {t.number}" for t in trials)  # none twice
    by = {t.user_attrs["specc_worker"]["pid"] for t in trials}
    assert by <= {other.pid, os.getpid()}
    assert sorted(p.name for p in out.glob("trial-*")) == [f"trial-{i:03d}" for i in range(4)]
    assert len(read_csv(out / "sweep.csv")) == 4


@pytest.mark.slow
def test_a_grid_sweep_on_real_mnist(tmp_path, specc, mnist):
    """The blog CNN on 5,000 MNIST images, three epochs, two dropout rates (docs/sweeps.md's
    example measured 0.883 to 0.910 over rate and optimizer)."""
    from tests.helpers import SPECS

    out = tmp_path / "sweep"
    run = specc("sweep", str(SPECS / "mnist_cnn.yaml"), "--data", str(mnist), "--epochs", "3",
                "--subset", "5000", "--output-dir", str(out),
                "--grid", "model.layers[11].rate=[0.2, 0.5]")  # fmt: skip
    assert run.exit_code == 0, run.stderr
    rows = read_csv(out / "sweep.csv")
    assert [r["state"] for r in rows] == ["complete", "complete"]
    assert all(float(r["test_accuracy"]) > 0.85 for r in rows)


def test_each_sampler_is_the_one_named():
    from specc.training.sweep.study import _sampler

    assert isinstance(_sampler("tpe"), optuna.samplers.TPESampler)
    assert isinstance(_sampler("random"), optuna.samplers.RandomSampler)


# -- storages (issue 17: FIFOs, big grids, databases, other workers' trials) ------------
def test_a_fifo_given_as_journal_is_refused_at_once(tiny, specc):
    """Opening a FIFO blocks until a writer comes: it is refused from its stat, unopened."""

    os.mkfifo(tiny.parent / "pipe")
    with deadline(120):  # a guard: refused at once, or the FIFO blocks for ever
        run = specc("sweep", str(tiny), "--output-dir", "out", "--storage", "journal:pipe",
                    "--grid", "model.layers[0].units=[4]", cwd=tiny.parent)  # fmt: skip
    assert (run.exit_code, run.stderr) == (2, (
        "error: --storage 'journal:pipe': pipe is a FIFO (named pipe), not a regular file; "
        "name a new file or one an earlier sweep wrote\n"))  # fmt: skip


def test_a_huge_grid_is_checked_value_by_value(tiny, monkeypatch, capsys):
    """10⁶ points: each of the 300 values is checked on its own (not every point, which took
    10 to 20 minutes), and the checks say so; a bad value is still refused before any trial."""
    from specc.language import variants
    from specc.training import sweep as sweeping

    grids = ["model.layers[0].units=[" + ", ".join(map(str, range(1, 101))) + "]",
             "training.batch_size=[" + ", ".join(map(str, range(1, 101))) + "]",
             "compile.optimizer.learning_rate=[" + ", ".join(f"{i}e-4" for i in range(1, 101)) + "]"]  # fmt: skip
    settings = sweeping.resolve_settings(str(tiny), grids, [], None, None)
    assert settings.trials == 10**6
    loaded = variants.load(str(tiny))
    checked = []

    def counted(*args):
        checked.append(args[2])
        assert len(checked) <= 301, "every point is checked (10 to 20 minutes for 10⁶)"
        return real(*args)

    real = sweeping.spec_with
    monkeypatch.setattr(sweep_params, "spec_with", counted)
    start = time.process_time()
    sweeping.check_values(loaded, settings.params, grid=True)
    assert time.process_time() - start < 30
    assert {units for units, _, _ in checked} == set(range(1, 101))  # every value, once at least
    assert capsys.readouterr().out == (
        "checking each of the 300 swept values on its own; each of the 1,000,000 grid points "
        "is checked as its trial starts\n"
    )
    checked.clear()
    bad = sweeping.resolve_settings(str(tiny), [grids[0].replace("[1, ", "[-1, "), grids[1]], [],
                                    None, None)  # fmt: skip
    with pytest.raises(sweeping.SweepUsageError, match=r"must be greater than 0 \(got -1\)"):
        sweeping.check_values(loaded, bad.params, grid=True)


def test_queueing_many_trials_says_what_it_is_doing(tiny, monkeypatch, capsys):
    from specc.training import sweep as sweeping

    monkeypatch.setattr(sweep_study, "SAY_QUEUEING_OVER", 2)
    monkeypatch.setattr(sweep_study, "SAY_EVERY_S", 0.0)
    settings = sweeping.resolve_settings(str(tiny), ["model.layers[0].units=[1, 2, 3]"], [], None,
                                         None, output_dir=str(tiny.parent / "out"))  # fmt: skip
    sweep = sweeping.open_sweep(settings)
    assert capsys.readouterr().out == (
        f"queueing 3 trials in {tiny.parent / 'out' / 'study.db'} before the first starts\n"
        "queued 1 of 3 trials\nqueued 2 of 3 trials\nqueued 3 of 3 trials\n"
    )
    assert len(sweep.study.trials) == 3 and sweep.study.user_attrs["specc_ready"]


def test_the_first_open_of_a_database_is_tried_again(tmp_path, monkeypatch):
    """Workers started together on an empty database each create Optuna's tables; all but
    one fail (PostgreSQL: IntegrityError on pg_type_typname). The open is tried again."""
    import sqlalchemy.exc

    from specc.training import sweep as sweeping

    real = optuna.storages.RDBStorage
    opened: list[str] = []

    def racing(url, **kwargs):
        opened.append(url)
        if len(opened) == 1:
            raise sqlalchemy.exc.IntegrityError("CREATE TABLE studies", {}, Exception(
                'duplicate key value violates unique constraint "pg_type_typname_nsp_index"'))  # fmt: skip
        return real(url, **kwargs)

    monkeypatch.setattr(optuna.storages, "RDBStorage", racing)
    storage = sweeping.open_storage(f"sqlite:///{tmp_path / 'study.db'}", tmp_path)
    assert isinstance(storage, real) and len(opened) == 2
    opened.clear()  # a lasting failure is said, after a few tries
    monkeypatch.setattr(sweep_storage, "OPEN_TRIES", 3)

    def failing(url, **kwargs):
        opened.append(url)
        raise sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("not a race"))

    monkeypatch.setattr(optuna.storages, "RDBStorage", failing)
    with pytest.raises(sweeping.SweepUsageError, match="cannot open: IntegrityError: "):
        sweeping.open_storage(f"sqlite:///{tmp_path / 'other.db'}", tmp_path)
    assert len(opened) == 3


def test_a_missing_database_driver_names_what_to_install(tmp_path, monkeypatch):
    """postgresql:// is psycopg 3 (specc[postgres]) whatever SQLAlchemy's default; the
    message names the module and the package when it is missing."""
    from specc.training import sweep as sweeping

    url = f"postgresql://u@/db?host={tmp_path}"
    monkeypatch.setitem(sys.modules, "psycopg2", None)  # postgresql:// does not need it
    with pytest.raises(sweeping.SweepUsageError) as raised:  # no server there: cannot connect
        sweeping.open_storage(url, tmp_path)
    assert str(raised.value).startswith(f"--storage {url!r}: cannot open: OperationalError: ")
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(sweeping.SweepUsageError) as raised:
        sweeping.open_storage(url, tmp_path)
    assert str(raised.value) == (
        f"--storage {url!r}: its database driver (Python module 'psycopg') is not installed: "
        "pip install 'specc[postgres]' (psycopg 3)"
    )
    url2 = url.replace("postgresql:", "postgresql+psycopg2:")
    with pytest.raises(sweeping.SweepUsageError) as raised:
        sweeping.open_storage(url2, tmp_path)
    assert str(raised.value) == (
        f"--storage {url2!r}: its database driver (Python module 'psycopg2') is not installed: "
        "pip install psycopg2-binary"
    )


def test_optunas_heartbeat_fails_and_queues_again_another_machines_dead_trial(tiny, monkeypatch):
    """A database storage keeps Optuna's heartbeat: a trial of another machine that stopped
    beating is failed by the database's clock and queued again by Optuna's retry callback;
    the tables say why."""
    from specc.training import sweep as sweeping

    monkeypatch.setattr(liveness, "STALE_AFTER_S", 1.0)
    settings = sweeping.resolve_settings(str(tiny), ["model.layers[0].units=[3, 5]"], [], None,
                                         None, output_dir=str(tiny.parent / "out"))  # fmt: skip
    sweep = sweeping.open_sweep(settings)
    assert liveness._optuna_beats(sweep.storage)
    trial = sweeping.claim(sweep)
    sweep.storage.set_trial_user_attr(
        trial._trial_id, "specc_worker", {"host": "elsewhere", "pid": 7, "node": "gpu-2"}
    )
    sweep.storage.record_heartbeat(trial._trial_id)
    sweeping.recover_stale(sweep)  # it beat just now: alive
    assert [t.state.name for t in sweep.study.trials] == ["RUNNING", "WAITING"]
    time.sleep(2.5)
    sweeping.recover_stale(sweep)
    trials = sweep.study.trials
    assert [t.state.name for t in trials] == ["FAIL", "WAITING", "WAITING"]
    assert trials[2].system_attrs["failed_trial"] == 0
    assert trials[2].system_attrs["fixed_params"] == {"model.layers[0].units": 3}
    assert trials[2].user_attrs == {}  # not the dead trial's worker or folder
    [row] = [r for r in sweeping.rows(sweep) if r["trial"] == 0]
    assert row["error"] == (
        "interrupted: its worker (pid 7 on gpu-2) sent no heartbeat for over 1 s; "
        "queued again as trial 2"
    )


def test_a_worker_waits_for_the_others_trials_before_its_last_tables(tiny, monkeypatch, capsys):
    """In-process: trial 0 is another worker's (alive, on this machine, its run folder in
    its own sweep folder); this worker runs trial 1, then waits for trial 0 to end before
    it writes its last tables, which say where trial 0's run folder is."""
    from optuna.trial import TrialState

    from specc.training import sweep as sweeping

    settings = sweeping.resolve_settings(str(tiny), ["model.layers[0].units=[3, 5]"], [], None,
                                         None, output_dir=str(tiny.parent / "b"))  # fmt: skip
    sweep = sweeping.open_sweep(settings)
    other = sweeping.claim(sweep)._trial_id
    theirs = tiny.parent / "a" / "trial-000"
    theirs.mkdir(parents=True)
    for key, value in (("specc_worker", {"host": HOST, "pid": os.getppid(), "node": "n"}),
                       ("run_folder", "trial-000"), ("run_path", str(theirs))):  # fmt: skip
        sweep.storage.set_trial_user_attr(other, key, value)
    seen: list[str] = []

    def the_other_ends() -> None:  # while this worker waits, what it wrote says "running"
        seen.append((sweep.folder / "sweep.md").read_text())
        sweep.storage.set_trial_user_attr(other, "test_accuracy", 0.5)
        sweep.storage.set_trial_state_values(other, TrialState.COMPLETE, [0.5])

    monkeypatch.setattr(scheduling, "_pause", the_other_ends)
    assert sweeping.run(sweep) == {"complete": 2}
    assert "waiting for trial(s) 0 of other workers to end" in capsys.readouterr().out
    assert len(seen) == 1 and f"| running | 3 |  |  |  | {theirs} |  |" in seen[0]
    table = {r["trial"]: r for r in read_csv(sweep.folder / "sweep.csv")}
    assert (table["0"]["state"], table["0"]["run_folder"]) == ("complete", str(theirs))
    assert (table["1"]["state"], table["1"]["run_folder"]) == ("complete", "trial-001")
    assert "running" not in (sweep.folder / "sweep.md").read_text()


@pytest.mark.slow
def test_a_workers_tables_are_true_when_it_ends(tiny):
    """Two workers, one study, each its own sweep folder. The one whose trials end first
    waits for the other's to end, so its sweep.md says none is running; a trial run by the
    other worker shows where its run folder is, not a folder this one does not have. (The
    first worker is stopped mid-trial with SIGSTOP until the second says it waits.)"""

    journal = f"journal:{tiny.parent / 'study.log'}"
    a, b = tiny.parent / "a", tiny.parent / "b"
    args = ("--storage", journal, "--grid", "training.epochs=[2, 1]")
    first = sweep_process(tiny, "--output-dir", str(a), *args)  # trial 0
    second = None
    try:

        def started() -> bool:
            assert first.poll() is None, first.communicate()
            return (a / "trial-000").exists()

        wait_until(started, 600, "the first worker did not start a trial", poll=0.05)
        first.send_signal(signal.SIGSTOP)
        second = sweep_process(tiny, "--output-dir", str(b), *args)  # trial 1
        said = []
        with deadline(180):
            while not any(line.startswith("waiting for") for line in said):
                line = second.stdout.readline()
                assert line, (said, second.communicate())  # it ended without waiting
                said.append(line)
        assert said[-1] == (
            "waiting for trial(s) 0 of other workers to end, to write the tables as they end "
            "(Ctrl-C stops waiting; nothing is lost)\n"
        )
        first.send_signal(signal.SIGCONT)
        out_a, err_a = first.communicate(timeout=600)
        _, err_b = second.communicate(timeout=600)
    finally:
        for proc in (first, second):
            if proc is not None:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
    assert (first.returncode, second.returncode) == (0, 0), err_a[-3000:] + err_b[-3000:]
    assert "waiting" not in out_a
    for folder, mine, theirs in ((a, "trial-000", str(b / "trial-001")),
                                 (b, "trial-001", str(a / "trial-000"))):  # fmt: skip
        table = read_csv(folder / "sweep.csv")
        assert sorted((r["trial"], r["state"], r["run_folder"]) for r in table) == sorted(
            [("0", "complete", mine if folder == a else theirs),
             ("1", "complete", theirs if folder == a else mine)]
        )  # fmt: skip
        md = (folder / "sweep.md").read_text()
        assert "running" not in md and "2 trial(s), 2 complete" in md
        assert [p.name for p in folder.glob("trial-*")] == [mine]


# -- a real PostgreSQL server, started here ------------------------------------------------
def _postgres_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return versions[-1].parent if versions else None


@pytest.fixture(scope="module")
def postgres() -> Iterator[Callable[[], str]]:
    """A throwaway PostgreSQL server (Debian's postgresql package) on a Unix socket in a
    temporary folder; calling it makes an empty database and gives its postgresql:// URL.
    Skipped, with the reason, where no server can start."""
    pytest.importorskip("psycopg", reason="no psycopg (pip install 'specc[postgres]')")
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql)")
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root, and no 'postgres' user to run the server as")
        if shutil.which("runuser") is None:
            pytest.skip("running as root, and no runuser to run the server as 'postgres'")
        as_user = ["runuser", "-u", "postgres", "--"]
    home = Path(tempfile.mkdtemp(prefix="specc-pg-"))  # short: a socket path has a limit
    home.chmod(0o755)
    if as_user:
        os.chown(home, user.pw_uid, user.pw_gid)

    def server(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*as_user, *args], capture_output=True, text=True, timeout=300)

    made = server(str(bindir / "initdb"), "-D", str(home / "data"), "-A", "trust",
                  "-U", "postgres", "--no-sync")  # fmt: skip
    started = made.returncode == 0 and server(
        str(bindir / "pg_ctl"), "-D", str(home / "data"), "-l", str(home / "log"), "-w", "-o",
        f"-k {home} -c listen_addresses='' -p 5432 -c fsync=off", "start",
    )  # fmt: skip
    if not started or started.returncode != 0:
        why = (made if made.returncode else started).stderr.strip().splitlines()
        shutil.rmtree(home, ignore_errors=True)
        pytest.skip(f"PostgreSQL did not start: {why[-1] if why else 'no message'}")
    import psycopg

    count = itertools.count()

    def database() -> str:
        name = f"sweep{next(count)}"
        with psycopg.connect(host=str(home), user="postgres", dbname="postgres",
                             autocommit=True) as conn:  # fmt: skip
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql://postgres@/{name}?host={home}&port=5432"

    try:
        yield database
    finally:
        server(str(bindir / "pg_ctl"), "-D", str(home / "data"), "-m", "immediate", "stop")
        shutil.rmtree(home, ignore_errors=True)


OPEN_AT_ONCE = """\
import os, sys
from specc.training.sweep import open_storage
print("ready", flush=True)
while not os.path.exists(sys.argv[2]):
    pass
open_storage(sys.argv[1], None)
print("opened")
"""


def test_workers_opening_an_empty_postgres_database_together_all_open(postgres, tmp_path):
    """Three processes open one empty database at the same instant (once all have imported,
    a file's appearance starts them): each creates Optuna's tables, and without the retry
    all but one die (IntegrityError on pg_type_typname)."""
    url, go = postgres(), tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_AT_ONCE, url, str(go)], text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]  # fmt: skip
    try:
        assert [proc.stdout.readline() for proc in procs] == ["ready\n"] * 3
        go.touch()
        said = [proc.communicate(timeout=300) for proc in procs]
    finally:
        go.touch()
        for proc in procs:
            proc.kill()
    assert [proc.returncode for proc in procs] == [0, 0, 0], [err[-2000:] for _, err in said]
    assert [out for out, _ in said] == ["opened\n"] * 3


@pytest.mark.slow
def test_two_sweep_workers_on_an_empty_postgres_database(tiny, postgres):
    """Two workers started together on an empty database, as docs/sweeps.md writes the URL:
    both finish, each grid point runs once, and each sweep.md is true (none running; the
    other worker's trials with the other's run folders)."""
    url = postgres()
    args = ("--storage", url, "--grid", "model.layers[0].units=[2, 4, 6, 8]")
    folders = [tiny.parent / "a", tiny.parent / "b"]
    procs = [sweep_process(tiny, "--output-dir", str(f), *args) for f in folders]
    said = [proc.communicate(timeout=300) for proc in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-3000:] for _, err in said]
    trials = study_of(folders[0], url).trials
    assert sorted(t.params["model.layers[0].units"] for t in trials) == [2, 4, 6, 8]
    assert {t.state.name for t in trials} == {"COMPLETE"}
    ran = [line.split(":")[0] for out, _ in said for line in out.splitlines()
           if "test_accuracy" in line]  # fmt: skip
    assert sorted(ran) == sorted(f"trial {t.number}" for t in trials)  # none twice
    where = {t.number: Path(t.user_attrs["run_path"]) for t in trials}
    for folder in folders:
        md = (folder / "sweep.md").read_text()
        assert "4 trial(s), 4 complete" in md and "running" not in md
        for row in read_csv(folder / "sweep.csv"):
            path = where[int(row["trial"])]
            assert row["run_folder"] == (path.name if path.parent == folder else str(path))
            assert (folder / row["run_folder"]).is_dir()  # here, or the other's absolute path


def test_sweep_plot_ticks_whole_counts_only(tmp_path, monkeypatch):
    """A swept count (epochs, units) has no tick between two values (1.2 epochs); a float
    range keeps matplotlib's ticks."""
    from types import SimpleNamespace

    import matplotlib.pyplot as plt

    from specc.language import paths
    from specc.training.sweep import Param, plot
    from tests.helpers import epoch_ticks

    params = [
        Param(paths.parse("training.epochs"), "--grid #1", values=(1, 2)),
        Param(paths.parse("model.layers[10].units"), "--range #1", low=8, high=9),
        Param(paths.parse("model.layers[7].rate"), "--range #2", low=0.1, high=0.2),
    ]
    table = [
        {"state": "complete", "test_accuracy": 0.9, params[0].name: 1, params[1].name: 8,
         params[2].name: 0.1},
        {"state": "complete", "test_accuracy": 0.8, params[0].name: 2, params[1].name: 9,
         params[2].name: 0.2},
    ]  # fmt: skip
    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    plot(SimpleNamespace(settings=SimpleNamespace(params=params)), table, tmp_path / "s.png")
    epochs, units, rate = epoch_ticks(figures[0])
    assert (epochs, units) == ([1.0, 2.0], [8.0, 9.0])
    assert any(t != int(t) for t in rate)
