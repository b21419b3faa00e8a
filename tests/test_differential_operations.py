"""Random graphs of the shaping operations against Keras' functional API, built by plain code.

A drawn graph starts from one or two inputs; each entry takes earlier tensors and is an
index (``x[:, 1:3, None]``: ints, slices, ``None`` and ``...`` near the axes' bounds, some
beyond them, a lone slice Keras refuses), an array constant added, subtracted or multiplied
(a tensor or a numpy array over the last axes), a
reduction (axis lists, keepdims), a join (concatenate and stack of the same or of
differing shapes), a split (whose pieces later entries take), reshape, transpose,
expand_dims, squeeze, matmul, einsum (equations made from the operands' ranks, letters
shared or not), an image op, an elementwise add of broadcastable tensors, or a Dense layer
(ops and layers share Keras' name counters). The arguments are drawn near the tensors'
shapes (tracked by the pure rules of ``op_shapes``), so most graphs are valid and some are
not. The graph is rendered as a spec and as the Keras code a person writes
(``keras.ops.concatenate([t0, t1], axis=-1)``), never through specc's builder. Accepted
specs give Keras' summary text byte for byte (names, types, shapes, Connected to);
refused ones are refused by Keras too: when it builds the model, or when it runs it on a
batch of 5 (unknown sizes 3), or its run gives shapes other than it declared.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from specc.analysis.pipeline import compile_text
from specc.backends import table
from specc.errors import SpecError
from specc.layers import op_shapes
from specc.layers.shapes import Shape, ShapeError
from tests.family_differential import SETTINGS
from tests.helpers import keras_text
from tests.keras_helpers import keras

SIZES = st.sampled_from([2, 3, 4, 4, 6, None])
RUN_SIZE = 3
"""Unknown sizes take this value when a model runs."""
BATCH = 5
"""The batch a model runs on: no drawn axis has this size, so an operand whose batch axis
lines up with another axis fails as it would in use."""
Entry = dict[str, Any]


def _axes_of(draw: Any, rank: int) -> Any:
    return draw(st.integers(-rank, rank - 1)) if rank else 0


def _reduction(draw: Any, shape: Shape) -> Entry:
    rank = len(shape)
    axis = draw(
        st.one_of(
            st.none(),
            st.integers(-rank, rank - 1),
            st.lists(st.integers(-rank, rank - 1), min_size=1, max_size=2),
        )
        if rank
        else st.none()
    )
    entry: Entry = {"op": draw(st.sampled_from(["mean", "sum", "max", "min"]))}
    if axis is not None:
        entry["axis"] = axis
    if draw(st.booleans()):
        entry["keepdims"] = True
    return entry


def _reshape(draw: Any, shape: Shape) -> Entry:
    """A new shape of the same size, batch first as ``-1`` (or a wrong one)."""
    known = [d for d in shape[1:] if d is not None]
    size = int(np.prod(known)) if known else 1
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    first = draw(st.sampled_from(divisors))
    rest = [first, size // first] if draw(st.booleans()) else [size]
    if draw(st.integers(0, 5)) == 0:
        rest[-1] += 1
    return {"op": "reshape", "newshape": [-1, *rest]}


def _einsum(draw: Any, shapes: list[Shape]) -> Entry:
    """An equation over the operands' ranks: letters for the batch and last axes shared."""
    letters = iter(string.ascii_lowercase)
    shared = {0: "b"}
    next(letters)
    terms = []
    for shape in shapes:
        term = ""
        for i in range(len(shape)):
            if i in shared and draw(st.booleans()):
                term += shared[i]
            else:
                letter = next(letters)
                shared.setdefault(i, letter)
                term += letter
        terms.append("".join(dict.fromkeys(term)) if len(set(term)) < len(term) else term)
    used = sorted(set("".join(terms)))
    out = "".join(draw(st.permutations(used))[: draw(st.integers(0, len(used)))])
    equation = ",".join(terms) + ("" if draw(st.integers(0, 3)) == 0 else f"->{out}")
    return {"op": "einsum", "subscripts": equation}


