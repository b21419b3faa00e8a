"""training.distribution: real strategies on these CPUs, each run in its own process group.

TensorFlow's logical CPU devices and JAX's host device count are fixed when the engine
starts, so every training here is a subprocess (``SPECC_LOGICAL_CPUS=2``); each has a
timeout, and its whole process group is killed in ``finally``. Multi-worker runs two
workers on 127.0.0.1 with free ports and compares their weights' checksums.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from specc.training.distribute import TrainSetupError, worker_place
from tests.emitted import load_module
from tests.helpers import MNIST as REAL_MNIST
from tests.helpers import RUN_FILES, SPECS, needs_mnist, synthetic_mnist, write_npz

ROOT = Path(__file__).resolve().parents[1]
SPECC = [str(Path(sys.executable).parent / "specc")]
BLOG = SPECS / "mnist_cnn.yaml"
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_all(commands: list[tuple[list[str], dict]], timeout: float) -> list[tuple[int, str]]:
    """Start every command at once (workers wait for each other), each in its own process
    group; return (exit status, output) each; kill every group whatever happens. An
    environment variable given as None is unset."""
    procs = []
    try:
        for argv, env in commands:
            environ = {k: v for k, v in (os.environ | QUIET | env).items() if v is not None}
            procs.append(subprocess.Popen(
                argv, env=environ, cwd=ROOT, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, start_new_session=True,
            ))  # fmt: skip
        outputs = [p.communicate(timeout=timeout)[0] for p in procs]
        return [(p.returncode, output) for p, output in zip(procs, outputs, strict=True)]
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def blog_spec(tmp_path: Path, distribution: str, name: str = "mnist_cnn") -> Path:
    """The blog spec, 1 epoch, with ``distribution``."""
    text = BLOG.read_text().replace("epochs: 15", "epochs: 1")
    text = text.replace("  seed: 42\n", f"  seed: 42\n  distribution: {distribution}\n")
    text = text.replace("name: mnist_cnn", f"name: {name}")
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def metrics(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text())


@pytest.fixture
def small_mnist(tmp_path: Path) -> Path:
    """600 training, 100 test MNIST-shaped images (synthetic)."""
    return write_npz(tmp_path / "small.npz", **synthetic_mnist(600, 100))


# -- TF_CONFIG, pure Python ------------------------------------------------------------
CLUSTER = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}


def _tf_config(cluster=CLUSTER, **task) -> str:
    return json.dumps({"cluster": cluster, "task": task})


TF_CONFIG_PROBLEMS = [
    ("{cluster: 1}", "$TF_CONFIG is not JSON (Expecting property name"),
    ('["worker"]', "$TF_CONFIG must be a JSON object, not a list"),
    (json.dumps({"task": {}}), '$TF_CONFIG needs "cluster"'),
    (json.dumps({"cluster": {"ps": ["h:1"]}}), '$TF_CONFIG needs "cluster"'),
    (json.dumps({"cluster": CLUSTER}), '$TF_CONFIG needs "task"'),
    (_tf_config({"worker": []}, type="worker", index=0),
     '$TF_CONFIG cluster.worker must be a non-empty list of "host:port" strings, not a list []'),
    (_tf_config({"worker": "h:1"}, type="worker", index=0),
     '$TF_CONFIG cluster.worker must be a non-empty list of "host:port" strings, not a string "h:1"'),
    (_tf_config({"worker": ["h:1", 2]}, type="worker", index=0),
     '$TF_CONFIG cluster.worker[1] must be a "host:port" string, not an integer 2'),
    (_tf_config({"worker": ["h:1"], "workers": ["h:2"]}, type="worker", index=0),
     '$TF_CONFIG cluster has a job "workers": TensorFlow knows chief, worker, ps, evaluator'),
    (_tf_config({"chief": ["h:1", "h:2"], "worker": ["h:3"]}, type="worker", index=0),
     "$TF_CONFIG cluster.chief lists 2 addresses: a cluster has one chief at most"),
    (_tf_config(type="ps", index=0), "type one of 'worker'"),
    (_tf_config(type=0, index=0), "$TF_CONFIG task.type must be a string, one of 'worker', not an integer 0"),
    (_tf_config(type="worker"), '$TF_CONFIG task needs "index": this machine\'s place in cluster.worker, 0 to 1'),
    (_tf_config(type="worker", index="0"),
     '$TF_CONFIG task.index "0" is not an integer but a string: write e.g. "index": 0 (0 to 1, no quotes)'),
    (_tf_config(type="worker", index=True), '$TF_CONFIG task.index true is not an integer but a boolean'),
    (_tf_config(type="worker", index=1.0),
     '$TF_CONFIG task.index 1.0 is not an integer but a number with a decimal point: write e.g. "index": 1'),
    (_tf_config(type="worker", index=2),
     "task.index 2 is out of range: cluster.worker lists 2 address(es), so the index is 0 to 1"),
    (_tf_config(type="worker", index=-1), "task.index -1 is out of range"),
    (json.dumps({"cluster": CLUSTER, "task": {"type": "worker", "index": 0}, "rpc_layer": 1}),
     '$TF_CONFIG rpc_layer must be a string such as "grpc", not an integer 1'),
]  # fmt: skip
"""Each field's type and value, with the message both specc and the emitted script give."""
TF_CONFIG_IDS = [
    "not_json",
    "not_an_object",
    "no_cluster",
    "no_chief_or_worker",
    "no_task",
    "empty_worker_list",
    "worker_not_a_list",
    "address_not_a_string",
    "unknown_job",
    "two_chiefs",
    "type_not_a_role",
    "type_not_a_string",
    "no_index",
    "index_a_string",
    "index_a_bool",
    "index_a_float",
    "index_too_large",
    "index_negative",
    "rpc_layer_not_a_string",
]


