"""How fast `specc summary` is on the largest keras.applications graphs (issue 19).

Run: `.venv/bin/python bench/applications_speed.py [--runs N] [--before COMMIT]` (or
`make bench`). Each application's graph is written as a spec by
``specc.applications.application_document`` (the application as the whole model) and
summarised as a whole process (``python -m specc summary FILE``, the working tree's
package, bytecode written by an untimed first run), against the baseline of the same run:
the interpreter starting and ``import specc``, nothing else. Printed per application:
its layers, median wall and CPU time (user + system of the child) of the summary and of
the baseline, the summary's CPU time beyond the baseline's, and the issue's target
(whole process <= 1 s without TensorFlow; the child never imports it) for wall and CPU
time: on a shared machine (see the load average) wall time is CPU time plus waiting for
a core. With ``--before COMMIT``
the same summaries run on that commit's package too (``git archive``), alternating with
this tree's. Then, in process, the best of 3 CPU times of each stage for the largest:
load (YAML with positions), validate (the schema), resolve (names, shapes, Keras' order),
the table's text.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from validate_speed import ROOT, check_trees, env_for, extract, load, run_once

sys.path.insert(0, str(ROOT / "compiler"))
from specc.applications import NAMES, application_document

APPLICATIONS = ("NASNetLarge", "EfficientNetB7", "NASNetMobile", "ResNet152", "DenseNet201")
"""The largest graphs (EfficientNetB7 where its family is registered)."""
TARGET = 1.0

STAGES = """
import json, sys, time
from specc.analysis import checks, graph
from specc.backends import table
from specc.errors import Diagnostic
from specc.language import blocks, variants
from specc.language.schema import Spec

best = {}
for _ in range(3):
    times = {}
    start = time.process_time()
    loaded, _ = blocks.expand(variants.load(sys.argv[1]))
    times["load"] = time.process_time() - start
    start = time.process_time()
    spec = Spec.model_validate(loaded.data)
    times["validate"] = time.process_time() - start
    start = time.process_time()
    resolved, _ = graph.resolve(spec, lambda loc, message: Diagnostic(message, loc=loc))
    checks.run_checks(spec, resolved, lambda loc, message: Diagnostic(message, loc=loc))
    times["resolve"] = time.process_time() - start
    start = time.process_time()
    table.as_text(resolved, 108)
    times["table"] = time.process_time() - start
    best = {k: min(v, best.get(k, v)) for k, v in times.items()}
print(json.dumps(best))
"""


def spec_file(name: str, folder: Path) -> tuple[Path, int]:
    """The application (Keras' defaults, no weights) as a spec file, and its layers."""
    document = application_document(name, weights=None)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path, len(document["model"]["layers"]) + 1


def timed(cmd: list[str], trees: dict[str, Path], runs: int) -> dict[str, list[float]]:
    """Median [wall, CPU] per tree, the runs alternating between trees."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    for root in trees.values():  # warm up: bytecode written, files in the page cache
        run_once(cmd, env_for(root))
    for i in range(runs):
        for name in list(trees) if i % 2 == 0 else list(trees)[::-1]:
            samples[name].append(run_once(cmd, env_for(trees[name])))
    return {
        name: [statistics.median(w for w, _ in got), statistics.median(c for _, c in got)]
        for name, got in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="processes per measurement")
    parser.add_argument("--before", help="also time this commit's package (git archive)")
    args = parser.parse_args()
    names = [n for n in APPLICATIONS if n in NAMES]
    print(f"python {sys.version.split()[0]}; load average {load()}")
    print(f"whole processes, median of {args.runs}: python -m specc summary FILE")
    with tempfile.TemporaryDirectory(prefix="specc-applications-bench-") as tmp:
        trees = {"this tree": ROOT / "compiler"}
        if args.before:
            trees[args.before] = extract(args.before, Path(tmp) / "before")
        check_trees(trees)
        base = timed([sys.executable, "-c", "import specc"], trees, args.runs)
        print(f"\n{'':24}{'layers':>7} {'tree':>10} {'wall':>9} {'CPU':>9} {'CPU beyond':>11}")
        for tree, (wall, cpu) in base.items():
            print(f"{'baseline: import specc':24}{'':7} {tree[:10]:>10} {wall:7.3f} s {cpu:7.3f} s")
        files = {}
        for name in names:
            files[name], layers = spec_file(name, Path(tmp))
            cmd = [sys.executable, "-m", "specc", "summary", str(files[name])]
            for tree, (wall, cpu) in timed(cmd, trees, args.runs).items():
                verdict = ", ".join(
                    f"{what} {'ok' if seconds <= TARGET else 'OVER'}"
                    for what, seconds in (("wall", wall), ("CPU", cpu))
                )
                print(
                    f"{name:24}{layers:7,} {tree[:10]:>10} {wall:7.3f} s {cpu:7.3f} s "
                    f"{cpu - base[tree][1]:9.3f} s   <= {TARGET} s: {verdict}"
                )
        stages = json.loads(
            subprocess.run(
                [sys.executable, "-c", STAGES, str(files[names[0]])],
                check=True,
                capture_output=True,
                text=True,
                env=env_for(ROOT / "compiler"),
                cwd=ROOT,
            ).stdout
        )
    print(f"\nin process, {names[0]}, best of 3, CPU time per stage:")
    print("  " + "  ".join(f"{k} {v * 1000:.0f} ms" for k, v in stages.items()))
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