def _key_item(draw: Any, size: int | None) -> Any:
    """One item of an index on an axis of ``size``: near its bounds, some beyond them."""
    near = st.integers(-(size or 3) - 1, size or 3)
    kind = draw(st.sampled_from(["int", "slice", "slice", "none"]))
    if kind == "int":
        return draw(near)
    if kind == "none":
        return None
    bound = st.one_of(st.none(), near)
    step = draw(st.one_of(st.none(), st.sampled_from([-2, -1, 1, 2, 3])))
    return slice(draw(bound), draw(bound), step)


def _getitem(draw: Any, shape: Shape) -> Entry:
    """``x[key]`` with a key of Python's forms: an int, a tuple of ints, slices, None and
    one ``...``; sometimes a lone slice (which Keras refuses) or too many items."""
    count = draw(st.integers(1, len(shape) + 1))
    items = [_key_item(draw, shape[min(i, len(shape) - 1)]) for i in range(count)]
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), Ellipsis)
    key: Any = tuple(items)
    if count == 1 and draw(st.booleans()):
        key = items[0]  # x[0]; or x[1:3], x[None]: Keras takes no lone slice or None
    text = op_shapes.format_index(key) if isinstance(key, int | tuple) else f"[{_lone(key)}]"
    return {"op": "getitem", "key": text, "_key": key}


def _lone(item: Any) -> str:
    return op_shapes.format_index((item, Ellipsis))[1:-6] if item is not Ellipsis else "..."


def _array_constant(draw: Any, shape: Shape) -> Entry:
    """``x - constant``: an array over the last axes, each of the tensor's size or 1 (else
    another size, which does not broadcast), a tensor or a numpy array."""
    last = draw(st.integers(1, len(shape)))
    dims = [draw(st.sampled_from([d if d is not None else 1, 1, 1, 2])) for d in shape[-last:]]
    values = np.full(dims, 0.5).tolist()
    kind = draw(st.sampled_from(["tensor", "numpy"]))
    value = values if kind == "tensor" else {"numpy": values}
    return {"op": draw(st.sampled_from(["add", "subtract", "multiply"])), "value": value}


def _one_tensor_op(draw: Any, shape: Shape) -> Entry:
    rank = len(shape)
    kind = draw(st.sampled_from(["reduce", "reduce", "reshape", "transpose", "expand_dims",
                                 "squeeze", "split", "image", "cumsum", "Dense", "getitem", "getitem",
                                 "constant"]))  # fmt: skip
    if kind == "getitem":
        return _getitem(draw, shape)
    if kind == "constant":
        return _array_constant(draw, shape)
    if kind == "reduce":
        return _reduction(draw, shape)
    if kind == "cumsum":  # positions: cumsum(ones_like(ids), axis=-1) - 1
        axis = draw(st.one_of(st.none(), st.integers(-rank - 1, rank)))
        return {"op": "cumsum"} if axis is None else {"op": "cumsum", "axis": axis}
    if kind == "reshape":
        return _reshape(draw, shape)
    if kind == "transpose":
        axes = draw(st.permutations(range(rank)))
        return (
            {"op": "transpose", "axes": list(axes)} if draw(st.booleans()) else {"op": "transpose"}
        )
    if kind == "expand_dims":
        return {"op": "expand_dims", "axis": draw(st.integers(-rank - 1, rank))}
    if kind == "squeeze":
        ones = [i for i, d in enumerate(shape) if d == 1]
        axis = draw(st.sampled_from(ones)) if ones and draw(st.booleans()) else _axes_of(draw, rank)
        return {"op": "squeeze", "axis": axis}
    if kind == "split":
        sections = draw(
            st.one_of(
                st.integers(1, 3), st.lists(st.integers(0, 4), min_size=1, max_size=2).map(sorted)
            )
        )
        return {"op": "split", "indices_or_sections": sections, "axis": _axes_of(draw, rank)}
    if kind == "image" and rank == 4:
        if draw(st.booleans()):
            return {"op": "resize", "size": [draw(st.integers(1, 6)), draw(st.integers(1, 6))]}
        return {"op": "extract_patches", "size": draw(st.integers(1, 3)),
                "padding": draw(st.sampled_from(["valid", "same"]))}  # fmt: skip
    return {"type": "Dense", "units": draw(st.sampled_from([2, 4]))}


