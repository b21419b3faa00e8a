"""What the back ends know about a layer type is declared on its catalog class.

The final-activation check reads ``VALUE``, builder, emitted code and importer read
``CALL``, the static names read ``SUBLAYERS``, the report reads ``PICTURES``; no module
outside ``specc/layers/`` names a layer type. An undeclared fact is refused when the class
is declared, so a new layer is never silently "see-through".
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from hypothesis import assume, example, given, note, settings
from hypothesis import strategies as st

import specc
from specc.errors import SpecError
from specc.layers import CATALOG
from specc.layers.base import CALLS, VALUES, LayerSpec, Trainable, declaration_problem
from specc.layers.shapes import Shape
from tests.family_differential import SETTINGS
from tests.strategies_catalog import entries

PACKAGE = Path(specc.__file__).parent

NOT_LAYER_TYPES = {
    ("terms/objects.py", "Identity"): "the Identity initializer",
    ("backends/importer.py", "Sequential"): "the class of a saved model's top level",
    ("analysis/submodels.py", "Sequential"): "the class of a models: sub-model (a stack)",
}
"""String constants outside the catalog that equal a layer type but mean something else."""


def test_every_type_declares_what_the_back_ends_read():
    """Each declaration states its value role and call form, consistently with its rules."""
    for name, cls in CATALOG.registered().items():
        assert declaration_problem(cls) == "", name
        assert cls.VALUE is not None, name
        assert cls.VALUE in VALUES or cls.VALUE.isidentifier(), (name, cls.VALUE)
        assert cls.CALL in CALLS, (name, cls.CALL)
        assert (cls.CALL == "list") >= cls.LIST_INPUT, name  # a stack hands it one list
        for prefix in cls.SUBLAYERS:
            assert prefix in {_snake(t) for t in CATALOG}, (name, prefix)


def _snake(layer_type: str) -> str:
    from specc.analysis.graph import to_snake_case

    return to_snake_case(layer_type)


def _declare(**class_vars: Any) -> type[LayerSpec]:
    """A throwaway catalog class (never registered when it is refused)."""
    namespace: dict[str, Any] = {
        "__annotations__": {"type": Literal["ThrowawayLayer"]},
        "__module__": "specc.layers.throwaway",
        "infer": lambda self, shape: None,
        **class_vars,
    }
    return type("ThrowawayLayer", (Trainable,), namespace)


def test_an_undeclared_fact_is_refused_when_the_class_is_declared():
    with pytest.raises(TypeError, match="declare VALUE"):
        _declare()
    assert "ThrowawayLayer" not in CATALOG.registered()

    def many(self: Any, shapes: list[Shape]) -> Any:
        return None

    with pytest.raises(TypeError, match="declare CALL"):
        _declare(VALUE="linear", infer_many=many)
    with pytest.raises(TypeError, match="needs an activation argument"):
        _declare(VALUE="argument")
    with pytest.raises(TypeError, match="needs a field holding layers"):
        _declare(VALUE="inner")
    assert "ThrowawayLayer" not in CATALOG.registered()


def _constants(tree: ast.AST) -> list[ast.Constant]:
    """The string constants of a module, docstrings (and their doctests) left out."""
    docs = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
    ]


def test_no_module_outside_the_catalog_names_a_layer_type():
    """``layer.type == "X"``, ``in {"X", ...}``, ``class_name == "X"``: per-type knowledge
    outside specc/layers/ is what a new layer would miss; it belongs on the declaration.
    specc/applications/ is exempt: its generators are models written as spec data, which
    name layer types as a spec does, and know nothing of any type."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        if where.startswith(("layers/", "applications/")):
            continue
        for node in _constants(ast.parse(path.read_text("utf-8"))):
            if node.value in CATALOG:
                found[(where, node.value)] = node.lineno
    unexplained = {key: line for key, line in found.items() if key not in NOT_LAYER_TYPES}
    assert not unexplained, unexplained
    assert set(NOT_LAYER_TYPES) <= set(found), "stale entries in NOT_LAYER_TYPES"


