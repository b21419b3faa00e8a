"""specc import: saved Sequential models back to specs (round trip spec -> build -> import),
and the saved files, configs and arguments it refuses, one line each."""

from __future__ import annotations

import json
import re
import zipfile
from typing import Any

import pytest
import yaml

from specc.analysis.pipeline import compile_file, compile_text
from specc.backends import keras_build, table
from tests.helpers import SPECS, VALID_SPECS, with_weights_files
from tests.keras_helpers import keras


def _saved(path, tmp_path):
    keras().backend.clear_session()  # Keras' names as a fresh process gives them
    compiled = compile_file(path)
    model = keras_build.build(compiled.spec, compiled.graph)
    target = tmp_path / f"{compiled.spec.name}.keras"
    keras_build.save(model, target)
    return compiled, target


@pytest.mark.parametrize(
    "path",
    VALID_SPECS,
    ids=lambda p: p.parent.name if p.name == "spec.yaml" else p.stem,
)
def test_round_trip(path, tmp_path, specc, monkeypatch):
    with_weights_files(path, tmp_path, monkeypatch)
    original, saved = _saved(path, tmp_path)
    out = tmp_path / "imported.yaml"
    run = specc("import", str(saved), "-o", str(out))
    assert run.exit_code == 0, run.stderr
    imported = compile_file(out)
    assert imported.spec.name == original.spec.name
    assert _inputs(imported) == _inputs(original)
    assert table.as_dict(imported.graph) == table.as_dict(original.graph)
    # The same model, whatever form each argument takes (`l2` or `{l2: 0.01}`, `3` or
    # `[3, 3]`): Keras builds the very same layers and compiles them the same way.
    assert _built(imported) == _built(original)


def _inputs(compiled) -> list[tuple[Any, ...]]:
    """The model's inputs, one form for both ways of writing one (``input:`` or a list of
    one under ``inputs:``, which the import writes as ``input:``)."""
    model = compiled.spec.model
    given = [model.input] if model.input is not None else list(model.inputs or [])
    return [(list(i.shape), i.dtype, i.name) for i in given]


def _built(compiled):
    k = keras()
    k.backend.clear_session()  # optimizer names count per session
    model = keras_build.build(compiled.spec, compiled.graph)
    return model.name, [layer.get_config() for layer in model.layers], model.get_compile_config()


def test_import_omits_keras_defaults(tmp_path, specc):
    _, saved = _saved(SPECS / "mnist_cnn.yaml", tmp_path)
    run = specc("import", str(saved))
    assert run.exit_code == 0, run.stderr
    text = run.stdout
    assert "- {type: Conv2D, filters: 32, kernel_size: 3, padding: same, activation: relu}" in text
    assert "- {type: Dense, units: 128, activation: relu, kernel_regularizer: {l2: 0.001}}" in text
    for default in ("use_bias", "strides", "glorot_uniform", "name:", "trainable"):
        assert default not in text.split("model:")[1]
    assert "optimizer: rmsprop" in text
    compile_text(text)  # and it is a valid spec


def test_import_keeps_non_automatic_names(tmp_path, specc):
    k = keras()
    k.backend.clear_session()  # Keras' name counters are global to the process
    model = k.Sequential(
        [k.Input((4,)), k.layers.Dense(3, name="hidden"), k.layers.Dense(2)], name="named"
    )
    model.save(tmp_path / "m.keras")
    run = specc("import", str(tmp_path / "m.keras"))
    assert run.exit_code == 0, run.stderr
    assert "- {type: Dense, name: hidden, units: 3}" in run.stdout
    assert "- {type: Dense, units: 2}" in run.stdout


