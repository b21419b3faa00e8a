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

The package, one concern a module: :mod:`.params` (the swept values and the spec with
them), :mod:`.storage` (where the study lives), :mod:`.study` (settings; creating or
joining the study), :mod:`.liveness` (heartbeats; dead workers' trials queued again),
:mod:`.scheduling` (claiming and running trials) and :mod:`.reports` (tables, picture).
"""

from specc.training.sweep.liveness import recover_stale
from specc.training.sweep.params import (
    Param,
    SweepUsageError,
    check_values,
    parse_params,
    spec_with,
)
from specc.training.sweep.reports import accuracy_key, names_accuracy, plot, rows, write_reports
from specc.training.sweep.scheduling import claim, run, run_trial
from specc.training.sweep.storage import open_storage
from specc.training.sweep.study import Settings, Sweep, open_sweep, resolve_settings

__all__ = [
    "Param",
    "Settings",
    "Sweep",
    "SweepUsageError",
    "accuracy_key",
    "check_values",
    "claim",
    "names_accuracy",
    "open_storage",
    "open_sweep",
    "parse_params",
    "plot",
    "recover_stale",
    "resolve_settings",
    "rows",
    "run",
    "run_trial",
    "spec_with",
    "write_reports",
]
