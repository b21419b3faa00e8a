"""How long `specc validate` takes on small files that expand to a lot (issue 17's bombs).

Run: `.venv/bin/python bench/bomb_speed.py [--runs N] [--before COMMIT]`. Each bomb is
written to a temp folder and validated as a whole process (``python -m specc validate``,
the same interpreter, ``PYTHONPATH`` at the tree), BEFORE (the package at ``--before``,
unpacked with ``git archive``, default: none, only this tree) and AFTER (this working tree)
alternating, against the blog spec in the same run. Printed per file: its size, the
median CPU time (user + system of the child, less sensitive to a busy machine than wall
time), the ratio to the blog spec, the exit code and the first line of what it said.
A BEFORE run over ``--limit`` seconds of wall time is stopped and shown as ``>LIMIT``.

The generators are also the fuzzer's bombs (tests/test_fuzz.py): each returns the files
of one case, ``{name: text}``, the one to validate first.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOG = ROOT / "specs" / "mnist_cnn.yaml"

HEAD = "specc: 1\nname: bomb\n"
MODEL = "model:\n  input: {shape: [8]}\n"


def fan_out(blocks: int = 17, uses: int = 8, *, broken: bool = False) -> dict[str, str]:
    """``blocks`` blocks, each using the one before it ``uses`` times: uses**blocks layers
    from a couple of KB. ``broken``: the first block's use lacks its argument, so nothing
    expands, but a walk of the uses still visits uses**blocks of them."""
    lines = [
        "blocks:",
        "  b0: [{type: Dense, units: $u}]" if broken else "  b0: [{type: Dense, units: 4}]",
    ]
    for i in range(1, blocks):
        one = f"{{block: b{i - 1}}}"
        lines.append(f"  b{i}: [{', '.join([one] * uses)}]")
    return {
        "spec.yaml": HEAD
        + "\n".join(lines)
        + f"\n{MODEL}  layers:\n    - {{block: b{blocks - 1}}}\n"
    }


def each_values(n: int = 3000) -> dict[str, str]:
    """One block applied once per value of an ``each:`` list of ``n`` values."""
    values = ", ".join(str(1 + i % 7) for i in range(n))
    return {
        "spec.yaml": HEAD
        + "blocks:\n  unit: [{type: Dense, units: $u}]\n"
        + f"{MODEL}  layers:\n    - {{block: unit, each: {{u: [{values}]}}}}\n"
    }


def amplified(items: int = 5000, repeat: int = 19000) -> dict[str, str]:
    """A block layer holding an ``items``-item value, repeated ``repeat`` times: few layers,
    but ``items * repeat`` values copied."""
    shape = ", ".join(["1"] * items)
    return {
        "spec.yaml": HEAD
        + f"blocks:\n  big: [{{type: Reshape, target_shape: [{shape}]}}]\n"
        + f"{MODEL}  layers:\n    - {{block: big, repeat: {repeat}}}\n"
    }


def amplified_argument(items: int = 5000, repeat: int = 19000) -> dict[str, str]:
    """The same through a ``$param``: the big value is the use's argument."""
    shape = ", ".join(["1"] * items)
    return {
        "spec.yaml": HEAD
        + "blocks:\n  big: [{type: Reshape, target_shape: $shape}]\n"
        + f"{MODEL}  layers:\n    - {{block: big, repeat: {repeat}, shape: [{shape}]}}\n"
    }


BASE = (
    HEAD + MODEL + "  layers:\n    - {type: Dense, units: 4}\n"
    "compile: {optimizer: adam, loss: mse}\ntraining: {epochs: 1}\n"
)


def set_paths(n: int = 4000, layer: str = "{type: Dense, units: 4}") -> dict[str, str]:
    """A variant whose ``set:`` has ``n`` paths: ``n`` layers inserted one by one."""
    edits = "".join(f"  model.layers[+{i}]: {layer}\n" for i in range(n))
    return {"spec.yaml": "extends: base.yaml\nset:\n" + edits, "base.yaml": BASE}


def set_keys(n: int = 4000) -> dict[str, str]:
    """A variant whose ``set:`` has ``n`` paths, each a new key of one mapping."""
    edits = "".join(f"  training.k{i}: {i}\n" for i in range(n))
    return {"spec.yaml": "extends: base.yaml\nset:\n" + edits, "base.yaml": BASE}


