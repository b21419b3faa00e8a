"""Shared helpers: the repo layout, where the real MNIST is, and an in-process ``specc`` runner."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner


def keras_missing() -> str | None:
    """Why Keras tests cannot run here (no keras, or not the backend it would load), or
    None. Decided without importing Keras: the TF-free tests stay fast."""
    import importlib.util
    import json

    if importlib.util.find_spec("keras") is None:
        return "needs Keras, which is not installed: pip install 'specc[keras]'"
    backend = os.environ.get("KERAS_BACKEND")
    if not backend:
        config = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "keras.json"
        try:
            backend = json.loads(config.read_text()).get("backend")
        except (OSError, ValueError, AttributeError):
            backend = None
    backend = backend or "tensorflow"
    if importlib.util.find_spec(backend) is None:
        return f"needs Keras' {backend} backend, which is not installed: pip install 'specc[keras]'"
    return None


KERAS_MISSING = keras_missing()
"""Set where Keras or its backend is missing (an sdist's tests in a light venv): the tests
that need Keras then skip with this reason instead of failing."""


def _for_want_of_keras(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) is Keras or its backend failing to import."""
    from specc.errors import KerasMissingError

    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, KerasMissingError):
            return True
        if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] in {
            "keras", "tensorflow", "jax", "torch"
        }:  # fmt: skip
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


collect_ignore_glob = ["corpus/*.py", "corpus/*/*.py"] if KERAS_MISSING else []
"""The corpus is Keras programs (no doctests) that the importer tests save and read back:
without Keras, --doctest-modules would only fail to import them."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``keras`` skip, saying why, where Keras cannot be loaded."""
    if KERAS_MISSING:
        for item in items:
            if item.get_closest_marker("keras"):
                item.add_marker(pytest.mark.skip(reason=KERAS_MISSING))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):  # type: ignore[no-untyped-def]
    """A fixture that loads Keras where there is none: skip (see pytest_runtest_call)."""
    try:
        return (yield)
    except Exception as exc:
        if KERAS_MISSING and _for_want_of_keras(exc):
            pytest.skip(KERAS_MISSING)
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):  # type: ignore[no-untyped-def]
    """A test that loads Keras (through specc's one door, kerasenv, or an import) where
    Keras or its backend is not installed skips with the reason; with Keras installed
    nothing changes, so no failure of a real test is ever hidden."""
    try:
        return (yield)
    except Exception as exc:
        if KERAS_MISSING and _for_want_of_keras(exc):
            pytest.skip(KERAS_MISSING)
        raise


ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
CASES = ROOT / "tests" / "cases"
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"
KERAS_FALLBACK_CACHE = Path("/tmp/.keras/datasets")  # Keras' cache when home is read-only


def find_mnist() -> tuple[Path | None, str]:
    """The real MNIST ``.npz`` for the tests that need it, and why not where it is missing.

    Looked for, in order: ``../shared/data/mnist.npz`` beside the repo,
    ``$SPECC_DATA_DIR/mnist.npz``, and Keras' own download cache (``$KERAS_HOME/datasets``
    or ``~/.keras/datasets``, and ``/tmp/.keras/datasets`` where Keras falls back to it).
    Tests that need only arrays use synthetic data instead.
    """
    places = [SHARED_MNIST]
    if os.environ.get("SPECC_DATA_DIR"):
        places.append(Path(os.environ["SPECC_DATA_DIR"]) / "mnist.npz")
    keras_home = os.environ.get("KERAS_HOME") or Path.home() / ".keras"
    places += [Path(keras_home) / "datasets" / "mnist.npz", KERAS_FALLBACK_CACHE / "mnist.npz"]
    for place in places:
        if place.is_file():
            return place, ""
    return None, "needs the real MNIST: no mnist.npz in " + ", ".join(map(str, places))


MNIST_FOUND, MNIST_MISSING = find_mnist()
MNIST = MNIST_FOUND or SHARED_MNIST
"""The real MNIST where found (else the usual place, which does not exist)."""
needs_mnist = pytest.mark.skipif(MNIST_FOUND is None, reason=MNIST_MISSING)


@pytest.fixture
def mnist() -> Path:
    """The path of the real MNIST; skips the test, saying where it looked, when absent."""
    if MNIST_FOUND is None:
        pytest.skip(MNIST_MISSING)
    return MNIST_FOUND


def synthetic_mnist(n_train: int = 64, n_test: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    """MNIST-shaped uint8 images that can be learned: class k lights up a k-th patch."""
    rng = np.random.default_rng(seed)

    def split(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.integers(0, 10, n, dtype=np.uint8)
        x = rng.integers(0, 80, (n, 28, 28), dtype=np.uint8)
        for i, k in enumerate(y):
            row, col = divmod(int(k), 5)
            x[i, 4 + 10 * row : 12 + 10 * row, 1 + 5 * col : 5 + 5 * col] = 255
        return x, y

    (x_train, y_train), (x_test, y_test) = split(n_train), split(n_test)
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def write_npz(path: Path, **overrides: np.ndarray | None) -> Path:
    """A synthetic MNIST-like ``.npz``; an override of None leaves that key out."""
    arrays = synthetic_mnist() | overrides
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


def run_specc(*args: str, cwd: Path | None = None) -> Run:
    """Run the CLI in-process (fast) and capture stdout/stderr separately."""
    from specc.cli import cli

    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, list(args), prog_name="specc", catch_exceptions=False)
    finally:
        os.chdir(old)
    return Run(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def specc():
    return run_specc