def _two_tensor_op(draw: Any, shapes: list[Shape]) -> Entry:
    kind = draw(st.sampled_from(["concatenate", "stack", "matmul", "einsum", "add"]))
    rank = len(shapes[0])
    if kind in ("concatenate", "stack"):
        return {"op": kind, "axis": draw(st.integers(-rank - (kind == "stack"), rank - 1))}
    if kind == "einsum":
        return _einsum(draw, shapes)
    return {"op": kind}


def _shape_after(entry: Entry, shapes: list[Shape]) -> Shape | list[Shape]:
    """The output shape by the pure rules (a Dense layer's: the last axis changed)."""
    if "type" in entry:
        return (*shapes[0][:-1], entry["units"])
    from specc.layers.base import OPERATIONS

    args = {k: v for k, v in entry.items() if k not in ("op", "inputs", "as", "_key")}
    op = OPERATIONS[entry["op"]].model_validate({"op": entry["op"], **args})
    return op.infer_many(shapes).shape if len(shapes) > 1 else op.infer(shapes[0]).shape


@st.composite
def graphs(draw: Any) -> dict[str, Any]:
    """Inputs, then 1-5 entries, each on earlier tensors; stops at the first refusal."""
    inputs = [
        (None, *(draw(SIZES) for _ in range(draw(st.integers(1, 3)))))
        for _ in range(draw(st.integers(1, 2)))
    ]
    pool: dict[str, Shape] = {f"in{i}": s for i, s in enumerate(inputs)}
    entries: list[Entry] = []
    for j in range(draw(st.integers(1, 5))):
        names = [n for n, s in pool.items() if len(s) >= 1]
        first = draw(st.sampled_from(names))
        if draw(st.integers(0, 2)) == 0:  # a second operand: often the same, or same shape
            alike = [n for n in names if pool[n] == pool[first]]
            second = draw(st.sampled_from(alike if draw(st.booleans()) else names))
            taken = [first, second]
            entry = _two_tensor_op(draw, [pool[first], pool[second]])
        else:
            taken = [first]
            entry = _one_tensor_op(draw, pool[first])
        entry.update({"inputs": taken, "as": f"t{j}"})
        entries.append(entry)
        try:
            out = _shape_after(entry, [pool[n] for n in taken])
        except (ShapeError, ValueError):
            break
        if isinstance(out, list):
            pool.update({f"t{j}.{i}": s for i, s in enumerate(out)})
        else:
            pool[f"t{j}"] = out
    return {"inputs": inputs, "entries": entries}


def _spec_text(desc: dict[str, Any]) -> str:
    entries = [{k: v for k, v in e.items() if k != "_key"} for e in desc["entries"]]
    used = {ref.split(".")[0] for e in entries for ref in e["inputs"]}
    outputs = [e["as"] for e in entries if e["as"] not in used]
    data = {
        "name": "ops",
        "model": {
            "inputs": [
                {"name": f"in{i}", "shape": list(s[1:])} for i, s in enumerate(desc["inputs"])
            ],
            "layers": entries,
            "outputs": outputs,
        },
    }
    return yaml.safe_dump(data, sort_keys=False)


