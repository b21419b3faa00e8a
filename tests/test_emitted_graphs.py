"""emit-code for graph specs: functional code that builds the model `specc build` makes.

Each graph of ``tests.helpers.GRAPH_CASES`` (branches, residual through attention, two
inputs and outputs, shared layers, LSTM states), a residual with ``Add`` and blocks:
the emitted ``build_model()`` must give Keras' config, rows and weights equal to the
builder's, and the code must be what ruff and black leave alone. One-input, one-output
graphs are emitted as whole training scripts, as are several inputs and outputs; the others
(outputs without a name each, which emit-code refuses) through the same build_model() code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from specc.analysis.pipeline import compile_text
from specc.backends import codegen
from specc.errors import SpecError
from tests.emitted import completed, emit, load_module
from tests.helpers import (
    ARITHMETIC,
    BLOCKS_RESIDUAL,
    GRAPH_CASES,
    INDEXING,
    SHAPING,
    TWO_INPUTS,
    assert_formatted,
    assert_same_as_specc_build,
)

ADD_RESIDUAL = """
name: add_residual
model:
  input: {shape: [8, 8, 3]}
  layers:
    - {type: Conv2D, filters: 8, kernel_size: 3, padding: same, activation: relu}
    - {type: Conv2D, filters: 8, kernel_size: 3, padding: same, activation: relu}
    - {type: Conv2D, filters: 8, kernel_size: 3, padding: same, as: branch}
    - {type: Add, inputs: [conv2d, branch]}
    - {type: Activation, activation: relu, as: shortcut}
    - {type: Conv2D, filters: 8, kernel_size: 1, inputs: [shortcut]}
    - {type: Concatenate, axis: -1, inputs: [shortcut, conv2d_3]}
    - {type: GlobalAveragePooling2D}
    - {type: Dense, units: 10, activation: softmax}
"""

CONV_BLOCKS = """
name: conv_blocks
blocks:
  res:
    params: {filters: 8, kernel: 3}
    layers:
      - {type: Conv2D, filters: $filters, kernel_size: $kernel, padding: same, activation: relu}
      - {type: BatchNormalization}
      - {type: Conv2D, filters: $filters, kernel_size: $kernel, padding: same, as: y}
      - {type: Add, inputs: [in, y]}
      - {type: Activation, activation: relu}
  down:
    params: [filters]
    layers:
      - {type: Conv2D, filters: $filters, kernel_size: 1, strides: 2}
  stage:
    params: [filters]
    layers:
      - {block: down, filters: $filters}
      - {block: res, filters: $filters}
model:
  input: {shape: [16, 16, 3]}
  layers:
    - {type: Conv2D, filters: 8, kernel_size: 3, padding: same, name: stem}
    - {block: res, repeat: 2}
    - {block: down, filters: 16}
    - {block: res, filters: 16, kernel: 1}
    - {type: GlobalAveragePooling2D}
    - {type: Dense, units: 10, activation: softmax}
"""

NESTED_BLOCKS = CONV_BLOCKS.replace(
    "    - {block: down, filters: 16}\n    - {block: res, filters: 16, kernel: 1}\n",
    "    - {block: stage, filters: 16}\n",
)

HARD_SWISH_BLOCKS = """
name: hard_swish_blocks
blocks:
  hard_swish:
    params: {scale: 0.16666666666666666}
    layers:
      - {op: add, value: 3.0}
      - {op: relu6}
      - {op: multiply, value: $scale, as: gate}
      - {op: multiply, inputs: [in, gate]}
model:
  input: {shape: [8, 8, 3]}
  layers:
    - {type: Conv2D, filters: 8, kernel_size: 3, padding: same}
    - {block: hard_swish}
    - {type: Conv2D, filters: 8, kernel_size: 1}
    - {block: hard_swish, as: hs}
    - {op: power, inputs: [-2, hs]}
    - {op: subtract, inputs: [1.0, power]}
    - {type: GlobalAveragePooling2D}
    - {op: softmax}