@pytest.mark.parametrize(
    ("text", "message"),
    [(None, "needs $TF_CONFIG"), ("  ", "needs $TF_CONFIG"), *TF_CONFIG_PROBLEMS],
    ids=["unset", "blank", *TF_CONFIG_IDS],
)
def test_tf_config_problems_are_one_line(text, message):
    with pytest.raises(TrainSetupError) as caught:
        worker_place(text)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("text", "message"), TF_CONFIG_PROBLEMS, ids=TF_CONFIG_IDS)
def test_emitted_script_checks_tf_config_as_specc_does(text, message, monkeypatch, capsys):
    """The emitted multi-worker script's own $TF_CONFIG check: the same one-line messages."""
    module = load_module(ROOT / "generated" / "mnist_cnn_multi_worker.py")
    monkeypatch.setenv("TF_CONFIG", text)
    with pytest.raises(SystemExit) as caught:
        module.worker_place()
    err = capsys.readouterr().err
    assert caught.value.code == 2
    assert err.startswith("error: $TF_CONFIG") and message in err and err.count("\n") == 1, err


def test_tf_config_places_a_chief_first():
    cluster = {"chief": ["h:1"], "worker": ["h:2", "h:3"]}
    place = [worker_place(json.dumps({"cluster": cluster, "task": t}))[:2] for t in (
        {"type": "chief", "index": 0}, {"type": "worker", "index": 0}, {"type": "worker", "index": 1},
    )]  # fmt: skip
    assert place == [(0, 3), (1, 3), (2, 3)]


@pytest.mark.parametrize(
    ("tf_config", "message"),
    [
        (None, "error: strategy multi_worker_mirrored needs $TF_CONFIG"),
        ("{oops", "error: $TF_CONFIG is not JSON"),
        (json.dumps({"cluster": CLUSTER, "task": {"type": "worker", "index": 5}}),
         "error: $TF_CONFIG task.index 5 is out of range"),
        (json.dumps({"cluster": CLUSTER, "task": {"type": "worker", "index": "0"}}),
         'error: $TF_CONFIG task.index "0" is not an integer but a string'),
    ],
)  # fmt: skip
def test_train_refuses_a_bad_tf_config_with_exit_2(
    tmp_path, small_mnist, specc, monkeypatch, tf_config, message
):
    spec = blog_spec(tmp_path, "{strategy: multi_worker_mirrored}")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    if tf_config is not None:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    result = specc(
        "train", str(spec), "--data", str(small_mnist), "--output-dir", str(tmp_path / "run")
    )
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
    assert not (tmp_path / "run").exists()  # refused before anything started


