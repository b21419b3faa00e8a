"""The one place for what several test files share (issue 18): test files import from here,
from ``tests.keras_helpers``, ``tests.emitted``, ``tests.family_differential``,
``tests.strategies*`` and ``tests.corpus``, never from another ``test_*.py`` module or
from ``conftest.py`` (``test_suite_hygiene.py`` checks it). Fixtures live in conftest.py.

Wall-clock reads live here only, in hang guards (``deadline``, ``wait_until``) whose limits
are generous: a test's promise about speed is CPU time or a count, and a benchmark in
``bench/`` holds the wall-time figures.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import importlib.util
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import black
import numpy as np
import pytest
from click.testing import CliRunner

from tests.keras_helpers import keras, keras_rows


# ------------------------------------------------------------------ Keras present?
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


# ------------------------------------------------------------------ layout, data, the CLI
ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def bench_module(name: str) -> Any:
    """``bench/<name>.py`` loaded as a module (once per process): tests use the generators
    the benchmarks time, so both measure the same files."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


# ------------------------------------------------------------------ hang guards
@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging the suite) if the block blocks, e.g. opening a FIFO."""

    def expire(signum, frame):
        raise TimeoutError(f"still blocked after {seconds} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def wait_until(done: Callable[[], bool], seconds: float, what: str, poll: float = 0.02) -> None:
    """Poll ``done`` until true; fail saying ``what`` did not happen if ``seconds`` of wall
    time pass first. Only a guard against a hung child: give it minutes, not a promise."""
    end = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < end, f"{what} within {seconds:g} s"
        time.sleep(poll)


# ------------------------------------------------------------------ training runs
RUN_FILES = [
    "confusion.png",
    "curves.png",
    "diagram.svg",
    "history.json",
    "metrics.json",
    "model.keras",
    "report.html",
    "report.npz",
    "spec.yaml",
    "tensorboard",
]


def epoch_ticks(fig) -> list[list[float]]:
    """The x ticks each panel of ``fig`` shows (those inside its view), once drawn."""
    fig.canvas.draw()
    shown = []
    for ax in fig.axes:
        low, high = ax.get_xlim()
        shown.append([float(t) for t in ax.get_xticks() if low <= t <= high])
    return shown


# ------------------------------------------------------------------ example specs
VALID_SPECS = sorted(SPECS.glob("*.yaml")) + sorted(
    p / "spec.yaml" for p in CASES.iterdir() if (p / "expected.json").exists()
)


EXAMPLE = SPECS / "two_inputs.yaml"


def two_input_arrays(n_train: int = 48, n_test: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    """Digits as MNIST-shaped images (a lit patch per class) and 4 side features."""
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        y = rng.integers(0, 10, n, dtype=np.uint8)
        image = rng.integers(0, 80, (n, 28, 28), dtype=np.uint8)
        for i, k in enumerate(y):
            image[i, 2 * k : 2 * k + 6, 2 * k : 2 * k + 6] = 255
        side = np.stack([y % 2, y // 5, y / 10, rng.random(n)], axis=1).astype(np.float32)
        out |= {f"x_{split}_image": image, f"x_{split}_side": side, f"y_{split}": y}
    return out


def write_two_inputs(path: Path, **overrides: np.ndarray | None) -> Path:
    """The synthetic file, with arrays replaced (or left out, for None)."""
    arrays = two_input_arrays() | overrides
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


TWO_OUTPUTS = SPECS / "two_outputs.yaml"


def two_output_arrays(n_train: int = 48, n_test: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    """Images of ``specs/two_outputs.yaml``: a lit patch per kind (5), an age per image."""
    rng = np.random.default_rng(seed)
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        kind = rng.integers(0, 5, n, dtype=np.uint8)
        image = rng.integers(0, 60, (n, 32, 32, 3), dtype=np.uint8)
        for i, k in enumerate(kind):
            image[i, 5 * k : 5 * k + 8, 5 * k : 5 * k + 8] = 255
        age = (20 + 10 * kind + rng.normal(0, 2, n)).astype(np.float32)
        out |= {f"x_{split}": image, f"y_{split}_age": age, f"y_{split}_kind": kind}
    return out


# ------------------------------------------------------------------ Keras' own summary
def keras_text(model: Any) -> str:
    out = io.StringIO()
    model.summary(print_fn=lambda line, line_break=True: out.write(line))
    return out.getvalue()


def keras_graph_rows(model: Any) -> list[dict[str, Any]]:
    """Keras' own rows: names, types, param counts and connections per layer."""
    nodes = {id(n) for v in model._nodes_by_depth.values() for n in v}
    rows = []
    for layer in model.operations:  # operations (x + y) are rows too
        connected = [
            f"{t._keras_history.operation.name}[{t._keras_history.node_index}]"
            f"[{t._keras_history.tensor_index}]"
            for node in layer._inbound_nodes
            if id(node) in nodes
            for t in node.input_tensors
        ]
        params = layer.count_params() if hasattr(layer, "count_params") else 0
        rows.append((layer.name, type(layer).__name__, params, connected))
    return rows


