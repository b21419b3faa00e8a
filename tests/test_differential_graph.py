"""Random graph specs against Keras' functional API, built by plain Keras code.

A drawn *description* (inputs, entries that take earlier tensors, merges, shared layers,
LSTM states, blocks used with ``repeat``, outputs) is rendered twice: as a spec for specc,
and as the Keras functional code a person would write for it (``keras.Input``, layers made
and called in the listed order, a block's layers looped ``repeat`` times), never through
specc's own builder. Accepted specs must give Keras' summary text and rows, byte for byte,
and ``specc build`` the same model; rejected ones (errors, not warnings) must be refused
by Keras too: when it builds the model, or when it runs it on a batch (unknown sizes 3;
an output other than the shape Keras declared counts as a refusal).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from specc.analysis.pipeline import compile_text
from specc.backends import table
from specc.errors import SpecError
from tests.family_differential import SETTINGS
from tests.helpers import keras_graph_rows, keras_text
from tests.keras_helpers import keras

MERGES = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot")
SIZES = st.sampled_from([4, 4, 4, 2, None])
LAST_SIZES = st.sampled_from([4, 4, 4, 4, 2, None])
UNITS = st.sampled_from([4, 4, 2, 3])
RUN_SIZE = 3
"""Unknown sizes take this value when a model runs."""


def _merge_args(draw: Any, kind: str) -> dict[str, Any]:
    if kind == "Concatenate":
        return {"axis": draw(st.sampled_from([-1, -1, 1, 2, -2]))}
    if kind == "Dot":
        return {"axes": draw(st.sampled_from([-1, 1, 2, [1, 1], [2, 1], [-1, -1]]))}
    return {}


@st.composite
def block_defs(draw: Any) -> dict[str, Any]:
    """A block: Dense layers and a merge over ``in`` and its own labelled tensors."""
    layers: list[dict[str, Any]] = []
    pool = ["in"]
    for j in range(draw(st.integers(1, 3))):
        if len(pool) > 1 and draw(st.booleans()):
            kind = draw(st.sampled_from(["Add", "Concatenate", "Multiply", "Average"]))
            take = draw(st.lists(st.sampled_from(pool), min_size=2, max_size=2))
            layer = {"type": kind, "args": _merge_args(draw, kind), "inputs": take}
        else:
            units = draw(st.sampled_from(["$units", "$units", 4]))
            take = [draw(st.sampled_from(pool))] if draw(st.booleans()) else None
            layer = {"type": "Dense", "args": {"units": units}, "inputs": take}
        layer["as"] = f"y{j}"
        pool.append(f"y{j}")
        layers.append(layer)
    return {"params": {"units": draw(UNITS)}, "layers": layers}


def _rank_after(entry: dict[str, Any], ranks: list[int | None]) -> int | None:
    """The rank (batch axis included) an entry outputs, roughly: it only steers the draw
    towards layers that fit (LSTM on rank 3); None where it does not matter or is unclear."""
    if not ranks or None in ranks:
        return None
    kind = entry.get("type")
    if kind in ("Flatten", "GlobalAveragePooling1D"):
        return 2
    if kind == "LSTM":
        return 3 if entry["args"]["return_sequences"] else 2
    if kind == "Concatenate":
        return ranks[0]
    if kind == "Dot":
        return max(2, sum(ranks) - 4)
    return max(ranks)  # Dense, apply, elementwise merges, blocks


@st.composite
def descriptions(draw: Any) -> dict[str, Any]:
    """A random graph: 1-3 inputs of rank 2-4, 1-8 entries on earlier tensors, 1-3 outputs."""
    n_inputs = draw(st.integers(1, 3))
    rank = draw(st.sampled_from([1, 2, 2, 3]))
    inputs, unnamed = [], 0
    rank_of: dict[str, int | None] = {}
    """ref -> rank of what it stands for (None: several tensors, or not known)"""
    for k in range(n_inputs):
        own_rank = rank if draw(st.integers(0, 3)) else draw(st.integers(1, 3))
        shape = [draw(SIZES) for _ in range(own_rank - 1)] + [draw(LAST_SIZES)]
        if draw(st.booleans()):
            name = f"x{k}"
        else:
            name = "input_layer" if unnamed == 0 else f"input_layer_{unnamed}"
            unnamed += 1
        inputs.append({"name": name, "given": name.startswith("x"), "shape": shape})
        rank_of[name] = own_rank + 1
    blocks = {"blk": draw(block_defs())} if draw(st.integers(0, 2)) == 0 else {}
    sub = draw(sub_defs(inputs)) if draw(st.integers(0, 2)) == 0 else None
    sub_used = False
    dense_made = 0
    dense_names: list[str] = []
    state_units: dict[str, int] = {}
    """label of an LSTM with return_state -> its units (its states' size)"""
    entries: list[dict[str, Any]] = []
    made: list[str] = []
    last_rank: int | None = rank_of[inputs[0]["name"]] if n_inputs == 1 else None
    for i in range(draw(st.integers(1, 8))):
        label = f"t{i}"
        choices = ["Dense", "Dense", "merge", "merge", "LSTM", "Flatten", "GAP1D"]
        choices += ["apply"] * bool(dense_names) + ["block"] * (2 * bool(blocks))
        choices += ["submodel"] * (3 * (sub is not None and not sub_used))
        choices += ["subapply"] * (2 * sub_used)
        kind = draw(st.sampled_from(choices))
        if kind in ("submodel", "subapply"):  # a sub-model: built, or called again
            assert sub is not None
            same = [i["name"] for i in inputs if i["shape"] == sub["shape"]]
            entry = {"inputs": [draw(st.sampled_from(same))]}
            entry["model" if kind == "submodel" else "apply"] = "sub"
            if kind == "submodel":
                dense_made += len(sub["units"])  # its Dense layers are named when it is built
            sub_used = True
            if len(sub["outputs"]) > 1:
                entry["multi"] = True
            last_rank = None if entry.get("multi") else len(sub["shape"]) + 1
            if draw(st.integers(0, 3)) > 0:
                entry["as"] = label
                if entry.get("multi"):
                    outs = [f"{label}.{n}" for n in range(len(sub["outputs"]))]
                    rank_of |= {out: len(sub["shape"]) + 1 for out in outs}
                    made += outs
                else:
                    rank_of[label] = last_rank
                    made.append(label)
            entries.append(entry)
            continue
        refs = list(rank_of)
        # what it takes: the entry above (no inputs:), or earlier tensors
        default_ok = i > 0 or n_inputs == 1
        if kind == "merge":
            merge = draw(st.sampled_from(MERGES))
            two = merge in ("Subtract", "Dot")  # a third input, or a lone one: refused
            count = draw(st.sampled_from([2] * 7 + [3] if two else [1] + [2] * 6 + [3] * 5))
            if default_ok and i > 0 and entries[-1].get("multi") and draw(st.booleans()):
                take = None  # the LSTM's outputs, as one list
            else:
                take = draw(st.lists(st.sampled_from(refs), min_size=count, max_size=count))
            entry = {"type": merge, "args": _merge_args(draw, merge), "inputs": take}
        else:
            if kind in ("LSTM", "GAP1D") and draw(st.integers(0, 4)):  # mostly on rank 3
                fit = [r for r in refs if rank_of[r] == 3]
                if last_rank == 3 and default_ok and draw(st.booleans()):
                    take = None
                elif fit:
                    take = [draw(st.sampled_from(fit))]
                else:
                    kind, take = "Dense", [draw(st.sampled_from(refs))]
            else:
                take = None if default_ok and draw(st.booleans()) else [draw(st.sampled_from(refs))]
            if kind == "apply":
                entry = {"apply": draw(st.sampled_from(dense_names)), "inputs": take}
            elif kind == "block":
                entry = {"block": "blk", "repeat": draw(st.integers(1, 3)), "inputs": take}
                if draw(st.booleans()):
                    entry["units"] = draw(UNITS)
                entry["sub_units"] = entry.get("units", blocks["blk"]["params"]["units"])
                per = sum(1 for layer in blocks["blk"]["layers"] if layer["type"] == "Dense")
                dense_made += per * entry["repeat"]
            elif kind == "Dense":
                entry = {"type": "Dense", "args": {"units": draw(UNITS)}, "inputs": take}
                if draw(st.integers(0, 4)) == 0:
                    entry["name"] = f"d{i}"
                    dense_names.append(entry["name"])
                else:  # Keras' automatic name; a given name takes no number
                    dense_names.append("dense" if dense_made == 0 else f"dense_{dense_made}")
                    dense_made += 1
            elif kind == "LSTM":
                state = draw(st.booleans())
                args = {"units": draw(UNITS), "return_sequences": draw(st.booleans())}
                entry = {"type": "LSTM", "args": args | ({"return_state": True} if state else {})}
                rank2 = [r for r in refs if rank_of[r] == 2]
                if take is not None and rank2 and draw(st.integers(0, 3 if state_units else 1)):
                    # initial states after the sequence: mostly an earlier LSTM's two
                    # states (its units taken); else any rank-2 tensors, 1-3 of them
                    if state_units and draw(st.integers(0, 3)):
                        source = draw(st.sampled_from(sorted(state_units)))
                        entry["args"]["units"] = state_units[source]
                        take = [*take, f"{source}.1", f"{source}.2"]
                    else:
                        count = draw(st.sampled_from([2, 2, 1, 3]))
                        states_taken = st.lists(
                            st.sampled_from(rank2), min_size=count, max_size=count
                        )
                        take = take + draw(states_taken)
                    entry["initial_state"] = True
                entry["inputs"], entry["multi"] = take, state
            else:
                layer_type = "Flatten" if kind == "Flatten" else "GlobalAveragePooling1D"
                entry = {"type": layer_type, "args": {}, "inputs": take}
        taken = [last_rank] if entry["inputs"] is None else [rank_of[r] for r in entry["inputs"]]
        last_rank = None if entry.get("multi") else _rank_after(entry, taken)
        if draw(st.integers(0, 3)) > 0:
            entry["as"] = label
            if entry.get("multi"):
                states = [f"{label}.{n}" for n in range(3)]
                rank_of[states[0]] = 3 if entry["args"]["return_sequences"] else 2
                rank_of |= {states[1]: 2, states[2]: 2}
                state_units[label] = entry["args"]["units"]
                rank_of |= {label: None} if draw(st.booleans()) else {}
                made += states
            else:
                rank_of[label] = last_rank
                made.append(label)
        entries.append(entry)
    if made and draw(st.integers(0, 4)):
        outputs: list[str] | None = draw(
            st.lists(
                st.sampled_from(made + [inputs[0]["name"]] * (draw(st.integers(0, 5)) == 0)),
                min_size=1,
                max_size=3,
                unique=True,
            )
        )
    else:
        outputs = None  # the last entry
    return {
        "inputs": inputs,
        "blocks": blocks,
        "entries": entries,
        "outputs": outputs,
        "sub": sub if sub_used else None,
    }


@st.composite
def sub_defs(draw: Any, inputs: list[dict[str, Any]]) -> dict[str, Any]:
    """A sub-model on one of the model's input shapes: 1-3 Dense layers in a chain, one or
    several of them its outputs; written with ``input:`` (a Sequential, when its only
    output is the last layer) or ``inputs:`` (a Functional)."""
    shape = draw(st.sampled_from([i["shape"] for i in inputs]))
    units = draw(st.lists(UNITS, min_size=1, max_size=3))
    last = len(units) - 1
    outputs = draw(st.sampled_from([[last], [last], [0, last], list(range(len(units))), [last, 0]]))
    outputs = list(dict.fromkeys(outputs))
    # Defined on that shape, or on one with sizes left open (a model on (None, None, 3)
    # called on (None, 64, 64, 3)): its row shows the call's shapes, its own table its own.
    declared = [None if size is not None and draw(st.booleans()) else size for size in shape[:-1]]
    return {
        "shape": shape,
        "declared": [*declared, shape[-1]],
        "units": units,
        "outputs": outputs,
        "sequential": outputs == [last] and draw(st.booleans()),
        "trainable": draw(st.sampled_from([True, True, False])),
    }


# ----------------------------------------------------------------------- the spec


def _spec_layer(layer: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": layer["type"], **layer["args"]}
    for key in ("name", "inputs", "as"):
        if layer.get(key) is not None:
            out[key] = layer[key]
    return out


def to_spec(desc: dict[str, Any]) -> str:
    """The description as spec text."""
    layers = []
    for entry in desc["entries"]:
        if "apply" in entry:
            layer = {"apply": entry["apply"]}
        elif "model" in entry:
            layer = {"model": entry["model"]}
            if not desc["sub"]["trainable"]:
                layer["trainable"] = False
        elif "block" in entry:
            layer = {"block": entry["block"], "repeat": entry["repeat"]}
            if "units" in entry:
                layer["units"] = entry["units"]
        else:
            layer = _spec_layer(entry)
            layer.pop("inputs", None), layer.pop("as", None)
        for key in ("inputs", "as"):
            if entry.get(key) is not None:
                layer[key] = entry[key]
        layers.append(layer)
    model: dict[str, Any] = {
        "inputs": [
            {"name": i["name"], "shape": i["shape"]} if i["given"] else {"shape": i["shape"]}
            for i in desc["inputs"]
        ],
        "layers": layers,
    }
    if desc["outputs"] is not None:
        model["outputs"] = desc["outputs"]
    data: dict[str, Any] = {"name": "random"}
    if desc["blocks"]:
        data["blocks"] = {
            name: {"params": block["params"], "layers": [_spec_layer(x) for x in block["layers"]]}
            for name, block in desc["blocks"].items()
        }
    sub = desc.get("sub")
    if sub is not None:
        layers = [{"type": "Dense", "units": u, "as": f"s{j}"} for j, u in enumerate(sub["units"])]
        data["models"] = {
            "sub": {"input": {"shape": sub["declared"]}, "layers": layers}
            if sub["sequential"]
            else {
                "inputs": [{"shape": sub["declared"]}],
                "layers": layers,
                "outputs": [f"s{j}" for j in sub["outputs"]],
            }
        }
    data["model"] = model
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)


# ----------------------------------------------------------- the Keras code for it


def _make(k: Any, layer_type: str, args: dict[str, Any], name: str | None = None) -> Any:
    extra = {"name": name} if name else {}
    return getattr(k.layers, layer_type)(**args, **extra)


def _call(layer: Any, values: list[Any]) -> Any:
    if type(layer).__name__ == "LSTM" and len(values) > 1:
        return layer(values[0], initial_state=values[1:])
    return layer(values[0] if len(values) == 1 else values)


def keras_model(desc: dict[str, Any], everything: bool = False) -> Any:
    """The functional model plain Keras code makes from the description; with
    ``everything``, every tensor the code computed is an output too (so running it runs
    the layers that feed no output, whose sizes Keras may check only then)."""
    k = keras()
    k.backend.clear_session()
    env: dict[str, Any] = {}
    inputs = []
    for spec_input in desc["inputs"]:
        extra = {"name": spec_input["name"]} if spec_input["given"] else {}
        tensor = k.Input(shape=tuple(spec_input["shape"]), **extra)
        inputs.append(tensor)
        env[spec_input["name"]] = tensor
    shared: dict[str, Any] = {}

    def value(ref: str, scope: dict[str, Any]) -> Any:
        name, _, index = ref.partition(".")
        found = scope[name]
        return found[int(index)] if index else found

    last: Any = inputs[0]
    produced: list[Any] = []
    for entry in desc["entries"]:
        taken = [last] if entry["inputs"] is None else [value(r, env) for r in entry["inputs"]]
        if "model" in entry:  # tower = make_sub(); tower(x)
            shared["sub"] = _make_sub(k, desc["sub"])
            out = _call(shared["sub"], taken)
        elif "apply" in entry:
            out = _call(shared[entry["apply"]], taken)
        elif "block" in entry:
            block = desc["blocks"][entry["block"]]
            x = taken[0]
            for _ in range(entry["repeat"]):
                scope, prev = {"in": x}, x
                for layer in block["layers"]:
                    args = {
                        key: entry["sub_units"] if val == "$units" else val
                        for key, val in layer["args"].items()
                    }
                    made = _make(k, layer["type"], args)
                    got = (
                        [prev]
                        if layer["inputs"] is None
                        else [value(r, scope) for r in layer["inputs"]]
                    )
                    prev = _call(made, got)
                    scope[layer["as"]] = prev
                x = prev
            out = x
        else:
            made = _make(k, entry["type"], entry["args"], entry.get("name"))
            shared[made.name] = made  # Keras' own name: apply: names it so
            out = _call(made, taken)
        if entry.get("as"):
            env[entry["as"]] = out
        last = out
        produced.append(out)
    outputs = last if desc["outputs"] is None else [value(r, env) for r in desc["outputs"]]
    if everything:
        outputs = list({id(t): t for t in _flat([outputs, produced])}.values())
    return k.Model(inputs, outputs, name="random")


def _make_sub(k: Any, sub: dict[str, Any]) -> Any:
    """The sub-model as the function a person writes builds it."""
    inputs = k.Input(shape=tuple(sub["declared"]))
    if sub["sequential"]:
        model = k.Sequential([inputs, *(k.layers.Dense(u) for u in sub["units"])], name="sub")
    else:
        x, outs = inputs, []
        for units in sub["units"]:
            x = k.layers.Dense(units)(x)
            outs.append(x)
        chosen = [outs[j] for j in sub["outputs"]]
        model = k.Model(inputs, chosen if len(chosen) > 1 else chosen[0], name="sub")
    model.trainable = sub["trainable"]
    return model


def _flat(value: Any) -> list[Any]:
    return [t for v in value for t in _flat(v)] if isinstance(value, list | tuple) else [value]


def keras_outcome(desc: dict[str, Any], run: bool, everything: bool = False) -> Any:
    """Keras' model, or the exception it raised building it or (if ``run``) running it."""
    try:
        model = keras_model(desc, everything)
        if run:
            sample = [
                np.ones((2, *(RUN_SIZE if d is None else d for d in i["shape"])), "float32")
                for i in desc["inputs"]
            ]
            results = _flat(model.predict(sample, verbose=0))
            for declared, result in zip(_flat(model.outputs), results, strict=True):
                shape = tuple(declared.shape)
                if len(result.shape) != len(shape) or any(
                    d is not None and d != n
                    for d, n in zip(shape[1:], result.shape[1:], strict=True)
                ):
                    raise ValueError(
                        f"Keras runs into {result.shape[1:]}, not the declared {shape}"
                    )
    except Exception as exc:  # Keras raises ValueError, TypeError, InvalidArgumentError, ...
        return exc
    return model


# ------------------------------------------------------------------- the property


def check(desc: dict[str, Any], log: Any = lambda text: None) -> str:
    """specc against Keras on one description; "accepted" or "rejected"."""
    from specc.backends import keras_build

    text = to_spec(desc)
    log(text)
    try:
        compiled = compile_text(text, "random.yaml")
    except SpecError as exc:
        log(str(exc))
        outcome = keras_outcome(desc, run=True, everything=True)  # unused layers run too
        assert isinstance(outcome, Exception), f"specc refuses what Keras runs: {exc}"
        return "rejected"
    known = all(d is not None for i in desc["inputs"] for d in i["shape"])
    model = keras_outcome(desc, run=known)
    log(f"Keras: {model!r}")
    assert not isinstance(model, Exception), f"Keras refuses: {model}"
    assert table.as_text(compiled.graph) == keras_text(model)
    expanded = io.StringIO()
    model.summary(print_fn=lambda line, line_break=True: expanded.write(line), expand_nested=True)
    assert table.as_text(compiled.graph, expand_nested=True) == expanded.getvalue()
    assert compiled.graph.trainable_params == sum(
        int(np.prod(w.shape)) for w in model.trainable_weights
    )
    ours = [
        (r["name"], r["type"], r["params"], r["inputs"])
        for r in table.as_dict(compiled.graph)["layers"]
    ]
    assert ours == keras_graph_rows(model)
    keras().backend.clear_session()
    built = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert keras_text(built) == keras_text(model)
    return "accepted"


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    """Keras and specc both take the console width from COLUMNS: wide, the default table."""
    monkeypatch.setenv("COLUMNS", "200")


def _seq2seq(states: list[str], units: int = 4) -> dict[str, Any]:
    """An encoder LSTM's states start a decoder LSTM (``inputs: [seq, *states]``)."""
    encoder = {"units": 4, "return_state": True}
    return {
        "inputs": [{"name": "x0", "given": True, "shape": [5, 3]}],
        "blocks": {},
        "entries": [
            {"type": "LSTM", "args": encoder, "inputs": None, "as": "t0", "multi": True},
            {"type": "LSTM", "args": {"units": units}, "inputs": ["x0", *states]},
        ],
        "outputs": None,
    }


INITIAL_STATES = [
    _seq2seq(["t0.1", "t0.2"]),  # accepted: the seq2seq example's routing
    _seq2seq(["t0.1"]),  # an LSTM has two states: refused by both
    _seq2seq(["t0.1", "t0.2"], units=2),  # states of 4 for a 2-unit LSTM: refused by both
]
"""Initial states, drawn too rarely by the strategy to trust it with them alone."""


@settings(max_examples=40, **SETTINGS)
@given(descriptions())
@example(desc=INITIAL_STATES[0])
@example(desc=INITIAL_STATES[1])
@example(desc=INITIAL_STATES[2])
def test_random_graphs_equal_keras(desc):
    check(desc, log=note)


@pytest.mark.slow
@settings(max_examples=1000, **SETTINGS)
@given(descriptions())
def test_random_graphs_equal_keras_long(desc):
    check(desc, log=note)


def _kinds(desc: dict[str, Any]) -> set[str]:
    kinds = set()
    for entry in desc["entries"]:
        if "model" in entry:
            kinds.add("submodel" + ("_multi" if entry.get("multi") else ""))
        elif entry.get("apply") == "sub":
            kinds.add("submodel_shared")
        elif "apply" in entry:
            kinds.add("shared")
        elif "block" in entry:
            kinds.add("block")
        elif entry["type"] in MERGES:
            kinds.add("merge")
        elif entry.get("multi"):
            kinds.add("states")
        if entry.get("initial_state"):
            kinds.add("initial_state")
    return kinds


def test_the_strategy_draws_what_the_property_needs():
    """Both outcomes occur, and merges, shared layers and blocks among the accepted."""
    seen: dict[str, set[str]] = {"accepted": set(), "rejected": set()}

    @settings(max_examples=300, derandomize=True, database=None, deadline=None)
    @given(descriptions())
    def draw(desc):
        try:
            compile_text(to_spec(desc))
        except SpecError:
            seen["rejected"] |= _kinds(desc) | {"any"}
        else:
            seen["accepted"] |= _kinds(desc) | {"any"}

    draw()
    assert "any" in seen["rejected"]
    assert {"any", "merge", "shared", "block", "states"} <= seen["accepted"]
    assert {"submodel", "submodel_multi", "submodel_shared"} <= seen["accepted"]
    # initial states are drawn too rarely to count on here: INITIAL_STATES holds both outcomes
