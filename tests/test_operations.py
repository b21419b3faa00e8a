"""Operations on tensors (``{op: add}``): Keras' ``keras.ops`` nodes as spec entries.

Each spec here is compared with the plain Keras code a person writes for it (``x + y``,
``x * (1 / 6)``, ``keras.ops.relu6(x)``): the summary, byte for byte (names from the
counters ops share with layers, row types, shapes, 0 params, Connected to), and the model
``specc build`` makes.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from specc.analysis.pipeline import compile_text
from specc.backends import table
from specc.errors import SpecError
from tests.helpers import ARITHMETIC, keras_text
from tests.keras_helpers import keras


def arithmetic_in_keras() -> Any:
    """ARITHMETIC as Keras code writes it."""
    k = keras()
    k.backend.clear_session()
    ops = k.ops
    x, y = k.Input((4, 3), name="x"), k.Input((1, 3), name="y")
    a = k.layers.Add()([x, x])  # a layer: the op after it is add_1
    t = a + y
    t = t * (1 / 6)
    t = 1.0 - t
    t = ops.relu6(t + 3.0)
    t = ops.clip(t, 0.0, 1.0)
    t = -(t**2)
    t = ops.maximum(t, 0.5)
    t = ops.hard_silu(ops.softmax(t, axis=1))
    return k.Model([x, y], ops.gelu(t, approximate=False), name="arith")


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")


@pytest.mark.keras
def test_arithmetic_and_activations_equal_keras():
    """Rows, names (shared with layers' counters), Connected to; then specc build."""
    from specc.backends import keras_build

    compiled = compile_text(ARITHMETIC, "arith.yaml")
    expected = keras_text(arithmetic_in_keras())
    assert "add_1 (Add)" in expected and "subtract (Subtract)" in expected
    assert table.as_text(compiled.graph) == expected
    keras().backend.clear_session()
    keras().layers.Dense(2)  # the builder names ops itself, whatever ran before
    keras().ops.add(keras().Input((2,)), 1.0)
    built = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert keras_text(built) == expected


def _problem(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        compile_text(text, "s.yaml")
    return str(caught.value)


def _spec(*entries: str, shapes: str = "[4, 3]") -> str:
    layers = "\n".join(f"    - {e}" for e in entries)
    return f"name: s\nmodel:\n  input: {{shape: {shapes}}}\n  layers:\n{layers}\n"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{op: add}", "add(x1, x2) takes 2 operands, got 1 (the entry above); give inputs:"),
        ("{op: add, inputs: [1.0, 2.0]}", "add needs a tensor among its operands"),
        ("{op: relu6, inputs: [1.0]}", "relu6 takes tensors, not constants (1.0)"),
        ("{op: addd, value: 1.0}", "unknown operation 'addd' (did you mean 'add'?)"),
        ("{op: add, type: Add}", "an entry is a layer (type:) or an operation (op:), not both"),
        ("{op: add, value: .inf}", "must be a finite number"),
        ("{op: softmax, axis: 2}", "axis 2 is out of range for an operand of rank 2"),
    ],
)
def test_operation_entries_refused_say_why(entry, message):
    assert message in _problem(_spec("{type: Flatten}", entry))


def test_operands_that_cannot_broadcast_are_refused():
    text = _spec("{type: Dense, units: 2, as: d}", "{op: multiply, inputs: [d, input_layer]}")
    assert "sizes 2 and 3 on axis 2" in _problem(text)
    text = _spec("{type: Flatten, as: f}", "{op: add, inputs: [input_layer, f]}")
    assert "lines up the batch axis of (None, 12) with axis 1 of (None, 4, 3)" in _problem(text)


def test_an_operation_makes_a_spec_a_graph():
    """Keras' Sequential holds layers only: a layer list with an op is a functional model."""
    compiled = compile_text(_spec("{type: Dense, units: 2}", "{op: relu}"), "s.yaml")
    assert compiled.graph.functional
    rows = [(r.name, r.type, r.params) for r in compiled.graph.rows]
    assert rows == [("input_layer", "InputLayer", 0), ("dense", "Dense", 8), ("relu", "Relu", 0)]


def test_apply_refuses_an_operation():
    text = _spec("{op: relu}", "{apply: relu}")
    assert "'relu' is an operation, which holds no weights to share" in _problem(text)


# ------------------------------------------------------------------------ specc import
def _residual_ops(k: Any) -> Any:
    """``x + y`` and ``x * (1 / 6)`` as published code writes them: MobileNetV3's hard
    sigmoid, a residual sum, a constant on the left."""
    x = k.Input(shape=(8, 8, 3))
    h = k.layers.Conv2D(3, 1)(x)
    gate = k.layers.ReLU(6.0)(h + 3.0) * (1.0 / 6.0)
    y = x + h * gate
    y = 1.0 - k.ops.sigmoid(y)
    return k.Model(x, k.ops.softmax(y, axis=-1), name="residual_ops")


def _second_model(k: Any) -> Any:
    """Made after another model in the same session: its ops' names are not the automatic
    ones a spec would get (``add_1``), so the spec keeps them."""
    _residual_ops(k)
    x = k.Input(shape=(4,), name="x")
    return k.Model(x, k.ops.relu(x + x), name="second")


