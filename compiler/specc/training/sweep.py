"""``specc sweep``: train one spec many times with values changed at spec paths, on Optuna.

Each swept value is a spec path (``compile.optimizer.learning_rate``) with a grid of values
or a range. Every trial is a ``specc train`` run in its own folder inside the sweep
folder; the study (what ran, with which values, with what result) lives in Optuna's storage,
an SQLite file in the sweep folder by default, so running the same command again resumes.

Why trials are queued up front: Optuna's GridSampler may evaluate one point twice when
several processes share a study (it picks a point before the others see it), and
``n_trials`` counts per process. ``enqueue_trial`` is Optuna's way to run given values. So the process that creates the study queues every trial
(a grid point, or an empty slot a random/TPE sampler fills when the trial starts) as a
WAITING trial, and workers claim them one at a time through the storage's atomic
WAITING -> RUNNING switch: each queued trial runs exactly once, whatever the number of
workers. A trial left RUNNING by a worker that died (kill -9, a lost machine) is marked
failed, with why, and its values are queued again: at once when the worker was on this
machine (its pid is gone); else, in a database, when Optuna's own heartbeat stops (by the
database's clock; RetryFailedTrialCallback queues it again), and in a journal file (no
heartbeat in Optuna) when the trial attribute this module beats goes silent. A worker
with nothing left to run waits for the others' trials to end, so that its last tables
say how they ended.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import math
import os
import re
import stat
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specc.analysis.pipeline import Compiled, compile_loaded
from specc.errors import SpecError
from specc.files import HOST, pid_alive, write_atomic
from specc.language import loader, overrides, paths, variants
from specc.language.paths import SpecPath

STATES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed",
          "RUNNING": "running", "WAITING": "waiting"}  # fmt: skip
"""Optuna's trial states as the tables say them."""
DEFAULT_TRIALS = 10
"""Trials of a random or TPE sweep when --trials is not given."""
HEARTBEAT_S = 30.0
"""How often a running trial says it is alive (Optuna's heartbeat in a database, a trial
attribute in a journal file)."""
STALE_AFTER_S = 600.0
"""A RUNNING trial of another machine silent this long is taken as dead (its worker is gone)."""
READY_WAIT_S = 120.0
"""How long a worker waits for the study's creator to queue the trials (longer while the
creator says it is still queueing)."""
CHECK_ALL_POINTS = 1000
"""A grid of up to this many points has each checked before any trial (about 1 ms each)."""
SAY_QUEUEING_OVER = 200
"""Queueing more trials than this says so, then how far it got every SAY_EVERY_S seconds
(each is a database write: 5 to 35 ms in SQLite)."""
SAY_EVERY_S = 10.0
POLL_S = 2.0
"""How often a worker with nothing left to run looks whether the others' trials ended."""


class SweepUsageError(Exception):
    """The command line asks for something impossible (exit 2); the message is one line."""


@dataclass(frozen=True)
class Param:
    """One swept spec path: a list of values (``--grid``) or a numeric range (``--range``)."""

    path: SpecPath
    flag: str
    """Where it was given, for messages: ``--grid #1``."""
    values: tuple[Any, ...] = ()
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False

    @property
    def name(self) -> str:
        """The path as text: the parameter's name in Optuna and in the tables."""
        return paths.render(self.path)

    @property
    def is_grid(self) -> bool:
        return self.low is None

    @property
    def whole(self) -> bool:
        """Whether every value is an integer (a count): its axis ticks integers only."""
        ends = self.values if self.is_grid else (self.low, self.high)
        return all(isinstance(v, int) and not isinstance(v, bool) for v in ends)

    def definition(self) -> dict[str, Any]:
        if self.is_grid:
            return {"path": self.name, "values": list(self.values)}
        return {"path": self.name, "low": self.low, "high": self.high, "log": self.log}

    def probes(self) -> list[Any]:
        """Values checked before any trial runs: every grid value, a range's two ends."""
        return list(self.values) if self.is_grid else [self.low, self.high]

    def suggest(self, trial: Any) -> Any:
        if self.is_grid:
            return trial.suggest_categorical(self.name, list(self.values))
        if isinstance(self.low, int) and isinstance(self.high, int):
            return trial.suggest_int(self.name, self.low, self.high, log=self.log)
        return trial.suggest_float(self.name, float(self.low), float(self.high), log=self.log)  # type: ignore[arg-type]  # low/high are numbers when not a grid (validated by the schema)


