"""Weights from a file, a frozen base and fine-tuning, as the transfer-learning tutorial.

``tests/finetune/frozen_base.yaml``: a small base (Conv2D, BatchNormalization) under
``models:``, used with ``weights:`` (a ``.weights.h5`` the test saves from the same model),
``trainable: false`` and ``training: false``, a head on top, and ``training.fine_tune``
unfreezing the base from ``conv_b`` at a lower learning rate. Static parts (counts after
the unfreeze, names checked, files found before TensorFlow) run fast; the tests that train
run one epoch per phase on 40 tiny samples. Error cases: ``tests/cases/fine_tune_*`` and
``tests/cases/weights_*``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from specc.analysis import finetune, weights
from specc.analysis.pipeline import compile_file, locate_weights
from specc.errors import SpecError
from tests.helpers import ROOT

SPEC = ROOT / "tests" / "finetune" / "frozen_base.yaml"


def _folder(tmp_path: Path) -> Path:
    """The spec in a folder of its own, with its data and the base's weights file."""
    from specc.backends import keras_build

    spec = tmp_path / "frozen_base.yaml"
    shutil.copy(SPEC, spec)
    compiled = compile_file(spec)
    sub = compiled.graph.layers[0].spec
    base = keras_build.build(sub.definition, sub.graph, compile=False)
    rng = np.random.default_rng(0)
    for w in base.weights:  # not Keras' initial values: a load must be visible
        value = rng.normal(size=w.shape).astype("float32")
        w.assign(np.abs(value) + 0.5 if "variance" in w.path else value)
    base.save_weights(tmp_path / "base.weights.h5")
    x = rng.random((40, 8, 8, 3)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype("float32")
    np.savez(tmp_path / "d.npz", x_train=x[:32], y_train=y[:32], x_test=x[32:], y_test=y[32:])
    return spec


def _file_weights(tmp_path: Path) -> list[np.ndarray]:
    """The weights file's arrays, read back into the base model (in its weights' order)."""
    from specc.backends import keras_build

    compiled = compile_file(tmp_path / "frozen_base.yaml")
    sub = compiled.graph.layers[0].spec
    base = keras_build.build(sub.definition, sub.graph, compile=False)
    base.load_weights(tmp_path / "base.weights.h5")
    return [w.numpy() for w in base.weights]


def test_the_static_table_counts_as_keras_after_the_unfreeze():
    """Before: the base all non-trainable; after: conv_b on trainable (BN's moving
    statistics stay non-trainable). By hand: conv_a 112, bn_a 8+8, conv_b 296, bn_b 16+16,
    dense 9."""
    compiled = compile_file(SPEC)
    graph = compiled.graph
    assert (graph.trainable_params, graph.non_trainable_params) == (9, 456)
    where = finetune.resolve(compiled.spec, graph, lambda loc, m: pytest.fail(m))
    assert isinstance(where, finetune.Unfreeze)
    assert where.at == 3 and where.names == ("conv_a", "bn_a", "relu_a", "conv_b", "bn_b", "pool")
    assert finetune.after_unfreeze(graph, where) == (296 + 16 + 9, 112 + 16 + 16)


def test_summary_prints_the_counts_after_the_unfreeze(specc):
    run = specc("summary", str(SPEC))
    assert run.exit_code == 0, run.stderr
    assert run.stdout.endswith(
        " After training.fine_tune unfreezes base from layer 3 (conv_b):\n"
        " Trainable params: 321 (1.25 KB)\n"
        " Non-trainable params: 144 (576.00 B)\n"
    )
    data = json.loads(specc("summary", str(SPEC), "--format", "json").stdout)
    assert data["fine_tune"] == {"model": "base", "from": 3, "from_layer": "conv_b",
                                 "trainable_params": 321, "non_trainable_params": 144}  # fmt: skip


@pytest.mark.keras
def test_keras_counts_what_the_table_says_before_and_after_the_unfreeze(tmp_path):
    from specc.backends import keras_build

    compiled = compile_file(_folder(tmp_path))
    locate_weights(compiled)
    model = keras_build.build(compiled.spec, compiled.graph, compile=False)

    def counts() -> tuple[int, int]:
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        return trainable, model.count_params() - trainable

    graph = compiled.graph
    assert counts() == (graph.trainable_params, graph.non_trainable_params)
    where = finetune.resolve(compiled.spec, graph, lambda loc, m: pytest.fail(m))
    keras_build.unfreeze(model, where.layer.name, where.at)
    assert counts() == finetune.after_unfreeze(graph, where)


@pytest.mark.keras
def test_the_loaded_weights_equal_the_file(tmp_path):
    from specc.backends import keras_build

    compiled = compile_file(_folder(tmp_path))
    locate_weights(compiled)
    model = keras_build.build(compiled.spec, compiled.graph, compile=False)
    base = model.get_layer("base")
    expected = _file_weights(tmp_path)
    assert len(expected) == len(base.weights) == 12
    for w, value in zip(base.weights, expected, strict=True):
        np.testing.assert_array_equal(w.numpy(), value)


@pytest.mark.keras
def test_specc_train_trains_the_head_then_fine_tunes(tmp_path, specc):
    """Phase one trains the head only (the frozen base's BatchNormalization runs in
    inference mode: its statistics stay the file's); phase two trains conv_b on at the
    lower learning rate. The layers before conv_b never move.

    (Keras 3.15 lets fit's training=True override the base's training=False call, so
    bn_b, unfrozen, normalises by batch statistics in phase two, as Keras itself does:
    keras-team/keras#20285. Only what Keras guarantees is asserted.)"""
    spec = _folder(tmp_path)
    out = tmp_path / "run"
    run = specc("train", str(spec), "--data", str(tmp_path / "d.npz"), "--output-dir", str(out))
    assert run.exit_code == 0, run.stderr
    assert (
        "fine-tuning base from layer 3 (conv_b) at learning rate 0.0001, epochs 2-2" in run.stdout
    )
    history = json.loads((out / "history.json").read_text())
    assert (
        len(history["loss"]) == 2 and json.loads((out / "metrics.json").read_text())["epochs"] == 2
    )
    from tests.keras_helpers import keras

    model = keras().saving.load_model(out / "model.keras")
    base, before = model.get_layer("base"), _file_weights(tmp_path)
    moved = {
        w.path.split("/", 1)[-1] if w.path.startswith("base/") else w.path:
        not np.array_equal(w.numpy(), value)
        for w, value in zip(base.weights, before, strict=True)
    }  # fmt: skip
    frozen = [k for k in moved if k.split("/")[0] in ("conv_a", "bn_a")]
    assert len(frozen) == 6 and not any(moved[k] for k in frozen), moved
    assert moved["conv_b/kernel"] and moved["bn_b/gamma"] and moved["bn_b/beta"], moved
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-4)


