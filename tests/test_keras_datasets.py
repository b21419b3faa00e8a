"""keras.datasets by name: Keras' own cached files read offline, exactly as Keras reads
them; downloads only where no folder holds them, and a one-line error when that fails.

Every file here is small and synthetic (tests/keras_files.py); nothing is downloaded: Keras'
own loader is run with its download replaced by a failure and its hash check by a pass,
so it reads the same synthetic files from the same folder."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest

from specc.language.schema import Data
from specc.training import data as data_mod
from specc.training import keras_datasets
from tests.emitted import emit, load_module
from tests.helpers import run_script
from tests.keras_files import DATASETS, write_cifar, write_keras_file

ARGS = {"imdb": {"num_words": 200}, "reuters": {"num_words": 100}}
REAL_DOWNLOAD = keras_datasets.download


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty Keras cache ($KERAS_HOME/datasets) and no $SPECC_DATA_DIR; downloads fail."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("SPECC_DATA_DIR", raising=False)
    monkeypatch.setattr(data_mod, "keras_cache_dirs", lambda: [tmp_path / "keras" / "datasets"])

    def no_download(data):
        raise AssertionError(f"tried to download {data.dataset}")

    monkeypatch.setattr(keras_datasets, "download", no_download)
    return tmp_path / "keras" / "datasets"


def _keras_reads_offline(monkeypatch, home):
    """Keras' get_file, pointed at ``home``, trusting the synthetic files' hashes and
    refusing to download."""
    from keras.src.utils import file_utils

    def offline(*args, **kwargs):
        raise AssertionError("keras tried to download")

    monkeypatch.setattr(file_utils.config, "keras_home", lambda: str(home))
    monkeypatch.setattr(file_utils, "validate_file", lambda *a, **k: True)
    monkeypatch.setattr(file_utils, "urlretrieve", offline)


def _same(ours, theirs):
    if ours.dtype == object:
        assert [list(map(int, a)) for a in ours] == [list(map(int, a)) for a in theirs]
    else:
        np.testing.assert_array_equal(ours, np.asarray(theirs).reshape(ours.shape))


@pytest.mark.keras
@pytest.mark.parametrize("dataset", [d for d in DATASETS if d != "cifar10"])
def test_specc_reads_keras_files_as_keras_does(dataset, cache, monkeypatch):
    """Same arrays as keras.datasets.<name>.load_data() from the same files: shuffles,
    splits, word-id offsets and num_words included (cifar10: see the slow test below)."""
    from tests.keras_helpers import keras

    write_keras_file(cache, dataset)
    spec = Data(dataset=dataset, **ARGS.get(dataset, {}))
    ours = keras_datasets.load(spec)
    _keras_reads_offline(monkeypatch, cache.parent)
    (x_train, y_train), (x_test, y_test) = getattr(keras().datasets, dataset).load_data(
        **spec.keras_arguments()
    )
    for mine, keras_array in ((ours.x_train, x_train), (ours.y_train, y_train),
                              (ours.x_test, x_test), (ours.y_test, y_test)):  # fmt: skip
        _same(mine, keras_array)


@pytest.mark.slow
@pytest.mark.keras
def test_cifar10_reads_as_keras_does(cache, monkeypatch):
    """Keras' cifar10 reader fills exactly 5 x 10,000 training images: full-size batches."""
    from tests.keras_helpers import keras

    write_cifar(cache, "cifar10", n=10_000)
    ours = keras_datasets.load(Data(dataset="cifar10"))
    _keras_reads_offline(monkeypatch, cache.parent)
    (x_train, y_train), (x_test, y_test) = keras().datasets.cifar10.load_data()
    for mine, keras_array in ((ours.x_train, x_train), (ours.y_train, y_train),
                              (ours.x_test, x_test), (ours.y_test, y_test)):  # fmt: skip
        _same(mine, keras_array)


