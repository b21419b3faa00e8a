"""The emitted script: same model as `specc build`, and it trains end to end without specc."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from specc.analysis.pipeline import compile_file, compile_text
from specc.backends import keras_build
from specc.errors import SpecError
from tests.emitted import REPO_SPECS, compile_emittable, completed, emit, load_module, repo_spec_id
from tests.helpers import (
    MNIST,
    ROOT,
    SPECS,
    assert_same_as_specc_build,
    epoch_ticks,
    run_script,
    synthetic_mnist,
    with_weights_files,
    write_npz,
)
from tests.keras_helpers import keras
from tests.strategies import random_specs
from tests.without import SCRIPT as RUN_SCRIPT
from tests.without import run_without

SCRIPT = ROOT / "generated" / "mnist_cnn.py"


def _emitted_module():
    return load_module(SCRIPT)


@pytest.mark.parametrize("path", REPO_SPECS, ids=repo_spec_id)
def test_every_repo_spec_emits_the_model_specc_builds(path, tmp_path, monkeypatch):
    """specs/, the golden specs and every valid test case: one in-process import each."""
    with_weights_files(path, tmp_path, monkeypatch)
    compiled = compile_emittable(path)
    module = load_module(emit(compiled, tmp_path))
    if len(compiled.graph.inputs) > 1:  # fed by name; build_model() states each shape
        assert tuple(given.name for given in compiled.graph.inputs) == module.INPUTS
    else:
        emitted_shape = module.INPUT_SHAPE
        assert emitted_shape == tuple(
            compiled.graph.inputs[0].shape[1:]
            if compiled.graph.functional
            else compiled.spec.model.input.shape
        )
    assert_same_as_specc_build(compiled, module)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=random_specs())
def test_random_specs_emit_the_model_specc_builds(tmp_path_factory, data):
    """Random valid specs of every layer type (those specc rejects are not emitted)."""
    try:
        compiled = compile_text(yaml.safe_dump(completed(data) | {"name": "drawn"}), "drawn.yaml")
    except SpecError:  # a spec specc rejects has no script to compare
        return
    module = load_module(emit(compiled, tmp_path_factory.mktemp("random")))
    assert_same_as_specc_build(compiled, module)


def test_emitted_build_model_equals_specc_build():
    k = keras()
    compiled = compile_file(SPECS / "mnist_cnn.yaml")
    emitted = _emitted_module()

    k.utils.set_random_seed(1234)
    ours = keras_build.build(compiled.spec, compiled.graph)
    k.utils.set_random_seed(1234)
    theirs = emitted.build_model()
    emitted.compile_model(theirs)

    assert theirs.get_config() == ours.get_config()
    assert theirs.count_params() == ours.count_params() == 43290
    assert theirs.optimizer.get_config() | {"name": None} == ours.optimizer.get_config() | {
        "name": None
    }
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    batch = np.random.default_rng(0).random((16, 28, 28, 1), dtype=np.float32)
    np.testing.assert_array_equal(ours.predict(batch, verbose=0), theirs.predict(batch, verbose=0))


def test_emitted_preprocessing_matches_spec():
    emitted = _emitted_module()
    x = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    out = emitted.preprocess_x(x)
    assert out.shape == (2, 28, 28, 1) and out.dtype == np.float32
    assert out.max() <= 1.0
    y = emitted.preprocess_y(np.array([3, 9]))
    assert y.shape == (2, 10) and y[0, 3] == 1 and y[1, 9] == 1


@pytest.mark.skipif(not MNIST.exists(), reason="needs ../shared/data/mnist.npz")
@pytest.mark.keras
def test_emitted_script_trains_without_specc(tmp_path):
    """Smoke: the checked-in script runs end to end on the shared MNIST, with specc unimportable."""
    out = tmp_path / "run"
    runner = (
        "import runpy, sys\n"
        "sys.modules['specc'] = None  # any `import specc` would now fail\n"
        f"sys.argv = [{str(SCRIPT)!r}, '--data', {str(MNIST)!r}, '--subset', '2000', '--epochs', '1',"
        f" '--output-dir', {str(out)!r}]\n"
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", runner], capture_output=True, text=True, cwd=tmp_path, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == [
        "curves.png",
        "history.json",
        "metrics.json",
        "model.keras",
    ]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 1
    # 2,000 samples, one epoch, seed 42: measured 0.44 test accuracy; chance is 0.10.
    assert 0.25 < metrics["test_accuracy"] <= 1.0
    history = json.loads((out / "history.json").read_text())
    assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert keras().saving.load_model(out / "model.keras", compile=False).count_params() == 43290


# ------------------------------------------------------------------------ --help
HELP_SPEC = yaml.safe_load((ROOT / "tests" / "golden" / "specs" / "fashion_dense.yaml").read_text())
TRICKY = st.text(
    alphabet=st.one_of(
        st.sampled_from("%(prog)s{}\"'\\ d"), st.characters(exclude_categories=["Cs"])
    ),
    min_size=1,
    max_size=40,
)


def _no_keras(tmp_path) -> dict[str, str]:
    """An environment in which `import keras` fails: --help must not need it."""
    blocker = tmp_path / "blocker" / "keras"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('--help imported keras')\n")
    return {"PYTHONPATH": str(blocker.parent), "PYTHONIOENCODING": "utf-8", "PATH": ""}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(description=TRICKY)
@example(description="%(prog)s at 100%")
@example(description="50%(prog)")
@example(description="{NAME} {{ x }} %s %d %% 'single' \"double\" \\ back")
def test_help_shows_any_description(tmp_path_factory, description):
    """A description with %, braces or quotes: `python <script> --help` answers, fast."""
    tmp = tmp_path_factory.mktemp("help")
    data = HELP_SPEC | {"description": description}
    compiled = compile_text(yaml.safe_dump(data, allow_unicode=True), "spec.yaml")
    script = emit(compiled, tmp)
    proc = subprocess.run(
        [sys.executable, str(script), "--help"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=_no_keras(tmp),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("usage: fashion_dense.py")
    flat = "".join(proc.stdout.split())  # argparse re-wraps the text
    assert (
        "".join(f"fashion_dense.pytrainsfashion_dense.{compiled.spec.description}".split()) in flat
    )


# ------------------------------------------- the script run as users run it, on tiny data
def tiny_script(folder: Path, *, x_steps: str = "[{reshape: [784]}, {divide: 255}]",
                loss: str = "categorical_crossentropy", activation: str = "softmax",
                training: str = "{epochs: 1, batch_size: 16, validation_split: 0.25}",
                runtime: str = "{}") -> Path:  # fmt: skip
    """The script of a one-layer model on 28x28 images: trains in a second."""
    text = (
        f"name: tiny\ndata:\n  dataset: npz\n  path: data.npz\n  preprocessing:\n"
        f"    x: {x_steps}\n    y: [{{one_hot: 10}}]\n"
        f"model:\n  input: {{shape: [784]}}\n  layers:\n"
        f"    - {{type: Dense, units: 10, activation: {activation}}}\n"
        f"compile: {{optimizer: adam, loss: {loss}, metrics: [accuracy]}}\n"
        f"training: {training}\nruntime: {runtime}\n"
    )
    return emit(compile_text(text, "tiny.yaml"), folder)


def strict_json(path: Path):
    """Parse as strict JSON: NaN/Infinity (Python's extension) are refused."""

    def refuse(name):
        raise ValueError(f"{path.name} holds bare {name}")

    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One real run: 80 samples at batch 2 and split 0.1 is 36 steps, at 8 steps per
    execution; umask 027, and an existing metrics.json of mode 0604 in the output folder."""
    folder = tmp_path_factory.mktemp("tiny_run")
    script = tiny_script(folder, runtime="{steps_per_execution: 8}",
                         training="{epochs: 1, batch_size: 2, validation_split: 0.1, seed: 1}")  # fmt: skip
    data = write_npz(folder / "data.npz", **synthetic_mnist(n_train=80))
    out = folder / "run"
    out.mkdir()
    (out / "metrics.json").write_text("{}\n")
    (out / "metrics.json").chmod(0o604)
    shown = folder / "progress.json"
    proc = run_script(script, "--data", str(data), "--output-dir", str(out), umask=0o027, spy=shown)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, json.loads(shown.read_text())


@pytest.mark.keras
def test_script_files_get_the_umask_mode_and_keep_an_existing_mode(tiny_run):
    """mkstemp made every file 0600; a new file is 0666 less the umask, an old one keeps its."""
    out, _ = tiny_run
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in out.iterdir()}
    assert modes == {
        "curves.png": "0o640",
        "history.json": "0o640",
        "metrics.json": "0o604",
        "model.keras": "0o640",
    }
    assert strict_json(out / "metrics.json")["epochs"] == 1
    assert set(strict_json(out / "history.json")) >= {"loss", "val_loss"}


@pytest.mark.keras
def test_script_progress_bar_never_passes_its_target(tiny_run):
    """At 8 steps per execution Keras showed 40/36 on the epoch's last execution."""
    _, shown = tiny_run
    assert shown and {target for _, target in shown} == {36}
    assert max(current for current, _ in shown) == 36
    assert [current for current, _ in shown][-2:] == [36, 36]  # last execution, then final


def test_script_without_matplotlib_says_it_draws_no_curves(tmp_path, monkeypatch, capsys):
    module = load_module(tiny_script(tmp_path))
    assert module.can_plot()
    assert capsys.readouterr().err == ""
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # find_spec: not installed
    assert not module.can_plot()
    assert capsys.readouterr().err == (
        "note: matplotlib is not installed, so curves.png will not be drawn "
        "(pip install matplotlib)\n"
    )


@pytest.mark.slow
@pytest.mark.keras
def test_script_trains_without_matplotlib_and_says_so_first(tmp_path):
    """A venv with only TensorFlow: the script trained, saved, then crashed in plot_history."""
    script = tiny_script(tmp_path)
    data = write_npz(tmp_path / "data.npz")
    out = tmp_path / "run"
    proc = run_without(["matplotlib"], str(script), "--data", str(data), "--output-dir", str(out),
                       program=RUN_SCRIPT, cwd=tmp_path, env={"TF_CPP_MIN_LOG_LEVEL": "3"})  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    note = "note: matplotlib is not installed, so curves.png will not be drawn (pip install matplotlib)"
    assert proc.stderr.splitlines()[0] == note  # before the data and Keras are loaded
    assert proc.stderr.count("note:") == 1
    assert proc.stdout.splitlines()[-1] == f"wrote {out}/: model.keras, history.json, metrics.json"
    assert sorted(p.name for p in out.iterdir()) == ["history.json", "metrics.json", "model.keras"]
    assert strict_json(out / "metrics.json")["epochs"] == 1


def test_script_refuses_a_subset_too_small_for_the_validation_split(tmp_path):
    """Keras failed inside fit(); the script now says why, before it even imports Keras."""
    script = tiny_script(tmp_path, training="{validation_split: 0.1}")
    data = write_npz(tmp_path / "data.npz")
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, str(script), "--data", str(data), "--subset", "1", "--output-dir", str(out)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, env=_no_keras(tmp_path),
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr == (
        "--subset 1 leaves 1 training sample(s): validation_split 0.1 would leave 0 for "
        "training and 1 for validation, and each needs at least one; use at least 2 samples "
        "or change the spec's training.validation_split\n"
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("split", "n", "message"),
    [
        (0.5, 1, "use at least 2 samples"),
        (0.75, 3, "use at least 4 samples"),
        (0.25, 1, "use at least 2 samples"),
        (1e-17, 5, "validation_split 1e-17 is too small to hold out a single sample"),
    ],
)
def test_script_sample_count_rule_is_keras_split(tmp_path, split, n, message):
    """The refusal follows fit()'s split, floor(n * (1 - split)), and names a count that works."""
    module = load_module(tiny_script(tmp_path, training=f"{{validation_split: {split}}}"))
    with pytest.raises(SystemExit, match=message):
        module.check_sample_counts(n, None)
    if split > 1e-9:
        need = int(message.split()[-2])
        module.check_sample_counts(need, None)  # the count it names is accepted
        kept = int(need * (1 - split))
        assert 0 < kept < need


@pytest.mark.keras
def test_script_stops_on_a_nan_loss_and_writes_strict_json(tmp_path):
    """Huge inputs overflow the loss: stop, exit 1 with one line, history.json with null."""
    script = tiny_script(tmp_path, x_steps="[{reshape: [784]}]", loss="mean_squared_error",
                         activation="linear", training="{epochs: 3, batch_size: 16}")  # fmt: skip
    x = np.full((64, 28, 28), 3e19, dtype=np.float32)
    data = write_npz(tmp_path / "data.npz", x_train=x, x_test=x[:16])
    out = tmp_path / "run"
    proc = run_script(script, "--data", str(data), "--output-dir", str(out))
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        "training diverged: the loss became nan in epoch 1, so training stopped; "
        f"{out}/history.json holds the epochs run; try a lower learning rate or check the data"
    )
    history = strict_json(out / "history.json")
    assert history["loss"] == [None]  # one epoch, not three; NaN is written as null
    assert sorted(p.name for p in out.iterdir()) == ["history.json"]


