"""Writing outputs so that nothing is ever half-written: temp file, fsync, rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from specc.errors import Diagnostic

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


def find_specs(path: str | os.PathLike[str]) -> tuple[list[Path], list[Diagnostic]]:
    """A file as given, or every ``*.yaml``/``*.yml`` under a folder (sorted, hidden skipped).

    Also returns one diagnostic per folder that cannot be listed, so an unreadable
    subfolder is reported instead of silently checking less. Entries with a spec suffix
    that are not regular files (FIFOs, broken or looping symlinks) are returned as files:
    reading them refuses each with its own message. Symlinks to folders are not followed.
    """
    from specc.loader import display_path

    root = Path(path)
    if not root.is_dir():  # also False for a broken link or a symlink loop
        return [root], []
    found: list[Path] = []
    problems: list[Diagnostic] = []
    folders = [root]
    while folders:
        folder = folders.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            why = exc.strerror or str(exc)
            problems.append(Diagnostic(f"cannot read folder: {why}", file=display_path(folder)))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            entry_path = Path(entry.path)
            if _is_dir(entry, follow=False):
                folders.append(entry_path)
            elif entry_path.suffix in SPEC_SUFFIXES and not _is_dir(entry, follow=True):
                found.append(entry_path)
    return sorted(found), sorted(problems, key=lambda d: d.file)


def _is_dir(entry: os.DirEntry[str], *, follow: bool) -> bool:
    try:
        return entry.is_dir(follow_symlinks=follow)
    except OSError:  # a symlink loop, say: not a folder
        return False