def plain_layers(n: int = 30000) -> dict[str, str]:
    """A plain spec of ``n`` layers (near the YAML value bound)."""
    layers = "".join("    - {type: Dense, units: 4}\n" for _ in range(n))
    return {"spec.yaml": HEAD + MODEL + "  layers:\n" + layers}


def wide_flow(n: int = 99000) -> dict[str, str]:
    """One flow list of ``n`` numbers (a long shape)."""
    return {
        "spec.yaml": HEAD
        + MODEL.replace("[8]", "[" + ", ".join(["1"] * n) + "]")
        + "  layers: []\n"
    }


def many_keys(n: int = 49000) -> dict[str, str]:
    """A mapping of ``n`` keys."""
    keys = "".join(f"  k{i}: {i}\n" for i in range(n))
    return {"spec.yaml": HEAD + MODEL + "  layers: [{type: Dense, units: 4}]\ndata:\n" + keys}


def deep_nesting(depth: int = 62) -> dict[str, str]:
    """Lists nested ``depth`` deep, many times over, near 4 MiB."""
    one = "[" * depth + "1" + "]" * depth
    return {"spec.yaml": HEAD + MODEL + "  layers: [{type: Dense, units: 4}]\ndata: [" + ", ".join([one] * 700) + "]\n"}  # fmt: skip


def aliases(n: int = 2000) -> dict[str, str]:
    """Anchors and aliases: a block of a 40-item value used through ``n`` aliases."""
    value = "&v [" + ", ".join(["1"] * 40) + "]"
    return {"spec.yaml": HEAD + MODEL + f"  layers: [{{type: Dense, units: 4}}]\ndata: [{value}" + ", *v" * n + "]\n"}  # fmt: skip


def graph(n: int = 9000) -> dict[str, str]:
    """A plain graph spec of ``n`` nodes with merges (bench/graph_speed.py's)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from graph_speed import graph_spec

    return {"spec.yaml": graph_spec(n)}


def wide_merge(n: int = 9000) -> dict[str, str]:
    """``n`` branches from one input, all concatenated by one layer."""
    branches = "".join(
        f"    - {{type: Dense, units: 1, inputs: [x], as: d{i}}}\n" for i in range(n)
    )
    merged = ", ".join(f"d{i}" for i in range(n))
    return {
        "spec.yaml": HEAD
        + "model:\n  inputs: [{name: x, shape: [4]}]\n  layers:\n"
        + branches
        + f"    - {{type: Concatenate, inputs: [{merged}]}}\n"
    }


def split_pieces(pieces: int = 10_000_000, entries: int = 1) -> dict[str, str]:
    """``entries`` splits of one input into ``pieces`` each (issue 19's operations)."""
    rows = f"    - {{op: split, indices_or_sections: {pieces}, axis: -1, inputs: [x]}}\n"
    return {
        "spec.yaml": HEAD
        + f"model:\n  inputs: [{{name: x, shape: [4, {pieces}]}}]\n  layers:\n"
        + rows * entries
    }


def sub_model_copies(levels: int = 22, copies: int = 2) -> dict[str, str]:
    """Sub-models, each using the one below ``copies`` times under names of their own (a
    copy each): copies**levels models (issue 19's models inside models)."""
    text = HEAD + "models:\n"
    for i in range(levels):
        uses = (
            "".join(f"      - {{model: m{i + 1}, name: m{i + 1}_{k}}}\n" for k in range(copies))
            if i < levels - 1
            else "      - {type: Dense, units: 8}\n"
        )
        text += f"  m{i}:\n    input: {{shape: [8]}}\n    layers:\n{uses}"
    return {"spec.yaml": text + "model:\n  inputs: [{name: x, shape: [8]}]\n  layers:\n"
            "    - {model: m0}\n"}  # fmt: skip


def sub_model_depth(levels: int = 1000) -> dict[str, str]:
    """Sub-models nested ``levels`` deep, each using the next once."""
    return sub_model_copies(levels, 1)


def backbones(n: int = 300, name: str = "ResNet152") -> dict[str, str]:
    """``n`` keras.applications backbones by name, each a copy of its own."""
    rows = "".join(
        f"    - {{type: {name}, include_top: false, weights: null, input_shape: [96, 96, 3], "
        f"name: b{i}, inputs: [x]}}\n"
        for i in range(n)
    )
    return {
        "spec.yaml": HEAD + "model:\n  inputs: [{name: x, shape: [96, 96, 3]}]\n  layers:\n" + rows
    }


BOMBS: dict[str, Callable[[], dict[str, str]]] = {
    "fan-out, 17 blocks x 8 uses": fan_out,
    "fan-out, 6 blocks x 8 uses": lambda: fan_out(6),
    "fan-out, 17 x 8, first use broken": lambda: fan_out(17, broken=True),
    "each: over 3,000 values": each_values,
    "each: over 19,000 values": lambda: each_values(19000),
    "5,000-item value x repeat 19,000": amplified,
    "5,000-item argument x repeat 19,000": amplified_argument,
    "set: 4,000 inserted layers": set_paths,
    "set: 40,000 inserted scalars": lambda: set_paths(40000, "1"),
    "set: 40,000 new keys": lambda: set_keys(40000),
    "plain, 30,000 layers": plain_layers,
    "flow list of 99,000 numbers": wide_flow,
    "mapping of 49,000 keys": many_keys,
    "nesting 62 deep, x700": deep_nesting,
    "2,000 aliases of a 40-item list": aliases,
    "graph of 9,000 nodes": graph,
    "Concatenate of 9,000 branches": wide_merge,
    "split into 10,000,000 pieces": split_pieces,
    "50 splits into 20,000 pieces": lambda: split_pieces(20_000, 50),
    "sub-models, 22 levels x 2 copies": sub_model_copies,
    "sub-models nested 1,000 deep": sub_model_depth,
    "300 ResNet152 backbones": backbones,
}


def write(folder: Path, files: dict[str, str]) -> Path:
    """The files of one case under ``folder``; the path of the first (the one to validate)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder / next(iter(files))


def run_once(
    cmd: list[str], env: dict[str, str], limit: float, cwd: Path
) -> tuple[float, float, int, str]:
    """(wall, CPU, exit code, first line of output) of one whole process, run in ``cwd``
    (a variant finds its base there)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=limit, cwd=cwd)
        code, said = run.returncode, (run.stderr or run.stdout).strip().splitlines()
    except subprocess.TimeoutExpired:
        code, said = -1, [f"stopped after {limit:.0f} s"]
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, code, said[0] if said else ""


