"""Test helpers that talk to Keras directly, independent of specc's builder."""

from __future__ import annotations

import importlib
from typing import Any

from specc.backends.kerasenv import keras as _keras


def keras() -> Any:
    return _keras()


APPLICATION_LAYERS = {
    "LayerScale": "keras.src.applications.convnext",
    "StochasticDepth": "keras.src.applications.convnext",
}
"""Layers Keras defines in its applications, not in ``keras.layers``: their modules."""


def raw_keras_layer(entry: dict[str, Any]) -> Any:
    """One Keras layer straight from a spec entry; layers inside it are built the same way."""
    k = keras()
    args = {key: value for key, value in entry.items() if key != "type"}
    for key, value in list(args.items()):
        if key.endswith("_regularizer") and isinstance(value, dict):
            args[key] = k.regularizers.L1L2(**value)
        elif isinstance(value, dict) and "type" in value:  # a wrapper's layer
            args[key] = raw_keras_layer(value)
        elif isinstance(value, list) and value and isinstance(value[0], dict):  # a nested model
            args[key] = [raw_keras_layer(v) for v in value]
    if entry["type"] in APPLICATION_LAYERS:
        cls = getattr(importlib.import_module(APPLICATION_LAYERS[entry["type"]]), entry["type"])
    else:
        cls = k.Sequential if entry["type"] == "Sequential" else getattr(k.layers, entry["type"])
    return cls(**args)


def raw_keras_model(data: dict[str, Any]) -> Any:
    """Build a Sequential straight from spec data, without specc's graph or builder.

    Used to show that what specc rejects, Keras rejects too.
    """
    k = keras()
    k.backend.clear_session()
    model = k.Sequential([k.Input(shape=tuple(data["model"]["input"]["shape"]))])
    for entry in data["model"]["layers"]:
        model.add(raw_keras_layer(entry))
    return model


def keras_rows(model: Any) -> list[dict[str, Any]]:
    from specc.backends.keras_build import layer_table

    return layer_table(model)


def static_rows(graph: Any) -> list[dict[str, Any]]:
    """specc's rows in the shape of :func:`keras_rows`; a graph lists its inputs as Keras does."""
    layers = {layer.name: layer for layer in graph.layers}

    def row(name: str, kind: str, shape: Any) -> dict[str, Any]:
        layer = layers.get(name)
        return {
            "name": name,
            "type": kind,
            "output_shape": (  # several outputs: a list of shapes
                [list(s) for s in shape] if isinstance(shape, list) else list(shape)
            ),
            "params": layer.params if layer else 0,
            "trainable_params": layer.trainable_params if layer else 0,
            "non_trainable_params": layer.non_trainable_params if layer else 0,
        }

    if graph.functional:
        return [row(r.name, r.type, r.output_shape) for r in graph.rows]
    return [row(layer.name, layer.type, layer.output_shape) for layer in graph.layers]


def static_names(graph: Any) -> list[str]:
    """The names Keras' ``model.layers`` lists: a graph's inputs included."""
    return [r["name"] for r in static_rows(graph)]
