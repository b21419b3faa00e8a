"""The suite's own rules (issue 18): test files share code through ``tests/helpers.py`` (and
the other shared modules), never by importing another test file or conftest.py; and no test
reads a wall clock, which a busy machine can break: CPU time, a count, or a benchmark in
``bench/`` instead (hang guards live in helpers.py, with generous limits)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import ROOT

TESTS = ROOT / "tests"
WALL_CLOCKS = {"time", "time_ns", "perf_counter", "perf_counter_ns", "monotonic", "monotonic_ns"}
"""``time``'s wall clocks; ``process_time`` and ``resource.getrusage`` are fine."""


def _is_test_module(name: str) -> bool:
    """``tests.test_x``, ``test_x``, ``tests.conftest``, ``conftest`` (and their insides)."""
    parts = name.split(".")
    if parts[0] == "tests":
        parts = parts[1:]
    return bool(parts) and (parts[0].startswith("test_") or parts[0] == "conftest")


def cross_test_imports(source: str, filename: str) -> list[str]:
    """Each import of another test module or of conftest.py, as ``file:line: what``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if (node.level == 0 and base == "tests") or (node.level and not base):
                names = [alias.name for alias in node.names]  # from tests import test_x
            else:
                names = [base]
        found += [f"{filename}:{node.lineno}: imports {n}" for n in names if _is_test_module(n)]
    return found


def wall_clock_reads(source: str, filename: str) -> list[str]:
    """Each use of ``time.time``/``perf_counter``/``monotonic`` (as an attribute of the
    ``time`` module or imported from it), and ``datetime.now``, as ``file:line: what``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Attribute) and node.attr in ("now", "utcnow"):
            found.append(f"{filename}:{node.lineno}: datetime.{node.attr}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "time" and node.attr in WALL_CLOCKS:
                found.append(f"{filename}:{node.lineno}: time.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "time":
            for alias in node.names:
                if alias.name in WALL_CLOCKS:
                    found.append(f"{filename}:{node.lineno}: from time import {alias.name}")
    return sorted(found, key=lambda s: int(s.split(":")[1]))


def _sources(pattern: str) -> list[Path]:
    files = sorted(TESTS.rglob(pattern))
    assert files, f"no {pattern} under {TESTS}"
    return files


def test_the_checks_see_what_they_look_for():
    """Not vacuous: each form of a forbidden import or clock read is reported."""
    bad_imports = (
        "from tests.test_train import epoch_ticks\nimport tests.test_loader\n"
        "from tests.conftest import ROOT\nfrom tests import test_codegen\n"
        "from .test_cli import x\nfrom test_fuzz import y\nimport conftest\n"
    )
    assert len(cross_test_imports(bad_imports, "f.py")) == 7
    fine = "from tests.helpers import ROOT\nfrom tests.keras_helpers import keras\nimport time\n"
    assert cross_test_imports(fine, "f.py") == []
    clocks = (
        "import time, datetime\na = time.time()\nb = time.perf_counter()\n"
        "c = time.monotonic()\nfrom time import perf_counter_ns\nd = datetime.datetime.now()\n"
    )
    assert wall_clock_reads(clocks, "f.py") == [
        "f.py:2: time.time", "f.py:3: time.perf_counter", "f.py:4: time.monotonic",
        "f.py:5: from time import perf_counter_ns", "f.py:6: datetime.now",
    ]  # fmt: skip
    assert wall_clock_reads("import time\ncpu = time.process_time()\n", "f.py") == []


def test_no_test_file_imports_another_test_file_or_conftest():
    """Shared code lives in tests/helpers.py (fixtures in conftest.py, used by name)."""
    found = []
    for path in _sources("*.py"):
        found += cross_test_imports(path.read_text(), str(path.relative_to(ROOT)))
    assert not found, "import these from tests/helpers.py instead:\n" + "\n".join(found)


def test_no_test_reads_a_wall_clock():
    """A busy machine stretches wall time: bound CPU time or a count, or time it in bench/."""
    found = []
    for path in _sources("test_*.py"):
        found += wall_clock_reads(path.read_text(), str(path.relative_to(ROOT)))
    assert not found, (
        "wall-clock reads in tests (use time.process_time(), a count, or a bench/ script; "
        "hang guards: tests.helpers.deadline / wait_until):\n" + "\n".join(found)
    )