# ------------------------------------------------------------------ emitted scripts
def _public(obj) -> dict:
    """An object's plain settings (what a callback was constructed with)."""
    return {
        k: v for k, v in vars(obj).items() if isinstance(v, bool | int | float | str | type(None))
    }


def _as_data(obj):
    """A name as it is; a Keras object as its class and config (they compare by identity);
    a loss per output name, each so."""
    if isinstance(obj, dict):
        return {name: _as_data(value) for name, value in obj.items()}
    return obj if isinstance(obj, str | None) else (type(obj).__name__, obj.get_config())


def assert_same_as_specc_build(compiled, module) -> None:
    """The emitted build_model()/compile_model()/make_callbacks() equal specc build's."""
    from specc.backends import keras_build

    k = keras()
    k.backend.clear_session()
    k.utils.set_random_seed(7)
    ours = keras_build.build(compiled.spec, compiled.graph)
    k.backend.clear_session()  # the script runs in a process of its own: fresh name counters
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
    assert _as_data(theirs.loss) == _as_data(ours.loss)
    ours_cbs = keras_build.make_callbacks(compiled.spec)
    theirs_cbs = module.make_callbacks()
    assert [type(cb) for cb in theirs_cbs] == [type(cb) for cb in ours_cbs]
    assert [_public(cb) for cb in theirs_cbs] == [_public(cb) for cb in ours_cbs]


SPY = """\
import json, runpy, sys
from keras.src.utils import progbar

sys.modules["specc"] = None  # any `import specc` would now fail
shown, real = [], progbar.Progbar.update


def spy(self, current, values=None, finalize=None):
    shown.append([current, self.target])
    return real(self, current, values, finalize)


progbar.Progbar.update = spy
script, record, *args = sys.argv[1:]
sys.argv = [script, *args]
try:
    runpy.run_path(script, run_name="__main__")
finally:
    with open(record, "w") as fh:
        json.dump(shown, fh)
"""


def run_script(script: Path, *args: str, umask: int | None = None, spy: Path | None = None):
    """``python <script> args`` in a fresh process (with the progress bar spied on if
    ``spy`` names a file to record its updates in)."""
    command = [sys.executable, str(script), *args]
    if spy is not None:
        command = [sys.executable, "-c", SPY, str(script), str(spy), *args]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=script.parent,
        timeout=600,
        env=os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3"},
        preexec_fn=None if umask is None else lambda: os.umask(umask),
    )


USER_PYPROJECT = """\
[project]
name = "my-models"
requires-python = ">=3.11"

[tool.ruff]
target-version = "py311"

[tool.ruff.lint]
select = ["E4", "E7", "E9", "F", "W", "I", "B", "UP", "SIM"]

[tool.ruff.format]
docstring-code-format = true

[tool.black]
target-version = ["py311"]
"""


RUFF_RUNS = [
    ("format", "--diff", "--isolated", "generated"),  # ruff's defaults
    ("format", "--diff", "--isolated", "--line-length", "88", "generated"),
    ("format", "--diff", "generated"),  # a user's pyproject.toml
    ("check", "generated"),  # the user's lint rules
    ("check", "--isolated", "generated"),  # ruff's default rules
    ("check", "--config", str(ROOT / "pyproject.toml"), "generated"),  # this project's rules
]


BLACK_MODES = [black.Mode(), black.Mode(target_versions={black.TargetVersion.PY311})]


