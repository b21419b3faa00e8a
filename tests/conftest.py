"""Shared helpers: the repo layout and an in-process ``specc`` runner."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
CASES = ROOT / "tests" / "cases"
MNIST = ROOT.parent / "shared" / "data" / "mnist.npz"


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


def run_specc(*args: str, cwd: Path | None = None) -> Run:
    """Run the CLI in-process (fast) and capture stdout/stderr separately."""
    from specc.cli import cli

    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, list(args), prog_name="specc", catch_exceptions=False)
    finally:
        os.chdir(old)
    return Run(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def specc():
    return run_specc
