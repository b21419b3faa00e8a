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

This module reads the archive and puts the spec together (:class:`_Importer`); the reading
is split by concern: :mod:`.import_layers` (layers, their arguments and Keras objects),
:mod:`.import_graph` (Sequential and Functional structure), :mod:`.import_compile`
(``compile_config``), on the shared values and Keras defaults of :mod:`.import_values`.
"""

from __future__ import annotations

import json
import os
import sys
import zipfile
import zlib
from typing import Any

from specc.backends import kerasenv
from specc.backends.import_compile import CompileReader
from specc.backends.import_graph import GraphReader
from specc.backends.import_values import (
    ImportProblem,
    _first_line,
    _kind,
    _show,
    _without_sharing,
    spec_name,
)
from specc.errors import Diagnostic, SpecError
from specc.files import human_size

MAX_CONFIG_BYTES = 16 * 2**20
"""config.json holds the model's architecture; the blog model's is 9 KB."""


MAX_MEMBERS = 64
"""Keras writes three (metadata.json, config.json, model.weights.h5)."""


MAX_EXPANSION = 100
"""Keras stores members uncompressed; deflate stays far below this (as Keras' own guard)."""


EXPANSION_FLOOR = 2**20


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


class _Importer(GraphReader, CompileReader):
    """Reads one config.json; every problem is collected, none stops the reading."""

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
        if getattr(self, "models", None):
            spec["models"] = self.models
        spec["model"] = model
        compiled = self.compile(config)
        if compiled:
            spec["compile"] = compiled
        return spec


MAX_VOCABULARY_BYTES = 64 * 2**20
"""Largest adapted vocabulary read from an archive's assets."""


def read_archive_vocabularies(archive: str | os.PathLike[str]) -> dict[str, str]:
    """Adapted lookup layers' vocabularies, which Keras saves as assets (not in the config):
    layer name -> the text of ``assets/layers/NAME/vocabulary.txt`` (one token a line)."""
    found: dict[str, str] = {}
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            parts = member.filename.split("/")
            if (
                len(parts) == 4
                and parts[:2] == ["assets", "layers"]
                and parts[3] == "vocabulary.txt"
            ):
                if member.file_size > MAX_VOCABULARY_BYTES:
                    raise ImportProblem(
                        f"{member.filename} is {human_size(member.file_size)}; specc reads "
                        f"vocabularies up to {human_size(MAX_VOCABULARY_BYTES)}"
                    )
                try:
                    found[parts[2]] = zf.read(member).decode("utf-8")
                except UnicodeDecodeError:
                    raise ImportProblem(f"{member.filename} is not UTF-8 text") from None
    return found


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
        importer.vocabularies = read_archive_vocabularies(path)
        kerasenv.keras()  # for Keras' defaults; only once the archive is known to be bounded
        spec = importer.model(config)
    except ImportProblem as exc:
        raise SpecError(
            [Diagnostic(_printable(p), file=shown) for p in [*importer.problems, str(exc)]]
        ) from None
    if importer.problems:
        raise SpecError([Diagnostic(_printable(p), file=shown) for p in importer.problems])
    return spec


def _printable(message: str) -> str:
    """A problem on one line, whatever the names it quotes hold: a layer named ``a\nb``
    in config.json split the line; an escape sequence would reach the terminal."""
    if message.isprintable():
        return message
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)


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


def _model_lines(model: dict[str, Any], pad: str) -> list[str]:
    """A model's (or sub-model's) keys, indented by ``pad``: one flow mapping per layer."""
    return [
        *(
            [f"{pad}name: {_flow(model['name'])}  # the Keras model's name"]
            if "name" in model
            else []
        ),
        *(
            [
                f"{pad}input:",
                *(f"{pad}  {key}: {_flow(value)}" for key, value in model["input"].items()),
            ]
            if "input" in model
            else [f"{pad}inputs:", *(f"{pad}  - {_flow(given)}" for given in model["inputs"])]
        ),
        f"{pad}layers:",
        *(line for layer in model["layers"] for line in _layer_lines(layer, pad + "  ")),
        *([f"{pad}outputs: {_flow(model['outputs'])}"] if "outputs" in model else []),
    ]


def to_yaml(spec: dict[str, Any], source: str) -> str:
    """Readable YAML: one flow mapping per layer, sections in the usual order."""
    lines = [
        f"# Imported by specc from {os.path.basename(source)}.",
        f"specc: {spec['specc']}",
        f"name: {_flow(spec['name'])}",
        "",
    ]
    if spec.get("models"):  # the sub-models, each written as model: is
        lines.append("models:")
        for key, sub in spec["models"].items():
            lines += [f"  {key}:", *_model_lines(sub, "    ")]
        lines.append("")
    lines += ["model:", *_model_lines(spec["model"], "  ")]
    if "compile" in spec:
        lines += ["", "compile:"]
        lines += [f"  {key}: {_flow(value)}" for key, value in spec["compile"].items()]
    return "\n".join(lines) + "\n"