def assert_formatted(files: dict[Path, str], tmp: Path, black_modes=BLACK_MODES) -> None:
    """ruff format and black (defaults, 88, a user's config) change nothing; ruff check is clean."""
    project = tmp / "project"
    (project / "generated").mkdir(parents=True)
    (project / "pyproject.toml").write_text(USER_PYPROJECT)
    for path, text in files.items():
        (project / "generated" / path.name).write_text(text)
    for args in RUFF_RUNS:
        proc = subprocess.run(
            [sys.executable, "-m", "ruff", *args[:1], "--no-cache", *args[1:]],
            capture_output=True,
            text=True,
            cwd=project,
        )
        assert proc.returncode == 0, f"ruff {' '.join(args)}:\n{proc.stdout}{proc.stderr}"
    for path, text in files.items():
        for mode in black_modes:
            formatted = black.format_str(text, mode=mode)
            assert formatted == text, (
                "black would change "
                + path.name
                + ":\n"
                + "".join(difflib.unified_diff(text.splitlines(True), formatted.splitlines(True)))
            )


# ------------------------------------------------------------------ graph cases
# Graph specs, each with the Keras code a person would write for it (test_graph_specs.py,
# test_differential_graph.py, test_emitted_graphs.py).
GraphCase = tuple[str, Callable[[Any], Any]]


def _branches(k: Any) -> Any:
    x = k.Input(shape=(10, 16))
    a = k.layers.Dense(8)(x)
    b = k.layers.Dense(8, activation="relu")(x)
    b = k.layers.Dense(8)(b)
    att = k.layers.Attention()([a, b])
    out = k.layers.Dense(3)(att)
    return k.Model(x, out, name="branches")


BRANCHES = """
name: branches
model:
  input: {shape: [10, 16]}
  layers:
    - {type: Dense, units: 8}
    - {type: Dense, units: 8, activation: relu, inputs: [input_layer]}
    - {type: Dense, units: 8}
    - {type: Attention, inputs: [dense, dense_2]}
    - {type: Dense, units: 3}
"""


def _residual(k: Any) -> Any:
    x = k.Input(shape=(6, 8), name="tokens")
    h = k.layers.LayerNormalization()(x)
    h = k.layers.MultiHeadAttention(num_heads=2, key_dim=4)(h, h)
    h = k.layers.Attention()([h, x])  # the residual path joins through attention
    out = k.layers.GlobalAveragePooling1D()(h)
    out = k.layers.Dense(2, activation="softmax")(out)
    return k.Model(x, out, name="residual")


RESIDUAL = """
name: residual
model:
  inputs: [{name: tokens, shape: [6, 8]}]
  layers:
    - {type: LayerNormalization}
    - {type: MultiHeadAttention, num_heads: 2, key_dim: 4, inputs: [layer_normalization, layer_normalization]}
    - {type: Attention, inputs: [multi_head_attention, tokens]}
    - {type: GlobalAveragePooling1D}
    - {type: Dense, units: 2, activation: softmax}
"""


def _two_inputs(k: Any) -> Any:
    q = k.Input(shape=(5, 4), name="query")
    v = k.Input(shape=(7, 4), name="value", dtype="float32")
    vq = k.layers.Dense(4)(v)
    att = k.layers.Attention(use_scale=True)([q, vq])
    pooled = k.layers.GlobalMaxPooling1D()(att)
    side = k.layers.Flatten()(v)
    side = k.layers.Dense(3)(side)
    out = k.layers.Dense(2)(pooled)
    return k.Model([q, v], [out, side], name="two_inputs")


TWO_INPUTS = """
name: two_inputs
model:
  inputs:
    - {name: query, shape: [5, 4]}
    - {name: value, shape: [7, 4]}
  layers:
    - {type: Dense, units: 4, inputs: [value]}
    - {type: Attention, use_scale: true, inputs: [query, dense]}
    - {type: GlobalMaxPooling1D}
    - {type: Flatten, inputs: [value]}
    - {type: Dense, units: 3}
    - {type: Dense, units: 2, inputs: [global_max_pooling1d]}
  outputs: [dense_2, dense_1]
"""


