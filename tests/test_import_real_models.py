"""specc import of what real models hold: Keras objects, open dimensions, input dtypes and
names, model names that are no identifier, Functional chains, and every problem at once."""

from __future__ import annotations

import copy
import json
import zipfile

import pytest

from specc.analysis.pipeline import compile_file, compile_text
from specc.backends import codegen, importer, keras_build, table
from specc.errors import SpecError
from tests.emitted import emit, load_module
from tests.keras_helpers import keras


def _save(model, tmp_path, name="m.keras"):
    path = tmp_path / name
    model.save(path)
    return path


def _fresh():
    k = keras()
    k.backend.clear_session()  # Keras' automatic names count per process
    return k


def _import(specc, path):
    run = specc("import", str(path))
    assert run.exit_code == 0, run.stderr
    return run.stdout


def test_keras_objects_become_spec_values(tmp_path, specc):
    """Initializers, regularizers and constraints by name where the object is the one the
    name stands for, else ``{type: ...}``; losses, metrics and schedules as objects;
    strings stay as Keras wrote them; loss_weights and weighted_metrics kept."""
    k = _fresh()
    model = k.Sequential(
        [
            k.Input((8,)),
            k.layers.Dense(
                16,
                activation="relu",
                kernel_initializer=k.initializers.HeNormal(seed=1),
                bias_initializer="he_normal",
                kernel_regularizer=k.regularizers.L2(0.01),
                bias_regularizer=k.regularizers.L1L2(l1=0.001, l2=0.002),
                activity_regularizer=k.regularizers.L1(0.003),
                kernel_constraint=k.constraints.MaxNorm(3),
                bias_constraint="non_neg",
            ),
            k.layers.Dense(4, kernel_initializer=k.initializers.RandomNormal(stddev=0.1)),
        ]
    )
    schedule = k.optimizers.schedules.ExponentialDecay(0.01, decay_steps=100, decay_rate=0.9)
    model.compile(
        optimizer=k.optimizers.Adam(schedule),
        loss=k.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["acc", k.metrics.SparseTopKCategoricalAccuracy(k=3)],
        weighted_metrics=["sparse_categorical_accuracy"],
        loss_weights=[0.5],
    )
    text = _import(specc, _save(model, tmp_path))
    assert text.split("layers:\n")[1] == (
        "    - {type: Dense, units: 16, activation: relu, kernel_initializer: {type: HeNormal, "
        "seed: 1}, bias_initializer: he_normal, kernel_regularizer: {l2: 0.01}, bias_regularizer: "
        "{l1: 0.001, l2: 0.002}, activity_regularizer: {l1: 0.003}, kernel_constraint: {type: "
        "MaxNorm, max_value: 3}, bias_constraint: non_neg}\n"
        "    - {type: Dense, units: 4, kernel_initializer: {type: RandomNormal, stddev: 0.1}}\n"
        "\n"
        "compile:\n"
        "  optimizer: {type: Adam, learning_rate: {type: ExponentialDecay, "
        "initial_learning_rate: 0.01, decay_steps: 100, decay_rate: 0.9}}\n"
        "  loss: {type: SparseCategoricalCrossentropy, from_logits: true}\n"
        "  metrics: [acc, {type: SparseTopKCategoricalAccuracy, k: 3}]\n"
        "  weighted_metrics: [sparse_categorical_accuracy]\n"
        "  loss_weights: [0.5]\n"
    )
    # ... and the spec builds the same model with the same compile settings.
    compiled = compile_text(text)
    k.backend.clear_session()
    rebuilt = keras_build.build(compiled.spec, compiled.graph)
    assert rebuilt.get_compile_config() == model.get_compile_config()
    for ours, theirs in zip(rebuilt.layers, model.layers, strict=True):
        assert ours.get_config() == theirs.get_config()


def test_open_dimensions_dtype_and_input_name(tmp_path, specc):
    k = _fresh()
    model = k.Sequential(
        [k.Input((None, 8), dtype="int32", name="steps"), k.layers.Dense(4)], name="tokens"
    )
    text = _import(specc, _save(model, tmp_path))
    assert "  input:\n    shape: [null, 8]\n    dtype: int32\n    name: steps\n" in text
    compiled = compile_text(text)
    assert table.as_dict(compiled.graph)["layers"][0]["output_shape"] == [None, None, 4]
    rebuilt = keras_build.build(compiled.spec, compiled.graph)
    assert rebuilt.inputs[0].dtype == "int32" and rebuilt.inputs[0].name == "steps"


