"""Differential property tests: the static layer against Keras itself.

For random specs of every supported layer type: where specc accepts a spec, its table
(names, output shapes, params, trainable/non-trainable) equals the built model's; where
specc rejects it for shape or name reasons, Keras must fail to build it too (no false
alarms). Any disagreement is a bug in the static layer.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, note, settings

from specc import graph, keras_build
from specc.errors import Diagnostic
from specc.schema import Spec
from tests.keras_helpers import keras, keras_rows, raw_keras_model, static_rows
from tests.strategies import random_specs

SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "derandomize": False}


def _check(data: dict) -> str:
    note(repr(data))
    spec = Spec.model_validate(data)  # generated specs are always schema-valid
    resolved, problems = graph.resolve(spec, lambda loc, msg: Diagnostic(msg, loc=tuple(loc)))
    if problems:
        with pytest.raises(Exception):  # noqa: B017 - Keras raises ValueError, TypeError, ...
            raw_keras_model(data)
        return "rejected"
    assert resolved is not None
    keras().backend.clear_session()
    model = keras_build.build(spec, resolved, compile=False, keras_names=True)
    assert keras_rows(model) == static_rows(resolved)
    return "accepted"


@settings(max_examples=200, **SETTINGS)
@given(random_specs())
def test_static_layer_agrees_with_keras(data):
    _check(data)


@pytest.mark.slow
@settings(max_examples=3000, **SETTINGS)
@given(random_specs())
def test_static_layer_agrees_with_keras_long(data):
    _check(data)


def test_strategy_yields_both_kinds():
    """The property test is only as good as its mix: both outcomes must be common."""
    outcomes = {"accepted": 0, "rejected": 0}

    @settings(max_examples=120, database=None, **SETTINGS)
    @given(random_specs())
    def count(data):
        spec = Spec.model_validate(data)
        _, problems = graph.resolve(spec, lambda loc, msg: Diagnostic(msg, loc=tuple(loc)))
        outcomes["rejected" if problems else "accepted"] += 1

    count()
    assert outcomes["accepted"] >= 40, outcomes
    assert outcomes["rejected"] >= 10, outcomes
