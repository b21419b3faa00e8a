"""Recognising a ``keras.applications`` model inside a saved model, so that import writes
``{type: MobileNetV2, include_top: false, ...}`` where the code called the application.

Nothing is guessed: the nested model's Keras name (``mobilenetv2_1.00_96``, ``resnet50``,
``efficientnetb0``...) proposes an application and some of its arguments (``alpha`` and
the rows of the MobileNets), the saved layers propose the rest (``include_top``,
``pooling``, ``classes``, ``classifier_activation``, the family's own), and a candidate is
taken only when the graph specc's own data makes of it (:func:`specc.applications.
application_spec`) equals, layer by layer, the graph read from the saved config: the same
layers by name, type and arguments, the same connections, inputs, outputs and shapes.
Anything else keeps the sub-model as a ``models:`` graph.
"""

from __future__ import annotations

import inspect
import itertools
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from specc.applications import NAMES, ApplicationError, application_spec, common, generators
from specc.backends import import_ops

_PATTERNS = {
    "MobileNet": re.compile(r"^mobilenet_(?P<alpha>\d+\.\d\d)_(?P<rows>\d+)$"),
    "MobileNetV2": re.compile(r"^mobilenetv2_(?P<alpha>\d+\.\d\d)_(?P<rows>\d+)$"),
}
"""The applications whose default name holds ``alpha`` (as ``f"{alpha:0.2f}"``)."""

_OWN_ARGUMENTS = ("include_top", "weights", "input_shape", "pooling", "classes")
_V3_ALPHAS = (1.0, 0.75, 0.5, 0.35, 0.25, 1.25, 1.5)
"""MobileNetV3's alpha is in no name: these are tried (each proven or dropped)."""


@cache
def _defaults(application: str) -> dict[str, Any]:
    """The application's arguments and Keras' defaults for them."""
    parameters = inspect.signature(generators()[application]).parameters
    return {name: p.default for name, p in parameters.items()}


def candidates(name: str) -> list[tuple[str, dict[str, Any]]]:
    """The applications whose default name is ``name``, with what the name says."""
    found: list[tuple[str, dict[str, Any]]] = [
        (app, {}) for app in NAMES if _defaults(app).get("name") == name
    ]
    for app, pattern in _PATTERNS.items():
        match = pattern.match(name)
        if match:
            found.append((app, {"alpha": float(match["alpha"])}))
    return found


