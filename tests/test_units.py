"""Readable units: no function too long to review without a reason, and the phases of the
graph resolver, of the functional-code writer, of the importer and of the sweep each
usable (and tested) on its own."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import specc
from specc.analysis import functional as dag
from specc.analysis.pipeline import compile_text
from specc.backends import codegen
from specc.language import loader
from specc.language.schema import Spec
from tests.helpers import BRANCHES

PACKAGE = Path(specc.__file__).parent
LIMIT = 80
"""Lines a function may have (def to last line) before it needs a reason."""


def _functions(tree: ast.Module):  # type: ignore[no-untyped-def]
    """(qualified name, node) of every function, methods as ``Class.method``."""

    def walk(node: ast.AST, prefix: str):  # type: ignore[no-untyped-def]
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield prefix + child.name, child
                yield from walk(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")

    yield from walk(tree, "")


def long_functions(root: Path) -> dict[tuple[str, str], tuple[int, bool]]:
    """Each function over LIMIT lines: its length and whether a ``# long: <reason>`` comment
    is the line above it (above its decorators)."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for name, node in _functions(ast.parse(text)):
            length = node.end_lineno - node.lineno + 1  # type: ignore[operator]
            if length <= LIMIT:
                continue
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            above = lines[first - 2].strip() if first >= 2 else ""
            reason = above.startswith("# long:") and len(above) > len("# long:") + 3
            found[(path.relative_to(root).as_posix(), name)] = (length, reason)
    return found


def test_no_function_is_over_80_lines_without_a_reason():
    found = long_functions(PACKAGE)
    unexplained = [
        f"{path}: {name} is {length} lines; split it, or write '# long: <reason>' above it"
        for (path, name), (length, reason) in found.items()
        if not reason
    ]
    assert unexplained == []


def test_the_length_check_sees_a_long_function_and_its_reason(tmp_path):
    body = "".join(f"    x{i} = {i}\n" for i in range(LIMIT))
    method = body.replace("    ", "        ")
    (tmp_path / "m.py").write_text(
        f"class C:\n    def short(self):\n        return 1\n\n    def big(self):\n{method}"
        f"\n# long: a table\ndef explained():\n{body}\n# long:\ndef plain():\n{body}"
    )
    assert long_functions(tmp_path) == {("m.py", "C.big"): (LIMIT + 1, False),
                                        ("m.py", "explained"): (LIMIT + 1, True),
                                        ("m.py", "plain"): (LIMIT + 1, False)}  # fmt: skip


# -- resolve_graph, phase by phase ------------------------------------------------------
def _resolver(text: str) -> dag._Resolver:
    loaded = loader.load_text(text, "g.yaml")
    return dag._Resolver(Spec.model_validate(loaded.data), loaded.source.diagnostic)


TWO_INPUTS = """
name: two
model:
  inputs: [{name: a, shape: [4]}, {name: b, shape: [4]}]
  layers:
    - {type: Dense, units: 3, inputs: [a]}
    - {type: Concatenate, inputs: [dense, b], as: joined}
    - {type: Dense, units: 2}
  outputs: [dense_1]
"""


def test_names_phase_records_inputs_layers_and_labels_and_refuses_a_twice_named_input():
    r = _resolver(TWO_INPUTS)
    r.name()
    assert r.problems == []
    assert r.symbols == {"a": ("input", 0), "b": ("input", 1), "dense": ("layer", 0),
                         "concatenate": ("layer", 1), "dense_1": ("layer", 2),
                         "joined": ("label", 1)}  # fmt: skip
    twice = _resolver(TWO_INPUTS.replace("name: b", "name: a"))
    twice.name()
    [problem] = twice.problems
    assert (
        problem.message == "input name 'a' is already used by input 0; Keras requires unique names"
    )
    assert problem.line == 4


def test_connect_phase_links_each_entry_and_names_an_unknown_input():
    r = _resolver(TWO_INPUTS)
    r.name()
    r.connect()
    assert [[(name, index, target) for _, name, index, target in r.refs[i]] for i in range(3)] == [
        [("a", None, ("input", 0))],
        [("dense", None, ("layer", 0)), ("b", None, ("input", 1))],
        [("", None, ("entry", 1))],
    ]
    bad = _resolver(TWO_INPUTS.replace("inputs: [dense, b]", "inputs: [dence, b]"))
    bad.name()
    bad.connect()
    assert [p.message for p in bad.problems] == ["unknown input 'dence' (did you mean 'dense'?)"]
    assert bad.failed == {1}