def test_auto_backend_resolving_to_the_wrong_engine_is_one_error(tmp_path, small_mnist):
    """runtime.backend auto is resolved when training starts: a clear error then."""
    spec = blog_spec(tmp_path, "{strategy: mirrored}")
    argv = train_command(spec, small_mnist, tmp_path / "r")
    [(code, output)] = run_all([(argv, {"KERAS_BACKEND": "jax"})], timeout=300)
    assert code == 1
    assert output == (
        "error: training.distribution strategy 'mirrored' runs on the tensorflow backend, but "
        "runtime.backend 'auto' resolved to 'jax' ($KERAS_BACKEND is 'jax'); set "
        "runtime.backend: tensorflow or KERAS_BACKEND=tensorflow\n"
    )


# -- real trainings (subprocesses) -----------------------------------------------------
def train_command(spec: Path, data: Path, out: Path, *more: str) -> list[str]:
    return [*SPECC, "train", str(spec), "--data", str(data), "--output-dir", str(out), *more]


def test_mirrored_on_two_logical_cpus(tmp_path, small_mnist):
    """The blog spec under MirroredStrategy over 2 logical CPU devices: 2 replicas, the
    global batch split between them, the run folder as without a strategy."""
    spec = blog_spec(tmp_path, "{strategy: mirrored, devices: ['/cpu:0', '/cpu:1']}")
    out = tmp_path / "run"
    env = {"SPECC_LOGICAL_CPUS": "2", "KERAS_BACKEND": "tensorflow"}
    env["TF_CPP_MIN_LOG_LEVEL"] = None  # as users run it: TensorFlow's start-up stays muted
    [(code, output)] = run_all([(train_command(spec, small_mnist, out), env)], timeout=600)
    assert code == 0, output
    assert "I0000" not in output and "cuda" not in output, output
    m = metrics(out)
    assert m["distribution"] == {"strategy": "mirrored", "replicas": 2}
    assert m["runtime"] == {"loop": "fit", "jit_compile": False, "steps_per_execution": 1}
    assert m["epochs"] == 1 and 0 <= m["test_accuracy"] <= 1
    assert "steps_per_execution 1 under mirrored" in output
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES  # report.html too


def test_mirrored_refuses_devices_the_machine_lacks(tmp_path, small_mnist):
    spec = blog_spec(tmp_path, "{strategy: mirrored, devices: ['/cpu:0', '/cpu:1']}")
    env = {"SPECC_LOGICAL_CPUS": "", "KERAS_BACKEND": "tensorflow"}
    [(code, output)] = run_all(
        [(train_command(spec, small_mnist, tmp_path / "r"), env)], timeout=300
    )
    assert code == 2
    assert output.splitlines()[-1] == (
        "error: training.distribution.devices names /cpu:1, but this machine has /cpu:0 "
        "($SPECC_LOGICAL_CPUS=N splits the CPU into N)"
    )


def two_workers(spec: Path, data: Path, out: Path, timeout: float) -> list[tuple[int, str]]:
    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    commands = [
        (train_command(spec, data, out), {
            "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}),
            "KERAS_BACKEND": "tensorflow", "SPECC_LOGICAL_CPUS": "",
        })
        for i in range(2)
    ]  # fmt: skip
    return run_all(commands, timeout)


def check_workers_agree(out: Path, results: list[tuple[int, str]]) -> None:
    for code, output in results:
        assert code == 0, output
    chief, other = metrics(out), metrics(out / "worker-1")
    assert chief["distribution"] == {
        "strategy": "multi_worker_mirrored",
        "replicas": 2,
        "worker": 0,
        "workers": 2,
    }
    assert other["distribution"]["worker"] == 1
    assert chief["weights_sha256"] == other["weights_sha256"]  # one model, trained in step
    assert chief["test_loss"] == other["test_loss"]
    history = json.loads((out / "history.json").read_text())
    assert history == json.loads((out / "worker-1" / "history.json").read_text())
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_multi_worker_mirrored_two_processes_agree(tmp_path, small_mnist):
    """Two workers on 127.0.0.1, each with its TF_CONFIG, train the blog spec for an epoch
    on synthetic MNIST-shaped data and end with the same weights."""
    spec = blog_spec(tmp_path, "{strategy: multi_worker_mirrored, communication: ring}")
    out = tmp_path / "run"
    check_workers_agree(out, two_workers(spec, small_mnist, out, timeout=600))


