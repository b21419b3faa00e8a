"""specc's streamed input pipelines against what a Keras user writes, in one run.

Images: a folder of ``--images`` small JPEGs (32x32, 4 classes, written into a temporary
folder) is read by specc's image-folder pipeline (headers checked, Keras' loader, memory
cache, reshuffle of the cached batches, prefetch) and by the hand-written
``image_dataset_from_directory(...).cache().prefetch(AUTOTUNE)``, both in one fresh process
per repeat (``--repeats``), their epochs alternating (ABBA..., who starts alternating by
repeat) so both see the same machine load; ``--epochs`` epochs each, no model, so what is
timed is the pipeline alone. Reported: images per second of the first epoch (decode) and
the median of the later epochs (cached), specc's check time, and the ratios specc /
hand-written (>= 0.9 is the goal). The model's own rate: a small CNN (the flowers
tutorial's shape at 32x32) fitted on one batch repeated in memory (the model alone), and
fitted on specc's stream (both after a first, tracing epoch), in images per second.
Memory: peak RSS beyond a process that only imports TensorFlow, for specc's pipeline with
a file cache on the folder and on one ``--scale`` times larger (and with the memory cache
on the folder, for comparison).

CSV: a numeric table of about ``--csv-mb`` MB (30 features, a 0/1 label; 50,000 distinct
rows written again and again, which is the same work for a parser) streamed by specc's
CSV pipeline in a fresh process: the check pass (timed), then the training part (72 % of
the rows: test 0.2, validation 0.1 of the rest) for one epoch through the shuffle buffer,
batches of 256, parsed per batch; against ``tf.data.experimental.make_csv_dataset``
(same batch and shuffle buffer) for ``--csv-baseline-batches`` batches (a whole epoch of
it takes minutes at 1 GB). Reported: MB/s of the check, rows/s of each, peak RSS beyond
the import-only process. The file is deleted afterwards.

    .venv/bin/python bench/data_pipelines.py                      # 20,000 images, 1 GB CSV
    .venv/bin/python bench/data_pipelines.py --images 2000 --csv-mb 50   # a quick look
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
from pathlib import Path
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
kind, path, epochs, batch, extra = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
import tensorflow as tf
import keras
keras.utils.set_random_seed(1)
out = {"import_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
start = time.perf_counter()
limit = None
if kind == "throughput":  # both pipelines, epochs alternating: the same load for each
    from specc.language.schema import Data
    from specc.training import image_folder
    hand = keras.utils.image_dataset_from_directory(
        os.path.join(path, "train"), image_size=(32, 32), batch_size=batch, seed=1, verbose=False
    ).cache().prefetch(tf.data.AUTOTUNE)
    data = Data.model_validate({"dataset": "image_folder", "path": path, "image_size": [32, 32],
                                "cache": "memory"})
    checked = image_folder.check(data, Path(path), (32, 32, 3), 4, 0.0)
    out["check_seconds"] = time.perf_counter() - start
    ours = image_folder.open_streams(checked, batch, 1).train
    pipelines = {"handwritten": hand, "specc": ours}
    order = ["specc", "handwritten"] if extra == "specc_first" else ["handwritten", "specc"]
    timings = {k: [] for k in pipelines}
    for epoch in range(epochs):
        for name in order if epoch % 2 == 0 else order[::-1]:
            t, cpu, n = time.perf_counter(), time.process_time(), 0
            for x, y in pipelines[name]:
                n += int(y.shape[0])
            timings[name].append((time.perf_counter() - t, n, time.process_time() - cpu))
    out["timings"] = timings
    print(json.dumps(out))
    sys.exit(0)
elif kind in ("specc", "fit_stream"):
    from specc.language.schema import Data
    from specc.training import image_folder
    data = Data.model_validate({"dataset": "image_folder", "path": path, "image_size": [32, 32],
                                "cache": extra or "auto"})
    checked = image_folder.check(data, Path(path), (32, 32, 3), 4, 0.0)
    out["check_seconds"] = time.perf_counter() - start
    out["cache"] = checked.cache
    streams = image_folder.open_streams(checked, batch, 1, Path(path).parent / "cache")
    ds = streams.train
elif kind == "csv":
    from specc.language.schema import Data
    from specc.training import csv_table
    data = Data.model_validate({"dataset": "csv", "path": path, "label": "label"})
    cpu = time.process_time()
    table = csv_table.check(data, Path(path), (30,), None, 0.1)
    out["check_seconds"] = time.perf_counter() - start
    out["check_cpu_seconds"] = time.process_time() - cpu
    ds = csv_table.open_streams(table, batch, 1).train
elif kind == "csv_handwritten":
    ds = tf.data.experimental.make_csv_dataset(
        path, batch, label_name="label", num_epochs=1, shuffle=True,
        shuffle_buffer_size=10_000, shuffle_seed=1,
    )
    limit = int(extra)
out["setup_seconds"] = time.perf_counter() - start


def model():
    layers = keras.layers
    net = keras.Sequential([
        keras.Input((32, 32, 3)), layers.Rescaling(1 / 255),
        layers.Conv2D(16, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dense(4),
    ])
    net.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return net


class Timer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds.append(time.perf_counter() - self.start)


seconds, samples = [], 0
if kind == "fit_memory":  # the model alone: one batch, in memory, again and again
    x = tf.random.uniform((batch, 32, 32, 3), 0, 255)
    y = tf.random.uniform((batch,), 0, 4, tf.int32)
    ds = tf.data.Dataset.from_tensors((x, y)).repeat(int(extra)).cache()
    model().fit(ds, epochs=epochs, verbose=0, callbacks=[Timer()])
    samples = batch * int(extra)
elif kind == "fit_stream":
    model().fit(ds, epochs=epochs, verbose=0, callbacks=[Timer()])
    samples = checked.train_samples
    streams.close()
elif kind != "none":
    for _ in range(epochs):
        t, n = time.perf_counter(), 0
        for i, (x, y) in enumerate(ds):
            n += int(y.shape[0])
            if limit and i + 1 == limit:
                break
        seconds.append(time.perf_counter() - t)
        samples = n
    if kind == "specc":
        streams.close()
out |= {"epoch_seconds": seconds, "samples": samples,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
print(json.dumps(out))
"""


