"""The loader: hostile input gets a located error, never a traceback or a hang."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specc import loader
from specc.errors import SpecError
from specc.pipeline import compile_text


def test_source_map_positions():
    loaded = loader.load_text(
        "name: x\nmodel:\n  layers:\n    - {type: Dense, units: 3}\n", "f.yaml"
    )
    assert loaded.source.position(("model", "layers", 0, "units")) == (4, 28)
    assert loaded.source.position(("model", "layers", 0, "units"), key=True) == (4, 21)
    # A missing key points at its nearest ancestor.
    assert loaded.source.position(("model", "layers", 0, "filters")) == (4, 7)


def test_merge_keys_work_and_explicit_keys_win():
    text = (
        "name: x\nbase: &c {type: Dense, units: 4, activation: relu}\n"
        "model:\n  input: {shape: [3]}\n  layers:\n    - {<<: *c, units: 2}\n"
    )
    loaded = loader.load_text(text)
    assert loaded.data["model"]["layers"][0] == {"type": "Dense", "units": 2, "activation": "relu"}


def test_huge_file_refused_unread(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("name: x\n# " + "x" * (loader.MAX_BYTES + 10) + "\n")
    with pytest.raises(SpecError) as info:
        loader.load_file(big)
    assert "larger than 4 MiB" in str(info.value)
    assert info.value.exit_code == 1


def test_directory_is_unreadable(tmp_path):
    with pytest.raises(SpecError) as info:
        loader.load_file(tmp_path)
    assert info.value.exit_code == 2


def test_bom_is_accepted():
    assert loader.decode("\ufeffname: x\n".encode(), "f") == "name: x\n"


def test_timestamps_stay_strings():
    assert loader.load_text("description: 2018-04-01\n").data == {"description": "2018-04-01"}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_spec_error_or_spec(text):
    """Whatever the text, the only failure is a SpecError with located diagnostics."""
    try:
        compile_text(text, "fuzz.yaml")
    except SpecError as exc:
        assert exc.diagnostics
        for d in exc.diagnostics:
            assert d.line >= 1 and d.col >= 1 and d.message


YAML_BITS = st.sampled_from(
    ["name: x\n", "model:\n", "  layers:\n", "    - ", "{type: Dense, units: 3}\n", "&a ", "*a ",
     "[", "]", "{", "}", ": ", "- ", "!!python/object ", "\t", "\n", "'", '"', "<<: *a\n",
     "  input: {shape: [4]}\n", "---\n", "%YAML 1.1\n", "? ", "|\n", ">\n"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(YAML_BITS, max_size=30).map("".join))
def test_yaml_shaped_junk_never_crashes(text):
    try:
        compile_text(text, "fuzz.yaml")
    except SpecError as exc:
        assert exc.diagnostics
