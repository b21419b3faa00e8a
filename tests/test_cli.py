"""Exit codes, output formats and help of the TF-free commands."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from specc.language.jsonschema import json_schema_text
from tests.helpers import CASES, ROOT, SPECS
from tests.without import run_without

BAD = CASES / "negative_filters" / "spec.yaml"


def test_validate_specs_folder_ok(specc):
    run = specc("validate", str(SPECS))
    assert run.exit_code == 0
    assert "mnist_cnn.yaml: ok (13 layers, 43,290 params)" in run.stdout


def test_validate_mixed_exit_1_and_all_errors(specc):
    run = specc("validate", str(SPECS / "mnist_cnn.yaml"), str(BAD))
    assert run.exit_code == 1
    assert "ok" in run.stdout
    assert "filters: must be greater than 0 (got -4)" in run.stderr
    assert "1 valid, 1 invalid" in run.stderr


def test_missing_file_is_exit_2(specc, tmp_path):
    run = specc("validate", str(tmp_path / "nope.yaml"))
    assert run.exit_code == 2
    assert run.stderr.strip().endswith("error: no such file")


def test_missing_file_beats_invalid(specc, tmp_path):
    run = specc("validate", str(BAD), str(tmp_path / "nope.yaml"))
    assert run.exit_code == 2


def test_folder_without_specs_is_exit_2(specc, tmp_path):
    run = specc("validate", str(tmp_path))
    assert run.exit_code == 2
    assert "no *.yaml or *.yml files" in run.stderr


def test_usage_errors_are_exit_2(specc):
    assert specc("validate").exit_code == 2
    assert specc("validate", "--format", "xml", str(BAD)).exit_code == 2
    assert specc("frobnicate").exit_code == 2


def test_summary_of_invalid_spec(specc):
    run = specc("summary", str(BAD))
    assert run.exit_code == 1
    assert run.stdout == ""
    assert "model.layers[0].filters" in run.stderr


def test_json_format(specc):
    run = specc("validate", "--format", "json", str(BAD), str(SPECS / "mnist_cnn.yaml"))
    assert run.exit_code == 1
    data = json.loads(run.stdout)
    assert data["valid"] is False
    bad, good = data["files"]
    assert good["valid"] and good["total_params"] == 43290
    (diag,) = bad["diagnostics"]
    assert diag["loc"] == "model.layers[0].filters"
    assert (diag["line"], diag["col"]) == (6, 16)
    assert diag["message"] == "must be greater than 0 (got -4)"


def test_github_format(specc):
    run = specc("validate", "--format", "github", "spec.yaml", cwd=BAD.parent)
    assert run.exit_code == 1
    assert run.stdout.strip() == (
        "::error file=spec.yaml,line=6,col=16::model.layers[0].filters: must be greater than 0 (got -4)"
    )


def test_help_teaches(specc):
    run = specc("--help")
    assert run.exit_code == 0
    for word in ("validate", "summary", "schema", "Exit codes"):
        assert word in run.stdout
    assert "--format" in specc("validate", "--help").stdout


def test_schema_file_is_in_sync(specc):
    """specc.schema.json is checked in for editors; regenerate with `make schema`."""
    checked_in = (ROOT / "specc.schema.json").read_text()
    assert checked_in == json_schema_text(), "specc.schema.json is stale: run `make schema`"
    assert specc("schema").stdout == checked_in


def test_specs_carry_schema_modeline():
    for spec in SPECS.glob("*.yaml"):
        assert spec.read_text().startswith("# yaml-language-server: $schema=../specc.schema.json")


def test_python_dash_m(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "specc", "validate", str(SPECS)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


TF_FREE = [
    ["validate", str(SPECS)],
    ["validate", str(BAD)],
    ["summary", str(SPECS / "mnist_cnn.yaml")],
    ["summary", "--format", "json", str(SPECS / "mnist_cnn.yaml")],
    ["schema"],
    ["reference"],
    ["emit-code", "--check", str(SPECS)],
    ["diff", str(SPECS / "mnist_cnn.yaml"), str(SPECS / "mnist_cnn_batchnorm.yaml")],
    ["validate", str(SPECS), "--set", "training.epochs=2"],
]


def test_tf_free_commands_never_import_tensorflow():
    """The commands people run in a blink must not pay ~3 s for `import tensorflow`."""
    script = (
        "import sys, io, contextlib\n"
        "from specc.cli import main\n"
        "import specc\n"
        f"for argv in {TF_FREE!r}:\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "        try:\n"
        "            main(argv)\n"
        "        except SystemExit:\n"
        "            pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'jax', 'torch')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


BUILT = """\
import contextlib, io, json, sys
import pydantic
import specc
from specc.cli import main


