"""``specc diff``: what changes from one resolved spec to another, and what it does to the model.

Values are compared on the specs as resolved (a variant merged with its bases, overrides
applied; blocks as written), by spec path: a list's items are matched as ``difflib``
matches lines, so an inserted layer is one addition, not a change of every layer after it.
Two values differ only when their *resolved* values differ: each is read as the schema
reads it at its place, an argument left out being its catalog default (the default of
Keras' constructor), so ``pool_size: 2``, ``pool_size: [2, 2]`` and no ``pool_size`` are
one value (Keras makes ``(2, 2)`` of each), as are ``optimizer: adam`` and ``{type: Adam,
learning_rate: 0.001}``. The model is compared resolved as a whole first (every layer's
Keras name, type, arguments with defaults and inputs, the model's inputs and outputs): when
that is equal, how it is written (blocks or their expansion, ``as`` labels, references)
is no difference. A real difference is reported at its path in the spec as written.
Layers are compared on the summary's rows (blocks expanded), matched the same way by type:
each row whose type, output shape or parameters differ (not a row only renamed by Keras'
automatic numbering), each added or removed row, and the totals.
Pure Python: no TensorFlow.
"""

from __future__ import annotations

import difflib
import json
import types
import typing
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.fields import FieldInfo

from specc.analysis.pipeline import Compiled
from specc.backends import table
from specc.errors import Loc, format_loc
from specc.language.loader import dump_yaml
from specc.language.schema import Spec, Training
from specc.layers.base import CATALOG, LayerSpec
from specc.terms import objects
from specc.terms.values import Activation, Regularizer

TOTALS = ("total_params", "trainable_params", "non_trainable_params")
_NONE = object()
"""No resolved value: not valid where it stands (a block's ``$filters``), or no schema there."""
ABSENT: dict[tuple[type[BaseModel], str], type[BaseModel]] = {(Spec, "training"): Training}
"""Sections whose absence means the section with its defaults (``specc train`` and the
emitted script run ``Training()`` without one), not the field's default None."""


