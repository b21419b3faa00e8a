"""How fast `specc validate` is, against the `import tensorflow` it avoids.

Run: `.venv/bin/python bench/validate_speed.py` (or `make bench`). Prints, in one run on
one machine:
  * whole-process wall time of `specc validate specs/mnist_cnn.yaml` (median of N runs),
    next to `python -c pass` (interpreter start) and `python -c "import tensorflow"`;
  * whole-process time for a generated 1,000-layer spec;
  * in-process validation time for 250..4,000 layers, and time per layer, to show the
    cost is linear in layers.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPECC = [sys.executable, "-m", "specc"]
BLOG = ROOT / "specs" / "mnist_cnn.yaml"
RUNS = 15


def wall(cmd: list[str], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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


def main() -> None:
    from specc.pipeline import compile_text

    print(f"python {sys.version.split()[0]} on {sys.platform}, median of {RUNS} runs\n")
    interp = wall([sys.executable, "-c", "pass"])
    blog = wall([*SPECC, "validate", str(BLOG)])
    tf = wall([sys.executable, "-c", "import tensorflow"], runs=3)
    print(f"python -c pass                        {interp:7.3f} s")
    print(f"specc validate specs/mnist_cnn.yaml   {blog:7.3f} s   (target <= 0.300 s)")
    print(
        f"python -c 'import tensorflow'         {tf:7.3f} s   ({tf / blog:.1f}x the validate run)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "deep.yaml"
        big.write_text(deep_spec(1000))
        whole = wall([*SPECC, "validate", str(big)])
    print(f"specc validate (1,000 layers)         {whole:7.3f} s   (target <= 1.000 s)\n")

    print("in-process compile_text (load + schema + shapes + checks):")
    per_layer = []
    for n in (250, 500, 1000, 2000, 4000):
        text = deep_spec(n)
        compile_text(text)  # warm up
        best = min(_time(compile_text, text) for _ in range(5))
        per_layer.append(best / n)
        print(f"  {n:5d} layers  {best * 1000:8.1f} ms   {best / n * 1e6:6.1f} us/layer")
    print(f"  us/layer at 4000 vs 250: {per_layer[-1] / per_layer[0]:.2f}x (1.0 = linear)")


def _time(fn, arg) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn(arg)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
