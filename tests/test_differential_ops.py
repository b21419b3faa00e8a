"""Random graphs of operations (``{op: ...}``) against Keras code that calls ``keras.ops``.

The operations are drawn from the catalog's declarations of the elementwise family,
``layers/operations.py`` (how many operands each takes, whether one may be a number, its
keyword arguments read from its JSON Schema), so an operation added to it is drawn here
without a strategy of its own. Operands are earlier tensors of ranks 2-4 whose sizes broadcast or not (1, 2, 4,
unknown) and constants, on either side; layers whose automatic names share the operations'
counters (an ``Add`` layer, then ``add`` ops) come between them. The description is
rendered as a spec and as the plain Keras code a person writes (``keras.ops.add(x, 3.0)``
or ``x + 3.0``), never through specc's builder. Accepted specs must print Keras' summary
byte for byte, give its rows (names, types, params, Connected to) and ``specc build`` the
same model; refused ones must be refused by Keras too, when it builds the model or when it
runs it on a batch of 5 (a size no axis has, so an operand whose batch axis lines up with
another axis fails as it would in use).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, note, settings
from hypothesis import strategies as st

from specc.analysis.pipeline import compile_text
from specc.backends import table
from specc.errors import SpecError
from specc.layers import OPERATIONS
from tests.family_differential import DELIBERATE, SETTINGS
from tests.helpers import keras_graph_rows, keras_text
from tests.keras_helpers import keras
from tests.strategies_catalog import NoStrategy, value

SIZES = st.sampled_from([4, 4, 2, 1, None])
BATCH = 5
"""The batch a model runs on: no drawn axis has this size."""
RUN_SIZE = 3
"""Unknown sizes take this value when a model runs."""
LAYERS = ("Dense", "Add", "Multiply", "Softmax", "ReLU")
"""Layers drawn between operations: their names share counters with ``add``, ``multiply``,
``softmax``, ``relu``."""


FAMILY = "operations"
"""The elementwise operations (arithmetic, activations), whose operands are tensors and
numbers; the shaping ones (array_operations: lists of tensors, axes, several outputs)
have their own differential test (tests/test_differential_operations.py)."""


@functools.cache
def op_names() -> tuple[str, ...]:
    """Every operation name of the family (aliases included)."""
    return tuple(name for name, family in OPERATIONS.index().items() if family == FAMILY)


@functools.cache
def _keywords(op: str) -> dict[str, Any]:
    """The operation's keyword arguments and a strategy for each, from its JSON Schema."""
    cls = OPERATIONS[op]
    schema = cls.model_json_schema()
    out = {}
    for key, sub in schema["properties"].items():
        if key in ("op", "name", "value", "type"):
            continue
        try:
            out[key] = (key in schema.get("required", ()), value(sub, schema.get("$defs", {})))
        except NoStrategy:
            continue
    return out


CONSTANTS = st.sampled_from([3.0, 0.5, 1.0 / 6.0, -2.0, 2, 1, 0.0])


@st.composite
def descriptions(draw: Any) -> dict[str, Any]:
    """1-2 inputs, 1-5 entries (mostly operations) on earlier tensors, the last the output."""
    inputs = []
    for k in range(draw(st.integers(1, 2))):
        rank = draw(st.integers(1, 3))
        inputs.append({"name": f"x{k}", "shape": [draw(SIZES) for _ in range(rank)]})
    pool = [i["name"] for i in inputs]
    entries: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 5))):
        if draw(st.integers(0, 3)) == 0:
            kind = draw(st.sampled_from(LAYERS))
            take = [draw(st.sampled_from(pool))]
            args: dict[str, Any] = (
                {"units": draw(st.sampled_from([1, 2, 4]))} if kind == "Dense" else {}
            )
            if kind in ("Add", "Multiply"):
                take = take * 2  # a tensor with itself: always fits
            entry = {"type": kind, "args": args, "inputs": take}
        else:
            op = draw(st.sampled_from(op_names()))
            cls = OPERATIONS[op]
            operands: list[Any] = []
            for _ in cls.OPERANDS:
                constant = cls.CONSTANT_OPERANDS and draw(st.integers(0, 2)) == 0
                operands.append(draw(CONSTANTS) if constant else draw(st.sampled_from(pool)))
            if all(not isinstance(o, str) for o in operands):
                operands[draw(st.integers(0, len(operands) - 1))] = draw(st.sampled_from(pool))
            kwargs = {}
            for key, (required, strategy) in _keywords(op).items():
                if required or draw(st.booleans()):
                    kwargs[key] = draw(strategy)
            entry = {"op": op, "args": kwargs, "inputs": operands}
            entry["short"] = not isinstance(operands[-1], str) and draw(st.booleans())
            if draw(st.integers(0, 5)) == 0:
                entry["name"] = f"op{i}"
            entry["operator"] = bool(cls.OPERATOR) and not kwargs and draw(st.booleans())
        entry["as"] = f"t{i}"
        pool.append(entry["as"])
        entries.append(entry)
    return {"inputs": inputs, "entries": entries}


def to_spec(desc: dict[str, Any]) -> str:
    layers = []
    for entry in desc["entries"]:
        if "op" in entry:
            layer = {"op": entry["op"], **entry["args"]}
            given = entry["inputs"]
            if len(given) == 2 and not isinstance(given[1], str) and entry.get("short"):
                layer["value"] = given[1]
                given = given[:1]
            layer["inputs"] = given
        else:
            layer = {"type": entry["type"], **entry["args"], "inputs": entry["inputs"]}
        if entry.get("name"):
            layer["name"] = entry["name"]
        layer["as"] = entry["as"]
        layers.append(layer)
    data = {
        "name": "random",
        "model": {
            "inputs": [{"name": i["name"], "shape": i["shape"]} for i in desc["inputs"]],
            "layers": layers,
        },
    }
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)