@pytest.mark.slow
@needs_mnist
def test_multi_worker_mirrored_on_real_mnist(tmp_path):
    """The same on the real MNIST (60,000 images): a few minutes on 2 cores."""
    spec = blog_spec(tmp_path, "{strategy: multi_worker_mirrored}")
    out = tmp_path / "run"
    check_workers_agree(out, two_workers(spec, REAL_MNIST, out, timeout=1200))
    assert metrics(out)["test_accuracy"] > 0.9


def tiny_dense_spec(tmp_path: Path, data: Path, distribution: str) -> Path:
    spec = tmp_path / "tiny.yaml"
    spec.write_text(
        f"name: tiny\ndata:\n  dataset: npz\n  path: {data}\n  preprocessing:\n"
        "    x: [{reshape: [784]}, {cast: float32}, {divide: 255}]\n    y: [{one_hot: 10}]\n"
        "model:\n  input: {shape: [784]}\n  layers:\n    - {type: Dense, units: 10, activation: softmax}\n"
        "compile: {optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}\n"
        f"training:\n  epochs: 1\n  batch_size: 32\n  validation_split: 0.1\n  seed: 1\n"
        f"  distribution: {distribution}\nruntime: {{backend: jax}}\n"
    )
    return spec


def test_jax_data_parallel_on_two_host_devices(tmp_path, small_mnist):
    """keras.distribution.DataParallel over 2 XLA host devices; 600 * 0.9 = 540 training
    samples split evenly, the 60 validation samples too, the test set's 100 likewise."""
    pytest.importorskip("jax")
    spec = tiny_dense_spec(tmp_path, small_mnist, "{strategy: data_parallel}")
    out = tmp_path / "run"
    env = {"SPECC_LOGICAL_CPUS": "2", "KERAS_BACKEND": "jax"}
    [(code, output)] = run_all([(train_command(spec, small_mnist, out), env)], timeout=600)
    assert code == 0, output
    m = metrics(out)
    assert m["distribution"] == {"strategy": "data_parallel", "replicas": 2}
    assert m["backend"] == "jax"


def test_jax_data_parallel_batch_must_split_evenly(tmp_path, small_mnist):
    pytest.importorskip("jax")
    spec = tiny_dense_spec(tmp_path, small_mnist, "{strategy: data_parallel}")
    env = {"SPECC_LOGICAL_CPUS": "2", "KERAS_BACKEND": "jax"}
    argv = train_command(spec, small_mnist, tmp_path / "r", "--batch-size", "33")
    [(code, output)] = run_all([(argv, env)], timeout=300)
    assert code == 1
    assert output.splitlines()[-1] == (
        "error: training.batch_size 33 is the global batch and must split evenly over the 2 "
        "replicas of strategy 'data_parallel'; use e.g. 34 (or --batch-size 34)"
    )


@pytest.mark.slow
def test_jax_data_parallel_trains_the_blog_spec(tmp_path, small_mnist):
    pytest.importorskip("jax")
    spec = blog_spec(tmp_path, "{strategy: data_parallel}")
    out = tmp_path / "run"
    env = {"SPECC_LOGICAL_CPUS": "2", "KERAS_BACKEND": "jax"}
    [(code, output)] = run_all([(train_command(spec, small_mnist, out), env)], timeout=600)
    assert code == 0, output
    assert metrics(out)["distribution"] == {"strategy": "data_parallel", "replicas": 2}


# -- the emitted script ----------------------------------------------------------------
def emit(spec: Path, out: Path) -> Path:
    from specc.analysis.pipeline import compile_file
    from specc.backends import codegen
    from tests.helpers import assert_formatted

    files = codegen.render(compile_file(spec), out)
    assert_formatted(files, out.parent / "fmt")
    codegen.write(files)
    return next(iter(files))


def test_emitted_script_runs_mirrored_on_two_logical_cpus(tmp_path, small_mnist):
    """The emitted script builds and compiles in the strategy's scope and feeds global
    batches; it needs no specc, only the same SPECC_LOGICAL_CPUS to split the CPU."""
    script = emit(
        blog_spec(tmp_path, "{strategy: mirrored}", name="blog_mirrored"), tmp_path / "gen"
    )
    text = script.read_text()
    assert "with strategy.scope():" in text and "MirroredStrategy(DEVICES)" in text
    out = tmp_path / "run"
    argv = [
        sys.executable,
        str(script),
        "--data",
        str(small_mnist),
        "--epochs",
        "1",
        "--output-dir",
        str(out),
    ]
    env = {"SPECC_LOGICAL_CPUS": "2", "KERAS_BACKEND": "tensorflow", "PYTHONPATH": ""}
    [(code, output)] = run_all([(argv, env)], timeout=600)
    assert code == 0, output
    m = metrics(out)
    assert (m["strategy"], m["replicas"], m["epochs"]) == ("mirrored", 2, 1)


