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

PRELUDE = """\
import json
import os
import sys

shown, shadows = json.loads(sys.argv[1]), sys.argv[2]
hidden, kept = shown.get("hide", []), shown.get("keep")
for i, folder in enumerate(list(sys.path)):
    if folder.endswith("site-packages") and os.path.isdir(folder):
        shadow = os.path.join(shadows, str(i))
        os.mkdir(shadow)
        for entry in os.listdir(folder):
            if kept is not None and entry not in kept:
                continue
            if not any(entry == h or entry.startswith(h + "-") for h in hidden):
                os.symlink(os.path.join(folder, entry), os.path.join(shadow, entry))
        sys.path[i] = shadow
del sys.argv[1:3]
"""

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
    shown = json.dumps({"hide": list(hidden), "keep": None if keep is None else sorted(keep)})
    with tempfile.TemporaryDirectory() as shadows:
        return subprocess.run(
            [sys.executable, "-c", program, shown, shadows, *argv],
            capture_output=True,
            text=True,
            cwd=cwd or Path(__file__).resolve().parents[1],
            env={**os.environ, **(env or {})},
            timeout=timeout,
        )