def _shared(k: Any) -> Any:
    a = k.Input(shape=(6, 5), name="left")
    b = k.Input(shape=(6, 5), name="right")
    encoder = k.layers.Dense(8, activation="relu", name="encoder")
    ea = encoder(a)
    eb = encoder(b)
    att = k.layers.Attention()([ea, eb])
    back = k.layers.Attention()([eb, ea])
    pooled = k.layers.GlobalAveragePooling1D()(att)
    pooled_back = k.layers.GlobalAveragePooling1D()(back)
    head = k.layers.Dense(1, activation="sigmoid", name="head")
    return k.Model([a, b], [head(pooled), head(pooled_back)], name="siamese")


SHARED = """
name: siamese
model:
  inputs:
    - {name: left, shape: [6, 5]}
    - {name: right, shape: [6, 5]}
  layers:
    - {type: Dense, units: 8, activation: relu, name: encoder, inputs: [left]}
    - {apply: encoder, inputs: [right], as: encoded_right}
    - {type: Attention, inputs: [encoder, encoded_right]}
    - {type: Attention, inputs: [encoded_right, encoder]}
    - {type: GlobalAveragePooling1D, inputs: [attention]}
    - {type: GlobalAveragePooling1D, inputs: [attention_1]}
    - {type: Dense, units: 1, activation: sigmoid, name: head, inputs: [global_average_pooling1d]}
    - {apply: head, inputs: [global_average_pooling1d_1], as: head_back}
  outputs: [head, head_back]
"""


def _states(k: Any) -> Any:
    x = k.Input(shape=(9, 3))
    seq, h, c = k.layers.LSTM(4, return_sequences=True, return_state=True)(x)
    att = k.layers.Attention()([seq, seq])
    d = k.layers.Dense(2)(h)
    return k.Model(x, [att, d, c], name="states")


STATES = """
name: states
model:
  input: {shape: [9, 3]}
  layers:
    - {type: LSTM, units: 4, return_sequences: true, return_state: true}
    - {type: Attention, inputs: [lstm.0, lstm.0]}
    - {type: Dense, units: 2, inputs: [lstm.1]}
  outputs: [attention, dense, lstm.2]
"""


def _chain_of_state(k: Any) -> Any:
    x = k.Input(shape=(9, 3))
    _, h, _ = k.layers.LSTM(4, return_state=True)(x)
    return k.Model(x, k.layers.Dense(2)(h), name="chain")


CHAIN = """
name: chain
model:
  input: {shape: [9, 3]}
  layers:
    - {type: LSTM, units: 4, return_state: true}
    - {type: Dense, units: 2, inputs: [lstm.1]}
"""


def _deep_rejoin(k: Any) -> Any:
    """Branches of different depths rejoining: Keras orders layers by depth, then by first
    visit in its walk from the outputs, not by construction order."""
    x = k.Input(shape=(4, 6))
    short = k.layers.Dense(6, name="short")(x)
    long = k.layers.Dense(6)(x)
    long = k.layers.Dense(6)(long)
    long = k.layers.Dense(6)(long)
    joined = k.layers.Attention()([long, short])
    late = k.layers.Dense(6, name="late")(x)
    joined2 = k.layers.Attention()([late, joined])
    return k.Model(x, [joined2, short], name="rejoin")


DEEP_REJOIN = """
name: rejoin
model:
  input: {shape: [4, 6]}
  layers:
    - {type: Dense, units: 6, name: short}
    - {type: Dense, units: 6, inputs: [input_layer]}
    - {type: Dense, units: 6}
    - {type: Dense, units: 6}
    - {type: Attention, inputs: [dense_2, short]}
    - {type: Dense, units: 6, name: late, inputs: [input_layer]}
    - {type: Attention, inputs: [late, attention]}
  outputs: [attention_1, short]
"""


def _unused(k: Any) -> Any:
    """A layer made and called but feeding no output: Keras leaves it out of the model."""
    x = k.Input(shape=(4, 6))
    d = k.layers.Dense(6)(x)
    k.layers.Dense(3)(x)
    return k.Model(x, k.layers.Attention()([d, x]), name="case")


GRAPH_CASES: dict[str, GraphCase] = {
    "unused_branch": ((CASES / "graph_unused_layer" / "spec.yaml").read_text(), _unused),
    "branches": (BRANCHES, _branches),
    "residual_attention": (RESIDUAL, _residual),
    "two_inputs_two_outputs": (TWO_INPUTS, _two_inputs),
    "shared_layers": (SHARED, _shared),
    "lstm_states": (STATES, _states),
    "chain_through_a_state": (CHAIN, _chain_of_state),
    "deep_rejoin": (DEEP_REJOIN, _deep_rejoin),
}