@pytest.mark.parametrize("extracted", [False, True], ids=["archive", "extracted"])
def test_cifar_from_the_archive_or_the_extracted_folder(cache, extracted):
    """Keras downloads <target>_archive and extracts it to <target>/: either is read, images
    channels last and labels as saved; cifar100 by fine or coarse label."""
    write_cifar(cache, "cifar10", n=4, extracted=extracted)
    arrays = keras_datasets.load(Data(dataset="cifar10"))
    assert arrays.x_train.shape == (20, 32, 32, 3) and arrays.x_test.shape == (4, 32, 32, 3)
    batch = pickle.loads(
        (cache / "cifar-10-batches-py-target" / "cifar-10-batches-py" / "data_batch_2").read_bytes()
    ) if extracted else None  # fmt: skip
    if batch is not None:
        images = batch[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        np.testing.assert_array_equal(arrays.x_train[4:8], images)
        assert arrays.y_train[4:8].tolist() == batch[b"labels"]
    write_cifar(cache, "cifar100", n=4, extracted=extracted)
    fine = keras_datasets.load(Data(dataset="cifar100"))
    coarse = keras_datasets.load(Data(dataset="cifar100", label_mode="coarse"))
    assert fine.x_train.shape == (20, 32, 32, 3)
    assert (coarse.y_train == fine.y_train // 5).all() and fine.y_train.max() >= 20


def test_specc_data_dir_holds_keras_files_too(tmp_path, monkeypatch):
    """$SPECC_DATA_DIR is looked in before Keras' cache, for Keras' own file names."""
    monkeypatch.setattr(data_mod, "keras_cache_dirs", lambda: [tmp_path / "cache"])
    monkeypatch.setenv("SPECC_DATA_DIR", str(tmp_path / "mine"))
    write_keras_file(tmp_path / "cache", "boston_housing")
    mine = write_keras_file(tmp_path / "mine", "boston_housing")
    assert keras_datasets.load(Data(dataset="boston_housing")).source == str(mine)


def test_imdb_is_padded_as_the_first_step_says(cache):
    write_keras_file(cache, "imdb")
    spec = Data.model_validate({"dataset": "imdb", "num_words": 200,
                                "preprocessing": {"x": [{"pad": 12}]}})  # fmt: skip
    arrays = data_mod.load(spec, None)
    raw = keras_datasets.load(spec)
    assert arrays.x_train.shape == (40, 12) and arrays.x_train.dtype == np.int32
    for padded, words in zip(arrays.x_train, raw.x_train, strict=True):
        kept = words[-12:]
        assert padded[12 - len(kept) :].tolist() == kept and not padded[: 12 - len(kept)].any()
    assert arrays.x_train.max() < 200 and (arrays.x_train[:, -1] > 0).all()


@pytest.mark.keras
def test_pad_is_keras_pad_sequences():
    from tests.keras_helpers import keras

    lists = data_mod.np.empty(4, dtype=object)
    lists[:] = [[1, 2, 3], [], list(range(1, 20)), [7]]
    for maxlen in (1, 5, 30):
        expected = keras().utils.pad_sequences(list(lists), maxlen=maxlen)
        np.testing.assert_array_equal(data_mod.pad_sequences(lists, maxlen), expected)
        square = np.arange(24).reshape(4, 6)
        np.testing.assert_array_equal(
            data_mod.pad_sequences(square, maxlen),
            keras().utils.pad_sequences(square, maxlen=maxlen),
        )


def test_absent_offline_is_one_line_naming_the_file_and_where(cache, monkeypatch, specc, tmp_path):
    """No folder holds the files and keras.datasets cannot download: one line, exit 1."""
    monkeypatch.setattr(keras_datasets, "download", REAL_DOWNLOAD)

    class Offline:
        def load_data(self, **kwargs):
            raise Exception(
                "URL fetch failure on https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz: "
                "None -- [Errno -3] Temporary failure in name resolution\nsecond line"
            )

    class Datasets:
        cifar10 = Offline()

    class FakeKeras:
        datasets = Datasets()

    monkeypatch.setattr("specc.backends.kerasenv.keras", lambda: FakeKeras())
    spec = tmp_path / "c.yaml"
    spec.write_text(
        "name: c\ndata:\n  dataset: cifar10\n  preprocessing: {x: [{cast: float32}]}\n"
        "model:\n  input: {shape: [32, 32, 3]}\n  layers:\n    - {type: Flatten}\n"
        "    - {type: Dense, units: 10, activation: softmax}\n"
        "compile: {optimizer: adam, loss: sparse_categorical_crossentropy}\n"
    )
    run = specc("train", str(spec), "--output-dir", str(tmp_path / "run"))
    assert run.exit_code == 1
    assert run.stderr == (
        "error: cifar10: not found offline, and keras.datasets could not download it "
        "(Exception: URL fetch failure on https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz: "
        "None -- [Errno -3] Temporary failure in name resolution); put "
        "cifar-10-batches-py-target_archive (from "
        f"https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz) in {cache} or "
        "$SPECC_DATA_DIR, or pass --data PATH to a .npz with x_train, y_train, x_test, y_test\n"
    )


@pytest.mark.parametrize(
    ("dataset", "damage", "message"),
    [
        ("fashion_mnist", "truncate", "fashion-mnist/train-labels-idx1-ubyte.gz: not a readable gzip file"),
        ("cifar10", "truncate", "cifar-10-batches-py-target_archive: not a readable .tar.gz"),
        ("imdb", "pickle", "imdb.npz: not a readable Keras dataset file (truncated or corrupt?): "
                           "refusing to load posix.system"),
        ("reuters", "keys", "reuters.npz: missing key(s) x (not Keras' file?)"),
    ],
)  # fmt: skip
def test_damaged_keras_files_are_one_line(cache, dataset, damage, message):
    first = write_keras_file(cache, dataset)
    if damage == "truncate":
        target = first / "train-labels-idx1-ubyte.gz" if first.is_dir() else first
        target.write_bytes(target.read_bytes()[:30])
    elif damage == "pickle":  # a gadget that would run a command when unpickled
        evil = np.empty(1, dtype=object)
        evil[0] = _Evil()
        np.savez(first, x_train=evil, y_train=np.zeros(1), x_test=evil, y_test=np.zeros(1))
    else:
        np.savez(first, y=np.zeros(3))
    with pytest.raises(data_mod.DataError) as caught:
        keras_datasets.load(Data(dataset=dataset))
    assert message in str(caught.value) and "\n" not in str(caught.value)


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned",))


@pytest.mark.keras
def test_specc_train_and_the_emitted_script_agree_on_a_keras_dataset(tmp_path, cache, specc):
    """fashion_mnist from Keras' cache (its files carry no hash, so Keras reads the synthetic
    ones offline too): specc train and the emitted script, one epoch, same seed, same test
    metrics."""
    from specc.analysis.pipeline import compile_file

    write_keras_file(cache, "fashion_mnist")
    spec = tmp_path / "fashion.yaml"
    spec.write_text(
        "name: fashion\ndata:\n  dataset: fashion_mnist\n  preprocessing:\n"
        "    x: [{reshape: [784]}, {cast: float32}, {divide: 255}]\n    y: [{one_hot: 10}]\n"
        "model:\n  input: {shape: [784]}\n  layers:\n"
        "    - {type: Dense, units: 10, activation: softmax}\n"
        "compile: {optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}\n"
        "training: {epochs: 1, batch_size: 16, validation_split: 0.25, seed: 3}\n"
    )
    run = specc("train", str(spec), "--output-dir", str(tmp_path / "specc"))
    assert run.exit_code == 0, run.stderr
    ours = json.loads((tmp_path / "specc" / "metrics.json").read_text())
    assert ours["data"] == str(cache / "fashion-mnist") and ours["train_samples"] == 64
    script = emit(compile_file(spec), tmp_path / "gen")
    proc = run_script(script, "--output-dir", str(tmp_path / "script"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    theirs = json.loads((tmp_path / "script" / "metrics.json").read_text())
    for key in ("test_loss", "test_accuracy"):
        assert math.isclose(ours[key], theirs[key], rel_tol=1e-5), (key, ours[key], theirs[key])


@pytest.mark.keras
def test_emitted_script_loads_keras_datasets_with_the_specs_arguments(tmp_path):
    from specc.analysis.pipeline import compile_file
    from tests.helpers import SPECS

    module = load_module(emit(compile_file(SPECS / "imdb_bilstm.yaml"), tmp_path))
    source = (tmp_path / "imdb_bilstm.py").read_text()
    assert "return keras.datasets.imdb.load_data(num_words=20000)" in source
    assert "x = keras.utils.pad_sequences(x, maxlen=200)" in source
    lists = np.empty(2, dtype=object)
    lists[:] = [[5, 6, 7], list(range(1, 300))]
    padded = module.preprocess_x(lists)
    assert padded.shape == (2, 200) and padded[0, -3:].tolist() == [5, 6, 7]
    assert padded[1, -1] == 299 and padded[1, 0] == 100
