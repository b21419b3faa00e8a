"""Indexing (``x[:, 0]``), array constants, ``cast`` and the elementwise operations.

The spec ``tests.helpers.INDEXING`` is compared with the Keras code a person writes for it
(``img[..., 2]``, ``x + keras.ops.convert_to_tensor([...])``, ``x - np.array([...])``,
``keras.ops.cast(x, "float32")``): the summary byte for byte, then the model ``specc build``
makes, whose saved config must be the code's own (the same keys, the constants in the same
kind and dtype). ``specc import`` of the code's model gives a spec with the same table and
config; ``preprocess_input`` of the keras.applications modes round-trips; a bad key is
refused at its line and column.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import yaml

from specc.analysis.pipeline import compile_text
from specc.backends import table
from specc.errors import SpecError
from tests.helpers import INDEXING, keras_text, run_specc
from tests.keras_helpers import keras


def indexing_in_keras() -> Any:
    """INDEXING as Keras code writes it."""
    k = keras()
    k.backend.clear_session()
    ops = k.ops
    img, seq = k.Input((8, 8, 3), name="img"), k.Input((5, 6), name="seq")
    x = ops.stack([img[..., 2], img[..., 1], img[..., 0]], axis=-1)
    x = x + ops.convert_to_tensor([[[[-103.939, -116.779, -123.68]]]])
    x = x - np.array([1.0, 2.0, 3.0])
    caffe = x / ops.convert_to_tensor([0.229, 0.224, 0.225], dtype="float16")
    cls = seq[:, 0]
    last = seq[:, -1, :]
    middle = seq[:, 1:3]
    reversed_ = seq[..., ::-1]
    widened = k.src.ops.numpy.GetItem(name="widened")(seq, (slice(None), None, 2))
    scaled = ops.convert_to_tensor([2.0, 0.5, 1.0, 1.0, 2.0, 0.5]) * cls
    t = ops.erf(ops.round(ops.floor(ops.sign(ops.abs(ops.log(ops.exp(ops.sqrt(ops.square(scaled))))))), 1))  # fmt: skip
    logp = ops.log_softmax(t, axis=-1)
    unit = ops.normalize(last)
    flipped = ops.flip(middle, axis=1)
    running = ops.cumsum(middle, axis=-1)
    best = ops.argmax(seq, axis=-1)
    worst = ops.argmin(seq, axis=1, keepdims=True)
    best_float = ops.cast(best, "float32")
    dense = k.layers.Dense(4)(caffe)
    outputs = [dense, logp, unit, flipped, running, reversed_, widened, best_float, worst, scaled]
    return k.Model([img, seq], outputs, name="indexing")


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")


def _ops_config(model: Any) -> list[Any]:
    """Every node's class, module, config and call arguments (keys, constants and dtypes)."""
    return [
        (layer["class_name"], layer["module"], layer["config"], layer["inbound_nodes"])
        for layer in model.get_config()["layers"]
        if layer["module"].startswith("keras.src.ops.")
    ]


@pytest.mark.keras
def test_indexing_constants_and_cast_equal_keras():
    """Rows, names, shapes and Connected to; then specc build, node by node: the same
    keys (slices, ``...``, ``None``), constants (``__tensor__`` float32 and float16,
    ``__numpy__`` float64) and dtypes as the code's own model saves."""
    from specc.backends import keras_build

    compiled = compile_text(INDEXING, "indexing.yaml")
    code = indexing_in_keras()
    expected = keras_text(code)
    assert "get_item (GetItem)" in expected and "cast (Cast)" in expected
    assert table.as_text(compiled.graph) == expected
    built = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert keras_text(built) == expected
    assert _ops_config(built) == _ops_config(code)
    assert [t.dtype for t in built.outputs] == [t.dtype for t in code.outputs]