def test_emitted_multi_worker_script_refuses_a_missing_tf_config(tmp_path, small_mnist):
    script = emit(
        blog_spec(tmp_path, "{strategy: multi_worker_mirrored}", name="blog_mw"), tmp_path / "gen"
    )
    argv = [sys.executable, str(script), "--data", str(small_mnist)]
    env = {"TF_CONFIG": "", "KERAS_BACKEND": "tensorflow", "PYTHONPATH": ""}
    [(code, output)] = run_all([(argv, env)], timeout=300)
    assert code == 2
    assert output.startswith(
        "error: strategy multi_worker_mirrored needs $TF_CONFIG, e.g. TF_CONFIG="
    )


@pytest.mark.slow
def test_emitted_multi_worker_script_two_processes_agree(tmp_path, small_mnist):
    """generated/mnist_cnn_multi_worker.py itself, as two workers on 127.0.0.1."""
    script = ROOT / "generated" / "mnist_cnn_multi_worker.py"
    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    out = tmp_path / "run"
    argv = [
        sys.executable,
        str(script),
        "--data",
        str(small_mnist),
        "--epochs",
        "1",
        "--output-dir",
        str(out),
    ]
    commands = [
        (argv, {
            "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}),
            "KERAS_BACKEND": "tensorflow", "SPECC_LOGICAL_CPUS": "", "PYTHONPATH": "",
        })
        for i in range(2)
    ]  # fmt: skip
    for code, output in run_all(commands, timeout=300):
        assert code == 0, output
    chief, other = metrics(out), metrics(out / "worker-1")
    assert (chief["strategy"], chief["replicas"]) == ("multi_worker_mirrored", 2)
    assert chief["test_loss"] == other["test_loss"]


@pytest.mark.slow
def test_emitted_data_parallel_script_runs_on_two_host_devices(tmp_path, small_mnist):
    pytest.importorskip("jax")
    spec = blog_spec(tmp_path, "{strategy: data_parallel}", name="blog_data_parallel")
    script = emit(spec, tmp_path / "gen")
    out = tmp_path / "run"
    argv = [
        sys.executable,
        str(script),
        "--data",
        str(small_mnist),
        "--epochs",
        "1",
        "--output-dir",
        str(out),
    ]
    env = {"SPECC_LOGICAL_CPUS": "2", "KERAS_BACKEND": "jax", "PYTHONPATH": ""}
    [(code, output)] = run_all([(argv, env)], timeout=600)
    assert code == 0, output
    assert (metrics(out)["strategy"], metrics(out)["replicas"]) == ("data_parallel", 2)


# -- a graph of two inputs under a strategy ---------------------------------------------
@pytest.mark.slow  # two TF trainings; mirrored, two-input and emitted runs are each in the default
def test_a_two_input_graph_trains_mirrored_by_specc_and_by_its_emitted_script(tmp_path):
    """Graph models train under a strategy as stacks do: ``specs/two_inputs.yaml`` with
    ``--set training.distribution=...`` (no new spec), and the script emitted for it,
    each feed both inputs by name to 2 replicas."""
    from tests.helpers import EXAMPLE, write_two_inputs

    data = write_two_inputs(tmp_path / "two.npz")
    env = {"SPECC_LOGICAL_CPUS": "2", "KERAS_BACKEND": "tensorflow"}
    mirrored = "training.distribution={strategy: mirrored, devices: ['/cpu:0', '/cpu:1']}"
    out = tmp_path / "run"
    argv = train_command(EXAMPLE, data, out, "--epochs", "1", "--batch-size", "16")
    emitted_spec = tmp_path / "two_inputs_mirrored.yaml"
    emitted_spec.write_text(
        f"extends: {EXAMPLE}\ntraining: {{distribution: {{strategy: mirrored}}}}\n"
    )
    script = emit(emitted_spec, tmp_path / "gen")
    script_out = tmp_path / "script-run"
    script_argv = [sys.executable, str(script), "--data", str(data), "--epochs", "1",
                   "--batch-size", "16", "--output-dir", str(script_out)]  # fmt: skip
    results = run_all(
        [([*argv, "--set", mirrored], env), (script_argv, env | {"PYTHONPATH": ""})],
        timeout=600,
    )
    for code, output in results:
        assert code == 0, output
    m = metrics(out)
    assert m["distribution"] == {"strategy": "mirrored", "replicas": 2}
    assert m["train_samples"] == 48 and 0 <= m["test_accuracy"] <= 1
    assert sorted(p.name for p in out.iterdir()) == RUN_FILES  # the report's predictions too
    assert "part(x, at, at + n_val)" in script.read_text()
    s = metrics(script_out)
    assert (s["strategy"], s["replicas"], s["epochs"]) == ("mirrored", 2, 1)