def _refusal(tmp_path: Path, layers: list[dict[str, Any]], loss: str) -> str:
    path = tmp_path / "spec.yaml"
    data = {"name": "case", "model": {"input": {"shape": [16]}, "layers": layers}}
    path.write_text(yaml.safe_dump({**data, "compile": {"loss": loss}}, sort_keys=False))
    try:
        specc.load_spec(path)
    except SpecError as exc:
        return str(exc)
    return ""


@pytest.mark.parametrize("norm", ["LayerNormalization", "RMSNormalization"])
def test_a_normalization_after_the_softmax_is_refused(tmp_path, norm):
    """Its output is no longer probabilities (RMSNormalization was see-through before it
    declared VALUE: any layer missing from a list was)."""
    softmax = {"type": "Dense", "units": 10, "activation": "softmax"}
    message = _refusal(tmp_path, [softmax, {"type": norm}], "categorical_crossentropy")
    assert "must be softmax, not 'linear'" in message, message
    assert _refusal(tmp_path, [softmax, {"type": "Dropout", "rate": 0.5}],
                    "categorical_crossentropy") == ""  # fmt: skip


def test_each_value_role_reaches_the_check(tmp_path):
    """An activation layer says its activation; a container its inner layer's."""
    dense = {"type": "Dense", "units": 4}
    assert "not 'relu'" in _refusal(tmp_path, [dense, {"type": "ReLU"}], "binary_crossentropy")
    inner = {"type": "TimeDistributed", "layer": {"type": "Dense", "units": 1}}
    reshape = {"type": "Reshape", "target_shape": [4, 4]}
    message = _refusal(tmp_path, [reshape, inner], "binary_crossentropy")
    assert "not 'linear'" in message, message


# ------------------------------------------------------- names Keras takes inside layers
CREATORS = {name: cls.SUBLAYERS for name, cls in CATALOG.registered().items() if cls.SUBLAYERS}
PAIRS = sorted(
    (creator, t) for creator, made in CREATORS.items() for t in CATALOG if _snake(t) in made
)


def test_the_layers_keras_makes_inside_are_declared():
    """Read from Keras 3.15's sources: MultiHeadAttention builds an unnamed Softmax and
    Dropout (attention/multi_head_attention.py, _build_attention); RNN cells, Bidirectional's
    copies and the wrappers' layers are named, so they take no automatic name."""
    assert CREATORS == {"MultiHeadAttention": ("softmax", "dropout")}
    assert PAIRS == [("MultiHeadAttention", "Dropout"), ("MultiHeadAttention", "Softmax")]


@st.composite
def after_a_creator(draw: Any) -> dict[str, Any]:
    """A graph spec: a layer that makes a ``T`` inside it, then a ``T`` (and maybe another),
    names left to Keras."""
    from specc.analysis.pipeline import compile_text

    creator, made = draw(st.sampled_from(PAIRS))
    first = {**draw(entries(creator)), "inputs": ["x", "x"]}
    layers = [first, draw(entries(made))]
    if draw(st.booleans()):
        layers.append(draw(entries(made)))
    if draw(st.booleans()):
        layers.insert(0, draw(entries(made)))
    data = {"name": "named", "model": {"inputs": [{"name": "x", "shape": [3, 4]}],
                                       "layers": layers}}  # fmt: skip
    try:
        compile_text(yaml.safe_dump(data, sort_keys=False), "spec.yaml")
    except SpecError:  # arguments the shapes refuse: the creator's minimal arguments
        first.clear()
        first.update({"type": creator, **CATALOG[creator].MINIMAL, "inputs": ["x", "x"]})
    return data


ISSUE_18 = {
    "name": "named",
    "model": {
        "inputs": [{"name": "x", "shape": [3, 4]}],
        "layers": [
            {"type": "MultiHeadAttention", "num_heads": 1, "key_dim": 2, "inputs": ["x", "x"]},
            {"type": "Dropout", "rate": 0.5},
        ],
    },
}
"""The issue's case: specc printed ``dropout``, Keras names it ``dropout_1``."""


