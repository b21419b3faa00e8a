"""Differential property tests for the preprocessing family (and nested Sequential blocks).

Random images (sizes sometimes unknown) and vectors through Rescaling, Normalization,
resizing, cropping and augmentation layers: accepted specs equal Keras layer for layer and
in ``model.summary()``; refused ones Keras refuses too (when building, running or training),
except the one deliberate refusal listed in ``tests.family_differential.DELIBERATE``.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.family_differential import SETTINGS, both_outcomes, check, specs
from tests.strategies_preprocessing import layer_for

SIDE = st.one_of(st.integers(1, 12), st.integers(1, 12), st.none())
SHAPES = st.one_of(
    st.tuples(SIDE, SIDE, st.one_of(st.integers(1, 3), st.integers(1, 3), st.none())).map(list),
    st.tuples(st.integers(1, 8)).map(list),
    st.tuples(st.integers(1, 8), st.integers(1, 4)).map(list),
)
SPECS = specs(SHAPES, layer_for)


@settings(max_examples=50, **SETTINGS)
@given(SPECS)
def test_preprocessing_layers_agree_with_keras(data):
    check(data)


@pytest.mark.slow
@settings(max_examples=1000, **SETTINGS)
@given(SPECS)
def test_preprocessing_layers_agree_with_keras_long(data):
    check(data)


def test_preprocessing_strategy_yields_both_kinds():
    outcomes = both_outcomes(SPECS)
    assert outcomes["accepted"] >= 20, outcomes
    assert outcomes["rejected"] >= 5, outcomes
