"""An image folder (one subfolder per class), streamed with tf.data: checked before
training in one line each (exit 1), and trained by `specc train` and the emitted script
to the same test metrics for the same seed."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from specc.analysis.pipeline import compile_file
from specc.training import image_folder
from tests.emitted import emit
from tests.helpers import run_script
from tests.image_files import image, png, write_folder

SPEC = """\
name: shapes
data:
  dataset: image_folder
  path: {path}
  preprocessing:
    x: {x}
    y: {y}
model:
  input: {{shape: [16, 16, {channels}]}}
  layers:
    - {{type: Conv2D, filters: 4, kernel_size: 3, activation: relu}}
    - {{type: Flatten}}
    - {{type: Dense, units: {units}, activation: softmax}}
compile: {{optimizer: adam, loss: {loss}, metrics: [accuracy]}}
training: {{epochs: 1, batch_size: 8, validation_split: {split}, seed: 7}}
"""


def spec(tmp_path, folder, *, units=3, split=0.25, one_hot=False, x="[{divide: 255}]",
         channels=3, extra=""):  # fmt: skip
    text = SPEC.format(
        path=folder, x=x, y=f"[{{one_hot: {units}}}]" if one_hot else "[]", units=units,
        loss="categorical_crossentropy" if one_hot else "sparse_categorical_crossentropy",
        split=split, channels=channels,
    )  # fmt: skip
    path = tmp_path / "shapes.yaml"
    path.write_text(text.replace("  dataset: image_folder\n", f"  dataset: image_folder\n{extra}"))
    return path


def _same_metrics(tmp_path, specc, spec_path, data=None):
    run = specc("train", str(spec_path), "--output-dir", str(tmp_path / "specc"))
    assert run.exit_code == 0, run.stderr
    ours = json.loads((tmp_path / "specc" / "metrics.json").read_text())
    script = emit(compile_file(spec_path), tmp_path / "gen")
    proc = run_script(script, "--output-dir", str(tmp_path / "script"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    theirs = json.loads((tmp_path / "script" / "metrics.json").read_text())
    for key in ("test_loss", "test_accuracy"):
        assert math.isclose(ours[key], theirs[key], rel_tol=1e-5), (key, ours[key], theirs[key])
    assert ours["class_names"] == theirs["class_names"] == ["circle", "square", "triangle"]
    return ours


@pytest.mark.keras
def test_specc_train_and_the_emitted_script_agree_on_an_image_folder(tmp_path, specc):
    """PNGs and JPEGs, split 25 % for validation (which also tests): one epoch, seed 7."""
    folder = write_folder(tmp_path / "shapes")
    ours = _same_metrics(tmp_path, specc, spec(tmp_path, folder))
    assert ours["train_samples"] == 18 and ours["data"] == str(folder)
    assert (tmp_path / "specc" / "confusion.png").is_file()


@pytest.mark.slow
@pytest.mark.keras
def test_train_validation_test_folders_with_one_hot_labels(tmp_path, specc):
    for split, seed in (("train", 0), ("validation", 1), ("test", 2)):
        write_folder(tmp_path / "shapes" / split, per_class=4 if split != "train" else 8, seed=seed)
    path = spec(tmp_path, tmp_path / "shapes", one_hot=True, x="[{cast: float32}, {divide: 255}]",
                split=0.0)  # fmt: skip
    ours = _same_metrics(tmp_path, specc, path)
    assert ours["train_samples"] == 24


def _error(tmp_path, specc, spec_path):
    run = specc("train", str(spec_path), "--output-dir", str(tmp_path / "run"))
    assert run.exit_code == 1, run.stderr
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("error: "), run.stderr
    return run.stderr.removeprefix("error: ").strip()


def _pngs(folder, classes=("a", "b"), per_class=3, channels=3):
    rng = np.random.default_rng(0)
    for k, name in enumerate(classes):
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            (folder / name / f"{i}.png").write_bytes(png(image(k, rng, channels=channels)))
    return folder


def test_a_folder_without_class_subfolders(tmp_path, specc):
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "0.png").write_bytes(png(np.zeros((16, 16, 3), np.uint8)))
    message = _error(tmp_path, specc, spec(tmp_path, tmp_path / "flat"))
    assert message == (
        f"{tmp_path / 'flat'}: no class subfolders; put each class's images in a subfolder "
        "named after the class (e.g. cats/, dogs/)"
    )


def test_one_class(tmp_path, specc):
    folder = _pngs(tmp_path / "one", classes=("cats",))
    message = _error(tmp_path, specc, spec(tmp_path, folder))
    assert message == f"{folder}: one class subfolder (cats/); a classifier needs at least two"


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("x.png", b"not an image at all", "not a BMP, GIF, JPEG or PNG image"),
        ("cut.png", None, "a PNG cut short (no IEND chunk)"),
        ("cut.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40, "a JPEG cut short"),
    ],
)
def test_unreadable_images_are_refused_naming_the_first_and_the_count(
    tmp_path, specc, name, content, why
):
    folder = _pngs(tmp_path / "imgs", classes=("a", "b", "c"))
    bad = folder / "b" / name
    bad.write_bytes(content if content is not None else png(np.zeros((8, 8, 3), np.uint8))[:-12])
    message = _error(tmp_path, specc, spec(tmp_path, folder))
    assert message.startswith(f"{bad}: {why}")
    assert message.endswith(f"1 of 10 file(s) in {folder} are not readable images: remove or "
                            "replace them")  # fmt: skip


def test_mixed_channels_are_refused_unless_color_mode_converts_them(tmp_path, specc):
    folder = _pngs(tmp_path / "mixed", classes=("a", "b", "c"))
    (folder / "c" / "grey.png").write_bytes(png(np.zeros((16, 16, 1), np.uint8)))
    message = _error(tmp_path, specc, spec(tmp_path, folder))
    assert message == (
        f"{folder}: images of mixed channels: 1 channel(s) (grey.png), 3 channel(s) (0.png); "
        "set data.color_mode (grayscale, rgb or rgba) to convert every image to it"
    )
    checked = image_folder.check(
        compile_file(spec(tmp_path, folder, extra="  color_mode: rgb\n")).spec.data,
        folder, (16, 16, 3), 3, 0.25,
    )  # fmt: skip
    assert checked.mode == "rgb" and checked.train_samples == 8


def test_class_count_must_match_the_output_units(tmp_path, specc):
    folder = _pngs(tmp_path / "imgs", classes=("a", "b", "c"))
    message = _error(tmp_path, specc, spec(tmp_path, folder, units=4))
    assert (
        message
        == f"{folder}: 3 classes (a, b, c) but the model's last layer has 4 units; make them equal"
    )


def test_an_empty_split_is_refused(tmp_path, specc):
    folder = _pngs(tmp_path / "few", classes=("a", "b", "c"), per_class=1)
    message = _error(tmp_path, specc, spec(tmp_path, folder, split=0.2))
    assert message == (
        f"{folder}: 3 image(s): validation_split 0.2 leaves 3 for training and 0 for "
        "validation; each needs at least one image"
    )
    for split in ("train", "test"):
        _pngs(tmp_path / "parts" / split, classes=("a", "b", "c"))
    shutil.rmtree(tmp_path / "parts" / "test" / "c")
    (tmp_path / "parts" / "test" / "c").mkdir()
    for f in (tmp_path / "parts" / "test").rglob("*.png"):
        f.unlink()
    message = _error(tmp_path, specc, spec(tmp_path, tmp_path / "parts", split=0.0))
    assert message.startswith(f"{tmp_path / 'parts' / 'test'}: no images (.bmp, .gif")


def test_splits_must_share_their_classes(tmp_path, specc):
    _pngs(tmp_path / "parts" / "train", classes=("a", "b", "c"))
    _pngs(tmp_path / "parts" / "test", classes=("a", "b", "d"))
    message = _error(tmp_path, specc, spec(tmp_path, tmp_path / "parts", split=0.0))
    assert message.startswith(f"{tmp_path / 'parts' / 'test'}: class subfolders a, b, d differ")


def _streams(tmp_path, folder, cache, *, subset=None, batch=4, replicas=1):
    from dataclasses import replace

    data = compile_file(spec(tmp_path, folder, extra=f"  cache: {cache}\n")).spec.data
    checked = replace(image_folder.check(data, folder, (16, 16, 3), 3, 0.25), subset=subset)
    return image_folder.open_streams(checked, batch, 7, tmp_path / "cache", replicas)


def _epoch(ds):
    xs, ys = zip(*((x.numpy(), y.numpy()) for x, y in ds), strict=True)
    return np.concatenate(xs), np.concatenate(ys)


@pytest.mark.keras
@pytest.mark.parametrize("cache", ["memory", "file"])
def test_later_epochs_read_the_cache_in_a_new_batch_order(tmp_path, cache):
    """The images are deleted after the first epoch: later epochs come from the cache
    (in memory, or a file in the run folder that close() removes), the same batches in
    another order each epoch."""
    folder = write_folder(tmp_path / "shapes", per_class=16)
    streams = _streams(tmp_path, folder, cache)
    first, labels = _epoch(streams.train)
    shutil.rmtree(folder)
    assert (tmp_path / "cache").is_dir() == (cache == "file")
    batches = {x.tobytes() for x in first.reshape(-1, 4, 16 * 16 * 3)}
    orders = []
    for _ in range(3):
        x, y = _epoch(streams.train)
        assert len(x) == len(first) == 36 and sorted(y) == sorted(labels)
        assert {b.tobytes() for b in x.reshape(-1, 4, 16 * 16 * 3)} == batches
        orders.append(x.tobytes())
    assert len({first.tobytes(), *orders}) > 2  # reshuffled, not replayed
    streams.close()
    assert not (tmp_path / "cache").exists()


def test_the_cache_rule(monkeypatch):
    """auto: memory while the decoded split takes at most a quarter of memory, else a file."""
    from specc.language.schema import Data

    data = Data(dataset="image_folder", path="x")
    decoded = 1000 * 32 * 32 * 3 * 4
    monkeypatch.setattr(image_folder, "_memory_bytes", lambda: 4 * decoded)
    assert image_folder.cache_kind(data, 1000, [32, 32], "rgb") == "memory"
    monkeypatch.setattr(image_folder, "_memory_bytes", lambda: 4 * decoded - 1)
    assert image_folder.cache_kind(data, 1000, [32, 32], "rgb") == "file"
    for kind in ("memory", "file", "none"):
        stated = Data(dataset="image_folder", path="x", cache=kind)
        assert image_folder.cache_kind(stated, 1000, [32, 32], "rgb") == kind


@pytest.mark.keras
def test_subset_takes_the_first_images_and_replicas_get_even_batches(tmp_path):
    """--subset N: the first N training images the loader yields (cut inside a batch), the
    same N every epoch (cached), and the first N test images; under a strategy every batch
    splits evenly over the replicas and the stream is sharded by DATA."""
    import tensorflow as tf

    folder = write_folder(tmp_path / "shapes", per_class=8)
    streams = _streams(tmp_path, folder, "memory", subset=5)
    x, y = _epoch(streams.train)
    assert len(x) == streams.train_samples == 5
    assert sorted(_epoch(streams.train)[1]) == sorted(y)
    assert len(_epoch(streams.test)[0]) == streams.test_samples == 5
    streams = _streams(tmp_path, folder, "none", batch=6, replicas=4)  # 18: 3 x 6 -> 4 each
    assert [int(x.shape[0]) for x, _ in streams.train] == [4, 4, 4]
    streams = _streams(tmp_path, folder, "none", batch=4, replicas=4)  # 4 x 4, then 2: left out
    assert [int(x.shape[0]) for x, _ in streams.train] == [4] * 4 and len(streams.train) == 4
    policy = streams.train.options().experimental_distribute.auto_shard_policy
    assert policy == tf.data.experimental.AutoShardPolicy.DATA
    assert "cut to a multiple of the 4 replicas" in streams.notes[-1]


def test_subset_and_fused(tmp_path, specc):
    """--subset trains on the first N images; loop: fused (whole arrays on the device) is
    refused for a stream, saying why."""
    folder = _pngs(tmp_path / "imgs", classes=("a", "b", "c"), per_class=4)
    path = spec(tmp_path, folder)
    run = specc("train", str(path), "--subset", "5", "--output-dir", str(tmp_path / "run"))
    assert run.exit_code == 0, run.stderr
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["train_samples"] == 5
    from specc.analysis.arrays import ONE
    from specc.training import train

    base = compile_file(path).spec

    def loop(kind):
        return base.model_copy(update={"runtime": base.runtime.model_copy(update={"loop": kind})})

    with pytest.raises(train.TrainError) as caught:
        train._choose_runtime(loop("fused"), "jax", True, ONE, None, streamed=True)
    assert str(caught.value) == (
        "runtime.loop 'fused' keeps the whole training set on the device as arrays, but this "
        "data is streamed batch by batch through tf.data: use loop: fit (or auto)"
    )
    # auto picks fused for jax on a GPU: a stream falls back to fit
    assert (
        train._choose_runtime(loop("auto"), "jax", True, ONE, None, streamed=True)["loop"] == "fit"
    )
