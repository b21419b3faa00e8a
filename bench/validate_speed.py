"""How fast `specc validate` is, before and after a change, in one run on one machine.

Run: `.venv/bin/python bench/validate_speed.py [--runs N] [--before COMMIT]` (or
`make bench`). BEFORE is the package at ``--before`` (default 2f3c3f0, the last landing
before the layer catalog), extracted with ``git archive`` into a temp folder; AFTER is
this working tree. Both validate the same files as whole processes (``python -m specc
validate ...``, the same interpreter, ``PYTHONPATH`` pointing at the tree), alternating
BEFORE/AFTER (the order flipped every round, so a load spike hits both alike), after one
untimed run each that writes the bytecode caches an installed package has. Printed:
  * median wall time and median CPU time (user + system of the child: less sensitive
    than wall time to other work on the machine) for the blog spec and a generated
    1,000-layer spec, with the AFTER/BEFORE ratio;
  * interpreter start (``python -c pass``) and ``import tensorflow``, which validate avoids;
  * the load average before and after, since the numbers mean little without it;
  * in process, per tree: validation CPU time for 250..4,000 layers and per layer (linear
    or not).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOG = ROOT / "specs" / "mnist_cnn.yaml"
BEFORE = "2f3c3f0"
"""The last landing before the layer catalog and Keras objects."""


def deep_spec(n_layers: int) -> str:
    """A valid spec of n_layers layers cycling through several layer types."""
    cycle = [
        "{type: Dense, units: 16, activation: relu, kernel_regularizer: {l2: 0.001}}",
        "{type: BatchNormalization}",
        "{type: Dropout, rate: 0.1}",
        "{type: Activation, activation: tanh}",
    ]
    lines = ["name: deep", "model:", "  input: {shape: [16]}", "  layers:"]
    lines += [f"    - {cycle[i % len(cycle)]}" for i in range(n_layers - 1)]
    lines.append("    - {type: Dense, units: 10, activation: softmax}")
    return "\n".join(lines) + "\n"


def extract(commit: str, dest: Path) -> Path:
    """The package source (``compiler/``) at ``commit``, unpacked under ``dest``."""
    try:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit, "compiler"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        why = getattr(exc, "stderr", b"") or str(exc).encode()
        raise SystemExit(
            f"cannot unpack {commit} with git archive (a git checkout that has it is "
            f"needed; --before picks another commit): {why.decode().strip()}"
        ) from None
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest / "compiler"


def env_for(package_root: Path) -> dict[str, str]:
    """An environment in which ``import specc`` finds the tree at ``package_root``.

    Bytecode caches are allowed (``PYTHONDONTWRITEBYTECODE`` dropped): an installed
    package has them, and compiling every module from source on each run would measure
    the compiler, not specc.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | {"PYTHONPATH": str(package_root)}