def test_a_missing_weights_file_is_one_line_before_tensorflow(tmp_path):
    """specc build in a fresh process: the missing file at its line, exit 1, no TensorFlow."""
    spec = tmp_path / "frozen_base.yaml"
    shutil.copy(SPEC, spec)
    code = (
        "import sys\nfrom specc.cli import main\ntry:\n    main(['build', sys.argv[1]])\n"
        "except SystemExit as exc:\n    print('exit', exc.code, 'tensorflow' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(spec)], capture_output=True,
                          text=True, timeout=120, env=os.environ | {"NO_COLOR": "1"})  # fmt: skip
    assert proc.stdout.strip() == "exit 1 False", proc.stdout + proc.stderr
    assert proc.stderr == (
        f"{spec}:18:30: error: model.layers[0].weights: weights file "
        f"{tmp_path / 'base.weights.h5'} not found; a relative path is taken from the spec's "
        "folder\n"
    )


HOSTILE_WEIGHTS = {
    "folder.weights.h5": "is a folder; give the .weights.h5 file in it",
    "junk.weights.h5": "is not an HDF5 file (what model.save_weights writes)",
    "empty.weights.h5": "is not an HDF5 file (what model.save_weights writes)",
    "loop.weights.h5": "not found; a relative path is taken from the spec's folder",
    "fifo.weights.h5": "not found; a relative path is taken from the spec's folder",
    "a" * 10_000 + ".weights.h5": "cannot be read: File name too long",
    "~nosuchuser9/x.weights.h5": "cannot be read: ",
    "a\nb\x1b[31m.weights.h5": "not found; a relative path is taken from the spec's folder",
}
"""A hostile ``weights:`` and what specc says of it (a 10,000-character name and an unknown
user's ``~`` were tracebacks; a folder was 'not found'; a file that is not HDF5 reached
TensorFlow; a newline in the name split the error line)."""


