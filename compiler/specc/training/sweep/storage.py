"""Where the study lives: the SQLite file, a database URL (with its driver) or an Optuna
journal file, opened with Optuna's heartbeat on for a database."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path
from typing import Any

from specc.language import loader
from specc.training.sweep import liveness
from specc.training.sweep.params import SweepUsageError


def open_storage(url: str | None, folder: Path) -> Any:
    """An Optuna storage: the SQLite file in the sweep folder by default; ``journal:PATH``
    is Optuna's journal file; any other URL a database SQLAlchemy knows."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    if url is None:
        url = f"sqlite:///{folder / 'study.db'}"
    if url.startswith("journal:"):
        path = url.removeprefix("journal:")
        if not path:
            raise SweepUsageError(
                "--storage journal:PATH needs a file path, e.g. journal:study.log"
            )
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        _check_journal(url, Path(path))
        try:  # replayed before anything is appended: a broken journal stays as it was
            storage = optuna.storages.JournalStorage(JournalFileBackend(path))
            storage.get_all_studies()
        except OSError:
            raise
        except Exception as exc:
            raise SweepUsageError(
                f"--storage {url!r}: not an Optuna journal file: {_first_line(exc)}"
            ) from None
        return storage
    scheme = url.split(":", 1)[0]
    if "://" not in url:
        raise SweepUsageError(
            f"--storage {url!r}: expected a database URL (sqlite:///sweep.db, "
            "postgresql://user@host/db, mysql://...) or journal:PATH"
        )
    engine: dict[str, Any] = {"connect_args": {"timeout": 60}} if scheme == "sqlite" else {}
    try:
        return _open_rdb(_driver_url(url), engine)
    except ImportError as exc:
        raise SweepUsageError(f"--storage {url!r}: {_missing_driver(url, exc)}") from None
    except Exception as exc:
        raise SweepUsageError(f"--storage {url!r}: cannot open: {_first_line(exc)}") from None


DRIVERS = {
    "postgresql+psycopg": ("psycopg", "pip install 'specc[postgres]' (psycopg 3)"),
    "postgresql+psycopg2": ("psycopg2", "pip install psycopg2-binary"),
    "mysql+pymysql": ("pymysql", "pip install PyMySQL"),
    "mysql": ("MySQLdb", "pip install mysqlclient, or write mysql+pymysql://"),
}
"""The Python module each database URL needs, and how to install it."""


def _driver_url(url: str) -> str:
    """``postgresql://`` with the driver ``specc[postgres]`` installs (psycopg 3) named, as
    SQLAlchemy 2.1 does and 2.0 does not (it picks psycopg2): the same driver with either."""
    return (
        "postgresql+psycopg://" + url[len("postgresql://") :]
        if url.startswith("postgresql://")
        else url
    )


def _missing_driver(url: str, exc: ImportError) -> str:
    """What to install for a database URL whose driver module is missing."""
    cause = exc.__cause__ if isinstance(exc.__cause__, ImportError) else exc
    dialect = _driver_url(url).split("://", 1)[0]
    module, install = DRIVERS.get(dialect, (cause.name or "", ""))
    module = cause.name or module
    said = f"its database driver (Python module {module!r}) is not installed"
    return f"{said}: {install}" if install else f"{said}: {_first_line(cause)}"


OPEN_TRIES = 5
"""Tries to open a database storage: workers started together on an empty database each
create Optuna's tables, and all but one fail (PostgreSQL: IntegrityError on pg_type)."""


def _open_rdb(url: str, engine: dict[str, Any]) -> Any:
    """Optuna's RDBStorage with its heartbeat on, so a trial whose worker died on another
    machine is failed by the database's clock and queued again (RetryFailedTrialCallback);
    the first open tried again when another worker was creating the tables at that moment."""
    import optuna
    import sqlalchemy.exc

    # the stale-trial callback's keyword is named per Optuna version: typed as any argument
    stale: dict[str, Any] = {liveness._stale_callback_kwarg(): liveness._retry_stale}
    for attempt in range(1, OPEN_TRIES + 1):
        try:
            with liveness._quiet_experimental():
                return optuna.storages.RDBStorage(
                    url,
                    engine_kwargs=engine,
                    heartbeat_interval=int(liveness.HEARTBEAT_S),
                    grace_period=int(liveness.STALE_AFTER_S),
                    **stale,
                )
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            if attempt == OPEN_TRIES:  # not a race: said as it is
                raise
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


def _check_journal(url: str, path: Path) -> None:
    """Refuse a file that is not an Optuna journal (a study.db, a log) before Optuna appends
    to it: its first line must be one of the journal's JSON records."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return  # a new file: Optuna starts it
    if stat.S_ISDIR(mode):
        return  # the open fails and says so
    if not stat.S_ISREG(mode):  # opening a FIFO would block until a writer came
        kind = loader.FILE_KINDS.get(stat.S_IFMT(mode), "not a regular file")
        raise SweepUsageError(
            f"--storage {url!r}: {path} is {kind}, not a regular file; "
            "name a new file or one an earlier sweep wrote"
        )
    with path.open("rb") as fh:
        first = fh.readline(1 << 20)
    if not first:
        return
    try:
        record = json.loads(first)
    except ValueError:
        record = None
    if not (isinstance(record, dict) and "op_code" in record):
        raise SweepUsageError(
            f"--storage {url!r}: {path} is not an Optuna journal file (its first line is not "
            "a journal record); name a new file or one an earlier sweep wrote"
        )


def _first_line(exc: BaseException, limit: int = 300) -> str:
    line = next((part.strip() for part in str(exc).splitlines() if part.strip()), "")
    line = line if len(line) <= limit else line[: limit - 1] + "…"
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__
