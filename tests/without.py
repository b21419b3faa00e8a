"""Run specc (or pytest) in a process where some installed packages are not installed.

Every ``site-packages`` folder on ``sys.path`` is replaced by a folder of links to all it
holds but the hidden packages (and their ``.dist-info``), so ``import``,
``importlib.util.find_spec`` and ``importlib.metadata`` all see them missing, exactly as
in an environment that never installed them (keras without TensorFlow, specc without
matplotlib). Nothing is downloaded; the links live in a temporary folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

PRELUDE = """\
import os
import sys

hidden, shadows = sys.argv[1].split(","), sys.argv[2]
for i, folder in enumerate(list(sys.path)):
    if folder.endswith("site-packages") and os.path.isdir(folder):
        shadow = os.path.join(shadows, str(i))
        os.mkdir(shadow)
        for entry in os.listdir(folder):
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


def run_without(
    hidden: Sequence[str],
    *argv: str,
    program: str = SPECC,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """``specc ARGV`` (or ``program``) with the packages ``hidden`` not installed."""
    with tempfile.TemporaryDirectory() as shadows:
        return subprocess.run(
            [sys.executable, "-c", program, ",".join(hidden), shadows, *argv],
            capture_output=True,
            text=True,
            cwd=cwd or Path(__file__).resolve().parents[1],
            env={**os.environ, **(env or {})},
            timeout=timeout,
        )
