"""`specc train` against the hand-written Keras baseline, in one run on one machine.

Alternates bench/baseline_keras.py (plain `model.fit(x, y, batch_size=...)`) with
`specc train specs/mnist_cnn.yaml`, same batch size, epochs and validation split, each in
a fresh process, and reports:
  * seconds per epoch excluding the first (compile-bound) epoch, and the first separately;
  * time to reach 99.1 % test accuracy (sum of epoch times up to the first epoch whose
    test accuracy, evaluated after every epoch and not counted, is >= 0.991);
  * the ratio baseline / specc (> 1 means specc is faster).

    .venv/bin/python bench/train_speed.py --data ../shared/data/mnist.npz --epochs 3
    KERAS_BACKEND=jax python bench/train_speed.py --data mnist.npz --epochs 15   # on a GPU

Extra `--specc-args` are passed to `specc train` (e.g. "--loop fit --steps-per-execution 16"),
to compare runtime choices against the same baseline in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "mnist_cnn.yaml"
TARGET = 0.991


def run(cmd: list[str]) -> str:
    proc = subprocess.run(
        cmd, capture_output=True, text=True, cwd=ROOT, env=os.environ | {"PYTHONUNBUFFERED": "1"}
    )
    if proc.returncode != 0:
        sys.exit(f"failed: {shlex.join(cmd)}\n{proc.stderr[-3000:]}")
    return proc.stdout


def baseline(args: argparse.Namespace) -> dict:
    out = run([sys.executable, str(ROOT / "bench" / "baseline_keras.py"), "--data", args.data,
               "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
               "--validation-split", "0.1", "--verbose", "0", "--seed", "0",
               *(["--track-test-accuracy"] if args.track else [])])  # fmt: skip
    result = json.loads(out.strip().splitlines()[-1])
    return {"epoch_seconds": result["epoch_seconds"], "test_accuracy": result["test_accuracy"],
            "by_epoch": result.get("test_accuracy_by_epoch", [])}  # fmt: skip


def specc(args: argparse.Namespace, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        run([sys.executable, "-m", "specc", "train", str(SPEC), "--data", args.data,
             "--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--seed", "0",
             "--output-dir", tmp, *(["--track-test-accuracy"] if args.track else []), *extra])  # fmt: skip
        metrics = json.loads((Path(tmp) / "metrics.json").read_text())
    return {"epoch_seconds": metrics["epoch_seconds"], "test_accuracy": metrics["test_accuracy"],
            "by_epoch": metrics.get("test_accuracy_by_epoch", []), "runtime": metrics["runtime"],
            "device": metrics["device"], "backend": metrics["backend"]}  # fmt: skip


def time_to_target(result: dict) -> float | None:
    elapsed = 0.0
    for seconds, accuracy in zip(result["epoch_seconds"], result["by_epoch"], strict=False):
        elapsed += seconds
        if accuracy >= TARGET:
            return elapsed
    return None


def summarise(name: str, runs: list[dict]) -> dict:
    later = [s for r in runs for s in r["epoch_seconds"][1:]]
    first = [r["epoch_seconds"][0] for r in runs]
    reach = [time_to_target(r) for r in runs] if runs[0]["by_epoch"] else []
    out = {
        "name": name,
        "seconds_per_epoch": statistics.median(later) if later else None,
        "first_epoch_seconds": statistics.median(first),
        "test_accuracy": [round(r["test_accuracy"], 4) for r in runs],
        "time_to_99.1": reach,
    }
    print(f"{name:10s} {out['seconds_per_epoch']:8.3f} s/epoch (median, first excluded)   "
          f"first epoch {out['first_epoch_seconds']:7.2f} s   test acc {out['test_accuracy']}   "
          f"time to 99.1%: {[None if t is None else round(t, 2) for t in reach]}")  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--track", action="store_true", help="evaluate test accuracy every epoch (time to 99.1%%)"
    )
    parser.add_argument("--specc-args", default="", help="extra arguments for specc train")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    extra = shlex.split(args.specc_args)

    base_runs, specc_runs = [], []
    for i in range(args.repeats):  # alternate, so drift in machine speed hits both
        base_runs.append(baseline(args))
        specc_runs.append(specc(args, extra))
        print(f"repeat {i + 1}/{args.repeats}: baseline {base_runs[-1]['epoch_seconds']}, "
              f"specc {specc_runs[-1]['epoch_seconds']}", flush=True)  # fmt: skip
    print(f"\nbackend {specc_runs[0]['backend']}, device {specc_runs[0]['device']}, batch {args.batch_size}, "
          f"{args.epochs} epochs x {args.repeats}; specc runtime {specc_runs[0]['runtime']}")  # fmt: skip
    b = summarise("baseline", base_runs)
    s = summarise("specc", specc_runs)
    ratio = b["seconds_per_epoch"] / s["seconds_per_epoch"]
    print(f"ratio baseline/specc per epoch: {ratio:.2f}x")
    if (
        b["time_to_99.1"]
        and s["time_to_99.1"]
        and None not in b["time_to_99.1"] + s["time_to_99.1"]
    ):
        reach = statistics.median(b["time_to_99.1"]) / statistics.median(s["time_to_99.1"])
        print(f"ratio baseline/specc time to 99.1%: {reach:.2f}x")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"baseline": b, "specc": s, "ratio": ratio, "args": vars(args)}, indent=2)
        )


if __name__ == "__main__":
    main()