def test_branching_functional_model_imports_as_a_graph(tmp_path, specc):
    """Once refused as "not a plain chain"; graphs are in test_import_functional.py."""
    k = keras()
    k.backend.clear_session()
    inputs = k.Input((4,))
    hidden = k.layers.Dense(3)(inputs)
    outputs = k.layers.Add()([hidden, k.layers.Dense(3)(inputs)])
    k.Model(inputs, outputs, name="branchy").save(tmp_path / "f.keras")
    run = specc("import", str(tmp_path / "f.keras"))
    assert run.exit_code == 0, run.stderr
    assert run.stdout.endswith(
        "  layers:\n"
        "    - {type: Dense, units: 3}\n"
        "    - {type: Dense, units: 3, inputs: [input_layer]}\n"
        "    - {type: Add, inputs: [dense, dense_1]}\n"
    )


def test_unsupported_layer_is_named(tmp_path, specc):
    k = keras()
    model = k.Sequential([k.Input((5, 3)), k.layers.Masking(name="mask"), k.layers.Dense(2)])
    model.save(tmp_path / "g.keras")
    run = specc("import", str(tmp_path / "g.keras"))
    assert run.exit_code == 1
    assert "error: layers[0] (mask): layer type Masking is not supported by specc\n" in run.stderr


def test_application_layers_import_from_their_module_only(tmp_path, specc):
    """ConvNeXt's LayerScale, as keras.applications saves it (module
    keras.src.applications.convnext), imports; a class of that name saved from another
    module is not the layer specc knows, and is refused, naming both."""
    from keras.src.applications.convnext import LayerScale, StochasticDepth

    k = keras()
    model = k.Sequential(
        [k.Input((5, 3)), LayerScale(0.1, 3), StochasticDepth(0.2, name="drop_path")]
    )
    model.save(tmp_path / "s.keras")
    run = specc("import", str(tmp_path / "s.keras"))
    assert run.exit_code == 0, run.stderr
    assert "- {type: LayerScale, init_values: 0.1, projection_dim: 3}" in run.stdout
    assert "- {type: StochasticDepth, name: drop_path, drop_path_rate: 0.2}" in run.stdout
    moved = _edited(
        tmp_path / "s.keras",
        tmp_path / "m.keras",
        '"keras.layers"',
        "config",
        "layers",
        1,
        "module",
    )
    run = specc("import", str(moved))
    assert run.exit_code == 1
    assert run.stderr.endswith(
        "error: layers[0] (layer_scale): LayerScale from module keras.layers is not "
        "keras.src.applications.convnext.LayerScale, the layer specc knows by that name\n"
    )


def test_unsupported_argument_is_named(tmp_path, specc):
    k = keras()
    model = k.Sequential(
        [k.Input((3, 8, 8)), k.layers.Conv2D(2, 3, data_format="channels_first", name="c")]
    )
    model.save(tmp_path / "c.keras")
    run = specc("import", str(tmp_path / "c.keras"))
    assert run.exit_code == 1
    assert run.stderr.endswith(
        "error: layers[0] (c): argument data_format='channels_first' is not supported by specc\n"
    )


def test_import_bad_files(tmp_path, specc):
    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"\x00not a zip")
    assert specc("import", str(junk)).exit_code == 1
    assert specc("import", str(tmp_path / "missing.keras")).exit_code == 2


# -- hostile archives: checked before Keras reads them, one line, exit 1 -----------------
def _rewrite(saved, target, *, config=None, extra=(), compression=zipfile.ZIP_STORED):
    """A copy of ``saved`` with config.json replaced (raw bytes) and extra members added."""
    with zipfile.ZipFile(saved) as src, zipfile.ZipFile(target, "w", compression) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "config.json" and config is not None:
                data = config
            dst.writestr(info.filename, data)
        for name, data in extra:
            dst.writestr(name, data)
    return target


def _with_compile_config(saved, target, compile_config):
    with zipfile.ZipFile(saved) as zf:
        config = json.loads(zf.read("config.json"))
    config["compile_config"] = compile_config
    return _rewrite(saved, target, config=json.dumps(config).encode())


@pytest.fixture(scope="module")
def saved_blog(tmp_path_factory):
    return _saved(SPECS / "mnist_cnn.yaml", tmp_path_factory.mktemp("blog"))[1]


