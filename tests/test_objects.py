"""Losses, metrics, schedules, initializers, regularizers and constraints as Keras has them.

Every declared class must be a Keras class with the same argument names and defaults
(leaving an argument out means what it means in Keras), every accepted name must be one
Keras resolves, and a spec using objects must build, compile and emit the same objects.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import specc
from specc.analysis.pipeline import compile_text
from specc.backends.codegen import py
from specc.terms import objects
from tests.helpers import CASES
from tests.keras_helpers import keras

DECLARED = [(module, name) for module, table in objects.DECLARED.items() for name in table]


def _keras_attr(module: str, name: str):
    obj = keras()
    for part in (*module.split("."), name):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("module,name", DECLARED, ids=lambda v: v)
def test_declared_defaults_are_keras_defaults(module, name):
    cls = objects.object_class(module, name)
    params = inspect.signature(_keras_attr(module, name).__init__).parameters
    for field, info in cls.model_fields.items():
        if field == "type":
            continue
        assert field in params, f"{name}.{field} is not an argument of keras.{module}.{name}"
        keras_default = params[field].default
        if info.is_required():
            assert keras_default is inspect.Parameter.empty, field
        elif field != "name":  # specc leaves the name to Keras
            assert info.default == keras_default, (name, field, info.default, keras_default)


@pytest.mark.parametrize(
    "module,names",
    [
        ("losses", objects.LOSS_NAMES),
        ("metrics", [n for n in objects.METRIC_NAMES if n not in ("acc", "accuracy")]),
        ("initializers", objects.INITIALIZER_NAMES),
        ("regularizers", objects.REGULARIZER_NAMES),
        ("constraints", objects.CONSTRAINT_NAMES),
    ],
)
def test_every_accepted_name_is_one_keras_resolves(module, names):
    getter = _keras_attr(module.rsplit(".", 1)[0], "get") if "." not in module else None
    for name in names:
        assert getter(name) is not None, name


def test_objects_build_compile_and_emit():
    compiled = compile_text((CASES / "ok_logits_schedule_objects" / "spec.yaml").read_text())
    model = specc.build_model(compiled.spec)
    k = keras()
    assert isinstance(model.loss, k.losses.SparseCategoricalCrossentropy)
    assert model.loss.from_logits is True
    schedule = model.optimizer._learning_rate
    assert isinstance(schedule, k.optimizers.schedules.PiecewiseConstantDecay)
    assert schedule.get_config()["values"] == [0.1, 0.01, 0.001]
    dense = model.get_layer("dense")
    assert isinstance(dense.kernel_initializer, k.initializers.HeNormal)
    assert dense.kernel_initializer.seed == 1
    assert dense.kernel_regularizer.get_config() == {"l2": pytest.approx(0.01)}  # Keras' default
    assert dense.kernel_constraint.get_config() == {"max_value": 3, "axis": 0}
    x = np.random.default_rng(0).random((8, 5, 28)).astype("float32")
    history = model.fit(x, np.arange(8) % 10, epochs=1, verbose=0)
    assert {"acc", "sparse_top_k_categorical_accuracy"} <= set(history.history)
    assert py(compiled.spec.compile.loss) == (
        "keras.losses.SparseCategoricalCrossentropy(from_logits=True)"
    )


@pytest.mark.parametrize(
    "body,message",
    [
        ("loss: nonsense", "compile.loss: unknown value 'nonsense'"),
        ("loss: {type: SparseCategoricalCrossentropy, form_logits: true}",
         "unknown key 'form_logits' (did you mean 'from_logits'?)"),
        ("loss: mse\n  optimizer: {type: Adam, learning_rate: {type: ExponentialDecay}}",
         "compile.optimizer.learning_rate.initial_learning_rate: is required"),
        ("loss: mse\n  optimizer: {type: Adam, learning_rate: .inf}",
         "compile.optimizer.learning_rate: must be a finite number"),
        ("loss: {type: Hubber}", "unknown type 'Hubber' (did you mean 'Huber'?)"),
    ],
)  # fmt: skip
def test_bad_objects_are_located_errors(body, message):
    text = (
        "name: m\nmodel:\n  input: {shape: [4]}\n  layers: [{type: Dense, units: 1}]\n"
        f"compile:\n  {body}\n"
    )
    with pytest.raises(specc.SpecError) as info:
        compile_text(text)
    assert message in str(info.value)
