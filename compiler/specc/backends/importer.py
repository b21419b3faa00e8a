"""``.keras`` file -> spec: the way in for users with an existing Keras model.

The archive's ``config.json`` is read as data: no Keras object is deserialised from it (no
code can run), and a model Keras could not load (a ``Lambda``, a custom class) is still
read far enough to name everything in it a spec cannot say, all at once. Each layer type
is looked up in the catalog (:data:`specc.layers.CATALOG`) and its arguments are read by
the declaration's fields; arguments equal to those of a Keras layer built with defaults
are left out, so the spec stays short. Keras objects in the config (initializers,
regularizers, constraints, losses, metrics, learning-rate schedules) become spec values:
a name where the object is the one Keras' name stands for (``he_normal``), else
``{type: Class, ...}`` with its non-default arguments. A Sequential model becomes a layer
list; a Functional model a graph spec (``inputs``, per-layer ``inputs`` where a layer does
not take the entry above, ``apply`` for a shared layer's later calls, ``outputs``), which
for a plain chain is the same layer list.

The archive is checked before anything reads it (a ``.keras`` file is untrusted input):
how many members it has, what each declares it unpacks to, and ``config.json`` at most
16 MiB of JSON. Every field read from that JSON is shape-checked, so a hostile config is
an error, never a traceback.
"""

from __future__ import annotations

import json
import keyword
import os
import re
import sys
import typing
import zipfile
import zlib
from collections import defaultdict
from functools import cache
from typing import Any

from pydantic import ValidationError