def test_forward_reference_phase_tells_a_later_layer_from_a_cycle():
    later = _resolver(TWO_INPUTS.replace("inputs: [a]}", "inputs: [dense_1]}"))
    later.name()
    later.connect()
    later.refuse_forward_references()
    assert [p.message for p in later.problems] == [
        "'dense_1' is computed from this layer's output: a cycle "
        "(dense -> dense_1 -> concatenate -> dense), which Keras cannot build"
    ]
    own = _resolver(TWO_INPUTS.replace("inputs: [a]}", "inputs: [dense]}"))
    own.name()
    own.connect()
    own.refuse_forward_references()
    assert [p.message for p in own.problems] == [
        "layer 'dense' takes its own output: a cycle, which Keras cannot build"
    ]


def _connected(text: str) -> dag._Resolver:
    r = _resolver(text)
    r.name()
    r.connect()
    r.refuse_forward_references()
    return r


def test_call_phase_gives_each_call_its_node_and_shape():
    r = _connected(TWO_INPUTS)
    r.call_layers()
    assert r.problems == []
    assert [(c.layer, c.node, c.sources, c.output_shape) for c in r.calls] == [
        ("dense", 0, (("a", 0, None),), (None, 3)),
        ("concatenate", 0, (("dense", 0, None), ("b", 0, None)), (None, 7)),
        ("dense_1", 0, (("concatenate", 0, None),), (None, 2)),
    ]
    assert r.total == (4 * 3 + 3) + (7 * 2 + 2)
    shared = _connected(
        TWO_INPUTS.replace("- {type: Dense, units: 2}", "- {apply: dense, inputs: [joined]}")
    )
    shared.call_layers()
    assert [p.message for p in shared.problems] == [
        "layer 'dense' made its weights for input (None, 4) (model.layers[0]); called on "
        "(None, 7) it would need other weights, which Keras refuses"
    ]


def test_outputs_phase_checks_each_output_exists():
    r = _connected(TWO_INPUTS.replace("outputs: [dense_1]", "outputs: [dense_1.2, b, nope]"))
    r.call_layers()
    assert r.outputs_taken() == [("b", 0, None)]
    assert [p.message for p in r.problems] == [
        "'dense_1' has 1 output(s); there is no output 2",
        "unknown output 'nope'",
    ]


def test_model_phase_orders_layers_as_keras_and_warns_of_what_feeds_no_output():
    r = _connected(TWO_INPUTS.replace("outputs: [dense_1]", "outputs: [joined]"))
    r.call_layers()
    graph = r.model(r.outputs_taken())
    assert [row.name for row in graph.rows] == ["a", "dense", "b", "concatenate"]
    assert graph.rows[-1].connected == ("dense[0][0]", "b[0][0]")
    assert not graph.sequential_like
    assert [(p.severity, p.message) for p in r.problems] == [
        ("warning", "layer 'dense_1' feeds no output: Keras leaves it out of the model (use "
         "it, add it to model.outputs, or remove it)")
    ]  # fmt: skip


def test_the_phases_together_are_resolve_graph():
    loaded = loader.load_text(TWO_INPUTS, "g.yaml")
    graph, problems = dag.resolve_graph(Spec.model_validate(loaded.data), loaded.source.diagnostic)
    r = _connected(TWO_INPUTS)
    r.call_layers()
    assert (graph, problems) == (r.model(r.outputs_taken()), r.problems)


# -- graph_build_model, step by step ----------------------------------------------------


def _writer(text: str, functions: bool = False) -> codegen._GraphCode:
    compiled = compile_text(text, "g.yaml")
    plan = codegen._block_plan(compiled) if functions else None
    return codegen._GraphCode(compiled, codegen.PyCode("NAME"), 1, plan)


def test_input_step_writes_one_keras_input():
    w = _writer(BRANCHES)
    assert w.input_lines() == [
        '    inputs = keras.Input(shape=INPUT_SHAPE, name="input_layer")',
        "",
    ]
    assert w.tensors == {("input_layer", 0): "inputs"}


def test_target_step_keeps_x_for_the_next_call_only():
    w = _writer(BRANCHES)
    # dense feeds attention two calls on: a name; dense_1 feeds the next call only: x
    assert [w.target(k, w.base_name(k), w.names, k + 1, True) for k in range(5)] == [
        "dense", "x", "x", "x", "x"
    ]  # fmt: skip


def test_call_step_writes_one_layer_made_and_applied():
    w = _writer(BRANCHES)
    w.input_lines()
    assert w.call_lines(0) == ['    dense = keras.layers.Dense(8, name="dense")(inputs)']
    assert w.call_lines(1) == [
        '    x = keras.layers.Dense(8, activation="relu", name="dense_1")(inputs)'
    ]


def test_model_step_returns_the_model_of_its_inputs_and_outputs():
    w = _writer(BRANCHES)
    w.tensors = {("input_layer", 0): "inputs", ("dense_3", 0): "x"}
    assert w.model_lines() == ["    return keras.Model(inputs=inputs, outputs=x, name=NAME)"]


