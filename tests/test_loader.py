"""The loader: hostile input gets a located error, never a traceback or a hang."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from specc.analysis.pipeline import compile_text
from specc.errors import SpecError
from specc.language import loader
from tests.helpers import ROOT, deadline


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


# ----------------------------------------------------------------- merge keys (<<)
def _located(exc: SpecError) -> list[tuple[int, int, str]]:
    return [(d.line, d.col, d.message) for d in exc.diagnostics]


def test_recursive_merge_is_a_located_error():
    with pytest.raises(SpecError) as info:
        loader.load_text("name: x\na: &x {<<: *x}\n", "f.yaml")
    assert _located(info.value) == [
        (2, 8, "merge key (<<) merges a mapping into itself (recursive merge)")
    ]


def test_merge_cycle_through_a_list_of_sources():
    text = "a: &a {k: 1, <<: [&b {<<: *a}]}\n"
    with pytest.raises(SpecError) as info:
        loader.load_text(text, "f.yaml")
    assert "recursive merge" in str(info.value)


def test_nested_merge_bomb_answers_at_once():
    """Twelve levels of ``<<: [*a x 10]``: PyYAML-style expansion is 10**12 pairs."""
    lines = ["l0: &l0 {k0: 0}"]
    for i in range(1, 13):
        lines.append(f"l{i}: &l{i} {{<<: [{', '.join([f'*l{i - 1}'] * 10)}], k{i}: {i}}}")
    text = "\n".join(lines) + "\n"
    assert len(text) < 1000
    start = time.process_time()
    with deadline(120):  # only a guard against the 10**12 expansion hanging the suite
        data = loader.load_text(text, "f.yaml").data
    assert time.process_time() - start < 1.0  # CPU time; quiet machine: milliseconds
    assert data["l12"] == {f"k{i}": i for i in range(13)}


def test_merged_pairs_count_against_the_bound():
    big = ", ".join(f"k{i}: {i}" for i in range(1000))
    text = f"b: &b {{{big}}}\nl:\n" + "  - {<<: *b}\n" * (loader.MAX_NODES // 1000 + 1)
    with pytest.raises(SpecError) as info:
        loader.load_text(text, "f.yaml")
    (diag,) = info.value.diagnostics
    assert diag.message.startswith(f"YAML expands to more than {loader.MAX_NODES:,} values")
    assert "merge" in diag.message and diag.line > 2


def test_merge_priorities():
    """Own keys beat merged ones; earlier merge sources beat later ones (YAML's rule)."""
    text = "a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nc: {<<: [*a, *b], y: 3}\nd: {<<: [*b, *a]}\n"
    data = loader.load_text(text).data
    assert data["c"] == {"x": 1, "y": 3, "z": 2}
    assert data["d"] == {"x": 2, "z": 2, "y": 1}


def test_merge_keys_compare_by_value():
    """``1`` and ``01`` are the same key (the integer 1), merged or not."""
    assert loader.load_text("a: &a {1: x}\nb: {<<: *a, 01: y}\n").data["b"] == {1: "y"}
    with pytest.raises(SpecError, match="duplicate key 1"):
        loader.load_text("a: {1: x, 01: y}\n")


# --------------------------------------------------------------- YAML 1.2 scalars
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e-3", 0.001), ("1E+2", 100.0), (".5", 0.5), ("1.", 1.0), ("-2.5e-1", -0.25),
        ("010", 10), ("0o10", 8), ("0x1F", 31), ("+7", 7), ("-0", 0),
        ("yes", "yes"), ("no", "no"), ("on", "on"), ("off", "off"), ("y", "y"), ("n", "n"),
        ("1:30", "1:30"), ("1_000", "1_000"), ("0b11", "0b11"), ("-0o1", "-0o1"),
        ("true", True), ("False", False), ("~", None), ("null", None), ("", None),
        ("2018-04-01", "2018-04-01"), ("=", "="), ("! 3", "3"),
    ],
)  # fmt: skip
def test_yaml12_core_schema(text, value):
    assert loader.load_text(f"v: {text}\n").data["v"] == value
    assert type(loader.load_text(f"v: {text}\n").data["v"]) is type(value)


