"""Reading a saved model's config.json, the parts every reader shares: plain values
(floats as float32 holds them, lists for tuples), how a value is shown in a problem, and
the defaults of Keras' own layers and objects to leave out what equals them."""

from __future__ import annotations

import json
import keyword
import re
import typing
from functools import cache
from typing import Any, TypeGuard, TypeVar

from specc.backends import kerasenv
from specc.layers import CATALOG, LayerSpec
from specc.terms.objects import (
    CONSTRAINT_NAMES,
    INITIALIZER_NAMES,
    REGULARIZER_NAMES,
)
from specc.terms.values import is_identifier

# The smallest valid arguments per layer type, to build a default instance to compare with
# (a declaration adds its own in ``MINIMAL``).
_REQUIRED = {
    "filters": 1, "kernel_size": 1, "units": 1, "rate": 0.5, "target_shape": (1,),
    "activation": "relu", "pool_size": 2,
}  # fmt: skip


_OWN = {"name", "trainable", "dtype", "build_input_shape"}
"""Config keys every layer has, read on their own (``build_input_shape``: a nested
Sequential's input, which the layers before it give)."""


DEFAULT_INPUT_NAME = "input_layer"


_OBJECT_KINDS = {
    "keras.initializers": ("initializers", "initializer", INITIALIZER_NAMES),
    "keras.regularizers": ("regularizers", "regularizer", REGULARIZER_NAMES),
    "keras.constraints": ("constraints", "constraint", CONSTRAINT_NAMES),
    "keras.losses": ("losses", "loss", ()),
    "keras.metrics": ("metrics", "metric", ()),
    "keras.optimizers.schedules": ("optimizers.schedules", "learning-rate schedule", ()),
}
"""Serialised object module -> (objects.py module, what it is called, names it may take)."""


_EXECUTION = {"jit_compile", "run_eagerly", "steps_per_execution", "auto_scale_loss"}
"""compile() settings of how to run, not what to train: a spec's ``runtime`` decides them."""


_MISSING = object()


class ImportProblem(Exception):
    """A model that cannot be expressed as a spec; the message names what and why."""


_FLOAT32_MAX = 3.4028234663852886e38


_Config = TypeVar("_Config")
"""A config of any JSON type, given back as it came (cleaned in place)."""


def _float(value: Any) -> Any:
    """Keras stores some floats as float32: 0.0010000000474974513 -> 0.001. A float that
    is no float32 (``Rescaling(1 / 255)`` keeps 0.00392156862745098, ``1e300`` is beyond
    its range: never cast, which would print numpy's overflow warning) stays as it is."""
    import numpy as np

    if not isinstance(value, float) or not abs(value) <= _FLOAT32_MAX:  # inf, nan, too big
        return value
    if float(np.float32(value)) == value:
        short = float(str(np.float32(value)))
        return short if float(np.float32(short)) == value else value
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return _float(value)


def _collapsed(value: Any) -> Any:
    """A list as Keras also takes it, shortest first: ``[3, 3]`` -> ``3``, ``[[1, 1], [2, 2]]``
    -> ``[1, 2]``. Tried only where the declaration validates it to the same value.

    >>> _collapsed([3, 3]), _collapsed([[1, 1], [2, 2]]), _collapsed([[1, 1], [1, 1]])
    (3, [1, 2], 1)
    """
    if isinstance(value, list) and value:
        value = [_collapsed(v) for v in value]
        if all(v == value[0] for v in value) and isinstance(value[0], int):
            return value[0]
    return value


def _without_sharing(config: _Config) -> _Config:
    """``config`` without the ``shared_object_id`` keys Keras writes on saving, where one
    object appears twice (an RNN's initializers, also held by its cell): bookkeeping, not
    arguments, and they would make an object differ from Keras' default.

    >>> _without_sharing({"a": [{"class_name": "Zeros", "config": {}, "shared_object_id": 7}]})
    {'a': [{'class_name': 'Zeros', 'config': {}}]}
    """
    stack: list[Any] = [config]
    while stack:  # no recursion: a config nests as deep as json.loads allows
        value = stack.pop()
        if isinstance(value, dict):
            value.pop("shared_object_id", None)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return config


def _same(value: Any, default: Any) -> bool:
    """``value == default`` where a boolean equals only a boolean: ``use_bias: 1`` is not
    Keras' default ``true`` (Python's ``1 == True``), so it is checked, not dropped."""
    if isinstance(value, bool) or isinstance(default, bool):
        return type(value) is type(default) and value == default
    if isinstance(value, list | tuple) and type(value) is type(default):
        return len(value) == len(default) and all(map(_same, value, default))
    if isinstance(value, dict) and isinstance(default, dict):
        return value.keys() == default.keys() and all(_same(value[k], default[k]) for k in value)
    return bool(value == default)