@pytest.mark.parametrize(
    ("keras_name", "spec_name"), [("3dcnn", "model_3dcnn"), ("my-model", "my_model")]
)
def test_model_name_that_is_no_identifier_is_sanitised_and_kept(
    tmp_path, specc, monkeypatch, keras_name, spec_name
):
    k = _fresh()
    model = k.Sequential([k.Input((4,)), k.layers.Dense(2)], name=keras_name)
    model.compile(optimizer="adam", loss="mse")
    text = _import(specc, _save(model, tmp_path))
    assert f"\nname: {spec_name}\n\nmodel:\n  name: {keras_name}  # the Keras model's name\n" in (
        text
    )
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(text + "data: {dataset: npz, path: data.npz}\n")
    compiled = compile_file(spec_path)
    assert compiled.spec.name == spec_name
    # Every back end names the Keras model as it was named: summary, build, emitted code.
    monkeypatch.setenv("COLUMNS", "200")
    summary = specc("summary", str(spec_path))
    assert summary.stdout.startswith(f'Model: "{keras_name}"\n')
    assert keras_build.build(compiled.spec, compiled.graph).name == keras_name
    script = emit(compiled, tmp_path / "out")
    assert script.name == f"{spec_name}.py"
    assert load_module(script).build_model().name == keras_name


def test_spec_model_name_is_checked():
    base = "name: m\nmodel:\n  name: {}\n  input: {{shape: [4]}}\n  layers: [{{type: Dense, units: 1}}]\n"
    assert compile_text(base.format("'3dcnn'")).spec.model.name == "3dcnn"
    with pytest.raises(SpecError) as caught:
        compile_text(base.format("'a/b'"))
    assert "model.name" in str(caught.value)


def test_spec_without_model_name_emits_the_usual_code(tmp_path):
    """No ``model.name``: the emitted model is named NAME, as before (golden files)."""
    compiled = compile_text(
        "name: plain\nmodel: {input: {shape: [4]}, layers: [{type: Dense, units: 1}]}\n"
        "data: {dataset: npz, path: d.npz}\ncompile: {loss: mse}\n"
    )
    code = codegen.render(compiled, tmp_path)[tmp_path / "plain.py"]
    assert "        name=NAME,\n    )" in code


def test_functional_chain_imports_as_a_layer_list(tmp_path, specc):
    k = _fresh()
    inputs = k.Input((28, 28, 1))
    x = k.layers.Conv2D(8, 3, activation="relu")(inputs)
    x = k.layers.MaxPooling2D()(x)
    x = k.layers.Flatten()(x)
    outputs = k.layers.Dense(10, activation="softmax", name="predictions")(x)
    model = k.Model(inputs, outputs)
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
    text = _import(specc, _save(model, tmp_path))
    assert text.split("\nmodel:\n")[1] == (
        "  input:\n    shape: [28, 28, 1]\n  layers:\n"
        "    - {type: Conv2D, filters: 8, kernel_size: 3, activation: relu}\n"
        "    - {type: MaxPooling2D}\n"
        "    - {type: Flatten}\n"
        "    - {type: Dense, name: predictions, units: 10, activation: softmax}\n"
        "\ncompile:\n  optimizer: rmsprop\n  loss: sparse_categorical_crossentropy\n"
    )
    assert "\nname: functional\n" in text
    compiled = compile_text(text)
    k.backend.clear_session()
    rebuilt = keras_build.build(compiled.spec, compiled.graph)
    assert keras_build.layer_table(rebuilt) == keras_build.layer_table(model)[1:]


def test_functional_call_arguments_a_spec_cannot_say_are_reported(tmp_path, specc):
    k = _fresh()
    inputs = k.Input((4,))
    outputs = k.layers.Dropout(0.5)(k.layers.Dense(3)(inputs), training=True)
    path = _save(k.Model(inputs, outputs), tmp_path)
    run = specc("import", str(path))
    assert run.exit_code == 1
    assert run.stderr == (
        f"{path}:1:1: error: layers[1] (dropout): the call passes training=True, which a spec "
        "cannot say\n"
    )


