"""Graph specs (inputs, outputs, routed layers, shared layers) against Keras' functional API.

Each spec is paired with the Keras code a person would write for it, run in a fresh
session with Keras' automatic names; specc's table (text and rows) must be Keras' own,
byte for byte, "Connected to" column and layer order included. specc's builder must make
the same model.
"""

from __future__ import annotations

import ast
import json
import random

import pytest
import yaml

from specc.analysis.pipeline import compile_text
from specc.backends import table
from specc.errors import SpecError
from tests.helpers import GRAPH_CASES as CASES
from tests.helpers import STATES, TWO_INPUTS, keras_graph_rows, keras_text
from tests.keras_helpers import keras


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    """Keras and specc both take the console width from COLUMNS: wide, the default table."""
    monkeypatch.setenv("COLUMNS", "200")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_graph_table_is_keras_table(case):
    text, code = CASES[case]
    compiled = compile_text(text)
    k = keras()
    k.backend.clear_session()
    model = code(k)
    assert table.as_text(compiled.graph) == keras_text(model)
    ours = [
        (r["name"], r["type"], r["params"], r["inputs"])
        for r in table.as_dict(compiled.graph)["layers"]
    ]
    assert ours == keras_graph_rows(model)
    assert compiled.graph.total_params == model.count_params()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_build_makes_the_same_model(case):
    from specc.backends import keras_build

    compiled = compile_text(CASES[case][0])
    model = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert table.as_text(compiled.graph) == keras_text(model)
    assert [layer.name for layer in model.layers] == [r.name for r in compiled.graph.rows]


def test_json_rows_gain_inputs_and_output_shapes():
    data = table.as_dict(compile_text(STATES).graph)
    rows = {r["name"]: r for r in data["layers"]}
    assert rows["lstm"]["output_shape"] == [[None, 9, 4], [None, 4], [None, 4]]
    assert rows["attention"]["inputs"] == ["lstm[0][0]", "lstm[0][0]"]
    assert rows["dense"]["inputs"] == ["lstm[0][1]"]
    assert rows["input_layer"]["inputs"] == []
    assert data["outputs"] == ["attention", "dense", "lstm.2"]
    assert data["output_shape"] == [[None, 9, 4], [None, 2], [None, 4]]


def test_a_stack_stays_a_stack():
    """``inputs`` naming the layer before, ``outputs`` naming the last: still Sequential."""
    plain = compile_text(
        "name: s\nmodel:\n  input: {shape: [4]}\n  layers:\n"
        "    - {type: Dense, units: 3, inputs: [input_layer]}\n"
        "    - {type: Dense, units: 2, inputs: [dense]}\n  outputs: [dense_1]\n"
    )
    assert not plain.graph.functional
    assert "Connected to" not in table.as_text(plain.graph)
    assert "InputLayer" not in table.as_text(plain.graph)


