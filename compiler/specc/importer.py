"""``.keras`` file -> spec: the way in for users with an existing Keras model.

The model is loaded by Keras with ``safe_mode=True`` (no code is deserialised); its
compile config is read from the archive's ``config.json``. Arguments equal to Keras'
defaults are left out so the spec stays short, and the result is validated by specc
before it is returned: an import never produces a spec that ``validate`` rejects.
"""

from __future__ import annotations

import json
import os
import typing
import zipfile
from typing import Any

from specc import kerasenv
from specc.arguments import nested_arguments
from specc.errors import Diagnostic, SpecError
from specc.graph import to_snake_case
from specc.layers import LayerSpec
from specc.schema import INITIALIZERS, LAYER_TYPES, OPTIMIZER_CLASSES

# The smallest valid arguments per layer type, to build a default instance to compare with.
_REQUIRED = {
    "filters": 1, "kernel_size": 1, "units": 1, "rate": 0.5, "target_shape": (1,),
    "activation": "relu", "pool_size": 2,
}  # fmt: skip
_IGNORED = {"name", "trainable", "dtype", "build_input_shape"}


class ImportProblem(Exception):
    """A model that cannot be expressed as a spec; the message names what and why."""


def _float(value: Any) -> Any:
    """Keras stores some floats as float32: 0.0010000000474974513 -> 0.001. A float that
    is no float32 (``Rescaling(1 / 255)`` keeps 0.00392156862745098) stays as it is."""
    import numpy as np

    if isinstance(value, float) and float(np.float32(value)) == value:
        short = float(str(np.float32(value)))
        return short if float(np.float32(short)) == float(np.float32(value)) else value
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return _float(value)


def _takes_list(annotation: Any) -> bool:
    """Whether a field's type accepts a list (``list[int] | None``) anywhere in it."""
    if typing.get_origin(annotation) is list:
        return True
    return any(_takes_list(arg) for arg in typing.get_args(annotation))


def _collapse(key: str, value: Any, cls: type[LayerSpec]) -> Any:
    """A list from Keras' config as a spec says it: ``[3, 3]`` -> ``3`` for arguments Keras
    also takes as one int, ``[-1]`` -> ``-1`` where the spec takes no list (an ``axis``).
    Lists that mean something else as a number (a factor ``[0.2, 0.2]``) stay lists."""
    if not isinstance(value, list) or not value:
        return value
    if key in cls.INT_OR_TUPLE:
        return value[0] if all(v == value[0] for v in value) else value
    field = cls.model_fields.get(key)
    if len(value) == 1 and field is not None and not _takes_list(field.annotation):
        return value[0]
    return value


def _initializer_name(where: str, serialized: Any) -> str:
    keras = kerasenv.keras()

    if not isinstance(serialized, dict):
        raise ImportProblem(f"{where}: unsupported initializer {serialized!r}")
    name = to_snake_case(serialized["class_name"])
    if (
        name not in INITIALIZERS
        or serialized["config"] != keras.initializers.get(name).get_config()
    ):
        raise ImportProblem(
            f"{where}: initializer {serialized['class_name']}({serialized['config']}) has "
            f"arguments specc cannot express; specs name initializers with default arguments"
        )
    return name


def _regularizer(where: str, serialized: Any) -> dict[str, float]:
    if serialized["class_name"] not in ("L1", "L2", "L1L2"):
        raise ImportProblem(f"{where}: unsupported regularizer {serialized['class_name']}")
    return {k: _float(v) for k, v in serialized["config"].items() if v}


def _keras_class(keras: Any, cls: type[LayerSpec]) -> Any:
    obj = keras
    for part in cls.KERAS_PATH.split("."):
        obj = getattr(obj, part)
    return obj


def _minimal(keras: Any, value: Any) -> Any:
    """A MINIMAL argument for Keras: a layer given as spec data becomes a Keras layer."""
    if isinstance(value, dict) and "type" in value:
        spec = LAYER_TYPES[value["type"]].model_validate(value)
        return _keras_class(keras, type(spec))(**nested_arguments(spec))
    return value


