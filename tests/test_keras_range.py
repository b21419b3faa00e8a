"""The Keras and TensorFlow range pyproject.toml declares, tested at both ends.

The end-to-end checks here run on whatever Keras the interpreter has: in the dev venv that
is the newest end. ``test_oldest_supported_keras`` (slow, and opt-in because it downloads
TensorFlow: ``SPECC_KERAS_RANGE=1 pytest -m slow tests/test_keras_range.py``) makes a venv
with the oldest Keras and TensorFlow the range admits and runs this module's checks there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest

from specc.analysis.pipeline import compile_file
from tests.emitted import emit, load_module
from tests.helpers import ROOT, SPECS

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
KERAS_EXTRA = PYPROJECT["project"]["optional-dependencies"]["keras"]


def declared(package: str) -> tuple[str, str]:
    """The ``>=LOW,<HIGH`` that the keras extra declares for ``package``."""
    (found,) = [re.fullmatch(rf"{package}>=([\d.]+),<([\d.]+)", r) for r in KERAS_EXTRA
                if re.match(rf"{package}\b", r)]  # fmt: skip
    assert found, f"specc[keras] should declare {package}>=LOW,<HIGH"
    return found.group(1), found.group(2)


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


@pytest.mark.parametrize("package", ["keras", "tensorflow"])
def test_the_installed_keras_is_in_the_declared_range(package):
    low, high = declared(package)
    assert _release(low) <= _release(version(package)) < _release(high)


# Sequential, a residual graph, two inputs: the layer types and paths of the blog and beyond.
ENDS = ["mnist_cnn", "mnist_cnn_residual", "two_inputs", "mnist_cnn_batchnorm"]


@pytest.mark.parametrize("name", ENDS)
def test_emitted_build_model_equals_specc_build_on_this_keras(name, tmp_path):
    """Config, parameter count (specc's static one too) and initial weights under one seed."""
    from specc.backends import keras_build
    from tests.keras_helpers import keras, keras_rows, static_rows

    compiled = compile_file(SPECS / f"{name}.yaml")
    module = load_module(emit(compiled, tmp_path))
    k = keras()
    k.backend.clear_session()
    k.utils.set_random_seed(7)
    ours = keras_build.build(compiled.spec, compiled.graph)
    k.backend.clear_session()
    k.utils.set_random_seed(7)
    theirs = module.build_model()
    assert theirs.get_config() == ours.get_config()
    assert theirs.count_params() == ours.count_params() == compiled.graph.total_params
    assert keras_rows(ours) == static_rows(compiled.graph)  # specc's table is this Keras'
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_specc_build_of_the_blog_model_on_this_keras(tmp_path):
    from tests.helpers import run_specc

    run = run_specc("build", str(SPECS / "mnist_cnn.yaml"), "-o", str(tmp_path / "m.keras"))
    assert run.exit_code == 0, run.stderr
    assert run.stdout.splitlines()[-1] == f"wrote {tmp_path}/m.keras (43,290 params)"


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("SPECC_KERAS_RANGE") != "1",
    reason="downloads TensorFlow into a new venv: set SPECC_KERAS_RANGE=1 to run it",
)
def test_oldest_supported_keras(tmp_path):
    """A venv of the range's low ends (tensorflow==LOW.*, keras==LOW.*) passes this module.

    ``SPECC_OLDEST_VENV=DIR`` keeps (and reuses) the venv there instead of a temp folder.
    """
    venv = Path(os.environ.get("SPECC_OLDEST_VENV") or tmp_path / "oldest")
    python = venv / "bin" / "python"
    pins = [f"{package}=={declared(package)[0]}.*" for package in ("tensorflow", "keras")]
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    core = PYPROJECT["project"]["dependencies"]
    test_tools = ["pytest>=8", "hypothesis>=6.100", "matplotlib>=3.8"]
    pip = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *pins, *core, *test_tools],
        capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert pip.returncode == 0, pip.stderr[-3000:]
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "-e", str(ROOT)],
                   check=True, capture_output=True, timeout=600)  # fmt: skip
    proc = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow",
         "tests/test_keras_range.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert re.search(r"\b7 passed\b", proc.stdout), proc.stdout[-2000:]