# -- streamed data (an image folder, a CSV) under a strategy ---------------------------
STREAMED_SPECS = {
    "image_folder": """\
name: shapes
data: {{dataset: image_folder, path: {path}, preprocessing: {{x: [{{divide: 255}}]}}}}
model:
  input: {{shape: [16, 16, 3]}}
  layers:
    - {{type: Conv2D, filters: 4, kernel_size: 3, activation: relu}}
    - {{type: Flatten}}
    - {{type: Dense, units: 3, activation: softmax}}
""",
    "csv": """\
name: table
data: {{dataset: csv, path: {path}, label: target}}
model:
  input: {{shape: [3]}}
  layers:
    - {{type: Normalization}}
    - {{type: Dense, units: 8, activation: relu}}
    - {{type: Dense, units: 3, activation: softmax}}
""",
}
STREAMED_TRAINING = """\
compile: {{optimizer: adam, loss: sparse_categorical_crossentropy, metrics: [accuracy]}}
training:
  epochs: 2
  batch_size: 8
  validation_split: 0.25
  seed: 3
  distribution: {distribution}
"""


def streamed_data(tmp_path: Path, kind: str) -> Path:
    """48 images of 3 classes, or 150 rows of 3 numbers and a class."""
    import numpy as np

    from tests.image_files import write_folder

    if kind == "image_folder":
        return write_folder(tmp_path / "shapes", per_class=16)
    rng = np.random.default_rng(0)
    rows = ["a,b,c,target"]
    for _ in range(150):
        t = int(rng.integers(0, 3))
        rows.append(",".join(f"{v:.3f}" for v in rng.normal(t, 1.0, 3)) + f",{t}")
    path = tmp_path / "table.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def streamed_spec(tmp_path: Path, kind: str, distribution: str) -> tuple[Path, Path]:
    data = streamed_data(tmp_path, kind)
    spec = tmp_path / f"{kind}.yaml"
    spec.write_text(
        STREAMED_SPECS[kind].format(path=data) + STREAMED_TRAINING.format(distribution=distribution)
    )
    return spec, data


@pytest.mark.slow  # two workers, two epochs: about a minute each on 2 cores
@pytest.mark.parametrize("kind", ["image_folder", "csv"])
def test_streamed_data_multi_worker_two_processes_agree(tmp_path, kind):
    """An image folder and a CSV under MultiWorkerMirrored, two workers on 127.0.0.1: each
    runs the whole stream and keeps its share of every global batch (auto-shard DATA);
    one model, trained in step (the same weights and history on both)."""
    spec, data = streamed_spec(
        tmp_path, kind, "{strategy: multi_worker_mirrored, communication: ring}"
    )
    out = tmp_path / "run"
    check_workers_agree(out, two_workers(spec, data, out, timeout=600))
    m = metrics(out)
    assert m["epochs"] == 2 and 0 <= m["test_accuracy"] <= 1
    assert m["train_samples"] == (36 if kind == "image_folder" else 90)
    assert sorted(p.name for p in out.iterdir() if p.name != "worker-1") == RUN_FILES


def test_streamed_data_emits_no_distributed_script(tmp_path):
    """The emitted script streams an image folder or CSV on one device: emitting it for a
    strategy is refused (specc train runs it distributed) rather than silently ignored."""
    from specc.analysis.pipeline import compile_file
    from specc.backends import codegen
    from specc.errors import SpecError

    spec, _ = streamed_spec(tmp_path, "csv", "{strategy: mirrored}")
    with pytest.raises(SpecError, match="the emitted script streams csv data on one device"):
        codegen.render(compile_file(spec), tmp_path / "gen")
