"""Differential property tests for the recurrent family against Keras itself.

Random stacks of RNNs, ConvLSTMs, Bidirectional and TimeDistributed layers (with unknown
time axes, states as extra outputs, borderline entries): what specc accepts equals the
Keras model layer for layer and in ``model.summary()``; what it refuses, Keras refuses too.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.family_differential import SETTINGS, both_outcomes, check, specs
from tests.strategies_recurrent import layer_for

SIZE = st.integers(1, 6)
UNKNOWN_TIME = st.one_of(st.none(), st.integers(1, 6))
SHAPES = st.one_of(
    st.tuples(UNKNOWN_TIME, st.one_of(SIZE, SIZE, SIZE, st.none())).map(list),
    st.tuples(UNKNOWN_TIME, st.integers(1, 10), st.integers(1, 3)).map(list),
    st.tuples(UNKNOWN_TIME, st.integers(1, 7), st.integers(1, 7), st.integers(1, 3)).map(list),
    st.tuples(SIZE).map(list),
)
SPECS = specs(SHAPES, layer_for, multi_output=True)


@settings(max_examples=50, **SETTINGS)
@given(SPECS)
def test_recurrent_layers_agree_with_keras(data):
    check(data)


@pytest.mark.slow
@settings(max_examples=1000, **SETTINGS)
@given(SPECS)
def test_recurrent_layers_agree_with_keras_long(data):
    check(data)


def test_recurrent_strategy_yields_both_kinds():
    outcomes = both_outcomes(SPECS)
    assert outcomes["accepted"] >= 20, outcomes
    assert outcomes["rejected"] >= 5, outcomes