def _problem(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        compile_text(text, "s.yaml")
    return str(caught.value)


def _spec(*entries: str, shape: str = "[5, 4, 3]") -> str:
    layers = "\n".join(f"    - {e}" for e in entries)
    return f"name: s\nmodel:\n  input: {{shape: {shape}}}\n  layers:\n{layers}\n"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            '{op: getitem, key: "[:, a]"}',
            "s.yaml:5:26: error: model.layers[0].key: key \"[:, a]\" at column 5: 'a' is no "
            "index item; write integers, slices (1:3, ::-1), ... or None, split by commas",
        ),
        (
            '{op: getitem, key: "[:, 7]"}',
            "s.yaml:5:26: error: model.layers[0].key: key [:, 7] takes item 7 of axis 1, which "
            "has size 5 in (None, 5, 4, 3); use an index from -5 to 4",
        ),
        (
            '{op: getitem, key: "[:, 0, 0, 0, 0]"}',
            "key [:, 0, 0, 0, 0] has 5 items that take an axis, but (None, 5, 4, 3) has 4 axes",
        ),
        ('{op: getitem, key: "[1:3]"}', "not by one slice or None alone; add the axes it keeps"),
        ('{op: getitem, key: "[..., 0, ...]"}', 'has more than one "..."; keep one'),
        ('{op: getitem, key: ":, 0"}', 'must be written in brackets, as in Python: "[:, 0]"'),
        ('{op: getitem, key: "[:, ::0]"}', "a slice step must not be 0"),
        ("{op: add, value: [[1.0], [2.0, 3.0]]}", "the array is not rectangular"),
        (
            "{op: add, value: [[a, 1.0]]}",
            "model.layers[0].value: the array holds 'a'; give numbers",
        ),
        ("{op: add, value: [.inf]}", "model.layers[0].value: the array holds inf; give finite"),
        ("{op: add, value: [[[[[1.0]]]]]}", "the result would gain axes before the batch axis"),
        ("{op: add, value: {tensor: [1.0], numpy: [1.0]}}", "give tensor: or numpy:"),
        ("{op: add, value: [1.0, 2.0]}", "have sizes 3 and 2 on axis 3"),
        ("{op: cast, dtype: int33}", "int32"),
    ],
)
def test_bad_key_or_constant_is_refused_at_its_entry(entry, message):
    """One line, at the entry (file:line:col), saying what to write instead."""
    assert message in _problem(_spec(entry))


def test_a_key_is_read_never_evaluated():
    """The key is parsed, not run: Python code in it is a bad item like any other."""
    problem = _problem(_spec("{op: getitem, key: \"[__import__('os').getcwd()]\"}"))
    assert "is no index item" in problem


@pytest.mark.keras
def test_import_reads_keys_constants_and_cast_back(tmp_path):
    """``specc import`` of the code's model: the entries read like the Python (``key:
    '[:, 0]'``, a float32 constant as its shortest decimals, ``{numpy: ...}``,
    ``{tensor: ..., dtype: float16}``), the table is Keras' and the rebuilt model saves the
    same nodes."""
    from specc.backends import keras_build

    code = indexing_in_keras()
    code.save(tmp_path / "m.keras")
    run = run_specc("import", str(tmp_path / "m.keras"), "-o", str(tmp_path / "m.yaml"))
    assert run.exit_code == 0, run.stderr
    text = (tmp_path / "m.yaml").read_text()
    for line in (
        "{op: getitem, key: '[..., 2]', inputs: [img]}",
        "{op: getitem, key: '[:, 0]', inputs: [seq]}",
        "{op: getitem, name: widened, key: '[:, None, 2]', inputs: [seq]}",
        "{op: add, inputs: [stack, [[[[-103.939, -116.779, -123.68]]]]]}",
        "{op: subtract, inputs: [add, {numpy: [1.0, 2.0, 3.0]}]}",
        "inputs: [subtract, {tensor: [0.229, 0.224, 0.225], dtype: float16}]}",
        "{op: multiply, inputs: [[2.0, 0.5, 1.0, 1.0, 2.0, 0.5], get_item_3]}",
        "{op: cast, dtype: float32, inputs: [argmax]}",
    ):
        assert line in text, line
    compiled = compile_text(text, "m.yaml")
    assert table.as_text(compiled.graph) == keras_text(code)
    built = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert _ops_config(built) == _ops_config(code)


def _preprocessed(mode: str) -> Any:
    """``imagenet_utils.preprocess_input`` of ``mode`` inside a functional model, as the
    keras.applications use it (``caffe``: VGG16's and ResNet50's; ``torch``; ``tf``)."""
    k = keras()
    k.backend.clear_session()
    from keras.applications import imagenet_utils

    inputs = k.Input((16, 16, 3))
    x = imagenet_utils.preprocess_input(inputs, mode=mode)
    x = k.layers.Conv2D(4, 3)(x)
    return k.Model(inputs, x, name=f"pre_{mode}")