CONV_BLOCKS = """
name: conv_blocks
blocks:
  res:
    params: [filters, kernel]
    layers:
      - {type: Conv2D, filters: $filters, kernel_size: $kernel, padding: same, as: y}
      - {type: Add, inputs: [in, y]}
model:
  input: {shape: [16, 16, 3]}
  layers:
    - {type: Conv2D, filters: 8, kernel_size: 3, name: stem}
    - {block: res, filters: 8, kernel: 3}
    - {block: res, filters: 8, kernel: 1}
    - {type: GlobalAveragePooling2D}
"""


def test_block_steps_write_one_function_and_a_call_per_use():
    w = _writer(CONV_BLOCKS, functions=True)
    assert w.plan is not None
    first, second = (w.plan.segments[k] for k in sorted(w.plan.segments))
    text, variables = w.function(first)
    assert text[0] == "def res(inputs, filters, kernel):"
    assert variables == {"filters": "filters", "kernel": "kernel"}
    assert text[-1] == "    return keras.layers.Add()([inputs, x])"
    compiled = compile_text(CONV_BLOCKS, "g.yaml")
    functions, _ = codegen.graph_build_model(compiled, codegen.PyCode("NAME"))
    assert functions[: len(text)] == text
    assert w.block_values(second) == {"filters": 8, "kernel": 1}
    w.input_lines()
    w.call_lines(0)
    assert w.block_call_lines(first) == ["    x = res(x, filters=8, kernel=3)"]
    assert w.block_call_lines(second) == ["    x = res(x, filters=8, kernel=1)"]


def test_a_block_whose_uses_differ_is_written_out():
    """block_values raises _Flat where one param would take two values; the writer then
    writes the graph call by call."""
    w = _writer(CONV_BLOCKS, functions=True)
    assert w.plan is not None
    seg = w.plan.segments[min(w.plan.segments)]
    w.plan.params[seg.first + 1] = {"name": "filters"}  # the Add's name: not 8
    with pytest.raises(codegen._Flat):
        w.block_values(seg)


# -- the importer, by concern -----------------------------------------------------------
@pytest.mark.keras
def test_each_importer_concern_reads_its_part_alone():
    from specc.backends import kerasenv
    from specc.backends.import_compile import CompileReader
    from specc.backends.import_graph import GraphReader
    from specc.backends.import_layers import LayerReader

    kerasenv.keras()
    layers = LayerReader()
    dense = {
        "class_name": "Dense",
        "module": "keras.layers",
        "config": {"name": "dense", "units": 4, "activation": "relu"},
    }
    assert layers.layer(dense, {}, "layers[0]") == {"type": "Dense", "units": 4,
                                                    "activation": "relu"}  # fmt: skip
    assert layers.problems == []
    graph = GraphReader()
    inner = {"layers": [{"class_name": "InputLayer", "config": {"batch_shape": [None, 3]}}, dense]}
    assert graph.sequential(inner) == {
        "input": {"shape": [3]},
        "layers": [{"type": "Dense", "units": 4, "activation": "relu"}],
    }
    compiling = CompileReader()
    saved = {"compile_config": {"optimizer": "adam", "loss": "mse", "metrics": ["mae"]}}
    assert compiling.compile(saved) == {"optimizer": "adam", "loss": "mse", "metrics": ["mae"]}
    assert not hasattr(layers, "compile") and not hasattr(compiling, "functional")


# -- the sweep, by concern --------------------------------------------------------------
@pytest.mark.parametrize(
    "module, names",
    [
        ("params", ["Param", "parse_grid", "parse_range", "spec_with", "check_values"]),
        ("storage", ["open_storage", "DRIVERS", "OPEN_TRIES"]),
        ("liveness", ["recover_stale", "HEARTBEAT_S", "STALE_AFTER_S"]),
        ("study", ["Settings", "Sweep", "resolve_settings", "open_sweep"]),
        ("scheduling", ["claim", "run_trial", "run"]),
        ("reports", ["rows", "csv_text", "markdown_text", "plot", "write_reports"]),
    ],
)
def test_the_sweep_is_a_package_of_one_concern_a_module(module, names):
    loaded = importlib.import_module(f"specc.training.sweep.{module}")
    for name in names:
        value = getattr(loaded, name)
        assert getattr(value, "__module__", loaded.__name__) == loaded.__name__, name
    lines = len(Path(loaded.__file__).read_text().splitlines())  # type: ignore[arg-type]
    assert lines < 400, f"{module}: {lines} lines"


def test_the_sweeps_values_read_without_its_storage():
    from specc.training.sweep import params as values

    param = values.parse_grid("model.layers[0].units=[1, 2]", 1)
    assert (param.name, param.values) == ("model.layers[0].units", (1, 2))
    source = ast.parse(Path(values.__file__).read_text())
    imported = {
        n.module for n in ast.walk(source) if isinstance(n, ast.ImportFrom) and n.module
    } | {a.name for n in ast.walk(source) if isinstance(n, ast.Import) for a in n.names}
    assert not any("optuna" in m or "sweep." in m for m in imported), imported
