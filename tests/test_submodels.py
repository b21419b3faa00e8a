"""Models inside models: ``models:`` sub-models as one row each, against the Keras code.

Each spec here is compared with the functional code a person writes for it (a function
that builds the sub-model, called where the spec first uses it), summary text byte for
byte, with and without ``expand_nested``; the errors are one located line each.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from specc.analysis.pipeline import compile_file, compile_text
from specc.backends import table
from specc.errors import SpecError
from tests.helpers import SPECS

SIAMESE = SPECS / "siamese_towers.yaml"

keras_only = pytest.mark.keras


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")


def _text(model: Any, expand: bool = False) -> str:
    out = io.StringIO()
    model.summary(print_fn=lambda line, line_break=True: out.write(line), expand_nested=expand)
    return out.getvalue()


def _siamese_keras(k: Any) -> Any:
    """specs/siamese_towers.yaml as Keras code."""
    layers = k.layers
    left = k.Input((28, 28, 1), name="left")
    right = k.Input((28, 28, 1), name="right")

    def make_tower() -> Any:
        inputs = k.Input((28, 28, 1))
        x = layers.Conv2D(16, 3, activation="relu")(inputs)
        x = layers.MaxPooling2D(2)(x)
        x = layers.Conv2D(32, 3, activation="relu")(x)
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dense(32)(x)
        return k.Model(inputs, x, name="tower")

    tower = make_tower()
    a, b = tower(left), tower(right)
    x = layers.Subtract()([a, b])
    out = layers.Dense(1, activation="sigmoid")(x)
    return k.Model([left, right], out, name="siamese_towers")


ENCODER = """
name: unet_like
models:
  encoder:
    inputs: [{shape: [32, 32, 3]}]
    layers:
      - {type: Conv2D, filters: 4, kernel_size: 3, padding: same, as: s1}
      - {type: MaxPooling2D}
      - {type: Conv2D, filters: 8, kernel_size: 3, padding: same, as: s2}
      - {type: MaxPooling2D}
      - {type: Conv2D, filters: 8, kernel_size: 3, padding: same, as: s3}
      - {type: MaxPooling2D}
      - {type: Conv2D, filters: 16, kernel_size: 3, padding: same, as: s4}
      - {type: MaxPooling2D}
      - {type: Conv2D, filters: 16, kernel_size: 3, padding: same, as: s5}
    outputs: [s1, s2, s3, s4, s5]
model:
  input: {shape: [32, 32, 3]}
  layers:
    - {type: Rescaling, scale: 0.5}
    - {model: encoder}
    - {type: UpSampling2D, inputs: [encoder.4]}
    - {type: Concatenate, inputs: [up_sampling2d, encoder.3]}
    - {type: Conv2D, filters: 8, kernel_size: 3, padding: same}
    - {type: UpSampling2D}
    - {type: Concatenate, inputs: [up_sampling2d_1, encoder.2]}
    - {type: Conv2D, filters: 1, kernel_size: 1, activation: sigmoid}