def built():
    seen, todo = set(), [pydantic.BaseModel]
    while todo:
        for cls in todo.pop().__subclasses__():
            todo.append(cls)
            if cls.__module__.startswith("specc.") and cls.__pydantic_complete__:
                seen.add(cls.__name__)
    return sorted(seen)


at_import = built()
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(["validate", sys.argv[1]])
    except SystemExit:
        pass
print(json.dumps([at_import, built()]))
"""


def test_validators_are_built_on_first_use_only():
    """Start-up pays only for what a spec uses: `import specc` builds no validator (it
    built 26, one per section, each inlining its nested sections again), and validating
    the blog spec builds the spec's, its layer types' and the few used directly."""
    proc = subprocess.run(
        [sys.executable, "-c", BUILT, str(SPECS / "mnist_cnn.yaml")],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    at_import, after_validate = json.loads(proc.stdout)
    assert at_import == []
    layers = {"Conv2D", "Dense", "Dropout", "Flatten", "MaxPooling2D"}
    assert layers | {"Spec"} <= set(after_validate)
    from specc.layers import CATALOG

    assert not (set(CATALOG) - layers) & set(after_validate)  # no unused layer type
    assert len(after_validate) <= 10, after_validate


# --- counts, JSON on failure -------------------------------------------------------------

ONE_LAYER = """\
name: one
model:
  input: {shape: [4]}
  layers:
    - {type: Dense, units: 1}
"""


def test_counts_are_pluralised(specc, tmp_path):
    (tmp_path / "one.yaml").write_text(ONE_LAYER)
    run = specc("validate", "one.yaml", cwd=tmp_path)
    assert run.exit_code == 0
    assert run.stdout == "one.yaml: ok (1 layer, 5 params)\n"


def test_summary_json_of_an_invalid_spec_is_json(specc):
    run = specc("summary", "--format", "json", "spec.yaml", cwd=BAD.parent)
    assert run.exit_code == 1
    data = json.loads(run.stdout)
    assert data["file"] == "spec.yaml" and data["valid"] is False
    (diag,) = data["diagnostics"]
    assert (diag["line"], diag["col"], diag["loc"]) == (6, 16, "model.layers[0].filters")
    assert diag["message"] == "must be greater than 0 (got -4)"


def test_summary_json_of_a_missing_file_is_json_exit_2(specc, tmp_path):
    run = specc("summary", "--format", "json", str(tmp_path / "nope.yaml"))
    assert run.exit_code == 2
    assert json.loads(run.stdout)["diagnostics"][0]["message"] == "no such file"


# --- stdout: codepages and closed pipes ----------------------------------------------------


def _python_m_specc(*args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "specc", *args],
        capture_output=True,
        env={**os.environ, "COLUMNS": "120", **env},
        cwd=ROOT,
    )


@pytest.mark.parametrize("encoding", ["cp1252", "ascii", "latin-1"])
def test_summary_to_a_codepage_stdout_draws_ascii(encoding):
    run = _python_m_specc("summary", "specs/mnist_cnn.yaml", PYTHONIOENCODING=encoding)
    assert run.returncode == 0, run.stderr.decode()
    assert run.stderr == b""
    text = run.stdout.decode("ascii")
    assert text.splitlines()[1] == "+" + "-" * 86 + "+"
    assert "| conv2d_3 (Conv2D)                    | (None, 3, 3, 16)" in text
    assert text.splitlines()[-3] == " Total params: 43,290 (169.10 KB)"


def test_summary_to_utf8_keeps_keras_box():
    run = _python_m_specc("summary", "specs/mnist_cnn.yaml", PYTHONIOENCODING="utf-8")
    assert run.returncode == 0
    assert run.stdout.decode("utf-8").splitlines()[1].startswith("┏━━━")


@pytest.mark.keras
def test_ascii_table_is_what_keras_prints_to_a_codepage(tmp_path):
    """Byte for byte, in both encodings, against Keras' own model.summary()."""
    script = (
        "import sys, specc\n"
        "model = specc.build_model('specs/mnist_cnn.yaml')\n"
        "model.summary()\n"
        "sys.stdout.flush()\n"
        "sys.stdout.buffer.write(b'\\0')\n"
        "sys.stdout.reconfigure(encoding='utf-8')\n"
        "model.summary()\n"
    )
    keras = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        env={**os.environ, "COLUMNS": "120", "PYTHONIOENCODING": "cp1252"},
        cwd=ROOT,
    )
    assert keras.returncode == 0, keras.stderr.decode()[-2000:]
    keras_cp1252, keras_utf8 = keras.stdout.split(b"\0")
    ours_cp1252 = _python_m_specc("summary", "specs/mnist_cnn.yaml", PYTHONIOENCODING="cp1252")
    ours_utf8 = _python_m_specc("summary", "specs/mnist_cnn.yaml", PYTHONIOENCODING="utf-8")
    assert ours_cp1252.stdout == keras_cp1252
    assert ours_utf8.stdout == keras_utf8