@pytest.mark.parametrize("name", HOSTILE_WEIGHTS, ids=lambda n: n[:24].encode().hex()[:16])
def test_a_hostile_weights_file_is_one_line_before_tensorflow(name, tmp_path):
    (tmp_path / "folder.weights.h5").mkdir()
    (tmp_path / "junk.weights.h5").write_bytes(b"PK\x03\x04 not HDF5" * 100)
    (tmp_path / "empty.weights.h5").write_bytes(b"")
    (tmp_path / "loop.weights.h5").symlink_to("loop.weights.h5")
    os.mkfifo(tmp_path / "fifo.weights.h5")  # never opened: it would block
    spec = tmp_path / "frozen_base.yaml"
    spec.write_text(SPEC.read_text().replace("base.weights.h5", json.dumps(name)))
    with pytest.raises(SpecError) as caught:
        locate_weights(compile_file(spec))
    (problem,) = caught.value.diagnostics
    assert problem.loc == ("model", "layers", 0, "weights") and problem.line == 18
    assert HOSTILE_WEIGHTS[name] in problem.message and problem.message.isprintable()


def test_an_hdf5_file_passes_the_check(tmp_path):
    """The signature check takes what h5py writes (also after a 512-byte user block)."""
    for name, data in [("w", weights.HDF5_SIGNATURE), ("u", bytes(512) + weights.HDF5_SIGNATURE)]:
        (tmp_path / f"{name}.weights.h5").write_bytes(data + bytes(100))
        spec = tmp_path / f"{name}.yaml"
        spec.write_text(SPEC.read_text().replace("base.weights.h5", f"{name}.weights.h5"))
        compiled = compile_file(spec)
        locate_weights(compiled)
        (sub, _), *_ = weights.each_sub_model(compiled.graph)
        assert sub._weights_path == str(tmp_path / f"{name}.weights.h5")


def test_imagenet_is_looked_up_in_keras_cache_offline(tmp_path, monkeypatch):
    """A backbone's imagenet weights: the file keras.applications would download, found in
    $KERAS_HOME/models; absent, one line naming the file and the folder."""
    from specc.analysis.submodels import SubModel

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    args = {"include_top": False, "input_shape": [160, 160, 3]}
    sub = SubModel.model_construct(type="Functional", name="mobilenetv2_1.00_160",
                                   weights="imagenet")  # fmt: skip
    sub._application = ("MobileNetV2", args)  # as submodels.backbone() makes it
    problem = weights.locate_one(sub, ("model", "layers", 1), tmp_path, lambda loc, m: m)
    name = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160_no_top.h5"
    folder = tmp_path / "keras" / "models"
    assert problem == (
        f"the ImageNet weights of MobileNetV2 are not in Keras' cache: put {name} in {folder} "
        "(specc does not download; keras.applications.MobileNetV2(weights='imagenet') "
        "downloads it there)"
    )
    folder.mkdir(parents=True)
    (folder / name).write_bytes(b"")
    assert weights.locate_one(sub, (), tmp_path, lambda loc, m: m) is None
    assert sub._weights_path == str(folder / name)


CACHE_NAMES = {
    "MobileNetV2": {"include_top": False, "input_shape": (160, 160, 3)},
    "MobileNet": {"include_top": False, "input_shape": (128, 128, 3), "alpha": 0.5},
    "MobileNetV3Small": {"include_top": True},
    "ResNet50": {"include_top": False},
    "EfficientNetB0": {"include_top": False},
    "VGG16": {"include_top": True},
}
SLOW_CACHE_NAMES = {
    "ResNet50V2": {"include_top": True},
    "DenseNet121": {"include_top": False},
    "InceptionV3": {"include_top": False},
    "Xception": {"include_top": True},
    "NASNetMobile": {"include_top": False},
    "EfficientNetV2B0": {"include_top": True},
    "ConvNeXtTiny": {"include_top": False},
    "MobileNetV3Large": {"include_top": False, "minimalistic": True},
}


