"""The emitted script: same model as `specc build`, and it trains end to end without specc."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from specc import keras_build
from specc.errors import SpecError
from specc.pipeline import compile_file, compile_text
from tests.conftest import MNIST, ROOT, SPECS
from tests.emitted import REPO_SPECS, compile_emittable, completed, emit, load_module, repo_spec_id
from tests.keras_helpers import keras, keras_rows
from tests.strategies import random_specs

SCRIPT = ROOT / "generated" / "mnist_cnn.py"


def _emitted_module():
    return load_module(SCRIPT)


def _public(obj) -> dict:
    """An object's plain settings (what a callback was constructed with)."""
    return {
        k: v for k, v in vars(obj).items() if isinstance(v, bool | int | float | str | type(None))
    }


def assert_same_as_specc_build(compiled, module) -> None:
    """The emitted build_model()/compile_model()/make_callbacks() equal specc build's."""
    k = keras()
    k.backend.clear_session()
    k.utils.set_random_seed(7)
    ours = keras_build.build(compiled.spec, compiled.graph)
    k.utils.set_random_seed(7)
    theirs = module.build_model()
    # Config holds every layer's class, arguments and name, and the input shape.
    assert theirs.get_config() == ours.get_config()
    # Names, types, output shapes, parameter counts (trainable and not), layer by layer.
    assert keras_rows(theirs) == keras_rows(ours)
    assert theirs.count_params() == ours.count_params()
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    module.compile_model(theirs)
    assert theirs.optimizer.get_config() | {"name": None} == ours.optimizer.get_config() | {
        "name": None
    }
    assert theirs.loss == ours.loss
    ours_cbs = keras_build.make_callbacks(compiled.spec)
    theirs_cbs = module.make_callbacks()
    assert [type(cb) for cb in theirs_cbs] == [type(cb) for cb in ours_cbs]
    assert [_public(cb) for cb in theirs_cbs] == [_public(cb) for cb in ours_cbs]


@pytest.mark.parametrize("path", REPO_SPECS, ids=repo_spec_id)
def test_every_repo_spec_emits_the_model_specc_builds(path, tmp_path):
    """specs/, the golden specs and every valid test case: one in-process import each."""
    compiled = compile_emittable(path)
    module = load_module(emit(compiled, tmp_path))
    emitted_shape = module.INPUT_SHAPE
    assert emitted_shape == tuple(compiled.spec.model.input.shape)
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
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("usage: fashion_dense.py")
    flat = "".join(proc.stdout.split())  # argparse re-wraps the text
    assert (
        "".join(f"fashion_dense.pytrainsfashion_dense.{compiled.spec.description}".split()) in flat
    )