CLOSED_PIPE = [
    ["schema"],
    ["summary", "specs/mnist_cnn.yaml"],
    ["summary", "--format", "json", "specs/mnist_cnn.yaml"],
    ["validate", "specs", "specs/mnist_cnn.yaml", "specs"],
    ["validate", "--format", "json", "specs"],
    ["--help"],
    ["--version"],
    ["validate", "--help"],
]


@pytest.mark.parametrize("argv", CLOSED_PIPE, ids=" ".join)
def test_a_closed_stdout_is_exit_141_quietly(argv):
    """The reader is gone before specc writes (`| head -1` that already exited)."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "specc", *argv], stdout=write, stderr=subprocess.PIPE, cwd=ROOT
        )
    finally:
        os.close(write)
    assert proc.stderr == b""
    assert proc.returncode == 141


def test_piped_into_head(tmp_path):
    """A real `| head -1`: 141, as the README promises. The schema (700 kB) is more than a
    pipe holds, so specc is still writing when head leaves: the kernel cut its write short,
    Python dropped the rest silently and specc exited 0."""
    script = 'set -o pipefail; python -m specc schema | head -1; echo "rc=${PIPESTATUS[0]}" >&2'
    proc = subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )
    assert proc.stdout == "{\n"
    assert proc.stderr.strip() == "rc=141"


def test_piped_output_is_whole(tmp_path):
    """A reader that stays gets every byte, through the complete-or-raise stdout."""
    proc = subprocess.run(
        ["bash", "-c", "python -m specc schema | cat"],
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )
    assert proc.returncode == 0
    assert proc.stdout == (ROOT / "specc.schema.json").read_bytes()


# --- failed writes: one line, exit 2, nothing half-written ---------------------------------


@contextlib.contextmanager
def _read_only(monkeypatch, folder: Path):
    """Make ``folder`` refuse writes as a read-only mount does (chmod means nothing to root)."""
    real_open, real_mkdir = os.open, os.mkdir

    def refuse(path) -> None:
        if str(os.path.abspath(path)).startswith(str(folder)):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    def fake_open(path, *args, **kwargs):
        if args and args[0] & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            refuse(path)
        return real_open(path, *args, **kwargs)

    def fake_mkdir(path, *args, **kwargs):
        refuse(path)
        return real_mkdir(path, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(os, "open", fake_open)
        m.setattr(os, "mkdir", fake_mkdir)
        yield


def _one_error_line(run, exit_code: int = 2) -> str:
    assert run.exit_code == exit_code, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr
    return lines[0]


def test_schema_into_a_file_as_folder(specc, tmp_path):
    (tmp_path / "out").write_text("x")
    line = _one_error_line(specc("schema", "-o", str(tmp_path / "out" / "schema.json")))
    assert (
        line
        == f"{tmp_path}/out/schema.json: error: cannot write: {tmp_path}/out is a file, not a folder"
    )


def test_schema_into_a_read_only_folder(specc, tmp_path, monkeypatch):
    with _read_only(monkeypatch, tmp_path):
        run = specc("schema", "-o", str(tmp_path / "schema.json"))
    line = _one_error_line(run)
    assert line == f"{tmp_path}/schema.json: error: cannot write: Read-only file system"
    assert os.listdir(tmp_path) == []


def test_schema_onto_a_folder(specc, tmp_path):
    (tmp_path / "schema.json").mkdir()
    run = specc("schema", "-o", str(tmp_path / "schema.json"))
    assert run.exit_code == 2 and "is a directory" in run.stderr


def test_schema_on_a_full_disk_keeps_the_old_file(specc, tmp_path, monkeypatch):
    from specc import files

    out = tmp_path / "schema.json"
    out.write_text("old\n")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", full)
    line = _one_error_line(specc("schema", "-o", str(out)))
    assert line == f"{out}: error: cannot write: No space left on device"
    assert out.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["schema.json"]


@pytest.mark.parametrize("check", [True, False], ids=["check", "write"])
def test_emit_code_over_a_folder_named_like_the_script(specc, tmp_path, check):
    (tmp_path / "mnist_cnn.py").mkdir()
    args = ["emit-code", str(SPECS), "-o", str(tmp_path), *(["--check"] if check else [])]
    line = _one_error_line(specc(*args))
    assert line == (
        f"{tmp_path}/mnist_cnn.py: error: is a folder, not a file; "
        "move it away and run emit-code again"
    )


@pytest.mark.parametrize("check", [True, False], ids=["check", "write"])
def test_emit_code_over_a_non_utf8_script(specc, tmp_path, check):
    script = tmp_path / "mnist_cnn.py"
    script.write_bytes(b"# caf\xe9 in latin-1\n")
    args = ["emit-code", str(SPECS), "-o", str(tmp_path), *(["--check"] if check else [])]
    line = _one_error_line(specc(*args))
    assert line == (
        f"{script}: error: is not UTF-8 text (byte 5), so not code specc emitted; "
        "move it away and run emit-code again"
    )
    assert script.read_bytes() == b"# caf\xe9 in latin-1\n"


def test_emit_code_into_a_read_only_folder(specc, tmp_path, monkeypatch):
    with _read_only(monkeypatch, tmp_path):
        line = _one_error_line(specc("emit-code", str(SPECS), "-o", str(tmp_path / "gen")))
    assert line == f"{tmp_path}/gen: error: cannot write: Read-only file system"


def test_train_into_a_file_as_folder_fails_before_training(specc, tmp_path):
    (tmp_path / "runs").write_text("x")
    out = tmp_path / "runs" / "one"
    line = _one_error_line(specc("train", str(SPECS / "mnist_cnn.yaml"), "--output-dir", str(out)))
    assert line == f"{out}: error: cannot write: {tmp_path}/runs is a file, not a folder"


# --- Keras refuses: one line, exit 1; Ctrl-C: 130 ------------------------------------------


def _refuse(*args, **kwargs):
    raise ValueError("Exception encountered when calling Dense.call().\n\nsecond line\n  detail")


@pytest.mark.keras
def test_build_keras_refusal_is_one_line(specc, tmp_path, monkeypatch):
    from specc.backends import keras_build

    monkeypatch.setattr(keras_build, "build", _refuse)
    line = _one_error_line(
        specc("build", str(SPECS / "mnist_cnn.yaml"), "-o", str(tmp_path / "m.keras")), 1
    )
    assert line == (
        f"{SPECS / 'mnist_cnn.yaml'}: error: Keras refused the model: "
        "ValueError: Exception encountered when calling Dense.call()."
    )
    assert os.listdir(tmp_path) == []


@pytest.mark.keras
def test_build_keras_refusal_in_a_real_process(tmp_path):
    script = (
        "import sys\n"
        "from specc.backends import keras_build\n"
        "def refuse(*a, **k):\n"
        "    raise RuntimeError('OOM when allocating tensor with shape[784,1099511627776]\\nmore')\n"
        "keras_build.build = refuse\n"
        "from specc.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "build",
            "specs/mnist_cnn.yaml",
            "-o",
            str(tmp_path / "m.keras"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 1
    assert proc.stderr == (
        "specs/mnist_cnn.yaml: error: Keras refused the model: "
        "RuntimeError: OOM when allocating tensor with shape[784,1099511627776]\n"
    )


@pytest.mark.keras
def test_ctrl_c_in_build_is_130(specc, monkeypatch):
    from specc.backends import keras_build

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(keras_build, "build", interrupt)
    run = specc("build", str(SPECS / "mnist_cnn.yaml"))
    assert run.exit_code == 130
    assert run.stderr == "interrupted\n"


TINY = """\
name: tiny
data:
  dataset: mnist
  preprocessing:
    x: [{reshape: [784]}, {cast: float32}, {divide: 255}]
    y: [{one_hot: 10}]
