"""The summary table drawn directly equals the one rich draws (issue 19's summary speed).

Keras prints ``model.summary()`` through rich; so did specc, at about 0.4 s for a model of
1,000 layers. ``table.as_text`` now draws plain tables itself and leaves the rest to rich:
both must give the same text, for every width and both boxes. (The tests that compare
``as_text`` with Keras' own text, differential ones included, check the result too.)
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import yaml

import specc.backends.table as table
from specc.analysis.pipeline import compile_file, compile_text
from specc.applications import application_document
from tests.helpers import ROOT, SPECS

WIDTHS = (None, 30, 40, 57, 88, 107, 150)

WRAPPING = """
name: wrapping
model:
  name: a model whose name is longer than some of the widths drawn here, as Keras allows
  inputs: [{name: a_rather_long_input_name_for_a_table_column, shape: [4, 4, 3]}]
  layers:
    - {type: Conv2D, filters: 3, kernel_size: 1, padding: same, name: an_extraordinarily_long_layer_name_that_fits_no_column}
    - {type: Conv2D, filters: 3, kernel_size: 1, padding: same, inputs: [a_rather_long_input_name_for_a_table_column]}
    - {type: Conv2D, filters: 3, kernel_size: 1, padding: same, inputs: [conv2d]}
    - {type: Concatenate, inputs: [an_extraordinarily_long_layer_name_that_fits_no_column, conv2d, conv2d_1, a_rather_long_input_name_for_a_table_column]}
    - {type: Dense, units: 123456}
"""
"""Cells that wrap at spaces, words longer than their column (ellipsis), a Connected-to
list over several lines, a parameter count wider than a narrow column."""


def _graphs() -> dict[str, object]:
    graphs = {path.stem: compile_file(path).graph for path in sorted(SPECS.glob("*.yaml"))}
    graphs["wrapping"] = compile_text(WRAPPING).graph
    unicode = yaml.safe_load(WRAPPING)
    unicode["model"]["name"] = "modèle"  # a wide or non-ASCII cell: rich draws it
    graphs["unicode"] = compile_text(yaml.safe_dump(unicode)).graph
    return graphs


GRAPHS = _graphs()


def _by_rich(graph: object, width: int | None, ascii_only: bool, monkeypatch) -> str:
    with monkeypatch.context() as patch:
        patch.setattr(table, "_drawn", lambda *args: None)
        return table.as_text(graph, width, ascii_only=ascii_only)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", GRAPHS)
@pytest.mark.parametrize("ascii_only", [False, True])
def test_the_drawn_table_is_the_one_rich_draws(name, ascii_only, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    for width in WIDTHS:
        ours = table.as_text(GRAPHS[name], width, ascii_only=ascii_only)  # type: ignore[arg-type]
        assert ours == _by_rich(GRAPHS[name], width, ascii_only, monkeypatch), (name, width)


NESTED = """
name: transfer
model:
  input: {shape: [32, 32, 3]}
  layers:
    - {type: MobileNet, include_top: false, input_shape: [32, 32, 3], alpha: 0.25, weights: null}
    - {type: GlobalAveragePooling2D}
    - {type: Dense, units: 2, activation: softmax}
"""


@pytest.mark.parametrize("ascii_only", [False, True])
def test_the_drawn_expanded_table_is_the_one_rich_draws(ascii_only, monkeypatch):
    """``--expand-nested``: a backbone's layers after its row, marked with rich's
    one-cell corner, drawn without rich too."""
    graph = compile_text(NESTED).graph
    drawn = []
    original = table._drawn
    monkeypatch.setattr(table, "_drawn", lambda *args: drawn.append(original(*args)) or drawn[-1])
    for width in WIDTHS:
        ours = table.as_text(graph, width, ascii_only=ascii_only, expand_nested=True)
        with monkeypatch.context() as patch:
            patch.setattr(table, "_drawn", lambda *args: None)
            theirs = table.as_text(graph, width, ascii_only=ascii_only, expand_nested=True)
        assert ours == theirs, width
    assert "└ conv_dw_1 (DepthwiseConv2D)" in ours
    # rich wraps the totals at 30 columns (34 for the text): it draws that one
    assert [text is None for text in drawn] == [width == 30 for width in WIDTHS]


def test_plain_tables_are_drawn_without_rich(monkeypatch):
    """The fast path is the usual one (else the test above proves nothing): every plain
    table here, down to 40 columns; a non-ASCII one goes to rich, and so does a title
    longer than the line (rich wraps it)."""
    drawn, to_rich = [], []

    def spy(*args: object) -> str | None:
        text = original(*args)  # type: ignore[arg-type]
        (drawn if text is not None else to_rich).append(args[0])
        return text

    original = table._drawn
    monkeypatch.setattr(table, "_drawn", spy)
    monkeypatch.setenv("COLUMNS", "124")  # width None: 120 columns, whatever runs the test
    for graph in GRAPHS.values():
        for width in (None, 40, 88, 150):
            table.as_text(graph, width)  # type: ignore[arg-type]
    long_title = 'Model: "a model whose name is longer than some of the widths drawn here, as '
    assert to_rich == [long_title + 'Keras allows"'] + ['Model: "modèle"'] * 4
    assert len(drawn) == 4 * len(GRAPHS) - 5


def test_the_table_costs_less_than_resolving_the_graph():
    """NASNetLarge (1,041 layers): rich took 0.35 s to draw what took 0.05 s to resolve;
    drawn directly it takes less than resolving (CPU time in one process)."""
    document = application_document("NASNetLarge", weights=None)
    start = time.process_time()
    graph = compile_text(yaml.safe_dump(document)).graph
    resolved = time.process_time() - start
    start = time.process_time()
    table.as_text(graph, 108)
    drawn = time.process_time() - start
    assert drawn < resolved / 2, (drawn, resolved)


def test_summary_of_a_large_application_stays_light(tmp_path):
    """`specc summary` of NASNetLarge as a whole process: neither rich (0.1 s to import,
    0.35 s to draw) nor Keras is imported, and its CPU time stays well under the
    issue's 1 s (bench/applications_speed.py measures it against Python's start)."""
    path = tmp_path / "nasnet_large.yaml"
    path.write_text(yaml.safe_dump(application_document("NASNetLarge", weights=None)))
    probe = (
        "import resource, sys\n"
        "from specc.cli import main\n"
        "sys.argv = ['specc', 'summary', sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "used = resource.getrusage(resource.RUSAGE_SELF)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('rich', 'keras', 'tensorflow'))\n"
        "print('PROBE', used.ru_utime + used.ru_stime, heavy, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert "Total params: 88,949,818" in done.stdout, done.stderr
    cpu, heavy = done.stderr.split("PROBE ")[1].split(" ", 1)
    assert heavy.strip() == "[]"
    assert float(cpu) < 3.0  # about 0.55 s; generous for a busy machine