# -- the command line's values -----------------------------------------------------------
def _yaml_value(text: str, flag: str) -> Any:
    """``text`` read as specc reads a value in a spec (YAML 1.2: ``1e-3`` is a float)."""
    try:
        return loader.load_text(f"v: {text}\n", flag).data["v"]
    except SpecError as exc:
        # positions would count the "v: " put in front: leave them out
        problem = re.sub(r" \(.* at line \d+, column \d+\)$", "", exc.diagnostics[0].message)
        raise SweepUsageError(f"{flag}: {text!r} is not a YAML value: {problem}") from None


def _split(text: str, flag: str, example: str) -> tuple[SpecPath, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise SweepUsageError(f"{flag}: {text!r}: expected PATH=VALUES, e.g. {example}")
    try:
        return paths.parse(name.strip()), value.strip()
    except paths.PathError as exc:
        raise SweepUsageError(f"{flag}: {exc}") from None


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def parse_grid(text: str, index: int) -> Param:
    """``PATH=[v1, v2, ...]`` (a single value is a grid of one).

    >>> parse_grid("compile.optimizer.learning_rate=[1e-3, 0.01]", 1).values
    (0.001, 0.01)
    """
    flag = f"--grid #{index}"
    path, raw = _split(text, flag, "'model.layers[1].rate=[0.25, 0.5]'")
    value = _yaml_value(raw, flag)
    values = value if isinstance(value, list) else [value]
    if not values:
        raise SweepUsageError(f"{flag}: {paths.render(path)}: the list of values is empty")
    for item in values:
        if not _scalar(item):
            raise SweepUsageError(
                f"{flag}: {paths.render(path)}: {json.dumps(item)} is not a single value; "
                "sweep a nested value by its own path (e.g. model.layers[0].kernel_size[0])"
            )
    seen: list[Any] = []
    for item in values:
        if any(type(item) is type(s) and item == s for s in seen):
            raise SweepUsageError(f"{flag}: {paths.render(path)}: {item!r} is listed twice")
        seen.append(item)
    return Param(path, flag, values=tuple(values))


_RANGE = re.compile(r"(?P<low>.+?)\.\.(?P<high>.+?)(?P<log>:log)?")


def parse_range(text: str, index: int) -> Param:
    """``PATH=LOW..HIGH`` or ``PATH=LOW..HIGH:log``; two integers make an integer range.

    >>> p = parse_range("compile.optimizer.learning_rate=1e-4..1e-2:log", 1)
    >>> p.low, p.high, p.log
    (0.0001, 0.01, True)
    """
    flag = f"--range #{index}"
    example = "'compile.optimizer.learning_rate=1e-4..1e-2:log'"
    path, raw = _split(text, flag, example)
    match = _RANGE.fullmatch(raw)
    if match is None:
        raise SweepUsageError(
            f"{flag}: {raw!r}: expected LOW..HIGH or LOW..HIGH:log, e.g. {example}"
        )
    ends = [_yaml_value(match[k].strip(), flag) for k in ("low", "high")]
    for end in ends:
        if isinstance(end, bool) or not isinstance(end, int | float) or not math.isfinite(end):
            raise SweepUsageError(f"{flag}: {raw!r}: {end!r} is not a finite number")
    low, high = ends
    if not low < high:
        raise SweepUsageError(f"{flag}: {raw!r}: the low end must be below the high end")
    log = match["log"] is not None
    if log and low <= 0:
        raise SweepUsageError(f"{flag}: {raw!r}: a :log range needs a low end above 0")
    return Param(path, flag, low=low, high=high, log=log)


def parse_params(grids: Sequence[str], ranges: Sequence[str]) -> list[Param]:
    params = [parse_grid(t, i) for i, t in enumerate(grids, 1)]
    params += [parse_range(t, i) for i, t in enumerate(ranges, 1)]
    if not params:
        raise SweepUsageError("nothing to sweep: give at least one --grid or --range")
    seen: dict[str, str] = {}
    for p in params:
        if p.name in seen:
            raise SweepUsageError(f"{p.flag}: {p.name} is already swept by {seen[p.name]}")
        seen[p.name] = p.flag
    for p, q in itertools.permutations(params, 2):  # one value would replace the other's
        if q.path[: len(p.path)] == p.path:
            raise SweepUsageError(
                f"{q.flag}: {q.name} is inside {p.name}, swept by {p.flag}: "
                "each value there would replace it; sweep paths that do not contain each other"
            )
    return params


# -- the spec with swept values ------------------------------------------------------------
def spec_with(loaded: loader.Loaded, params: Sequence[Param], point: Sequence[Any]) -> Compiled:
    """The spec with each parameter's value put at its path, checked as a file is.

    The values are overrides, applied as ``--set`` applies them (:mod:`specc.language.
    overrides`) to the spec with its bases merged, so an error about a swept value names
    it (``SPEC: --grid #1 (model.layers[0].units=-1): error: ...``) and any other points
    into the file that holds it. Raises SpecError (exit code 2: a path that does not fit).
    """
    edits = [
        overrides.of(p.path, v, f"{p.flag} ({p.name}={json.dumps(v)})")
        for p, v in zip(params, point, strict=True)
    ]
    return compile_loaded(overrides.apply(loaded, edits))


def _said(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in values.items())


def check_values(loaded: loader.Loaded, params: Sequence[Param], grid: bool) -> Compiled:
    """Refuse, before any trial, a path that does not fit the spec or values that make it
    invalid: every point of a grid of up to CHECK_ALL_POINTS, else each value and range end
    on its own (a point of a bigger grid that only its combination makes invalid fails as
    its trial starts, with the spec's error: 0.6 to 1.1 ms a point here, so 10 to 20 minutes for 10⁶ points)."""
    for p in params:  # paths first: one clear line per unknown path
        try:
            paths.get(loaded.data, p.path[:-1])
            if isinstance(p.path[-1], int):
                paths.get(loaded.data, p.path)
        except paths.PathError as exc:
            raise SweepUsageError(f"{p.flag}: {p.name}: not in the spec: {exc}") from None
    size = math.prod(len(p.values) for p in params) if grid else 0
    if grid and size <= CHECK_ALL_POINTS:
        points: Iterator[tuple[Any, ...]] = itertools.product(*(p.values for p in params))
    else:
        if grid:
            values = sum(len(p.values) for p in params)
            print(
                f"checking each of the {values:,} swept values on its own; each of the "
                f"{size:,} grid points is checked as its trial starts",
                flush=True,
            )
        base = [p.probes()[0] for p in params]
        points = iter(
            [tuple(base)]
            + [(*base[:i], v, *base[i + 1 :]) for i, p in enumerate(params) for v in p.probes()]
        )
    first: Compiled | None = None
    for point in points:
        try:
            compiled = spec_with(loaded, params, point)
        except SpecError as exc:
            first_problem = exc.diagnostics[0]
            more = len(exc.diagnostics) - 1
            said = [] if first_problem.origin else [f"with {_said(_named(params, point))}"]
            said += [f"and {more} more problem(s)"] if more else []
            raise SweepUsageError(
                first_problem.text() + (f" ({'; '.join(said)})" if said else "")
            ) from None
        first = first or compiled
    assert first is not None
    return first


def _named(params: Sequence[Param], point: Sequence[Any]) -> dict[str, Any]:
    return {p.name: v for p, v in zip(params, point, strict=True)}


# -- the study --------------------------------------------------------------------------
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

    for attempt in range(1, OPEN_TRIES + 1):
        try:
            with _quiet_experimental():
                return optuna.storages.RDBStorage(
                    url,
                    engine_kwargs=engine,
                    heartbeat_interval=int(HEARTBEAT_S),
                    grace_period=int(STALE_AFTER_S),
                    **{_stale_callback_kwarg(): _retry_stale},
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


@dataclass
class Settings:
    spec: str
    params: list[Param]
    sampler: str
    trials: int
    epochs: int | None = None
    data: str | None = None
    subset: int | None = None
    output_dir: str | None = None
    storage: str | None = None
    study: str | None = None
    prune: bool = False
    sets: Sequence[overrides.Override] = ()
    """``--set`` overrides, applied to the spec (bases merged) before the swept values."""


def resolve_settings(
    spec: str,
    grids: Sequence[str],
    ranges: Sequence[str],
    sampler: str | None,
    trials: int | None,
    **rest: Any,
) -> Settings:
    """The sweep as asked, with defaults filled in; SweepUsageError for a contradiction."""
    params = parse_params(grids, ranges)
    if sampler is None:
        sampler = "tpe" if any(not p.is_grid for p in params) else "grid"
    if sampler == "grid":
        ranged = next((p for p in params if not p.is_grid), None)
        if ranged:
            raise SweepUsageError(
                f"{ranged.flag}: a grid sweep needs lists of values (--grid); "
                "a range needs --sampler random or tpe"
            )
        size = math.prod(len(p.values) for p in params)
        if trials is not None and trials != size:
            raise SweepUsageError(
                f"--trials {trials}: a grid sweep runs each of its {size} point(s) once; "
                "leave --trials out, or use --sampler random or tpe"
            )
        trials = size
    if rest.get("epochs") is not None and any(p.path == ("training", "epochs") for p in params):
        raise SweepUsageError("--epochs: training.epochs is swept; leave --epochs out")
    return Settings(spec, params, sampler, trials or DEFAULT_TRIALS, **rest)


@dataclass
class Sweep:
    """A sweep being run by this process: its settings, spec, folder and Optuna study."""

    settings: Settings
    loaded: loader.Loaded
    folder: Path
    study: Any
    storage: Any
    compiled: Compiled

    @property
    def definition(self) -> dict[str, Any]:
        """What must match for a process to join (or resume) the study."""
        s = self.settings
        return {
            "spec_sha256": self.compiled.sha256,
            "params": [p.definition() for p in s.params],
            "sampler": s.sampler,
            "trials": s.trials,
            "epochs": s.epochs,
            "subset": s.subset,
            "prune": s.prune,
        }


def _sampler(name: str) -> Any:
    """The sampler that picks a slot's values when its trial starts.

    Not Optuna's GridSampler for a grid: its points are queued as fixed values up front
    (GridSampler's own bookkeeping assumes it assigned them, and may assign one twice).
    """
    import optuna

    if name in ("grid", "random"):  # a grid's points are all queued: nothing left to pick
        return optuna.samplers.RandomSampler()
    if name == "tpe":
        return optuna.samplers.TPESampler()
    raise ValueError(name)


def open_sweep(settings: Settings) -> Sweep:
    """Load and check the spec and values, then create the study or join the existing one."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # bases merged, then --set; SpecError (a path that does not fit): the caller reports it
    loaded = overrides.apply(variants.load(settings.spec), settings.sets)
    compiled = check_values(loaded, settings.params, settings.sampler == "grid")
    swept = [p for p in settings.params if p.path[:2] == ("compile", "metrics")]
    if not swept and not names_accuracy(compiled.spec.compile.metrics):
        raise SweepUsageError(  # said now, not after every trial has trained
            f"{settings.spec}: error: compile.metrics: no accuracy to rank the trials by; "
            "add one (metrics: [accuracy])"
        )
    folder = Path(settings.output_dir or Path("sweeps") / compiled.spec.name)
    folder.mkdir(parents=True, exist_ok=True)
    storage = open_storage(settings.storage, folder)
    name = settings.study or compiled.spec.name
    pruner = (
        optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
        if settings.prune
        else optuna.pruners.NopPruner()
    )
    sampler = _sampler(settings.sampler)
    sweep = Sweep(settings, loaded, folder, None, storage, compiled)
    try:
        study = optuna.create_study(
            storage=storage, study_name=name, direction="maximize", sampler=sampler, pruner=pruner
        )
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
        sweep.study = study
        _join(sweep, name)
        return sweep
    sweep.study = study
    study.set_user_attr("specc_definition", sweep.definition)
    if settings.sampler == "grid":
        queue: Iterable[dict[str, Any]] = (
            _named(settings.params, point)
            for point in itertools.product(*(p.values for p in settings.params))
        )
    else:  # a slot: the sampler picks its values when it starts
        queue = ({} for _ in range(settings.trials))
    _enqueue(study, queue, settings.trials, _storage_name(settings, folder))
    study.set_user_attr("specc_ready", True)
    return sweep


def _storage_name(settings: Settings, folder: Path) -> str:
    return settings.storage or str(folder / "study.db")


def _enqueue(study: Any, queue: Iterable[dict[str, Any]], total: int, where: str) -> None:
    """Queue every trial; say so when there are many (one storage write each), and how far
    it got every SAY_EVERY_S seconds, so that a big grid is not a silent wait."""
    loud = total > SAY_QUEUEING_OVER
    if loud:
        print(f"queueing {total:,} trials in {where} before the first starts", flush=True)
    last = time.monotonic()
    for n, values in enumerate(queue, 1):
        study.enqueue_trial(values)
        if loud and time.monotonic() - last >= SAY_EVERY_S:
            last = time.monotonic()
            study.set_user_attr("specc_queued", n)  # a joining worker waits while this grows
            print(f"queued {n:,} of {total:,} trials", flush=True)


def _join(sweep: Sweep, name: str) -> None:
    """Wait for the study's creator to queue its trials, then check it is the same sweep."""
    deadline = time.monotonic() + READY_WAIT_S
    queued = None
    while not (attrs := sweep.study.user_attrs).get("specc_ready"):
        if attrs.get("specc_queued") != queued:  # still queueing: wait on
            queued = attrs.get("specc_queued")
            deadline = time.monotonic() + READY_WAIT_S
        if time.monotonic() > deadline:
            raise SweepUsageError(
                f"study {name!r}: its trials were never queued (its creator stopped early?); "
                "start again with another --study or --output-dir"
            )
        time.sleep(0.5)
    stored = sweep.study.user_attrs.get("specc_definition", {})
    mine = sweep.definition
    differ = [k for k in mine if stored.get(k) != mine[k]]
    if differ:
        said = ", ".join(
            f"{k} {json.dumps(stored.get(k))} there, {json.dumps(mine[k])} here" for k in differ
        )
        raise SweepUsageError(
            f"study {name!r} in {sweep.settings.storage or sweep.folder / 'study.db'} is another "
            f"sweep ({said}); to resume it repeat its command, else use another --output-dir or --study"
        )


# -- trials -------------------------------------------------------------------------------
def _worker() -> dict[str, Any]:
    return {"host": HOST, "pid": os.getpid(), "node": os.uname().nodename}


def _optuna_beats(storage: Any) -> bool:
    """Whether the storage keeps Optuna's own heartbeat (a database: RDBStorage)."""
    from optuna.storages._heartbeat import is_heartbeat_enabled

    return is_heartbeat_enabled(storage)


@contextlib.contextmanager
def _quiet_experimental() -> Iterator[None]:
    """Optuna's heartbeat and retry are 'experimental' and warn on every use: not news to
    the user of a sweep."""
    import warnings

    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        warnings.simplefilter("ignore", FutureWarning)  # RetryFailedTrialCallback's rename
        yield


@contextlib.contextmanager
def _heartbeat(storage: Any, trial_id: int) -> Iterator[None]:
    """Mark the trial alive every HEARTBEAT_S seconds (so other machines can tell it is):
    Optuna's heartbeat in a database, a trial attribute in a journal file (no heartbeat)."""
    stop = threading.Event()

    def mark() -> None:
        if _optuna_beats(storage):
            storage.record_heartbeat(trial_id)
        else:
            storage.set_trial_user_attr(trial_id, "specc_heartbeat", time.time())

    def beat() -> None:
        while not stop.wait(HEARTBEAT_S):
            # the trial ended meanwhile, or the storage hiccuped: try at the next beat
            with contextlib.suppress(Exception):
                mark()

    mark()
    thread = threading.Thread(target=beat, name="specc-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _who(trial: Any) -> str:
    worker = trial.user_attrs.get("specc_worker")
    return f"pid {worker['pid']} on {worker['node']}" if worker else "a worker"


def _stale_reason(trial: Any, optuna_beats: bool = False) -> str | None:
    """Why a RUNNING trial is dead, or None while it may be alive (or, with Optuna's
    heartbeat, until Optuna says it is not: fail_stale_trials)."""
    worker = trial.user_attrs.get("specc_worker")
    beat = trial.user_attrs.get("specc_heartbeat")
    if worker and worker.get("host") == HOST:
        if worker["pid"] != os.getpid() and not pid_alive(worker["pid"]):
            return f"its worker (pid {worker['pid']} on this machine) ended before it finished"
        return None
    if optuna_beats:
        return None
    last = beat if beat is not None else trial.datetime_start.timestamp()
    if time.time() - last > STALE_AFTER_S:
        return f"its worker ({_who(trial)}) was silent for over {STALE_AFTER_S:.0f} s"
    return None


def _retry_stale(study: Any, trial: Any) -> None:
    """Optuna's heartbeat found ``trial`` stale and failed it: queue its values again with
    Optuna's RetryFailedTrialCallback, as a new trial (not the dead one's folder or worker)."""
    import copy

    import optuna

    retry = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    with _quiet_experimental():
        callback = (retry or optuna.storages.RetryFailedTrialCallback)()
        fresh = copy.deepcopy(trial)
        fresh.user_attrs = {}
        callback(study, fresh)
    print(
        f"trial {trial.number}: {_stale_why(trial)}; marked failed, its values queued again",
        flush=True,
    )


def _stale_why(trial: Any) -> str:
    return f"its worker ({_who(trial)}) sent no heartbeat for over {STALE_AFTER_S:.0f} s"


def _stale_callback_kwarg() -> str:
    """RDBStorage's name for the callback (Optuna 4.9 renamed failed_trial_callback)."""
    import inspect

    import optuna

    wanted = "heartbeat_stale_trial_callback"
    known = inspect.signature(optuna.storages.RDBStorage).parameters
    return wanted if wanted in known else "failed_trial_callback"


def _requeue(sweep: Sweep, trial: Any, why: str) -> bool:
    """Mark a trial failed with ``why`` and queue its values again; False if another worker
    finished it first (so the values are queued once)."""
    import optuna
    from optuna.trial import TrialState

    try:  # the error first: a finished trial takes no more attributes
        sweep.storage.set_trial_user_attr(
            trial._trial_id, "error", f"interrupted: {why}; queued again"
        )
        sweep.storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
    values = {**trial.system_attrs.get("fixed_params", {}), **trial.params}
    sweep.study.enqueue_trial(values, user_attrs={"retry_of": trial.number})
    return True


def recover_stale(sweep: Sweep) -> int:
    import optuna
    from optuna.trial import TrialState

    beats = _optuna_beats(sweep.storage)
    n = 0
    for trial in sweep.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        why = _stale_reason(trial, beats)
        if why and _requeue(sweep, trial, why):
            print(
                f"trial {trial.number}: {why}; marked failed, its values queued again", flush=True
            )
            n += 1
    if beats:  # another machine's: by the database's clock; _retry_stale queues them again
        with _quiet_experimental():
            optuna.storages.fail_stale_trials(sweep.study)
    return n


def claim(sweep: Sweep) -> Any | None:
    """The next queued trial, switched WAITING -> RUNNING atomically by the storage."""
    import optuna
    from optuna.trial import TrialState

    for frozen in sweep.study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
        try:
            if not sweep.storage.set_trial_state_values(frozen._trial_id, TrialState.RUNNING):
                continue  # another worker took it
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
        sweep.storage.set_trial_user_attr(frozen._trial_id, "specc_worker", _worker())
        return optuna.Trial(sweep.study, frozen._trial_id)
    return None


def _pruning_callback(trial: Any, state: dict[str, Any]) -> Any:
    """Report validation accuracy per epoch; stop training when the pruner says so."""
    from specc.backends.kerasenv import keras as get_keras

    keras = get_keras()

    class Prune(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            key = accuracy_key(logs, "val_") or accuracy_key(logs, "")
            if key is None:
                return
            trial.report(float(logs[key]), epoch + 1)
            if trial.should_prune():
                state["pruned"] = epoch + 1
                self.model.stop_training = True

    return Prune()


def _is_accuracy(name: str) -> bool:
    """Whether a Keras metric name is an accuracy (``acc`` is Keras' alias of ``accuracy``)."""
    name = name.lower()
    return name in ("acc", "accuracy") or name.endswith(("accuracy", "_acc"))


def accuracy_key(keys: Iterable[str], prefix: str) -> str | None:
    """The accuracy among ``keys`` named ``prefix`` + metric (``test_``, ``val_``, ``""``):
    ``accuracy``, else ``acc``, else the first other accuracy (an output's, a named one)."""
    names = [k[len(prefix) :] for k in keys if k.startswith(prefix)]
    if not prefix:
        names = [n for n in names if not n.startswith("val_")]
    for wanted in ("accuracy", "acc"):
        if wanted in names:
            return prefix + wanted
    others = [n for n in names if _is_accuracy(n)]
    return prefix + others[0] if others else None


def names_accuracy(metrics: Any) -> bool:
    """Whether a spec's ``compile.metrics`` (a list, or one per output) has an accuracy."""
    lists = metrics.values() if isinstance(metrics, dict) else [metrics]
    for metric in (m for each_list in lists for m in each_list):
        if isinstance(metric, str):
            name = metric
        else:
            name = getattr(metric, "name", None) or getattr(metric, "type", "")
        if _is_accuracy(name.rsplit(".", 1)[-1]):
            return True
    return False


def _accuracy(metrics: dict[str, Any]) -> tuple[str, float] | None:
    key = accuracy_key(metrics, "test_")
    return (key, float(metrics[key])) if key else None


def run_trial(sweep: Sweep, trial: Any) -> str:
    """Run one claimed trial to its end; record COMPLETE, PRUNED or FAIL (with the error).

    Returns a one-line account. KeyboardInterrupt marks it failed, queues its values again
    and propagates.
    """
    from optuna.trial import TrialState

    from specc.training.train import DataError, TrainError

    start = time.perf_counter()
    error = None
    with _heartbeat(sweep.storage, trial._trial_id):
        try:
            state, value, line = _train_trial(sweep, trial)
        except KeyboardInterrupt:
            _requeue(sweep, sweep.storage.get_trial(trial._trial_id), "stopped by Ctrl-C")
            raise
        except _TrialError as exc:
            error = str(exc)
        except (DataError, TrainError) as exc:  # said as specc train says them
            error = str(exc)
        except Exception as exc:  # Keras, the run folder: the sweep goes on
            error = _first_line(exc)
    trial.set_user_attr("wall_seconds", round(time.perf_counter() - start, 3))
    if error is not None:
        trial.set_user_attr("error", error)
        sweep.study.tell(trial, state=TrialState.FAIL)
        return f"trial {trial.number}: failed: {error}"
    sweep.study.tell(trial, value, state=state)
    return line


def _train_trial(sweep: Sweep, trial: Any) -> tuple[Any, float | None, str]:
    """Train the trial's spec; its state, value and a one-line account."""
    from optuna.trial import TrialState

    from specc.training.train import Options, effective_spec, select_backend, train

    s = sweep.settings
    folder = sweep.folder / f"trial-{trial.number:03d}"
    trial.set_user_attr("run_folder", folder.name)
    trial.set_user_attr("run_path", str(folder.resolve()))  # for the other workers' tables
    values = {p.name: p.suggest(trial) for p in s.params}
    head = f"trial {trial.number}: {_said(values)}"
    print(f"{head}: training in {folder}", flush=True)
    try:
        compiled = spec_with(sweep.loaded, s.params, [values[p.name] for p in s.params])
    except (SpecError, paths.PathError) as exc:
        diags = getattr(exc, "diagnostics", None)
        raise _TrialError("; ".join(d.text() for d in diags) if diags else str(exc)) from None
    trial.set_user_attr("param_count", compiled.graph.total_params)
    options = Options(data=s.data, epochs=s.epochs, subset=s.subset, output_dir=str(folder),
                      verbose=0)  # fmt: skip
    pruned: dict[str, Any] = {}
    if s.prune:
        select_backend(effective_spec(compiled.spec, options).runtime)  # before keras loads
        options.extra_callbacks.append(_pruning_callback(trial, pruned))
    result = train(compiled, options)
    if result.interrupted:
        raise KeyboardInterrupt
    metrics = result.metrics
    for key in ("seconds_per_epoch", "epochs", "test_loss"):
        if key in metrics:
            trial.set_user_attr(key, metrics[key])
    accuracy = _accuracy(metrics)
    if accuracy is None:
        raise _TrialError("no test accuracy to rank by: add accuracy to compile.metrics")
    name, value = accuracy
    trial.set_user_attr("test_accuracy", value)
    if "pruned" in pruned:
        return (
            TrialState.PRUNED,
            None,
            f"{head}: pruned after epoch {pruned['pruned']} ({name} {value:.4f})",
        )
    line = f"{head}: {name} {value:.4f}, {metrics['seconds_per_epoch']:.2f} s/epoch"
    return TrialState.COMPLETE, value, line


class _TrialError(Exception):
    """A trial cannot run or be ranked; the message says why."""


def _running(sweep: Sweep) -> list[int]:
    """The numbers of the trials other workers are running now."""
    from optuna.trial import TrialState

    running = sweep.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    return sorted(t.number for t in running)


def _pause() -> None:
    time.sleep(POLL_S)


def run(sweep: Sweep) -> dict[str, int]:
    """Run queued trials until none is left; rewrite the tables after each. Returns the
    count of trials per state in the whole study."""
    recover_stale(sweep)
    write_reports(sweep)
    waiting: list[int] | None = None
    while True:
        trial = claim(sweep)
        if trial is not None:
            waiting = None
            print(run_trial(sweep, trial), flush=True)
            write_reports(sweep)
            recover_stale(sweep)
            continue
        others = _running(sweep)
        if not others:
            break
        if others != waiting:  # the tables would say "running" after they ended: wait
            waiting = others
            write_reports(sweep)
            print(
                f"waiting for trial(s) {', '.join(map(str, others))} of other workers to end, "
                "to write the tables as they end (Ctrl-C stops waiting; nothing is lost)",
                flush=True,
            )
        _pause()
        recover_stale(sweep)  # a dead worker's trial is queued again: this worker runs it
    write_reports(sweep)
    counts: dict[str, int] = {}
    for t in sweep.study.get_trials(deepcopy=False):
        counts[STATES[t.state.name]] = counts.get(STATES[t.state.name], 0) + 1
    return counts


# -- tables and picture -----------------------------------------------------------------
def rows(sweep: Sweep) -> list[dict[str, Any]]:
    """One row per trial, best test accuracy first; trials without one after, by number."""
    out = []
    trials = sweep.study.get_trials(deepcopy=False)
    retries = {t.system_attrs["retry_history"][-1]: t.number
               for t in trials if t.system_attrs.get("retry_history")}  # fmt: skip
    for t in trials:
        a = t.user_attrs
        values = {**t.system_attrs.get("fixed_params", {}), **t.params}
        out.append(
            {
                "trial": t.number,
                "state": STATES[t.state.name],
                **{p.name: values.get(p.name) for p in sweep.settings.params},
                "params": a.get("param_count"),
                "seconds_per_epoch": a.get("seconds_per_epoch"),
                "test_accuracy": a.get("test_accuracy"),
                "run_folder": _folder(sweep, t),
                "error": a.get("error") or _retried(t, retries),
            }
        )
    ranked = sorted(
        (r for r in out if r["test_accuracy"] is not None and r["state"] == "complete"),
        key=lambda r: (-r["test_accuracy"], r["trial"]),
    )
    rest = sorted((r for r in out if r not in ranked), key=lambda r: r["trial"])
    for i, r in enumerate(ranked, 1):
        r["rank"] = i
    return [{"rank": r.get("rank"), **r} for r in ranked + rest]


def _retried(trial: Any, retries: dict[int, int]) -> str | None:
    """Why a trial Optuna's heartbeat failed did not finish (it records no error itself)."""
    if trial.state.name != "FAIL" or trial.number not in retries:
        return None
    return f"interrupted: {_stale_why(trial)}; queued again as trial {retries[trial.number]}"


def _folder(sweep: Sweep, trial: Any) -> str | None:
    """The trial's run folder, unless it never started or failed before making it: its name
    when it is in this sweep folder, else where another worker has it (its path, and the
    machine's name when that is another)."""
    name = trial.user_attrs.get("run_folder")
    if name is None:
        return None
    here = sweep.folder / name
    path = trial.user_attrs.get("run_path")
    if path is None or path == str(here.resolve()):
        return None if trial.state.name == "FAIL" and not here.is_dir() else str(name)
    worker = trial.user_attrs.get("specc_worker") or {}
    if worker.get("host", HOST) == HOST:
        return None if trial.state.name == "FAIL" and not Path(path).is_dir() else str(path)
    return f"{path} on {worker.get('node')}"


def _cell(column: str, value: Any) -> str:
    """A value as the Markdown table shows it (the CSV keeps full precision)."""
    if value is None:
        return ""
    if column == "params":
        return f"{value:,}"
    if isinstance(value, float):
        if column == "test_accuracy":
            return f"{value:.4f}"
        return f"{value:.2f}" if column == "seconds_per_epoch" else f"{value:.4g}"
    return str(value)


def csv_text(table: list[dict[str, Any]], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    for r in table:
        writer.writerow({k: "" if r[k] is None else r[k] for k in columns})
    return buffer.getvalue()


def markdown_text(sweep: Sweep, table: list[dict[str, Any]], columns: list[str]) -> str:
    s = sweep.settings
    done = sum(r["state"] == "complete" for r in table)
    lines = [
        f"# Sweep of {s.spec}",
        "",
        f"{s.sampler} sampler, {len(table)} trial(s), {done} complete; "
        f"ranked by test accuracy. Run folders are in {sweep.folder}/.",
        "",
        "| " + " | ".join(columns) + " |",
        "|"
        + "|".join("---:" if c not in ("state", "run_folder", "error") else "---" for c in columns)
        + "|",
    ]
    for r in table:
        cells = [_cell(c, r[c]).replace("|", "\\|") for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(sweep: Sweep, table: list[dict[str, Any]], path: Path) -> None:
    """Test accuracy against each swept value, one panel per path (pruned trials hollow)."""
    from specc.files import atomic_path
    from specc.training.report import _pyplot

    plt = _pyplot()
    params = sweep.settings.params
    fig, axes = plt.subplots(1, len(params), figsize=(4.5 * len(params), 3.8), squeeze=False)
    for ax, p in zip(axes[0], params, strict=True):
        for state, style in (("complete", {"color": "C0"}),
                             ("pruned", {"facecolors": "none", "edgecolors": "C1"})):  # fmt: skip
            points = [(r[p.name], r["test_accuracy"]) for r in table
                      if r["state"] == state and r["test_accuracy"] is not None]  # fmt: skip
            if not points:
                continue
            xs = [x for x, _ in points]
            if p.is_grid and not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in p.values
            ):
                labels = [json.dumps(v) if not isinstance(v, str) else v for v in p.values]
                ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
                xs = [p.values.index(x) for x in xs]
            ax.scatter(xs, [y for _, y in points], label=state, zorder=3, **style)
        if ax.get_legend_handles_labels()[1] == ["complete", "pruned"]:
            ax.legend()
        if p.log:
            ax.set_xscale("log")
        elif p.whole:  # epochs, units, filters: no tick between two counts (1.2 epochs)
            from specc.training.report import integer_ticks

            integer_ticks(ax)
        ax.set_xlabel(p.name)
        ax.set_ylabel("test accuracy")
        ax.grid(alpha=0.3)
    if not any(r["test_accuracy"] is not None for r in table):
        fig.suptitle("no trial has finished yet")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def write_reports(sweep: Sweep) -> None:
    """sweep.csv, sweep.md and sweep.png from the study as it is now, each atomically."""
    table = rows(sweep)
    columns = ["rank", "trial", "state", *(p.name for p in sweep.settings.params),
               "params", "seconds_per_epoch", "test_accuracy", "run_folder", "error"]  # fmt: skip
    write_atomic(sweep.folder / "sweep.csv", csv_text(table, columns))
    write_atomic(sweep.folder / "sweep.md", markdown_text(sweep, table, columns))
    plot(sweep, table, sweep.folder / "sweep.png")


__all__ = [
    "Param",
    "Settings",
    "SweepUsageError",
    "open_sweep",
    "resolve_settings",
    "run",
    "spec_with",
]