@pytest.mark.parametrize(
    ("compile_config", "message"),
    [
        ("adam", "compile_config must be an object with optimizer, loss and metrics, not a string ('adam')"),
        ({"config": None}, "compile_config.config must be an object, not null"),
        ({"optimizer": {"class_name": "Adam"}, "loss": "mse"}, "compile_config.optimizer.config must be an object, not null"),
        ({"optimizer": {"config": {}}, "loss": "mse"}, "compile_config.optimizer.class_name must be a string, not null"),
        ({"optimizer": 3, "loss": "mse"}, "compile_config.optimizer must be a name or {class_name, config}, not a number (3)"),
        ({"optimizer": {"class_name": "Adam", "config": []}, "loss": "mse"}, "compile_config.optimizer.config must be an object, not an array"),
        ({"optimizer": "adam", "loss": ["mse"]}, "compile_config.loss is an array (one loss per output); a spec gives a loss per output by the output's name"),
        ({"optimizer": "adam", "loss": "mse", "metrics": "accuracy"}, "compile_config.metrics must be a list of metrics, not a string ('accuracy')"),
        ({"optimizer": "adam", "loss": "mse", "metrics": [{"a": 1}]}, "compile_config.metrics[0] must be a metric name or a serialised Keras object, not an object"),
    ],
)  # fmt: skip
def test_hostile_compile_config(saved_blog, tmp_path, specc, compile_config, message):
    bad = _with_compile_config(saved_blog, tmp_path / "bad.keras", compile_config)
    run = specc("import", str(bad))
    assert run.exit_code == 1 and run.stdout == ""
    assert run.stderr == f"{bad}:1:1: error: config.json: {message}\n"


def test_compile_config_null_means_no_compile_section(saved_blog, tmp_path, specc):
    ok = _with_compile_config(saved_blog, tmp_path / "ok.keras", None)
    run = specc("import", str(ok))
    assert run.exit_code == 0, run.stderr
    assert "compile:" not in run.stdout and "model:" in run.stdout


def test_huge_config_json_is_refused_without_reading_it(saved_blog, tmp_path):
    """20 MiB of config.json deflates to ~20 KiB; the cap is checked on the zip index."""
    import tracemalloc

    from specc.backends import importer
    from specc.errors import SpecError

    with zipfile.ZipFile(saved_blog) as zf:
        config = zf.read("config.json") + b" " * (20 * 2**20)
    big = _rewrite(saved_blog, tmp_path / "big.keras", config=config,
                   compression=zipfile.ZIP_DEFLATED)  # fmt: skip
    assert big.stat().st_size < 400_000
    tracemalloc.start()
    try:
        with pytest.raises(SpecError) as caught:
            importer.import_model(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(caught.value) == (
        f"{big}:1:1: error: config.json is 20.0 MiB; specc reads model configs up to 16.0 MiB"
    )
    assert peak < 4 * 2**20, peak  # nothing near the 20 MiB was read


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([(f"assets/{i}", b"") for i in range(100)], "the archive has 103 members; a Keras model has 3 \\(specc reads at most 64\\)"),
        ([("assets/zeros", b"\0" * (8 * 2**20))], r"assets/zeros declares 8.0 MiB unpacked from 8.\d KiB stored: refusing a possible decompression bomb"),
    ],
    ids=["many members", "bomb member"],
)  # fmt: skip
def test_archive_bounds_are_checked_before_keras_loads_it(saved_blog, tmp_path, specc, extra, message):  # fmt: skip
    bad = _rewrite(
        saved_blog, tmp_path / "bad.keras", extra=extra, compression=zipfile.ZIP_DEFLATED
    )
    run = specc("import", str(bad))
    assert run.exit_code == 1
    assert re.fullmatch(f"{re.escape(str(bad))}:1:1: error: {message}\n", run.stderr), run.stderr


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (b"[1, 2]", "config.json must hold a JSON object, not an array"),
        (b"{\"a\": ", "config.json is not valid JSON (Expecting value: line 1 column 7 (char 6))"),
        (b"\xff\xfe{}", "config.json is not UTF-8 text"),
        (b"[" * 200_000 + b"]" * 200_000, "config.json nests too deeply"),
    ],
)  # fmt: skip
def test_bad_config_json(saved_blog, tmp_path, specc, config, message):
    bad = _rewrite(saved_blog, tmp_path / "bad.keras", config=config)
    run = specc("import", str(bad))
    assert (run.exit_code, run.stderr) == (1, f"{bad}:1:1: error: {message}\n")