"""


def _encoder_keras(k: Any) -> Any:
    """ENCODER as Keras code: the encoder built after the Rescaling layer is made."""
    layers = k.layers
    inputs = k.Input((32, 32, 3))
    x = layers.Rescaling(0.5)(inputs)

    def make_encoder() -> Any:
        i = k.Input((32, 32, 3))
        s1 = layers.Conv2D(4, 3, padding="same")(i)
        s2 = layers.Conv2D(8, 3, padding="same")(layers.MaxPooling2D()(s1))
        s3 = layers.Conv2D(8, 3, padding="same")(layers.MaxPooling2D()(s2))
        s4 = layers.Conv2D(16, 3, padding="same")(layers.MaxPooling2D()(s3))
        s5 = layers.Conv2D(16, 3, padding="same")(layers.MaxPooling2D()(s4))
        return k.Model(i, [s1, s2, s3, s4, s5], name="encoder")

    encoder = make_encoder()
    s = encoder(x)
    x = layers.UpSampling2D()(s[4])
    x = layers.Concatenate()([x, s[3]])
    x = layers.Conv2D(8, 3, padding="same")(x)
    x = layers.UpSampling2D()(x)
    x = layers.Concatenate()([x, s[2]])
    out = layers.Conv2D(1, 1, activation="sigmoid")(x)
    return k.Model(inputs, out, name="unet_like")


@keras_only
@pytest.mark.parametrize("expand", [False, True])
def test_siamese_example_equals_keras(expand):
    """One row for the tower used twice (its weights counted once, both calls in its
    Connected to), its own table under expand_nested; `specc build` makes the same."""
    from specc.backends import keras_build
    from tests.keras_helpers import keras

    k = keras()
    k.backend.clear_session()
    compiled = compile_file(SIAMESE)
    want = _text(_siamese_keras(k), expand)
    assert table.as_text(compiled.graph, expand_nested=expand) == want
    built = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert _text(built, expand) == want
    assert compiled.graph.total_params == 5_889


@keras_only
@pytest.mark.parametrize("expand", [False, True])
def test_five_output_encoder_equals_keras(expand):
    """A U-Net-style encoder returning 5 skip tensors; entries take one with encoder.N."""
    from specc.backends import keras_build
    from tests.keras_helpers import keras

    k = keras()
    k.backend.clear_session()
    compiled = compile_text(ENCODER, "unet_like.yaml")
    want = _text(_encoder_keras(k), expand)
    assert table.as_text(compiled.graph, expand_nested=expand) == want
    assert keras_build.build(compiled.spec, compiled.graph, compile=False).count_params() == (
        compiled.graph.total_params
    )


def test_expand_nested_json_holds_the_inner_rows():
    compiled = compile_file(SIAMESE)
    rows = table.as_dict(compiled.graph, expand_nested=True)["layers"]
    tower = next(row for row in rows if row["name"] == "tower")
    assert [r["name"] for r in tower["layers"]] == [
        "input_layer", "conv2d", "max_pooling2d", "conv2d_1", "global_average_pooling2d", "dense",
    ]  # fmt: skip
    assert tower["inputs"] == ["left[0][0]", "right[0][0]"]
    assert "layers" not in json.dumps(table.as_dict(compiled.graph)["layers"])


def _errors(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        compile_text(text, "s.yaml")
    return [d.text() for d in info.value.diagnostics]


TOWER = """
name: s
models:
  tower:
    input: {shape: [8]}
    layers:
      - {type: Dense, units: 4}
model:
  inputs: [{name: a, shape: [8]}]
  layers:
"""


def test_unknown_sub_model_is_one_located_line():
    assert _errors(TOWER + "    - {model: towr}\n") == [
        "s.yaml:11:15: error: model.layers[0].model: unknown sub-model 'towr' (did you mean "
        "'tower'?); define it under models:"
    ]


def test_a_sub_model_using_itself_is_refused():
    text = TOWER.replace("      - {type: Dense, units: 4}", "      - {model: tower}")
    assert _errors(text + "    - {model: tower}\n") == [
        "s.yaml:7:17: error: models.tower.layers[0].model: sub-model 'tower' uses itself "
        "(tower -> tower); Keras cannot build a model inside itself"
    ]


def test_a_call_on_another_shape_is_refused_at_the_call():
    text = TOWER.replace("shape: [8]}]", "shape: [9]}]")
    assert _errors(text + "    - {model: tower}\n") == [
        "s.yaml:11:7: error: model.layers[0]: sub-model 'tower' takes (None, 8) as input 0, "
        "not (None, 9) (Keras refuses an input of another shape)"
    ]


@keras_only
@pytest.mark.parametrize("make", [_siamese_keras, _encoder_keras], ids=["siamese", "encoder"])
def test_import_round_trips_a_nested_functional_model(make, tmp_path):
    """`specc import` of a saved model with a Functional model inside (used twice; with 5
    outputs): models: plus {model: NAME}, and the spec's tables equal the model's."""
    import yaml

    from specc.backends.importer import import_model
    from tests.keras_helpers import keras

    k = keras()
    k.backend.clear_session()
    model = make(k)
    model.save(tmp_path / "m.keras")
    spec = import_model(tmp_path / "m.keras")
    (key,) = spec["models"]
    assert key in ("tower", "encoder")
    assert [e.get("model") for e in spec["model"]["layers"]].count(key) == 1
    compiled = compile_text(yaml.safe_dump(spec, sort_keys=False), "imported.yaml")
    for expand in (False, True):
        assert table.as_text(compiled.graph, expand_nested=expand) == _text(model, expand)


AFTER_SEQUENTIAL = """
name: m
models:
  tower:
    inputs: [{shape: [6]}]
    layers: [{type: Dense, units: 3}]