"""

GRAPHS = {
    **{name: text for name, (text, _) in GRAPH_CASES.items()},
    "add_residual": ADD_RESIDUAL,
    "residual_block": BLOCKS_RESIDUAL,
    "conv_blocks": CONV_BLOCKS,
    "nested_blocks": NESTED_BLOCKS,
    "operations": ARITHMETIC,
    "hard_swish_blocks": HARD_SWISH_BLOCKS,
    "shaping_operations": SHAPING,
    "indexing_operations": INDEXING,
}


def _compiled(text: str):
    """The graph as a spec emit-code takes where it can (neutral data and compile)."""
    data = yaml.safe_load(text)
    try:
        return compile_text(yaml.safe_dump(completed(data), sort_keys=False), "g.yaml"), True
    except SpecError:  # several outputs of one layer: no name to train each by
        return compile_text(text, "g.yaml"), False


def _model_module(compiled) -> str:
    """build_model() as the script has it, with the names it uses, as a module."""
    graph = compiled.graph
    head = [
        "from __future__ import annotations",
        "",
        "from typing import TYPE_CHECKING",
        "",
        "if TYPE_CHECKING:",
        "    import keras",
        "",
        *codegen.assignment_lines("NAME", codegen.as_expr(compiled.spec.name)),
        *codegen.assignment_lines("INPUT_SHAPE", codegen.as_expr(graph.inputs[0].shape[1:])),
        "",
        "",
    ]
    functions, body = codegen.graph_build_model(compiled, codegen.PyCode("NAME"))
    build = ["def build_model() -> keras.Model:", "    import keras", ""]
    return "\n".join([*head, *functions, *build, *body]) + "\n"


def _emitted(case: str, folder: Path) -> tuple[object, bool, Path]:
    """The graph compiled, whether it is emittable, and its script (or model module)."""
    folder.mkdir(parents=True, exist_ok=True)
    compiled, emittable = _compiled(GRAPHS[case])
    assert compiled.graph.functional
    if emittable:
        path = emit(compiled, folder)
        assert "keras.Sequential" not in path.read_text()
    else:
        path = folder / f"{case}.py"
        path.write_text(_model_module(compiled))
    return compiled, emittable, path


@pytest.mark.parametrize("case", GRAPHS, ids=str)
def test_emitted_graph_builds_the_model_specc_builds(case, tmp_path):
    compiled, emittable, path = _emitted(case, tmp_path)
    module = load_module(path)
    if emittable:
        assert_same_as_specc_build(compiled, module)
    else:
        _assert_same_model(compiled, module)


def test_emitted_graphs_are_formatted(tmp_path):
    """Every graph's code, checked by ruff and black in one project (six ruff runs in all,
    not six a graph: the same check, a fraction of the processes)."""
    files = {}
    for case in GRAPHS:
        _, _, path = _emitted(case, tmp_path / case)
        files[Path(f"{case}.py")] = path.read_text()
    assert len(files) == len(GRAPHS) > 10
    assert_formatted(files, tmp_path)


def _assert_same_model(compiled, module) -> None:
    import numpy as np

    from specc.backends import keras_build
    from tests.keras_helpers import keras, keras_rows

    k = keras()
    k.backend.clear_session()
    k.utils.set_random_seed(7)
    ours = keras_build.build(compiled.spec, compiled.graph, compile=False)
    k.backend.clear_session()
    k.utils.set_random_seed(7)
    theirs = module.build_model()
    assert theirs.get_config() == ours.get_config()
    assert keras_rows(theirs) == keras_rows(ours)
    assert theirs.count_params() == ours.count_params() == compiled.graph.total_params
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ training a graph
RESIDUAL_MNIST = """
name: residual_mnist
data:
  dataset: npz
  path: {data}
  preprocessing:
    x: [{{reshape: [784]}}, {{cast: float32}}, {{divide: 255}}]
    y: [{{one_hot: 10}}]
model:
  input: {{shape: [784]}}
  layers:
    - {{type: Dense, units: 16, activation: relu}}
    - {{type: Dense, units: 16, activation: relu}}
    - {{type: Add, inputs: [dense, dense_1]}}
    - {{type: Dense, units: 10, activation: softmax}}
compile: {{optimizer: adam, loss: categorical_crossentropy, metrics: [accuracy]}}
training: {{epochs: 1, batch_size: 16, validation_split: 0.25, seed: 1}}
"""


def test_specc_train_trains_a_residual_graph(tmp_path, specc):
    """One epoch on tiny synthetic arrays; the run's spec.yaml is the same graph."""
    from tests.helpers import write_npz

    spec = tmp_path / "res.yaml"
    spec.write_text(RESIDUAL_MNIST.format(data=write_npz(tmp_path / "d.npz")))
    out = tmp_path / "run"
    run = specc("train", str(spec), "--output-dir", str(out))
    assert run.exit_code == 0, run.stderr
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 1
    kept = compile_text((out / "spec.yaml").read_text(), "spec.yaml")
    assert kept.graph.functional and kept.graph.rows == compile_text(spec.read_text()).graph.rows
    from tests.keras_helpers import keras

    model = keras().saving.load_model(out / "model.keras", compile=False)
    assert [layer.name for layer in model.layers] == [r.name for r in kept.graph.rows]


def test_emitted_residual_graph_script_trains(tmp_path):
    """The emitted script's main() runs one epoch of the graph on the tiny arrays."""
    from tests.helpers import write_npz

    data = write_npz(tmp_path / "d.npz")
    compiled = compile_text(RESIDUAL_MNIST.format(data=data), "residual_mnist.yaml")
    module = load_module(emit(compiled, tmp_path))
    out = tmp_path / "run"
    module.main(["--output-dir", str(out)])
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and 0.0 <= metrics["test_accuracy"] <= 1.0