def _same(a: Any, b: Any) -> bool:
    """Equal as spec values: ``1`` and ``1.0`` and ``true`` differ."""
    return type(a) is type(b) and _key(a) == _key(b)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def _number(value: Any) -> Any:
    """A resolved value with ``1.0`` as ``1`` (a float argument given as an int is the same
    number to Keras); booleans stay booleans."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _number(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_number(v) for v in value]
    return value


def _equal(a: Any, b: Any) -> bool:
    """Equal resolved values (both resolved)."""
    return a is not _NONE and b is not _NONE and _key(_number(a)) == _key(_number(b))


_ADAPTERS: dict[int, tuple[Any, TypeAdapter]] = {}


def _adapter(annotation: Any) -> TypeAdapter:
    hit = _ADAPTERS.get(id(annotation))
    if hit is None:  # keyed by identity (annotations need not hash); the entry keeps it alive
        hit = _ADAPTERS[id(annotation)] = (annotation, TypeAdapter(annotation))
    return hit[1]


def _resolve(annotation: Any, value: Any) -> tuple[Any, Any]:
    """``value`` read as the schema reads it where ``annotation`` is expected: (the object,
    its JSON form with every default), or (_NONE, _NONE). Keys the schema keeps apart from
    the arguments (a layer's ``inputs`` and ``as``) are kept as written."""
    if isinstance(value, dict) and value.get("type") in CATALOG:
        annotation = CATALOG[value["type"]]  # a layer entry (in a block's definition too)
    if annotation is None:
        return _NONE, _NONE
    data = value
    if (
        isinstance(value, dict)
        and isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
    ):
        data = {
            k: v for k, v in value.items() if k not in ("inputs", "as") or _field(annotation, k)
        }
    try:
        adapter = _adapter(annotation)
        obj = adapter.validate_python(data, strict=True)
    except (ValueError, TypeError):  # pydantic's ValidationError is a ValueError
        return _NONE, _NONE
    dumped = _canonical(obj, _module(annotation))
    if isinstance(value, dict) and isinstance(dumped, dict):
        dumped |= {k: v for k, v in value.items() if k not in dumped}
    return obj, dumped


NAMED = ("initializers", "regularizers", "constraints")
"""Kinds of Keras objects whose name is the class with its defaults (``he_normal`` is
``HeNormal()``, ``l2`` is ``L2()``: what ``keras.initializers.get`` and its kin return)."""
_BASE_MODULES = {base: module for module, base in objects.BASES.items() if module in NAMED}


def _module(annotation: Any) -> str | None:
    """The kind of Keras object a name-or-object type takes, through ``Annotated`` and
    ``| None``; ``"activations"`` for an activation's name (None for any other type)."""
    if annotation == Activation:
        return "activations"
    if typing.get_origin(annotation) is typing.Annotated:
        return _module(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        found = {_module(arg) for arg in typing.get_args(annotation)} - {None}
        return found.pop() if len(found) == 1 else None
    return _BASE_MODULES.get(annotation) if isinstance(annotation, type) else None


_LAYOUTS: dict[type, list[tuple[str, str, str | None]]] = {}


def _layout(cls: type[BaseModel]) -> list[tuple[str, str, str | None]]:
    """(key, attribute, kind of Keras object it names) per field of ``cls``, worked out once."""
    if cls not in _LAYOUTS:
        _LAYOUTS[cls] = [
            (field.alias or name, name, _module(_annotation(field)))
            for name, field in cls.model_fields.items()
        ]
    return _LAYOUTS[cls]


def _canonical(value: Any, module: str | None = None) -> Any:
    """A validated value as JSON data in one form per meaning: every field with its
    default, a named initializer, regularizer or constraint as its class with defaults,
    no activation as ``linear`` (Keras' ``activations.get(None)``), a pooling layer's
    ``strides`` left out as its ``pool_size`` (what Keras makes of None), and an L1/L2 penalty as ``{l1, l2}`` whichever class gives it (``l2``, ``{l2: 0.01}``,
    ``{type: L2}`` and ``{type: L1L2, l2: 0.01}`` all add 0.01 * sum(w^2) to the loss)."""
    if module == "activations":  # keras.activations.get(None) is linear
        return "linear" if value is None else value
    if isinstance(value, str) and module is not None:
        for name in objects.DECLARED[module]:
            if objects.snake(name) == value:
                return _canonical(objects.object_class(module, name)(type=name))
        return value
    if isinstance(value, BaseModel):
        out = {
            key: _canonical(getattr(value, name), kind) for key, name, kind in _layout(type(value))
        }
        if isinstance(value, LayerSpec) and value.FAMILY == "pooling" and "strides" in out:
            out["strides"] = out["strides"] or out["pool_size"]  # Keras: None is pool_size
        if isinstance(value, Regularizer) or out.get("type") in ("L1", "L2", "L1L2"):
            return {"l1": out.get("l1", 0.0), "l2": out.get("l2", 0.0)}
        return out
    if isinstance(value, list | tuple):
        return [_canonical(v, module) for v in value]
    if isinstance(value, dict):
        return {k: _canonical(v, module) for k, v in value.items()}
    return value


def _field(cls: type[BaseModel], key: str) -> FieldInfo | None:
    """The field that ``key`` (a name or an alias) sets."""
    for name, field in cls.model_fields.items():
        if (field.alias or name) == key:
            return field
    return None


_ANNOTATIONS: dict[int, tuple[FieldInfo, Any]] = {}


def _annotation(field: FieldInfo | None) -> Any:
    """The field's type with its validators (one object per field, so its adapter is
    built once)."""
    if field is None:
        return None
    hit = _ANNOTATIONS.get(id(field))
    if hit is None:
        hit = _ANNOTATIONS[id(field)] = (field, field.rebuild_annotation())
    return hit[1]


def _class(obj: Any, value: Any, annotation: Any) -> type[BaseModel] | None:
    """The schema class a mapping is read as (a layer's by its ``type`` even where its
    values are a block's parameters; a section's where it is not valid alone)."""
    if isinstance(obj, BaseModel):
        return type(obj)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(value, dict) and value.get("type") in CATALOG:
        return CATALOG[value["type"]]
    return None


def _fields(cls: type[BaseModel], value: dict[str, Any], resolved: Any) -> dict[str, Any]:
    """Each key's resolved value, defaults for the arguments left out (each field alone
    where the whole mapping is not valid as written, e.g. a block's ``filters: $filters``)."""
    if isinstance(resolved, dict):
        out = dict(resolved)
    else:
        out = {}
        for name, field in cls.model_fields.items():
            key = field.alias or name
            if key in value:
                out[key] = _resolve(_annotation(field), value[key])[1]
            else:
                out[key] = _default(cls, name, field)
        out |= {k: v for k, v in value.items() if k not in out}
    for name, field in cls.model_fields.items():
        key = field.alias or name
        if key not in value and (cls, name) in ABSENT:
            out[key] = _default(cls, name, field)
    return out


def _default(cls: type[BaseModel], name: str, field: FieldInfo) -> Any:
    if (cls, name) in ABSENT:
        return _canonical(ABSENT[cls, name]())
    if field.is_required():
        return _NONE
    default = field.get_default(call_default_factory=True)
    return _canonical(default, _module(_annotation(field)))


def _values(a: Any, b: Any, loc: Loc, out: list[dict[str, Any]], annotation: Any = None) -> None:
    """Append the differences of ``b`` from ``a`` at ``loc`` (``annotation``: what the
    schema expects there, None where it has nothing to say)."""
    if _same(a, b):
        return
    oa, ra = _resolve(annotation, a)
    ob, rb = _resolve(annotation, b)
    if _equal(ra, rb):
        return
    if isinstance(a, dict) and isinstance(b, dict):
        cls = _class(oa, a, annotation)
        if cls is not None and cls is _class(ob, b, annotation):
            fa, fb = _fields(cls, a, ra), _fields(cls, b, rb)
            for key in [*a, *(k for k in b if k not in a)]:
                if _equal(fa.get(key, _NONE), fb.get(key, _NONE)):
                    continue  # a default written on one side only, or the same value
                if key not in b:
                    out.append({"path": format_loc((*loc, key)), "change": "removed", "a": a[key]})
                elif key not in a:
                    out.append({"path": format_loc((*loc, key)), "change": "added", "b": b[key]})
                else:
                    _values(a[key], b[key], (*loc, key), out, _annotation(_field(cls, key)))
            return
        if cls is None and _class(ob, b, annotation) is None and a.get("type") == b.get("type"):
            inner = _items(annotation, dict)
            for key in [*a, *(k for k in b if k not in a)]:
                if key not in b:
                    out.append({"path": format_loc((*loc, key)), "change": "removed", "a": a[key]})
                elif key not in a:
                    out.append({"path": format_loc((*loc, key)), "change": "added", "b": b[key]})
                else:
                    _values(a[key], b[key], (*loc, key), out, inner)
            return
    if isinstance(a, list) and isinstance(b, list):
        inner = _items(annotation, list)

        memo: dict[str, str] = {}

        def resolved_key(item: Any) -> str:
            """Items match by resolved value (each distinct written item resolved once)."""
            written = _key(item)
            if written not in memo:
                r = _resolve(inner, item)[1]
                memo[written] = written if r is _NONE else _key(_number(r))
            return memo[written]

        keys = [resolved_key(x) for x in a], [resolved_key(x) for x in b]
        matcher = difflib.SequenceMatcher(None, *keys, False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
            for k in range(paired):
                _values(a[i1 + k], b[j1 + k], (*loc, j1 + k), out, inner)
            for i in range(i1 + paired, i2):
                out.append({"path": format_loc((*loc, i)), "change": "removed", "a": a[i]})
            for j in range(j1 + paired, j2):
                out.append({"path": format_loc((*loc, j)), "change": "added", "b": b[j]})
        return
    out.append({"path": format_loc(loc), "change": "changed", "a": a, "b": b})


def _items(annotation: Any, container: type) -> Any:
    """The annotation of a ``list[X]``'s items or a ``dict[K, X]``'s values (through
    ``Annotated`` and ``| None``), else None."""
    if annotation is None:
        return None
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _items(typing.get_args(annotation)[0], container)
    if origin is container:
        return typing.get_args(annotation)[-1]
    if origin in (typing.Union, types.UnionType):
        found = [_items(arg, container) for arg in typing.get_args(annotation)]
        found = [f for f in found if f is not None]
        return found[0] if len(found) == 1 else None
    return None


def _unnamed(value: Any) -> Any:
    """A layer's arguments without the names of the layers inside it (resolved apart)."""
    if isinstance(value, dict):
        return {k: _unnamed(v) for k, v in value.items() if not (k == "name" and "type" in value)}
    if isinstance(value, list):
        return [_unnamed(v) for v in value]
    return value


def _model(compiled: Compiled) -> Any:
    """The model as resolved, however written: each layer's Keras name, type and arguments
    (defaults filled in), what each call takes (by Keras name), the inputs and outputs."""
    graph, model = compiled.graph, compiled.spec.model
    inputs = (
        [(i.name, list(i.shape), i.dtype) for i in graph.inputs]
        if graph.functional
        else [(i.name, list(i.shape), i.dtype) for i in model.model_inputs]
    )
    layers = [
        (layer.name, layer.type, list(layer.inner_names),
         _number(_unnamed({k: v for k, v in _canonical(layer.spec).items() if k != "name"})))
        for layer in graph.layers
    ]  # fmt: skip
    calls = sorted(_key((c.layer, c.node, c.sources)) for c in graph.calls)
    return _key([graph.name, graph.functional, inputs, layers, calls, graph.outputs])


def _tensor(source: tuple[str, int, int | None]) -> str:
    """A tensor by Keras' names, as its summary's "Connected to" shows it: ``conv2d[0][0]``."""
    return f"{source[0]}[{source[1]}][{source[2] or 0}]"


def _expanded(compiled: Compiled) -> dict[str, Any]:
    """``model`` as ``specc expand`` prints it, each entry taking its tensors by Keras'
    names instead of the spec's labels (which blocks and imports choose differently)."""
    model = dict(compiled.data["model"])
    takes = {call.entry: call.sources for call in compiled.graph.calls}
    if takes:
        model["layers"] = [
            {**{k: v for k, v in entry.items() if k not in ("as", "inputs")},
             "inputs": [_tensor(s) for s in takes[i]]} if i in takes else entry
            for i, entry in enumerate(model["layers"])
        ]  # fmt: skip
        model["outputs"] = [_tensor(s) for s in compiled.graph.outputs]
    return model


def _row(row: dict[str, Any]) -> dict[str, Any]:
    keep = ("name", "type", "output_shape", "params", "trainable_params")
    return {k: row[k] for k in keep if k in row}


def _layers(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    matcher = difflib.SequenceMatcher(None, [r["type"] for r in a], [r["type"] for r in b], False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        paired = min(i2 - i1, j2 - j1) if tag in ("equal", "replace") else 0
        for k in range(paired):
            ra, rb = _row(a[i1 + k]), _row(b[j1 + k])
            if {**ra, "name": ""} != {**rb, "name": ""}:  # not a rename alone (Keras' numbering)
                out.append({"change": "changed", "a": ra, "b": rb})
        out += [{"change": "removed", "a": _row(a[i])} for i in range(i1 + paired, i2)]
        out += [{"change": "added", "b": _row(b[j])} for j in range(j1 + paired, j2)]
    return out


def _has_blocks(data: dict[str, Any]) -> bool:
    """Whether a spec writes blocks: its own (``blocks:``) or a library's (``use:``)."""
    return bool(data.get("blocks") or data.get("use"))


def diff(a: Compiled, b: Compiled) -> dict[str, Any]:
    """The differences of ``b`` from ``a``, as data (``specc diff --format json``)."""
    values: list[dict[str, Any]] = []
    da, db = dict(a.written().data), dict(b.written().data)
    if _model(a) == _model(b):  # the same model: how each writes it is no difference
        for data in (da, db):
            for key in ("model", "blocks", "use"):
                data.pop(key, None)
    elif _has_blocks(da) != _has_blocks(db):  # one side's blocks expanded
        da["model"], db["model"] = _expanded(a), _expanded(b)
        for data in (da, db):
            data.pop("blocks", None)
            data.pop("use", None)
    _values(da, db, (), values, Spec)
    ta, tb = table.as_dict(a.graph), table.as_dict(b.graph)
    layers = _layers(ta["layers"], tb["layers"])
    totals = {key: {"a": ta[key], "b": tb[key], "delta": tb[key] - ta[key]} for key in TOTALS}
    same = not values and not layers
    return {"a": a.file, "b": b.file, "same": same, "values": values, "layers": layers,
            "totals": totals}  # fmt: skip


def _flow(value: Any) -> str:
    """A value on one line, as YAML 1.2 reads it back."""
    text = dump_yaml([value], default_flow_style=True, width=10**9, sort_keys=False).strip()
    return text[1:-1]


def _shape(shape: Any) -> str:
    if isinstance(shape, list) and shape and isinstance(shape[0], list):
        return ", ".join(_shape(s) for s in shape)
    return (
        "("
        + ", ".join("None" if d is None else str(d) for d in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )


def _count(a: int, b: int) -> str:
    """``43,290 -> 125,338 (+82,048)``, or the one number when equal."""
    return f"{a:,}" if a == b else f"{a:,} -> {b:,} ({b - a:+,})"


def _name(change: str, ra: dict[str, Any] | None, rb: dict[str, Any] | None) -> str:
    """``~ conv2d (Conv2D)``, with ``-> new_name (NewType)`` where the row is another."""
    if ra is None or rb is None:
        row = ra or rb
        assert row is not None
        return f"{'+' if ra is None else '-'} {row['name']} ({row['type']})"
    name = f"~ {ra['name']} ({ra['type']})"
    if (ra["name"], ra["type"]) != (rb["name"], rb["type"]):
        name += f" -> {rb['name']} ({rb['type']})"
    return name


def as_text(result: dict[str, Any]) -> str:
    """The diff for people: values by path, changed layers, totals."""
    lines = [f"--- {result['a']}", f"+++ {result['b']}"]
    if result["same"]:
        return "\n".join([*lines, "no differences"]) + "\n"
    if result["values"]:
        lines.append("values:")
        mark = {"changed": "~", "added": "+", "removed": "-"}
        for v in result["values"]:
            if v["change"] == "changed":
                text = f"{_flow(v['a'])} -> {_flow(v['b'])}"
            else:
                text = _flow(v["a" if v["change"] == "removed" else "b"])
            lines.append(f"  {mark[v['change']]} {v['path']}: {text}")
    if result["layers"]:
        lines.append("layers (output shape, params):")
        rows = []
        for change in result["layers"]:
            ra, rb = change.get("a"), change.get("b")
            name = _name(change["change"], ra, rb)
            if ra and rb:
                sa, sb = _shape(ra["output_shape"]), _shape(rb["output_shape"])
                shape = sa if sa == sb else f"{sa} -> {sb}"
                params = _count(ra["params"], rb["params"])
            else:
                only = ra or rb
                assert only is not None
                shape, params = _shape(only["output_shape"]), f"{only['params']:,}"
            rows.append((name, shape, params))
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        lines += [f"  {n:<{w0}}  {s:<{w1}}  {p}".rstrip() for n, s, p in rows]
    totals = result["totals"]
    lines.append("params: " + _count(totals["total_params"]["a"], totals["total_params"]["b"]))
    for key, label in (
        ("trainable_params", "trainable"),
        ("non_trainable_params", "non-trainable"),
    ):
        lines.append(f"  {label}: {_count(totals[key]['a'], totals[key]['b'])}")
    return "\n".join(lines) + "\n"