model:
  inputs: [{shape: [6]}]
  layers:
    - {type: Sequential, layers: [{type: Dense, units: 6}, {type: Dense, units: 6}]}
    - {model: tower}
    - {type: Dense, units: 2}
"""


def _after_sequential_keras(k: Any) -> Any:
    layers = k.layers
    x = k.Input((6,))
    y = k.Sequential([layers.Dense(6), layers.Dense(6)])(x)

    def make_tower() -> Any:
        i = k.Input((6,))
        return k.Model(i, layers.Dense(3)(i), name="tower")

    tower = make_tower()
    y = layers.Dense(2)(tower(y))
    return k.Model(x, y, name="m")


@keras_only
@pytest.mark.parametrize("expand", [False, True])
def test_a_nested_sequential_expands_and_takes_an_input_name(expand):
    """A nested Sequential lists its layers under expand_nested too; called in a graph it
    builds itself an InputLayer, so the sub-model made after it has input_layer_2."""
    from tests.keras_helpers import keras

    k = keras()
    k.backend.clear_session()
    compiled = compile_text(AFTER_SEQUENTIAL, "m.yaml")
    assert table.as_text(compiled.graph, expand_nested=expand) == _text(
        _after_sequential_keras(k), expand
    )


@keras_only
def test_the_emitted_script_builds_each_sub_model_by_its_function(tmp_path):
    """emit-code writes ``def build_tower()`` and calls it where the spec uses it; its
    build_model() prints Keras' expanded table of the same code."""
    from tests.emitted import emit, load_module
    from tests.keras_helpers import keras

    compiled = compile_file(SIAMESE)
    path = emit(compiled, tmp_path)
    code = path.read_text()
    assert "def build_tower() -> keras.Model:" in code
    assert "    tower = build_tower()\n" in code
    k = keras()
    k.backend.clear_session()
    want = _text(_siamese_keras(k), True)
    assert _text(load_module(path).build_model(), True) == want


BACKBONE = """
name: transfer
data: {dataset: npz, path: pictures.npz}
compile: {optimizer: adam, loss: sparse_categorical_crossentropy}
model:
  input: {shape: [32, 32, 3]}
  layers:
    - {type: VGG16, include_top: false, input_shape: [32, 32, 3], weights: null, trainable: false}
    - {type: GlobalAveragePooling2D}
    - {type: Dense, units: 2, activation: softmax}
"""


def _backbone_keras(k: Any) -> Any:
    inputs = k.Input((32, 32, 3))
    base = k.applications.VGG16(include_top=False, input_shape=(32, 32, 3), weights=None)
    base.trainable = False
    x = k.layers.GlobalAveragePooling2D()(base(inputs))
    return k.Model(inputs, k.layers.Dense(2, activation="softmax")(x), name="transfer")


