"""Blocks: defined once with parameters, used with ``{block: NAME, ...}``, expanded into
exactly the layers (and Keras' automatic names) hand-written Keras code would make.
Error cases live in tests/cases/block_*."""

from __future__ import annotations

import time

import pytest
import yaml

from specc.analysis.pipeline import compile_file, compile_text
from specc.backends import keras_build, table
from specc.language import blocks, loader
from tests.helpers import BLOCKS_RESIDUAL, CASES, bench_module
from tests.keras_helpers import keras, keras_rows, static_rows

CHAIN = CASES / "ok_blocks_chain" / "spec.yaml"


def _hand_written_vgg():
    """What ok_blocks_chain stands for, in plain Keras: each block a Python function."""
    k = keras()
    layers = k.layers

    def conv_pool(x, filters=32, dropout=0.25):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
        return layers.Dropout(dropout)(x)

    def stage(x, filters):
        x = conv_pool(x, filters, dropout=0.1)
        return layers.BatchNormalization()(x)

    k.backend.clear_session()
    inputs = k.Input((32, 32, 3))
    x = conv_pool(inputs)
    for _ in range(2):
        x = stage(x, 64)
    x = layers.Flatten()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return k.Model(inputs, outputs, name="vgg_like")


def test_expanded_blocks_equal_hand_written_keras():
    compiled = compile_file(CHAIN)
    theirs = [row for row in keras_rows(_hand_written_vgg()) if row["type"] != "InputLayer"]
    assert static_rows(compiled.graph) == theirs
    keras().backend.clear_session()
    ours = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert keras_rows(ours) == theirs


def test_expand_prints_a_flat_spec_that_means_the_same(specc, tmp_path):
    run = specc("expand", str(CHAIN))
    assert run.exit_code == 0, run.stderr
    assert "block" not in run.stdout
    flat = tmp_path / "flat.yaml"
    flat.write_text(run.stdout)
    assert static_rows(compile_file(flat).graph) == static_rows(compile_file(CHAIN).graph)
    assert specc("expand", str(CHAIN)).stdout == run.stdout  # deterministic
    assert yaml.safe_load(run.stdout)["model"]["layers"][8] == {"type": "BatchNormalization"}


def test_expand_refuses_an_invalid_spec_with_its_errors(specc):
    run = specc("expand", str(CASES / "block_unknown_name" / "spec.yaml"))
    assert run.exit_code == 1
    assert "unknown block 'conv_pol' (did you mean 'conv_pool'?)" in run.stderr
    assert run.stdout == ""


def test_parameters_with_defaults_and_arguments_passed_on():
    data = compile_file(CHAIN).data["model"]["layers"]
    assert [layer.get("filters") for layer in data if layer["type"] == "Conv2D"] == [32, 32] + [
        64
    ] * 4
    assert [layer["rate"] for layer in data if layer["type"] == "Dropout"] == [0.25, 0.1, 0.1]


def test_a_spec_without_blocks_is_left_as_it_is():
    loaded = loader.load_file(CASES.parent.parent / "specs" / "mnist_cnn.yaml")
    assert blocks.expand(loaded) == (loaded, [])


def _hand_written_residual():
    k = keras()
    k.backend.clear_session()
    inputs = k.Input((4,))
    x = k.layers.Dense(4)(inputs)
    for _ in range(2):
        y = k.layers.Dense(4, activation="relu")(x)
        y = k.layers.Dense(4)(y)
        x = k.layers.add([x, y])
    return k.Model(inputs, k.layers.Dense(1)(x), name="res")


def test_block_input_and_labels_become_labels_of_the_expanded_layers():
    loaded, problems = blocks.expand(loader.load_text(BLOCKS_RESIDUAL, "r.yaml"))
    assert problems == []
    layers = loaded.data["model"]["layers"]
    assert layers[0]["as"] == "res_1__1__in"  # labelled: the block refers to its input
    assert layers[2]["as"] == "res_1__1__y"
    assert layers[3]["inputs"] == ["res_1__1__in", "res_1__1__y"]
    assert layers[3]["as"] == "res_1__2__in"  # the second repetition's input
    assert layers[6]["inputs"] == ["res_1__2__in", "res_1__2__y"]
    assert all("name" not in layer for layer in layers)  # Keras names stay automatic


NESTED_LABEL = """
name: nested
blocks:
  inner:
    layers:
      - {type: Dense, units: 4}
  outer:
    layers:
      - {block: inner, as: y}
      - {type: Dense, units: 4, inputs: [y]}
model:
  input: {shape: [4]}
  layers:
    - {block: outer}
    - {block: outer}
"""


