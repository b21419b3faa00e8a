"""Turn Pydantic's validation errors into located, human diagnostics.

Pydantic's ``loc`` carries union tags (``layers.3.Conv2D.filters``); we walk the schema's
types alongside the ``loc`` so tags are dropped and we know which keys were allowed where,
for "did you mean" hints.
"""

from __future__ import annotations

import difflib
import functools
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, cast

from pydantic import BaseModel, Tag, ValidationError

from specc.errors import Diagnostic, Loc, format_loc
from specc.language.loader import SourceMap
from specc.language.schema import (
    CODE_LAYERS,
    KERAS_DEVICE_PATTERN,
    LAYER_TYPES,
    STEP_KEYS,
    TF_DEVICE_PATTERN,
    Apply,
    Backbone,
    Spec,
    UseModel,
    is_application,
)
from specc.layers import LayerSpec
from specc.layers.base import OPERATIONS
from specc.terms.objects import BASES, DECLARED, object_class


def did_you_mean(word: object, choices: typing.Iterable[str]) -> str | None:
    """A "did you mean" hint for a near miss, case-insensitively.

    >>> did_you_mean("kernal_size", ["kernel_size", "filters"])
    "did you mean 'kernel_size'?"
    >>> did_you_mean("conv2d", ["Conv2D", "Dense"])
    "did you mean 'Conv2D'?"
    >>> did_you_mean("zzz", ["Conv2D"]) is None
    True
    """
    if not isinstance(word, str):
        return None
    return _did_you_mean(word, tuple(choices))


@functools.lru_cache(maxsize=1024)
def _did_you_mean(word: str, choices: tuple[str, ...]) -> str | None:
    """Memoised: a file with thousands of the same typo costs one difflib search."""
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered:
        return f"did you mean {lowered[word.lower()]!r}?"
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f"did you mean {lowered[match[0]]!r}?" if match else None


ENTRY = LayerSpec | Apply | UseModel | Backbone
"""A ``model.layers`` entry's type, once unwrapped."""


