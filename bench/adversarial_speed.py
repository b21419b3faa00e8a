"""How fast `specc validate` answers the large adversarial files of tests/test_loader.py.

Run: `.venv/bin/python bench/adversarial_speed.py [--runs N]` (or `make bench`). The
promise is 2 s per file on a quiet machine; the test (``test_large_adversarial_file_is_
answered_with_bounded_cpu``) only bounds CPU time generously, since a busy machine
stretches wall time many times over. Here each file is validated in process (as the
test does) ``--runs`` times, alternating with the blog spec (the baseline, in the same
run, so load hits both alike), and printed: median CPU and wall seconds, the ratio of
each to the blog spec's, whether the median CPU time keeps the 2 s promise, and the load
average before and after (the wall figures mean little without it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import run_specc  # noqa: E402
from tests.test_loader import ADVERSARIAL  # noqa: E402

PROMISE_S = 2.0


def timed(folder: Path, name: str) -> tuple[float, float, int]:
    """CPU and wall seconds of one in-process `specc validate name`, and its exit code."""
    cpu, wall = time.process_time(), time.perf_counter()
    run = run_specc("validate", name, cwd=folder)
    return time.process_time() - cpu, time.perf_counter() - wall, run.exit_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    folder = Path(tempfile.mkdtemp(prefix="specc-adversarial-"))
    (folder / "blog.yaml").write_text((ROOT / "specs" / "mnist_cnn.yaml").read_text())
    timed(folder, "blog.yaml")  # imports and caches warmed, untimed
    print(f"{'file':26} {'cpu s':>7} {'wall s':>7} {'cpu/blog':>9} {'wall/blog':>9}  2 s?")
    broken = 0
    for kind, make in ADVERSARIAL.items():
        (folder / f"{kind}.yaml").write_text(make())
        ours, blog = [], []
        for _ in range(args.runs):
            ours.append(timed(folder, f"{kind}.yaml"))
            blog.append(timed(folder, "blog.yaml"))
        cpu, wall = (statistics.median(r[i] for r in ours) for i in (0, 1))
        base_cpu, base_wall = (statistics.median(r[i] for r in blog) for i in (0, 1))
        kept = cpu < PROMISE_S
        broken += not kept
        print(
            f"{kind:26} {cpu:7.2f} {wall:7.2f} {cpu / base_cpu:9.1f} {wall / base_wall:9.1f}  "
            f"{'yes' if kept else 'NO'}"
        )
    print(f"load average after: {os.getloadavg()}")
    print(f"{broken} of {len(ADVERSARIAL)} files over {PROMISE_S} s of CPU")
    sys.exit(1 if broken else 0)


if __name__ == "__main__":
    main()