def test_every_problem_is_reported_at_once_and_located(tmp_path, specc):
    """Unsupported class names, arguments, objects, names and a custom loss: each one line,
    located as ``layers[i] (name)``, objects shown as Class(args), never as raw JSON."""
    k = _fresh()

    def my_loss(y_true, y_pred):
        return y_true - y_pred

    model = k.Sequential(
        [
            k.Input((6, 8, 8)),
            k.layers.Conv2D(4, 3, data_format="channels_first"),
            k.layers.Masking(),
            k.layers.Flatten(),
            k.layers.Dense(3, name="my-dense", dtype="mixed_float16"),
            k.layers.BatchNormalization(momentum=1.5),
            k.layers.Lambda(lambda t: t * 2),
            k.layers.Dense(2, kernel_initializer=k.initializers.GlorotUniform(input_axes=[0])),
        ]
    )
    model.compile(
        optimizer=k.optimizers.Lion(), loss=my_loss, metrics=["mae", k.metrics.MeanIoU(2)]
    )
    path = _save(model, tmp_path)
    with zipfile.ZipFile(path) as zf:  # Keras refuses to save an unknown metric name
        config = json.loads(zf.read("config.json"))
    config["compile_config"]["metrics"].append("nonsense")
    bad = tmp_path / "bad.keras"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = json.dumps(config) if info.filename == "config.json" else src.read(info)
            dst.writestr(info.filename, data)
    run = specc("import", str(bad))
    assert run.exit_code == 1 and run.stdout == ""
    head = f"{bad}:1:1: error: "
    assert run.stderr.splitlines() == [
        head + line
        for line in [
            "layers[0] (conv2d): argument data_format='channels_first' is not supported by specc",
            "layers[1] (masking): layer type Masking is not supported by specc",
            "layers[3] (my-dense): layer name 'my-dense' is not a Python identifier (letters, "
            "digits, _); specs name layers with identifiers",
            "layers[3] (my-dense): dtype policy 'mixed_float16' is not supported by specc "
            "(float32 only)",
            "layers[4] (batch_normalization): argument momentum=1.5 is not supported by specc: "
            "must be at most 1.0 (got 1.5)",
            "layers[5] (lambda): Lambda layers carry Python code; a spec is data (write the "
            "computation with catalog layers)",
            "layers[6] (dense): argument kernel_initializer=GlorotUniform(seed=None, "
            "input_axes=[0], output_axes=None): GlorotUniform argument input_axes=[0] is not "
            "supported by specc",
            "compile_config.optimizer: optimizer 'Lion' is not supported by specc",
            "compile_config.loss: 'my_loss' is a custom loss function (Python code); a spec is "
            "data and names Keras' own losses; pass --plugin MODULE, the module defining it, "
            "to read it as MODULE.my_loss",
            "compile_config.metrics[1]: metric class 'MeanIoU' is not supported by specc",
            "compile_config.metrics[2]: metric 'nonsense' is not one Keras names; specs name "
            "Keras' own metrics",
        ]
    ]


def _paths(value, path=()):
    """Every place in a JSON tree."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*path, i))


def _replaced(tree, path, value):
    tree = copy.deepcopy(tree)
    if not path:
        return value
    node = tree
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return tree


@pytest.mark.parametrize("junk", [None, [], {}, "x", -1.5, True, {"class_name": "X", "config": 1}])
def test_any_config_value_replaced_is_an_error_never_a_traceback(tmp_path, junk):
    """config.json is untrusted: whatever any field holds, import returns a spec or raises
    SpecError (one line per problem) -- no other exception."""
    k = _fresh()
    sequential = k.Sequential(
        [k.Input((6, 4)), k.layers.Conv1D(2, 3, kernel_regularizer="l2"), k.layers.Flatten()]
    )
    sequential.compile(optimizer="adam", loss="mse", metrics=[k.metrics.AUC()])
    inputs = k.Input((None, 3), name="x")
    outputs = k.layers.Dense(2)(k.layers.GlobalMaxPooling1D()(inputs))
    chain = k.Model(inputs, outputs, name="3d")
    chain.compile(optimizer=k.optimizers.SGD(k.optimizers.schedules.CosineDecay(0.1, 10)))
    for model in (sequential, chain):
        saved = _save(model, tmp_path)
        with zipfile.ZipFile(saved) as zf:
            members = {info.filename: zf.read(info) for info in zf.infolist()}
        config = json.loads(members["config.json"])
        target = tmp_path / "mutated.keras"
        for path in _paths(config):
            with zipfile.ZipFile(target, "w") as zf:
                for name, data in members.items():
                    if name == "config.json":
                        data = json.dumps(_replaced(config, path, junk)).encode()
                    zf.writestr(name, data)
            try:
                importer.import_model(target)
            except SpecError as exc:
                assert all("\n" not in d.message for d in exc.diagnostics), (path, str(exc))


def test_a_rule_the_imported_model_breaks_is_said_of_the_model(tmp_path, specc):
    """The spec's cross-field rules still apply; the problem is reported against the
    model file (the spec is not written), not a line of a file nobody sees."""
    k = _fresh()
    model = k.Sequential([k.Input((4,)), k.layers.Dense(3, activation="softmax")])
    model.compile(loss=k.losses.SparseCategoricalCrossentropy(from_logits=True))
    path = _save(model, tmp_path)
    out = tmp_path / "spec.yaml"
    run = specc("import", str(path), "-o", str(out))
    assert run.exit_code == 1 and not out.exists()
    assert run.stderr == (
        f"{path}:1:1: error: the spec made from it is invalid: model.layers[0].activation: "
        "the loss has from_logits: true, so it applies softmax itself; a softmax here would "
        "apply it twice: remove the activation (linear outputs, i.e. logits) or set "
        "from_logits: false\n"
    )