def _keras_model(desc: dict[str, Any]) -> Any:
    """The graph as Keras code writes it: keras.ops calls on named tensors."""
    k = keras()
    k.backend.clear_session()
    ops = k.ops
    tensors: dict[str, Any] = {
        f"in{i}": k.Input(s[1:], name=f"in{i}") for i, s in enumerate(desc["inputs"])
    }

    def tensor(ref: str) -> Any:
        name, _, index = ref.partition(".")
        return tensors[name][int(index)] if index else tensors[name]

    used = set()
    for e in desc["entries"]:
        xs = [tensor(r) for r in e["inputs"]]
        used |= {r.split(".")[0] for r in e["inputs"]}
        args = {k: v for k, v in e.items() if k not in ("op", "type", "inputs", "as")}
        if "type" in e:
            out = k.layers.Dense(**args)(xs[0])
        elif e["op"] == "getitem":
            out = xs[0][e["_key"]]
        elif "value" in e:  # x - keras.ops.convert_to_tensor([...]), x - np.array([...])
            value = e["value"]
            constant = (
                np.array(value["numpy"])
                if isinstance(value, dict)
                else ops.convert_to_tensor(value)
            )
            out = {"add": ops.add, "subtract": ops.subtract, "multiply": ops.multiply}[e["op"]](
                xs[0], constant
            )
        elif e["op"] in ("concatenate", "stack"):
            out = getattr(ops, e["op"])(xs, **args)
        elif e["op"] == "einsum":
            out = ops.einsum(args["subscripts"], *xs)
        elif e["op"] == "add":
            out = xs[0] + xs[1]
        elif e["op"] in ("resize", "extract_patches"):
            out = getattr(ops.image, e["op"])(xs[0], **args)
        else:
            out = getattr(ops, e["op"])(*xs, **args)
        tensors[e["as"]] = out
    outs = [tensors[e["as"]] for e in desc["entries"] if e["as"] not in used]
    flat = [t for o in outs for t in (o if isinstance(o, list) else [o])]
    return k.Model(list(tensors[f"in{i}"] for i in range(len(desc["inputs"]))), flat, name="ops")


def _keras_refuses(desc: dict[str, Any]) -> str:
    """Why Keras refuses the graph ("" if it builds and runs it as it declares)."""
    try:
        model = _keras_model(desc)
    except Exception as exc:
        return f"build: {type(exc).__name__}"
    batch = [
        np.ones([BATCH, *(RUN_SIZE if d is None else d for d in t.shape[1:])], "float32")
        for t in model.inputs
    ]
    try:
        got = model.predict(batch, verbose=0)
    except Exception as exc:
        return f"run: {type(exc).__name__}"
    got = got if isinstance(got, list) else [got]
    for declared, ran in zip(model.outputs, got, strict=True):
        if any(
            d is not None and d != r for d, r in zip(declared.shape, ran.shape, strict=False)
        ) or len(declared.shape) != len(ran.shape):
            return "run: a shape other than declared"
    return ""


@pytest.mark.keras
@settings(max_examples=15, **SETTINGS)
@given(graphs())
def test_operation_graphs_equal_keras(desc):
    _check(desc)


@pytest.mark.keras
@pytest.mark.slow
@settings(max_examples=300, **SETTINGS)
@given(graphs())
def test_operation_graphs_equal_keras_long(desc):
    _check(desc)


def _check(desc: dict[str, Any]) -> None:
    """Accepted: Keras' summary text; refused: Keras refuses (build, run, or shapes)."""
    text = _spec_text(desc)
    note(text)
    try:
        compiled = compile_text(text, "ops.yaml")
    except SpecError as exc:
        note(str(exc))
        why = _keras_refuses(desc)
        event(f"refused; Keras: {why.split(':')[0] or 'accepts'}")
        event(f"refused: {desc['entries'][-1].get('op', 'Dense')}")
        assert why, f"specc refuses what Keras builds and runs:\n{exc}"
        return
    event(f"accepted ({len(desc['entries'])} entries)")
    event(f"accepted: {', '.join(sorted({e.get('op', 'Dense') for e in desc['entries']}))}")
    assert table.as_text(compiled.graph) == keras_text(_keras_model(desc))