def _functional_config(**changes: Any) -> bytes:
    """A Functional model's config.json (Input -> Dense), with ``changes`` to its config."""
    tensor = {"class_name": "__keras_tensor__", "config": {"keras_history": ["x", 0, 0]}}
    dense = {
        "module": "keras.layers", "class_name": "Dense", "registered_name": None,
        "name": "dense", "config": {"name": "dense", "units": 2},
        "inbound_nodes": [{"args": [tensor], "kwargs": {}}],
    }  # fmt: skip
    inputs = {
        "module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
        "name": "x", "config": {"name": "x", "batch_shape": [None, 3]}, "inbound_nodes": [],
    }  # fmt: skip
    config = {
        "name": "f", "layers": [inputs, dense],
        "input_layers": [["x", 0, 0]], "output_layers": [["dense", 0, 0]],
    }  # fmt: skip
    config.update(changes)
    return json.dumps({"class_name": "Functional", "config": config}).encode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"output_layers": [["dense", "0", 0]]}, "output ['dense', '0', 0] is not a layer of the model"),
        ({"output_layers": [["dense", 1, 0]]}, "output ['dense', 1, 0] is not a layer of the model"),
        ({"input_layers": [["dense", 0, 0]]}, "input_layers [['dense', 0, 0]] are not the model's inputs"),
        ({"input_layers": 7}, "input_layers [7] are not the model's inputs"),
    ],
)  # fmt: skip
def test_hostile_functional_config(saved_blog, tmp_path, specc, changes, message):
    """Every field of a graph's config is checked before use: one line, never a traceback."""
    bad = _rewrite(saved_blog, tmp_path / "bad.keras", config=_functional_config(**changes))
    run = specc("import", str(bad))
    assert (run.exit_code, run.stderr) == (1, f"{bad}:1:1: error: config.json: {message}\n")


def test_functional_config_as_written_imports(saved_blog, tmp_path, specc):
    good = _rewrite(saved_blog, tmp_path / "good.keras", config=_functional_config())
    run = specc("import", str(good))
    assert run.exit_code == 0, run.stderr
    assert "    name: x\n" in run.stdout and "    - {type: Dense, units: 2}\n" in run.stdout


# -- layers inside layers, written in plain Keras code (ported from fam-seq) -----------------
def _import(model, tmp_path, specc):
    model.save(tmp_path / "m.keras")
    return specc("import", str(tmp_path / "m.keras"))


def _summary_equals_keras(model, spec_text, tmp_path, specc, monkeypatch):
    """``specc summary`` of the imported spec prints Keras' own summary of ``model``."""
    from tests.corpus.make_expected import SUMMARY_COLUMNS, summary_text

    spec = tmp_path / "imported.yaml"
    spec.write_text(spec_text)
    monkeypatch.setenv("COLUMNS", SUMMARY_COLUMNS)
    run = specc("summary", str(spec))
    assert run.exit_code == 0, run.stderr
    assert run.stdout == summary_text(model)