def env_for(package_root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | {"PYTHONPATH": str(package_root)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="processes per file and tree")
    parser.add_argument("--before", help="a commit to compare against (default: none)")
    parser.add_argument("--limit", type=float, default=30.0, help="seconds before a run is stopped")
    parser.add_argument("--only", help="only the bombs whose name contains this")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "bench"))
    from validate_speed import extract, load

    print(f"python {sys.version.split()[0]}; load average {load()}")
    print(f"median CPU time of {args.runs} `python -m specc validate` processes per file\n")
    with tempfile.TemporaryDirectory(prefix="specc-bombs-") as tmp:
        trees = {"after": ROOT / "compiler"}
        if args.before:
            trees = {"before": extract(args.before, Path(tmp) / "before"), **trees}
        files = {"blog spec (specs/mnist_cnn.yaml)": BLOG}
        for i, (name, make) in enumerate(BOMBS.items()):
            if args.only is None or args.only in name:
                files[name] = write(Path(tmp) / f"bomb{i}", make())
        validate = [sys.executable, "-m", "specc", "validate"]
        blog: dict[str, float] = {}
        header = "".join(f"{t + ' CPU s':>12} {'x blog':>7} {'exit':>4}" for t in trees)
        print(f"{'file':38} {'size':>9} {header}   said (after)")
        for name, path in files.items():
            cells, said = "", ""
            for tree, root in trees.items():
                cmd = [*validate, path.name]
                got = [
                    run_once(cmd, env_for(root), args.limit, path.parent) for _ in range(args.runs)
                ]
                cpu = statistics.median(c for _, c, _, _ in got)
                code = got[-1][2]
                blog.setdefault(tree, cpu)
                shown = f">{args.limit:.0f}" if code == -1 else f"{cpu:.2f}"
                cells += f"{shown:>12} {cpu / blog[tree]:7.1f} {code:4d}"
                said = got[-1][3]
            size = (
                sum(p.stat().st_size for p in path.parent.iterdir())
                if path != BLOG
                else path.stat().st_size
            )
            print(f"{name:38} {size / 1024:7.1f}KB {cells}   {said[:90]}")
    print(f"\nload average afterwards {load()}")


if __name__ == "__main__":
    main()