@pytest.mark.slow
@settings(max_examples=12, **SETTINGS)
@example(ISSUE_18)
@given(after_a_creator())
def test_names_after_a_layer_that_makes_layers_inside_equal_keras(data):
    """The static names (summary, table) equal those Keras gives the model the emitted code
    builds: a Dropout after a MultiHeadAttention is ``dropout_1``."""
    from specc.analysis.pipeline import compile_text
    from specc.backends import keras_build
    from tests.keras_helpers import keras, static_names

    note(repr(data))
    try:
        compiled = compile_text(yaml.safe_dump(data, sort_keys=False), "spec.yaml")
    except SpecError as exc:  # a made layer's own arguments (a Softmax axis): not names
        assume(False)
        raise AssertionError from exc
    keras().backend.clear_session()
    model = keras_build.build(compiled.spec, compiled.graph, compile=False, keras_names=True)
    assert [layer.name for layer in model.layers] == static_names(compiled.graph)


def test_mha_then_dropout_is_named_dropout_1():
    """The case the issue found, without Keras (the property test above compares with it)."""
    from specc.analysis.graph import layer_names

    mha = CATALOG["MultiHeadAttention"](type="MultiHeadAttention", num_heads=1, key_dim=2)
    drop = CATALOG["Dropout"](type="Dropout", rate=0.5)
    assert layer_names([drop, mha, drop])[0] == ["dropout", "multi_head_attention", "dropout_2"]


def test_the_recipe_layer_goes_through_every_path(tmp_path):
    """RMSNormalization, added by the README's recipe alone (one declaration, ``make
    schema``): the published schema takes it, the summary equals Keras' table, the emitted
    constructor makes the layer the builder makes, and the importer reads it back."""
    import json

    from specc.analysis.pipeline import compile_file
    from specc.backends import codegen, keras_build
    from specc.backends.arguments import layer_arguments
    from specc.backends.importer import import_model
    from tests.keras_helpers import keras, keras_rows, static_rows

    schema = json.loads((PACKAGE.parents[1] / "specc.schema.json").read_text())
    assert "RMSNormalization" in json.dumps(schema["$defs"])
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: rms\nmodel:\n  input: {shape: [5, 6]}\n  layers:\n"
        "    - {type: RMSNormalization, epsilon: 0.001}\n    - {type: Dense, units: 3}\n"
    )
    compiled = compile_file(spec)
    k = keras()
    k.backend.clear_session()
    model = keras_build.build(compiled.spec, compiled.graph, compile=False, keras_names=True)
    assert keras_rows(model) == static_rows(compiled.graph)
    assert static_rows(compiled.graph)[0]["params"] == 6
    layer = compiled.graph.layers[0]
    code = str(codegen.layer_call(layer.spec, layer_arguments(layer)))
    assert code == 'keras.layers.RMSNormalization(epsilon=0.001, name="rms_normalization")'
    made = eval(code, {"keras": k})  # our own generated code: literals only
    assert made.get_config() == keras_build.make_layer(layer).get_config()
    saved = tmp_path / "rms.keras"
    model.save(saved)
    imported = import_model(saved)["model"]["layers"]
    assert imported[0] == {"type": "RMSNormalization", "epsilon": 0.001}, imported


def test_import_names_a_dropout_after_mha_as_the_spec_will(tmp_path):
    """The importer leaves out a name Keras would give anyway; it counts the layers Keras
    makes inside a MultiHeadAttention as the static names do, so a Dropout after one that
    Keras named ``dropout_1`` reads back without a name, and one named ``dropout`` by hand
    keeps its name (left out, the spec would call it ``dropout_1``)."""
    from specc.analysis.pipeline import compile_text
    from specc.backends.importer import import_model
    from tests.keras_helpers import keras

    k = keras()
    for keras_name, written in (("dropout_1", None), ("dropout", "dropout")):
        k.backend.clear_session()
        x = k.Input(shape=(3, 4), name="x")
        y = k.layers.MultiHeadAttention(1, 2)(x, x)
        model = k.Model(x, k.layers.Dropout(0.5, name=keras_name)(y))
        model.save(tmp_path / "m.keras")
        spec = import_model(tmp_path / "m.keras")
        assert spec["model"]["layers"][-1].get("name") == written, spec
        graph = compile_text(yaml.safe_dump(spec, sort_keys=False), "spec.yaml").graph
        assert graph.rows[-1].name == keras_name
