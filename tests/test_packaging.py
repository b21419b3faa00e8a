"""What ships: the sdist can run its own tests, the licence is declared, the hooks fit."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT, SPECS

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
        "mkdocs.yml",
    ]
    for folder in ("tests", "specs", "generated", "compiler/specc", "docs"):
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


def test_wheel_carries_the_block_libraries(tmp_path):
    """The wheel (what pip installs) holds every shipped block library (``use:
    [specc/transformer]`` reads them from the installed package) and the templates."""
    import zipfile

    sdist = _build_sdist(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path)],
        cwd=tmp_path / "src",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("specc-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = sorted((ROOT / "compiler" / "specc" / "library").glob("*.yaml"))
    assert len(shipped) >= 3
    for path in shipped:
        assert f"specc/library/{path.name}" in names, path.name
    assert "specc/backends/templates/train_script.py.jinja" in names or any(
        n.endswith(".jinja") for n in names
    )
    with tarfile.open(sdist) as tar:  # the sdist carries them too, for a build from it
        assert {p.name for p in shipped} <= {Path(n).name for n in tar.getnames()}


SDIST_TESTS = ["tests/test_cases.py", "tests/test_loader.py", "tests/test_packaging.py",
               "tests/test_cli.py", "tests/test_keras_build.py", "tests/test_emitted_script.py"]  # fmt: skip
"""TF-free tests and Keras ones: those skip, saying why, where Keras is not installed."""


@pytest.mark.slow
def test_sdist_runs_its_own_tests(tmp_path):
    """The unpacked sdist's tests pass (the installed specc is used) in a venv without
    TensorFlow and Keras: the tests that need them skip with the reason (they failed)."""
    from tests.without import PYTEST, run_without

    with tarfile.open(_build_sdist(tmp_path)) as tar:
        tar.extractall(tmp_path / "unpacked", filter="data")
    (folder,) = (tmp_path / "unpacked").iterdir()
    proc = run_without(
        ["tensorflow", "keras", "jax"],
        "-q", "-p", "no:cacheprovider", "-n", "0", "-m", "not slow", "-rs", *SDIST_TESTS,
        "-k", "not sdist",
        program=PYTEST, cwd=folder, timeout=1200,
        env={"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = proc.stdout.splitlines()[-1]
    assert re.search(r"\d+ passed, \d+ skipped", summary), summary
    assert "needs Keras, which is not installed: pip install 'specc[keras]'" in proc.stdout


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


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repo), *args],
                   check=True, capture_output=True)  # fmt: skip


def test_emit_check_hook_ignores_specs_git_does_not_track(tmp_path):
    """pre-commit leaves untracked files in the work tree: a new spec not yet added made
    every unrelated commit fail (its generated script is missing). Staged, it counts."""
    from tests.helpers import run_specc

    hook = _hook("specc-emit-check")
    argv = [*hook["entry"].split()[1:], *hook["args"]]
    repo = tmp_path / "repo"
    (repo / "specs").mkdir(parents=True)
    shutil.copy(ROOT / "specs" / "mnist_cnn.yaml", repo / "specs")
    assert run_specc("emit-code", "specs", cwd=repo).exit_code == 0
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "specs and their scripts")
    text = (repo / "specs" / "mnist_cnn.yaml").read_text().replace("name: mnist_cnn", "name: wip")
    (repo / "specs" / "wip.yaml").write_text(text)

    run = run_specc(*argv, cwd=repo)
    assert run.exit_code == 0, run.stderr
    assert run.stdout == "1 file(s) fresh\n"
    assert run.stderr == "note: left out 1 spec git does not track: specs/wip.yaml\n"

    _git(repo, "add", "specs/wip.yaml")  # about to be committed: its script must be too
    run = run_specc(*argv, cwd=repo)
    assert run.exit_code == 1
    assert "+++ generated/wip.py (from spec)" in run.stdout


def test_emit_code_tracked_outside_git_is_exit_2(tmp_path):
    from tests.helpers import run_specc

    shutil.copy(ROOT / "specs" / "mnist_cnn.yaml", tmp_path)
    run = run_specc("emit-code", "--check", "--tracked", ".", cwd=tmp_path)
    assert run.exit_code == 2
    assert run.stderr == (
        f"{tmp_path}: error: --tracked asks git which specs it tracks: fatal: not a git "
        "repository (or any of the parent directories): .git\n"
    )


LIGHT = """\
import json
import importlib.util

from specc.cli import cli

codes = []
for argv in json.loads(sys.argv[1]):
    try:
        cli.main(argv, prog_name="specc")
    except SystemExit as exc:
        codes.append(exc.code)
heavy = ("numpy", "matplotlib", "PIL", "keras", "tensorflow", "jax", "torch", "optuna")
absent = [name for name in heavy if importlib.util.find_spec(name) is None]
print(json.dumps({"codes": codes, "absent": absent}), file=sys.stderr)
"""


def test_the_light_core_validates_summarises_and_checks_emitted_code(tmp_path):
    """`pip install specc` (no extras: the pre-commit hooks) holds pydantic, PyYAML, Jinja2,
    click and rich and what they need; matplotlib, pillow and numpy (223 MB with the rest)
    were core dependencies only `diagram` and `report` draw with."""
    import tomllib
    from importlib.metadata import distribution

    from tests.without import PRELUDE, installed_entries, run_without

    core = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    keep = installed_entries(core) | {Path(str(f)).parts[0] for f in distribution("specc").files}
    commands = [
        ["validate", "specs"],
        ["summary", "specs/mnist_cnn.yaml"],
        ["summary", "--format", "json", "specs/two_inputs.yaml"],
        ["expand", "specs/resnet20_cifar10.yaml"],
        ["diff", "specs/mnist_cnn.yaml", "specs/mnist_cnn_batchnorm.yaml"],
        ["schema", "-o", str(tmp_path / "schema.json")],
        ["emit-code", "--check", "specs"],
        ["emit-code", "specs", "-o", str(tmp_path / "generated")],
    ]
    proc = run_without([], json.dumps(commands), program=PRELUDE + LIGHT, keep=keep)
    result = json.loads(proc.stderr.splitlines()[-1])
    assert result["absent"] == ["numpy", "matplotlib", "PIL", "keras", "tensorflow", "jax",
                                "torch", "optuna"], "the light core installs them"  # fmt: skip
    assert result["codes"] == [0] * len(commands), proc.stderr[-3000:]
    assert len(list((tmp_path / "generated").glob("*.py"))) == len(list(SPECS.glob("*.yaml")))