def test_non_finite_floats_still_parse():
    """Refusing them is the schema's job (finite numbers only), not the parser's."""
    data = loader.load_text("a: .inf\nb: -.Inf\nc: .NaN\n").data
    assert data["a"] == math.inf and data["b"] == -math.inf and math.isnan(data["c"])


def test_yaml11_readings_are_recorded_for_hints():
    loaded = loader.load_text("a: yes\nb: [1:30, 1e-3, 010, 'no', plain]\n")
    assert loaded.source.yaml11 == {
        ("a",): (True, "`yes` is a string in YAML 1.2; write true"),
        ("b", 0): (True, "`1:30` is a string in YAML 1.2, not the base-60 number 90; write 90"),
        ("b", 1): (False, "`1e-3` is a number in YAML 1.2; quote it for text: '1e-3'"),
    }


def test_yaml11_hint_only_where_it_explains_the_error():
    """`yes` where a string goes is fine; `1e3` where a boolean goes is no YAML 1.1 habit."""
    text = (ROOT / "specs" / "mnist_cnn.yaml").read_text()
    text = text.replace("activation: relu}", "activation: yes}", 1)
    text = text.replace("shuffle: true", "shuffle: 1e3")
    with pytest.raises(SpecError) as info:
        compile_text(text, "f.yaml")
    assert [d.loc[-1] for d in info.value.diagnostics] == ["activation", "shuffle"]
    assert "YAML 1.2" not in str(info.value)


def test_yaml11_hint_in_schema_error():
    text = (ROOT / "specs" / "mnist_cnn.yaml").read_text().replace("shuffle: true", "shuffle: yes")
    with pytest.raises(SpecError) as info:
        compile_text(text, "f.yaml")
    (diag,) = info.value.diagnostics
    assert diag.text().endswith(
        "training.shuffle: must be true or false (got 'yes') (`yes` is a string in YAML 1.2; write true)"
    )


def test_learning_rate_1e_3_is_a_number():
    text = (ROOT / "specs" / "mnist_cnn.yaml").read_text()
    text = text.replace("optimizer: rmsprop", "optimizer: {type: RMSprop, learning_rate: 1e-3}")
    assert compile_text(text).spec.compile.optimizer.learning_rate == 0.001


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[!!int 3.5]", "!!int '3.5' is not an integer"),
        ("!!float abc", "!!float 'abc' is not a number"),
        ("!!bool maybe", "!!bool 'maybe' is not a boolean"),
        ('!!int ""', "!!int '' is not an integer"),
        ("!!null x", "!!null 'x' is not null"),
        ("!!int 1_0", "!!int '1_0' is not an integer"),
    ],
)
def test_explicit_tag_that_does_not_fit(text, message):
    with pytest.raises(SpecError) as info:
        loader.load_text(f"name: x\nv: {text}\n", "f.yaml")
    (diag,) = info.value.diagnostics
    assert (diag.line, diag.message) == (2, message)


def test_explicit_tags_that_fit():
    text = "a: !!float 3\nb: !!int 0x10\nc: !!str 10\nd: !!bool true\ne: !!null\n"
    assert loader.load_text(text).data == {"a": 3.0, "b": 16, "c": "10", "d": True, "e": None}


def test_integer_too_long_to_print():
    """Python refuses to convert ints over 4,300 digits: a located error, not a traceback."""
    with pytest.raises(SpecError) as info:
        loader.load_text("name: x\nseed: " + "9" * 5000 + "\n", "f.yaml")
    (diag,) = info.value.diagnostics
    assert (diag.line, diag.col) == (2, 7)
    assert "integer of 5,000 digits" in diag.message


