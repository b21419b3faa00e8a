"""Differential property tests: the static layer against Keras itself.

For random specs of every supported layer type: where specc accepts a spec, its table
(names, output shapes, params, trainable/non-trainable) equals the built model's, and
Keras takes its optimizer and seeds; where specc rejects it (schema, shape or name
reasons), Keras must fail on it too (no false alarms). Any disagreement is a bug in the
static layer. The strategy also draws Keras' own edges: ``input_layer`` as a name, seeds
around 2**32 and 2**64, several clip arguments, inf/nan/huge floats, sizes past int64.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from pydantic import ValidationError

from specc.analysis import graph
from specc.backends import keras_build
from specc.errors import Diagnostic
from specc.language.schema import Spec
from tests.helpers import SPECS
from tests.keras_helpers import keras, keras_rows, raw_keras_model, static_rows
from tests.strategies import random_specs

SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow], "derandomize": False}


def _jax_seed_failure(seed: int) -> str | None:
    """What the jax backend does with a layer's seed (``SeedGenerator`` keeps ``[seed, 0]``
    in its uint32 state), run in this process whatever the backend."""
    from keras.src.backend.jax import core

    try:
        core.convert_to_tensor([seed, 0], dtype=core.random_seed_dtype())
    except (OverflowError, ValueError) as exc:
        return f"jax backend, seed {seed}: {exc}"
    return None


def _raw_optimizer(value: str | dict[str, Any]) -> Any:
    """The spec's optimizer straight through Keras: ``optimizers.get`` for a name."""
    k = keras()
    if isinstance(value, str):
        return k.optimizers.get(value)
    args = {key: v for key, v in value.items() if key != "type"}
    return getattr(k.optimizers, value["type"])(**args)


def _one_step(optimizer: Any) -> bool:
    """Whether one update of a small weight with a gradient of ones stays finite."""
    k = keras()
    weight = k.Variable(np.ones((2,), "float32"))
    optimizer.apply_gradients([(k.ops.ones((2,)), weight)])
    return bool(np.isfinite(k.ops.convert_to_numpy(weight)).all())


def keras_failure(data: dict[str, Any]) -> str | None:
    """How Keras fails on spec data built without specc, or None if it takes all of it.

    Failing means: Keras raises (building the model, calling a regularizer, making the
    optimizer, seeding), or its first optimizer update makes the weights inf/nan.
    """
    k = keras()
    try:
        raw_keras_model(data)
        for layer in data["model"]["layers"]:
            for key, value in layer.items():
                if key.endswith("_regularizer"):
                    penalty = k.regularizers.L1L2(**value)(k.ops.ones((2, 2)))
                    if not math.isfinite(float(k.ops.convert_to_numpy(penalty))):
                        return f"{key} {value} gives a penalty of {penalty}"
            if "seed" in layer and (failure := _jax_seed_failure(layer["seed"])):
                return failure
        if "compile" in data and not _one_step(_raw_optimizer(data["compile"]["optimizer"])):
            return "the first optimizer update makes the weights inf/nan"
        if "training" in data:
            k.utils.set_random_seed(data["training"]["seed"])
    except Exception as exc:  # Keras raises ValueError, TypeError, OverflowError, ...
        return f"{type(exc).__name__}: {exc}"
    return None


def _check(data: dict, log: Any = note) -> str:
    log(repr(data))
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        log(str(exc))
        assert keras_failure(data), "specc's schema refuses it, Keras takes it"
        return "refused"
    resolved, problems = graph.resolve(spec, lambda loc, msg: Diagnostic(msg, loc=tuple(loc)))
    if problems:
        log(str(problems))
        assert keras_failure(data), "specc's graph rejects it, Keras takes it"
        return "rejected"
    assert resolved is not None
    keras().backend.clear_session()
    model = keras_build.build(spec, resolved, compile=True, keras_names=True)
    assert keras_rows(model) == static_rows(resolved)
    for layer in data["model"]["layers"]:
        assert "seed" not in layer or _jax_seed_failure(layer["seed"]) is None
    if "compile" in data:
        _raw_optimizer(data["compile"]["optimizer"])  # Keras takes it as written, too
    if "training" in data:
        keras().utils.set_random_seed(data["training"]["seed"])
    return "accepted"


@settings(max_examples=120, **SETTINGS)
@given(random_specs())
def test_static_layer_agrees_with_keras(data):
    _check(data)


@pytest.mark.slow
@settings(max_examples=3000, **SETTINGS)
@given(random_specs())
def test_static_layer_agrees_with_keras_long(data):
    _check(data)


def test_strategy_yields_every_kind():
    """The property test is only as good as its mix: every outcome must be common."""
    outcomes = {"accepted": 0, "rejected": 0, "refused": 0}

    @settings(max_examples=150, database=None, **SETTINGS)
    @given(random_specs())
    def count(data):
        try:
            spec = Spec.model_validate(data)
        except ValidationError:
            outcomes["refused"] += 1
            return
        _, problems = graph.resolve(spec, lambda loc, msg: Diagnostic(msg, loc=tuple(loc)))
        outcomes["rejected" if problems else "accepted"] += 1

    count()
    assert outcomes["accepted"] >= 40, outcomes
    assert outcomes["rejected"] >= 10, outcomes
    assert outcomes["refused"] >= 10, outcomes


