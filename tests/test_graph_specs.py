"""Graph specs (inputs, outputs, routed layers, shared layers) against Keras' functional API.

Each spec is paired with the Keras code a person would write for it, run in a fresh
session with Keras' automatic names; specc's table (text and rows) must be Keras' own,
byte for byte, "Connected to" column and layer order included. specc's builder must make
the same model.
"""

from __future__ import annotations

import ast
import io
import json
import random
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from specc.analysis.pipeline import compile_text
from specc.backends import table
from specc.errors import SpecError
from tests.conftest import CASES as CASES_DIR
from tests.keras_helpers import keras

GraphCase = tuple[str, Callable[[Any], Any]]


def _branches(k: Any) -> Any:
    x = k.Input(shape=(10, 16))
    a = k.layers.Dense(8)(x)
    b = k.layers.Dense(8, activation="relu")(x)
    b = k.layers.Dense(8)(b)
    att = k.layers.Attention()([a, b])
    out = k.layers.Dense(3)(att)
    return k.Model(x, out, name="branches")


BRANCHES = """
name: branches
model:
  input: {shape: [10, 16]}
  layers:
    - {type: Dense, units: 8}
    - {type: Dense, units: 8, activation: relu, inputs: [input_layer]}
    - {type: Dense, units: 8}
    - {type: Attention, inputs: [dense, dense_2]}
    - {type: Dense, units: 3}
"""


def _residual(k: Any) -> Any:
    x = k.Input(shape=(6, 8), name="tokens")
    h = k.layers.LayerNormalization()(x)
    h = k.layers.MultiHeadAttention(num_heads=2, key_dim=4)(h, h)
    h = k.layers.Attention()([h, x])  # the residual path joins through attention
    out = k.layers.GlobalAveragePooling1D()(h)
    out = k.layers.Dense(2, activation="softmax")(out)
    return k.Model(x, out, name="residual")


RESIDUAL = """
name: residual
model:
  inputs: [{name: tokens, shape: [6, 8]}]
  layers:
    - {type: LayerNormalization}
    - {type: MultiHeadAttention, num_heads: 2, key_dim: 4, inputs: [layer_normalization, layer_normalization]}
    - {type: Attention, inputs: [multi_head_attention, tokens]}
    - {type: GlobalAveragePooling1D}
    - {type: Dense, units: 2, activation: softmax}
"""


def _two_inputs(k: Any) -> Any:
    q = k.Input(shape=(5, 4), name="query")
    v = k.Input(shape=(7, 4), name="value", dtype="float32")
    vq = k.layers.Dense(4)(v)
    att = k.layers.Attention(use_scale=True)([q, vq])
    pooled = k.layers.GlobalMaxPooling1D()(att)
    side = k.layers.Flatten()(v)
    side = k.layers.Dense(3)(side)
    out = k.layers.Dense(2)(pooled)
    return k.Model([q, v], [out, side], name="two_inputs")


TWO_INPUTS = """
name: two_inputs
model:
  inputs:
    - {name: query, shape: [5, 4]}
    - {name: value, shape: [7, 4]}
  layers:
    - {type: Dense, units: 4, inputs: [value]}
    - {type: Attention, use_scale: true, inputs: [query, dense]}
    - {type: GlobalMaxPooling1D}
    - {type: Flatten, inputs: [value]}
    - {type: Dense, units: 3}
    - {type: Dense, units: 2, inputs: [global_max_pooling1d]}
  outputs: [dense_2, dense_1]
"""


def _shared(k: Any) -> Any:
    a = k.Input(shape=(6, 5), name="left")
    b = k.Input(shape=(6, 5), name="right")
    encoder = k.layers.Dense(8, activation="relu", name="encoder")
    ea = encoder(a)
    eb = encoder(b)
    att = k.layers.Attention()([ea, eb])
    back = k.layers.Attention()([eb, ea])
    pooled = k.layers.GlobalAveragePooling1D()(att)
    pooled_back = k.layers.GlobalAveragePooling1D()(back)
    head = k.layers.Dense(1, activation="sigmoid", name="head")
    return k.Model([a, b], [head(pooled), head(pooled_back)], name="siamese")


SHARED = """
name: siamese
model:
  inputs:
    - {name: left, shape: [6, 5]}
    - {name: right, shape: [6, 5]}
  layers:
    - {type: Dense, units: 8, activation: relu, name: encoder, inputs: [left]}
    - {apply: encoder, inputs: [right], as: encoded_right}
    - {type: Attention, inputs: [encoder, encoded_right]}
    - {type: Attention, inputs: [encoded_right, encoder]}
    - {type: GlobalAveragePooling1D, inputs: [attention]}
    - {type: GlobalAveragePooling1D, inputs: [attention_1]}
    - {type: Dense, units: 1, activation: sigmoid, name: head, inputs: [global_average_pooling1d]}
    - {apply: head, inputs: [global_average_pooling1d_1], as: head_back}
  outputs: [head, head_back]
"""