model:
  input: {shape: [784]}
  layers:
    - {type: Dense, units: 10, activation: softmax}
compile: {optimizer: sgd, loss: categorical_crossentropy, metrics: [accuracy]}
training: {epochs: 2, batch_size: 16, seed: 1}
"""


@pytest.fixture
def tiny(tmp_path) -> tuple[Path, Path]:
    """A one-layer spec and 64 random 28x28 images: a training in about a second."""
    import numpy as np

    rng = np.random.default_rng(0)
    data = tmp_path / "tiny.npz"
    np.savez(
        data,
        x_train=rng.integers(0, 255, (64, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, 64, dtype=np.uint8),
        x_test=rng.integers(0, 255, (16, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, 16, dtype=np.uint8),
    )
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY)
    return spec, data


@pytest.mark.keras
def test_train_keras_refusal_is_one_line(specc, tmp_path, monkeypatch, tiny):
    from specc.backends import keras_build

    spec, data = tiny
    monkeypatch.setattr(keras_build, "build", _refuse)
    run = specc("train", str(spec), "--data", str(data), "--output-dir", str(tmp_path / "run"))
    assert _one_error_line(run, 1) == (
        f"{spec}: error: training failed: "
        "ValueError: Exception encountered when calling Dense.call()."
    )


@pytest.mark.keras
def test_train_into_a_read_only_folder(specc, tmp_path, monkeypatch, tiny):
    spec, data = tiny
    out = tmp_path / "ro" / "run"
    (tmp_path / "ro").mkdir()
    with _read_only(monkeypatch, tmp_path / "ro"):
        run = specc("train", str(spec), "--data", str(data), "--output-dir", str(out))
    assert _one_error_line(run) == f"{out}: error: cannot write: Read-only file system"


@pytest.mark.keras
def test_train_disk_full_at_a_checkpoint(specc, tmp_path, monkeypatch, tiny):
    """ENOSPC while model.keras is written at the end of an epoch: one line, no partial file."""
    from specc import files

    spec, data = tiny
    out = tmp_path / "run"
    real_fsync = files.os.fsync

    def fsync(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".keras"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", fsync)
    run = specc("train", str(spec), "--data", str(data), "--output-dir", str(out), "--epochs", "1")
    lines = [line for line in run.stderr.splitlines() if "error" in line]
    assert lines == [f"{out}/model.keras: error: cannot write: No space left on device"]
    assert run.exit_code == 2
    assert "Traceback" not in run.stderr
    assert sorted(os.listdir(out)) == ["history.json", "spec.yaml", "tensorboard"]


def test_import_into_a_file_as_folder(specc, tmp_path):
    from specc.analysis.pipeline import compile_file
    from specc.backends import keras_build

    compiled = compile_file(SPECS / "mnist_cnn.yaml")
    model_path = tmp_path / "m.keras"
    keras_build.save(keras_build.build(compiled.spec, compiled.graph), model_path)
    (tmp_path / "out").write_text("x")
    line = _one_error_line(specc("import", str(model_path), "-o", str(tmp_path / "out" / "s.yaml")))
    assert (
        line
        == f"{tmp_path}/out/s.yaml: error: cannot write: {tmp_path}/out is a file, not a folder"
    )


@pytest.mark.keras
def test_build_into_a_file_as_folder(specc, tmp_path):
    (tmp_path / "out").write_text("x")
    run = specc("build", str(SPECS / "mnist_cnn.yaml"), "-o", str(tmp_path / "out" / "m.keras"))
    assert run.exit_code == 2
    assert run.stderr.splitlines()[-1] == (
        f"{tmp_path}/out/m.keras: error: cannot write: {tmp_path}/out is a file, not a folder"
    )


# --- the API without Keras -----------------------------------------------------------------


def test_build_model_without_keras_says_what_to_install():
    script = (
        "import sys\n"
        "sys.modules['keras'] = None  # as if not installed\n"
        "import specc\n"
        "try:\n"
        "    specc.build_model('specs/mnist_cnn.yaml')\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, isinstance(exc, specc.KerasMissingError), exc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        "KerasMissingError True specc.build_model needs Keras: pip install 'specc[keras]'\n"
    )


# --- Keras without its backend: the environment's fault, exit 2 ----------------------------


def _specc_without(package: str, *argv: str, **env: str) -> subprocess.CompletedProcess:
    """``specc ARGV`` in a process where ``package`` is not installed."""
    return run_without([package], *argv, env=env)


@pytest.mark.parametrize("command", ["build", "train", "import"])
@pytest.mark.keras
def test_keras_without_tensorflow_is_exit_2_with_the_install_command(command, tiny, tmp_path):
    """It was `Keras refused the model: ModuleNotFoundError` and exit 1, the code of a bad spec."""
    spec, data = tiny
    model = tmp_path / "tiny.keras"
    argv = {
        "build": ["build", str(spec), "-o", str(tmp_path / "m.keras")],
        "train": ["train", str(spec), "--data", str(data), "--output-dir", str(tmp_path / "run")],
        "import": ["import", str(model)],
    }[command]
    if command == "import":
        from specc.analysis.pipeline import compile_file
        from specc.backends import keras_build

        compiled = compile_file(spec)
        keras_build.save(keras_build.build(compiled.spec, compiled.graph), model)
    proc = _specc_without("tensorflow", *argv, KERAS_BACKEND="tensorflow")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr == {
        "train": "error: Keras' tensorflow backend is not installed: pip install 'specc[keras]'\n"
    }.get(
        command,
        "error: Keras' tensorflow backend cannot be imported (No module named 'tensorflow'): "
        "pip install 'specc[keras]'\n",
    )
    assert not (tmp_path / "m.keras").exists()
    assert not (tmp_path / "run").exists()


@pytest.mark.keras
def test_keras_without_the_backend_keras_backend_names(tiny, tmp_path):
    spec, _ = tiny
    proc = _specc_without("jax", "build", str(spec), "-o", str(tmp_path / "m.keras"),
                          KERAS_BACKEND="jax")  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr == (
        "error: Keras' jax backend cannot be imported (No module named 'jax'): pip install jax\n"
    )
    proc = _specc_without("jax", "train", str(spec), KERAS_BACKEND="jax")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr == "error: Keras' jax backend is not installed: pip install jax\n"


@pytest.mark.keras
def test_sweep_without_tensorflow_is_exit_2_before_any_trial(tiny, tmp_path):
    """Each trial failed with KerasMissingError and the sweep exited 1."""
    spec, data = tiny
    out = tmp_path / "sweep"
    proc = _specc_without("tensorflow", "sweep", str(spec), "--grid", "training.epochs=[1, 2]",
                          "--data", str(data), "--output-dir", str(out), KERAS_BACKEND="tensorflow")  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr == (
        "error: Keras' tensorflow backend is not installed: pip install 'specc[keras]'\n"
    )
    assert not list(out.glob("trial-*"))


# --- matplotlib is an extra (specc[diagram]) ------------------------------------------------


@pytest.mark.parametrize("command", ["diagram", "report", "train", "sweep"])
def test_drawing_without_matplotlib_says_which_extra(command, tmp_path):
    argv = {
        "diagram": ["diagram", "specs/mnist_cnn.yaml", "-o", str(tmp_path / "m.svg")],
        "report": ["report", str(tmp_path)],
        "train": ["train", "specs/mnist_cnn.yaml", "--output-dir", str(tmp_path / "run")],
        "sweep": ["sweep", "specs/mnist_cnn.yaml", "--grid", "training.epochs=[1, 2]",
                  "--output-dir", str(tmp_path / "sweep")],
    }[command]  # fmt: skip
    proc = run_without(["matplotlib"], *argv)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr == (
        f"error: specc {command} draws with matplotlib, which is not installed: "
        "pip install 'specc[diagram]'\n"
    )
    assert os.listdir(tmp_path) == []