def _errors(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        compile_text(text, "g.yaml")
    return [d.text() for d in info.value.diagnostics]


HEAD = "name: g\nmodel:\n  inputs:\n    - {name: a, shape: [4, 3]}\n    - {name: b, shape: [4, 3]}\n  layers:\n"


def test_forward_reference_that_is_no_cycle():
    assert _errors(
        HEAD + "    - {type: Dense, units: 3, inputs: [dense_1]}\n"
        "    - {type: Dense, units: 3, inputs: [a]}\n"
    ) == [
        "g.yaml:7:40: error: model.layers[0].inputs[0]: 'dense_1' is made later "
        "(model.layers[1]); Keras calls layers in the order they are listed, so list it "
        "above this layer"
    ]


def test_apply_of_an_unknown_layer():
    assert _errors(
        HEAD + "    - {type: Dense, units: 3, inputs: [a]}\n    - {apply: dens, inputs: [b]}\n"
    ) == ["g.yaml:8:15: error: model.layers[1].apply: unknown layer 'dens' (did you mean 'dense'?)"]


def test_shared_layer_on_another_width():
    errors = _errors(
        "name: g\nmodel:\n  inputs:\n    - {name: a, shape: [3]}\n    - {name: b, shape: [5]}\n"
        "  layers:\n    - {type: Dense, units: 2, inputs: [a]}\n"
        "    - {apply: dense, inputs: [b], as: db}\n  outputs: [dense, db]\n"
    )
    assert errors == [
        "g.yaml:8:7: error: model.layers[1]: layer 'dense' made its weights for input "
        "(None, 3) (model.layers[0]); called on (None, 5) it would need other weights, "
        "which Keras refuses"
    ]


def test_first_layer_of_several_inputs_must_say_which():
    assert _errors(HEAD + "    - {type: Dense, units: 3}\n") == [
        "g.yaml:7:7: error: model.layers[0]: the model has 2 inputs; say which this layer "
        "takes with inputs: [...] (one of a, b)"
    ]


def test_layer_inside_a_wrapper_takes_no_inputs():
    errors = _errors(
        "name: g\nmodel:\n  input: {shape: [4, 3]}\n  layers:\n"
        "    - {type: Bidirectional, layer: {type: LSTM, units: 2, inputs: [input_layer]}}\n"
    )
    assert errors == [
        "g.yaml:5:67: error: model.layers[0].layer.inputs: a layer inside Bidirectional "
        "takes what the Bidirectional gives it; only the model's own layers take inputs"
    ]


def test_cli_summary_json_of_a_graph(specc, tmp_path):
    path = tmp_path / "g.yaml"
    path.write_text(TWO_INPUTS)
    run = specc("summary", str(path), "--format", "json")
    assert run.exit_code == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["inputs"] == ["query", "value"]
    assert {r["name"] for r in data["layers"]} >= {"query", "value"}


def test_emit_code_writes_a_graph_of_two_inputs_and_outputs(specc, tmp_path):
    """The script reads an array per input and output, by name (x_train_query, ...)."""
    path = tmp_path / "g.yaml"
    data = {**yaml.safe_load(TWO_INPUTS), "data": {"dataset": "npz", "path": "d.npz"}}
    path.write_text(
        yaml.safe_dump({**data, "compile": {"loss": {"dense_2": "mse", "dense_1": "mae"}}})
    )
    run = specc("emit-code", str(path), "-o", str(tmp_path))
    assert run.exit_code == 0, run.stderr
    tree = ast.parse((tmp_path / "two_inputs.py").read_text())
    consts = {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and node.targets[0].id in ("INPUTS", "OUTPUTS", "KEYS")
    }
    assert consts["INPUTS"] == ("query", "value") and consts["OUTPUTS"] == ("dense_2", "dense_1")
    assert consts["KEYS"][:4] == (
        "x_train_query",
        "x_train_value",
        "y_train_dense_2",
        "y_train_dense_1",
    )


def random_graph(rng: random.Random) -> str:
    """A random graph spec: 1-3 inputs, Dense and Attention layers on earlier tensors,
    Dense layers called again (shared), 1-3 outputs; some layers may feed no output."""
    inputs = [f"in{k}" for k in range(rng.randint(1, 3))]
    tensors, dense, counts, lines = list(inputs), [], {"dense": 0, "attention": 0}, []
    for _ in range(rng.randint(1, 9)):
        kind = rng.choice(
            ["Dense", "Dense", "Attention", "apply"] if dense else ["Dense", "Attention"]
        )
        if kind == "apply":
            label = f"call{len(lines)}"
            lines.append(
                f"{{apply: {rng.choice(dense)}, inputs: [{rng.choice(tensors)}], as: {label}}}"
            )
            tensors.append(label)
            continue
        prefix = kind.lower()
        name = prefix if counts[prefix] == 0 else f"{prefix}_{counts[prefix]}"
        counts[prefix] += 1
        takes = [rng.choice(tensors) for _ in range(1 if kind == "Dense" else 2)]
        units = ", units: 6" if kind == "Dense" else ""
        lines.append(f"{{type: {kind}{units}, inputs: [{', '.join(takes)}]}}")
        tensors.append(name)
        dense += [name] if kind == "Dense" else []
    made = tensors[len(inputs) :]
    outputs = rng.sample(made, k=min(len(made), rng.randint(1, 3)))
    return "\n".join(
        ["name: fuzz", "model:", "  inputs:"]
        + [f"    - {{name: {n}, shape: [4, 6]}}" for n in inputs]
        + ["  layers:"]
        + [f"    - {line}" for line in lines]
        + [f"  outputs: [{', '.join(outputs)}]", ""]
    )


@pytest.mark.parametrize("seed", range(25))
def test_random_graphs_are_listed_as_keras_lists_them(seed):
    """Keras orders a functional model's layers itself (depth, then first visit from the
    outputs); the model specc builds from a random graph must get specc's table."""
    from specc.backends import keras_build

    compiled = compile_text(random_graph(random.Random(seed)))
    model = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert table.as_text(compiled.graph) == keras_text(model)
