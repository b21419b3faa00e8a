"""``.keras`` file -> spec: the way in for users with an existing Keras model.

The model is loaded by Keras with ``safe_mode=True`` (no code is deserialised); its
compile config is read from the archive's ``config.json``. Arguments equal to Keras'
defaults are left out so the spec stays short, and the result is validated by specc
before it is returned: an import never produces a spec that ``validate`` rejects.

The archive is checked before Keras reads any of it (a ``.keras`` file is untrusted
input): how many members it has, what each declares it unpacks to (Keras reads
``config.json`` and the weights whole and extracts every member when there are more
than three), and ``config.json`` at most 16 MiB of JSON. Every field read from that JSON
is shape-checked, so a hostile ``compile_config`` is an error, never a traceback.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from typing import Any

from specc import kerasenv
from specc.data import human_size
from specc.errors import Diagnostic, SpecError
from specc.graph import to_snake_case
from specc.schema import INITIALIZERS, LAYER_TYPES, OPTIMIZER_CLASSES

# The smallest valid arguments per layer type, to build a default instance to compare with.
_REQUIRED = {
    "filters": 1, "kernel_size": 1, "units": 1, "rate": 0.5, "target_shape": (1,),
    "activation": "relu", "pool_size": 2,
}  # fmt: skip
_IGNORED = {"name", "trainable", "dtype"}

MAX_CONFIG_BYTES = 16 * 2**20
"""config.json holds the model's architecture; the blog model's is 9 KB."""
MAX_MEMBERS = 64
"""Keras writes three (metadata.json, config.json, model.weights.h5)."""
MAX_EXPANSION = 100
"""Keras stores members uncompressed; deflate stays far below this (as Keras' own guard)."""
EXPANSION_FLOOR = 2**20


class ImportProblem(Exception):
    """A model that cannot be expressed as a spec; the message names what and why."""


def _float(value: Any) -> Any:
    """Keras stores some floats as float32: 0.0010000000474974513 -> 0.001."""
    import numpy as np

    if isinstance(value, float):
        short = float(str(np.float32(value)))
        return short if float(np.float32(short)) == float(np.float32(value)) else value
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return _float(value)


def _collapse(value: Any) -> Any:
    """``[3, 3]`` -> ``3``, ``[[1, 1], [2, 2]]`` -> ``[1, 2]``, as a spec would say it.

    Only for arguments Keras also takes as one int (not shapes, where length matters).
    """
    if isinstance(value, list) and value:
        value = [_collapse(v) for v in value]
        if all(v == value[0] for v in value) and isinstance(value[0], int):
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


def layer_entry(layer: Any, auto_name: str | None) -> dict[str, Any]:
    """A spec layer mapping for one Keras layer, omitting Keras defaults."""
    keras = kerasenv.keras()

    kind = type(layer).__name__
    where = f"layer {layer.name!r} ({kind})"
    if kind not in LAYER_TYPES:
        raise ImportProblem(f"{where}: layer type {kind!r} is not supported by specc")
    fields = LAYER_TYPES[kind].model_fields
    int_or_tuple = LAYER_TYPES[kind].INT_OR_TUPLE
    config = layer.get_config()
    required = {k: v for k, v in _REQUIRED.items() if k in fields and fields[k].is_required()}
    required |= LAYER_TYPES[kind].MINIMAL
    defaults = getattr(keras.layers, kind)(**required).get_config()
    entry: dict[str, Any] = {"type": kind}
    if auto_name is None:
        entry["name"] = layer.name
    policy = config.get("dtype", {})
    if isinstance(policy, dict) and policy.get("config", {}).get("name", "float32") != "float32":
        raise ImportProblem(f"{where}: dtype policy {policy['config']['name']!r} is not supported")
    if not layer.trainable:
        entry["trainable"] = False
    for key, value in config.items():
        if key in _IGNORED:
            continue
        if key not in fields:
            if value != defaults.get(key):
                raise ImportProblem(f"{where}: argument {key}={value!r} is not supported by specc")
            continue
        default = fields[key].default
        if key.endswith("_initializer"):
            value = _initializer_name(f"{where} {key}", value)
            if isinstance(default, str):  # Keras' alias or class name ("uniform", "Zeros")
                default = _initializer_name(
                    key, keras.saving.serialize_keras_object(keras.initializers.get(default))
                )
        elif key.endswith("_regularizer") and value is not None:
            value = _regularizer(f"{where} {key}", value)
        elif key == "activation" and value == "linear":
            value = None
        elif (
            key == "strides" and "pool_size" in config and list(value) == list(config["pool_size"])
        ):
            continue  # Keras fills strides in from pool_size
        value, default = _plain(value), _plain(default)
        if key in int_or_tuple:
            value, default = _collapse(value), _collapse(default)
        if not fields[key].is_required() and value == default:
            continue
        entry[key] = value
    return entry


def read_archive_config(archive: str | os.PathLike[str]) -> dict[str, Any]:
    """The archive's ``config.json``, after bounding everything Keras' loader would read.

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
    except RecursionError:
        raise ImportProblem("config.json nests too deeply") from None
    if not isinstance(config, dict):
        raise ImportProblem(f"config.json must hold a JSON object, not {_kind(config)}")
    return config


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


def _optimizer_entry(optimizer: Any) -> str | dict[str, Any]:
    """The spec's optimizer from a saved one: a name, or ``{type, ...}`` without defaults."""
    keras = kerasenv.keras()
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
        raise ImportProblem(f"optimizer {cls_name[:80]!r} is not supported by specc")
    fields = classes[cls_name].model_fields
    defaults = getattr(keras.optimizers, cls_name)().get_config()
    entry: dict[str, Any] = {"type": cls_name}
    for key, value in config.items():
        if key == "name":
            continue
        if key not in fields:
            if value != defaults.get(key):
                raise ImportProblem(
                    f"optimizer argument {key[:80]}={value!r:.80} is not supported by specc"
                )
            continue
        value = _float(value)
        if value != fields[key].default:
            entry[key] = value
    return entry if len(entry) > 1 else cls_name.lower()


def compile_entry(config: dict[str, Any]) -> dict[str, Any] | None:
    """The spec's ``compile`` section from an archive's ``config.json`` (already read)."""
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
        out["optimizer"] = _optimizer_entry(saved["optimizer"])
    loss = saved.get("loss")
    if not isinstance(loss, str):
        raise ImportProblem(
            f"config.json: compile_config.loss is {_kind(loss)}; specc supports losses by name"
        )
    out["loss"] = loss
    metrics = saved.get("metrics")
    if metrics is None:
        metrics = []
    if not isinstance(metrics, list) or any(not isinstance(m, str) for m in metrics):
        raise ImportProblem(
            f"config.json: compile_config.metrics must be a list of metric names, "
            f"not {_kind(metrics)}"
        )
    if metrics:
        out["metrics"] = list(metrics)
    return out


def import_model(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The spec (as data) of a saved Sequential model. Raises SpecError on any problem."""
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
        config = read_archive_config(path)
    except ImportProblem as exc:
        raise SpecError([Diagnostic(str(exc), file=shown)]) from None
    keras = kerasenv.keras()  # only once the archive is known to be within bounds
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
        # A layer keeps its name in the spec only where Keras' automatic name differs.
        # A layer's automatic name depends only on the layers before it, so one pass works.
        counters: dict[str, int] = {}
        auto_names: list[str | None] = []
        for layer in model.layers:
            prefix = to_snake_case(type(layer).__name__)
            n = counters.get(prefix, 0)
            auto = prefix if n == 0 else f"{prefix}_{n}"
            if auto == layer.name:
                counters[prefix] = n + 1
                auto_names.append(auto)
            else:
                auto_names.append(None)
        layers = [
            layer_entry(layer, auto) for layer, auto in zip(model.layers, auto_names, strict=True)
        ]
        spec: dict[str, Any] = {
            "specc": 1,
            "name": model.name,
            "model": {"input": {"shape": input_shape}, "layers": layers},
        }
        compiled = compile_entry(config)
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
