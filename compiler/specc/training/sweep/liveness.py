"""Trials left RUNNING by a worker that died: each running trial beats, a silent or gone
worker's trial is marked failed, with why, and its values queued again."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from specc.files import HOST, pid_alive

if TYPE_CHECKING:
    from specc.training.sweep.study import Sweep


HEARTBEAT_S = 30.0
"""How often a running trial says it is alive (Optuna's heartbeat in a database, a trial
attribute in a journal file)."""


STALE_AFTER_S = 600.0
"""A RUNNING trial of another machine silent this long is taken as dead (its worker is gone)."""


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
