"""Differential property test of the lookup layers on string, integer and float inputs.

Random StringLookup, IntegerLookup, TextVectorization, Hashing, CategoryEncoding and
Discretization layers (vocabulary inline, from a file, or adapted; every output mode),
sometimes a Dense after them, on inputs of dtype string, int64 or float32: an accepted spec
equals Keras layer for layer and in ``model.summary()``, and each lookup's output dtype is
the one Keras gives; a refused one Keras refuses too (building, or running the model on a
batch of its dtype), except the deliberate refusal of a width Keras knows only once adapted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from specc.analysis import checks, graph
from specc.backends import keras_build, table
from specc.errors import Diagnostic
from specc.language.schema import Spec
from specc.layers import lookup
from tests.family_differential import SETTINGS, keras_summary
from tests.keras_helpers import keras, keras_rows, static_rows

pytestmark = pytest.mark.keras

WORDS = ["red", "green", "blue", "cyan", "pink"]
VOCAB_FILE = Path(__file__).parent / "data" / "lookup_vocabulary.txt"
ADAPTING = ("StringLookup", "IntegerLookup", "TextVectorization", "Discretization")
DELIBERATE = ("learns only when trained",)
"""Keras builds such a layer with an unknown width (None) and fails at the Dense after it,
or at fit: specc says which argument makes the width known."""


@st.composite
def lookup_specs(draw: Any) -> dict[str, Any]:
    dtype = draw(st.sampled_from(["string", "int64", "float32"]))
    shape = draw(st.sampled_from([[1], [3], [2, 3]]))
    kind = draw(
        st.sampled_from(
            ["StringLookup", "IntegerLookup", "TextVectorization", "Hashing",
             "CategoryEncoding", "Discretization"]
        )
    )  # fmt: skip
    layer: dict[str, Any] = {"type": kind}
    modes = {
        "StringLookup": ["int", "one_hot", "multi_hot", "count", "tf_idf"],
        "IntegerLookup": ["int", "one_hot", "multi_hot", "count", "tf_idf"],
        "TextVectorization": ["int", "multi_hot", "count", "tf_idf"],
        "Hashing": ["int", "one_hot", "multi_hot", "count"],
        "CategoryEncoding": ["one_hot", "multi_hot", "count"],
        "Discretization": ["int", "one_hot", "multi_hot", "count"],
    }[kind]
    mode = draw(st.sampled_from(modes))
    if mode != modes[0] or draw(st.booleans()):
        layer["output_mode"] = mode
    if kind in ("StringLookup", "IntegerLookup", "TextVectorization"):
        source = draw(st.sampled_from(["inline", "file", "adapt"]))
        tokens: list[Any] = WORDS if kind != "IntegerLookup" else [3, 5, 7, 9]
        if source == "inline":
            layer["vocabulary"] = tokens[: draw(st.integers(1, len(tokens)))]
            if mode == "tf_idf":
                layer["idf_weights"] = [1.0] * len(layer["vocabulary"])
        elif source == "file" and kind != "IntegerLookup" and mode != "tf_idf":
            layer["vocabulary"] = str(VOCAB_FILE)
        if draw(st.booleans()):
            layer["max_tokens"] = draw(st.sampled_from([2, 6, 12]))
            if draw(st.booleans()):
                layer["pad_to_max_tokens"] = True
        if kind != "TextVectorization" and draw(st.booleans()):
            layer["num_oov_indices"] = draw(st.integers(0, 2))
        if kind == "StringLookup" and draw(st.booleans()):
            layer["mask_token"] = "[MASK]"
        if kind == "IntegerLookup" and draw(st.booleans()):
            layer["mask_token"] = 0
        if kind == "TextVectorization" and mode == "int" and draw(st.booleans()):
            layer["output_sequence_length"] = draw(st.integers(1, 6))
        if kind == "TextVectorization" and draw(st.booleans()):
            layer["split"] = draw(st.sampled_from([None, "character"]))
    elif kind == "Hashing":
        layer["num_bins"] = draw(st.integers(1, 9))
        if draw(st.booleans()):
            layer["salt"] = draw(st.integers(0, 99))
    elif kind == "CategoryEncoding":
        layer["num_tokens"] = draw(st.integers(1, 9))
    else:
        if draw(st.booleans()):
            layer["bin_boundaries"] = sorted(
                draw(
                    st.lists(
                        st.sampled_from([0.1, 0.5, 2.0, 4.0]), min_size=1, max_size=3, unique=True
                    )
                )
            )
        else:
            layer["num_bins"] = draw(st.integers(1, 5))
    layers = [layer]
    if draw(st.booleans()):
        layers += [{"type": "Flatten"}, {"type": "Dense", "units": 2}]
    return {
        "name": "random",
        "model": {"input": {"shape": shape, "dtype": dtype}, "layers": layers},
    }


def _resolve(data: dict[str, Any]) -> tuple[Any, list[str]]:
    spec = Spec.model_validate(data)

    def diagnose(loc: tuple, message: str) -> Diagnostic:
        return Diagnostic(message, loc=tuple(loc))

    resolved, problems = graph.resolve(spec, diagnose)
    if resolved is not None and not problems:
        problems += checks.run_checks(spec, resolved, diagnose)
    return resolved, [p.message for p in problems]


def _batch(dtype: str, shape: list[int]) -> np.ndarray:
    rng = np.random.default_rng(0)
    size = (4, *shape)
    if dtype == "string":
        return rng.choice(np.array(["red", "blue", "grey two", "x"], dtype=object), size=size)
    if dtype == "int64":
        return rng.integers(0, 5, size=size).astype("int64")
    return rng.random(size).astype("float32")


def keras_refuses(data: dict[str, Any]) -> str | None:
    """How Keras refuses the spec: building it (adapting on a batch where the spec adapts),
    or running it; None if it takes it."""
    k = keras()
    k.backend.clear_session()
    given = data["model"]["input"]
    x = _batch(given["dtype"], given["shape"])
    try:
        layers = []
        for entry in data["model"]["layers"]:
            args = {key: v for key, v in entry.items() if key != "type"}
            made = getattr(k.layers, entry["type"])(**args)
            adapts = entry["type"] in ADAPTING and not layers
            if adapts and entry.get("vocabulary") is None and entry.get("bin_boundaries") is None:
                made.adapt(x)
            layers.append(made)
        model = k.Sequential([k.Input(shape=tuple(given["shape"]), dtype=given["dtype"]), *layers])
    except Exception as exc:  # Keras raises ValueError, TypeError, ...
        return f"build: {exc}"
    try:
        y = model.predict(x, verbose=0)
    except Exception as exc:
        return f"predict: {exc}"
    declared = tuple(model.output_shape)
    if any(d is not None and d != n for d, n in zip(declared[1:], y.shape[1:], strict=False)):
        return f"predict: output {y.shape} is not the declared {declared}"
    return None


def check(data: dict[str, Any]) -> str:
    note(repr(data))
    try:
        resolved, problems = _resolve(data)
    except ValidationError as exc:
        assert keras_refuses(data) is not None, f"specc refuses what Keras takes: {exc}"
        return "rejected"
    if problems:
        note(repr(problems))
        if not any(reason in m for m in problems for reason in DELIBERATE):
            assert keras_refuses(data) is not None, f"Keras takes what specc refuses: {problems}"
        return "rejected"
    k = keras()
    k.backend.clear_session()
    spec = Spec.model_validate(data)
    model = keras_build.build(spec, resolved, compile=False, keras_names=True)
    assert keras_rows(model) == static_rows(resolved)
    assert keras_summary(model) == table.as_text(resolved, width=88).strip()
    first = resolved.layers[0]
    assert model.layers[0].output.dtype == first.spec.output_dtype()
    return "accepted"


@settings(max_examples=30, **SETTINGS)
@given(lookup_specs())
def test_lookup_layers_agree_with_keras(data: dict[str, Any]) -> None:
    check(data)


@pytest.mark.slow
@settings(max_examples=400, **SETTINGS)
@given(lookup_specs())
def test_lookup_layers_agree_with_keras_long(data: dict[str, Any]) -> None:
    check(data)


def test_vocabulary_file_counts_as_keras_reads_it() -> None:
    """A file of one token a line: Keras' vocabulary_size() equals specc's count."""
    k = keras()
    tokens, _ = lookup.read_vocabulary(str(VOCAB_FILE))
    for mask in (None, "[MASK]"):
        layer = k.layers.StringLookup(vocabulary=str(VOCAB_FILE), mask_token=mask)
        spec = lookup.StringLookup(type="StringLookup", vocabulary=str(VOCAB_FILE), mask_token=mask)
        assert spec.size() == layer.vocabulary_size() == len(tokens) + 1 + (mask is not None)


def test_lookup_strategy_yields_both_kinds() -> None:
    """The drawn specs are accepted and refused both, for widths and for dtypes."""
    outcomes: dict[str, int] = {"accepted": 0, "rejected": 0, "string": 0, "width": 0}

    @settings(max_examples=80, database=None, **{**SETTINGS, "derandomize": True})
    @given(lookup_specs())
    def count(data: dict[str, Any]) -> None:
        try:
            _, problems = _resolve(data)
        except ValidationError:
            problems = ["schema"]
        outcomes["rejected" if problems else "accepted"] += 1
        outcomes["string"] += any("string" in p for p in problems)
        outcomes["width"] += any(DELIBERATE[0] in p for p in problems)

    count()
    assert outcomes["accepted"] >= 25, outcomes
    assert outcomes["rejected"] >= 10, outcomes
    assert outcomes["string"] >= 3 and outcomes["width"] >= 1, outcomes
