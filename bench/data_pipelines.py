"""specc's streamed input pipelines against what a Keras user writes, in one run.

Images: a folder of small JPEGs (``--images``, 4 classes, 32x32) is read by specc's
image-folder pipeline (headers checked, Keras' loader, cache, reshuffle, prefetch) and by
the hand-written ``image_dataset_from_directory(...).cache().prefetch(AUTOTUNE)``, each in
a fresh process, alternating, ``--repeats`` times; each iterates ``--epochs`` epochs with
no model, so what is timed is the pipeline alone. Reported: images per second of the first
epoch (decode) and of later epochs (cached), specc's check time, and the ratios
specc / hand-written (>= 0.9 is the goal). Memory: the peak RSS of specc's pipeline on the
folder and on one ``--scale`` times larger, beyond a process that only imports TensorFlow.

CSV: a numeric table of ``--csv-mb`` MB (30 features, a 0/1 label) streamed once through
specc's CSV pipeline (check pass, then CsvDataset rows, shuffle buffer, batches) in a fresh
process; reported: the file size, the peak RSS beyond the import-only process, rows/s.

    .venv/bin/python bench/data_pipelines.py --images 20000 --csv-mb 1000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, resource, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
kind, path, epochs, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
import tensorflow as tf
import keras
keras.utils.set_random_seed(1)
out = {"import_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
start = time.perf_counter()
if kind == "handwritten":
    ds = keras.utils.image_dataset_from_directory(
        os.path.join(path, "train"), image_size=(32, 32), batch_size=batch, seed=1, verbose=False
    ).cache().prefetch(tf.data.AUTOTUNE)
elif kind == "specc":
    from specc.language.schema import Data
    from specc.training import image_folder
    data = Data.model_validate({"dataset": "image_folder", "path": path, "image_size": [32, 32]})
    checked = image_folder.check(data, __import__("pathlib").Path(path), (32, 32, 3), 4, 0.0)
    out["check_seconds"] = time.perf_counter() - start
    ds = image_folder.open_streams(checked, batch, 1).train
elif kind == "csv":
    from specc.language.schema import Data
    from specc.training import csv_table
    data = Data.model_validate({"dataset": "csv", "path": path, "label": "label"})
    table = csv_table.check(data, __import__("pathlib").Path(path), (30,), None, 0.1)
    out["check_seconds"] = time.perf_counter() - start
    ds = csv_table.open_streams(table, batch, 1).train
out["setup_seconds"] = time.perf_counter() - start
seconds, samples = [], 0
if kind != "none":
    for _ in range(epochs):
        t, n = time.perf_counter(), 0
        for x, y in ds:
            n += int(x.shape[0])
        seconds.append(time.perf_counter() - t)
        samples = n
out |= {"epoch_seconds": seconds, "samples": samples,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
print(json.dumps(out))
"""


def child(kind: str, path: Path | str, epochs: int = 2, batch: int = 64) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(path), str(epochs), str(batch)],
        capture_output=True, text=True, cwd=ROOT, env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    if proc.returncode != 0:
        sys.exit(f"{kind} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def write_images(folder: Path, count: int) -> None:
    """``count`` 32x32 JPEGs in ``train/``'s 4 class subfolders (and 8 in ``test/``)."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    for split, n in (("train", count), ("test", 8)):
        for k in range(4):
            (folder / split / f"class{k}").mkdir(parents=True, exist_ok=True)
        for i in range(n):
            pixels = rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)
            jpeg = tf.io.encode_jpeg(pixels).numpy()
            (folder / split / f"class{i % 4}" / f"{i}.jpg").write_bytes(jpeg)


def write_csv(path: Path, megabytes: float) -> int:
    """A numeric CSV of about ``megabytes`` MB: 30 features and a 0/1 label."""
    import numpy as np

    rng = np.random.default_rng(0)
    header = ",".join([*(f"f{i}" for i in range(30)), "label"]) + "\n"
    rows = 0
    with open(path, "w") as fh:
        fh.write(header)
        while fh.tell() < megabytes * 1e6:
            block = rng.normal(size=(5000, 30)).round(4)
            labels = rng.integers(0, 2, (5000, 1))
            np.savetxt(fh, np.hstack([block, labels]), fmt=["%.4f"] * 30 + ["%d"], delimiter=",")
            rows += 5000
    return rows


def rate(run: dict, later: bool) -> float:
    seconds = run["epoch_seconds"][1:] if later else run["epoch_seconds"][:1]
    return run["samples"] / statistics.median(seconds)


def images(count: int, repeats: int, epochs: int, scale: int, tmp: Path) -> dict:
    folder = tmp / "images"
    write_images(folder, count)
    runs: dict[str, list[dict]] = {"handwritten": [], "specc": []}
    for _ in range(repeats):
        for kind in ("handwritten", "specc"):
            runs[kind].append(child(kind, folder, epochs))
    med = {k: {p: statistics.median(rate(r, p == "later") for r in v) for p in ("first", "later")}
           for k, v in runs.items()}  # fmt: skip
    base = child("none", folder, 0)["peak_rss_mb"]
    peak = max(r["peak_rss_mb"] for r in runs["specc"]) - base
    big = tmp / "images_big"
    write_images(big, count * scale)
    peak_big = child("specc", big, 1)["peak_rss_mb"] - base
    return {
        "images": count,
        "handwritten_images_per_s": {k: round(v) for k, v in med["handwritten"].items()},
        "specc_images_per_s": {k: round(v) for k, v in med["specc"].items()},
        "ratio_first_epoch": round(med["specc"]["first"] / med["handwritten"]["first"], 3),
        "ratio_later_epochs": round(med["specc"]["later"] / med["handwritten"]["later"], 3),
        "specc_check_seconds": round(statistics.median(r["check_seconds"] for r in runs["specc"]), 3),
        "peak_rss_beyond_import_mb": round(peak, 1),
        f"peak_rss_beyond_import_mb_x{scale}_images": round(peak_big, 1),
    }  # fmt: skip


def csv_rss(megabytes: float, tmp: Path) -> dict:
    path = tmp / "table.csv"
    rows = write_csv(path, megabytes)
    base = child("none", path, 0)["peak_rss_mb"]
    run = child("csv", path, 1, 256)
    return {
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "rows": rows,
        "check_seconds": round(run["check_seconds"], 1),
        "stream_rows_per_s": round(run["samples"] / run["epoch_seconds"][0]),
        "peak_rss_mb": round(run["peak_rss_mb"], 1),
        "peak_rss_beyond_import_mb": round(run["peak_rss_mb"] - base, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--scale", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--csv-mb", type=float, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="specc-bench-") as tmp:
        start = time.perf_counter()
        result = {"images": images(args.images, args.repeats, args.epochs, args.scale, Path(tmp))}
        result["csv"] = csv_rss(args.csv_mb, Path(tmp))
        result["wall_seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