@pytest.mark.keras
@pytest.mark.parametrize(
    "mode", ["caffe", "torch", pytest.param("tf", marks=pytest.mark.slow)]
)  # tf mode has only number constants, which main read before: a regression case, slow
def test_preprocess_input_round_trips(mode, tmp_path):
    """caffe (channels flipped by indexing, the ImageNet mean added as a float32 tensor),
    torch (a mean and a standard deviation as tensors) and tf: import, summary, build."""
    from specc.backends import keras_build

    model = _preprocessed(mode)
    model.save(tmp_path / "m.keras")
    run = run_specc("import", str(tmp_path / "m.keras"), "-o", str(tmp_path / "m.yaml"))
    assert run.exit_code == 0, run.stderr
    spec = yaml.safe_load((tmp_path / "m.yaml").read_text())
    ops = [entry["op"] for entry in spec["model"]["layers"] if "op" in entry]
    assert (
        ops
        == {
            "caffe": ["getitem", "getitem", "getitem", "stack", "add"],
            "torch": ["true_divide", "add", "true_divide"],
            "tf": ["true_divide", "subtract"],
        }[mode]
    )
    compiled = compile_text((tmp_path / "m.yaml").read_text(), "m.yaml")
    assert table.as_text(compiled.graph) == keras_text(model)
    built = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert _ops_config(built) == _ops_config(model)
    batch = np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    built.set_weights(model.get_weights())
    np.testing.assert_array_equal(built.predict(batch, verbose=0), model.predict(batch, verbose=0))


@pytest.mark.keras
@pytest.mark.slow
def test_resnet50_behind_preprocess_input_round_trips(tmp_path, monkeypatch):
    """The issue's example: ``resnet.preprocess_input`` then ``ResNet50(include_top=False,
    weights=None)`` called as a layer: ``specc import``, then ``specc summary`` and ``specc
    build`` print Keras' summary byte for byte, and the build has its 23,597,957 weights."""
    from keras.applications.resnet import preprocess_input

    k = keras()
    k.backend.clear_session()
    inputs = k.Input((96, 96, 3))
    x = k.applications.ResNet50(include_top=False, weights=None)(preprocess_input(inputs))
    model = k.Model(inputs, k.layers.Dense(5)(k.layers.GlobalAveragePooling2D()(x)))
    model.save(tmp_path / "m.keras")
    monkeypatch.setenv("COLUMNS", "200")
    expected = keras_text(model)
    run = run_specc("import", str(tmp_path / "m.keras"), "-o", str(tmp_path / "m.yaml"))
    assert run.exit_code == 0, run.stderr
    summary = run_specc("summary", str(tmp_path / "m.yaml"))
    assert summary.stdout == expected
    built = run_specc("build", str(tmp_path / "m.yaml"), "-o", str(tmp_path / "b.keras"))
    assert built.exit_code == 0, built.stderr
    printed, wrote = built.stdout.rsplit("\n", 2)[:2]
    assert printed + "\n" == expected
    assert wrote.endswith(f"({model.count_params():,} params)") and model.count_params() == 23597957


def test_diff_and_diagram_show_keys_and_constants(tmp_path):
    """``specc diff`` names a changed key and a changed constant's item by their spec path;
    ``specc diagram`` draws every operation dashed (29 here; the Dense layer and inputs not)."""
    from specc.backends import diagram

    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(INDEXING)
    b.write_text(
        INDEXING.replace('key: "[:, 0]"', 'key: "[:, 1]"').replace(
            "{numpy: [1.0, 2.0, 3.0]}", "{numpy: [1.0, 2.5, 3.0]}"
        )
    )
    run = run_specc("diff", str(a), str(b))
    assert "  ~ model.layers[5].value.numpy[1]: 2.0 -> 2.5\n" in run.stdout
    assert "  ~ model.layers[7].key: '[:, 0]' -> '[:, 1]'\n" in run.stdout
    compiled = compile_text(INDEXING, "indexing.yaml")
    diagram.draw(diagram.model_boxes(compiled.graph), tmp_path / "a.svg")
    assert (tmp_path / "a.svg").read_text().count("stroke-dasharray") == 29