def _keras_asks_for(monkeypatch, application: str, args: dict) -> str:
    """The file name keras.applications asks get_file for (stopped before any download)."""
    from keras.src.utils import file_utils

    from tests.keras_helpers import keras

    class Asked(Exception):
        pass

    def get_file(fname=None, origin=None, **kwargs):
        raise Asked(fname)

    monkeypatch.setattr(file_utils, "get_file", get_file)
    with pytest.raises(Asked) as asked:
        getattr(keras().applications, application)(weights="imagenet", **args)
    return str(asked.value)


@pytest.mark.keras
@pytest.mark.parametrize("application", CACHE_NAMES)
def test_the_cache_file_is_the_one_keras_asks_for(application, monkeypatch):
    args = CACHE_NAMES[application]
    expected = _keras_asks_for(monkeypatch, application, args)
    assert weights.imagenet_file(application, dict(args)) == expected


@pytest.mark.slow
@pytest.mark.keras
@pytest.mark.parametrize("application", SLOW_CACHE_NAMES)
def test_the_cache_file_is_the_one_keras_asks_for_every_family(application, monkeypatch):
    args = SLOW_CACHE_NAMES[application]
    expected = _keras_asks_for(monkeypatch, application, args)
    assert weights.imagenet_file(application, dict(args)) == expected


def test_locating_weights_without_any_is_nothing():
    compiled = compile_file(ROOT / "specs" / "two_outputs.yaml")
    locate_weights(compiled)  # no sub-model, nothing to find: no error
    with pytest.raises(SpecError):
        locate_weights(compile_file(SPEC))  # tests/finetune has no base.weights.h5


# ------------------------------------------------------------------ a real backbone
def _vgg_spec(folder: Path) -> Path:
    """VGG16 from specc's application data as a sub-model, frozen, weights from a file, a
    head on top, fine-tuned from block5_conv1 (32x32 images keep it quick)."""
    import yaml

    from specc.applications import application_spec

    base = application_spec("VGG16", include_top=False, input_shape=(32, 32, 3), weights=None)
    spec = {
        "name": "vgg_transfer",
        "models": {"vgg16": {k: v for k, v in base.items() if k != "name"}},
        "data": {"dataset": "npz", "path": "d.npz"},
        "model": {"input": {"shape": [32, 32, 3]}, "layers": [
            {"model": "vgg16", "weights": "vgg16.weights.h5", "trainable": False,
             "training": False},
            {"type": "GlobalAveragePooling2D"}, {"type": "Dense", "units": 1}]},
        "compile": {"optimizer": {"type": "Adam", "learning_rate": 0.0001},
                    "loss": {"type": "BinaryCrossentropy", "from_logits": True}},
        "training": {"epochs": 1, "batch_size": 8, "fine_tune": {
            "unfreeze": {"from": "block5_conv1"}, "epochs": 1, "learning_rate": 1e-5}},
    }  # fmt: skip
    path = folder / "vgg_transfer.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _keras_vgg(weights_file: Path | None = None):
    """keras.applications.VGG16 itself (weights=None), optionally saved to a file first."""
    from tests.keras_helpers import keras

    base = keras().applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    if weights_file is not None:
        base.save_weights(weights_file)
    return base


def test_unfreezing_a_real_backbone_counts_as_keras(tmp_path):
    """The counts specc prints after the unfreeze equal Keras' for keras.applications'
    own VGG16 under the tutorial's head, unfrozen from block5_conv1 as the tutorial does."""
    from tests.keras_helpers import keras

    compiled = compile_file(_vgg_spec(tmp_path))
    where = finetune.resolve(compiled.spec, compiled.graph, lambda loc, m: pytest.fail(m))
    assert where.names[where.at] == "block5_conv1" and where.at == 15
    k = keras()
    base = _keras_vgg()
    base.trainable = False
    inputs = k.Input(shape=(32, 32, 3))
    x = base(inputs, training=False)
    x = k.layers.GlobalAveragePooling2D()(x)
    model = k.Model(inputs, k.layers.Dense(1)(x))

    def counts() -> tuple[int, int]:
        trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        return trainable, model.count_params() - trainable

    graph = compiled.graph
    assert counts() == (graph.trainable_params, graph.non_trainable_params) == (513, 14_714_688)
    base.trainable = True
    for layer in base.layers[: where.at]:  # the tutorial's fine_tune_at
        layer.trainable = False
    # (the input's name aside: the tutorial builds the base before its own Input, specc's
    # sub-model is built where it is used, after the outer input: input_layer_1)
    assert [layer.name for layer in base.layers][1:] == list(where.names[1:])
    assert counts() == finetune.after_unfreeze(graph, where) == (7_079_937, 7_635_264)