def test_import_of_plain_keras_code_keeps_only_explicit_names(tmp_path, specc):
    k = keras()
    k.backend.clear_session()
    L = k.layers
    augment = k.Sequential([L.RandomFlip("horizontal"), L.RandomRotation(0.1)])
    model = k.Sequential(
        [
            k.Input((16, 16, 3)),
            augment,
            L.Rescaling(1.0 / 255),
            L.Reshape((16, 48)),
            L.Bidirectional(L.GRU(4, name="encoder")),
            L.Dense(2, activation="softmax"),
        ],
        name="plain",
    )
    run = _import(model, tmp_path, specc)
    assert run.exit_code == 0, run.stderr
    assert (
        "    - type: Sequential\n"
        "      layers:\n"
        "        - {type: RandomFlip, mode: horizontal}\n"
        "        - {type: RandomRotation, factor: 0.1}\n"
    ) in run.stdout
    assert "- {type: Rescaling, scale: 0.00392156862745098}" in run.stdout
    assert "- {type: Bidirectional, layer: {type: GRU, name: encoder, units: 4}}" in run.stdout
    imported = compile_text(run.stdout)
    assert [layer.name for layer in imported.graph.layers] == [layer.name for layer in model.layers]


def test_nested_images_model_imports_to_keras_summary(tmp_path, specc, monkeypatch):
    """Inner layers take automatic names first (``Bidirectional(LSTM(5))`` uses up ``lstm``,
    a nested block's layers are named before the block): no name is written, yet every
    row of specc's summary is Keras'."""
    k = keras()
    k.backend.clear_session()
    L = k.layers
    model = k.Sequential(
        [
            k.Input((12, 12, 3)),
            k.Sequential([L.RandomFlip("horizontal"), L.RandomRotation(0.1), L.RandomZoom(0.1)]),
            L.Rescaling(1.0 / 255),
            L.Normalization(mean=[0.5, 0.4, 0.3], variance=[0.1, 0.2, 0.3]),
            L.Conv2D(4, 3, activation="relu"),
            L.TimeDistributed(L.Flatten()),
            L.Bidirectional(L.LSTM(5, return_sequences=True)),
            L.Bidirectional(L.GRU(3), merge_mode="sum"),
            L.Dense(2, activation="softmax"),
        ],
        name="nested_images",
    )
    run = _import(model, tmp_path, specc)
    assert run.exit_code == 0, run.stderr
    assert "name:" not in run.stdout.split("layers:", 1)[1]
    assert "- {type: TimeDistributed, layer: {type: Flatten}}" in run.stdout
    assert "- {type: Bidirectional, layer: {type: GRU, units: 3}, merge_mode: sum}" in run.stdout
    assert "- {type: Normalization, mean: [0.5, 0.4, 0.3], variance: [0.1, 0.2, 0.3]}" in run.stdout
    _summary_equals_keras(model, run.stdout, tmp_path, specc, monkeypatch)


def test_recurrent_states_model_imports_to_keras_summary(tmp_path, specc, monkeypatch):
    """Unknown time steps, an adapted Normalization, ConvLSTM1D, return_sequences, an
    explicit name and a last layer with return_state (three outputs)."""
    k = keras()
    k.backend.clear_session()
    L = k.layers
    model = k.Sequential(
        [
            k.Input((None, 10, 2)),
            L.Normalization(),
            L.ConvLSTM1D(3, 3, return_sequences=True),
            L.TimeDistributed(L.Flatten()),
            L.LSTM(6, return_sequences=True, name="encoder"),
            L.SimpleRNN(3, return_state=True),
        ],
        name="states",
    )
    run = _import(model, tmp_path, specc)
    assert run.exit_code == 0, run.stderr
    assert "- {type: Normalization}\n" in run.stdout  # adapted at train time
    assert "- {type: LSTM, name: encoder, units: 6, return_sequences: true}" in run.stdout
    assert "- {type: SimpleRNN, units: 3, return_state: true}" in run.stdout
    _summary_equals_keras(model, run.stdout, tmp_path, specc, monkeypatch)


def test_import_of_conv_lstm_2d_with_null_merge_mode(tmp_path, specc, monkeypatch):
    k = keras()
    k.backend.clear_session()
    L = k.layers
    model = k.Sequential(
        [
            k.Input((4, 8, 8, 1)),
            L.ConvLSTM2D(2, 3, padding="same", return_sequences=True),
            L.TimeDistributed(L.GlobalAveragePooling2D()),
            L.Bidirectional(L.SimpleRNN(2, return_sequences=True), merge_mode=None),
        ],
        name="unmerged",
    )
    run = _import(model, tmp_path, specc)
    assert run.exit_code == 0, run.stderr
    assert "merge_mode: null" in run.stdout
    _summary_equals_keras(model, run.stdout, tmp_path, specc, monkeypatch)