BLOCKS_RESIDUAL = """
name: res
blocks:
  res:
    params: [units]
    layers:
      - {type: Dense, units: $units, activation: relu}
      - {type: Dense, units: $units, as: y}
      - {type: Add, inputs: [in, y]}
model:
  input: {shape: [4]}
  layers:
    - {type: Dense, units: 4}
    - {block: res, units: 4, repeat: 2}
    - {type: Dense, units: 1}
"""
"""A block of two Dense and an Add, repeated twice (test_blocks.py, test_emitted_graphs.py)."""


# ------------------------------------------------------------------ operations
ARITHMETIC = """
name: arith
model:
  inputs:
    - {name: x, shape: [4, 3]}
    - {name: y, shape: [1, 3]}
  layers:
    - {type: Add, inputs: [x, x]}
    - {op: add, inputs: [add, y]}
    - {op: multiply, value: 0.16666666666666666}
    - {op: subtract, inputs: [1.0, multiply]}
    - {op: add, value: 3.0}
    - {op: relu6}
    - {op: clip, x_min: 0.0, x_max: 1.0}
    - {op: power, value: 2}
    - {op: negative}
    - {op: maximum, value: 0.5}
    - {op: softmax, axis: 1}
    - {op: hard_silu}
    - {op: gelu, approximate: false}
"""
"""Operations on tensors and an Add layer before them (test_operations.py, test_emitted_graphs.py)."""

SHAPING = """
name: shaping
model:
  inputs:
    - {name: img, shape: [8, 8, 3]}
    - {name: seq, shape: [4, 6]}
  layers:
    - {op: mean, inputs: [img], axis: [1, 2], as: pooled}
    - {op: sum, inputs: [seq], axis: 1, keepdims: true, as: summed}
    - {op: max, inputs: [seq], axis: -1, as: top}
    - {op: min, inputs: [seq], as: least}
    - {op: concatenate, inputs: [seq, seq], axis: -1, as: cat}
    - {op: stack, inputs: [seq, seq, seq], axis: 1, as: stacked}
    - {op: reshape, inputs: [seq], newshape: [-1, 24], as: flat}
    - {op: transpose, inputs: [seq], axes: [0, 2, 1], as: t}
    - {op: expand_dims, inputs: [seq], axis: 1}
    - {op: squeeze, axis: 1, as: back}
    - {op: matmul, inputs: [seq, t], as: scores}
    - {op: einsum, subscripts: "bij,bkj->bik", inputs: [seq, seq], as: scores2}
    - {op: extract_patches, inputs: [img], size: 2, as: patches}
    - {op: resize, inputs: [img], size: [4, 4], interpolation: nearest, as: small}
    - {op: split, inputs: [cat], indices_or_sections: 3, axis: -1, as: parts}
    - {op: add, inputs: [parts.0, parts.2], as: ends}
    - {type: Dense, units: 5, inputs: [pooled]}
  outputs: [dense, summed, top, least, stacked, flat, back, scores, scores2, patches, small, ends]
"""

