"""Core, activation, convolution, pooling, normalization, regularization and reshaping
layers: emitted code as people write it (and equal to what specc builds), spec forms."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

from specc.analysis.pipeline import compile_file
from specc.backends import codegen, keras_build
from specc.backends.arguments import layer_arguments, nested_arguments
from specc.layers import CATALOG
from tests.helpers import CASES, ROOT
from tests.keras_helpers import keras

SIMPLE_CASES = sorted(
    p
    for p in CASES.iterdir()
    if p.name.startswith(("ok_core_", "ok_activations", "ok_convolution_", "ok_reshaping_"))
)


def _call(entry: dict) -> str:
    spec = CATALOG[entry["type"]].model_validate(entry)
    return str(codegen.layer_call(spec, nested_arguments(spec)))


@pytest.mark.parametrize(
    ("entry", "code"),
    [
        (
            {"type": "EinsumDense", "equation": "abc,cd->abd", "output_shape": [None, 64],
             "bias_axes": "d"},
            'keras.layers.EinsumDense("abc,cd->abd", [None, 64], bias_axes="d")',
        ),
        (
            {"type": "Embedding", "input_dim": 1000, "output_dim": 64, "mask_zero": True},
            'keras.layers.Embedding(1000, 64, mask_zero=True)',
        ),
        (
            {"type": "Conv2DTranspose", "filters": 16, "kernel_size": 3, "strides": 2,
             "padding": "same", "output_padding": [1, 1]},
            'keras.layers.Conv2DTranspose(16, 3, strides=2, padding="same", output_padding=1)',
        ),
        (
            {"type": "SeparableConv2D", "filters": 8, "kernel_size": [3, 1], "depth_multiplier": 2},
            'keras.layers.SeparableConv2D(8, (3, 1), depth_multiplier=2)',
        ),
        ({"type": "DepthwiseConv1D", "kernel_size": 3}, 'keras.layers.DepthwiseConv1D(3)'),
        ({"type": "LeakyReLU", "negative_slope": 0.2}, 'keras.layers.LeakyReLU(0.2)'),
        ({"type": "PReLU", "shared_axes": 1}, 'keras.layers.PReLU(shared_axes=[1])'),
        ({"type": "Softmax", "axis": [1]}, 'keras.layers.Softmax(1)'),
        ({"type": "Permute", "dims": [2, 1]}, 'keras.layers.Permute([2, 1])'),
        ({"type": "ZeroPadding2D", "padding": 1}, 'keras.layers.ZeroPadding2D(1)'),
        ({"type": "ZeroPadding2D", "padding": [1, 2]}, 'keras.layers.ZeroPadding2D((1, 2))'),
        (
            {"type": "ZeroPadding2D", "padding": [[1, 2], [1, 2]]},
            'keras.layers.ZeroPadding2D(((1, 2), (1, 2)))',
        ),
        (
            {"type": "Cropping3D", "cropping": [[1, 2], 3, [0, 0]]},
            'keras.layers.Cropping3D(((1, 2), 3, 0))',
        ),
        ({"type": "Cropping1D", "cropping": [1, 2]}, 'keras.layers.Cropping1D((1, 2))'),
        (
            {"type": "UpSampling2D", "size": 2, "interpolation": "bilinear"},
            'keras.layers.UpSampling2D(2, interpolation="bilinear")',
        ),
        ({"type": "GaussianNoise", "stddev": 0.1}, 'keras.layers.GaussianNoise(0.1)'),
        ({"type": "RepeatVector", "n": 3}, 'keras.layers.RepeatVector(3)'),
    ],
)  # fmt: skip
def test_emitted_call(entry, code):
    assert _call(entry) == code


@pytest.mark.parametrize("case", SIMPLE_CASES, ids=lambda p: p.name)
def test_emitted_layers_equal_built_layers(case):
    """Each emitted constructor call makes the layer `specc build` makes (same config)."""
    k = keras()
    compiled = compile_file(case / "spec.yaml")
    for layer in compiled.graph.layers:
        code = str(codegen.layer_call(layer.spec, layer_arguments(layer)))
        emitted = eval(code, {"keras": k})  # our own generated code: literals only
        assert emitted.get_config() == keras_build.make_layer(layer).get_config(), code


@pytest.mark.parametrize(
    ("entry", "same_as"),
    [
        ({"type": "ZeroPadding2D", "padding": [1, 2]}, {"padding": ((1, 1), (2, 2))}),
        ({"type": "Cropping2D", "cropping": [[1, 2], 3]}, {"cropping": ((1, 2), (3, 3))}),
        ({"type": "Cropping1D", "cropping": 2}, {"cropping": (2, 2)}),
        ({"type": "EinsumDense", "equation": "ab,bc->ac", "output_shape": 4},
         {"output_shape": [4]}),
        ({"type": "UnitNormalization", "axis": [-1]}, {"axis": -1}),
        ({"type": "LayerNormalization", "axis": [-1]}, {"axis": -1}),
    ],
)  # fmt: skip
def test_forms_keras_takes_read_as_one(entry, same_as):
    """Every form Keras takes for an argument reads as one value (so import round-trips)."""
    spec = CATALOG[entry["type"]].model_validate(entry)
    for key, value in same_as.items():
        assert getattr(spec, key) == value


def test_inputs_of_any_rank_with_unknown_sizes(specc, tmp_path):
    """Rank-6 input with an unknown axis: Reshape's -1 stays unknown, as in Keras."""
    spec = tmp_path / "s.yaml"
    spec.write_text(
        "name: s\nmodel:\n  input: {shape: [null, 4, 4, 4, 2]}\n  layers:\n"
        "    - {type: Reshape, target_shape: [-1, 2]}\n    - {type: Dense, units: 3}\n"
    )
    run = specc("summary", str(spec), "--format", "json")
    assert run.exit_code == 0, run.stderr
    table = json.loads(run.stdout)
    assert [row["output_shape"] for row in table["layers"]] == [[None, None, 2], [None, None, 3]]
    model = keras().Sequential(
        [
            keras().Input((None, 4, 4, 4, 2)),
            keras().layers.Reshape((-1, 2)),
            keras().layers.Dense(3),
        ]
    )
    assert [list(layer.output.shape) for layer in model.layers] == [
        [None, None, 2],
        [None, None, 3],
    ]


def test_catalog_index_is_what_the_declarations_register():
    """The catalog knows its names without importing the families (read from their source);
    that index must be exactly what importing every family registers, family by family."""
    registered = CATALOG.registered()
    assert list(CATALOG) and set(CATALOG) == set(registered)
    for name, family in CATALOG.index().items():
        assert registered[name].__module__ == f"specc.layers.{family}", name


def test_validating_a_spec_imports_only_the_families_it_uses():
    code = (
        "import sys\n"
        "from specc.analysis.pipeline import compile_file\n"
        "compile_file('specs/mnist_cnn.yaml')\n"
        "print(sorted(m.rsplit('.', 1)[1] for m in sys.modules if m.startswith('specc.layers.')))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    families = set(ast.literal_eval(run.stdout))
    assert {"core", "convolution", "pooling", "regularization", "reshaping"} <= families
    assert not families & {"recurrent", "attention", "merging", "preprocessing"}