def test_document_nesting_is_bounded_with_a_position():
    text = "a: " + "[" * 70 + "]" * 70 + "\n"
    with pytest.raises(SpecError) as info:
        loader.load_text(text, "f.yaml")
    (diag,) = info.value.diagnostics
    assert diag.message == f"YAML nests deeper than {loader.MAX_DEPTH} levels"
    assert (diag.line, diag.col) == (1, 4 + loader.MAX_DEPTH - 1)  # the 64th "[" opens level 65


def test_too_many_values_stops_composing():
    text = "v: [" + "1, " * loader.MAX_NODES + "1]\n"
    start = time.process_time()
    with pytest.raises(SpecError) as info:
        loader.load_text(text, "f.yaml")
    assert time.process_time() - start < 1.5
    assert info.value.diagnostics[0].message == f"YAML has more than {loader.MAX_NODES:,} values"


def test_tab_indent_position_with_other_line_breaks():
    assert loader._tab_indent("a: 1\r\n  \tb: 2\n", "f") is not None
    diag = loader._tab_indent("a: 1\r\n  \tb: 2\n", "f")
    assert (diag.line, diag.col) == (2, 3)
    diag = loader._tab_indent("a: 1\rb:\r\n\r\t c: 2\n", "f")
    assert (diag.line, diag.col) == (4, 1)
    assert loader._tab_indent("a: 'x\ty'\n", "f") is None


# ------------------------------------------------------------------- spec paths


@pytest.mark.parametrize("command", ["validate", "summary", "build", "emit-code"])
def test_fifo_is_refused_at_once(command, specc, tmp_path):
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    with deadline(10):
        run = specc(command, "spec.yaml", cwd=tmp_path)
    assert run.exit_code == 2
    assert run.stderr == (
        "spec.yaml:1:1: error: is a FIFO (named pipe), not a regular file; "
        "specc reads spec files only\n"
    )


def test_device_is_refused(specc):
    run = specc("validate", os.devnull)
    assert run.exit_code == 2
    assert "is a character device, not a regular file" in run.stderr


def test_symlink_loop_is_one_line(specc, tmp_path):
    (tmp_path / "a.yaml").symlink_to("b.yaml")
    (tmp_path / "b.yaml").symlink_to("a.yaml")
    run = specc("validate", "a.yaml", cwd=tmp_path)
    assert run.exit_code == 2
    assert run.stderr == "a.yaml:1:1: error: cannot read: Too many levels of symbolic links\n"


def test_symlink_is_shown_by_its_own_name(specc, tmp_path):
    (tmp_path / "link.yaml").symlink_to(ROOT / "specs" / "mnist_cnn.yaml")
    run = specc("validate", "link.yaml", cwd=tmp_path)
    assert run.stdout == "link.yaml: ok (13 layers, 43,290 params)\n"


def _unlistable_folder(parent: Path) -> Path:
    """A folder no one can list, even root: its path is longer than the system allows."""
    top = parent / "deep"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(20):  # 20 x 251 bytes > PATH_MAX (4,096)
            os.mkdir("n" * 250, dir_fd=fd)
            inner = os.open("n" * 250, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = inner
    finally:
        os.close(fd)
    return top


def test_folder_reports_every_unreadable_entry(specc, tmp_path):
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "good.yaml").write_text((ROOT / "specs" / "mnist_cnn.yaml").read_text())
    os.mkfifo(folder / "pipe.yaml")
    (folder / "gone.yaml").symlink_to("nowhere.yaml")
    (folder / "loop.yaml").symlink_to("loop.yaml")
    (folder / "notes.txt").write_text("not a spec")
    deep = _unlistable_folder(folder)
    with deadline(10):
        run = specc("validate", "specs", cwd=tmp_path)
    assert run.exit_code == 2
    assert run.stdout == "specs/good.yaml: ok (13 layers, 43,290 params)\n"
    lines = run.stderr.splitlines()
    assert lines[-1] == "1 valid, 4 invalid"
    assert sorted(lines[:-1]) == sorted(
        [
            "specs/gone.yaml:1:1: error: broken symbolic link",
            "specs/loop.yaml:1:1: error: cannot read: Too many levels of symbolic links",
            "specs/pipe.yaml:1:1: error: is a FIFO (named pipe), not a regular file; "
            "specc reads spec files only",
            *[line for line in lines if line.startswith("specs/deep/")],
        ]
    )
    (too_long,) = [line for line in lines if line.startswith("specs/deep/")]
    assert too_long.endswith(":1:1: error: cannot read folder: File name too long")
    assert deep.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 folder anyway")