def test_script_json_is_strict(tmp_path):
    module = load_module(tiny_script(tmp_path))
    text = module.json_text({"loss": [1.5, float("nan")], "val": float("-inf"), "n": 3})
    assert json.loads(text) == {"loss": [1.5, None], "val": None, "n": 3}
    assert "NaN" not in text and "Infinity" not in text


def test_script_curves_have_whole_epochs_on_the_x_axis(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    module = load_module(tiny_script(tmp_path))
    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    module.plot_history({"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, tmp_path / "c.png")
    (ax,) = figures[0].axes
    assert [t for t in ax.get_xticks() if 1 <= t <= 2] == [1.0, 2.0]


@pytest.mark.parametrize("epochs", [1, 2, 15])
def test_script_curves_tick_whole_epochs_only(tmp_path, monkeypatch, epochs):
    import matplotlib.pyplot as plt

    module = load_module(tiny_script(tmp_path))
    figures = []
    monkeypatch.setattr(plt, "close", figures.append)
    values = [1.0 / (e + 1) for e in range(epochs)]
    module.plot_history({"loss": values, "val_loss": values}, tmp_path / "c.png")
    for ticks in epoch_ticks(figures[0]):
        assert ticks and all(t == int(t) for t in ticks), ticks
        if epochs <= 2:
            assert ticks == list(range(1, epochs + 1))