@keras_only
@pytest.mark.parametrize("expand", [False, True])
def test_a_backbone_by_name_is_one_frozen_row_as_keras_prints_it(expand, tmp_path):
    """{type: VGG16, ...}: specc's static VGG16 graph as one row ``vgg16 (Functional)``,
    frozen; built and emitted as the keras.applications call a user writes."""
    from specc.backends import keras_build
    from tests.emitted import emit, load_module
    from tests.keras_helpers import keras

    k = keras()
    k.backend.clear_session()
    compiled = compile_text(BACKBONE, "transfer.yaml")
    reference = _backbone_keras(k)
    want, plain = _text(reference, expand), _text(reference)
    assert table.as_text(compiled.graph, expand_nested=expand) == want
    assert compiled.graph.non_trainable_params == 14_714_688
    built = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert _text(built) == plain  # expanded: the application numbers its input anew
    path = emit(compiled, tmp_path)
    assert "keras.applications.VGG16(" in path.read_text()
    assert _text(load_module(path).build_model()) == plain


def test_a_backbone_keras_refuses_is_one_located_line():
    text = BACKBONE.replace(
        "input_shape: [32, 32, 3], weights", "input_shape: [16, 16, 3], weights"
    )
    assert _errors(text) == [
        "s.yaml:8:7: error: model.layers[0]: VGG16: input size must be at least 32x32, got "
        "input_shape [16, 16, 3]"
    ]


MOBILENET = """
name: transfer
data: {dataset: npz, path: pictures.npz}
compile: {optimizer: adam, loss: binary_crossentropy}
model:
  input: {shape: [160, 160, 3]}
  layers:
    - type: MobileNetV2
      include_top: false
      input_shape: [160, 160, 3]
      alpha: 1.0
      pooling: avg
      weights: null
      trainable: false
    - {type: Dropout, rate: 0.2}
    - {type: Dense, units: 1, activation: sigmoid}
"""


@keras_only
def test_the_tutorials_mobilenet_v2_backbone_is_keras_row(tmp_path):
    """The brief's node: one row named as Keras names it (mobilenetv2_1.00_160, no Python
    identifier: the emitted builder's name is made one), frozen; the emitted script's
    model prints Keras' table."""
    from tests.emitted import emit, load_module
    from tests.keras_helpers import keras

    k = keras()
    k.backend.clear_session()
    inputs = k.Input((160, 160, 3))
    base = k.applications.MobileNetV2(
        include_top=False, input_shape=(160, 160, 3), alpha=1.0, pooling="avg", weights=None
    )
    base.trainable = False
    x = k.layers.Dropout(0.2)(base(inputs))
    want = _text(k.Model(inputs, k.layers.Dense(1, activation="sigmoid")(x), name="transfer"))
    compiled = compile_text(MOBILENET, "transfer.yaml")
    assert table.as_text(compiled.graph) == want
    assert "mobilenetv2_1.00_160 (Functional)" in want
    path = emit(compiled, tmp_path)
    assert "def build_mobilenetv2_1_00_160() -> keras.Model:" in path.read_text()
    assert _text(load_module(path).build_model()) == want


def _named_encoder_keras(k: Any) -> Any:
    """A user's sub-model whose name is no identifier (``cifar10-encoder``), used twice,
    its first call's output taken by two layers."""
    layers = k.layers
    i = k.Input((8,))
    encoder = k.Model(i, layers.Dense(4)(i), name="cifar10-encoder")
    a, b = k.Input((8,)), k.Input((8,))
    ea, eb = encoder(a), encoder(b)
    joined = layers.Concatenate()([ea, eb])
    return k.Model([a, b], layers.Add()([layers.Dense(4)(joined), ea]))


def _mobilenet_backbone_keras(k: Any) -> Any:
    """A keras.applications backbone as a sub-model: its name, mobilenetv2_1.00_96."""
    backbone = k.applications.MobileNetV2(input_shape=(96, 96, 3), include_top=False, weights=None)
    i = k.Input((96, 96, 3))
    return k.Model(i, k.layers.GlobalAveragePooling2D()(backbone(i)))