@pytest.mark.keras
@pytest.mark.parametrize("code", [_residual_ops, _second_model], ids=["published", "named"])
def test_imported_operations_round_trip(code, tmp_path):
    """import -> spec -> summary equal to Keras' table; specc build makes it again."""
    from tests.helpers import run_specc

    k = keras()
    k.backend.clear_session()
    model = code(k)
    model.save(tmp_path / "m.keras")
    spec_path = tmp_path / "m.yaml"
    run = run_specc("import", str(tmp_path / "m.keras"), "-o", str(spec_path))
    assert run.exit_code == 0, run.stderr
    summary = run_specc("summary", str(spec_path))
    assert summary.exit_code == 0, summary.stderr
    assert summary.stdout == keras_text(model)
    built = run_specc("build", str(spec_path), "-o", str(tmp_path / "b.keras"))
    assert built.exit_code == 0, built.stderr
    assert built.stdout.rsplit("\n", 2)[0] + "\n" == keras_text(model)


@pytest.mark.keras
def test_imported_operations_read_like_the_code(tmp_path):
    import yaml

    from tests.helpers import run_specc

    k = keras()
    k.backend.clear_session()
    _residual_ops(k).save(tmp_path / "m.keras")
    run = run_specc("import", str(tmp_path / "m.keras"))
    assert run.exit_code == 0, run.stderr
    layers = yaml.safe_load(run.stdout)["model"]["layers"]
    assert layers == [
        {"type": "Conv2D", "filters": 3, "kernel_size": 1},
        {"op": "add", "value": 3.0},
        {"type": "ReLU", "max_value": 6.0},
        {"op": "multiply", "value": 0.16666666666666666},
        {"op": "multiply", "inputs": ["conv2d", "multiply"]},
        {"op": "add", "inputs": ["input_layer", "multiply_1"]},
        {"op": "sigmoid"},
        {"op": "subtract", "inputs": [1.0, "sigmoid"]},
        {"op": "softmax"},
    ]


@pytest.mark.keras
def test_an_operation_specc_lacks_is_named_with_its_module_not_taken_for_a_layer(tmp_path):
    """``keras.ops.average`` records an ``Average`` operation: not the Average layer."""
    from tests.helpers import run_specc

    k = keras()
    k.backend.clear_session()
    x = k.Input(shape=(4, 3))
    k.Model(x, k.ops.average(x, axis=-1)).save(tmp_path / "m.keras")
    run = run_specc("import", str(tmp_path / "m.keras"))
    assert run.exit_code == 1
    assert run.stderr == (
        f"{tmp_path / 'm.keras'}:1:1: error: layers[0] (average): operation Average (module "
        "keras.src.ops.numpy) is not supported by specc (it is a keras.ops function, not the "
        "layer of a similar name); see `specc reference` for the operations\n"
    )


def test_diagram_draws_operations_dashed(tmp_path):
    """An operation is a box with a dashed edge (no weights, not a layer): one per op."""
    from specc.backends import diagram

    compiled = compile_text(ARITHMETIC, "arith.yaml")
    diagram.draw(diagram.model_boxes(compiled.graph), tmp_path / "a.svg")
    svg = (tmp_path / "a.svg").read_text()
    assert svg.count("stroke-dasharray") == 12  # 12 ops; the Add layer and inputs solid