def _layers(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The saved layers by name (a config that passed the graph reader's checks)."""
    return {
        s.get("name", s["config"].get("name")): s
        for s in config["layers"]
        if isinstance(s, dict) and isinstance(s.get("config"), dict)
    }


def _arguments(
    application: str, known: dict[str, Any], config: dict[str, Any], part_output: Any
) -> Iterator[dict[str, Any]]:
    """Every set of arguments the saved layers leave possible, most likely first."""
    layers = _layers(config)
    outputs = config.get("output_layers")
    if isinstance(outputs, list) and outputs and isinstance(outputs[0], list):
        if len(outputs) != 1:
            return
        outputs = outputs[0]
    if not isinstance(outputs, list) or not outputs or outputs[0] not in layers:
        return
    last = layers[outputs[0]]
    defaults = _defaults(application)
    inputs = [s for s in layers.values() if s.get("class_name") == "InputLayer"]
    if len(inputs) != 1:
        return
    shape = inputs[0]["config"].get("batch_shape")
    if not isinstance(shape, list) or len(shape) != 4:
        return
    base = {**known, "weights": None, "input_shape": shape[1:]}
    tops: list[dict[str, Any]] = []
    kind = last.get("class_name")
    poolings = {layer: pooling for pooling, layer in common.POOLING_LAYERS.items()}
    if kind in poolings:
        pooling = poolings[kind]
        tops.append({"include_top": False, "pooling": pooling})
    else:
        tops.append({"include_top": False})
        classes = part_output[-1] if isinstance(part_output, tuple) else None
        activation = last["config"].get("activation")
        if isinstance(classes, int) and (isinstance(activation, str) or activation is None):
            # Keras saves classifier_activation=None (logits) as "linear": None first
            for given in [None, "linear"] if activation == "linear" else [activation]:
                tops.append(
                    {"include_top": True, "classes": classes, "classifier_activation": given}
                )
    extras: dict[str, list[Any]] = {}
    if "minimalistic" in defaults:
        extras["minimalistic"] = [False, True]
        if "alpha" not in known:
            extras["alpha"] = list(_V3_ALPHAS)
    if "include_preprocessing" in defaults:
        extras["include_preprocessing"] = [True, False]
    if "depth_multiplier" in defaults:
        dw = layers.get("conv_dw_1", {}).get("config", {}).get("depth_multiplier", 1)
        extras["depth_multiplier"] = [dw]
    dropouts = [
        s["config"].get("rate") for s in layers.values() if s.get("class_name") == common.DROPOUT
    ]
    for key in ("dropout", "dropout_rate"):
        if key in defaults:
            extras[key] = list(dict.fromkeys([*dropouts[:1], defaults[key], 0.0]))
    for top in tops:
        varied = {  # a dropout rate is used in the top only
            k: v if top["include_top"] or not k.startswith("dropout") else [defaults[k]]
            for k, v in extras.items()
        }
        for values in itertools.product(*varied.values()):
            yield {**base, **top, **dict(zip(varied, values, strict=True))}


def _fingerprint(graph: Any) -> tuple[Any, ...]:
    """A resolved graph's structure as comparable data: its inputs, outputs, and every
    row (name, type, output shape, parameters, connections)."""
    rows = sorted((r.name, r.type, repr(r.output_shape), r.params, r.connected) for r in graph.rows)
    return (
        tuple((i.name, tuple(i.shape), i.dtype) for i in graph.inputs),
        tuple(graph.outputs),
        tuple(rows),
    )


def _same_layers(saved: Any, candidate: Any) -> bool:
    """Every layer of the same name takes the same arguments (``trainable`` aside: it is
    compared on the saved config). Two forms of one argument (a pooling's ``strides``
    left out or given as its ``pool_size``) are the same where Keras makes the same layer
    of them: its ``get_config()``, the layer as Keras saves it."""
    theirs = {layer.name: layer for layer in candidate.layers}
    for layer in saved.layers:
        other = theirs.get(layer.name)
        if other is None or other.type != layer.type:
            return False
        dumped = (x.spec.model_dump(exclude={"name", "trainable"}) for x in (layer, other))
        if next(dumped) != next(dumped) and _keras_config(layer) != _keras_config(other):
            return False
    return len(theirs) == len(saved.layers)


def _keras_config(layer: Any) -> Any:
    """The layer's config as Keras makes it from the spec's arguments (None: it cannot)."""
    from specc.backends.keras_build import make_layer

    try:
        config = make_layer(layer).get_config()
    except Exception:  # an argument Keras refuses: no equality can be shown
        return None
    return _comparable(config)


def _comparable(value: Any) -> Any:
    """A config without ``trainable`` (compared on the saved config, layers inside
    included), its floats as float32 holds them: the import reads a saved float as the
    shortest float32 text (``import_values._float``), so two values float32 cannot tell
    apart are one value here."""
    import numpy as np

    if isinstance(value, float):
        return float(np.float32(value))
    if isinstance(value, list | tuple):
        return [_comparable(v) for v in value]
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k != "trainable"}
    return value


def _resolved(model: dict[str, Any], counters: dict[str, int]) -> Any:
    """A model mapping resolved as a sub-model built with ``counters``; None if invalid."""
    from specc.analysis.graph import resolve
    from specc.errors import Diagnostic
    from specc.language.schema import Spec

    try:
        spec = Spec.model_validate({"specc": 1, "name": "application", "model": model})
    except ValueError:
        return None
    graph, problems = resolve(spec, lambda loc, message: Diagnostic(message), dict(counters))
    return None if problems else graph


def recognise(
    config: dict[str, Any], part: dict[str, Any], counters: dict[str, int]
) -> dict[str, Any] | None:
    """The ``{type: Application, ...}`` entry of a nested Functional model that is a
    ``keras.applications`` model as Keras builds it, or None.

    ``config``: the nested model's saved config; ``part``: the ``models:`` definition the
    import read from it; ``counters``: Keras' name counters where it is built. Its
    ``trainable`` is read from the config (every layer inside must agree with it: a model
    with some layers frozen is no application call).
    """
    name = config.get("name")
    found = candidates(name) if isinstance(name, str) else []
    if not found:
        return None
    trainable = config.get("trainable", True)
    for layer in _layers(config).values():  # an operation holds no weights to freeze
        if layer.get("class_name") == "InputLayer" or import_ops.is_operation(layer):
            continue
        if layer["config"].get("trainable", True) != trainable:
            return None
    saved = _resolved({k: v for k, v in part.items() if k != "name"}, counters)
    if saved is None:
        return None
    wanted = _fingerprint(saved)
    count = sum(1 for s in config["layers"] if s.get("class_name") != "InputLayer")
    for application, known in found:
        for arguments in _arguments(application, known, config, saved.output_shape):
            try:
                data = application_spec(application, **arguments)
            except (ApplicationError, ValueError, TypeError):
                continue
            if data["name"] != name or len(data["layers"]) != count:
                continue  # cheap first: a layer more or less (not the same family options)
            graph = _resolved({k: v for k, v in data.items() if k != "name"}, counters)
            if graph is None or _fingerprint(graph) != wanted:
                continue
            if _same_layers(saved, graph):
                return _entry(application, arguments, trainable)
    return None


def _entry(application: str, arguments: dict[str, Any], trainable: Any) -> dict[str, Any]:
    """The entry as a user writes it: Keras' defaults left out (``weights: null`` kept:
    the weights are in the saved file, not ImageNet's)."""
    defaults = _defaults(application)
    entry: dict[str, Any] = {"type": application}
    order = [*_OWN_ARGUMENTS, *(k for k in arguments if k not in _OWN_ARGUMENTS)]
    for key in order:
        if key in arguments and (key == "weights" or arguments[key] != defaults.get(key)):
            entry[key] = arguments[key]
    if trainable is False:
        entry["trainable"] = False
    return entry