def _states(k: Any) -> Any:
    x = k.Input(shape=(9, 3))
    seq, h, c = k.layers.LSTM(4, return_sequences=True, return_state=True)(x)
    att = k.layers.Attention()([seq, seq])
    d = k.layers.Dense(2)(h)
    return k.Model(x, [att, d, c], name="states")


STATES = """
name: states
model:
  input: {shape: [9, 3]}
  layers:
    - {type: LSTM, units: 4, return_sequences: true, return_state: true}
    - {type: Attention, inputs: [lstm.0, lstm.0]}
    - {type: Dense, units: 2, inputs: [lstm.1]}
  outputs: [attention, dense, lstm.2]
"""


def _chain_of_state(k: Any) -> Any:
    x = k.Input(shape=(9, 3))
    _, h, _ = k.layers.LSTM(4, return_state=True)(x)
    return k.Model(x, k.layers.Dense(2)(h), name="chain")


CHAIN = """
name: chain
model:
  input: {shape: [9, 3]}
  layers:
    - {type: LSTM, units: 4, return_state: true}
    - {type: Dense, units: 2, inputs: [lstm.1]}
"""


def _deep_rejoin(k: Any) -> Any:
    """Branches of different depths rejoining: Keras orders layers by depth, then by first
    visit in its walk from the outputs, not by construction order."""
    x = k.Input(shape=(4, 6))
    short = k.layers.Dense(6, name="short")(x)
    long = k.layers.Dense(6)(x)
    long = k.layers.Dense(6)(long)
    long = k.layers.Dense(6)(long)
    joined = k.layers.Attention()([long, short])
    late = k.layers.Dense(6, name="late")(x)
    joined2 = k.layers.Attention()([late, joined])
    return k.Model(x, [joined2, short], name="rejoin")


DEEP_REJOIN = """
name: rejoin
model:
  input: {shape: [4, 6]}
  layers:
    - {type: Dense, units: 6, name: short}
    - {type: Dense, units: 6, inputs: [input_layer]}
    - {type: Dense, units: 6}
    - {type: Dense, units: 6}
    - {type: Attention, inputs: [dense_2, short]}
    - {type: Dense, units: 6, name: late, inputs: [input_layer]}
    - {type: Attention, inputs: [late, attention]}
  outputs: [attention_1, short]
"""


def _unused(k: Any) -> Any:
    """A layer made and called but feeding no output: Keras leaves it out of the model."""
    x = k.Input(shape=(4, 6))
    d = k.layers.Dense(6)(x)
    k.layers.Dense(3)(x)
    return k.Model(x, k.layers.Attention()([d, x]), name="case")


CASES: dict[str, GraphCase] = {
    "unused_branch": ((CASES_DIR / "graph_unused_layer" / "spec.yaml").read_text(), _unused),
    "branches": (BRANCHES, _branches),
    "residual_attention": (RESIDUAL, _residual),
    "two_inputs_two_outputs": (TWO_INPUTS, _two_inputs),
    "shared_layers": (SHARED, _shared),
    "lstm_states": (STATES, _states),
    "chain_through_a_state": (CHAIN, _chain_of_state),
    "deep_rejoin": (DEEP_REJOIN, _deep_rejoin),
}


def _keras_text(model: Any) -> str:
    out = io.StringIO()
    model.summary(print_fn=lambda line, line_break=True: out.write(line))
    return out.getvalue()


def _keras_rows(model: Any) -> list[dict[str, Any]]:
    """Keras' own rows: names, types, param counts and connections per layer."""
    nodes = {id(n) for v in model._nodes_by_depth.values() for n in v}
    rows = []
    for layer in model.layers:
        connected = [
            f"{t._keras_history.operation.name}[{t._keras_history.node_index}]"
            f"[{t._keras_history.tensor_index}]"
            for node in layer._inbound_nodes
            if id(node) in nodes
            for t in node.input_tensors
        ]
        rows.append((layer.name, type(layer).__name__, layer.count_params(), connected))
    return rows


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
    assert table.as_text(compiled.graph) == _keras_text(model)
    ours = [
        (r["name"], r["type"], r["params"], r["inputs"])
        for r in table.as_dict(compiled.graph)["layers"]
    ]
    assert ours == _keras_rows(model)
    assert compiled.graph.total_params == model.count_params()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_build_makes_the_same_model(case):
    from specc.backends import keras_build

    compiled = compile_text(CASES[case][0])
    model = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert table.as_text(compiled.graph) == _keras_text(model)
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
    assert table.as_text(compiled.graph) == _keras_text(model)
