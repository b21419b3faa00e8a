"""``specc import`` of hostile ``.keras`` files made from a real saved model of issue 19's
kinds (operations with constants, a split, an einsum, a sub-model called twice, two
outputs): Hypothesis mutates its config.json (values of every type anywhere, keys
deleted, values moved elsewhere: wrong references and cycles, long and control-character
names) and every mutant must import, or be refused with one line per problem (never a
traceback, never an internal error); what imports is YAML with no control character.
"""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specc.errors import SpecError
from tests.keras_helpers import keras

pytestmark = pytest.mark.keras

VALUES = [None, True, False, 0, -1, 2**63, 10**30, 1.5, float("nan"), 1e308, "", "x",
          "a\nb", "\x1b[31m", "n" * 10_000, [], [None], [[[]]], {}, {"class_name": "Lambda"},
          "keras.src.ops.numpy", "Functional", "Split", [0, 0, 0], ["x", 0, 0]]  # fmt: skip


@pytest.fixture(scope="module")
def saved_config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """config.json of a functional model with operations and a shared sub-model."""
    k = keras()
    k.backend.clear_session()
    ops = k.ops
    x = k.Input((8, 6), name="x")
    inner = k.Input((8, 6))
    tower = k.Model(inner, k.layers.Dense(6)(inner), name="tower")
    a, b = tower(x), tower(x)
    s = ops.add(a, b) * 0.5 + 3.0
    p, q = ops.split(s, 2, axis=-1)
    m = ops.mean(ops.einsum("bij,bkj->bik", p, q), axis=1)
    model = k.Model(x, [k.layers.Dense(2, activation="softmax")(m), ops.relu6(m)], name="src")
    path = tmp_path_factory.mktemp("saved") / "src.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("config.json"))


def _places(value: Any, at: tuple = ()) -> list[tuple]:
    """Every path into ``value`` (keys and indexes), the root left out."""
    out = [at] if at else []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, inner in items:
        out += _places(inner, (*at, key))
    return out


def _at(value: Any, path: tuple) -> Any:
    for key in path:
        value = value[key]
    return value


@st.composite
def mutants(draw: st.DrawFn, config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with one to three mutations."""
    config = copy.deepcopy(config)
    for _ in range(draw(st.integers(1, 3))):
        places = _places(config)
        path = draw(st.sampled_from(places))
        parent, key = _at(config, path[:-1]), path[-1]
        how = draw(st.sampled_from(["value", "delete", "move", "suffix"]))
        if how == "value":
            parent[key] = copy.deepcopy(draw(st.sampled_from(VALUES)))
        elif how == "delete":
            del parent[key]
        elif how == "move":  # another part of the config here: wrong types, refs, cycles
            parent[key] = copy.deepcopy(_at(config, draw(st.sampled_from(places))))
        elif isinstance(parent[key], str):
            parent[key] += draw(st.sampled_from(["_1", "\n", "\x00", "x" * 300, ".0"]))
    return config


def _import(config: dict[str, Any], path: Path) -> str | None:
    """The imported spec's YAML, or None when refused (each problem checked one line)."""
    from specc.backends import importer

    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", "{}")
        zf.writestr("config.json", json.dumps(config))
    try:
        spec = importer.import_model(path)
    except SpecError as exc:
        for problem in exc.diagnostics:
            assert "\n" not in problem.message and "internal error" not in problem.message
        return None
    return importer.to_yaml(spec, path.name)


def test_the_saved_model_imports(saved_config, tmp_path):
    text = _import(saved_config, tmp_path / "m.keras")
    assert text is not None and "{op: split, indices_or_sections: 2, axis: -1}" in text


def test_mutated_configs_are_refused_in_one_line(saved_config, tmp_path):
    """Each mutant: imported, or one line per problem; no other exception escapes."""

    @settings(max_examples=150, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(mutants(saved_config))
    def check(config: dict[str, Any]) -> None:
        text = _import(config, tmp_path / "m.keras")
        if text is not None:
            assert all(line.isprintable() for line in text.splitlines()), text

    check()


@pytest.mark.parametrize("kwargs", [[1], "x", 2.5])
def test_an_operation_call_with_kwargs_not_an_object_is_one_line(saved_config, tmp_path, kwargs):
    """An operation's inbound node whose kwargs is no object: one line (was AttributeError)."""
    config = copy.deepcopy(saved_config)
    node = next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Split")[
        "inbound_nodes"
    ][0]
    node["kwargs"] = kwargs
    with pytest.raises(SpecError) as caught:
        from specc.backends import importer

        path = tmp_path / "m.keras"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("config.json", json.dumps(config))
        importer.import_model(path)
    assert any("kwargs must be an object" in d.message for d in caught.value.diagnostics)