def test_a_labelled_use_inside_a_block_is_labelled_per_use_of_that_block():
    """``as: y`` on a use inside a block names that use's output within one use of the
    block, as any layer's label there does: two uses of the block make two labels, not
    one label twice and references to a label that does not exist."""
    loaded, problems = blocks.expand(loader.load_text(NESTED_LABEL, "n.yaml"))
    assert problems == []
    layers = loaded.data["model"]["layers"]
    assert [layer.get("as") for layer in layers] == ["outer_1__y", None, "outer_2__y", None]
    assert [layer.get("inputs") for layer in layers] == [
        None,
        ["outer_1__y"],
        None,
        ["outer_2__y"],
    ]
    assert compile_text(NESTED_LABEL, "n.yaml").graph.total_params == 80


def test_a_residual_block_equals_hand_written_keras_table_for_table(monkeypatch):
    import io

    monkeypatch.setenv("COLUMNS", "200")  # Keras and specc take the width from it
    compiled = compile_text(BLOCKS_RESIDUAL, "res.yaml")
    out = io.StringIO()
    _hand_written_residual().summary(print_fn=lambda line, line_break=True: out.write(line))
    assert table.as_text(compiled.graph) == out.getvalue()
    keras().backend.clear_session()
    built = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert built.count_params() == compiled.graph.total_params


def test_errors_in_a_block_name_the_use(specc):
    text = (CASES / "block_shape_error_in_repetition" / "stderr.txt").read_text()
    assert "blocks.conv_pool.layers[1].pool_size" in text
    assert "used at 11:7 (model.layers[0], repetition 4 of 4)" in text


def test_expansion_is_pure():
    text = CHAIN.read_text()
    first = compile_text(text, "a.yaml").data
    second = compile_text(text, "a.yaml").data
    assert first == second
    loaded = loader.load_text(text, "a.yaml")
    before = yaml.safe_dump(loaded.data)
    blocks.expand(loaded)
    assert yaml.safe_dump(loaded.data) == before  # the loaded data is not changed


def test_each_applies_a_block_once_per_value_like_a_for_loop():
    text = """
name: e
blocks:
  conv:                           # a list of layers: parameters are the $names used
    - {type: Conv2D, filters: $filters, kernel_size: 3, padding: same}
    - {type: MaxPooling2D, pool_size: 2}
model:
  input: {shape: [16, 16, 1]}
  layers:
    - {block: conv, each: {filters: [8, 16, 32]}}
"""
    graph = compile_text(text, "e.yaml").graph
    assert [layer.output_shape for layer in graph.layers if layer.type == "Conv2D"] == [
        (None, 16, 16, 8),
        (None, 8, 8, 16),
        (None, 4, 4, 32),
    ]
    assert graph.layers[-1].name == "max_pooling2d_2"


def _bombs():
    return bench_module("bomb_speed")


def _expand_errors(text: str) -> tuple[list[str], float]:
    """The expansion's errors (loc: message) and the CPU time it took."""
    start = time.process_time()
    _, problems = blocks.expand(loader.load_text(text, "spec.yaml"))
    cpu = time.process_time() - start
    return [f"{'.'.join(map(str, p.loc))}@{p.line}:{p.col}: {p.message}" for p in problems], cpu


LAYERS = "blocks expand to more than {layers:,} layers; check repeat"
VALUES = "blocks expand to more than {values:,} values"


@pytest.mark.parametrize(
    ("bomb", "expected"),
    [
        ("fan-out, 17 blocks x 8 uses", f"model.layers.0@24:7: {LAYERS}"),  # counted, not walked
        ("fan-out, 6 blocks x 8 uses", f"model.layers.0@13:7: {LAYERS}"),
        ("fan-out, 17 x 8, first use broken", f"model.layers.0@24:7: {LAYERS}"),  # 8**16 uses
        ("5,000-item value x repeat 19,000", f"model.layers.0.repeat@8:28: {VALUES}"),
        ("5,000-item argument x repeat 19,000", f"model.layers.0.repeat@8:28: {VALUES}"),
    ],
)
def test_expansion_is_bounded_before_it_is_made(bomb, expected):
    """Issue 17: blocks that expand past the bounds (layers, or values copied) are refused
    at the use that makes them so, in a fraction of a second."""
    text = _bombs().BOMBS[bomb]()["spec.yaml"]
    errors, cpu = _expand_errors(text)
    expected = expected.format(
        layers=blocks.MAX_EXPANDED_LAYERS, values=getattr(blocks, "MAX_EXPANDED_VALUES", 0)
    )
    assert errors and errors[0].startswith(expected), errors
    assert cpu < 1.0


def test_each_over_thousands_of_values_is_linear():
    """`each:` over N values costs about N (its positions were copied N x N times)."""
    times = {}
    for n in (1500, 12000):
        loaded = loader.load_text(_bombs().each_values(n)["spec.yaml"], "spec.yaml")
        best = []
        for _ in range(3):
            start = time.process_time()
            expanded, problems = blocks.expand(loaded)
            best.append(time.process_time() - start)
        times[n] = min(best)
        assert not problems and len(expanded.data["model"]["layers"]) == n
        assert expanded.source.position(("model", "layers", n - 1, "units")) == (8, 3 * n + 29)
    assert times[12000] < 20 * max(times[1500], 0.01), times  # linear: ~8x; quadratic: 64x
