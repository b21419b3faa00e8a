"""Hypothesis strategies derived from the catalog's declarations, not written by hand.

:func:`entries` reads a layer class's JSON Schema (its Pydantic fields: types, ranges,
enums, list lengths) and draws schema-valid entries of that type, so a layer added to the
catalog is drawn by the differential tests without a strategy of its own. Sizes are kept
small (the shape rules, not the allocator, are under test); arguments that take Keras
objects (initializers, regularizers) keep their defaults, and ``name`` is left to Keras.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from specc.layers import CATALOG

SMALL = 9
"""How far above its lower bound a drawn number goes."""
LEFT_TO_DEFAULTS = frozenset({"type", "name", "trainable"})
"""Fields never drawn: the tag, Keras' automatic names, freezing (other tests)."""


KERAS_OBJECTS = ("_initializer", "_regularizer", "_constraint")
"""Arguments that take Keras objects: left to their defaults."""


class NoStrategy(Exception):
    """A required field whose schema this module cannot draw (an object, say)."""


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _number(schema: dict[str, Any], integer: bool) -> st.SearchStrategy:
    lo = schema.get("minimum", schema.get("exclusiveMinimum"))
    hi = schema.get("maximum", schema.get("exclusiveMaximum"))
    if integer:
        low = (lo + ("exclusiveMinimum" in schema)) if lo is not None else -3
        high = hi - ("exclusiveMaximum" in schema) if hi is not None else low + SMALL
        return st.integers(low, min(high, low + SMALL))
    low = float(lo) if lo is not None else -2.0
    high = float(hi) if hi is not None else low + 3.0
    return st.floats(
        low,
        min(high, low + 3.0),
        exclude_min="exclusiveMinimum" in schema,
        exclude_max="exclusiveMaximum" in schema and high <= low + 3.0,
        allow_nan=False,
    )


def value(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy:
    """A strategy for one JSON Schema (the subset the catalog's fields use)."""
    schema = _resolve(schema, defs)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        options = []
        for option in schema["anyOf"]:
            try:
                options.append(value(option, defs))
            except NoStrategy:
                continue
        if not options:
            raise NoStrategy(str(schema)[:80])
        return st.one_of(options)
    kind = schema.get("type")
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind in ("integer", "number"):
        return _number(schema, kind == "integer")
    if kind == "string" and "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True).filter(lambda s: len(s) < 24)
    if kind == "array":
        low = schema.get("minItems", 0)
        high = min(schema.get("maxItems", low + 3), low + 3)
        return st.lists(value(schema.get("items", {}), defs), min_size=low, max_size=high)
    raise NoStrategy(str(schema)[:80])


@functools.cache
def _fields(layer_type: str) -> tuple[dict[str, st.SearchStrategy], dict[str, st.SearchStrategy]]:
    """Required and optional fields of a type, each with its strategy (optional fields
    this module cannot draw keep their defaults)."""
    cls = CATALOG[layer_type]
    schema = cls.model_json_schema()
    defs = schema.get("$defs", {})
    required, optional = {}, {}
    for key, sub in schema["properties"].items():
        if key in LEFT_TO_DEFAULTS or key in cls.NESTED:
            continue
        keras_object = key.endswith(KERAS_OBJECTS) or "$ref" in json.dumps(sub)
        if keras_object and key not in schema.get("required", ()):
            continue  # an initializer, regularizer, constraint: their own tests draw them
        if key in schema.get("required", ()):
            required[key] = value(sub, defs)  # NoStrategy: the type cannot be drawn
        else:
            try:
                optional[key] = value(sub, defs)
            except NoStrategy:
                continue
    return required, optional


def drawable(layer_type: str) -> bool:
    """Whether entries of the type can be drawn from its declaration alone (one tensor in,
    no layers inside, every required field of a schema this module reads)."""
    cls = CATALOG[layer_type]
    if cls.CALL != "one" or cls.NESTED:
        return False
    try:
        _fields(layer_type)
    except NoStrategy:
        return False
    return True


@st.composite
def entries(draw: Any, layer_type: str) -> dict[str, Any]:
    """A schema-valid spec entry of ``layer_type``: required fields drawn, optional ones
    drawn about one time in three (else Keras' default)."""
    required, optional = _fields(layer_type)
    cls = CATALOG[layer_type]
    for _ in range(50):  # cross-field rules JSON Schema cannot state (Reshape's one -1)
        entry: dict[str, Any] = {"type": layer_type}
        entry.update({key: draw(strategy) for key, strategy in required.items()})
        for key, strategy in optional.items():
            if draw(st.integers(0, 2)) == 0:
                entry[key] = draw(strategy)
        try:
            cls.model_validate(entry)
        except ValueError:
            continue
        return entry
    reject()


def catalog_types(families: frozenset[str]) -> list[str]:
    """The drawable catalog types of ``families``, in catalog order."""
    return [t for t in CATALOG if CATALOG.index()[t] in families and drawable(t)]


def catalog_layer(draw: Any, families: frozenset[str]) -> dict[str, Any]:
    """An entry of any drawable catalog type of ``families``."""
    return draw(entries(draw(st.sampled_from(catalog_types(families)))))
