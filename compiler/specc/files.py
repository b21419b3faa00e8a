"""Writing outputs so that nothing is ever half-written: temp file, fsync, rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

SPEC_SUFFIXES = (".yaml", ".yml")


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Replace ``path`` with ``data`` in one step; on failure the old file is untouched."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)
        fh.flush()
        os.fsync(fh.fileno())


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path beside ``path``; rename it over ``path`` only if the block succeeds.

    For writers that insist on a file name (``model.save``). The temp name keeps the
    suffix so such writers accept it.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent
    )
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def find_specs(path: str | os.PathLike[str]) -> list[Path]:
    """A file as given, or every ``*.yaml``/``*.yml`` under a folder (sorted, hidden skipped)."""
    p = Path(path)
    if not p.is_dir():
        return [p]
    return sorted(
        f
        for f in p.rglob("*")
        if f.suffix in SPEC_SUFFIXES
        and f.is_file()
        and not any(part.startswith(".") for part in f.relative_to(p).parts)
    )
