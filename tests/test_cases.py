"""One folder per case under tests/cases: the spec and what specc must say about it.

``stderr.txt`` holds the exact error lines of ``specc validate spec.yaml`` (exit 1, or
the code in ``exit_code``; warnings of a valid spec with its ``ok`` line in ``stdout.txt``);
``expected.json`` the layer table of ``specc summary``.
Regenerate a case's expectation only after reading the new message.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import CASES

CASE_DIRS = sorted(p for p in CASES.iterdir() if (p / "spec.yaml").exists())
ERROR_CASES = [p for p in CASE_DIRS if (p / "stderr.txt").exists()]
TABLE_CASES = [p for p in CASE_DIRS if (p / "expected.json").exists()]


def test_every_case_has_an_expectation():
    assert {p.name for p in CASE_DIRS} == {p.name for p in ERROR_CASES + TABLE_CASES}
    assert len(ERROR_CASES) >= 25


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda p: p.name)
def test_error_case(case, specc):
    expected_code = int((case / "exit_code").read_text()) if (case / "exit_code").exists() else 1
    run = specc("validate", "spec.yaml", cwd=case)
    assert run.stderr == (case / "stderr.txt").read_text()
    assert run.exit_code == expected_code
    stdout = case / "stdout.txt"  # a valid spec with warnings: its "ok" line
    assert run.stdout == (stdout.read_text() if stdout.exists() else "")
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("case", TABLE_CASES, ids=lambda p: p.name)
def test_table_case(case, specc):
    run = specc("summary", "spec.yaml", "--format", "json", cwd=case)
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout) == json.loads((case / "expected.json").read_text())