def child(kind: str, path: Path | str, epochs: int = 2, batch: int = 64, extra: str = "") -> dict:
    """One measurement in a fresh process (its peak RSS is its own)."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(path), str(epochs), str(batch), extra],
        capture_output=True, text=True, cwd=ROOT, env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    if proc.returncode != 0:
        sys.exit(f"{kind} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def write_images(folder: Path, count: int) -> None:
    """``count`` 32x32 JPEGs in ``train/``'s 4 class subfolders (and 8 in ``test/``)."""
    import numpy as np
    from PIL import Image  # matplotlib's own dependency (TensorFlow's encoder: 9 ms a call)

    rng = np.random.default_rng(0)
    for split, n in (("train", count), ("test", 8)):
        for k in range(4):
            (folder / split / f"class{k}").mkdir(parents=True, exist_ok=True)
        for start in range(0, n, 1000):
            pixels = rng.integers(0, 255, (min(1000, n - start), 32, 32, 3), dtype=np.uint8)
            for i, image in enumerate(pixels, start):
                Image.fromarray(image).save(folder / split / f"class{i % 4}" / f"{i}.jpg")


def write_csv(path: Path, megabytes: float) -> int:
    """A numeric CSV of about ``megabytes`` MB: 30 features and a 0/1 label; 50,000
    distinct rows, written again until the size is reached."""
    import io

    import numpy as np

    rng = np.random.default_rng(0)
    block = io.StringIO()
    features = rng.normal(size=(50_000, 30)).round(4)
    labels = rng.integers(0, 2, (50_000, 1))
    np.savetxt(block, np.hstack([features, labels]), fmt=["%.4f"] * 30 + ["%d"], delimiter=",")
    text = block.getvalue().encode()
    rows = 0
    with open(path, "wb") as fh:
        fh.write((",".join([*(f"f{i}" for i in range(30)), "label"]) + "\n").encode())
        while fh.tell() < megabytes * 1e6:
            fh.write(text)
            rows += 50_000
    return rows


def rate(run: dict, later: bool) -> float:
    seconds = run["epoch_seconds"][1:] if later else run["epoch_seconds"][:1]
    return run["samples"] / statistics.median(seconds)


def throughput(folder: Path, repeats: int, epochs: int) -> dict:
    """Both pipelines, epochs alternating in one process per repeat: images per second of
    the first epoch and of the later ones (medians), and the ratios specc / hand-written:
    of the medians, and the median of the ratios of adjacent epochs (the same load)."""
    rates: dict[str, dict[str, list[float]]] = {
        k: {"first": [], "later": [], "later_cpu": []} for k in ("handwritten", "specc")
    }
    pairs, checks = [], []
    for i in range(repeats):  # who goes first alternates
        run = child("throughput", folder, epochs, extra="specc_first" if i % 2 else "")
        checks.append(run["check_seconds"])
        for name, timings in run["timings"].items():
            rates[name]["first"].append(timings[0][1] / timings[0][0])
            rates[name]["later"] += [n / seconds for seconds, n, _ in timings[1:]]
            rates[name]["later_cpu"] += [n / cpu for _, n, cpu in timings[1:]]
        hand, ours = run["timings"]["handwritten"][1:], run["timings"]["specc"][1:]
        pairs += [(b[0] / b[1]) / (a[0] / a[1]) for a, b in zip(ours, hand, strict=True)]
    med = {k: {p: statistics.median(v) for p, v in r.items()} for k, r in rates.items()}
    return {
        "handwritten_images_per_s": {k: round(v) for k, v in med["handwritten"].items()},
        "specc_images_per_s": {k: round(v) for k, v in med["specc"].items()},
        "ratio_first_epoch": round(med["specc"]["first"] / med["handwritten"]["first"], 3),
        "ratio_later_epochs": round(med["specc"]["later"] / med["handwritten"]["later"], 3),
        "ratio_later_epochs_paired_median": round(statistics.median(pairs), 3),
        "ratio_later_epochs_per_cpu_second": round(
            med["specc"]["later_cpu"] / med["handwritten"]["later_cpu"], 3
        ),
        "specc_check_seconds": round(statistics.median(checks), 3),
    }


