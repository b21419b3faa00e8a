"""Running the queued trials: claim one (WAITING -> RUNNING, atomically), train it, record
how it ended; wait for the other workers' trials before the last tables."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from specc.errors import SpecError
from specc.language import paths
from specc.training.sweep.liveness import _heartbeat, _requeue, _worker, recover_stale
from specc.training.sweep.params import _said, spec_with
from specc.training.sweep.reports import STATES, _accuracy, accuracy_key, write_reports
from specc.training.sweep.storage import _first_line

if TYPE_CHECKING:
    from specc.training.sweep.study import Sweep


POLL_S = 2.0
"""How often a worker with nothing left to run looks whether the others' trials ended."""


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
    callback: Any = keras.callbacks.Callback  # Keras is untyped: a base of unknown type

    class Prune(callback):
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
