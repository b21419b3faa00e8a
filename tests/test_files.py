"""How specc writes files: atomically, with the usual modes, and no temp files left behind."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from specc import files
from specc.files import atomic_path, write_atomic
from tests.helpers import ROOT

UMASKS = [0o022, 0o002, 0o027, 0o077]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@contextlib.contextmanager
def _umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if files.is_temp_name(p.name))


@pytest.mark.parametrize("mask", UMASKS, ids=oct)
def test_new_files_get_the_umask_mode(tmp_path, mask):
    with _umask(mask):
        write_atomic(tmp_path / "a.json", "{}\n")
        with atomic_path(tmp_path / "model.keras") as tmp, open(tmp, "wb") as fh:
            fh.write(b"zip")
    assert _mode(tmp_path / "a.json") == 0o666 & ~mask
    assert _mode(tmp_path / "model.keras") == 0o666 & ~mask


@pytest.mark.parametrize("old_mode", [0o644, 0o640, 0o600, 0o755], ids=oct)
def test_overwriting_keeps_the_files_mode(tmp_path, old_mode):
    target = tmp_path / "a.py"
    target.write_text("old\n")
    target.chmod(old_mode)
    with _umask(0o077):
        write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert _mode(target) == old_mode


@pytest.mark.parametrize("mask", [0o022, 0o077], ids=oct)
def test_the_cli_respects_the_umask(tmp_path, mask):
    """A real process, its umask set as a shell's would be."""
    out = tmp_path / "schema.json"
    subprocess.run(
        [sys.executable, "-m", "specc", "schema", "-o", str(out)],
        check=True,
        preexec_fn=lambda: os.umask(mask),
    )
    assert _mode(out) == 0o666 & ~mask


def test_disk_full_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "metrics.json"
    target.write_text("old\n")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(files.os, "fsync", full)
    with pytest.raises(OSError) as info:
        write_atomic(target, "new\n" * 1000)
    assert info.value.errno == errno.ENOSPC
    assert info.value.filename == str(target)  # the file meant, not the temp name
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["metrics.json"]


def test_a_folder_as_target_is_refused_before_writing(tmp_path):
    (tmp_path / "out.json").mkdir()
    with pytest.raises(IsADirectoryError):
        write_atomic(tmp_path / "out.json", "{}")
    assert os.listdir(tmp_path) == ["out.json"]


def test_a_file_in_the_way_of_the_folder(tmp_path):
    (tmp_path / "out").write_text("a file")
    with pytest.raises(NotADirectoryError) as info:
        write_atomic(tmp_path / "out" / "sub" / "x.json", "{}")
    assert info.value.strerror == f"{tmp_path / 'out'} is a file, not a folder"


def test_temp_names_say_specc_and_keep_the_suffix(tmp_path):
    with atomic_path(tmp_path / "model.keras") as tmp:
        assert files.is_temp_name(tmp.name)
        assert "specc" in tmp.name and str(os.getpid()) in tmp.name
        assert tmp.name.startswith(".model.keras.") and tmp.suffix == ".keras"
        tmp.write_bytes(b"x")
    assert not files.is_temp_name("model.keras")
    assert not files.is_temp_name(".model.keras.tmp.keras")
    assert os.listdir(tmp_path) == ["model.keras"]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _temp(folder: Path, target: str, pid: int, host: str = files.HOST, age: float = 0) -> Path:
    path = folder / f".{target}.specc-tmp-{host}-{pid}-0123abcd{Path(target).suffix}"
    path.write_bytes(b"half")
    if age:
        written = path.stat().st_mtime  # now, by the file system's clock
        os.utime(path, (written - age, written - age))
    return path


def test_stale_temps_are_cleaned_and_live_ones_kept(tmp_path):
    hour = files.STALE_AFTER_S
    alive = os.getppid()  # our parent: running, and not us
    dead = _dead_pid()
    stale = [
        _temp(tmp_path, "a.json", dead),
        _temp(tmp_path, "b.keras", alive, age=hour + 60),
        _temp(tmp_path, "c.json", 12345, host="0badc0de", age=hour + 60),
    ]
    live = [
        _temp(tmp_path, "d.json", alive),
        _temp(tmp_path, "e.json", 12345, host="0badc0de"),  # another machine's writer
        _temp(tmp_path, "f.json", os.getpid(), age=hour + 60),  # this process's own
    ]
    other = tmp_path / ".notes.tmp.json"
    other.write_text("not ours")
    write_atomic(tmp_path / "out.json", "{}")
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in live)
    assert other.exists()


WRITER = """
import sys
from specc.files import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_text("complete\\n")
    print(tmp, flush=True)
    sys.stdin.readline()  # hold the temp file until told
"""


def _writer(target: Path) -> tuple[subprocess.Popen, Path]:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def test_a_killed_writers_temp_is_cleaned_by_the_next_write(tmp_path):
    proc, tmp = _writer(tmp_path / "spec.yaml")
    proc.kill()
    proc.communicate()  # reaps it and closes the pipes
    assert tmp.exists() and not (tmp_path / "spec.yaml").exists()
    subprocess.run(
        [sys.executable, "-m", "specc", "schema", "-o", str(tmp_path / "schema.json")], check=True
    )
    assert sorted(os.listdir(tmp_path)) == ["schema.json"]


def test_concurrent_writers_keep_each_others_temps(tmp_path):
    proc, tmp = _writer(tmp_path / "one.json")
    try:
        write_atomic(tmp_path / "two.json", "2\n")
        assert tmp.exists(), "a live writer's temp file was deleted"
    finally:
        proc.communicate("go\n")
    assert proc.returncode == 0
    assert (tmp_path / "one.json").read_text() == "complete\n"
    assert _temps(tmp_path) == []