def _serialized(value: Any) -> TypeGuard[dict[str, Any]]:
    """Whether ``value`` is a serialised Keras object (``{class_name, config, ...}``)."""
    return (
        isinstance(value, dict) and isinstance(value.get("class_name"), str) and "config" in value
    )


def _show(value: Any, limit: int = 100) -> str:
    """A config value as a person reads it: objects as ``Class(arg=...)``, never raw JSON.

    >>> _show({"module": "keras.constraints", "class_name": "MaxNorm",
    ...        "config": {"max_value": 2, "axis": 0}, "registered_name": None})
    'MaxNorm(max_value=2, axis=0)'
    >>> _show([0.1, "x"]), _show(None)
    ("[0.1, 'x']", 'None')
    """

    def text(v: Any) -> str:
        if _serialized(v):
            config = v["config"]
            if not isinstance(config, dict):
                return f"{v['class_name']}({text(config)})"
            args = (f"{k}={text(x)}" for k, x in config.items() if k not in ("name", "dtype"))
            return f"{v['class_name']}({', '.join(args)})"
        if isinstance(v, list):
            return "[" + ", ".join(text(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{k}: {text(x)}" for k, x in v.items()) + "}"
        return repr(_float(v))

    shown = text(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _kind(value: Any) -> str:
    """A JSON value's type as JSON names it, with a short preview.

    >>> _kind("adam"), _kind(None), _kind([1])
    ("a string ('adam')", 'null', 'an array')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, str):
        return f"a string ({value[:40]!r})"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    return "an array" if isinstance(value, list) else "an object"


def spec_name(keras_name: str) -> str:
    """The spec's ``name`` for a Keras model name that is not a Python identifier.

    Each run of characters other than ASCII letters, digits and ``_`` becomes one ``_``
    (none at either end); a result that is empty, starts with a digit or is a Python
    keyword gets ``model_`` in front.

    >>> spec_name("3dcnn"), spec_name("my-model"), spec_name("class"), spec_name("--")
    ('model_3dcnn', 'my_model', 'model_class', 'model')
    >>> spec_name("mnist_cnn")
    'mnist_cnn'
    """
    if is_identifier(keras_name):
        return keras_name
    name = re.sub(r"[^A-Za-z0-9_]+", "_", keras_name).strip("_")
    if not name or name[0].isdigit() or keyword.iskeyword(name):
        name = f"model_{name}" if name else "model"
    return name


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _keras_attr(path: str) -> Any:
    obj = kerasenv.keras()
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _holds_layers(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, LayerSpec):
        return True
    return any(_holds_layers(arg) for arg in typing.get_args(annotation))


def _nested_fields(cls: type[LayerSpec]) -> tuple[str, ...]:
    """Fields that hold layers (a wrapper's ``layer``, a nested model's ``layers``)."""
    declared = getattr(cls, "NESTED", None)
    if declared is not None:
        return tuple(declared)
    return tuple(k for k, f in cls.model_fields.items() if _holds_layers(f.annotation))


def _keras_argument(value: Any) -> Any:
    """A MINIMAL argument for Keras: a layer given as spec data becomes a Keras layer."""
    if isinstance(value, dict) and value.get("type") in CATALOG:
        from specc.backends import keras_build

        return keras_build._keras_value(
            kerasenv.keras(), CATALOG[value["type"]].model_validate(value)
        )
    return value


@cache
def _layer_defaults(layer_type: str) -> dict[str, Any]:
    """The config of a Keras layer of this type built with the fewest arguments."""
    cls = CATALOG[layer_type]
    fields = cls.model_fields
    required = {k: v for k, v in _REQUIRED.items() if k in fields and fields[k].is_required()}
    required |= cls.MINIMAL
    layer = _keras_attr(cls.KERAS_PATH)(**{k: _keras_argument(v) for k, v in required.items()})
    config: dict[str, Any] = _json(kerasenv.keras().saving.serialize_keras_object(layer)["config"])
    return config  # a Keras object's config is a JSON object


@cache
def _object_defaults(module: str, class_name: str, required: str) -> dict[str, Any]:
    """The config of a Keras object of this class with default arguments (``required``: the
    JSON of the arguments it cannot do without, taken from the object being read)."""
    obj = _keras_attr(f"{module}.{class_name}")(**json.loads(required))
    config: dict[str, Any] = _json(kerasenv.keras().saving.serialize_keras_object(obj)["config"])
    return config  # a Keras object's config is a JSON object


@cache
def _named_config(module: str, name: str) -> Any:
    """The config of the object Keras' name stands for (``he_normal`` -> HeNormal())."""
    obj = _keras_attr(module).get(name)
    return _json(kerasenv.keras().saving.serialize_keras_object(obj))


def _plural(what: str) -> str:
    return what + ("es" if what.endswith("s") else "s")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _Reader:
    """The problems of one config.json, collected: none stops the reading."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.vocabularies: dict[str, str] = {}
        """Adapted lookup layers' vocabularies from the archive's assets, by layer name."""

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)
