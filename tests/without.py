"""Run specc (or pytest) in a process where some installed packages are not installed.

Every ``site-packages`` folder on ``sys.path`` is replaced by a folder of links to all it
holds but the hidden packages (and their ``.dist-info``), so ``import``,
``importlib.util.find_spec`` and ``importlib.metadata`` all see them missing, exactly as
in an environment that never installed them (keras without TensorFlow, specc without
matplotlib). Nothing is downloaded; the links live in a temporary folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

SITE = """\
import json
import os
import sys
import tempfile

_shown = json.loads(os.environ["SPECC_TEST_SHADOW"])
_hidden, _kept = _shown["hide"], _shown["keep"]
_shadows = tempfile.mkdtemp(dir=_shown["dir"])
for _i, _folder in enumerate(list(sys.path)):
    if _folder.endswith("site-packages") and os.path.isdir(_folder):
        _shadow = os.path.join(_shadows, str(_i))
        os.mkdir(_shadow)
        for _entry in os.listdir(_folder):
            if _kept is not None and _entry not in _kept:
                continue
            if not any(_entry == h or _entry.startswith(h + "-") for h in _hidden):
                os.symlink(os.path.join(_folder, _entry), os.path.join(_shadow, _entry))
        sys.path[_i] = _shadow
"""
"""A ``sitecustomize`` (found through PYTHONPATH, run by every Python started with it,
children included: a script or ``specc`` run by a test sees what its parent sees)."""

PRELUDE = "import json\nimport os\nimport sys\n"
SPECC = PRELUDE + "from specc.cli import main\n\nmain(sys.argv[1:])\n"
PYTEST = PRELUDE + "import pytest\n\nsys.exit(pytest.main(sys.argv[1:]))\n"
SCRIPT = (
    PRELUDE
    + "import runpy\n\nsys.argv = sys.argv[1:]\nrunpy.run_path(sys.argv[0], run_name='__main__')\n"
)
"""A Python script: ``run_without(hidden, script, *args, program=SCRIPT)``."""


def installed_entries(requirements: Sequence[str]) -> set[str]:
    """The site-packages entries (folders, modules, .dist-info) of the distributions
    ``requirements`` name and of everything they require in turn, extras left out:
    what ``pip install`` of those requirements puts there."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement

    entries: set[str] = set()
    seen: set[str] = set()
    todo = [Requirement(text) for text in requirements]
    while todo:
        req = todo.pop()
        name = req.name.lower().replace("_", "-")
        if name in seen or (req.marker is not None and not req.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        try:
            dist = distribution(name)
        except PackageNotFoundError:  # a requirement of this platform's that is not here
            continue
        entries |= {Path(str(f)).parts[0] for f in dist.files or []}
        todo += [Requirement(text) for text in dist.requires or []]
    return entries


def run_without(
    hidden: Sequence[str],
    *argv: str,
    program: str = SPECC,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    keep: Sequence[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``specc ARGV`` (or ``program``) with the packages ``hidden`` not installed, or with
    only the site-packages entries ``keep`` installed."""
    with tempfile.TemporaryDirectory() as shadows:
        (Path(shadows) / "sitecustomize.py").write_text(SITE)
        shown = {"hide": list(hidden), "keep": None if keep is None else sorted(keep)}
        if "SPECC_TEST_SHADOW" in os.environ:  # inside such a process: hide what it hides too
            outer = json.loads(os.environ["SPECC_TEST_SHADOW"])
            shown["hide"] += outer["hide"]
            shown["keep"] = shown["keep"] if shown["keep"] is not None else outer["keep"]
        path = os.pathsep.join(p for p in (shadows, os.environ.get("PYTHONPATH")) if p)
        env = {
            **(env or {}),
            "PYTHONPATH": path,
            "SPECC_TEST_SHADOW": json.dumps(shown | {"dir": shadows}),
        }
        return subprocess.run(
            [sys.executable, "-c", program, *argv],
            capture_output=True,
            text=True,
            cwd=cwd or Path(__file__).resolve().parents[1],
            env={**os.environ, **(env or {})},
            timeout=timeout,
        )