def images(count: int, repeats: int, epochs: int, scale: int, tmp: Path, parts: set[str]) -> dict:
    folder = tmp / "images"
    start = time.perf_counter()
    write_images(folder, count)
    result: dict = {
        "images": count,
        "writing_the_images_seconds": round(time.perf_counter() - start, 1),
    }
    if "throughput" in parts:
        result |= throughput(folder, repeats, epochs)
    if "model" in parts:
        alone = child("fit_memory", folder, 3, extra="200")
        on_stream = child("fit_stream", folder, 3, extra="memory")
        result |= {
            "model_alone_images_per_s": round(rate(alone, True)),
            "model_alone_steps_per_s": round(rate(alone, True) / 64, 1),
            "model_on_specc_stream_images_per_s": round(rate(on_stream, True)),
        }
    if "memory" in parts:
        base = child("none", folder, 0)["peak_rss_mb"]
        memory_small = child("specc", folder, 2, extra="memory")
        file_small = child("specc", folder, 2, extra="file")
        big = tmp / "images_big"
        write_images(big, count * scale)
        file_big = child("specc", big, 2, extra="file")
        result |= {
            "peak_rss_beyond_import_mb": {
                "memory_cache": round(memory_small["peak_rss_mb"] - base, 1),
                "file_cache": round(file_small["peak_rss_mb"] - base, 1),
                f"file_cache_x{scale}_images": round(file_big["peak_rss_mb"] - base, 1),
            },
            f"file_cache_x{scale}_images_per_s": {
                "first": round(rate(file_big, False)), "later": round(rate(file_big, True))
            },
        }  # fmt: skip
    return result


def csv_stream(megabytes: float, baseline_batches: int, tmp: Path) -> dict:
    path = tmp / "table.csv"
    rows = write_csv(path, megabytes)
    size = path.stat().st_size
    try:
        base = child("none", path, 0)["peak_rss_mb"]
        run = child("csv", path, 1, 256)
        hand = child("csv_handwritten", path, 1, 256, str(baseline_batches))
    finally:
        path.unlink()
    specc_rate = run["samples"] / run["epoch_seconds"][0]
    hand_rate = hand["samples"] / hand["epoch_seconds"][0]
    return {
        "file_mb": round(size / 1e6, 1),
        "rows": rows,
        "specc_check_seconds": round(run["check_seconds"], 1),
        "specc_check_mb_per_s": round(size / 1e6 / run["check_seconds"], 1),
        "specc_check_cpu_seconds": round(run["check_cpu_seconds"], 1),
        "specc_rows_streamed": run["samples"],
        "specc_stream_seconds": round(run["epoch_seconds"][0], 1),
        "specc_rows_per_s": round(specc_rate),
        "handwritten_rows_streamed": hand["samples"],
        "handwritten_rows_per_s": round(hand_rate),
        "ratio_rows_per_s": round(specc_rate / hand_rate, 2),
        "import_only_peak_rss_mb": round(base, 1),
        "specc_peak_rss_beyond_import_mb": round(run["peak_rss_mb"] - base, 1),
        "handwritten_peak_rss_beyond_import_mb": round(hand["peak_rss_mb"] - base, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--scale", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=16)
    parser.add_argument("--csv-mb", type=float, default=1000)
    parser.add_argument("--csv-baseline-batches", type=int, default=2000)
    parser.add_argument(
        "--parts", default="throughput,model,memory,csv",
        help="comma-separated: throughput, model, memory (images), csv",
    )  # fmt: skip
    args = parser.parse_args()
    result: dict = {"load_average_before": os.getloadavg()}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="specc-bench-") as tmp:
        parts = set(args.parts.split(","))
        if parts - {"csv"}:
            result["images"] = images(
                args.images, args.repeats, args.epochs, args.scale, Path(tmp), parts
            )
        if "csv" in parts:
            result["csv"] = csv_stream(args.csv_mb, args.csv_baseline_batches, Path(tmp))
    result["wall_seconds"] = round(time.perf_counter() - start, 1)
    result["load_average_after"] = os.getloadavg()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