def run_once(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of one whole process; it must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def compare(cmd: list[str], trees: dict[str, Path], runs: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) per tree, the runs alternating between trees."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    names = list(trees)
    for name in names:  # warm up: bytecode written, files in the page cache
        run_once(cmd, env_for(trees[name]))
    for i in range(runs):
        for name in names if i % 2 == 0 else names[::-1]:
            samples[name].append(run_once(cmd, env_for(trees[name])))
    return {
        name: (
            statistics.median(w for w, _ in got),
            statistics.median(c for _, c in got),
        )
        for name, got in samples.items()
    }


def check_trees(trees: dict[str, Path]) -> None:
    """Each environment imports specc from its own tree (not the installed one)."""
    for name, root in trees.items():
        found = subprocess.run(
            [sys.executable, "-c", "import specc; print(specc.__file__)"],
            check=True,
            capture_output=True,
            text=True,
            env=env_for(root),
        ).stdout.strip()
        if not Path(found).resolve().is_relative_to(root.resolve()):
            raise SystemExit(f"{name}: specc came from {found}, not from {root}")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="processes per measurement")
    parser.add_argument("--before", default=BEFORE, help="the commit to compare against")
    parser.add_argument(
        "--no-tensorflow", action="store_true", help="skip timing `import tensorflow`"
    )
    args = parser.parse_args()

    print(f"python {sys.version.split()[0]} on {sys.platform}; load average {load()}")
    print(f"median of {args.runs} whole processes each, BEFORE/AFTER alternating\n")
    with tempfile.TemporaryDirectory(prefix="specc-bench-") as tmp:
        trees = {
            f"before ({args.before})": extract(args.before, Path(tmp) / "before"),
            "after (working tree)": ROOT / "compiler",
        }
        check_trees(trees)
        deep = Path(tmp) / "deep.yaml"
        deep.write_text(deep_spec(1000))
        validate = [sys.executable, "-m", "specc", "validate"]
        rows = [
            ("specc validate specs/mnist_cnn.yaml", 0.3, compare([*validate, str(BLOG)], trees, args.runs)),
            ("specc validate (1,000 layers)", 1.0, compare([*validate, str(deep)], trees, args.runs)),
        ]  # fmt: skip
        before_name, after_name = trees
        print(
            f"{'wall time (CPU time)':38} {before_name:>20} {after_name:>22} {'after/before':>13}"
        )
        for what, target, result in rows:
            (bw, bc), (aw, ac) = result[before_name], result[after_name]
            verdict = "ok" if aw <= target else "OVER"
            print(
                f"{what:38} {bw:7.3f} s ({bc:5.3f} s) {aw:9.3f} s ({ac:5.3f} s) "
                f"{aw / bw:6.2f} ({ac / bc:4.2f})   target <= {target} s: {verdict}"
            )
        interp = statistics.median(run_once([sys.executable, "-c", "pass"])[0] for _ in range(9))
        print(f"{'python -c pass':38} {interp:7.3f} s")
        if not args.no_tensorflow:
            tf = statistics.median(
                run_once([sys.executable, "-c", "import tensorflow"])[0] for _ in range(3)
            )
            print(f"{'python -c ' + repr('import tensorflow'):38} {tf:7.3f} s (validate avoids it)")
        print()
        in_process(trees)
    print(f"\nload average afterwards {load()}")


IN_PROCESS = """
import json, sys, time
try:
    from specc.analysis.pipeline import compile_text
except ImportError:  # a tree from before the package's folders
    from specc.pipeline import compile_text

def best(text):
    compile_text(text)  # warm up: validators built
    times = []
    for _ in range(5):
        start = time.process_time()
        compile_text(text)
        times.append(time.process_time() - start)
    return min(times)

print(json.dumps({n: best(text) for n, text in json.loads(sys.stdin.read()).items()}))
"""
LAYER_COUNTS = (250, 500, 1000, 2000, 4000)


def in_process(trees: dict[str, Path]) -> None:
    """Validation CPU time against layer count, inside one process per tree."""
    specs = json.dumps({n: deep_spec(n) for n in LAYER_COUNTS})
    best = {
        name: json.loads(
            subprocess.run(
                [sys.executable, "-c", IN_PROCESS],
                input=specs,
                check=True,
                capture_output=True,
                text=True,
                env=env_for(root),
            ).stdout
        )
        for name, root in trees.items()
    }
    print("in process, compile_text (load + schema + shapes + checks), best of 5, CPU time:")
    print(f"{'layers':>8} " + "".join(f"{name:>30}" for name in trees))
    for n in LAYER_COUNTS:
        cells = "".join(
            f"{best[name][str(n)] * 1000:10.1f} ms {best[name][str(n)] / n * 1e6:7.1f} us/layer"
            for name in trees
        )
        print(f"{n:8d} {cells}")
    for name in trees:
        growth = (best[name][str(LAYER_COUNTS[-1])] / LAYER_COUNTS[-1]) / (
            best[name][str(LAYER_COUNTS[0])] / LAYER_COUNTS[0]
        )
        print(
            f"  {name}: us/layer at {LAYER_COUNTS[-1]} vs {LAYER_COUNTS[0]}: {growth:.2f}x (1 = linear)"
        )


if __name__ == "__main__":
    main()