# ------------------------------------------------- the edges, one by one, at the line
SEED_MAX = 2**32 - 1


def _spec(layers: list[dict[str, Any]], shape: list[int], **sections: Any) -> dict[str, Any]:
    return {"name": "edge", "model": {"input": {"shape": shape}, "layers": layers}, **sections}


def _opt(optimizer: Any) -> dict[str, Any]:
    return {"optimizer": optimizer, "loss": "mse"}


DENSE = [{"type": "Dense", "units": 2}]


@pytest.mark.parametrize(
    ("data", "outcome"),
    [
        (_spec([{"type": "Dropout", "rate": 0.5, "seed": SEED_MAX}], [4]), "accepted"),
        (_spec([{"type": "Dropout", "rate": 0.5, "seed": SEED_MAX + 1}], [4]), "refused"),
        (_spec([{"type": "SpatialDropout1D", "rate": 0.5, "seed": 2**63}], [3, 4]), "refused"),
        (_spec(DENSE, [4], training={"seed": SEED_MAX}), "accepted"),
        (_spec(DENSE, [4], training={"seed": SEED_MAX + 1}), "refused"),
        (_spec([{**DENSE[0], "name": "input_layer"}], [4]), "rejected"),
        (_spec([{**DENSE[0], "name": "input_layer_1"}], [4]), "accepted"),
        (_spec([{**DENSE[0], "kernel_regularizer": {"l2": 3.4e38}}], [4]), "accepted"),
        (_spec([{**DENSE[0], "kernel_regularizer": {"l2": 3.5e38}}], [4]), "refused"),
        (_spec([{**DENSE[0], "kernel_regularizer": {"l1": float("nan")}}], [4]), "refused"),
        (_spec([{"type": "Dense", "units": 2**63}], [4]), "refused"),
        (_spec(DENSE, [4], compile=_opt({"type": "Adam", "weight_decay": 3.5e38})), "refused"),
        (
            _spec(DENSE, [4], compile=_opt({"type": "Adam", "learning_rate": float("inf")})),
            "refused",
        ),
        (
            _spec(DENSE, [4], compile=_opt({"type": "SGD", "clipvalue": 1, "clipnorm": 1})),
            "refused",
        ),
        (_spec(DENSE, [4], compile=_opt({"type": "SGD", "global_clipnorm": 1})), "accepted"),
        (_spec(DENSE, [4], compile=_opt("NADAM")), "accepted"),
    ],
)
def test_edges_at_the_line(data: dict[str, Any], outcome: str):
    """Each edge on both sides of Keras' line: specc's verdict is Keras'."""
    assert _check(data, log=lambda _: None) == outcome


def test_weight_bounds_at_the_line():
    """One tensor may hold 2**31 - 1 weights, a model 2**33 (static: Keras would allocate
    8 GiB and more to show it); VGG16's 138,357,544 parameters pass."""
    assert graph.MAX_TENSOR_WEIGHTS == 2**31 - 1

    def problems(layers: list[dict[str, Any]], shape: list[int]) -> list[str]:
        spec = Spec.model_validate(_spec(layers, shape))
        return [d.message for d in graph.resolve(spec, lambda loc, m: Diagnostic(m, loc=loc))[1]]

    at = 2**31 - 1
    assert problems([{"type": "Dense", "units": at}], [1]) == []
    (message,) = problems([{"type": "Dense", "units": at + 1}], [1])
    assert "2,147,483,648 parameters (1 inputs x 2,147,483,648 units)" in message
    assert problems([{"type": "Conv1D", "filters": at, "kernel_size": 1}], [5, 1]) == []
    assert problems([{"type": "Conv1D", "filters": 2**30, "kernel_size": 2}], [5, 1])
    four = [{"type": "Dense", "units": 46340, "use_bias": False}] * 4  # 46340**2 < 2**31
    assert problems(four, [46340]) == []  # 8,589,582,400 parameters, under 2**33
    (message,) = problems([*four, four[0]], [46340])
    assert message.startswith("with this layer the model has 10,736,978,000 parameters")

    vgg = []
    for filters, convs in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        vgg += [{"type": "Conv2D", "filters": filters, "kernel_size": 3, "padding": "same"}] * convs
        vgg.append({"type": "MaxPooling2D"})
    vgg += [{"type": "Flatten"}] + [{"type": "Dense", "units": u} for u in (4096, 4096, 1000)]
    spec = Spec.model_validate(_spec(vgg, [224, 224, 3]))
    resolved, found = graph.resolve(spec, lambda loc, m: Diagnostic(m, loc=loc))
    assert found == [] and resolved is not None
    assert resolved.total_params == 138_357_544


def test_train_seed_option_is_32_bit(specc, tmp_path):
    """`--seed` takes what keras.utils.set_random_seed takes: 0 .. 2**32 - 1."""
    args = ["--data", str(tmp_path / "none.npz"), "--output-dir", str(tmp_path)]
    run = specc("train", str(SPECS / "mnist_cnn.yaml"), "--seed", str(2**32), *args)
    assert run.exit_code == 2
    assert "'--seed': 4294967296 is not in the range 0<=x<=4294967295" in run.stderr