def test_a_backbone_takes_the_weights_keras_saved(tmp_path):
    """weights: a .weights.h5 that keras.applications.VGG16(weights=None).save_weights
    wrote: specc's VGG16 sub-model loads it, every array equal the file's."""
    from specc.backends import keras_build

    spec = _vgg_spec(tmp_path)
    saved = _keras_vgg(tmp_path / "vgg16.weights.h5")
    compiled = compile_file(spec)
    locate_weights(compiled)
    model = keras_build.build(compiled.spec, compiled.graph, compile=False)
    ours = model.get_layer("vgg16")
    assert len(ours.weights) == len(saved.weights) == 26
    for a, b in zip(ours.weights, saved.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.slow
def test_specc_train_fine_tunes_a_real_backbone(tmp_path, specc):
    """Head first (VGG16 frozen), then block5 on at 1e-5: blocks 1-4 never move."""
    spec = _vgg_spec(tmp_path)
    saved = _keras_vgg(tmp_path / "vgg16.weights.h5")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (32, 32, 32, 3)).astype("float32")
    y = (x[..., 0].mean(axis=(1, 2)) > 127).astype("float32")
    np.savez(tmp_path / "d.npz", x_train=x[:24], y_train=y[:24], x_test=x[24:], y_test=y[24:])
    out = tmp_path / "run"
    run = specc("train", str(spec), "--data", str(tmp_path / "d.npz"), "--output-dir", str(out))
    assert run.exit_code == 0, run.stderr
    from tests.keras_helpers import keras

    trained = keras().saving.load_model(out / "model.keras").get_layer("vgg16")
    for a, b in zip(trained.weights, saved.weights, strict=True):
        moved = not np.array_equal(a.numpy(), b.numpy())
        assert moved == a.path.split("/")[-2].startswith("block5"), a.path


@pytest.mark.keras
def test_a_weights_file_of_another_model_is_one_line(tmp_path, specc):
    from tests.keras_helpers import keras

    spec = _folder(tmp_path)
    k = keras()
    k.Sequential([k.Input((3,)), k.layers.Dense(2)]).save_weights(tmp_path / "base.weights.h5")
    run = specc("train", str(spec), "--data", str(tmp_path / "d.npz"), "--output-dir",
                str(tmp_path / "run"))  # fmt: skip
    assert run.exit_code == 1 and run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith(
        f"error: weights file {tmp_path / 'base.weights.h5'} does not fit sub-model 'base': "
        "save it from the same model (model.save_weights) (ValueError: "
    )


@pytest.mark.keras
def test_import_reads_the_base_called_with_training_false(tmp_path):
    """``base(x, training=False)`` in a saved model: the sub-model's entry says so."""
    from specc.backends.importer import import_model
    from tests.keras_helpers import keras

    k = keras()
    i = k.Input((8, 8, 3))
    h = k.layers.BatchNormalization(name="bn_a")(k.layers.Conv2D(4, 3, name="conv_a")(i))
    base = k.Model(i, k.layers.GlobalAveragePooling2D(name="pool")(h), name="base")
    base.trainable = False
    inputs = k.Input((8, 8, 3))
    for training, name in ((False, "frozen"), (None, "plain")):
        model = k.Model(inputs, k.layers.Dense(1)(base(inputs, training=training)), name=name)
        model.save(tmp_path / f"{name}.keras")
        entry = import_model(tmp_path / f"{name}.keras")["model"]["layers"][0]
        assert entry == {"model": "base", "trainable": False} | (
            {"training": False} if training is False else {}
        )