# ------------------------------------------------------------------ the example spec
def mobilenet_v3_block_in_keras() -> Any:
    """specs/mobilenet_v3_small_block.yaml as keras/src/applications/mobilenet_v3.py
    writes it (its hard_sigmoid, _se_block and _inverted_res_block; layers unnamed)."""
    k = keras()
    k.backend.clear_session()
    layers = k.layers

    def hard_sigmoid(x: Any) -> Any:
        return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)

    def hard_swish(x: Any) -> Any:
        return x * hard_sigmoid(x)

    def bn(x: Any) -> Any:
        return layers.BatchNormalization(epsilon=1e-3, momentum=0.999)(x)

    def se_block(inputs: Any, filters: int, squeeze: int) -> Any:
        x = layers.GlobalAveragePooling2D(keepdims=True)(inputs)
        x = layers.Conv2D(squeeze, kernel_size=1, padding="same")(x)
        x = layers.ReLU()(x)
        x = layers.Conv2D(filters, kernel_size=1, padding="same")(x)
        x = hard_sigmoid(x)
        return layers.Multiply()([inputs, x])

    inputs = k.Input(shape=(64, 64, 3))
    x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(inputs)
    x = layers.Conv2D(16, kernel_size=3, strides=(2, 2), padding="same", use_bias=False)(x)
    x = hard_swish(bn(x))
    # block 0: depthwise 3x3 / 2, squeeze-excite, ReLU
    x = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(x)
    x = layers.DepthwiseConv2D(3, strides=2, padding="valid", use_bias=False)(x)
    x = layers.ReLU()(bn(x))
    x = se_block(x, 16, 8)
    x = layers.Conv2D(16, kernel_size=1, padding="same", use_bias=False)(x)
    shortcut = x = bn(x)
    # block 1: expand x4, depthwise 5x5, squeeze-excite, hard swish, residual sum
    x = layers.Conv2D(64, kernel_size=1, padding="same", use_bias=False)(x)
    x = hard_swish(bn(x))
    x = layers.DepthwiseConv2D(5, strides=1, padding="same", use_bias=False)(x)
    x = hard_swish(bn(x))
    x = se_block(x, 64, 16)
    x = layers.Conv2D(16, kernel_size=1, padding="same", use_bias=False)(x)
    x = shortcut + bn(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return k.Model(inputs, outputs, name="mobilenet_v3_small_block")


@pytest.mark.keras
def test_mobilenet_v3_block_spec_equals_keras_and_is_shorter():
    """The example spec prints the table of MobileNetV3's code, and says it in fewer lines
    than the published functions it stands for (``blocks:`` and ``model:`` without comments
    or blank lines, against keras/src/applications/mobilenet_v3.py's hard_sigmoid,
    hard_swish, _se_block and _inverted_res_block)."""
    import inspect
    import re

    from keras.src.applications import mobilenet_v3

    from tests.helpers import SPECS

    path = SPECS / "mobilenet_v3_small_block.yaml"
    compiled = compile_text(path.read_text(), str(path))
    model = mobilenet_v3_block_in_keras()
    assert table.as_text(compiled.graph) == keras_text(model)
    assert "multiply_1 (Multiply)" in keras_text(model)

    def lines(text: str, comment: str) -> list[str]:
        return [s for s in text.splitlines() if s.strip() and not s.strip().startswith(comment)]

    spec, section = [], ""
    for line in lines(path.read_text(), "#"):
        section = line.split(":")[0] if re.match(r"^\w", line) else section
        spec += [line] if section in ("blocks", "model") else []
    published = [
        mobilenet_v3.hard_sigmoid,
        mobilenet_v3.hard_swish,
        mobilenet_v3._se_block,
        mobilenet_v3._inverted_res_block,
    ]
    code = [line for f in published for line in lines(inspect.getsource(f), "#")]
    assert len(spec) < len(code) / 2, (len(spec), len(code))


# ------------------------------------------------------------------ the declarations
def test_the_operations_index_is_what_the_declarations_register():
    """The index read from the source (``op: Literal[...]`` lines) equals the classes the
    declarations register, aliases included."""
    from specc.layers import OPERATIONS, OpSpec

    registered = OPERATIONS.registered()
    assert list(OPERATIONS.index()) == list(registered)
    assert registered["hard_swish"] is registered["hard_silu"]
    assert all(issubclass(cls, OpSpec) for cls in registered.values())


@pytest.mark.keras
def test_every_operation_is_keras_own_function_class_and_defaults():
    """Each declaration names a ``keras.ops`` function and the class Keras records for it,
    in the module the saved config gives; its keyword arguments and defaults are the
    function's (read from its signature), its operands the function's leading arguments."""
    import importlib
    import inspect

    from specc.layers import OPERATIONS

    k = keras()
    for name, cls in OPERATIONS.registered().items():
        function = functools.reduce(getattr, cls.FUNCTION.split("."), k.ops)  # image.resize
        module = importlib.import_module(f"keras.src.ops.{cls.MODULE}")
        assert getattr(module, cls.__name__).__name__ == cls.__name__, name
        params = [
            p
            for p in inspect.signature(function).parameters.values()
            if p.kind is not p.VAR_KEYWORD
        ]
        lead, count = len(cls.LEADING), len(cls.OPERANDS)  # einsum(subscripts, *operands)
        assert [p.name for p in params[:lead]] == list(cls.LEADING), name
        assert [p.name for p in params[lead : lead + count]] == list(cls.OPERANDS), name
        keywords = {p.name: p.default for p in params[:lead] + params[lead + count :]}
        fields = {
            key: field
            for key, field in cls.model_fields.items()
            if key not in ("type", "op", "name", "value")
        }
        assert set(fields) == set(keywords), name
        for key, field in fields.items():
            if keywords[key] is inspect.Parameter.empty:
                assert field.is_required(), (name, key)
            else:
                assert field.default == keywords[key], (name, key)


def test_diff_shows_an_operation_changed_and_added(tmp_path):
    """``specc diff`` compares operations as entries (values by spec path) and as rows."""
    from tests.helpers import run_specc

    a = tmp_path / "a.yaml"
    a.write_text(ARITHMETIC)
    b = tmp_path / "b.yaml"
    b.write_text(
        ARITHMETIC.replace("{op: power, value: 2}", "{op: power, value: 3}").replace(
            "    - {op: negative}\n", "    - {op: negative}\n    - {op: tanh}\n"
        )
    )
    run = run_specc("diff", str(a), str(b))
    assert "  ~ model.layers[7].value: 2 -> 3\n" in run.stdout
    assert "  + model.layers[9]: {op: tanh}\n" in run.stdout
    assert "  + tanh (Tanh)  (None, 4, 3)  0\n" in run.stdout
