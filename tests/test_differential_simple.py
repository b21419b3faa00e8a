"""Differential property tests for the core, activation, convolution, pooling,
normalization, regularization and reshaping layers of the catalog, against Keras.

Random chains of layers from :mod:`tests.strategies_simple` on inputs of rank 2..5 with
unknown (``None``) sizes. Where specc accepts a spec, its table (names, output shapes,
params, trainable/non-trainable) equals the built model's. Where it rejects one for
shape reasons, Keras refuses the layer too: it fails to build it, fails to run it on a
batch (in inference or training), or runs it into a shape other than the one it
declared (Keras builds some impossible einsum equations and axes, and fails only later).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from specc.analysis import graph
from specc.backends import keras_build
from specc.errors import Diagnostic
from specc.language.schema import Spec
from specc.layers import CATALOG
from specc.layers.shapes import ShapeError
from tests import strategies_catalog
from tests.helpers import CASES
from tests.keras_helpers import keras, keras_rows, raw_keras_model, static_rows
from tests.strategies_simple import layer_for, noise_shape_near

SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "derandomize": False}
FAMILIES = frozenset(
    {"core", "activations", "convolution", "pooling", "normalization", "regularization",
     "reshaping"}
)  # fmt: skip
"""The catalog families this test covers: :func:`random_specs` draws every type declared
in them (tests/strategies_catalog.py derives the entries from the declaration)."""
UNKNOWN_AT_RUN = 6
"""The size an unknown (``None``) axis gets in the batch a rejected layer is run on."""
RUNS = ((False, 2, UNKNOWN_AT_RUN), (True, 2, UNKNOWN_AT_RUN), (True, 3, UNKNOWN_AT_RUN + 1))
"""How a rejected spec is run (training, batch size, unknown sizes): a size that fits only
some batches (a dropout mask's size on the batch axis) fails in one of the two."""


@st.composite
def random_specs(draw: Any) -> dict[str, Any]:
    """A spec mapping with 1..5 layers; shapes are followed with specc's own rules."""
    rank = draw(st.integers(1, 4))
    dims = [draw(st.sampled_from([None, 1, 2, 3, 4, 5, 6, 8, 9])) for _ in range(rank)]
    shape: tuple[int | None, ...] = (None, *dims)
    layers = []
    for _ in range(draw(st.integers(1, 5))):
        if draw(st.integers(0, 3)) == 0:  # any type of these families, from its declaration
            layer = strategies_catalog.catalog_layer(draw, FAMILIES)
        else:  # the hand-written edges (sizes near the input's, rank mismatches)
            layer = layer_for(draw, shape)
        if layer is None:
            break
        layers.append(layer)
        try:
            shape = CATALOG[layer["type"]].model_validate(layer).infer(shape).shape
        except ShapeError:
            break  # specc rejects this spec here: later layers would add nothing
    return {"name": "random", "model": {"input": {"shape": dims}, "layers": layers}}


def keras_refuses(data: dict[str, Any]) -> str | None:
    """Why Keras cannot take the spec's last layer, or None if it can.

    Keras refuses a layer when it fails to build it or to run it on a batch (see
    ``RUNS``), or when the run's output shape is not the one the layer declared.
    """
    try:
        model = raw_keras_model(data)
    except Exception as exc:  # Keras raises ValueError, TypeError, IndexError, ...
        return f"build: {type(exc).__name__}"
    declared = tuple(model.layers[-1].output.shape)
    for training, batch, unknown in RUNS:
        shape = [unknown if d is None else d for d in data["model"]["input"]["shape"]]
        try:
            out = model(np.ones((batch, *shape), "float32"), training=training)
        except Exception as exc:  # as above, at run time
            return f"call: {type(exc).__name__}"
        ran = tuple(out.shape)
        if len(ran) != len(declared) or any(
            d is not None and d != r for d, r in zip(declared, ran, strict=False)
        ):
            return f"declared {declared}, ran {ran}"
    return None


def _check(data: dict[str, Any]) -> str:
    note(repr(data))
    spec = Spec.model_validate(data)  # generated specs are always schema-valid
    resolved, problems = graph.resolve(spec, lambda loc, msg: Diagnostic(msg, loc=tuple(loc)))
    if problems:
        index = problems[0].loc[2]
        prefix = {
            **data,
            "model": {**data["model"], "layers": data["model"]["layers"][: index + 1]},
        }
        note(f"specc: {problems[0].message}")
        assert keras_refuses(prefix), f"specc rejects, Keras takes it: {problems[0].message}"
        return "rejected"
    assert resolved is not None
    keras().backend.clear_session()
    model = keras_build.build(spec, resolved, compile=False, keras_names=True)
    assert keras_rows(model) == static_rows(resolved)
    return "accepted"


@settings(max_examples=50, **SETTINGS)
@given(random_specs())
def test_simple_layers_agree_with_keras(data):
    _check(data)


@pytest.mark.slow
@settings(max_examples=2000, **SETTINGS)
@given(random_specs())
def test_simple_layers_agree_with_keras_long(data):
    _check(data)


def test_strategy_yields_both_kinds():
    """Both outcomes must be common, and every declared type must be drawn (fixed seed)."""
    outcomes = {"accepted": 0, "rejected": 0}
    drawn: set[str] = set()

    @settings(max_examples=1000, database=None, **{**SETTINGS, "derandomize": True})
    @given(random_specs())
    def count(data):
        drawn.update(layer["type"] for layer in data["model"]["layers"])
        spec = Spec.model_validate(data)
        _, problems = graph.resolve(spec, lambda loc, msg: Diagnostic(msg, loc=tuple(loc)))
        outcomes["rejected" if problems else "accepted"] += 1

    count()
    assert outcomes["accepted"] >= 250, outcomes
    assert outcomes["rejected"] >= 150, outcomes
    ours = {
        "EinsumDense", "Embedding", "Identity", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax",
        "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "SeparableConv1D",
        "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D", "MaxPooling3D",
        "AveragePooling3D", "GlobalMaxPooling3D", "GlobalAveragePooling3D", "GroupNormalization",
        "UnitNormalization", "SpatialDropout3D", "GaussianNoise", "GaussianDropout",
        "AlphaDropout", "ActivityRegularization", "Dropout", "Permute", "RepeatVector", "UpSampling1D",
        "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
        "Cropping1D", "Cropping2D", "Cropping3D", "Flatten",
    }  # fmt: skip
    assert ours <= drawn, ours - drawn


def test_every_declared_type_is_drawn_from_its_declaration():
    """A layer declared in one of these families needs no strategy of its own: the
    catalog draw offers every such type, and draws valid entries of each (RMSNormalization
    came in by the README's recipe alone)."""
    declared = {t for t in CATALOG if CATALOG.index()[t] in FAMILIES}
    assert "RMSNormalization" in declared
    offered = set(strategies_catalog.catalog_types(FAMILIES))
    assert offered == declared, declared ^ offered
    for layer_type in sorted(declared):
        _draws_valid_entries(layer_type)


def _draws_valid_entries(layer_type: str) -> None:
    """Entries drawn for ``layer_type`` from its declaration are schema-valid."""

    @settings(max_examples=5, database=None, **{**SETTINGS, "derandomize": True})
    @given(strategies_catalog.entries(layer_type))
    def valid(entry: dict[str, Any]) -> None:
        assert entry["type"] == layer_type
        CATALOG[layer_type].model_validate(entry)

    valid()


SIMPLE_ERROR_CASES = [
    "flatten_unknown_then_dense", "einsum_input_rank", "einsum_output_shape_length",
    "einsum_shared_axis_size", "einsum_unknown_weight", "conv_groups_channels",
    "transpose_output_padding", "depthwise_unknown_channels", "noise_shape_batch_size",
    "noise_shape_too_long", "prelu_unknown_axis",
    "prelu_shared_axis_out_of_range", "softmax_axis_out_of_range",
    "unit_normalization_axis_twice", "group_norm_groups_divide", "group_norm_default_groups",
    "permute_rank", "repeat_vector_rank", "upsampling_rank", "cropping_too_much",
    "conv_groups_filters", "permute_not_permutation", "einsum_bad_equation",
    "einsum_bias_axis_not_in_output", "einsum_repeated_letter",
]  # fmt: skip


@pytest.mark.parametrize("case", SIMPLE_ERROR_CASES)
def test_error_cases_are_refused_by_keras(case):
    """Each shape refusal in tests/cases is one Keras makes too (at build or at run)."""
    import yaml

    data = yaml.safe_load((CASES / case / "spec.yaml").read_text())
    assert keras_refuses(data)


@pytest.mark.parametrize(
    "case",
    [
        "ok_core_einsum_embedding",
        "ok_activations",
        "ok_convolution_2d_separable",
        "ok_regularization_noise_shape",
    ],
)
def test_accepted_cases_run_in_keras(case):
    """The accepted case specs also run in Keras, in their declared shapes."""
    import yaml

    data = yaml.safe_load((CASES / case / "spec.yaml").read_text())
    assert keras_refuses(data) is None


@st.composite
def noise_shape_specs(draw: Any) -> dict[str, Any]:
    """One Dropout or AlphaDropout with a ``noise_shape``, near its input's shape or drawn
    from the declaration, at a rate where Keras draws the mask."""
    dims = [draw(st.sampled_from([None, 1, 2, 3, 6, 7])) for _ in range(draw(st.integers(1, 4)))]
    kind = draw(st.sampled_from(["Dropout", "AlphaDropout"]))
    if draw(st.booleans()):
        layer = {"type": kind, "noise_shape": noise_shape_near(draw, (None, *dims))}
    else:
        layer = draw(strategies_catalog.entries(kind)) | {"noise_shape": draw(_any_noise_shape)}
    return {"name": "random", "model": {"input": {"shape": dims}, "layers": [layer | RATE]}}


_any_noise_shape = st.lists(st.one_of(st.none(), st.integers(1, 8)), max_size=5)
RATE = {"rate": 0.5}


def _noise_shape_check(data: dict[str, Any]) -> None:
    if _check(data) == "accepted":
        assert keras_refuses(data) is None


@settings(max_examples=12, **SETTINGS)
@given(noise_shape_specs())
def test_noise_shapes_agree_with_keras(data):
    """specc accepts a mask shape exactly where Keras trains with it (two batch sizes) and
    keeps the output's shape; the rejected ones Keras refuses (``_check``)."""
    _noise_shape_check(data)


@pytest.mark.slow
@settings(max_examples=400, **SETTINGS)
@given(noise_shape_specs())
def test_noise_shapes_agree_with_keras_long(data):
    _noise_shape_check(data)