def test_import_of_layers_frozen_after_construction(tmp_path, specc):
    """``block.trainable = False`` freezes the inner layers: the spec says so on them."""
    k = keras()
    k.backend.clear_session()
    block = k.Sequential([k.layers.Dense(3), k.layers.Dense(2)])
    block.trainable = False
    model = k.Sequential([k.Input((4,)), block, k.layers.Dense(1)], name="frozen")
    run = _import(model, tmp_path, specc)
    assert run.exit_code == 0, run.stderr
    assert "- {type: Dense, units: 3, trainable: false}" in run.stdout
    assert "trainable: false}\n    - {type: Dense, units: 1}" in run.stdout
    assert "Sequential, trainable" not in run.stdout
    imported = compile_text(run.stdout)
    assert imported.graph.trainable_params == 2 + 1
    assert imported.graph.non_trainable_params == 15 + 8


def test_import_refuses_what_keras_does_not_freeze(tmp_path, specc):
    """Keras 3.15: ``trainable=False`` given to a wrapper's constructor freezes nothing
    inside, and fit trains the inner weights; the imported spec is refused with the reason."""
    k = keras()
    k.backend.clear_session()
    model = k.Sequential(
        [k.Input((5, 2)), k.layers.Bidirectional(k.layers.LSTM(2), trainable=False)], name="b"
    )
    assert sum(w.numpy().size for w in model.trainable_weights) == 2 * 40  # still trainable
    run = _import(model, tmp_path, specc)
    assert run.exit_code == 1
    assert "does not freeze the layers inside it" in run.stderr


def test_import_refuses_an_explicit_backward_layer(tmp_path, specc):
    """A backward layer written by hand: one line, naming it; the forward layer is not
    reported again as an unsupported argument."""
    k = keras()
    k.backend.clear_session()
    L = k.layers
    backward = L.LSTM(3, go_backwards=True, activation="relu")  # constructed first: 'lstm'
    model = k.Sequential(
        [k.Input((5, 2)), L.Bidirectional(L.LSTM(3), backward_layer=backward)], name="b"
    )
    run = _import(model, tmp_path, specc)
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        f"{tmp_path / 'm.keras'}:1:1: error: layers[0] (bidirectional): a backward_layer of "
        "its own is not supported by specc ('lstm' is not the mirror of layer that Keras "
        "makes when backward_layer is not given); leave backward_layer out\n"
    )


def test_import_refuses_a_mirrored_backward_layer_that_took_a_name(tmp_path, specc):
    """Even an exact mirror, written by hand, took an automatic name (``lstm_1``) that
    the spec would give to the next LSTM: refused, not silently renamed."""
    k = keras()
    k.backend.clear_session()
    L = k.layers
    model = k.Sequential(
        [
            k.Input((5, 2)),
            L.Bidirectional(L.LSTM(3), backward_layer=L.LSTM(3, go_backwards=True)),
        ],
        name="b",
    )
    run = _import(model, tmp_path, specc)
    assert run.exit_code == 1
    assert "a backward_layer of its own is not supported by specc ('lstm_1'" in run.stderr


def test_import_of_null_initializer_and_loss_object_metric(tmp_path, specc):
    """As the TensorFlow tutorials write them: ``Dense(bias_initializer=None)`` (Keras
    falls back to glorot_uniform) and a loss object among the metrics."""
    k = keras()
    k.backend.clear_session()
    model = k.Sequential([k.Input((4,)), k.layers.Dense(1, bias_initializer=None)], name="tutorial")
    model.compile(
        loss=k.losses.BinaryCrossentropy(from_logits=True),
        metrics=[k.losses.BinaryCrossentropy(from_logits=True, name="bce"), "accuracy"],
    )
    run = _import(model, tmp_path, specc)
    assert run.exit_code == 0, run.stderr
    assert "- {type: Dense, units: 1, bias_initializer: null}" in run.stdout
    assert (
        "metrics: [{type: losses.BinaryCrossentropy, name: bce, from_logits: true}, accuracy]"
        in run.stdout
    )
    imported = compile_text(run.stdout)
    built = keras_build.build(imported.spec, imported.graph)
    assert built.layers[0].get_config()["bias_initializer"] is None
    assert built.get_compile_config()["metrics"] == model.get_compile_config()["metrics"]