def layer_entry(
    layer: Any,
    auto_name: str | None,
    nested: dict[str, Any] | None = None,
    ignore: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """A spec layer mapping for one Keras layer, omitting Keras defaults.

    ``nested`` holds the entries already made for the layers inside it (by field name);
    ``ignore`` names config keys its wrapper sets by itself.
    """
    keras = kerasenv.keras()

    kind = type(layer).__name__
    where = f"layer {layer.name!r} ({kind})"
    if kind not in LAYER_TYPES:
        raise ImportProblem(f"{where}: layer type {kind!r} is not supported by specc")
    cls = LAYER_TYPES[kind]
    fields = cls.model_fields
    config = layer.get_config()
    nested = nested or {}
    required = {k: v for k, v in _REQUIRED.items() if k in fields and fields[k].is_required()}
    required |= {k: _minimal(keras, v) for k, v in cls.MINIMAL.items()}
    defaults = _keras_class(keras, cls)(**required).get_config()
    entry: dict[str, Any] = {"type": kind}
    if auto_name is None:
        entry["name"] = layer.name
    policy = config.get("dtype", {})
    if isinstance(policy, dict) and policy.get("config", {}).get("name", "float32") != "float32":
        raise ImportProblem(f"{where}: dtype policy {policy['config']['name']!r} is not supported")
    if not layer.trainable:
        entry["trainable"] = False
    for key, value in config.items():
        if key in _IGNORED or key in ignore:
            continue
        if key in nested:
            entry[key] = nested[key]
            continue
        if key not in fields:
            if value != defaults.get(key):
                raise ImportProblem(f"{where}: argument {key}={value!r} is not supported by specc")
            continue
        if key.endswith("_initializer"):
            value = _initializer_name(f"{where} {key}", value)
        elif key.endswith("_regularizer") and value is not None:
            value = _regularizer(f"{where} {key}", value)
        elif key == "activation" and value == "linear":
            value = None
        elif (
            key == "strides" and "pool_size" in config and list(value) == list(config["pool_size"])
        ):
            continue  # Keras fills strides in from pool_size
        value = _collapse(key, cls.from_keras(key, _plain(value)), cls)
        default = _collapse(key, _plain(fields[key].default), cls)
        if not fields[key].is_required() and value == default:
            continue
        entry[key] = value
    return entry


def _backward_is_automatic(layer: Any) -> bool:
    """Whether a Bidirectional's backward layer is the copy Keras makes by itself."""
    forward, backward = layer.forward_layer.get_config(), layer.backward_layer.get_config()
    own = {"name", "go_backwards"}
    return type(layer.forward_layer) is type(layer.backward_layer) and {
        k: v for k, v in forward.items() if k not in own
    } == {k: v for k, v in backward.items() if k not in own}


def _entries(
    layers: list[Any],
    counters: dict[str, int],
    *,
    names: list[str] | None = None,
    ignore: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Spec entries for layers, walked in the order Keras code constructs them: the layers
    inside a layer first (they take automatic names first), then the layer itself.

    A layer keeps its name in the spec only where Keras' automatic name differs; a layer's
    automatic name depends only on the layers constructed before it, so one pass works.
    ``names`` are the names as written where Keras renamed the layers (a Bidirectional's
    inner layer becomes ``forward_<name>``).
    """
    entries = []
    for i, layer in enumerate(layers):
        kind = type(layer).__name__
        nested: dict[str, Any] = {}
        own_ignore = set(ignore)
        for key in LAYER_TYPES[kind].NESTED if kind in LAYER_TYPES else ():
            value = getattr(layer, key) if kind != "Bidirectional" else layer.forward_layer
            if kind == "Bidirectional":
                if not _backward_is_automatic(layer):
                    raise ImportProblem(
                        f"layer {layer.name!r} (Bidirectional): a backward_layer of its own is "
                        "not supported by specc"
                    )
                own_ignore.add("backward_layer")
                nested[key] = _entries(
                    [value], counters,
                    names=[value.name.removeprefix("forward_")],
                    ignore=frozenset({"zero_output_for_mask"}),  # Bidirectional sets it
                )[0]  # fmt: skip
            elif isinstance(value, list):
                nested[key] = _entries(value, counters)
            else:
                nested[key] = _entries([value], counters)[0]
        name = names[i] if names else layer.name
        prefix = to_snake_case(kind)
        n = counters.get(prefix, 0)
        auto = prefix if n == 0 else f"{prefix}_{n}"
        if auto == name:
            counters[prefix] = n + 1
        entry = layer_entry(layer, auto if auto == name else None, nested, frozenset(own_ignore))
        if "name" in entry:
            entry["name"] = name
        inner = [e for v in nested.values() for e in (v if isinstance(v, list) else [v])]
        if "trainable" in entry and inner and all(e.get("trainable") is False for e in inner):
            del entry["trainable"]  # frozen through its inner layers, as specs say it
        entries.append(entry)
    return entries


def compile_entry(archive: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The spec's ``compile`` section from the archive's saved compile config, if any."""
    keras = kerasenv.keras()

    with zipfile.ZipFile(archive) as zf:
        config = json.loads(zf.read("config.json"))
    saved = config.get("compile_config")
    if not saved:
        return None
    saved = saved.get("config", saved)
    optimizer = saved.get("optimizer")
    out: dict[str, Any] = {}
    if isinstance(optimizer, dict):
        cls_name = optimizer["class_name"]
        classes = {cls.__name__: cls for cls in OPTIMIZER_CLASSES}
        if cls_name not in classes:
            raise ImportProblem(f"optimizer {cls_name!r} is not supported by specc")
        fields = classes[cls_name].model_fields
        defaults = getattr(keras.optimizers, cls_name)().get_config()
        entry: dict[str, Any] = {"type": cls_name}
        for key, value in optimizer["config"].items():
            if key == "name":
                continue
            if key not in fields:
                if value != defaults.get(key):
                    raise ImportProblem(
                        f"optimizer argument {key}={value!r} is not supported by specc"
                    )
                continue
            value = _float(value)
            if value != fields[key].default:
                entry[key] = value
        out["optimizer"] = entry if len(entry) > 1 else cls_name.lower()
    elif isinstance(optimizer, str):
        out["optimizer"] = optimizer
    loss = saved.get("loss")
    if not isinstance(loss, str):
        raise ImportProblem(
            f"loss {loss!r} is not a Keras loss name; specc supports losses by name"
        )
    out["loss"] = loss
    metrics = saved.get("metrics") or []
    if any(not isinstance(m, str) for m in metrics):
        raise ImportProblem(f"metrics {metrics!r}: specc supports metrics by name")
    if metrics:
        out["metrics"] = list(metrics)
    return out


def import_model(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The spec (as data) of a saved Sequential model. Raises SpecError on any problem."""
    keras = kerasenv.keras()

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
    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types for a bad archive
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SpecError(
            [Diagnostic(f"not a loadable .keras model: {message}", file=shown)]
        ) from None
    try:
        if not isinstance(model, keras.Sequential):
            raise ImportProblem(
                f"{type(model).__name__} model {model.name!r} is not a keras.Sequential; "
                "specc imports Sequential models only"
            )
        input_shape = list(model.inputs[0].shape[1:])
        layers = _entries(model.layers, {})
        spec: dict[str, Any] = {
            "specc": 1,
            "name": model.name,
            "model": {"input": {"shape": input_shape}, "layers": layers},
        }
        compiled = compile_entry(path)
        if compiled:
            spec["compile"] = compiled
    except ImportProblem as exc:
        raise SpecError([Diagnostic(str(exc), file=shown)]) from None
    return spec


def to_yaml(spec: dict[str, Any], source: str) -> str:
    """Readable YAML: one flow mapping per layer, sections in the usual order."""
    import yaml

    def flow(value: Any) -> str:
        text = yaml.safe_dump([value], default_flow_style=True, width=10**6, sort_keys=False)
        return text.strip()[1:-1]  # dumped inside a list: no "..." document end for scalars

    lines = [
        f"# Imported by specc from {os.path.basename(source)}.",
        f"specc: {spec['specc']}",
        f"name: {flow(spec['name'])}",
        "",
        "model:",
        "  input:",
        f"    shape: {flow(spec['model']['input']['shape'])}",
        "  layers:",
        *(f"    - {flow(layer)}" for layer in spec["model"]["layers"]),
    ]
    if "compile" in spec:
        lines += ["", "compile:"]
        lines += [f"  {key}: {flow(value)}" for key, value in spec["compile"].items()]
    return "\n".join(lines) + "\n"
