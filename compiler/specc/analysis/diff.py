"""``specc diff``: what changes from one resolved spec to another, and what it does to the model.

Values are compared on the specs as resolved (a variant merged with its bases, overrides
applied; blocks as written), by spec path: a list's items are matched as ``difflib``
matches lines, so an inserted layer is one addition, not a change of every layer after it.
Layers are compared on the summary's rows (blocks expanded), matched the same way by type:
each row whose type, output shape or parameters differ (not a row only renamed by Keras'
automatic numbering), each added or removed row, and the totals.
Pure Python: no TensorFlow.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from specc.analysis.pipeline import Compiled
from specc.backends import table
from specc.errors import Loc, format_loc
from specc.language.loader import dump_yaml

TOTALS = ("total_params", "trainable_params", "non_trainable_params")


def _same(a: Any, b: Any) -> bool:
    """Equal as spec values: ``1`` and ``1.0`` and ``true`` differ."""
    return type(a) is type(b) and _key(a) == _key(b)


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def _values(a: Any, b: Any, loc: Loc, out: list[dict[str, Any]]) -> None:
    if _same(a, b):
        return
    if isinstance(a, dict) and isinstance(b, dict) and a.get("type") == b.get("type"):
        for key in [*a, *(k for k in b if k not in a)]:
            if key not in b:
                out.append({"path": format_loc((*loc, key)), "change": "removed", "a": a[key]})
            elif key not in a:
                out.append({"path": format_loc((*loc, key)), "change": "added", "b": b[key]})
            else:
                _values(a[key], b[key], (*loc, key), out)
        return
    if isinstance(a, list) and isinstance(b, list):
        matcher = difflib.SequenceMatcher(None, [_key(x) for x in a], [_key(x) for x in b], False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
            for k in range(paired):
                _values(a[i1 + k], b[j1 + k], (*loc, j1 + k), out)
            for i in range(i1 + paired, i2):
                out.append({"path": format_loc((*loc, i)), "change": "removed", "a": a[i]})
            for j in range(j1 + paired, j2):
                out.append({"path": format_loc((*loc, j)), "change": "added", "b": b[j]})
        return
    out.append({"path": format_loc(loc), "change": "changed", "a": a, "b": b})


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


def diff(a: Compiled, b: Compiled) -> dict[str, Any]:
    """The differences of ``b`` from ``a``, as data (``specc diff --format json``)."""
    values: list[dict[str, Any]] = []
    _values(a.written().data, b.written().data, (), values)
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