CARRIED = ("description", "data", "training", "runtime")
"""Sections a .keras file does not hold: a round trip carries them over from the spec."""


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda p: p.stem)
def test_diff_of_a_spec_and_its_import_is_no_difference(path, tmp_path, specc, monkeypatch):
    """``specc diff`` compares resolved values: the Keras defaults the import leaves out
    (``pool_size: 2``), the blocks it expands and the labels it renames are no difference."""
    with_weights_files(path, tmp_path, monkeypatch)
    original, saved = _saved(path, tmp_path)
    out = tmp_path / "imported.yaml"
    assert specc("import", str(saved), "-o", str(out)).exit_code == 0
    spec = yaml.safe_load(out.read_text())
    written = original.written().data
    spec |= {key: written[key] for key in CARRIED if key in written}
    round_trip = tmp_path / "round_trip.yaml"
    round_trip.write_text(yaml.safe_dump(spec, sort_keys=False))
    run = specc("diff", str(path), str(round_trip), "--format", "json")
    assert run.exit_code == 0, run.stderr
    result = json.loads(run.stdout)
    assert (result["same"], result["values"], result["layers"]) == (True, [], [])


# -- values Keras' loader refuses, and numbers beyond range: one line, nothing else -------
@pytest.fixture(scope="module")
def saved_small(tmp_path_factory):
    """A tiny model to edit: Input(6, 4) -> LSTM(3, return_sequences) -> Dense(2) -> Dropout,
    with an Adam optimizer (``layers[i]`` counts the layers after the input)."""
    k = keras()
    k.backend.clear_session()
    model = k.Sequential(
        [
            k.Input((6, 4)),
            k.layers.LSTM(3, return_sequences=True),
            k.layers.Dense(2),
            k.layers.Dropout(0.5),
        ],
        name="small",
    )
    model.compile(optimizer="adam", loss="mse")
    path = tmp_path_factory.mktemp("small") / "small.keras"
    model.save(path)
    return path


def _edited(saved, target, raw: str, *where: str | int) -> Any:
    """A copy of ``saved`` whose config.json holds the JSON text ``raw`` at ``where`` (a
    path from the top: raw text says what json.dumps cannot, 1e400 or a 5000-digit int)."""
    with zipfile.ZipFile(saved) as zf:
        config = json.loads(zf.read("config.json"))
    node = config
    for part in where[:-1]:
        node = node[part]
    node[where[-1]] = "\0PLACE\0"
    text = json.dumps(config).replace(json.dumps("\0PLACE\0"), raw)
    return _rewrite(saved, target, config=text.encode())