def _import_round_trip(make: Any, tmp_path: Any) -> dict[str, Any]:
    """Save the model ``make`` builds, ``specc import`` it, and check the spec's tables
    (nested expanded or not) and its emitted script's model against Keras'; the spec."""
    import yaml

    from specc.backends.importer import import_model
    from tests.emitted import emit, load_module
    from tests.keras_helpers import keras

    k = keras()
    k.backend.clear_session()
    model = make(k)
    model.save(tmp_path / "m.keras")
    spec = import_model(tmp_path / "m.keras")
    # a script needs data and compile: any will do, the model is what is compared
    script = {**spec, "data": {"dataset": "npz", "path": "x.npz"}}
    script["compile"] = {"optimizer": "adam", "loss": "mse"}
    compiled = compile_text(yaml.safe_dump(script, sort_keys=False), "imported.yaml")
    for expand in (False, True):
        assert table.as_text(compiled.graph, expand_nested=expand) == _text(model, expand)
    want = _text(model, True)
    k.backend.clear_session()
    assert _text(load_module(emit(compiled, tmp_path)).build_model(), True) == want
    return spec


@keras_only
def test_import_keys_a_sub_model_whose_name_is_no_identifier(tmp_path):
    """``cifar10-encoder`` becomes the models: key ``cifar10_encoder`` that inputs: and
    apply: refer to; its Keras name stays its name:, and the tables equal Keras'."""
    spec = _import_round_trip(_named_encoder_keras, tmp_path)
    assert list(spec["models"]) == ["cifar10_encoder"]
    assert spec["models"]["cifar10_encoder"]["name"] == "cifar10-encoder"
    assert spec["model"]["layers"][1]["apply"] == "cifar10_encoder"


@keras_only
@pytest.mark.slow
def test_import_round_trips_a_keras_applications_backbone_inside_a_model(tmp_path):
    """A MobileNetV2 made by keras.applications inside a model (its name,
    ``mobilenetv2_1.00_96``, is no identifier) imports by name and round-trips; with
    one of its layers frozen it is no application call, and stays a graph under models:
    (keyed by an identifier made from its name, which stays its name:)."""
    spec = _import_round_trip(_mobilenet_backbone_keras, tmp_path)
    assert "models" not in spec
    assert spec["model"]["layers"][0] == {
        "type": "MobileNetV2", "include_top": False, "weights": None, "input_shape": [96, 96, 3],
    }  # fmt: skip

    def partly_frozen(k: Any) -> Any:
        model = _mobilenet_backbone_keras(k)
        model.layers[1].layers[1].trainable = False
        return model

    spec = _import_round_trip(partly_frozen, tmp_path)
    assert list(spec["models"]) == ["mobilenetv2_1_00_96"]
    assert spec["models"]["mobilenetv2_1_00_96"]["name"] == "mobilenetv2_1.00_96"


def _sub_model_output_keras(k: Any) -> Any:
    """The brief's case: a sub-model's call is the model's output (Keras saves it as node 1
    of the sub-model: node 0 is the one made when the sub-model is built)."""
    i = k.Input((4,))
    sub = k.Model(i, k.layers.Dense(2)(i))
    j = k.Input((4,))
    return k.Model(j, sub(j))


def _sub_model_second_call_output_keras(k: Any) -> Any:
    """A shared sub-model's second call as the model's output (node 2 as Keras saves it)."""
    i = k.Input((4,))
    sub = k.Model(i, k.layers.Dense(4)(i))
    j = k.Input((4,))
    return k.Model(j, sub(sub(j)))


@keras_only
@pytest.mark.parametrize(
    "make",
    [_sub_model_output_keras, _sub_model_second_call_output_keras],
    ids=["first-call", "second-call"],
)
def test_import_reads_a_sub_model_call_that_is_the_model_output(make, tmp_path):
    spec = _import_round_trip(make, tmp_path)
    assert list(spec["models"]) == ["functional"]


