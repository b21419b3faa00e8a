"""The sweep as asked (Settings), and its Optuna study: created with every trial queued, or
joined (checked to be the same sweep) by another worker."""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from specc.analysis.pipeline import Compiled
from specc.language import loader, overrides, variants
from specc.training.sweep.params import Param, SweepUsageError, _named, check_values, parse_params
from specc.training.sweep.reports import names_accuracy
from specc.training.sweep.storage import open_storage

DEFAULT_TRIALS = 10
"""Trials of a random or TPE sweep when --trials is not given."""


READY_WAIT_S = 120.0
"""How long a worker waits for the study's creator to queue the trials (longer while the
creator says it is still queueing)."""


SAY_QUEUEING_OVER = 200
"""Queueing more trials than this says so, then how far it got every SAY_EVERY_S seconds
(each is a database write: 5 to 35 ms in SQLite)."""


SAY_EVERY_S = 10.0


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
    if compiled.spec.compile is None:  # nothing to train with, nor an accuracy to rank by
        raise SweepUsageError(
            f"{settings.spec}: error: compile: no compile section, so no accuracy to rank the "
            "trials by; add one (compile: {loss: ..., metrics: [accuracy]})"
        )
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
