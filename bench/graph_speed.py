"""How fast `specc validate` is on graph specs, and whether its cost is linear in nodes.

Run: `.venv/bin/python bench/graph_speed.py [--runs N]` (or `make bench`). Generated
graph specs of 250 .. 4,000 nodes (a residual chain: Dense, Dense, Add on the stream; every
eighth unit two Dense branches joined by Concatenate) are validated as whole processes
(``python -m specc validate FILE``, the interpreter and the working tree's package, bytecode
caches written by an untimed first run), the blog spec in the same run. Printed:
  * median wall time and median CPU time (user + system of the child) per spec, against
    the issue's targets (1,000 nodes <= 1 s, the blog spec <= 0.3 s);
  * in process, per size: the best CPU time of ``compile_text`` (load, blocks, schema, graph,
    checks), microseconds per node, and the ratio of per-node cost at 4,000 vs 250 nodes
    (1 = linear); Python function calls per node (cProfile), which count the work
    itself, free of cache and allocator effects; and a control, plain linear Python work
    of a similar working set, whose per-item time grows on its own with size;
  * the load average before and after, since wall times mean little without it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate_speed import BLOG, ROOT, env_for, load, run_once

NODE_COUNTS = (250, 500, 1000, 2000, 4000)
TARGETS = {1000: 1.0}
BLOG_TARGET = 0.3


def graph_spec(nodes: int) -> str:
    """A valid graph spec of exactly ``nodes`` nodes (its input included) with merges."""
    lines = ["name: residual_graph", "model:", "  inputs: [{name: r0, shape: [16]}]", "  layers:"]
    count, stream, unit = 1, "r0", 0
    while count + 3 <= nodes - 1:
        unit += 1
        if unit % 8 == 0:  # two branches joined
            lines += [
                f"    - {{type: Dense, units: 8, inputs: [{stream}], as: b{unit}}}",
                f"    - {{type: Dense, units: 8, activation: relu, inputs: [{stream}], as: c{unit}}}",
                f"    - {{type: Concatenate, inputs: [b{unit}, c{unit}], as: r{unit}}}",
            ]
        else:  # a residual unit
            lines += [
                f"    - {{type: Dense, units: 16, activation: relu, inputs: [{stream}]}}",
                f"    - {{type: Dense, units: 16, as: g{unit}}}",
                f"    - {{type: Add, inputs: [{stream}, g{unit}], as: r{unit}}}",
            ]
        count += 3
        stream = f"r{unit}"
    lines += ["    - {type: Dense, units: 16}"] * (nodes - count)
    return "\n".join(lines) + "\n"


IN_PROCESS = """
import cProfile, gc, json, pstats, sys, time
from specc.analysis.pipeline import compile_text


def control(n):
    # The machine's own growth: plain linear work (a dict of 30 small entries per node,
    # each looked up through another's key), best of 5, the GC paused as specc pauses it.
    # Larger working sets cost more per item in CPU caches, not in Python.
    gc.disable()
    times = []
    for _ in range(5):
        start = time.process_time()
        table = {(f"n{i}", 0): ((None, 16, i), (f"n{i - 1}", 0)) for i in range(30 * n)}
        for i in range(1, 30 * n):
            table[table[(f"n{i}", 0)][1]]
        del table
        times.append(time.process_time() - start)
    gc.enable()
    return min(times)


out = {}
for n, text in json.loads(sys.stdin.read()).items():
    compiled = compile_text(text)  # warm up: validators built
    assert len(compiled.graph.rows) == int(n), (len(compiled.graph.rows), n)
    times = []
    for _ in range(5):
        start = time.process_time()
        compile_text(text)
        times.append(time.process_time() - start)
    profile = cProfile.Profile()
    profile.enable()
    compile_text(text)
    profile.disable()
    calls = sum(v[1] for v in pstats.Stats(profile).stats.values())
    out[n] = [min(times), calls, control(int(n))]
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="processes per measurement")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}; load average {load()}")
    print(f"whole processes: python -m specc validate FILE, median of {args.runs}\n")
    env = env_for(ROOT / "compiler")
    validate = [sys.executable, "-m", "specc", "validate"]
    specs = {n: graph_spec(n) for n in NODE_COUNTS}
    with tempfile.TemporaryDirectory(prefix="specc-graph-bench-") as tmp:
        files = {}
        for n, text in specs.items():
            files[n] = Path(tmp) / f"graph_{n}.yaml"
            files[n].write_text(text)
        files["blog"] = BLOG
        print(f"{'spec':28} {'wall':>9} {'CPU':>9}")
        for key, path in files.items():
            cmd = [*validate, str(path)]
            run_once(cmd, env)  # bytecode written, file in the page cache
            got = [run_once(cmd, env) for _ in range(args.runs)]
            wall = statistics.median(w for w, _ in got)
            cpu = statistics.median(c for _, c in got)
            what = "specs/mnist_cnn.yaml" if key == "blog" else f"graph of {key:,} nodes"
            target = BLOG_TARGET if key == "blog" else TARGETS.get(key)  # type: ignore[call-overload]
            verdict = (
                ""
                if target is None
                else f"  target <= {target} s: " + ("ok" if wall <= target else "OVER")
            )
            print(f"{what:28} {wall:7.3f} s {cpu:7.3f} s{verdict}")
    best = json.loads(
        subprocess.run(
            [sys.executable, "-c", IN_PROCESS],
            input=json.dumps({str(n): text for n, text in specs.items()}),
            check=True,
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        ).stdout
    )
    print("\nin process, compile_text, best of 5, CPU time; function calls per node (cProfile):")
    for n in NODE_COUNTS:
        seconds, calls, plain = best[str(n)]
        print(
            f"{n:8,} nodes {seconds * 1000:8.1f} ms {seconds / n * 1e6:6.1f} us/node "
            f"{calls / n:7.1f} calls/node   control {plain / n * 1e6:5.1f} us/node"
        )
    first, last = (best[str(n)] for n in (NODE_COUNTS[0], NODE_COUNTS[-1]))
    time_ratio = (last[0] / NODE_COUNTS[-1]) / (first[0] / NODE_COUNTS[0])
    calls_ratio = (last[1] / NODE_COUNTS[-1]) / (first[1] / NODE_COUNTS[0])
    control_ratio = (last[2] / NODE_COUNTS[-1]) / (first[2] / NODE_COUNTS[0])
    print(
        f"per node at {NODE_COUNTS[-1]:,} vs {NODE_COUNTS[0]}: time {time_ratio:.2f}x, "
        f"calls {calls_ratio:.3f}x (1 = linear); plain linear work (control) "
        f"{control_ratio:.2f}x on this machine"
    )
    print(f"\nload average afterwards {load()}")


if __name__ == "__main__":
    main()