def _import_quietly(path, specc):
    """``specc import`` with every warning recorded (pytest would hide them from stderr)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = specc("import", str(path))
    assert [str(w.message) for w in caught] == []
    return run


def _layer(i: int, key: str) -> tuple[str | int, ...]:
    return ("config", "layers", i + 1, "config", key)  # + 1: the InputLayer comes first


@pytest.mark.parametrize("raw", ["1", "0", "1.0", "0.0", '"true"', '"false"', "null", "[]"])
def test_trainable_that_keras_refuses_is_refused(saved_small, tmp_path, specc, raw):
    """Keras' Layer takes only a boolean ``trainable`` ("Expected `trainable` to be a
    boolean"), so its loader refuses the file; import refused ``false`` only and read
    anything else (``1``, ``"false"``) as trainable."""
    bad = _edited(saved_small, tmp_path / "bad.keras", raw, *_layer(1, "trainable"))
    with pytest.raises(Exception, match="Expected `trainable` to be a boolean"):
        keras().saving.load_model(bad)
    run = _import_quietly(bad, specc)
    shown = {"null": "None", '"true"': "'true'", '"false"': "'false'"}.get(raw, raw)
    assert (run.exit_code, run.stdout) == (1, "")
    assert run.stderr == (
        f"{bad}:1:1: error: layers[1] (dense): trainable={shown} is refused by Keras' loader: "
        "trainable must be true or false\n"
    )


@pytest.mark.parametrize(
    ("where", "raw", "message"),
    [
        (_layer(1, "use_bias"), "1", "layers[1] (dense): argument use_bias=1 is not supported by specc: must be true or false (got 1)"),
        (_layer(0, "return_sequences"), "0", "layers[0] (lstm): argument return_sequences=0 is not supported by specc: must be true or false (got 0)"),
        (_layer(0, "go_backwards"), "0", "layers[0] (lstm): argument go_backwards=0 is not supported by specc: must be true or false (got 0)"),
        (_layer(0, "unroll"), "0.0", "layers[0] (lstm): argument unroll=0.0 is not supported by specc: must be true or false (got 0.0)"),
        (("compile_config", "optimizer", "config", "amsgrad"), "0", "the spec made from it is invalid: compile.optimizer.amsgrad: must be true or false (got 0)"),
    ],
    ids=["use_bias 1", "return_sequences 0", "go_backwards 0", "unroll 0.0", "amsgrad 0"],
)  # fmt: skip
def test_a_number_where_keras_wants_a_boolean_is_not_read_as_one(
    saved_small, tmp_path, specc, where, raw, message
):
    """``1 == True`` in Python: a 1 or 0 where Keras' default is a boolean was taken for the
    default and dropped, so ``use_bias: 1`` imported silently (and ``use_bias: 0`` was
    refused). Keras keeps the number itself; a spec says booleans, so both are refused."""
    bad = _edited(saved_small, tmp_path / "bad.keras", raw, *where)
    run = _import_quietly(bad, specc)
    assert (run.exit_code, run.stderr) == (1, f"{bad}:1:1: error: {message}\n")


@pytest.mark.parametrize(
    ("where", "raw", "message"),
    [
        (_layer(1, "units"), "1e300", "layers[1] (dense): argument units=1e+300 is not supported by specc: must be an integer (got 1e+300)"),
        (_layer(2, "rate"), "-1e300", "layers[2] (dropout): argument rate=-1e+300 is not supported by specc: must be at least 0.0 (got -1e+300)"),
        (_layer(2, "rate"), "1e400", "layers[2] (dropout): argument rate=inf is not supported by specc: must be a finite number (got inf)"),
        (_layer(1, "units"), "1" + "0" * 40, f"layers[1] (dense): argument units=1{'0' * 40} is not supported by specc: must be at most 9223372036854775807 (got 1{'0' * 36}...)"),
        (("compile_config", "optimizer", "config", "learning_rate"), "1e300", "the spec made from it is invalid: compile.optimizer.learning_rate: must be a finite number within float32's range, which Keras computes in (at most 3.4028235e+38 in size; got 1e+300)"),
        (_layer(1, "units"), "9" * 5000, "config.json holds an integer of more than 4300 digits, which Python's JSON reader (and so Keras' loader) refuses"),
    ],
    ids=["units 1e300", "rate -1e300", "rate 1e400", "units 10**40", "learning_rate 1e300", "5000 digits"],
)  # fmt: skip
def test_numbers_beyond_range_are_one_line_without_a_warning(
    saved_small, tmp_path, specc, where, raw, message
):
    """A float beyond float32's range made numpy warn "overflow encountered in cast" (with
    a source line) on stderr before the error; an integer of 5000 digits was a traceback."""
    bad = _edited(saved_small, tmp_path / "bad.keras", raw, *where)
    run = _import_quietly(bad, specc)
    assert (run.exit_code, run.stderr) == (1, f"{bad}:1:1: error: {message}\n")
