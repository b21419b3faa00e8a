"""Spec -> ``keras.Sequential``: the only module that builds with Keras.

Keras is imported inside the functions, so importing specc stays TensorFlow-free. The
builder is backend-agnostic (tensorflow, jax, torch): nothing here is TF-specific.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import os
from collections.abc import Iterator
from typing import Any

from specc.analysis.graph import Graph, ResolvedLayer
from specc.analysis.submodels import SubModel
from specc.backends import kerasenv, plugins
from specc.backends.arguments import (
    call_arguments,
    callback_arguments,
    layer_arguments,
    nested_arguments,
    optimizer_arguments,
    regularizer_call,
    stated,
)
from specc.language.schema import Regularizer, Spec
from specc.layers import LayerSpec, OpSpec, constants
from specc.layers.custom import PluginLayer
from specc.terms.objects import KerasObject, PluginObject
from specc.terms.user_code import is_plugin_path


def keras_class(keras: Any, spec: LayerSpec) -> Any:
    """The Keras class a declaration stands for (``keras.layers.Dense``, ``keras.Sequential``;
    a plugin layer's class, from its module)."""
    if isinstance(spec, PluginLayer):
        return plugins.active().layer_class(spec.path)
    obj = keras
    for part in spec.KERAS_PATH.split("."):
        obj = getattr(obj, part)
    return obj


def _keras_value(keras: Any, value: Any) -> Any:
    if isinstance(value, Regularizer):
        cls, kwargs = regularizer_call(value)
        return getattr(keras.regularizers, cls)(**kwargs)
    if isinstance(value, PluginObject):  # the user's class (--plugin), with its arguments
        args = {k: _keras_value(keras, v) for k, v in value.arguments().items()}
        return plugins.active().obtain(value.type)(**args)
    if isinstance(value, KerasObject):  # a loss, metric, schedule, initializer...
        obj = keras
        for part in value.MODULE.split("."):
            obj = getattr(obj, part)
        args = stated(value)
        return getattr(obj, value.type)(**{k: _keras_value(keras, v) for k, v in args.items()})
    if isinstance(value, LayerSpec):  # a layer inside another (wrappers, nested models)
        args = nested_arguments(value)
        return keras_class(keras, value)(**{k: _keras_value(keras, v) for k, v in args.items()})
    if isinstance(value, list):
        return [_keras_value(keras, v) for v in value]
    if isinstance(value, dict):  # a loss or metrics per output name
        return {k: _keras_value(keras, v) for k, v in value.items()}
    return value


def make_layer(layer: ResolvedLayer, *, keras_names: bool = False) -> Any:
    """One Keras layer with exactly the spec's arguments and the graph's resolved name.

    ``keras_names=True`` leaves automatic names to Keras (used to test our naming).
    """
    keras = kerasenv.keras()
    if isinstance(layer.spec, SubModel):
        return _sub_model(layer.spec, keras_names=keras_names)
    arguments = layer_arguments(layer, inner_names=not keras_names)
    args = {k: _keras_value(keras, v) for k, v in arguments.items()}
    found = getattr(layer.spec, "vocabulary_path", None)
    if found is not None:  # a vocabulary file, found from the spec's folder when validated
        args["vocabulary"] = found
    if keras_names and layer.spec.name is None:
        del args["name"]
    return keras_class(keras, layer.spec)(**args)


class WeightsError(ValueError):
    """A weights file that does not fit its sub-model (or cannot be read): one line."""


def _sub_model(spec: SubModel, *, keras_names: bool) -> Any:
    """A sub-model built as its own function builds it, its weights loaded from the file
    the spec names, then frozen as used."""
    assert spec.graph is not None and spec.definition is not None  # resolved: the spec is valid
    if spec.application is not None:  # as a user writes it, so weights files work
        name, arguments = spec.application
        build_app = getattr(kerasenv.keras().applications, name)
        with _name_counters(spec._counters):
            if arguments.get("weights") == "imagenet":  # Keras finds it in its cache (checked)
                model = build_app(**arguments)
            else:  # specc loads the file: never a download
                model = build_app(**{**arguments, "weights": None})
        if arguments.get("weights") != "imagenet" and spec.weights is not None:
            load_weights(model, spec._weights_path or spec.weights)
    else:
        model = build(spec.definition, spec.graph, compile=False, keras_names=keras_names)
        if spec.weights is not None:
            load_weights(model, spec._weights_path or spec.weights)
    if not spec.trainable:
        model.trainable = False
    return model


@contextlib.contextmanager
def _name_counters(counters: dict[str, int]) -> Iterator[None]:
    """Keras' automatic-name counters set to specc's where an application is built: the
    layers the application leaves unnamed (its input, MobileNetV3's rescaling) take the
    names specc's table gives them (``input_layer_1`` after the outer input), which the
    outer layers, built with their names given, did not count in Keras. Afterwards each
    counter keeps the higher of the two."""
    global_state = kerasenv.keras().src.backend.common.global_state  # Keras' name counters
    uids = global_state.get_global_attribute(
        "object_name_uids", default=collections.defaultdict(int), set_to_default=True
    )
    before = dict(uids)
    uids.clear()
    uids.update({prefix: n for prefix, n in counters.items() if n > 0})
    try:
        yield
    finally:
        for prefix, n in before.items():
            uids[prefix] = max(uids.get(prefix, 0), n)


def load_weights(model: Any, path: str) -> None:
    """``model.load_weights(path)``; a file of another model said in one line."""
    if not os.path.isfile(path):
        raise WeightsError(f"weights file {path} not found")
    try:
        model.load_weights(path)
    except Exception as exc:  # h5py, Keras: each raises its own types
        detail = " ".join(str(exc).split())
        detail = detail if len(detail) <= 120 else detail[:117] + "..."
        raise WeightsError(
            f"weights file {path} does not fit sub-model {model.name!r}: save it from the "
            f"same model (model.save_weights) ({type(exc).__name__}: {detail})"
        ) from None


def unfreeze(model: Any, name: str, at: int) -> None:
    """The tutorial's fine-tuning step: sub-model ``name`` trainable again, except its
    ``layers[:at]`` (Keras sets ``trainable`` on every layer inside, then we refreeze)."""
    base = model.get_layer(name)
    base.trainable = True
    for layer in base.layers[:at]:
        layer.trainable = False


def apply_op(keras: Any, op: ResolvedLayer, tensors: list[Any], *, keras_names: bool) -> Any:
    """An operation applied as code applies it: the ``keras.ops`` function on the operands
    (tensors and constants) and its keyword arguments, so Keras records the same operation.

    The function takes no name: Keras names the operation from its process-wide counters,
    so the graph's resolved name is given to it afterwards (unless ``keras_names``); an
    operation the spec names is made from its class with that name.
    """
    spec = op.spec
    assert isinstance(spec, OpSpec)
    given = iter(tensors)
    operands: list[Any] = [
        next(given) if value is None else _constant(keras, value) for value in spec.operands
    ]
    if spec.LISTED:  # keras.ops.concatenate([a, b], ...)
        operands = [operands]
    operands += spec.trailing_arguments()  # keras.ops.get_item(x, key)
    kwargs = {k: _keras_value(keras, v) for k, v in spec.keyword_arguments().items()}
    if spec.name is not None:
        out = op_class(spec)(**kwargs, name=spec.name)(*operands)
    else:
        leading = [kwargs.pop(key) for key in spec.LEADING]  # einsum(subscripts, *operands)
        function = functools.reduce(getattr, spec.FUNCTION.split("."), keras.ops)
        out = function(*leading, *operands, **kwargs)
    first = out[0] if isinstance(out, list | tuple) else out  # several outputs: one op
    if not keras_names:
        first._keras_history.operation.name = op.name  # Keras keeps no other handle on it
    return list(out) if isinstance(out, tuple) else out


def _constant(keras: Any, value: Any) -> Any:
    """A constant operand as the code passes it: a number, or an array made as Keras
    records it (``keras.ops.convert_to_tensor``, ``np.array``) in its dtype."""
    array = constants.as_array(value)
    if array is None:
        return value
    if array.numpy:
        import numpy as np

        return np.array(array.values, dtype=array.dtype)
    return keras.ops.convert_to_tensor(array.values, dtype=array.dtype)


def op_class(spec: OpSpec) -> Any:
    """The Keras class of an operation (``keras.src.ops.numpy.Add``): Keras offers no other
    way to give an operation a name."""
    import importlib

    kerasenv.keras()
    return getattr(importlib.import_module(f"keras.src.ops.{spec.MODULE}"), spec.type)


def make_optimizer(spec: Spec) -> Any:
    keras = kerasenv.keras()

    assert spec.compile is not None
    cls, kwargs = optimizer_arguments(spec.compile.optimizer)
    return getattr(keras.optimizers, cls)(**{k: _keras_value(keras, v) for k, v in kwargs.items()})


def compile_arguments(spec: Spec) -> dict[str, Any]:
    """``model.compile`` arguments for the spec's loss and metrics (optimizer apart)."""
    keras = kerasenv.keras()

    assert spec.compile is not None
    args = {
        "loss": _keras_value(keras, _custom(spec.compile.loss)),
        "metrics": _keras_value(keras, _custom(spec.compile.metrics)),
    }
    for key in ("weighted_metrics", "loss_weights"):
        value = getattr(spec.compile, key)
        if value is not None:
            value = _custom(value if isinstance(value, dict) else list(value))
            args[key] = _keras_value(keras, value)
    return args


def _custom(value: Any) -> Any:
    """A loss or metric of the user's (``mypkg.losses.focal``, ``--plugin``): the function,
    or an instance of the class (made with no arguments); others as they are."""
    if is_plugin_path(value):
        found = plugins.active().obtain(value)
        return found() if isinstance(found, type) else found
    if isinstance(value, list | tuple):
        return [_custom(v) for v in value]
    if isinstance(value, dict):
        return {k: _custom(v) for k, v in value.items()}
    return value


def make_callbacks(spec: Spec) -> list[Any]:
    keras = kerasenv.keras()

    out = []
    for cb in spec.training.callbacks if spec.training else []:
        cls, kwargs = callback_arguments(cb)
        out.append(getattr(keras.callbacks, cls)(**kwargs))
    return out


def build(spec: Spec, graph: Graph, *, compile: bool = True, keras_names: bool = False) -> Any:
    """Build the model; compile it with the spec's optimizer, loss and metrics if asked."""
    keras = kerasenv.keras()

    if graph.functional:
        model = _functional(keras, spec, graph, keras_names=keras_names)
    else:
        layers = [make_layer(layer, keras_names=keras_names) for layer in graph.layers]
        # The input gets Keras' fresh-session name explicitly too: no process-global counters.
        given = spec.model.input
        inputs = keras.Input(shape=graph.input_shape[1:], dtype=given.dtype, name=graph.input_name)
        model = keras.Sequential([inputs, *layers], name=spec.model.name or spec.name)
    if compile and spec.compile is not None:
        model.compile(optimizer=make_optimizer(spec), **compile_arguments(spec))
    return model


def _functional(keras: Any, spec: Spec, graph: Graph, *, keras_names: bool) -> Any:
    """A graph spec as the functional code that states it: ``keras.Input`` per input, each
    layer made once and called, in the spec's order, on the tensors it takes."""
    tensors: dict[tuple[str, int], Any] = {
        (given.name, 0): keras.Input(shape=given.shape[1:], dtype=given.dtype, name=given.name)
        for given in graph.inputs
    }
    by_name = {layer.name: layer for layer in graph.made}
    made: dict[str, Any] = {}
    for call in graph.calls:

        def tensor(source: tuple[str, int, int | None]) -> Any:
            out = tensors[(source[0], source[1])]
            return out if source[2] is None or not isinstance(out, list | tuple) else out[source[2]]

        args = [tensor(s) for s in call.sources]
        if isinstance(by_name[call.layer].spec, OpSpec):
            op = by_name[call.layer]
            tensors[(call.layer, call.node)] = apply_op(keras, op, args, keras_names=keras_names)
            continue
        if call.layer not in made:
            made[call.layer] = make_layer(by_name[call.layer], keras_names=keras_names)
        layer = made[call.layer]
        how = by_name[call.layer].spec.CALL  # declared on the catalog class
        training = getattr(by_name[call.layer].spec, "call_training", None)
        if training is not None:  # a sub-model called in inference mode (or training)
            out = layer(args if len(args) > 1 else args[0], training=training)
        elif len(args) == 1:
            out = layer(args[0])
        elif how == "states":
            out = layer(args[0], initial_state=args[1:])
        elif how == "positional":  # query, value(, key) as separate arguments
            out = layer(*args, **call_arguments(by_name[call.layer].spec))
        else:
            out = layer(args)  # merging layers and Attention take one list
        tensors[(call.layer, call.node)] = list(out) if isinstance(out, tuple) else out
    outputs: list[Any] = []
    for source in graph.outputs:
        out = tensors[(source[0], source[1])]
        if source[2] is not None and isinstance(out, list):
            outputs.append(out[source[2]])
        elif isinstance(out, list):
            outputs.extend(out)
        else:
            outputs.append(out)
    inputs = [tensors[(given.name, 0)] for given in graph.inputs]
    given: Any = outputs if len(outputs) > 1 else outputs[0]
    if graph.output_keys:  # outputs: {name: layer}, as keras.Model takes a dict
        given = dict(zip(graph.output_keys, outputs, strict=True))
    return keras.Model(
        inputs=inputs if len(inputs) > 1 else inputs[0],
        outputs=given,
        name=spec.model.name or spec.name,
    )


def adapt_normalization(model: Any, x: Any, lookups: dict[str, int | None] | None = None) -> int:
    """Adapt every Normalization given no mean and variance, and each lookup layer named in
    ``lookups`` (layer name -> how many training samples it learns from; None: all), to
    the data that reaches it.

    Layers are taken in order (those inside nested models too), so each one sees the data
    as the layers before it, already adapted, leave it. Returns how many were adapted.
    """
    keras = kerasenv.keras()

    adapted = 0
    lookups = lookups or {}
    for i, layer in enumerate(model.layers):
        nested = isinstance(layer, keras.Sequential)
        unadapted = isinstance(layer, keras.layers.Normalization) and layer.input_mean is None
        if not (unadapted or layer.name in lookups or (nested and _needs_adapting(keras, layer))):
            continue
        data = x if i == 0 else _reaching(keras, model, layer, x)
        if nested:
            adapted += adapt_normalization(layer, data)
        else:
            layer.adapt(_first(data, lookups.get(layer.name)))
            adapted += 1
    return adapted


def _reaching(keras: Any, model: Any, layer: Any, x: Any) -> Any:
    """What reaches ``layer`` when ``x`` is fed to ``model``: the sub-model's prediction
    (as the emitted script computes it), or, from arrays, a model input's own array
    (Keras' predict takes no NumPy strings)."""
    inputs = {t.name: k for k, t in enumerate(model.inputs)}
    source = layer.input
    if not hasattr(x, "map") and getattr(source, "name", None) in inputs:
        if isinstance(x, dict):
            return x[source.name]
        return x[inputs[source.name]] if isinstance(x, list | tuple) else x
    return keras.Model(model.inputs, source).predict(x, verbose=0)


def _first(data: Any, samples: int | None) -> Any:
    """The first ``samples`` samples of an array or a batched dataset (None: all)."""
    if samples is None:
        return data
    if hasattr(data, "unbatch"):
        return data.unbatch().take(samples).batch(256)
    return data[:samples]


def _needs_adapting(keras: Any, model: Any) -> bool:
    return any(
        _needs_adapting(keras, layer)
        if isinstance(layer, keras.Sequential)
        else isinstance(layer, keras.layers.Normalization) and layer.input_mean is None
        for layer in model.layers
    )


def save(model: Any, path: str | os.PathLike[str]) -> None:
    """Save a ``.keras`` file atomically: on any failure no partial file is left.

    A compiled model's optimizer is built first (its slots start at zero, as in ``fit``):
    saved unbuilt, loading it warns "Skipping variable loading for optimizer".
    """
    from specc.files import atomic_path

    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        optimizer.build(model.trainable_variables)
    with atomic_path(path) as tmp:
        model.save(tmp)


def layer_table(model: Any) -> list[dict[str, Any]]:
    """What Keras itself says of each layer, in the shape of ``specc summary``'s rows."""
    import math

    def count(weights: list[Any]) -> int:
        return sum(math.prod(w.shape) for w in weights)

    def shape(output: Any) -> list[Any]:  # several outputs: a list of shapes
        return (
            [list(o.shape) for o in output]
            if isinstance(output, list | tuple)
            else list(output.shape)
        )

    # A functional model's operations (keras.ops nodes: x + y) are rows too, with no weights.
    operations = model.operations if hasattr(model, "operations") else model.layers
    return [
        {
            "name": layer.name,
            "type": type(layer).__name__,
            "output_shape": shape(layer.output),
            "params": layer.count_params() if hasattr(layer, "count_params") else 0,
            "trainable_params": count(getattr(layer, "trainable_weights", [])),
            "non_trainable_params": count(getattr(layer, "non_trainable_weights", [])),
        }
        for layer in operations
    ]
