"""No dead code in the package: vulture over the package, tests and benchmarks together (so a
helper only a test uses counts as used)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

IGNORED_DECORATORS = "@*validator,@*serializer,@cli.command,@cli.group,@click.*,@pytest.*"
"""Called by Pydantic, click and pytest, never by name."""

IGNORED_NAMES = "writable,readable,seekable"
"""``io.RawIOBase`` methods that Python's own buffered writers call (cli's ``_WholeWrites``)."""

KINDS = ("unused function", "unused method", "unused import", "unused property", "unused variable")
"""What vulture reports that is surely dead here. Classes are not: every layer declaration
is found by the catalog from its ``type`` (layers/base.py's ``Catalog``), never by name;
class-level variables are not either: they are Pydantic fields."""


def dead(report: str) -> list[str]:
    """The lines of a vulture report about ``compiler/specc`` of the kinds above, a
    variable only when it is a module's (unindented).

    >>> dead("compiler/specc/a.py:3: unused function 'f' (60% confidence)\\n"
    ...      "tests/t.py:1: unused function 'g' (60% confidence)")
    ["compiler/specc/a.py:3: unused function 'f' (60% confidence)"]
    """
    found = []
    for line in report.splitlines():
        path, _, rest = line.partition(":")
        if not path.startswith("compiler/specc/") or not any(k in rest for k in KINDS):
            continue
        if "unused variable" in rest:
            number = int(rest.split(":")[0])
            source = (ROOT / path).read_text(encoding="utf-8").splitlines()[number - 1]
            if source[:1].isspace():
                continue
        found.append(line)
    return found


def test_vulture_finds_no_dead_code_in_the_package() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vulture", "compiler/specc", "tests", "bench",
         "--min-confidence", "60", "--ignore-decorators", IGNORED_DECORATORS, "--ignore-names", IGNORED_NAMES],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert "No module named vulture" not in done.stderr, done.stderr
    assert dead(done.stdout) == []
