"""The Keras constructor arguments of each layer, optimizer and callback, as plain data.

Shared by the Keras builder and the code generator, so the model `specc build` makes and
the one the emitted script makes are built from the very same arguments. Only what the
spec states is passed (Keras' defaults stay Keras' defaults), plus the resolved name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from specc.analysis.graph import ResolvedLayer
from specc.language.schema import Regularizer
from specc.layers import LayerSpec
from specc.layers.custom import PluginLayer


def stated(model: BaseModel) -> dict[str, Any]:
    """The fields the spec wrote, minus ``type``, in declaration order (deterministic)."""
    if isinstance(model, PluginLayer):  # the user's class: its arguments as the spec gives them
        return {**model.arguments(), **({"name": model.name} if model.name else {})}
    written = model.model_fields_set
    return {
        key: getattr(model, key)
        for key in type(model).model_fields
        if key in written and key != "type"
    }


KERAS_ORDER = (
    "filters", "units", "rate", "kernel_size", "pool_size", "target_shape", "strides",
    "padding", "dilation_rate", "activation", "use_bias",
)  # fmt: skip
"""Arguments in the order Keras' signatures (and people) list them; the rest follow."""


def ordered(model: BaseModel, values: dict[str, Any]) -> dict[str, Any]:
    """Positional arguments first, then Keras' usual order, then the class's field order
    (a plugin layer's: the spec's order)."""
    if isinstance(model, PluginLayer):
        return dict(values)
    fields = list(type(model).model_fields)
    first = tuple(getattr(model, "POSITIONAL", ()))

    def rank(key: str) -> tuple[int, int]:
        if key in first:
            return (0, first.index(key))
        if key in KERAS_ORDER:
            return (1, KERAS_ORDER.index(key))
        return (2, fields.index(key))

    return dict(sorted(values.items(), key=lambda kv: rank(kv[0])))


def layer_arguments(layer: ResolvedLayer, *, inner_names: bool = True) -> dict[str, Any]:
    """Constructor arguments for a resolved layer; the resolved name comes last.

    Layers given inside it (a wrapper's ``layer``, a nested model's ``layers``) get their
    resolved names too unless ``inner_names`` is false, so no name depends on what the
    process built before. Regularizers stay :class:`Regularizer` objects: each back end
    renders them its way.
    """
    args = ordered(layer.spec, stated(layer.spec))
    args.pop("name", None)
    for key in (*layer.spec.SPEC_ONLY, *layer.spec.CALL_ARGUMENTS):
        args.pop(key, None)
    if inner_names and layer.inner_names:
        names = iter(layer.inner_names)
        args = {key: _named(value, names) for key, value in args.items()}
    return {**args, "name": layer.name}


def _named(value: Any, names: Iterator[str]) -> Any:
    """``value`` with every layer in it named, in the order the names were resolved."""
    if isinstance(value, list):
        return [_named(v, names) for v in value]
    if not isinstance(value, LayerSpec):
        return value
    inner = {key: _named(getattr(value, key), names) for key in value.NESTED}
    return value.model_copy(update={**inner, "name": next(names)})


def call_arguments(spec: LayerSpec) -> dict[str, Any]:
    """Keyword arguments of the layer's call the spec states (``use_causal_mask=True``)."""
    written = stated(spec)
    return {key: written[key] for key in spec.CALL_ARGUMENTS if key in written}


def nested_arguments(spec: LayerSpec) -> dict[str, Any]:
    """Constructor arguments of a layer given inside another (a wrapper's ``layer``)."""
    args = {k: v for k, v in ordered(spec, stated(spec)).items() if k not in spec.SPEC_ONLY}
    name = args.pop("name", None)
    return args if name is None else {**args, "name": name}


def optimizer_arguments(optimizer: BaseModel) -> tuple[str, dict[str, Any]]:
    """Keras optimizer class name and the arguments the spec set."""
    return optimizer.type, ordered(optimizer, stated(optimizer))  # type: ignore[attr-defined]  # every optimizer model has a type field (terms/objects.py)


def callback_arguments(callback: BaseModel) -> tuple[str, dict[str, Any]]:
    """Keras callback class name and the arguments the spec set."""
    return callback.type, ordered(callback, stated(callback))  # type: ignore[attr-defined]  # every callback model has a type field (terms/objects.py)


def regularizer_call(reg: Regularizer) -> tuple[str, dict[str, float]]:
    """The simplest Keras regularizer class for ``reg``: L1, L2 or L1L2.

    >>> regularizer_call(Regularizer(l2=0.01))
    ('L2', {'l2': 0.01})
    >>> regularizer_call(Regularizer(l1=0.1, l2=0.2))
    ('L1L2', {'l1': 0.1, 'l2': 0.2})
    """
    fields = reg.model_fields_set
    if fields == {"l2"}:
        return "L2", {"l2": reg.l2}
    if fields == {"l1"}:
        return "L1", {"l1": reg.l1}
    return "L1L2", {"l1": reg.l1, "l2": reg.l2}