INDEXING = """
name: indexing
model:
  inputs:
    - {name: img, shape: [8, 8, 3]}
    - {name: seq, shape: [5, 6]}
  layers:
    - {op: getitem, key: "[..., 2]", inputs: [img], as: blue}
    - {op: getitem, key: "[..., 1]", inputs: [img], as: green}
    - {op: getitem, key: "[..., 0]", inputs: [img], as: red}
    - {op: stack, inputs: [blue, green, red], axis: -1}
    - {op: add, value: [[[[-103.939, -116.779, -123.68]]]]}
    - {op: subtract, value: {numpy: [1.0, 2.0, 3.0]}}
    - {op: true_divide, value: {tensor: [0.229, 0.224, 0.225], dtype: float16}, as: caffe}
    - {op: getitem, key: "[:, 0]", inputs: [seq], as: cls}
    - {op: getitem, key: "[:, -1, :]", inputs: [seq], as: last}
    - {op: getitem, key: "[:, 1:3]", inputs: [seq], as: middle}
    - {op: getitem, key: "[..., ::-1]", inputs: [seq], as: reversed}
    - {op: getitem, key: "[:, None, 2]", inputs: [seq], name: widened}
    - {op: multiply, inputs: [[2.0, 0.5, 1.0, 1.0, 2.0, 0.5], cls], as: scaled}
    - {op: square}
    - {op: sqrt}
    - {op: exp}
    - {op: log}
    - {op: abs}
    - {op: sign}
    - {op: floor}
    - {op: round, decimals: 1}
    - {op: erf}
    - {op: log_softmax, axis: -1, as: logp}
    - {op: normalize, inputs: [last], as: unit}
    - {op: flip, inputs: [middle], axis: 1, as: flipped}
    - {op: cumsum, inputs: [middle], axis: -1, as: running}
    - {op: argmax, inputs: [seq], axis: -1, as: best}
    - {op: argmin, inputs: [seq], axis: 1, keepdims: true, as: worst}
    - {op: cast, inputs: [best], dtype: float32, as: best_float}
    - {type: Dense, units: 4, inputs: [caffe]}
  outputs: [dense, logp, unit, flipped, running, reversed, widened, best_float, worst, scaled]
"""
"""Indexing, array constants, cast and the elementwise operations (test_indexing_operations.py,
test_emitted_graphs.py)."""


# ------------------------------------------------ keras.applications tables (two test files)


def application_text(name: str, arguments: dict[str, Any]) -> tuple[str, int]:
    """specc's table of the application, through the spec text a user could write."""
    import yaml

    from specc.analysis.pipeline import compile_text
    from specc.applications import application_document
    from specc.backends import table

    document = application_document(name, **arguments)
    compiled = compile_text(yaml.safe_dump(document, sort_keys=False), f"{name}.yaml")
    return table.as_text(compiled.graph), compiled.graph.total_params


def keras_application_text(name: str, arguments: dict[str, Any]) -> tuple[str, int]:
    """Keras' summary of ``keras.applications.<name>(**arguments)`` and its size."""
    k = keras()
    k.backend.clear_session()
    given = {key: tuple(v) if isinstance(v, list) else v for key, v in arguments.items()}
    model = getattr(k.applications, name)(**given)
    out = io.StringIO()
    model.summary(print_fn=lambda line, line_break=True: out.write(line))
    return out.getvalue(), model.count_params()


def application_case(name: str, slow: bool = False, **arguments: Any) -> Any:
    """One case: Keras' arguments (``weights`` null unless given), slow for big models."""
    arguments.setdefault("weights", None)
    shown = ",".join(f"{k}={v}" for k, v in arguments.items() if k != "weights")
    only = pytest.mark.skipif(KERAS_MISSING is not None, reason=KERAS_MISSING or "")
    marks = [pytest.mark.keras, only, *([pytest.mark.slow] if slow else [])]
    return pytest.param(name, arguments, id=f"{name}({shown})", marks=marks)


def with_weights_files(path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the weights files ``path``'s sub-models load, for a test that builds it as is.

    specs/transfer_learning_mobilenetv2.yaml names a MobileNetV2 weights file that a user
    saves next to it (9 MB: not in the repository). Where such a file is missing, it is
    saved into ``folder`` from the same model built with ``weights=None``, and the test
    runs in ``folder``, where the builder and the emitted script (which, without
    ``locate_weights``, take the path from the working directory) find it."""
    from specc.analysis import weights
    from specc.analysis.pipeline import compile_file
    from specc.backends import keras_build

    subs = [sub for sub, _ in weights.each_sub_model(compile_file(path).graph)]
    files = [sub for sub in subs if sub.weights not in (None, "imagenet")]
    if not files:
        return
    for sub in files:
        if (path.parent / sub.weights).is_file():
            shutil.copy(path.parent / sub.weights, folder / sub.weights)
            continue
        if sub.application is not None:
            name, arguments = sub.application
            build_app = getattr(importlib.import_module("keras").applications, name)
            model = build_app(**{**arguments, "weights": None})
        else:
            model = keras_build.build(sub.definition, sub.graph, compile=False)
        model.save_weights(folder / sub.weights)
    monkeypatch.chdir(folder)