PYTHON = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
}


def keras_model(desc: dict[str, Any], everything: bool = False) -> Any:
    """The model the plain Keras code makes: ``keras.ops`` calls (or Python's operators),
    layers made and called in order; a named operation made from its class. With
    ``everything``, every tensor computed is an output (running it runs them all)."""
    import importlib

    k = keras()
    k.backend.clear_session()
    env: dict[str, Any] = {i["name"]: k.Input(shape=tuple(i["shape"]), name=i["name"])
                           for i in desc["inputs"]}  # fmt: skip
    out: Any = None
    for entry in desc["entries"]:
        if "op" in entry:
            cls = OPERATIONS[entry["op"]]
            operands = [env[o] if isinstance(o, str) else o for o in entry["inputs"]]
            if cls.LISTED:  # keras.ops.concatenate([a, b], ...)
                operands = [operands]
            if entry.get("name"):
                module = importlib.import_module(f"keras.src.ops.{cls.MODULE}")
                made = getattr(module, cls.__name__)(**entry["args"], name=entry["name"])
                out = made(*operands)
            elif entry["operator"] and len(operands) == 1:
                out = -operands[0]
            elif entry["operator"]:
                out = PYTHON[cls.OPERATOR](*operands)
            else:  # keras.ops.image.resize(x, ...); keras.ops.einsum(subscripts, *operands)
                function = functools.reduce(getattr, cls.FUNCTION.split("."), k.ops)
                kwargs = dict(entry["args"])
                leading = [kwargs.pop(key) for key in cls.LEADING if key in kwargs]
                out = function(*leading, *operands, **kwargs)
        else:
            layer = getattr(k.layers, entry["type"])(**entry["args"])
            taken = [env[r] for r in entry["inputs"]]
            out = layer(taken if len(taken) > 1 else taken[0])
        env[entry["as"]] = out
    inputs = [env[i["name"]] for i in desc["inputs"]]
    if everything:  # a scalar (ops.min(x): no batch axis) cannot be predicted by batches
        made = [env[e["as"]] for e in desc["entries"]]
        made = [t for t in made if isinstance(t, list) or len(t.shape)] or made
        return k.Model(inputs, list({id(t): t for t in made}.values()), name="random")
    return k.Model(inputs, out, name="random")


def keras_outcome(desc: dict[str, Any], everything: bool = False) -> Any:
    """Keras' model, or what it raised building it or running it on a batch."""
    try:
        model = keras_model(desc, everything)
        if any(not isinstance(t, list) and not len(t.shape) for t in model.outputs):
            return model  # a scalar output: Keras builds it, predict cannot batch it
        sample = [
            np.ones((BATCH, *(RUN_SIZE if d is None else d for d in i["shape"])), "float32")
            for i in desc["inputs"]
        ]
        results = model.predict(sample, verbose=0)
        results = results if isinstance(results, list) else [results]
        for tensor, result in zip(model.outputs, results, strict=True):
            declared = tuple(tensor.shape)
            if len(result.shape) != len(declared) or any(
                d is not None and d != n
                for d, n in zip(declared[1:], result.shape[1:], strict=True)
            ):
                raise ValueError(f"Keras runs into {result.shape}, not the declared {declared}")
    except Exception as exc:  # ValueError, TypeError, InvalidArgumentError, ...
        return exc
    return model


def check(desc: dict[str, Any], log: Any = lambda text: None) -> str:
    from specc.backends import keras_build

    text = to_spec(desc)
    log(text)
    try:
        compiled = compile_text(text, "random.yaml")
    except SpecError as exc:
        log(str(exc))
        if any(why in str(exc) for why in DELIBERATE):  # Keras builds what the spec cannot mean
            return "deliberate"
        outcome = keras_outcome(desc, everything=True)  # unused operations run too
        assert isinstance(outcome, Exception), f"specc refuses what Keras runs: {exc}"
        return "rejected"
    model = keras_outcome(desc)
    log(f"Keras: {model!r}")
    assert not isinstance(model, Exception), f"Keras refuses: {model}"
    assert table.as_text(compiled.graph) == keras_text(model)
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
    monkeypatch.setenv("COLUMNS", "200")


@pytest.mark.keras
@settings(max_examples=12, **SETTINGS)
@given(descriptions())
def test_random_operations_equal_keras(desc):
    check(desc, log=note)


@pytest.mark.slow
@pytest.mark.keras
@settings(max_examples=500, **SETTINGS)
@given(descriptions())
def test_random_operations_equal_keras_long(desc):
    check(desc, log=note)


def test_the_strategy_draws_what_the_property_needs():
    """Every operation, constants on both sides, broadcasting, and both outcomes."""
    seen: set[str] = set()

    @settings(max_examples=400, derandomize=True, database=None, deadline=None)
    @given(descriptions())
    def draw(desc):
        try:
            compile_text(to_spec(desc))
        except SpecError:
            seen.add("rejected")
        else:
            seen.add("accepted")
        for entry in desc["entries"]:
            if "op" not in entry:
                continue
            seen.add(entry["op"])
            given = entry["inputs"]
            if len(given) == 2 and not isinstance(given[0], str):
                seen.add("constant on the left")
            if len(given) == 2 and all(isinstance(g, str) for g in given):
                seen.add("two tensors")

    draw()
    assert {"accepted", "rejected", "constant on the left", "two tensors"} <= seen
    assert set(op_names()) <= seen
