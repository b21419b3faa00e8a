"""What may import what: the package's floors (pyproject's import-linter contract) and no
private name (``_x``) used across packages."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "compiler" / "specc"

FLOORS = [
    "specc.cli",
    "specc.training",
    "specc.backends",
    "specc.analysis | specc.files",
    "specc.language",
    "specc.layers",
    "specc.applications",
    "specc.terms",
    "specc.errors",
]
"""Top to bottom, as the README's pipeline says: language -> analysis -> backends, training
uses a backend, the language reads the layer catalog, and both are written in terms/; the
applications' graphs are plain data below the catalog."""


def _unit(module: str) -> str:
    """The package a module belongs to: ``specc.language.schema`` -> ``specc.language``;
    a top-level module (``specc.files``) is its own."""
    return ".".join(module.split(".")[:2])


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str) -> bool:
    base = PACKAGE.parent.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def cross_package_private_uses(source: str, module: str) -> list[str]:
    """``from specc.x import _y`` and ``mod._y`` (``mod`` a specc module imported here)
    where ``specc.x``/``mod`` is in another package than ``module``.

    >>> cross_package_private_uses("from specc.files import _pid_alive", "specc.training.sweep")
    ['1: _pid_alive from specc.files']
    >>> cross_package_private_uses("from specc.language import loader\\nloader._KINDS", "specc.cli")
    ['2: loader._KINDS (specc.language.loader)']
    >>> cross_package_private_uses("from specc.training.report import _pyplot", "specc.training.sweep")
    []
    """
    tree = ast.parse(source)
    found, aliases = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("specc"):
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                if _is_module(target):
                    aliases[alias.asname or alias.name] = target
                elif _private(alias.name) and _unit(node.module) != _unit(module):
                    found.append(f"{node.lineno}: {alias.name} from {node.module}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("specc.") and alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and _private(node.attr)
            and _unit(aliases[node.value.id]) != _unit(module)
        ):
            found.append(f"{node.lineno}: {node.value.id}.{node.attr} ({aliases[node.value.id]})")
    return sorted(found)


def test_no_private_name_is_used_across_packages() -> None:
    """A private name is free to change; another package relying on it is a hidden arrow."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        found += [f"{path.relative_to(ROOT)}:{use}" for use in
                  cross_package_private_uses(path.read_text(encoding="utf-8"), module)]  # fmt: skip
    assert found == []


def test_the_floors_are_declared_in_pipeline_order() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    assert [c["layers"] for c in contracts if c["type"] == "layers"] == [FLOORS]
    declared = {m.strip() for floor in FLOORS for m in floor.split("|")}
    packages = {_module_name(p) for p in PACKAGE.glob("*/__init__.py")}
    modules = {_module_name(p) for p in PACKAGE.glob("*.py")} - {"specc", "specc.__main__"}
    assert declared == packages | modules  # every package and module is on a floor


def test_lint_imports_finds_no_upward_import() -> None:
    """The contract, checked as `make test` checks it (lazy imports inside functions count)."""
    exe = Path(sys.executable).with_name("lint-imports")
    command = [str(exe)] if exe.exists() else [shutil.which("lint-imports") or "lint-imports"]
    done = subprocess.run(
        [*command, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout  # the floors; Keras imported in two places


def test_no_two_modules_share_a_name() -> None:
    """A module's name says what is inside, so two modules never share one (there were
    three ``layout``: diagram placement, data-file arrays, and codegen's line breaking)."""
    stems: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.stem not in ("__init__", "__main__"):
            stems.setdefault(path.stem, []).append(str(path.relative_to(PACKAGE)))
    assert {stem: paths for stem, paths in stems.items() if len(paths) > 1} == {}
