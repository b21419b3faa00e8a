"""Writing outputs so that nothing is ever half-written: temp file, fsync, rename.

Files get the mode any other tool would give them: a new file ``0666 & ~umask``, an
overwritten one keeps its mode. Temp files are named
``.<target>.specc-tmp-<host>-<pid>-<random><suffix>`` so a killed writer's leftovers are
recognisable; each write removes the stale ones in its folder (their writer's process
is gone, or they are older than :data:`STALE_AFTER_S`), never a live writer's.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

from specc.errors import Diagnostic

SPEC_SUFFIXES = (".yaml", ".yml")

_NODE = os.uname().nodename if hasattr(os, "uname") else os.environ.get("COMPUTERNAME", "")
HOST = f"{zlib.crc32(_NODE.encode()):08x}"
"""This machine, in temp names: a PID means something only on the machine that wrote it."""
STALE_AFTER_S = 3600
"""A temp file untouched this long is stale even if its PID is alive (PIDs are reused)."""
_TEMP = re.compile(r"\..+\.specc-tmp-(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[0-9a-f]{8}(\.[^.]*)?")


def is_temp_name(name: str) -> bool:
    """Whether a file name is one of specc's temp files.

    >>> is_temp_name(".model.keras.specc-tmp-0a1b2c3d-4242-deadbeef.keras")
    True
    >>> is_temp_name("model.keras"), is_temp_name(".model.keras.tmp.keras")
    (False, False)
    """
    return _TEMP.fullmatch(name) is not None


def human_size(n: int) -> str:
    """Bytes for people (file sizes in messages: the data loaders' and the importer's).

    >>> human_size(784 * 10**12), human_size(2048), human_size(512)
    ('713.0 TiB', '2.0 KiB', '512 bytes')
    """
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{n} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Replace ``path`` with ``data`` in one step; on failure the old file is untouched."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data.encode() if isinstance(data, str) else data)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path beside ``path``; rename it over ``path`` only if the block succeeds.

    For writers that insist on a file name (``model.save``). The temp name keeps the
    suffix so such writers accept it. The file is fsynced before the rename. An
    ``OSError`` names ``path``, never the temp file.
    """
    target = Path(path)
    tmp: Path | None = None
    try:
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(target))
        make_folder(target.parent)
        _clean_stale(target.parent)
        try:
            mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
        except FileNotFoundError:
            mode = None
        tmp, created_mode = _create_temp(target)
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, created_mode if mode is None else mode)  # a writer may have recreated it
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        if exc.filename is None or is_temp_name(Path(exc.filename).name):
            raise OSError(exc.errno, exc.strerror or str(exc), str(target)) from exc
        raise
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def check_folder(folder: str | os.PathLike[str]) -> None:
    """Raise ``NotADirectoryError`` (clearly worded) if a file stands where ``folder`` must be.

    Creates nothing: commands call it before long work whose output goes there.
    """
    folder = Path(folder)
    for ancestor in (folder, *folder.parents):
        if ancestor.exists() or ancestor.is_symlink():
            if not ancestor.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, f"{ancestor} is a file, not a folder")
            return


def make_folder(folder: str | os.PathLike[str]) -> None:
    """``mkdir -p``, saying clearly when a file stands where a folder must be."""
    check_folder(folder)
    Path(folder).mkdir(parents=True, exist_ok=True)


def _create_temp(target: Path) -> tuple[Path, int]:
    """A new temp file beside ``target``, created with mode 0666 (the umask applies)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        name = f".{target.name}.specc-tmp-{HOST}-{os.getpid()}-{os.urandom(4).hex()}"
        tmp = target.with_name(name + target.suffix)
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        try:
            return tmp, stat.S_IMODE(os.fstat(fd).st_mode)
        finally:
            os.close(fd)
    raise FileExistsError(errno.EEXIST, "no free temp file name", str(target))


def pid_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would terminate it there; rely on age
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _clean_stale(folder: Path) -> None:
    """Remove temp files whose writer is gone; best effort, never fails a write."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        match = _TEMP.fullmatch(entry.name)
        if match is None:
            continue
        host, pid = match["host"], int(match["pid"])
        if host == HOST and pid == os.getpid():
            continue  # this process's own writers (threads) are live
        try:
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER_S
            if old or (host == HOST and not pid_alive(pid)):
                os.unlink(entry.path)
        except OSError:
            continue


def find_specs(path: str | os.PathLike[str]) -> tuple[list[Path], list[Diagnostic]]:
    """A file as given, or every ``*.yaml``/``*.yml`` under a folder (sorted, hidden skipped).

    Also returns one diagnostic per folder that cannot be listed, so an unreadable
    subfolder is reported instead of silently checking less. Entries with a spec suffix
    that are not regular files (FIFOs, broken or looping symlinks) are returned as files:
    reading them refuses each with its own message. Symlinks to folders are not followed.
    """
    from specc.language.loader import display_path

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