from specc.analysis.graph import to_snake_case
from specc.backends import kerasenv
from specc.backends.arguments import ordered
from specc.errors import Diagnostic, SpecError
from specc.files import human_size
from specc.language import messages
from specc.language.schema import DTYPES, OPTIMIZER_CLASSES
from specc.layers import CATALOG, CODE_LAYERS, LayerSpec
from specc.terms.objects import (
    CONSTRAINT_NAMES,
    DECLARED,
    INITIALIZER_NAMES,
    LOSS_AS_METRIC,
    LOSS_NAMES,
    METRIC_NAMES,
    REGULARIZER_NAMES,
    snake,
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

MAX_CONFIG_BYTES = 16 * 2**20
"""config.json holds the model's architecture; the blog model's is 9 KB."""
MAX_MEMBERS = 64
"""Keras writes three (metadata.json, config.json, model.weights.h5)."""
MAX_EXPANSION = 100
"""Keras stores members uncompressed; deflate stays far below this (as Keras' own guard)."""
EXPANSION_FLOOR = 2**20
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


# ------------------------------------------------------------------------- plain values
_FLOAT32_MAX = 3.4028234663852886e38


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


def _without_sharing(config: Any) -> Any:
    """``config`` without the ``shared_object_id`` keys Keras writes on saving, where one
    object appears twice (an RNN's initializers, also held by its cell): bookkeeping, not
    arguments, and they would make an object differ from Keras' default.

    >>> _without_sharing({"a": [{"class_name": "Zeros", "config": {}, "shared_object_id": 7}]})
    {'a': [{'class_name': 'Zeros', 'config': {}}]}
    """
    stack = [config]
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


def _serialized(value: Any) -> bool:
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


# ------------------------------------------------------------------------- the archive
def read_archive_config(archive: str | os.PathLike[str]) -> dict[str, Any]:
    """The archive's ``config.json``, after bounding everything a reader would read.

    Raises ImportProblem naming the member and the bound.
    """
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_MEMBERS:
                raise ImportProblem(
                    f"the archive has {len(members)} members; a Keras model has 3 "
                    f"(specc reads at most {MAX_MEMBERS})"
                )
            try:
                info = zf.getinfo("config.json")
            except KeyError:
                raise ImportProblem("the archive has no config.json") from None
            if info.file_size > MAX_CONFIG_BYTES:
                raise ImportProblem(
                    f"config.json is {human_size(info.file_size)}; specc reads model configs up to "
                    f"{human_size(MAX_CONFIG_BYTES)}"
                )
            for member in members:
                if (
                    member.file_size > EXPANSION_FLOOR
                    and member.file_size > MAX_EXPANSION * member.compress_size
                ):
                    raise ImportProblem(
                        f"{member.filename} declares {human_size(member.file_size)} unpacked from "
                        f"{human_size(member.compress_size)} stored: refusing a possible "
                        "decompression bomb"
                    )
            raw = zf.read(info)  # zipfile reads no more than the size checked above
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as exc:
        raise ImportProblem(f"not a readable zip archive (truncated or corrupt?): {exc}") from None
    try:
        config = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ImportProblem("config.json is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ImportProblem(f"config.json is not valid JSON ({exc})") from None
    except ValueError as exc:  # an integer of more digits than Python (and so Keras) reads
        if "integer string conversion" not in str(exc):
            raise ImportProblem(f"config.json is not valid JSON ({_first_line(exc)})") from None
        raise ImportProblem(
            f"config.json holds an integer of more than {sys.get_int_max_str_digits()} digits, "
            "which Python's JSON reader (and so Keras' loader) refuses"
        ) from None
    except RecursionError:
        raise ImportProblem("config.json nests too deeply") from None
    if not isinstance(config, dict):
        raise ImportProblem(f"config.json must hold a JSON object, not {_kind(config)}")
    return _without_sharing(config)


# ----------------------------------------------------------------------- Keras defaults
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
    return _json(kerasenv.keras().saving.serialize_keras_object(layer)["config"])


@cache
def _object_defaults(module: str, class_name: str, required: str) -> dict[str, Any]:
    """The config of a Keras object of this class with default arguments (``required``: the
    JSON of the arguments it cannot do without, taken from the object being read)."""
    obj = _keras_attr(f"{module}.{class_name}")(**json.loads(required))
    return _json(kerasenv.keras().saving.serialize_keras_object(obj)["config"])


@cache
def _named_config(module: str, name: str) -> Any:
    """The config of the object Keras' name stands for (``he_normal`` -> HeNormal())."""
    obj = _keras_attr(module).get(name)
    return _json(kerasenv.keras().saving.serialize_keras_object(obj))


# ------------------------------------------------------------------------- the importer
class _Importer:
    """Reads one config.json; every problem is collected, none stops the reading."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)

    # ---------------------------------------------------------------- Keras objects
    def keras_object(self, value: Any, where: str, *, expect: str) -> Any:
        """A serialised Keras object as a spec value, or _MISSING (a problem was reported).

        ``expect`` is the objects.py module the argument takes (``initializers``...).
        """
        class_name, config = value["class_name"], value["config"]
        module = value.get("module")
        kind = _OBJECT_KINDS.get(module) if isinstance(module, str) else None
        what = {v[0]: v[1] for v in _OBJECT_KINDS.values()}[expect]
        if class_name == "function" or kind is None:
            shown = config if isinstance(config, str) else class_name
            self.problem(
                where,
                f"{_show(shown)} is a custom {what} (Python code, module {module!r}); a spec is "
                f"data and names Keras' own {_plural(what)}",
            )
            return _MISSING
        if kind[0] != expect and not (expect == "metrics" and kind[0] == "losses"):
            self.problem(where, f"{_show(value)} is a {kind[1]}, not a {what}")
            return _MISSING
        prefix = ""
        if kind[0] != expect:  # a loss object used as a metric: {type: losses.Name}
            expect, prefix = kind[0], LOSS_AS_METRIC
        declared = DECLARED[expect]
        if class_name not in declared:
            self.problem(where, f"{what} class {class_name!r} is not supported by specc")
            return _MISSING
        if not isinstance(config, dict):
            self.problem(where, f"{class_name}'s config must be an object, not {_kind(config)}")
            return _MISSING
        fields = declared[class_name]
        required = {
            k: config[k] for k, (_, default) in fields.items() if default is ... and k in config
        }
        try:
            defaults = _object_defaults(expect, class_name, json.dumps(required, sort_keys=True))
        except Exception as exc:  # Keras refuses the arguments: say so, in one line
            self.problem(where, f"Keras cannot make {_show(value)}: {_first_line(exc)}")
            return _MISSING
        args: dict[str, Any] = {}
        ok = True
        for key, arg in config.items():
            default = defaults.get(key, _MISSING)
            if key not in fields:
                if not _same(arg, default) and not (default is _MISSING and arg is None):
                    self.problem(
                        where, f"{class_name} argument {key}={_show(arg)} is not supported by specc"
                    )
                    ok = False
                continue
            if fields[key][1] is not ... and (
                _same(arg, default) or (default is _MISSING and _same(_plain(arg), fields[key][1]))
            ):
                continue
            args[key] = _plain(arg)
        if not ok:
            return _MISSING
        if expect == "regularizers" and class_name in ("L1", "L2", "L1L2"):
            # The shorthand specs have always used: {l2: 0.01}, {l1: ..., l2: ...}.
            if class_name == "L1L2":  # both keys, so it stays an L1L2
                return {"l1": _plain(config.get("l1", 0.0)), "l2": _plain(config.get("l2", 0.0))}
            key = class_name.lower()
            return {key: _plain(config.get(key, 0.01))}
        name = snake(class_name)
        if not args and name in kind[2] and _named_config(expect, name) == _json(value):
            return name  # the object Keras' name stands for: he_normal, non_neg
        return {"type": prefix + class_name, **args}

    # ---------------------------------------------------------------------- layers
    def layers(
        self, serialized: list[Any], counters: dict[str, int], where: str
    ) -> list[dict[str, Any] | None]:
        """Spec entries for a list of layers (``where`` locates the list: ``layers``)."""
        return [self.layer(s, counters, f"{where}[{i}]") for i, s in enumerate(serialized)]

    def layer(
        self,
        serialized: Any,
        counters: dict[str, int],
        where: str,
        *,
        name: str | None = None,
        ignore: frozenset[str] = frozenset(),
    ) -> dict[str, Any] | None:
        """One layer's spec entry (None if it has problems, all reported).

        A layer keeps its name in the spec only where Keras' automatic name differs; that
        name depends only on the layers constructed before it, so one pass works. ``name``
        is the name as written where Keras renamed the layer (``forward_lstm``).
        """
        if not _serialized(serialized) or not isinstance(serialized["config"], dict):
            self.problem(where, f"must be a serialised Keras layer, not {_kind(serialized)}")
            return None
        layer_type, config = serialized["class_name"], serialized["config"]
        keras_name = config.get("name")
        name = name or keras_name
        where = f"{where} ({keras_name})" if isinstance(keras_name, str) else where
        module, registered = serialized.get("module"), serialized.get("registered_name")
        if layer_type in CODE_LAYERS:
            self.problem(
                where,
                f"{layer_type} layers carry Python code; a spec is data (write the computation "
                "with catalog layers)",
            )
            return None
        custom = not (isinstance(module, str) and module.split(".")[0] == "keras") or (
            registered is not None and registered != layer_type
        )
        if custom:
            self.problem(
                where,
                f"{layer_type} is a custom layer class ({registered or module}): Python code a "
                "spec cannot express",
            )
            return None
        cls = CATALOG.get(layer_type)
        if cls is None:
            self.problem(where, f"layer type {layer_type} is not supported by specc")
            return None
        fields = cls.model_fields
        entry: dict[str, Any] = {"type": layer_type}
        own_ignore = set(ignore)
        inner: list[dict[str, Any] | None] = []
        for key in _nested_fields(cls):
            value = config.get(key)
            if value is None:
                continue
            here = f"{where}.{key}"
            if cls.MIRRORED:
                own_ignore.add("backward_layer")
                if not self._automatic_backward(config, here):
                    own_ignore.add(key)  # reported once, as the backward layer
                    inner.append(None)
                    continue
                forward = value["config"].get("name") if _serialized(value) else None
                plain = forward.removeprefix("forward_") if isinstance(forward, str) else None
                made = self.layer(
                    value,
                    counters,
                    here,
                    name=plain,
                    ignore=frozenset({"zero_output_for_mask"}),  # Bidirectional sets it
                )
                inner.append(made)
                entry[key] = made
            elif isinstance(value, list):
                # A nested model's own InputLayer: the layers before it give its input.
                kept = [
                    v for v in value if not (_serialized(v) and v["class_name"] == "InputLayer")
                ]
                made_list = self.layers(kept, counters, here)
                inner += made_list
                entry[key] = made_list
            else:
                made = self.layer(value, counters, here)
                inner.append(made)
                entry[key] = made
        prefix = to_snake_case(layer_type)
        n = counters.get(prefix, 0)
        auto = prefix if n == 0 else f"{prefix}_{n}"
        ok = all(e is not None for e in inner)
        if auto == name:
            counters[prefix] = n + 1
        elif not is_identifier(name):
            self.problem(
                where,
                f"layer name {name!r} is not a Python identifier (letters, digits, _); "
                "specs name layers with identifiers",
            )
            ok = False
        else:
            entry["name"] = name
        for taken in cls.SUBLAYERS:  # as the spec's names will: layers Keras makes inside
            counters[taken] = counters.get(taken, 0) + 1
        ok &= self._dtype_policy(config.get("dtype"), where)
        trainable = config.get("trainable", True)
        if not isinstance(trainable, bool):  # Keras' Layer refuses it: "Expected `trainable`
            self.problem(  # to be a boolean"
                where,
                f"trainable={_show(trainable)} is refused by Keras' loader: trainable must be "
                "true or false",
            )
            ok = False
        elif trainable is False:
            frozen_inside = inner and all(
                e is not None and e.get("trainable") is False for e in inner
            )
            if "trainable" not in fields:
                self.problem(where, f"trainable=False is not supported by specc for {layer_type}")
                ok = False
            elif not frozen_inside:  # frozen through its inner layers, as specs say it
                entry["trainable"] = False
        try:
            defaults = _layer_defaults(layer_type)
        except Exception as exc:  # a catalog declaration without a usable MINIMAL
            self.problem(
                where, f"internal: cannot build a default {layer_type}: {_first_line(exc)}"
            )
            return None
        from_keras = getattr(cls, "from_keras", None)
        for key, value in config.items():
            if key in _OWN or key in own_ignore or key in entry:
                continue
            default = defaults.get(key, _MISSING)
            if key not in fields:
                if not _same(value, default) and not (default is _MISSING and value is None):
                    self.problem(where, f"argument {key}={_show(value)} is not supported by specc")
                    ok = False
                continue
            if key == "strides" and fields[key].default is None:  # a pool's strides
                if value == config.get("pool_size"):
                    continue  # Keras fills them in from pool_size (its default config can't)
            elif _same(value, default) and not fields[key].is_required():
                continue
            made = self.argument(value, f"{where}: argument {key}={_show(value)}")
            if made is _MISSING:
                ok = False
                continue
            entry[key] = from_keras(key, made) if from_keras else made
        if not ok:
            return None
        return self.validated(cls, entry, config, where)

    def argument(self, value: Any, where: str) -> Any:
        """A layer argument's value as a spec writes it (objects by name or ``{type}``)."""
        if (
            _serialized(value)
            and isinstance(value.get("module"), str)
            and value["module"] in _OBJECT_KINDS
        ):
            expect = _OBJECT_KINDS[value["module"]][0]
            return self.keras_object(value, where, expect=expect)
        if _serialized(value):
            self.problem(where, f"{value['class_name']} objects are not supported by specc")
            return _MISSING
        return _plain(value)

    def _automatic_backward(self, config: dict[str, Any], where: str) -> bool:
        """Whether a Bidirectional's backward layer is the copy Keras makes by itself: the
        forward layer's config with ``go_backwards`` flipped, named ``backward_<name>``. A
        backward layer written by hand differs, or at least took an automatic name of its
        own (``lstm_1``), which would shift the names of every later layer."""
        forward, backward = config.get("layer"), config.get("backward_layer")
        if backward is None:
            return True
        own = {"name", "go_backwards"}
        same = (
            _serialized(forward)
            and _serialized(backward)
            and isinstance(forward["config"], dict)
            and isinstance(backward["config"], dict)
            and forward["class_name"] == backward["class_name"]
            and {k: v for k, v in forward["config"].items() if k not in own}
            == {k: v for k, v in backward["config"].items() if k not in own}
            and backward["config"].get("go_backwards") != forward["config"].get("go_backwards")
        )
        if same:
            name = forward["config"].get("name")
            plain = name.removeprefix("forward_") if isinstance(name, str) else None
            same = backward["config"].get("name") == f"backward_{plain}"
        if not same:
            shown = backward["config"].get("name") if _serialized(backward) else None
            self.problem(
                where.removesuffix(".layer"),
                f"a backward_layer of its own is not supported by specc ({_show(shown)} is not "
                "the mirror of layer that Keras makes when backward_layer is not given); leave "
                "backward_layer out",
            )
            return False
        return True

    def _dtype_policy(self, policy: Any, where: str) -> bool:
        name = policy
        if _serialized(policy) and isinstance(policy["config"], dict):
            name = policy["config"].get("name")
        if policy is None or name == "float32":
            return True
        self.problem(where, f"dtype policy {_show(name)} is not supported by specc (float32 only)")
        return False

    def validated(
        self, cls: type[LayerSpec], entry: dict[str, Any], config: dict[str, Any], where: str
    ) -> dict[str, Any] | None:
        """``entry`` if the declaration takes it, lists in their shortest equal form."""
        try:
            model = cls.model_validate(entry)
        except ValidationError as exc:
            # Keras stores some arguments as lists that it takes as one value: LayerNormalization's
            # axis -1 is kept as [-1]. Said the short way, the declaration may take them.
            failed = {e["loc"][0] for e in exc.errors() if e["loc"] and e["loc"][0] in entry}
            short = {
                k: entry[k][0] if len(entry[k]) == 1 else _collapsed(entry[k])
                for k in failed
                if isinstance(entry[k], list) and entry[k]
            }
            if short:
                try:
                    cls.model_validate({**entry, **short})
                except ValidationError:
                    pass
                else:
                    return self.validated(cls, {**entry, **short}, config, where)
            for error in exc.errors():
                key = error["loc"][0] if error["loc"] else None
                raw = config.get(key, entry.get(key)) if isinstance(key, str) else None
                shown = f"argument {key}={_show(raw)}" if isinstance(key, str) else "its arguments"
                loc, owner = messages.clean_loc(error["loc"], entry)
                text, hint = messages.error_text(error, loc, owner)
                if (
                    error["type"] == "string_type"
                    and error["msg"] != "Input should be a valid string"
                ):
                    # a name-or-object field's own words: "a name or a mapping"
                    wanted = error["msg"].removeprefix("Input should be ")
                    text = f"must be {wanted} (got {error.get('input')!r})"
                hint = f" ({hint})" if hint else ""
                self.problem(where, f"{shown} is not supported by specc: {text}{hint}")
            return None
        for key, field in cls.model_fields.items():
            # Keras' default, said in another form (an axis -1 stored as [-1]): left out.
            default = key in entry and key != "type" and not field.is_required()
            if default and getattr(model, key) == field.default:
                del entry[key]
        for key, value in list(entry.items()):
            short = _collapsed(value)
            if short == value:
                continue
            try:
                if cls.model_validate({**entry, key: short}) == model:
                    entry[key] = short
            except ValidationError:
                pass
        head = {k: entry.pop(k) for k in ("type", "name") if k in entry}
        return {**head, **ordered(model, entry)}  # as people write it: units first

    # ------------------------------------------------------------------------ model
    def input(self, serialized: Any, where: str = "input") -> dict[str, Any]:
        """The spec's ``input`` from an InputLayer's config."""
        config = serialized["config"] if _serialized(serialized) else None
        if not isinstance(config, dict):
            self.problem(
                where, f"the input must be a serialised InputLayer, not {_kind(serialized)}"
            )
            return {"shape": [1]}
        shape = config.get("batch_shape", config.get("batch_input_shape"))
        out: dict[str, Any] = {"shape": [1]}
        if (
            not isinstance(shape, list)
            or len(shape) < 2
            or any(
                not (d is None or (isinstance(d, int) and not isinstance(d, bool))) for d in shape
            )
        ):
            self.problem(where, f"batch_shape must be a list of sizes, not {_show(shape)}")
        else:
            if shape[0] is not None:
                self.problem(
                    where, f"a fixed batch size ({shape[0]}) is not supported by specc (batch_shape "
                    f"{_show(shape)}); specs leave the batch axis open"
                )  # fmt: skip
            out["shape"] = shape[1:]
        dtype = config.get("dtype", "float32")
        if _serialized(dtype) and isinstance(dtype["config"], dict):
            dtype = dtype["config"].get("name")
        if dtype not in DTYPES:
            self.problem(where, f"dtype {_show(dtype)} is not supported by specc")
        elif dtype != "float32":
            out["dtype"] = dtype
        for flag in ("sparse", "ragged"):
            if config.get(flag):
                self.problem(where, f"{flag} inputs are not supported by specc")
        name = config.get("name", DEFAULT_INPUT_NAME)
        if name != DEFAULT_INPUT_NAME:
            if is_identifier(name):
                out["name"] = name
            else:
                self.problem(
                    where, f"input name {_show(name)} is not a Python identifier; specs name the "
                    "input with an identifier"
                )  # fmt: skip
        return out

    def functional(self, config: dict[str, Any]) -> dict[str, Any] | None:
        """``input``/``inputs``, ``layers`` and ``outputs`` of a Functional model's spec.

        Each layer call (a Keras node) becomes an entry: a layer's first call its layer
        entry, later calls ``{apply: name, inputs, as}``. Entries are listed so that each
        comes after what it takes and, as far as that allows, in the order Keras made the
        layers (which Keras' config does not keep: it lists layers by depth), read back
        from their automatic names; a layer keeps ``name:`` only where that fails.
        """
        layers = config.get("layers")
        if not isinstance(layers, list) or not layers:
            self.problem(
                "config.json", f"config.layers must be a non-empty list, not {_kind(layers)}"
            )
            return None
        by_name: dict[str, tuple[int, dict[str, Any]]] = {}
        for i, s in enumerate(layers):
            name = (
                s.get("name", s["config"].get("name"))
                if _serialized(s) and isinstance(s["config"], dict)
                else None
            )
            if not isinstance(name, str) or name in by_name:
                what = "has no name" if not isinstance(name, str) else f"repeats {name!r}"
                self.problem(f"config.layers[{i}]", f"the layer {what}")
                return None
            by_name[name] = (i, s)
        is_input = {n for n, (_, s) in by_name.items() if s["class_name"] == "InputLayer"}

        def ends(value: Any) -> list[Any]:
            if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
                return [value]
            return value if isinstance(value, list) else [value]

        input_refs, output_refs = (
            ends(config.get("input_layers")),
            ends(config.get("output_layers")),
        )
        input_names = [_end(r) for r in input_refs]
        if not input_names or any(n not in is_input for n in input_names):
            self.problem(
                "config.json", f"input_layers {_show(input_refs)} are not the model's inputs"
            )
            return None
        unlisted = sorted(is_input - set(input_names))
        if unlisted:
            self.problem("config.json", f"inputs {unlisted} are not among the model's inputs")
            return None

        # ------------------------------------------------ calls and what each takes
        calls: dict[Node, list[tuple[str, int, int]]] = {}
        order_key: dict[Node, tuple[int, int]] = {}
        call_problems: dict[Node, list[str]] = {}
        for name, (i, s) in by_name.items():
            if name in is_input:
                continue
            nodes = s.get("inbound_nodes")
            if not isinstance(nodes, list) or not nodes:
                self.problem(f"config.layers[{i}] ({name})", "the layer is never called")
                return None
            for k, node in enumerate(nodes):
                call_problems[(name, k)] = []
                sources = self.call_sources(node, s["class_name"], call_problems[(name, k)])
                # A call a spec cannot say is reported; the layer is still read, for the
                # problems of its own arguments (all are named at once).
                calls[(name, k)] = sources or []
                order_key[(name, k)] = (i, k)
        multi = {n for n, (_, s) in by_name.items() if _returns_state(s)}
        for sources in calls.values():
            for layer, node, index in sources:
                if layer not in by_name or (
                    (layer, node) not in calls and not (layer in is_input and node == 0)
                ):
                    self.problem(
                        "config.json", f"a call takes {layer}[{node}], which the model lacks"
                    )
                    return None
                if index > 0:
                    multi.add(layer)
        outputs: list[tuple[str, int, int]] = []
        for ref in output_refs:
            out = _tensor({"class_name": "__keras_tensor__", "config": {"keras_history": ref}})
            if out is None or (
                (out[0], out[1]) not in calls and not (out[0] in is_input and out[1] == 0)
            ):
                self.problem("config.json", f"output {_show(ref)} is not a layer of the model")
                return None
            outputs.append(out)
            if out[2] > 0:
                multi.add(out[0])

        # --------------------------------------------------------------- the order
        order = _construction_order(calls, order_key, by_name, is_input)
        labels: dict[Node, str] = {}
        taken = set(by_name)
        for name, k in order:
            if k:
                label = f"{name}_call{k}"
                while label in taken:
                    label += "_"
                taken.add(label)
                labels[(name, k)] = label

        def ref(source: tuple[str, int, int]) -> str:
            layer, node, index = source
            text = labels.get((layer, node), layer)
            return f"{text}.{index}" if layer in multi else text

        # ------------------------------------------------------------- the entries
        counters: dict[str, int] = {}
        entries: list[dict[str, Any] | None] = []
        previous: str | None = input_names[0] if len(input_names) == 1 else None
        for position, (name, k) in enumerate(order):
            for message in call_problems[(name, k)]:
                self.problem(f"layers[{position}] ({name})", message)
            refs = [ref(s) for s in calls[(name, k)]]
            if k:
                entry: dict[str, Any] | None = {
                    "apply": name, "inputs": refs, "as": labels[(name, k)],
                }  # fmt: skip
            else:
                entry = self.layer(by_name[name][1], counters, f"layers[{position}]")
                if entry is not None and refs != [previous]:
                    entry["inputs"] = refs
            entries.append(entry)
            output = labels.get((name, k), name)
            previous = None if name in multi else output
        out_refs = [ref(s) for s in outputs]
        part: dict[str, Any] = {}
        if len(input_names) == 1:
            part["input"] = self.input(by_name[input_names[0]][1])
        else:
            part["inputs"] = []
            for n, name in enumerate(input_names):
                made = self.input(by_name[name][1], f"inputs[{n}]")
                part["inputs"].append(
                    {"name": name, **{k: v for k, v in made.items() if k != "name"}}
                )
        part["layers"] = entries
        if out_refs != [previous] or previous is None:
            part["outputs"] = out_refs
        return part

    @staticmethod
    def call_sources(
        node: Any, layer_type: str, problems: list[str]
    ) -> list[tuple[str, int, int]] | None:
        """What one call of a layer takes, as ``(layer, call, output)`` references, or None
        where the call passes something a spec's ``inputs`` cannot say (added to
        ``problems``, to be located once the call's place in the spec is known)."""
        if not isinstance(node, dict) or not isinstance(node.get("args"), list):
            problems.append(f"an inbound node must be {{args, kwargs}}, not {_kind(node)}")
            return None
        args, kwargs = node["args"], node.get("kwargs") or {}
        if not isinstance(kwargs, dict):
            problems.append(f"the call's kwargs must be an object, not {_kind(kwargs)}")
            return None
        ok = True
        states: list[Any] = []
        for key, value in kwargs.items():
            if value is None or (key == "training" and value is False):
                continue
            if key == "initial_state" and isinstance(value, list) and _call(layer_type) == "states":
                states = value  # routed after the sequence: inputs: [x, h, c]
                continue
            problems.append(
                f"the call passes {key}={_show_tensors(value)}, which a spec cannot say",
            )
            ok = False
        tensors = [_tensor(a) for a in args]
        positional = _call(layer_type) == "positional"  # query, value(, key): not one list
        if len(args) == 1 and isinstance(args[0], list) and not positional:
            tensors = [_tensor(a) for a in args[0]]
            if len(tensors) < 2:
                problems.append("the call passes a list of one tensor, which a spec cannot say")
                return None
        elif len(args) > 1 and not positional:
            problems.append(
                f"the call passes {len(args)} positional arguments; a spec passes several "
                f"inputs to {layer_type} as one list",
            )
            return None
        if states and len(args) == 1 and not isinstance(args[0], list):
            tensors += [_tensor(state) for state in states]
        if not args or any(t is None for t in tensors):
            problems.append(
                f"the call's arguments {_show_tensors(args)} are not tensors a spec routes"
            )
            return None
        return tensors if ok else None

    def sequential(self, inner: dict[str, Any]) -> dict[str, Any]:
        """``input`` and ``layers`` of a Sequential model's spec."""
        layers = inner.get("layers")
        if not isinstance(layers, list):
            self.problem("config.json", f"config.layers must be a list, not {_kind(layers)}")
            layers = []
        input_entry: dict[str, Any] = {"shape": [1]}
        if layers and _serialized(layers[0]) and layers[0]["class_name"] == "InputLayer":
            input_entry = self.input(layers[0])
            layers = layers[1:]
        else:
            shape = inner.get("build_input_shape")
            if isinstance(shape, list):
                input_entry = self.input(
                    {"class_name": "InputLayer", "config": {"batch_shape": shape}}
                )
            else:
                self.problem("input", "the model was saved without an input shape (never built)")
        if not layers:
            self.problem("layers", "the model has no layers")
        return {"input": input_entry, "layers": self.layers(layers, {}, "layers")}

    def model(self, config: dict[str, Any]) -> dict[str, Any]:
        """The spec (as data) from the whole config.json."""
        model_class, inner = config.get("class_name"), config.get("config")
        if not isinstance(inner, dict):
            raise ImportProblem(f"config.json: config must be an object, not {_kind(inner)}")
        keras_name = inner.get("name")
        if not isinstance(keras_name, str) or not keras_name:
            self.problem(
                "config.json", f"the model's name must be a string, not {_kind(keras_name)}"
            )
            keras_name = "model"
        if model_class in ("Functional", "Model"):
            part = self.functional(inner)
            model: dict[str, Any] = part or {"input": {"shape": [1]}, "layers": []}
        elif model_class == "Sequential":
            model = self.sequential(inner)
        else:
            raise ImportProblem(
                f"model class {_show(model_class)} is a subclassed model (Python code); specc "
                "imports Sequential and Functional models"
            )
        spec: dict[str, Any] = {"specc": 1, "name": spec_name(keras_name)}
        if spec["name"] != keras_name:
            model = {"name": keras_name, **model}
        spec["model"] = model
        compiled = self.compile(config)
        if compiled:
            spec["compile"] = compiled
        return spec

    # ---------------------------------------------------------------------- compile
    def compile(self, config: dict[str, Any]) -> dict[str, Any] | None:
        """The spec's ``compile`` section from config.json's ``compile_config``."""
        saved = config.get("compile_config")
        if saved is None:
            return None
        if not isinstance(saved, dict):
            raise ImportProblem(
                "config.json: compile_config must be an object with optimizer, loss and metrics, "
                f"not {_kind(saved)}"
            )
        if not saved:
            return None
        if "config" in saved:  # an older layout wraps it as {class_name, config}
            saved = saved["config"]
            if not isinstance(saved, dict):
                raise ImportProblem(
                    f"config.json: compile_config.config must be an object, not {_kind(saved)}"
                )
        out: dict[str, Any] = {}
        if saved.get("optimizer") is not None:
            optimizer = self.optimizer(saved["optimizer"])
            if optimizer is not _MISSING:
                out["optimizer"] = optimizer
        loss = saved.get("loss")
        per_output = isinstance(loss, dict) and not _serialized(loss)  # {output name: loss}
        if isinstance(loss, list) or (per_output and not all(map(is_identifier, loss))):
            raise ImportProblem(
                f"config.json: compile_config.loss is {_kind(loss)} (one loss per output); "
                "a spec gives a loss per output by the output's name"
            )
        if loss is None:
            self.problem(
                "compile_config.loss", "the model is compiled without a loss; specs need one"
            )
        elif per_output:
            made_losses = {
                name: self.loss_or_metric(value, f"compile_config.loss.{name}", "losses")
                for name, value in loss.items()
            }
            out["loss"] = {k: v for k, v in made_losses.items() if v is not _MISSING}
        else:
            made = self.loss_or_metric(loss, "compile_config.loss", "losses")
            if made is not _MISSING:
                out["loss"] = made
        for key in ("metrics", "weighted_metrics"):
            metrics = saved.get(key)
            if metrics is None or metrics == []:
                continue
            if isinstance(metrics, dict) and all(
                is_identifier(k) and isinstance(v, list) for k, v in metrics.items()
            ):  # per output name
                out[key] = {
                    name: [
                        m
                        for i, x in enumerate(values)
                        if (
                            m := self.loss_or_metric(
                                x, f"compile_config.{key}.{name}[{i}]", "metrics"
                            )
                        )
                        is not _MISSING
                    ]
                    for name, values in metrics.items()
                }
                continue
            if not isinstance(metrics, list):
                raise ImportProblem(
                    f"config.json: compile_config.{key} must be a list of metrics, not "
                    f"{_kind(metrics)}"
                )
            made_list = [
                self.loss_or_metric(m, f"compile_config.{key}[{i}]", "metrics")
                for i, m in enumerate(metrics)
            ]
            out[key] = [m for m in made_list if m is not _MISSING]
        weights = saved.get("loss_weights")
        if weights is not None:
            if not isinstance(weights, list) or any(
                not isinstance(w, int | float) or isinstance(w, bool) for w in weights
            ):
                self.problem(
                    "compile_config.loss_weights",
                    f"{_show(weights)} is not supported by specc (a list of numbers, one per output)",
                )
            else:
                out["loss_weights"] = _plain(weights)
        for key, value in saved.items():
            known = {"optimizer", "loss", "metrics", "weighted_metrics", "loss_weights"}
            if key not in known | _EXECUTION and value is not None:
                self.problem(f"compile_config.{key}", f"{_show(value)} is not supported by specc")
        return out

    def loss_or_metric(self, value: Any, where: str, expect: str) -> Any:
        """A loss or metric as Keras wrote it: a string stays that string; an object becomes
        ``{type: Class, ...}``; a function Keras names (``keras.losses.mse``) its name."""
        names = LOSS_NAMES if expect == "losses" else METRIC_NAMES
        what = "loss" if expect == "losses" else "metric"
        if isinstance(value, str):
            if (
                value in names
                or value in DECLARED[expect]
                or (expect == "metrics" and value.lower() in ("acc", "accuracy"))
            ):
                return value
            self.problem(
                where,
                f"{what} {value!r} is not one Keras names; specs name Keras' own {_plural(what)}",
            )
            return _MISSING
        if not _serialized(value):
            raise ImportProblem(
                f"config.json: {where} must be a {what} name or a serialised Keras object, "
                f"not {_kind(value)}"
            )
        if value["class_name"] == "function" and isinstance(value["config"], str):
            name = value["config"]
            keras_fn = value.get("module") in ("builtins", f"keras.{expect}", None)
            if keras_fn and name in names:
                return name  # Keras' own function, e.g. keras.losses.binary_crossentropy
            self.problem(
                where,
                f"{name!r} is a custom {what} function (Python code); a spec is data and names "
                f"Keras' own {_plural(what)}",
            )
            return _MISSING
        return self.keras_object(value, where, expect=expect)

    def optimizer(self, optimizer: Any) -> Any:
        """The spec's optimizer: a name, or ``{type, ...}`` without Keras' defaults."""
        where = "config.json: compile_config.optimizer"
        if isinstance(optimizer, str):
            return optimizer
        if not isinstance(optimizer, dict):
            raise ImportProblem(
                f"{where} must be a name or {{class_name, config}}, not {_kind(optimizer)}"
            )
        cls_name, config = optimizer.get("class_name"), optimizer.get("config")
        if not isinstance(cls_name, str):
            raise ImportProblem(f"{where}.class_name must be a string, not {_kind(cls_name)}")
        if not isinstance(config, dict):
            raise ImportProblem(f"{where}.config must be an object, not {_kind(config)}")
        classes = {cls.__name__: cls for cls in OPTIMIZER_CLASSES}
        if cls_name not in classes:
            self.problem(
                "compile_config.optimizer", f"optimizer {cls_name[:80]!r} is not supported by specc"
            )
            return _MISSING
        fields = classes[cls_name].model_fields
        defaults = _json(getattr(kerasenv.keras().optimizers, cls_name)().get_config())
        entry: dict[str, Any] = {"type": cls_name}
        ok = True
        for key, value in config.items():
            if key == "name":
                continue
            here = f"compile_config.optimizer.{key}"
            if key not in fields:
                if not _same(value, defaults.get(key)):
                    self.problem(
                        "compile_config.optimizer",
                        f"argument {key[:80]}={_show(value)} is not supported by specc",
                    )
                    ok = False
                continue
            if _serialized(value):
                value = self.keras_object(value, here, expect="optimizers.schedules")
                if value is _MISSING:
                    ok = False
                    continue
            value = _plain(value)
            if not _same(value, fields[key].default):
                entry[key] = value
        if not ok:
            return _MISSING
        return entry if len(entry) > 1 else cls_name.lower()


Node = tuple[str, int]
"""A Keras node: (layer name, which call of it)."""
_AUTO = re.compile(r"^(?P<prefix>.+?)(?:_(?P<n>[1-9][0-9]*))?$")


def _tensor(value: Any) -> tuple[str, int, int] | None:
    """A serialised KerasTensor's ``(layer, call, output)``, or None for anything else."""
    if not (_serialized(value) and value["class_name"] == "__keras_tensor__"):
        return None
    history = value["config"].get("keras_history") if isinstance(value["config"], dict) else None
    if (
        isinstance(history, list)
        and len(history) == 3
        and isinstance(history[0], str)
        and all(isinstance(h, int) and not isinstance(h, bool) and h >= 0 for h in history[1:])
    ):
        return history[0], history[1], history[2]
    return None


def _show_tensors(value: Any) -> str:
    """A call argument as a person reads it: tensors as ``layer[call][output]``.

    >>> t = {"class_name": "__keras_tensor__", "config": {"keras_history": ["lstm", 0, 1]}}
    >>> _show_tensors([t, None])
    '[lstm[0][1], None]'
    """
    found = _tensor(value)
    if found is not None:
        return f"{found[0]}[{found[1]}][{found[2]}]"
    if isinstance(value, list):
        return "[" + ", ".join(_show_tensors(v) for v in value) + "]"
    return _show(value)


def _returns_state(serialized: dict[str, Any]) -> bool:
    """Whether a layer's call gives several tensors (an RNN, or a wrapped one, with
    ``return_state``)."""
    config = serialized["config"]
    inner = config.get("layer")
    if _serialized(inner) and isinstance(inner["config"], dict):
        config = {**inner["config"], **config}
    return config.get("return_state") is True


def _construction_order(
    calls: dict[Node, list[tuple[str, int, int]]],
    order_key: dict[Node, tuple[int, int]],
    by_name: dict[str, tuple[int, dict[str, Any]]],
    inputs: set[str],
) -> list[Node]:
    """The calls in an order where each comes after what it takes (and after the same
    layer's earlier calls), and where layers with automatic names come in the order of
    their numbers (``dense`` before ``dense_1``), so a spec listing them in this order
    gets Keras' names by itself. Keras' config lists layers by depth, not by when they
    were made; where the two cannot agree, a layer gets ahead and keeps its name.
    """
    prefix_of: dict[str, tuple[str, int] | None] = {}
    numbers: dict[str, set[int]] = defaultdict(set)
    for name, (_, s) in by_name.items():
        if name in inputs:
            continue
        prefix = to_snake_case(s["class_name"])
        match = _AUTO.match(name)
        auto = match is not None and match["prefix"] == prefix
        prefix_of[name] = (prefix, int(match["n"] or 0)) if auto and match else None
        if prefix_of[name] is not None:
            numbers[prefix].add(prefix_of[name][1])  # type: ignore[index]  # not None: checked on the line above
    run = {p: next(i for i in range(len(ns) + 1) if i not in ns) for p, ns in numbers.items()}
    counters: dict[str, int] = defaultdict(int)
    waiting = {
        node: {(s[0], s[1]) for s in sources if s[0] not in inputs}
        | ({(node[0], node[1] - 1)} if node[1] else set())
        for node, sources in calls.items()
    }
    done: set[Node] = set()
    order: list[Node] = []
    while waiting:
        ready = sorted((n for n, w in waiting.items() if w <= done), key=order_key.__getitem__)
        if not ready:  # a cycle: Keras cannot have saved one; keep its order
            ready = sorted(waiting, key=order_key.__getitem__)

        def free(node: Node) -> bool:
            auto = prefix_of[node[0]]
            if node[1] or auto is None or auto[1] >= run[auto[0]]:
                return True  # a later call, or a layer that keeps its name anyway
            return auto[1] == counters[auto[0]]

        chosen = next((n for n in ready if free(n)), ready[0])
        auto = prefix_of[chosen[0]]
        if not chosen[1] and auto is not None and auto[1] < run[auto[0]]:
            if auto[1] == counters[auto[0]]:
                counters[auto[0]] += 1
            else:  # made ahead of its turn: it and the later ones keep their names
                run[auto[0]] = auto[1]
        order.append(chosen)
        done.add(chosen)
        del waiting[chosen]
    return order


def _end(value: Any) -> Any:
    """The layer name in a Functional config's ``[name, node, tensor]`` reference."""
    return value[0] if isinstance(value, list) and value else None


def _plural(what: str) -> str:
    return what + ("es" if what.endswith("s") else "s")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def import_model(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The spec (as data) of a saved model. Raises SpecError naming every problem."""
    shown = str(path)
    if not os.path.isfile(path):
        what = "is a directory" if os.path.isdir(path) else "no such file"
        raise SpecError([Diagnostic(what, file=shown)], 2)
    if not str(path).endswith(".keras") or not zipfile.is_zipfile(path):
        raise SpecError(
            [
                Diagnostic(
                    "not a .keras model archive (Keras 3 saves models as .keras zip files)",
                    file=shown,
                )
            ]
        )
    importer = _Importer()
    try:
        config = read_archive_config(path)
        kerasenv.keras()  # for Keras' defaults; only once the archive is known to be bounded
        spec = importer.model(config)
    except ImportProblem as exc:
        raise SpecError(
            [Diagnostic(p, file=shown) for p in [*importer.problems, str(exc)]]
        ) from None
    if importer.problems:
        raise SpecError([Diagnostic(p, file=shown) for p in importer.problems])
    return spec


# ---------------------------------------------------------------------------- YAML
def _flow(value: Any) -> str:
    import yaml

    text = yaml.safe_dump([value], default_flow_style=True, width=10**6, sort_keys=False)
    return text.strip()[1:-1]  # dumped inside a list: no "..." document end for scalars


def _layer_lines(layer: dict[str, Any], indent: str) -> list[str]:
    """One flow mapping per layer; a layer holding a list of layers (a nested Sequential)
    as a block, its layers one a line below it."""
    blocks = {
        k: v
        for k, v in layer.items()
        if isinstance(v, list) and v and all(isinstance(x, dict) and "type" in x for x in v)
    }
    if not blocks:
        return [f"{indent}- {_flow(layer)}"]
    lines = []
    for i, (key, value) in enumerate(layer.items()):
        lead = f"{indent}- " if i == 0 else f"{indent}  "
        if key in blocks:
            lines.append(f"{lead}{key}:")
            for sub in value:
                lines += _layer_lines(sub, indent + "    ")
        else:
            lines.append(f"{lead}{key}: {_flow(value)}")
    return lines


def to_yaml(spec: dict[str, Any], source: str) -> str:
    """Readable YAML: one flow mapping per layer, sections in the usual order."""
    model = spec["model"]
    lines = [
        f"# Imported by specc from {os.path.basename(source)}.",
        f"specc: {spec['specc']}",
        f"name: {_flow(spec['name'])}",
        "",
        "model:",
        *([f"  name: {_flow(model['name'])}  # the Keras model's name"] if "name" in model else []),
        *(
            ["  input:", *(f"    {key}: {_flow(value)}" for key, value in model["input"].items())]
            if "input" in model
            else ["  inputs:", *(f"    - {_flow(given)}" for given in model["inputs"])]
        ),
        "  layers:",
        *(line for layer in model["layers"] for line in _layer_lines(layer, "    ")),
        *([f"  outputs: {_flow(model['outputs'])}"] if "outputs" in model else []),
    ]
    if "compile" in spec:
        lines += ["", "compile:"]
        lines += [f"  {key}: {_flow(value)}" for key, value in spec["compile"].items()]
    return "\n".join(lines) + "\n"


def _call(layer_type: str) -> str:
    """How the catalog says Keras calls the layer on several inputs (``CALL``); "one" for a
    type specc does not know (reported elsewhere)."""
    cls = CATALOG.get(layer_type)
    return cls.CALL if cls is not None else "one"
