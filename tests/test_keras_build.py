"""specc build: the Keras model equals the static table, and is saved atomically."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from typing import Annotated

import pytest
from pydantic import TypeAdapter

import specc
from specc.analysis.pipeline import compile_file
from specc.backends import keras_build
from specc.language import schema
from specc.layers import CATALOG
from tests.helpers import CASES, ROOT, SPECS, VALID_SPECS, with_weights_files
from tests.keras_helpers import keras, keras_rows, static_names, static_rows


@pytest.mark.parametrize(
    "path", VALID_SPECS, ids=lambda p: p.parent.name if p.name == "spec.yaml" else p.stem
)
def test_static_table_equals_keras(path, tmp_path, monkeypatch):
    with_weights_files(path, tmp_path, monkeypatch)
    compiled = compile_file(path)
    model = keras_build.build(compiled.spec, compiled.graph)
    assert keras_rows(model) == static_rows(compiled.graph)
    assert model.count_params() == compiled.graph.total_params
    assert (
        sum(int(w.numpy().size) for w in model.trainable_weights) == compiled.graph.trainable_params
    )
    assert model.name == compiled.spec.name


@pytest.mark.parametrize(
    "path", VALID_SPECS, ids=lambda p: p.parent.name if p.name == "spec.yaml" else p.stem
)
def test_automatic_names_equal_keras(path, tmp_path, monkeypatch):
    """Built without the resolved names, in a fresh session, Keras picks the same names."""
    with_weights_files(path, tmp_path, monkeypatch)
    compiled = compile_file(path)
    keras().backend.clear_session()
    model = keras_build.build(compiled.spec, compiled.graph, compile=False, keras_names=True)
    operations = getattr(model, "operations", model.layers)  # x + y: an operation, no layer
    assert [layer.name for layer in operations] == static_names(compiled.graph)


def test_blog_model_is_compiled_as_the_spec_says():
    model = specc.build_model(SPECS / "mnist_cnn.yaml")
    assert model.count_params() == 43290
    assert type(model.optimizer).__name__ == "RMSprop"
    assert model.loss == "categorical_crossentropy"
    dense = model.get_layer("dense")
    assert dense.kernel_regularizer.get_config() == {"l2": pytest.approx(0.001)}
    assert dense.activation.__name__ == "relu"


def test_optimizer_arguments_use_keras3_names(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "name: s\nmodel:\n  input: {shape: [4]}\n  layers: [{type: Dense, units: 2, activation: softmax}]\n"
        "compile:\n  optimizer: {type: RMSprop, learning_rate: 0.01, rho: 0.8}\n"
        "  loss: categorical_crossentropy\n"
    )
    model = specc.build_model(spec)
    config = model.optimizer.get_config()
    assert config["learning_rate"] == pytest.approx(0.01)
    assert config["rho"] == pytest.approx(0.8)


@pytest.mark.parametrize("cls", CATALOG.values(), ids=lambda c: c.__name__)
def test_schema_defaults_are_keras_defaults(cls):
    """Leaving an argument out of a spec must mean what leaving it out means in Keras."""
    keras_cls = keras_build.keras_class(keras(), cls)  # KERAS_PATH: keras.Sequential too
    params = inspect.signature(keras_cls.__init__).parameters
    call = inspect.signature(keras_cls.call).parameters  # CALL_ARGUMENTS: use_causal_mask
    for name, field in cls.model_fields.items():
        if name in ("type", "name", "trainable") or name in cls.SPEC_ONLY:
            continue  # SPEC_ONLY: read by specc (a lookup's adapt_samples), never passed
        if name in cls.CALL_ARGUMENTS:
            assert name not in params and name in call, name
            assert field.default == call[name].default, name
            continue
        assert name in params, f"{name} is not an argument of {keras_cls.__name__}"
        keras_default = params[name].default
        if field.is_required():
            assert keras_default is inspect.Parameter.empty, name
            continue
        ours = field.default
        if ours != keras_default and isinstance(keras_default, tuple):
            # Keras' literal in another form it accepts (ZeroPadding2D's (1, 1) for ((1, 1),
            # (1, 1))): it must mean our default once read as a spec value.
            spec_type = Annotated[(field.annotation, *field.metadata)]  # type: ignore[valid-type]
            keras_default = TypeAdapter(spec_type).validate_python(keras_default)
        if isinstance(ours, tuple) and not isinstance(keras_default, tuple | list):
            ours = ours[0] if len(set(ours)) == 1 else ours
        assert ours == (
            list(keras_default) if isinstance(keras_default, list) else keras_default
        ) or (isinstance(keras_default, tuple) and ours == keras_default), (
            f"{cls.__name__}.{name}: ours {field.default!r}, Keras {keras_default!r}"
        )


def test_vocabularies_are_known_to_keras():
    k = keras()
    for name in schema.ACTIVATIONS:
        assert k.activations.get(name) is not None
    for name in schema.INITIALIZERS:
        assert k.initializers.get(name) is not None
    for name in schema.LOSSES:
        assert k.losses.get(name) is not None
    for cls in schema.OPTIMIZER_CLASSES:
        assert hasattr(k.optimizers, cls.__name__)


@pytest.mark.keras
def test_build_cli_writes_model(specc, tmp_path):
    out = tmp_path / "out" / "m.keras"
    run = specc("build", str(SPECS / "mnist_cnn.yaml"), "-o", str(out))
    assert run.exit_code == 0, run.stderr
    assert f"wrote {out} (43,290 params)" in run.stdout
    loaded = keras().saving.load_model(out, compile=False)
    assert loaded.count_params() == 43290
    assert [layer.name for layer in loaded.layers][-1] == "dense_1"
    assert sorted(os.listdir(out.parent)) == ["m.keras"]  # no temp file left behind


@pytest.mark.keras
def test_built_model_loads_without_optimizer_warnings(specc, tmp_path):
    """Saved with an unbuilt optimizer, loading warned "Skipping variable loading for optimizer"."""
    import warnings

    out = tmp_path / "m.keras"
    assert specc("build", str(SPECS / "mnist_cnn.yaml"), "-o", str(out)).exit_code == 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = keras().saving.load_model(out)  # compiled, optimizer included
    assert [str(w.message) for w in caught if "optimizer" in str(w.message)] == []
    assert loaded.optimizer.built and int(loaded.optimizer.iterations.numpy()) == 0
    assert type(loaded.optimizer).__name__ == "RMSprop"


@pytest.mark.keras
def test_build_default_output(specc, tmp_path):
    run = specc("build", str(SPECS / "mnist_cnn.yaml"), cwd=tmp_path)
    assert run.exit_code == 0, run.stderr
    assert (tmp_path / "build" / "mnist_cnn.keras").is_file()


def test_invalid_spec_builds_nothing(specc, tmp_path):
    out = tmp_path / "m.keras"
    run = specc("build", str(CASES / "negative_filters" / "spec.yaml"), "-o", str(out))
    assert run.exit_code == 1
    assert "must be greater than 0" in run.stderr
    assert not out.exists()


def test_build_output_must_be_keras(specc, tmp_path):
    run = specc("build", str(SPECS / "mnist_cnn.yaml"), "-o", str(tmp_path / "m.h5"))
    assert run.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_failed_save_leaves_no_file_and_keeps_old(tmp_path, monkeypatch):
    compiled = compile_file(SPECS / "mnist_cnn.yaml")
    model = keras_build.build(compiled.spec, compiled.graph)
    target = tmp_path / "m.keras"
    target.write_bytes(b"previous model")
    real_save = type(model).save

    def broken_save(self, path, *args, **kwargs):
        real_save(self, path, *args, **kwargs)  # a partial/complete temp file exists...
        raise OSError("disk full")  # ...then the write fails

    monkeypatch.setattr(type(model), "save", broken_save)
    with pytest.raises(OSError):
        keras_build.save(model, target)
    assert target.read_bytes() == b"previous model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]


@pytest.mark.keras
def test_build_runs_under_every_installed_backend():
    """The builder is backend-agnostic: build the blog model under each installed backend."""
    import importlib.util

    backends = [b for b in ("tensorflow", "jax", "torch") if importlib.util.find_spec(b)]
    assert "tensorflow" in backends
    for backend in backends:
        proc = subprocess.run(
            [sys.executable, "-c", "import specc; print(specc.build_model('specs/mnist_cnn.yaml').count_params())"],
            capture_output=True, text=True, cwd=ROOT, env={**os.environ, "KERAS_BACKEND": backend},
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert proc.stdout.strip() == "43290", backend
