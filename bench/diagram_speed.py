"""How fast and how big `specc diagram` is on chains and merge-heavy graphs, before and after.

Run: `.venv/bin/python bench/diagram_speed.py [--runs N] [--before COMMIT] [--no-before]`.
Generated specs of 100 .. 3,000 boxes in three shapes:
  * chain: a plain Sequential stack of Dense layers (no merges);
  * fan: a chain of Adds that each also take the first Dense (issue 17's merge graph:
    every Add has an edge from one early layer, 3,000 of them span up to 3,000 ranks);
  * residual: bench/graph_speed.py's graph (Dense, Dense, Add on the stream; every
    eighth unit two branches joined by Concatenate: short skips, many merges).
Each is drawn to SVG as a whole process (``python -m specc diagram FILE -o OUT.svg``, the
interpreter and the tree's package, bytecode written by an untimed first run), the blog
spec (specs/mnist_cnn.yaml) in the same run as the baseline. Printed per spec: median wall
time, median CPU time (user + system of the child, less sensitive to other work on the
machine), the child's peak resident memory, CPU per box, and the CPU ratio to the blog
spec; then the ratio of CPU per box at 3,000 vs 300 boxes (1 = linear). BEFORE is the
package at ``--before`` (default 36b22d0, the layout without lanes or bulk edges),
unpacked with ``git archive``; its runs stop at ``--before-timeout`` seconds and
``--before-memory`` GiB of address space (the 3,000-box fan took 3.2 GB and more than
5 minutes), shown as ``>``. The load average is printed before and after: wall times
mean little without it, and the issue's target (a 3,000-layer graph with merges draws in
<= 10 s) is judged on CPU time, which other work on the machine does not inflate.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from graph_speed import graph_spec
from validate_speed import BLOG, ROOT, env_for, extract, load

SIZES = (100, 300, 1000, 3000)
BEFORE = "36b22d0"
"""main before issue 17's diagram work."""
TARGET_S, TARGET_SIZE = 10.0, 3000
"""Issue 17: a 3,000-layer graph with merges draws in <= 10 s."""
CHILD = """
import json, resource, sys
from specc.cli import main
try:
    main(["diagram", sys.argv[1], "-o", sys.argv[2]])
except SystemExit as exc:
    code = exc.code
use = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"code": code, "cpu": use.ru_utime + use.ru_stime, "mb": use.ru_maxrss / 1024}))
"""


def chain_spec(boxes: int) -> str:
    """A Sequential spec drawn as exactly ``boxes`` boxes (its input included)."""
    lines = ["name: chain", "model:", "  input: {shape: [16]}", "  layers:"]
    lines += ["    - {type: Dense, units: 16}"] * (boxes - 1)
    return "\n".join(lines) + "\n"


def fan_spec(boxes: int) -> str:
    """``boxes`` boxes: an input, a Dense, then Adds in a chain that each also take the
    Dense (the first Add takes it twice)."""
    lines = ["name: fan", "model:", "  inputs: [{name: x, shape: [16]}]", "  layers:"]
    lines.append("    - {type: Dense, units: 16, inputs: [x], as: early}")
    stream = "early"
    for i in range(boxes - 2):
        lines.append(f"    - {{type: Add, inputs: [{stream}, early], as: m{i}}}")
        stream = f"m{i}"
    return "\n".join(lines) + "\n"


SHAPES = {"chain": chain_spec, "fan": fan_spec, "residual": graph_spec}


Got = tuple[float, float, float] | str
"""(wall s, CPU s, peak MB) of a run, or why it stopped."""


def measure(
    spec: Path, out: Path, env: dict[str, str], timeout: float, memory_gb: float | None
) -> Got:
    """(wall s, CPU s, peak MB) of one ``specc diagram`` process, or which limit it hit."""

    def limit() -> None:
        if memory_gb:
            size = int(memory_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(spec), str(out)],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=timeout,
            preexec_fn=limit,
        )
    except subprocess.TimeoutExpired:
        return f"> {timeout:.0f} s"
    wall = time.perf_counter() - start
    lines = done.stdout.strip().splitlines()
    if (done.returncode != 0 or not lines) and memory_gb:
        return f"> {memory_gb:g} GiB"  # MemoryError under the address-space limit
    if done.returncode != 0 or not lines:
        raise SystemExit(f"specc diagram {spec} failed: {done.stderr.strip()}")
    got = json.loads(lines[-1])
    if got["code"] not in (0, None):
        raise SystemExit(f"specc diagram {spec} failed: {done.stderr.strip()}")
    return wall, got["cpu"], got["mb"]