def test_folder_without_permission_is_reported(specc, tmp_path):
    """As root this cannot fail; the unlistable-folder test above covers root."""
    (tmp_path / "ok.yaml").write_text((ROOT / "specs" / "mnist_cnn.yaml").read_text())
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        run = specc("validate", ".", cwd=tmp_path)
    finally:
        locked.chmod(0o700)
    assert run.exit_code == 2
    assert "locked:1:1: error: cannot read folder: Permission denied" in run.stderr


def test_emit_code_refuses_unreadable_entries_before_writing(specc, tmp_path):
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "ok.yaml").write_text((ROOT / "specs" / "mnist_cnn.yaml").read_text())
    os.mkfifo(tmp_path / "specs" / "pipe.yaml")
    with deadline(10):
        run = specc("emit-code", "specs", "-o", "out", cwd=tmp_path)
    assert run.exit_code == 2
    assert not (tmp_path / "out").exists()


# ------------------------------------------------- one file's crash, not the others'
def test_tag_misfit_in_a_folder_does_not_stop_the_others(specc, tmp_path):
    (tmp_path / "a.yaml").write_text("name: a\nmodel:\n  input: {shape: [!!int 3.5]}\n")
    (tmp_path / "b.yaml").write_text((ROOT / "specs" / "mnist_cnn.yaml").read_text())
    run = specc("validate", ".", cwd=tmp_path)
    assert run.exit_code == 1
    assert run.stdout == "b.yaml: ok (13 layers, 43,290 params)\n"
    assert run.stderr.splitlines()[0].startswith(
        "a.yaml:3:19: error: model.input.shape[0]: !!int '3.5' is not an integer"
    )


def test_internal_error_is_reported_for_its_file_only(specc, tmp_path, monkeypatch):
    from specc.analysis import pipeline

    real = pipeline.compile_loaded

    def buggy(loaded):
        if loaded.source.file == "boom.yaml":
            raise KeyError("a bug\nover two lines")
        return real(loaded)

    monkeypatch.setattr(pipeline, "compile_loaded", buggy)
    spec = (ROOT / "specs" / "mnist_cnn.yaml").read_text()
    (tmp_path / "boom.yaml").write_text(spec)
    (tmp_path / "fine.yaml").write_text(spec)
    run = specc("validate", ".", cwd=tmp_path)
    assert run.exit_code == 1
    assert run.stdout == "fine.yaml: ok (13 layers, 43,290 params)\n"
    assert run.stderr == (
        "boom.yaml:1:1: error: internal error: KeyError: 'a bug\\nover two lines' "
        "(a bug in specc; please report it with this file)\n1 valid, 1 invalid\n"
    )
    single = specc("summary", "boom.yaml", cwd=tmp_path)
    assert single.exit_code == 1
    assert single.stdout == "" and single.stderr.count("\n") == 1
    assert "internal error: KeyError" in single.stderr


# ------------------------------------------- any file under 4 MiB answers at once
_NEAR = loader.MAX_BYTES - 1024
_LAYERS = "name: big\nmodel:\n  input: {shape: [4]}\n  layers:\n"