def test_train_trains_two_inputs_and_two_outputs(tmp_path, specc):
    """An array per input and output, by name; a loss per output; metrics per output."""
    import numpy as np

    data = yaml.safe_load(TWO_INPUTS)
    data |= {
        "data": {"dataset": "npz", "path": str(tmp_path / "d.npz")},
        "compile": {"loss": {"dense_2": "mse", "dense_1": "mae"}, "metrics": {"dense_1": ["mae"]}},
        "training": {"epochs": 1, "batch_size": 8, "seed": 1},
    }
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 24), ("test", 8)):
        arrays |= {
            f"x_{split}_query": rng.random((n, 5, 4)), f"x_{split}_value": rng.random((n, 7, 4)),
            f"y_{split}_dense_2": rng.random((n, 2)), f"y_{split}_dense_1": rng.random((n, 3)),
        }  # fmt: skip
    np.savez(tmp_path / "d.npz", **arrays)
    spec = tmp_path / "two.yaml"
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    run = specc("train", str(spec), "--output-dir", str(tmp_path / "run"))
    assert run.exit_code == 0, run.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert {"test_loss", "test_dense_2_loss", "test_dense_1_loss", "test_dense_1_mae"} <= set(
        metrics
    )
    assert metrics["train_samples"] == 24
    assert "confusion.png" not in run.stdout and "curves.png" in run.stdout
    # The saved model imports back with its loss and metrics per output.
    imported = tmp_path / "imported.yaml"
    run = specc("import", str(tmp_path / "run" / "model.keras"), "-o", str(imported))
    assert run.exit_code == 0, run.stderr
    back = compile_text(imported.read_text(), str(imported)).spec.compile
    assert back.loss == {"dense_2": "mse", "dense_1": "mae"} and back.metrics == {
        "dense_1": ["mae"]
    }


def test_each_block_is_a_function_called_per_use():
    """Block uses become calls with the use's values; layers outside keep given names."""
    compiled, _ = _compiled(CONV_BLOCKS)
    functions, body = codegen.graph_build_model(compiled, codegen.PyCode("NAME"))
    text = "\n".join(functions)
    assert "def res(inputs, filters, kernel):" in text and "def down(inputs, filters):" in text
    assert 'keras.layers.Conv2D(filters, kernel, padding="same", activation="relu")' in text
    calls = [line.strip() for line in body if "res(" in line or "down(" in line]
    assert calls == [
        "x = res(x, filters=8, kernel=3)",
        "x = res(x, filters=8, kernel=3)",
        "x = down(x, filters=16)",
        "x = res(x, filters=16, kernel=1)",
    ]
    assert 'name="stem"' in "\n".join(body)  # a name the spec gives is kept


def test_blocks_inside_blocks_are_written_out():
    """A use inside another block stays expanded code (with every layer's name)."""
    compiled, _ = _compiled(NESTED_BLOCKS)
    functions, body = codegen.graph_build_model(compiled, codegen.PyCode("NAME"))
    assert functions == []
    assert 'name="conv2d_4"' in "\n".join(body)


def test_a_block_named_as_a_script_function_gets_another_name(tmp_path):
    """A block called ``main`` must not replace the script's main()."""
    text = BLOCKS_RESIDUAL.replace("res", "main")
    compiled, emittable = _compiled(text)
    assert emittable
    path = emit(compiled, tmp_path)
    code = path.read_text()
    assert "def main_block(inputs, units):" in code and "x = main_block(x, units=4)" in code
    module = load_module(path)
    assert_same_as_specc_build(compiled, module)
    assert module.main.__code__.co_varnames[0] == "argv"  # the script's own main()


SHARED_ONE_OUTPUT = """
name: siamese
model:
  inputs:
    - {name: left, shape: [6, 5]}
    - {name: right, shape: [6, 5]}
  layers:
    - {type: Dense, units: 8, name: encoder, inputs: [left]}
    - {apply: encoder, inputs: [right], as: encoded_right}
    - {type: Attention, inputs: [encoder, encoded_right]}
    - {type: GlobalAveragePooling1D}
    - {type: Dense, units: 1, activation: sigmoid}
"""


def test_a_shared_layer_is_emitted_and_trained(tmp_path):
    """An ``apply`` entry in a spec emit-code and train take (docs/spec-format.md's siamese net):
    the script builds specc's model, and train's view of the spec keeps the entry."""
    from specc.training.train import Options, effective_spec

    compiled, emittable = _compiled(SHARED_ONE_OUTPUT)
    assert emittable
    assert_same_as_specc_build(compiled, load_module(emit(compiled, tmp_path)))
    assert effective_spec(compiled.spec, Options(epochs=1)).model == compiled.spec.model