def median_of(runs: int, *args: object) -> Got:
    """Median wall, CPU and peak memory of ``runs`` processes, after an untimed one."""
    first = measure(*args)  # type: ignore[arg-type]
    if isinstance(first, str):
        return first
    got = [measure(*args) for _ in range(runs)]  # type: ignore[arg-type]
    stopped = [g for g in got if isinstance(g, str)]
    if stopped:
        return stopped[0]
    return tuple(statistics.median(g[k] for g in got) for k in range(3))  # type: ignore[return-value]


def cell(got: Got) -> str:
    if isinstance(got, str):
        return f"{got:>29}"
    wall, cpu, mb = got
    return f"{wall:7.2f} s {cpu:7.2f} s {mb:6.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="processes per measurement")
    parser.add_argument("--before", default=BEFORE, help="the commit to compare against")
    parser.add_argument("--no-before", action="store_true", help="measure this tree only")
    parser.add_argument("--before-timeout", type=float, default=60.0, help="seconds per run")
    parser.add_argument("--before-memory", type=float, default=4.0, help="GiB per run")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}; load average {load()}")
    print(f"whole processes: python -m specc diagram FILE -o OUT.svg, median of {args.runs}\n")
    with tempfile.TemporaryDirectory(prefix="specc-diagram-bench-") as tmp:
        trees = {"after": ROOT / "compiler"}
        if not args.no_before:
            trees["before"] = extract(args.before, Path(tmp) / "before")
        files: dict[str, Path] = {"blog": BLOG}
        for shape, make in SHAPES.items():
            for n in args.sizes:
                files[f"{shape} {n}"] = Path(tmp) / f"{shape}_{n}.yaml"
                files[f"{shape} {n}"].write_text(make(n))
        results: dict[str, dict[str, Got]] = {}
        for name, root in trees.items():
            env = env_for(root)
            limits = (
                (3600.0, None) if name == "after" else (args.before_timeout, args.before_memory)
            )
            results[name] = {
                key: median_of(args.runs, path, Path(tmp) / "out.svg", env, *limits)
                for key, path in files.items()
            }
    header = (
        f"{'spec':14} {'boxes':>6} {'wall':>9} {'CPU':>9} {'peak':>8} {'ms/box':>7} {'/blog':>6}"
    )
    if "before" in results:
        header += f"   | before: {'wall':>9} {'CPU':>9} {'peak':>8}  after/before CPU"
    print(header)
    blog_cpu = results["after"]["blog"][1]  # type: ignore[index]  # never a str: no limits
    for key in files:
        got = results["after"][key]
        if isinstance(got, str):
            raise SystemExit(f"{key}: this tree's run stopped: {got}")
        boxes = 14 if key == "blog" else int(key.split()[1])
        line = (
            f"{key:14} {boxes:6,} {cell(got)} {got[1] / boxes * 1000:7.2f} {got[1] / blog_cpu:6.1f}"
        )
        if "before" in results:
            old = results["before"][key]
            ratio = f"{got[1] / old[1]:.3f}" if not isinstance(old, str) else "-"
            line += f"   |         {cell(old)}  {ratio}"
        print(line)
    print("\nCPU per box at the largest size vs 300 boxes (1 = linear):")
    small, large = 300, max(args.sizes)
    for shape in SHAPES:
        a, b = results["after"].get(f"{shape} {small}"), results["after"].get(f"{shape} {large}")
        if isinstance(a, tuple) and isinstance(b, tuple) and large != small:
            print(f"  {shape:9} {(b[1] / large) / (a[1] / small):5.2f}")
    # The verdict is on CPU time: on a machine busy with other work wall time is CPU time
    # plus waiting for a core (its one process is single-threaded), so on an idle machine
    # wall ~ CPU; both are printed, with the load.
    for shape in ("fan", "residual"):
        got = results["after"].get(f"{shape} {TARGET_SIZE}")
        if isinstance(got, tuple):
            verdict = "ok" if got[1] <= TARGET_S else "OVER"
            print(
                f"target: {shape} {TARGET_SIZE:,} draws in <= {TARGET_S:.0f} s: "
                f"{got[1]:.2f} s CPU, {verdict} ({got[0]:.2f} s wall at load {load()})"
            )
    print(f"\nload average {load()}")


if __name__ == "__main__":
    main()