def _unwrap(tp: Any) -> Any:
    """Strip Annotated / Optional wrappers down to the type that matters for walking."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


@functools.lru_cache(maxsize=256)
def _members(tp: Any) -> tuple[type[BaseModel], ...]:
    """Model classes of a (possibly tagged) union (memoised: the schema's types are fixed)."""
    out = []
    for arg in typing.get_args(tp):
        arg = _unwrap(arg)
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            out.append(arg)
    return tuple(out)


@functools.lru_cache(maxsize=256)
def _tagged(tp: Any) -> dict[str, Any]:
    """``{tag: member}`` of a union whose members carry a ``Tag`` that is no identifier
    (``per-output``: a loss per output, or one loss), so never a key of the data."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return {}
    out = {}
    for arg in typing.get_args(tp):
        for meta in getattr(arg, "__metadata__", ()):
            if isinstance(meta, Tag) and not meta.tag.isidentifier():
                out[meta.tag] = arg
    return out


DEVICE_NAMES = {
    TF_DEVICE_PATTERN: ("/gpu:0 or /cpu:1", "tf.distribute"),
    KERAS_DEVICE_PATTERN: ("gpu:0 or cpu:1", "keras.distribution"),
}
"""Device-name patterns of training.distribution: an example for each, and who names them so."""


@functools.cache
def _tag_of(cls: type[BaseModel]) -> set[str]:
    tags: set[str] = set()
    for key in ("type", "strategy"):  # strategy: training.distribution's tag
        if key in cls.model_fields:
            tags.update(typing.get_args(cls.model_fields[key].annotation))
    tags.update(cls.model_fields)  # one-key steps are tagged by their key
    tags.add(cls.__name__)
    return tags


def _types_along(raw: Loc, data: Any) -> tuple[str | None, ...]:
    """The raw ``type`` value of the entry at each prefix of ``loc`` (len(loc) + 1 items).

    Layers and Keras objects are validated by the declaration their ``type`` names, so the
    walk over the schema needs it. A part that is not in the data is a union tag: skipped.
    """
    out: list[str | None] = []
    cur = data
    for part in raw:
        out.append(_kind(cur))
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            if not (isinstance(part, str) and isinstance(cur, dict)):
                cur = None
    out.append(_kind(cur))
    return tuple(out)


USE_MODEL = "\0model"
"""The kind of an entry without ``type`` that names a sub-model (``{model: NAME}``)."""
USE_OP = "\0op:"
"""The kind of an operation entry, before its name (``{op: add}``: its declaration's keys
are the ones an unknown key is told of, not an ``apply`` entry's)."""


def _kind(value: Any) -> str | None:
    """The ``type`` a value's declaration is chosen by (:data:`USE_MODEL` for a model use)."""
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    if kind is None and isinstance(value.get("op"), str) and "apply" not in value:
        return USE_OP + value["op"]
    if kind is None and "model" in value and "apply" not in value:
        return USE_MODEL
    return kind if isinstance(kind, str) else None


def _by_type(tp: Any, kind: str | None) -> Any:
    """For a field validated by dispatch on ``type``: the declaration ``kind`` names."""
    if tp == ENTRY and kind is not None and kind.startswith(USE_OP):  # an operation
        return OPERATIONS.get(kind[len(USE_OP) :], Apply)
    if tp == ENTRY:  # a model.layers entry: a catalog layer, an apply, a model or a backbone
        if kind is None or kind == USE_MODEL:
            tp = Apply if kind is None else UseModel
        else:
            tp = LayerSpec if kind in LAYER_TYPES or not is_application(kind) else Backbone
        kind = None if tp is not LayerSpec else kind
    if kind is None or (tp is not LayerSpec and tp not in BASES.values()):
        return tp
    if tp is LayerSpec:
        return LAYER_TYPES.get(kind, tp)
    return object_class(tp.MODULE, kind) if kind in DECLARED[tp.MODULE] else tp


def clean_loc(raw: Loc, data: Any = None) -> tuple[Loc, type[BaseModel] | None]:
    """Drop union tags from a Pydantic ``loc``; also return the model owning the last key.

    ``data`` (what was validated) tells which declaration a layer or Keras object uses.
    """
    # The walk looks only at the keys, not at list indices: memoise it on the keys (and the
    # types met on the way), so thousands of errors cost one walk per kind of error.
    shape = tuple(p if isinstance(p, str) else 0 if isinstance(p, int) else None for p in raw)
    kept, owner = _clean_shape(shape, _types_along(raw, data))
    return tuple(raw[i] for i in kept), owner


@functools.lru_cache(maxsize=4096)
def _clean_shape(
    parts: tuple[Any, ...], kinds: tuple[str | None, ...]
) -> tuple[tuple[int, ...], type[BaseModel] | None]:
    """Which parts of a ``loc`` :func:`clean_loc` keeps, and the owning model."""
    tp: Any = Spec
    out: list[int] = []
    owner: type[BaseModel] | None = None
    i = 0
    while i < len(parts):
        part = parts[i]
        tp = _unwrap(tp)
        tp = _by_type(tp, kinds[i])
        tagged = _tagged(tp)
        if isinstance(part, str) and part in tagged:  # a tag no data key can be: skipped
            tp = tagged[part]
            i += 1
            continue
        members = _members(tp) if typing.get_origin(tp) in (typing.Union, types.UnionType) else ()
        if members and isinstance(part, str):
            chosen = next((m for m in members if part in _tag_of(m)), None)
            if chosen is not None and (i + 1 < len(parts) or part not in chosen.model_fields):
                tp = chosen
                i += 1
                continue
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            owner = tp
            field = tp.model_fields.get(part)
            tp = field.annotation if field else Any
        elif typing.get_origin(tp) is dict and isinstance(part, str):  # {output name: ...}
            tp = typing.get_args(tp)[1]
        elif typing.get_origin(tp) in (list, tuple) and isinstance(part, int):
            args = typing.get_args(tp)
            tp = args[0] if args else Any
        else:
            tp = Any
        out.append(i)
        i += 1
    tp = _by_type(_unwrap(tp), kinds[-1])
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        owner = tp
    return tuple(out), owner


def _got(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_KIND = {
    "int_type": ("an integer", "integers"), "int_parsing": ("an integer", "integers"),
    "float_type": ("a number", "numbers"), "float_parsing": ("a number", "numbers"),
    "bool_type": ("true or false", "booleans"), "string_type": ("a string", "strings"),
    "list_type": ("a list", "lists"), "tuple_type": ("a list", "lists"),
    "dict_type": ("a mapping", "mappings"), "model_type": ("a mapping", "mappings"),
    "model_attributes_type": ("a mapping", "mappings"),
    "finite_number": ("a finite number", "finite numbers"),
}  # fmt: skip
"""What a Pydantic type error's value must be: one (singular), and in a list (plural)."""

_VALUE_TYPE_ERRORS = {"int_type", "int_parsing", "int_from_float", "float_type",
                      "float_parsing", "bool_type", "bool_parsing"}  # fmt: skip
"""Pydantic errors for a string where a number or boolean belongs."""


def _unknown_tag(ctx: dict[str, Any], loc: Loc) -> tuple[str, str | None]:
    """An unknown ``type`` (or optimizer, or strategy) as specc says it, with the closest
    known one; a layer that runs Python code refused with what to use instead."""
    tag = ctx.get("tag")
    expected = re.findall(r"'([^']*)'", ctx.get("expected_tags", ""))
    if tag in CODE_LAYERS:
        return (
            f"layer type {tag!r} runs Python code and cannot be declared in a spec",
            "use a built-in layer such as Activation, Reshape or Dense instead",
        )
    what = "layer type" if set(expected) <= set(LAYER_TYPES) else "type"
    if ctx.get("discriminator") == "'op'" and tag == "arange":
        return (
            "keras.ops.arange takes no tensor, so Keras records no operation for it: it runs "
            "once when the model is made, and a layer called on it (an Embedding of positions) "
            "becomes a constant whose weights are never trained",
            "keras-io wraps the positions and their Embedding in a layer "
            "(TokenAndPositionEmbedding), which specc does not have",
        )
    if ctx.get("discriminator") == "'op'":
        what = "operation"
    if "optimizer" in loc:
        what = "optimizer"
    if "distribution" in loc:
        what = "strategy"
    return f"unknown {what} {tag!r}", did_you_mean(tag, expected) or (
        "expected one of " + ", ".join(expected)
    )


def error_text(
    err: Mapping[str, Any], loc: Loc, owner: type[BaseModel] | None
) -> tuple[str, str | None]:
    """One Pydantic error as specc says it: ``(message, hint or None)`` (the importer's too)."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "missing":
        return "is required", None
    if kind == "extra_forbidden":
        fields = owner.model_fields.items() if owner else ()
        allowed = [field.alias or f for f, field in fields if f != "type"]  # `as`, not `as_`
        hint = did_you_mean(loc[-1], allowed)
        if hint is None and allowed:
            hint = "allowed keys: " + ", ".join(allowed)
        return f"unknown key {loc[-1]!r}", hint
    if kind == "union_tag_invalid":
        return _unknown_tag(ctx, loc)
    if kind == "plugin_not_allowed":  # the user's code: imported only when allowed
        from specc.terms.user_code import HINT

        return str(err["msg"]), HINT.format(module=ctx["module"])
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in DEVICE_NAMES:
        example, engine = DEVICE_NAMES[ctx["pattern"]]
        return f"{_got(value)} is not a device name as {engine} writes it", f"e.g. {example}"
    if kind == "union_tag_not_found":
        if loc and loc[-1] == "distribution":
            return "needs a 'strategy' key", "one of mirrored, multi_worker_mirrored, data_parallel"
        if isinstance(value, dict) and "block" in value:  # in a Sequential's layers, say
            return (
                "a block can be used among model.layers or a block's layers, not inside a "
                "layer; write its layers here",
                None,
            )
        return "needs a 'type' key", None
    if kind == "unknown_step":
        keys = list(value) if isinstance(value, dict) else []
        hint = did_you_mean(keys[0], STEP_KEYS) if keys else None
        return f"unknown step {_got(value)}; expected one of {', '.join(STEP_KEYS)}", hint
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        if len(choices) <= 6:
            return (
                f"must be one of {', '.join(map(repr, choices))} (got {_got(value)})",
                did_you_mean(value, choices),
            )
        return f"unknown value {_got(value)}", did_you_mean(
            value, choices
        ) or "see `specc schema` for the allowed values"
    bounds = {"greater_than": ("greater than", "gt"), "greater_than_equal": ("at least", "ge"),
              "less_than": ("less than", "lt"), "less_than_equal": ("at most", "le")}  # fmt: skip
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {ctx[key]} (got {_got(value)})", None
    if "limit" in ctx and kind == "finite_number":
        return (
            f"must be a finite number within float32's range, which Keras computes in "
            f"(at most {ctx['limit']:.8g} in size; got {_got(value)})",
            None,
        )
    if kind == "finite_number" or (
        kind == "float_type" and isinstance(value, int) and not isinstance(value, bool)
    ):  # an int too large for a float is not a finite number either
        return f"must be a finite number (got {_got(value)})", None
    if kind in _KIND:
        one, many = _KIND[kind]
        also = f", or a list of {many}" if err.get("or_list") else ""
        return f"must be {one}{also} (got {_got(value)})", None
    if kind == "too_short":
        return f"needs at least {ctx['min_length']} item(s) (got {ctx['actual_length']})", None
    if kind == "too_long":
        return f"takes at most {ctx['max_length']} item(s) (got {ctx['actual_length']})", None
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", err["msg"])), None
    msg = err["msg"]
    return msg[:1].lower() + msg[1:], None


@functools.lru_cache(maxsize=1024)
def _close_keys(word: str, keys: tuple[str, ...]) -> list[str]:
    return difflib.get_close_matches(word, keys, n=1, cutoff=0.6)


def _at_given_type(source: SourceMap, loc: tuple) -> tuple | None:
    """Where an unknown ``type`` is written, when another file or an override than the
    entry's own gave it (``--set model.layers[1].type=Foo``): the message is about it."""
    typed = (*loc, "type")
    if typed not in source.values:
        return None
    mine, entry = source.values[typed], source.locate(loc)
    return typed if mine[2:] != entry[2:] else None


_PLAIN_TAG = re.compile(r"^(int|float|str|bool|constrained-\w+|(list|tuple|function-\w+)\[.*\])$")
"""How Pydantic tags a plain type among a union's members (``int``, ``list[int]``)."""


def _plain_union_tag(err: dict[str, Any], data: Any) -> int | None:
    """Where an error's ``loc`` holds the tag of a union of plain types (``axes.int``,
    ``axes.list[int]`` for ``int | list[int]``): a name where the data holds no mapping to
    look it up in (or, last, a mapping without it, where a plain value belongs)."""
    raw, cur = err["loc"], data
    for i, part in enumerate(raw):
        plain = isinstance(part, str) and _PLAIN_TAG.match(part) is not None
        if plain and not isinstance(cur, dict):
            return i
        if plain and i == len(raw) - 1 and part not in cur and err["type"] in _KIND:
            return i
        try:
            cur = cur[part]
        except (KeyError, IndexError, TypeError):
            return None
    return None


def _plain_unions(errors: list[dict[str, Any]], data: Any) -> list[dict[str, Any]]:
    """The errors of a union of plain types (``int | list[int]``) as one branch's: the
    list's for a list, the scalar's otherwise (``must be an integer, or a list of them``),
    without the branch's tag in ``loc``."""
    if data is None:
        return errors
    out = []
    kept: set[tuple] = set()  # fields with an error of the branch the value looks like
    others: dict[tuple, dict[str, Any]] = {}  # else: a field's first error, said as-is
    for err in errors:
        i = _plain_union_tag(err, data)
        if i is None:
            out.append(err)
            continue
        tag, field = str(err["loc"][i]), err["loc"][:i]
        value: Any = data
        for part in field:
            value = value[part]
        branches = {str(e["loc"][i]) for e in errors if e["loc"][:i] == field and len(e["loc"]) > i}
        listed = tag.startswith(("list[", "tuple["))
        if isinstance(value, list) != listed:
            # the other branch's error: not what the value looks like; but a list where
            # only numbers go (``value: [1, 2]`` for ``int | float``) has no branch of its
            # own, and an error must still be said
            others.setdefault(field, {**err, "loc": field, "kinds": []})["kinds"].append(
                err["type"]
            )
            continue
        kept.add(field)
        err = {**err, "loc": (*field, *err["loc"][i + 1 :])}
        if not listed and err["type"] in _KIND and any(b.startswith("list[") for b in branches):
            err["or_list"] = True
        out.append(err)
    out.extend(_none_fits(err) for field, err in others.items() if field not in kept)
    return out


def _none_fits(err: dict[str, Any]) -> dict[str, Any]:
    """One error for a value no branch of a plain union takes (a list where a name or a
    number goes): what each branch wants, ``must be a string or a number (got [1, 2])``."""
    kinds = list(dict.fromkeys(_KIND[t][0] for t in err["kinds"] if t in _KIND))
    if "a number" in kinds and "an integer" in kinds:
        kinds.remove("an integer")  # an int is a number
    if not kinds:
        return err
    text = f"must be {' or '.join(kinds)} (got {_got(err.get('input'))})"
    return {**err, "type": "value_error", "ctx": {"error": text}}


MAX_ERRORS = 200
"""Schema errors shown per spec: past this many, one more line says how many are left out
(40,000 unknown keys took seconds to explain, and nobody reads them)."""


def diagnostics(exc: ValidationError, source: SourceMap, data: Any = None) -> list[Diagnostic]:
    """One diagnostic per Pydantic error (the first MAX_ERRORS of them, then one line for
    the rest), in file order; ``data`` is what was validated."""
    out = []
    # cast: ErrorDetails is a TypedDict of the same dicts; the helpers below read plain dicts.
    raw_errors = cast(list[dict[str, Any]], exc.errors())
    left_out = raw_errors[MAX_ERRORS:]
    raw_errors = _plain_unions(raw_errors[:MAX_ERRORS], data)
    errors = [(err, *clean_loc(err["loc"], data)) for err in raw_errors]
    # A misspelled required key shows up twice: as unknown and as missing. Keep the
    # "unknown key ... did you mean" line only.
    misspelt = {
        (*loc[:-1], key)
        for err, loc, owner in errors
        if err["type"] == "extra_forbidden" and owner is not None
        for key in _close_keys(str(loc[-1]), tuple(owner.model_fields))
    }
    for err, loc, owner in errors:
        if err["type"] == "missing" and loc in misspelt:
            continue
        message, hint = error_text(err, loc, owner)
        if err["type"] in _VALUE_TYPE_ERRORS or err["type"] in ("string_type", "literal_error"):
            # e.g. `yes`, which YAML 1.1 read as true; `1e3`, which it read as a string
            wanted_string = err["type"] not in _VALUE_TYPE_ERRORS
            hint = source.yaml11_hint(loc, wanted_string=wanted_string) or hint
        located = _at_given_type(source, loc) if err["type"] == "union_tag_invalid" else None
        if located is not None:  # the type came from elsewhere (an override, a variant)
            out.append(replace(source.diagnostic(located, message, hint=hint), loc=loc))
            continue
        out.append(source.diagnostic(loc, message, key=err["type"] == "extra_forbidden", hint=hint))
    out.sort(key=lambda d: (d.line, d.col))
    if left_out:
        loc, _ = clean_loc(left_out[0]["loc"], data)
        message = (
            f"{len(left_out):,} more schema errors not shown (at most {MAX_ERRORS} are); "
            "fix these first"
        )
        out.append(source.diagnostic(loc, message))
    return out


LABEL = "a label (as:)"
"""What a clashing name is, when it is an ``as:`` label (see :func:`name_taken`)."""


def name_taken(subject: str, name: str, what: str, here: Diagnostic, there: Diagnostic) -> str:
    """The message for a name ``inputs:`` may use that is already taken: said at ``here``,
    it names ``there`` (where the name was first given) by position and path, so both
    places are found from one line.

    >>> a, b = Diagnostic("", "s.yaml", 6, 35), Diagnostic("", "s.yaml", 5, 35, ("x", 0))
    >>> name_taken("label", "x", LABEL, a, b)[:52]
    "label 'x' is already a label (as:) at 5:35 (x[0]); a"
    """
    shown = f"{there.line}:{there.col}"
    if there.origin:
        shown = there.origin
    elif there.file != here.file:
        shown = f"{there.file}:{shown}"
    return (
        f"{subject} {name!r} is already {what} at {shown} ({format_loc(there.loc)}); a name "
        "in inputs: or outputs: must mean one tensor: choose another label"
    )
