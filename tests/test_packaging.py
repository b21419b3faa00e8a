"""What ships: the sdist can run its own tests, the licence is declared, the hooks fit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT

SKIP = {".venv", ".git", "build", "dist", "runs", ".pytest_cache", ".hypothesis", ".ruff_cache"}
# ruff writes a .ruff_cache beside each ruff.toml it reads (generated/, tests/golden/expected/)
CACHES = {"__pycache__", ".hypothesis", ".pytest_cache", ".ruff_cache", ".mypy_cache"}


def _shipped_tree(root: Path) -> list[str]:
    """Every file the tests need, relative to the repository root."""
    wanted = [
        "LICENSE",
        "README.md",
        "pyproject.toml",
        "specc.schema.json",
        ".pre-commit-hooks.yaml",
    ]
    for folder in ("tests", "specs", "generated", "compiler/specc"):
        for path in (root / folder).rglob("*"):
            parts = path.relative_to(root).parts
            if path.is_file() and not CACHES & set(parts) and path.suffix != ".pyc":
                wanted.append(path.relative_to(root).as_posix())
    return sorted(wanted)


def _build_sdist(tmp_path: Path) -> Path:
    """Build the sdist from a clean copy (no network: --no-isolation); return the tarball."""
    src = tmp_path / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=lambda folder, names: [
            n
            for n in names
            if n in SKIP | CACHES
            or n.endswith((".egg-info", ".pyc"))
            or (Path(folder) == ROOT and n.startswith(".") and (ROOT / n).is_dir())  # caches
        ],
    )
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(tmp_path)],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (sdist,) = tmp_path.glob("specc-*.tar.gz")
    return sdist


def test_sdist_holds_what_its_tests_need(tmp_path):
    with tarfile.open(_build_sdist(tmp_path)) as tar:
        top = tar.getnames()[0].split("/")[0]
        names = {n.removeprefix(f"{top}/") for n in tar.getnames()}
        pkg_info = tar.extractfile(f"{top}/PKG-INFO").read().decode()  # type: ignore[union-attr]
    missing = [f for f in _shipped_tree(ROOT) if f not in names]
    assert not missing, f"the sdist lacks {missing[:20]}"
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert "License-Expression: MIT" in pkg_info.splitlines()
    assert "License-File: LICENSE" in pkg_info.splitlines()


@pytest.mark.slow
def test_sdist_runs_its_own_tests(tmp_path):
    """The unpacked sdist's tests pass (the TF-free ones; the installed specc is used)."""
    with tarfile.open(_build_sdist(tmp_path)) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    (folder,) = (tmp_path / "unpacked").iterdir()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow",
         "tests/test_cases.py", "tests/test_loader.py", "tests/test_packaging.py",
         "-k", "not keras and not sdist"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_licence_is_mit():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text


def _hook(hook_id: str) -> dict:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == hook_id]
    return hook


def _runs_on(hook: dict, path: str) -> bool:
    """pre-commit's filter: ``re.search`` of files, minus exclude."""
    if not re.search(hook.get("files", ""), path):
        return False
    return not (hook.get("exclude") and re.search(hook["exclude"], path))


def test_validate_hook_runs_on_specs_only():
    hook = _hook("specc-validate")
    for spec in ("specs/mnist_cnn.yaml", "specs/vision/resnet.yml", "specs/a.yaml"):
        assert _runs_on(hook, spec), spec
    for other in (
        "docker-compose.yaml",
        "mkdocs.yml",
        ".github/workflows/ci.yml",
        ".pre-commit-config.yaml",
        "deploy/specs/values.yaml",
        "my_specs/x.yaml",
        "specs/README.md",
        "specs/notes.yaml.bak",
    ):
        assert not _runs_on(hook, other), other


def test_every_spec_in_this_repo_is_hooked():
    hook = _hook("specc-validate")
    for spec in (ROOT / "specs").rglob("*.y*ml"):
        assert _runs_on(hook, spec.relative_to(ROOT).as_posix())