OPEN_SIZES = """
name: outer
models:
  tower:
    inputs: [{shape: [null, null, 3]}]
    layers:
      - {type: Conv2D, filters: 8, kernel_size: 3, padding: same}
      - {type: MaxPooling2D, pool_size: 2}
  chain:
    input: {shape: [null, 4]}
    layers:
      - {type: Dense, units: 3}
model:
  inputs: [{name: a, shape: [64, 64, 3]}, {name: b, shape: [32, 32, 3]}, {name: c, shape: [7, 4]}]
  layers:
    - {model: tower, inputs: [a]}
    - {apply: tower, inputs: [b], as: t2}
    - {type: GlobalAveragePooling2D, inputs: [tower]}
    - {type: GlobalAveragePooling2D, inputs: [t2]}
    - {model: chain, inputs: [c]}
    - {type: Flatten}
    - {type: Concatenate, inputs: [global_average_pooling2d, global_average_pooling2d_1, flatten]}
"""


def _open_sizes_keras(k: Any) -> Any:
    """OPEN_SIZES as Keras code: sub-models defined on open sizes, called on given ones."""
    i = k.Input((None, None, 3))
    x = k.layers.MaxPooling2D(2)(k.layers.Conv2D(8, 3, padding="same")(i))
    tower = k.Model(i, x, name="tower")
    a, b, c = (
        k.Input(s, name=n) for s, n in [((64, 64, 3), "a"), ((32, 32, 3), "b"), ((7, 4), "c")]
    )
    x, y = tower(a), tower(b)
    x, y = k.layers.GlobalAveragePooling2D()(x), k.layers.GlobalAveragePooling2D()(y)
    chain = k.Sequential([k.Input((None, 4)), k.layers.Dense(3)], name="chain")
    z = k.layers.Flatten()(chain(c))
    return k.Model([a, b, c], k.layers.Concatenate()([x, y, z]), name="outer")


@keras_only
@pytest.mark.parametrize("expand", [False, True])
def test_sub_models_on_open_sizes_called_on_given_ones_equal_keras(expand):
    """A sub-model on (None, None, 3) called on (None, 64, 64, 3), then again on 32x32,
    and a Sequential on (None, 4) called on (None, 7, 4): the row shows the last call's
    shape (as Keras' summary), the nested rows the sub-model's own open sizes, and the
    Flatten after it its given size."""
    from tests.keras_helpers import keras

    k = keras()
    k.backend.clear_session()
    want = _text(_open_sizes_keras(k), expand)
    assert table.as_text(compile_text(OPEN_SIZES).graph, expand_nested=expand) == want


HARD_SIGMOID = """
name: gated
models:
  gate:
    inputs: [{shape: [4]}]
    layers:
      - {type: Dense, units: 4}
      - {op: add, value: 3.0}
      - {type: ReLU, max_value: 6.0}
      - {op: multiply, value: 0.16666666666666666}
model:
  input: {shape: [4]}
  layers:
    - {model: gate}
    - {type: Dense, units: 1}
"""


@keras_only
def test_a_sub_models_operations_are_no_rows_of_its_expanded_table():
    """Keras lists a sub-model's ``layers`` under its row: the operations inside it
    (MobileNetV3's hard-sigmoid, ``relu6(x + 3) / 6``) are rows of its own summary, not
    of the expanded one."""
    from tests.keras_helpers import keras

    k = keras()
    k.backend.clear_session()
    j = k.Input((4,))  # built where the spec uses it: after the model's input
    i = k.Input((4,))
    gate = k.Model(i, k.layers.ReLU(6.0)(k.layers.Dense(4)(i) + 3.0) * (1.0 / 6.0), name="gate")
    model = k.Model(j, k.layers.Dense(1)(gate(j)), name="gated")
    assert table.as_text(compile_text(HARD_SIGMOID).graph, expand_nested=True) == _text(model, True)