def _repeat(unit: str, head: str = "", tail: str = "", size: int = _NEAR) -> str:
    return head + unit * ((size - len(head) - len(tail)) // len(unit)) + tail


ADVERSARIAL = {
    "long_line": lambda: _repeat("a", "name: x\ndescription: ", "\n"),
    "many_keys": lambda: "".join(f"k{i}: {i}\n" for i in range(_NEAR // 16)),
    "many_aliases": lambda: _repeat("*a, ", "a: &a [1, 2, 3, 4, 5, 6, 7, 8]\nb: [", "*a]\n"),
    "deep_block": lambda: "".join(" " * i + "k:\n" for i in range(2800)),
    "long_flow_list": lambda: _repeat("1,", "v: [", "1]\n"),
    "big_integer": lambda: _repeat("9", "name: x\nseed: ", "\n"),
    "tab_at_the_end": lambda: _repeat("# comment\n", "name: x\n", "a:\n\tb: 1\n"),
    "merges_of_a_big_mapping": lambda: _repeat(
        "  - {<<: *b}\n", "b: &b {" + ", ".join(f"k{i}: {i}" for i in range(1000)) + "}\nl:\n"
    ),
    # Just under MAX_NODES: thousands of layers with two errors each, or duplicate keys.
    "layers_with_errors": lambda: (
        _LAYERS
        + "    - {type: Dense, units: -3, activation: relx}\n" * (loader.MAX_NODES // 7 - 100)
    ),
    "layers_with_typos": lambda: (
        _LAYERS + "    - {type: Dense, unitz: 3, activaton: relu}\n" * (loader.MAX_NODES // 7 - 100)
    ),
    "layers_with_yaml11": lambda: (
        _LAYERS + "    - {type: Dense, units: 3, use_bias: yes}\n" * (loader.MAX_NODES // 7 - 100)
    ),
    "duplicate_keys": lambda: "a: 1\n" * (loader.MAX_NODES // 2 - 100),
    "valid_and_big": lambda: (
        _LAYERS
        + "    - {type: Dense, units: 3, activation: relu}\n" * (loader.MAX_NODES // 7 - 100)
    ),
}


SLOW_ADVERSARIAL = {"layers_with_typos", "layers_with_yaml11", "duplicate_keys", "long_flow_list"}
"""Like the others, only slower to run: -m slow."""


@pytest.mark.parametrize(
    "kind",
    [pytest.param(k, marks=pytest.mark.slow) if k in SLOW_ADVERSARIAL else k for k in ADVERSARIAL],
)
def test_large_adversarial_file_is_answered_with_bounded_cpu(kind, specc, tmp_path):
    """A clear answer within 4 s of CPU time (a blow-up would take minutes). CPU, not wall
    time, which a busy machine stretches ten-fold; the quiet-machine promise (2 s) is
    measured in bench/adversarial_speed.py."""
    text = ADVERSARIAL[kind]()
    assert len(text.encode()) <= loader.MAX_BYTES
    (tmp_path / "big.yaml").write_text(text)
    start = time.process_time()
    run = specc("validate", "big.yaml", cwd=tmp_path)
    cpu = time.process_time() - start
    assert run.exit_code == (0 if kind == "valid_and_big" else 1), run.stderr[:300]
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr
    assert cpu < 4.0, f"{kind}: {cpu:.2f} s of CPU"


def test_dump_yaml_round_trips_under_yaml_1_2_and_1_1():
    """PyYAML alone writes ``1e3`` plain, which YAML 1.2 reads back as a number."""
    strings = ["1e3", "0o10", "yes", "No", "010", "1_000", "1:30", ".5", "+1", "0x1F", "~",
               "null", "", "true", ".inf", ".NaN", "2018-01-01", "<<", "=", "plain", "é"]  # fmt: skip
    data = {"s": strings, "n": [1e-05, 10, -0.5, math.inf, None, True, 2**70]}
    text = loader.dump_yaml(data, sort_keys=False)
    assert loader.load_text(text).data == data
    assert yaml.safe_load(text) == data
