"""``specc train``: validate, build, train on real data, evaluate, write a run folder.

The run folder holds ``model.keras``, ``history.json``, ``metrics.json``, ``curves.png``,
``confusion.png``, ``spec.yaml`` (the spec as run, overrides applied), ``report.html``
(with ``report.npz`` and ``diagram.svg``, what it is made from) and ``tensorboard/``, each
file written atomically. During training ``model.keras`` is the best checkpoint so far and
``history.json`` the epochs done, so Ctrl-C keeps what is complete.

Runtime choices (``runtime:`` / flags) make training fast without changing what the spec
says about the model, optimizer, batch size or epochs; ``auto`` picks what measured
fastest (docs/training.md, "Training speed against hand-written Keras").
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from specc.analysis.arrays import DataArrays
from specc.analysis.checks import CATEGORICAL, SPARSE
from specc.analysis.pipeline import Compiled
from specc.backends import plugins
from specc.backends.runtime import RuntimeChoiceError
from specc.backends.runtime import resolve as resolve_runtime
from specc.errors import Diagnostic, KerasMissingError
from specc.files import write_atomic
from specc.language.schema import DISTRIBUTED_STREAMS, FOLDER_DATASETS, Runtime, Spec, Training
from specc.terms.objects import loss_name
from specc.terms.user_code import allowing
from specc.training import distribute
from specc.training.data import Arrays, DataError, each, first, load, preprocess


class TrainError(Exception):
    """Training could not start or finish; the message says why."""


@dataclass
class Options:
    data: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    seed: int | None = None
    output_dir: str | None = None
    subset: int | None = None
    runtime: dict[str, Any] = field(default_factory=dict)
    verbose: int | str = "auto"
    track_test: bool = False
    """Evaluate on the test split after every epoch (benchmarks; not counted in epoch time)."""
    extra_callbacks: list[Any] = field(default_factory=list)
    """More Keras callbacks for ``fit`` (a sweep's per-epoch pruning report)."""


@dataclass
class RunResult:
    folder: Path
    metrics: dict[str, Any]
    history: dict[str, list[float]]
    interrupted: bool = False


def effective_spec(spec: Spec, options: Options) -> Spec:
    """The spec as it will run: command-line overrides applied, then re-validated."""
    training = (spec.training or Training()).model_dump(exclude_unset=True, by_alias=True)
    for key in ("epochs", "batch_size", "seed"):
        if getattr(options, key) is not None:
            training[key] = getattr(options, key)
    data = spec.data.model_dump(exclude_unset=True) if spec.data else None
    if data is not None and options.data:
        data["path"] = str(options.data)
    runtime = spec.runtime.model_dump(exclude_unset=True) | {
        k: v for k, v in options.runtime.items() if v is not None
    }
    dumped = spec.model_dump(exclude_unset=True, by_alias=True)  # an apply entry's `as`
    # The model as read (an operation's dump carries its Keras class as `type`, which an
    # entry may not write beside `op`).
    dumped |= {"training": training, "runtime": runtime, "model": spec.model}
    if data is not None:
        dumped["data"] = data
    # The model is not overridden: kept as read, with what a dump leaves out (inputs, as).
    with allowing(plugins.active_or_none()):  # the user's layers and losses, as given
        checked = Spec.model_validate(dumped, strict=False)
    return checked.model_copy(update={"model": spec.model})


def select_backend(runtime: Runtime) -> str:
    """Set KERAS_BACKEND before keras is imported; refuse a switch after it was."""
    wanted = (
        runtime.backend
        if runtime.backend != "auto"
        else os.environ.get("KERAS_BACKEND", "tensorflow")
    )
    if "keras" in sys.modules:
        current = sys.modules["keras"].backend.backend()
        if current != wanted:
            raise TrainError(
                f"keras is already loaded with backend {current!r}; cannot switch to {wanted!r}"
            )
        return current
    import importlib.util

    from specc.backends.kerasenv import INSTALL

    if importlib.util.find_spec(wanted) is None:  # backend names are their module names
        # the environment's fault, not the spec's: exit 2 (TrainError would say 1)
        raise KerasMissingError(f"Keras' {wanted} backend is not installed: {INSTALL[wanted]}")
    os.environ["KERAS_BACKEND"] = wanted
    return wanted


def device_name(backend: str) -> tuple[str, bool]:
    """A readable device description and whether it is a GPU."""
    if backend == "jax":
        import jax

        dev = jax.devices()[0]
        return f"{dev.platform}:{getattr(dev, 'device_kind', dev)}", dev.platform == "gpu"
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return f"gpu:{torch.cuda.get_device_name(0)}", True
        return "cpu", False
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return (f"gpu:{gpus[0].name}", True) if gpus else ("cpu", False)


def finite_json(value: Any) -> str:
    """JSON text with NaN and infinities written as ``null``: strict JSON has no NaN, and
    many readers (browsers, jq, other languages) refuse Python's bare ``NaN``."""

    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(value), indent=2, allow_nan=False) + "\n"


def _split_at(n: int, validation_split: float) -> int:
    """How many samples Keras trains on: ``fit`` splits at floor(n * (1 - split))."""
    return math.floor(n * (1.0 - validation_split)) if validation_split else n


def check_sample_counts(n: int, training: Training, subset: int | None) -> None:
    """Refuse, before any training, a sample count ``fit`` cannot split or train on."""
    split = training.validation_split
    at = _split_at(n, split)
    if 0 < at < n or (not split and n > 0):
        return
    if 1.0 - split == 1.0:
        raise TrainError(
            f"validation_split {split} is too small to hold out a single sample; use 0 for none"
        )
    need = max(2, math.ceil(1 / (1 - split)) - 2)
    while not 0 < _split_at(need, split) < need:
        need += 1
    origin = f"--subset {subset} leaves" if subset else "the data has"
    raise TrainError(
        f"{origin} {n} training sample(s): validation_split {split} would leave {at} for "
        f"training and {n - at} for validation, and each needs at least one; "
        f"use at least {need} samples or change training.validation_split"
    )


def _classes(spec: Spec, compiled: Compiled) -> int | dict[str, int | None] | None:
    """How many classes the labels count (None: not class labels); per output name for a
    model with several outputs."""
    graph = compiled.graph

    def of(name: str | None, loss: object, shape: object) -> int | None:
        steps = spec.data.preprocessing.y_steps(name) if spec.data else []
        if steps:
            return steps[-1].one_hot
        if loss is not None and loss_name(loss) in CATEGORICAL | SPARSE:
            return int(shape[-1])  # type: ignore[index]  # shape is known when the loss is categorical (checked by analysis)
        return None

    file_arrays = DataArrays.of(graph)
    if file_arrays.outputs:
        losses = spec.compile.loss if spec.compile else {}
        return {
            name: of(name, losses.get(name) if isinstance(losses, dict) else None, shape)
            for name, shape in zip(file_arrays.outputs, graph.output_shapes, strict=True)
        }
    return of(None, spec.compile.loss if spec.compile else None, graph.output_shape)


def _callbacks(
    keras: Any,
    spec: Spec,
    folder: Path,
    history: dict[str, list[float]],
    timer: dict,
    test: tuple | None = None,
) -> list[Any]:
    from specc.backends.keras_build import make_callbacks, save

    training = spec.training or Training()
    monitor = "val_loss" if training.validation_split else "loss"

    class RunFolder(keras.callbacks.Callback):
        """Per epoch: time it, keep history.json and the best model.keras up to date."""

        def __init__(self) -> None:
            super().__init__()
            self.best = float("inf")

        def on_epoch_begin(self, epoch, logs=None):
            timer["start"] = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            timer["epochs"].append(time.perf_counter() - timer["start"])
            for key, value in (logs or {}).items():
                history.setdefault(key, []).append(float(value))
            write_atomic(folder / "history.json", finite_json(history))
            current = (logs or {}).get(monitor)
            if (
                "diverged" not in timer
                and current is not None
                and math.isfinite(current)
                and current < self.best
            ):
                self.best = float(current)
                save(self.model, folder / "model.keras")
                timer["best_epoch"] = (epoch + 1, monitor, self.best)

    class StopOnNaN(keras.callbacks.Callback):
        """Stop at the first non-finite loss (like TerminateOnNaN) and remember where."""

        async_safe = True  # only sets a flag: keeps Keras' asynchronous batch callbacks

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def _check(self, logs: dict | None, step: int | None) -> None:
            loss = (logs or {}).get("loss")
            if "diverged" not in timer and loss is not None and not math.isfinite(float(loss)):
                timer["diverged"] = (self.epoch + 1, step, float(loss))
                self.model.stop_training = True

        def on_train_batch_end(self, batch, logs=None):
            steps = self.params.get("steps")  # an execution's last step can overshoot (see below)
            self._check(logs, min(batch + 1, steps) if steps else batch + 1)

        def on_epoch_end(self, epoch, logs=None):
            self._check(logs, None)  # the fused loop reports once per epoch

    class TrackTest(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            result = self.model.evaluate(  # type: ignore[misc]  # TrackTest is added only when test is set (_callbacks below)
                *test, batch_size=training.batch_size, verbose=0, return_dict=True
            )
            for key, value in result.items():
                timer.setdefault(f"test_{key}_by_epoch", []).append(round(float(value), 5))

    tensorboard = keras.callbacks.TensorBoard(
        log_dir=str(folder / "tensorboard"), write_graph=False
    )
    return [
        *make_callbacks(spec),
        StopOnNaN(),
        RunFolder(),
        tensorboard,
        *([TrackTest()] if test else []),
    ]


def progress_bar(keras: Any) -> Any:
    """Keras' progress bar, never past its target.

    With ``steps_per_execution`` k, ``fit`` reports each execution as ending at step
    ``begin + k - 1`` even when the epoch's last execution runs fewer steps, so 36 steps
    at k = 8 showed ``40/36``. Only the display is clamped; training is untouched.
    """

    class ProgressBar(keras.callbacks.ProgbarLogger):
        async_safe = True  # as Keras' own default bar, which runs asynchronously

        def on_train_batch_end(self, batch, logs=None):
            if self.target is not None:
                batch = min(batch, self.target - 1)
            super().on_train_batch_end(batch, logs)

    return ProgressBar()


def _kept(folder: Path, timer: dict) -> str:
    """What the run folder holds now, said exactly (read from disk, not assumed)."""
    parts = []
    if (folder / "history.json").is_file():
        n = len(timer["epochs"])
        parts.append(
            f"history.json ({n} epoch{'s' if n != 1 else ''})" if n else
            "history.json (of an earlier run, not this one)"
        )  # fmt: skip
    if (folder / "model.keras").is_file():
        if "best_epoch" in timer:
            epoch, monitor, value = timer["best_epoch"]
            parts.append(f"model.keras (the best so far: epoch {epoch}, {monitor} {value:.4f})")
        else:
            parts.append("model.keras (of an earlier run, not this one)")
    if (folder / "spec.yaml").is_file():
        parts.append("spec.yaml")
    if (folder / "tensorboard").is_dir():
        parts.append("tensorboard/")
    if not parts:
        return f"{folder}/ holds nothing"
    if len(parts) == 1:
        return f"{folder}/ holds {parts[0]} only"
    return f"{folder}/ holds {', '.join(parts[:-1])} and {parts[-1]}"


def _choose_runtime(
    spec: Spec, backend: str, gpu: bool, file_arrays: DataArrays, plan: distribute.Plan | None,
    streamed: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """The runtime (loop, jit, steps per execution) for this backend and device: a model
    fed several arrays, or a stream, falls back from an automatic fused loop to fit; a
    strategy adjusts."""
    training = spec.training or Training()
    try:
        runtime = resolve_runtime(spec.runtime, backend, gpu)
    except RuntimeChoiceError as exc:
        raise TrainError(str(exc)) from None
    several = bool(file_arrays.inputs or file_arrays.outputs)
    if runtime["loop"] == "fused" and (several or streamed or training.fine_tune is not None):
        if spec.runtime.loop == "fused" and streamed:
            raise TrainError(STREAMED_FUSED)
        if spec.runtime.loop == "fused":
            raise TrainError(
                "runtime.loop 'fused' feeds one input and one label array; this model has "
                "several inputs or outputs: use loop: fit (or auto)"
                if several else
                "runtime.loop 'fused' trains one phase; training.fine_tune needs a second "
                "(unfrozen, recompiled): use loop: fit (or auto)"
            )  # fmt: skip
        runtime = resolve_runtime(spec.runtime.model_copy(update={"loop": "fit"}), backend, gpu)
    if plan is not None and training.fine_tune is not None:
        raise TrainError(
            "training.fine_tune under training.distribution is not supported yet: train "
            "without distribution"
        )
    if plan is not None:
        plan.check_batch(training.batch_size)
        runtime = plan.runtime(runtime, spec.runtime)
    return runtime


def _seed(keras: Any, backend: str, training: Training) -> int:
    """Seed Keras (0 when the spec gives none); a seeded TensorFlow run also made
    deterministic, so seeded CPU runs repeat exactly."""
    seed = training.seed if training.seed is not None else 0
    keras.utils.set_random_seed(seed)
    if backend == "tensorflow" and training.seed is not None:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()  # seeded CPU runs repeat exactly
    return seed


def _run_folder(spec: Spec, options: Options, plan: distribute.Plan | None) -> Path:
    """The run's folder (given, or runs/<name>-<time>; a worker's own under a strategy),
    made, with the spec as run written into it."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = Path(options.output_dir or Path("runs") / f"{spec.name}-{stamp}")
    folder = plan.folder(folder) if plan is not None else folder
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / "spec.yaml", _spec_yaml(spec))
    return folder


def _fit(
    keras: Any,
    model: Any,
    arrays: Arrays,
    training: Training,
    runtime: dict[str, Any],
    plan: distribute.Plan | None,
    callbacks: list[Any],
    seed: int,
    verbose: int | str,
    initial_epoch: int = 0,
) -> None:
    """Fit the model by the chosen loop: specc's fused trainer, the strategy's, or Keras'
    (from ``initial_epoch``: fine-tuning goes on where the first phase ended)."""
    if runtime["loop"] == "fused":
        from specc.training.fused import FusedTrainer

        FusedTrainer(model).fit(
            arrays.x_train, arrays.y_train, batch_size=training.batch_size, epochs=training.epochs,  # type: ignore[arg-type]  # Feed may be a dict of named inputs; FusedTrainer.fit is typed (and tested) for single arrays
            validation_split=training.validation_split, shuffle=training.shuffle, seed=seed,
            callbacks=callbacks, verbose=0 if verbose == 0 else 1,
        )  # fmt: skip
    elif not isinstance(arrays, Arrays):  # an image folder's or CSV's tf.data streams
        if plan is not None:  # one local sample builds the model (a multi-worker fix)
            plan.streams_built(model, arrays.test)
        model.fit(
            arrays.train, validation_data=arrays.validation, epochs=training.epochs,
            shuffle=False, callbacks=[*callbacks, progress_bar(keras)], verbose=verbose,
            initial_epoch=initial_epoch,
        )  # fmt: skip
    elif plan is not None:
        plan.fit(
            model, arrays.x_train, arrays.y_train, batch_size=training.batch_size, epochs=training.epochs,
            validation_split=training.validation_split, shuffle=training.shuffle, seed=seed,
            callbacks=[*callbacks, progress_bar(keras)], verbose=verbose,
        )  # fmt: skip
    else:
        model.fit(
            arrays.x_train, arrays.y_train, batch_size=training.batch_size, epochs=training.epochs,
            validation_split=training.validation_split, shuffle=training.shuffle,
            callbacks=[*callbacks, progress_bar(keras)], verbose=verbose,
            initial_epoch=initial_epoch,
        )  # fmt: skip


def _evaluate(
    model: Any, arrays: Arrays, batch_size: int, plan: distribute.Plan | None
) -> dict[str, Any]:
    """The trained model's test metrics (through the strategy's data where one is used)."""
    if plan is None:
        return model.evaluate(
            arrays.x_test,
            arrays.y_test,
            batch_size=batch_size,
            verbose=0,
            return_dict=True,
        )
    return model.evaluate(
        **plan.test_data(arrays.x_test, arrays.y_test, batch_size), verbose=0, return_dict=True
    )


def _metrics(
    scores: dict[str, Any],
    timer: dict[str, Any],
    wall: float,
    samples: int,
    training: Training,
    backend: str,
    device: str,
    runtime: dict[str, Any],
    seed: int,
    source: str,
    trained: int | None = None,
) -> dict[str, Any]:
    """metrics.json's record of a run: test metrics, timings, where and how it ran;
    ``trained``: the samples an epoch trains on, where ``samples`` are not split by fit."""
    epochs = timer["epochs"]
    later = epochs[1:] or epochs
    metrics = (
        {f"test_{k}": float(v) for k, v in scores.items()}
        | {
            "epochs": len(epochs),
            "first_epoch_seconds": round(epochs[0], 3),
            "seconds_per_epoch": round(float(np.mean(later)), 3),
            "epoch_seconds": [round(s, 3) for s in epochs],
            "total_wall_seconds": round(wall, 3),
            "samples_per_second": round(
                (trained or samples * (1 - training.validation_split)) / float(np.mean(later)), 1
            ),
            "backend": backend,
            "device": device,
            "runtime": {k: v for k, v in runtime.items() if k != "backend"},
            "batch_size": training.batch_size,
            "seed": seed,
            "train_samples": samples,
            "data": source,
        }
        | {k: v for k, v in timer.items() if k.endswith("_by_epoch")}
    )
    return metrics


def per_output(scores: dict[str, Any], outputs: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """Test metrics by output: Keras reports ``<output>_<metric>`` (``kind_accuracy``,
    ``age_loss``) next to the total ``loss``; a key goes to the longest output name it
    starts with (``age_group_loss`` to ``age_group``, not ``age``).

    >>> per_output({"loss": 1.0, "age_loss": 0.5, "age_group_mae": 2.0}, ("age", "age_group"))
    {'age': {'loss': 0.5}, 'age_group': {'mae': 2.0}}
    """
    grouped: dict[str, dict[str, float]] = {name: {} for name in outputs}
    by_length = sorted(outputs, key=len, reverse=True)
    for key, value in scores.items():
        owner = next((name for name in by_length if key.startswith(f"{name}_")), None)
        if owner is not None:
            grouped[owner][key.removeprefix(f"{owner}_")] = float(value)
    return grouped


def _fine_tune(
    keras: Any, model: Any, compiled: Compiled, spec: Spec, feed: Any,
    runtime: dict[str, Any], callbacks: list[Any], seed: int, options: Options,
) -> None:  # fmt: skip
    """The second phase, as the transfer-learning tutorial fine-tunes: the base unfrozen
    from the spec's layer on, compiled again at the lower learning rate (the spec's
    optimizer otherwise), trained ``fine_tune.epochs`` more from the epoch phase one ended."""
    from specc.analysis import finetune
    from specc.backends import keras_build

    training = spec.training or Training()
    fine = training.fine_tune
    where = finetune.resolve(spec, compiled.graph, lambda loc, message: Diagnostic(message))
    assert fine is not None and isinstance(where, finetune.Unfreeze)  # checked by validate
    keras_build.unfreeze(model, where.layer.name, where.at)
    optimizer = keras_build.make_optimizer(spec)
    optimizer.learning_rate = fine.learning_rate
    model.compile(
        optimizer=optimizer,
        **keras_build.compile_arguments(spec),
        jit_compile=runtime["jit_compile"],
        steps_per_execution=runtime["steps_per_execution"],
    )
    done = len(model.history.epoch) if getattr(model, "history", None) else training.epochs
    total = training.model_copy(update={"epochs": done + fine.epochs})
    print(f"specc: fine-tuning {where.layer.name} from layer {where.at} "
          f"({where.names[where.at]}) at learning rate {fine.learning_rate:g}, "
          f"epochs {done + 1}-{done + fine.epochs}", flush=True)  # fmt: skip
    _fit(keras, model, feed, total, runtime, None, callbacks, seed, options.verbose, done)


def _check_not_diverged(timer: dict[str, Any], folder: Path) -> None:
    """Stop with a message where the loss stopped being finite (the timer callback noted
    where), saying what the run folder kept."""
    if "diverged" in timer:
        epoch, step, loss = timer["diverged"]
        where = f"epoch {epoch}" + (f", step {step}" if step is not None else "")
        raise TrainError(
            f"training diverged: the loss became {loss} in {where}, so training stopped; "
            f"{_kept(folder, timer)}; try a lower learning rate or check the data"
        )


def _built(spec: Spec, compiled: Compiled) -> Any:
    """The model, uncompiled; a weights file that does not fit said in one line."""
    from specc.backends import keras_build

    try:
        return keras_build.build(spec, compiled.graph, compile=False)
    except keras_build.WeightsError as exc:
        raise TrainError(str(exc)) from None


def _weights_found(compiled: Compiled) -> None:
    """Every sub-model's weights file is there, before Keras loads (one line each)."""
    from specc.analysis.pipeline import locate_weights
    from specc.errors import SpecError

    try:
        locate_weights(compiled)
    except SpecError as exc:
        raise TrainError(str(exc)) from None


STREAMED_FUSED = (
    "runtime.loop 'fused' keeps the whole training set on the device as arrays, but this "
    "data is streamed batch by batch through tf.data: use loop: fit (or auto)"
)
ONE_DEVICE = "{} data trains without training.distribution or --subset (yet)"


def _streamed(dataset: str) -> Any:
    """The module that checks and streams a folder or file dataset."""
    import importlib

    modules = {"csv": "csv_table", "timeseries": "timeseries", "audio_folder": "audio_folder",
               "text_folder": "text_folder"}  # fmt: skip
    return importlib.import_module(f"specc.training.{modules.get(dataset, 'image_folder')}")


def _check_streamed(spec: Spec, compiled: Compiled, classes: Any) -> Any:
    """A folder or CSV checked (before Keras loads): what its ``open_streams`` takes."""
    assert spec.data is not None and spec.data.path is not None  # the schema requires a path
    graph = compiled.graph
    shape = graph.inputs[0].shape[1:] if graph.functional else spec.model.input.shape
    units = classes if isinstance(classes, int) else None
    training = spec.training or Training()
    split = training.validation_split
    module = _streamed(spec.data.dataset)
    if module.__name__.endswith("timeseries"):
        return module.check(spec.data, Path(spec.data.path), tuple(shape),
                            tuple(graph.output_shape[1:]), classes, split, training.shuffle)  # fmt: skip
    if spec.data.dataset == "csv":  # each model input's dtype, for data.inputs
        inputs = graph.inputs if graph.functional else ()
        dtypes = {given.name: given.dtype for given in inputs} or {
            graph.input_name: spec.model.input.dtype
        }
        return module.check(spec.data, Path(spec.data.path), tuple(shape), units, split, dtypes)
    if spec.data.dataset == "text_folder":
        dtype = graph.inputs[0].dtype if graph.functional else spec.model.input.dtype
        return module.check(spec.data, Path(spec.data.path), tuple(shape), units, split, dtype)
    return module.check(spec.data, Path(spec.data.path), tuple(shape), units, split)


def _read_data(
    spec: Spec, compiled: Compiled, options: Options, classes: Any, plan: Any
) -> tuple[Any, Arrays | None, int, str]:
    """The data, before Keras loads: a folder or CSV checked (streamed later), or the
    arrays loaded and preprocessed; with the training samples and where they come from."""
    assert spec.data is not None  # train() checked
    training = spec.training or Training()
    if spec.data.dataset in FOLDER_DATASETS:
        if spec.data.dataset not in DISTRIBUTED_STREAMS and (plan is not None or options.subset):
            raise TrainError(ONE_DEVICE.format(spec.data.dataset))
        checked = _check_streamed(spec, compiled, classes)
        if options.subset:  # the first N training and test samples, as for arrays
            checked = replace(checked, subset=options.subset)
        return checked, None, checked.train_samples, str(spec.data.path)
    file_arrays = DataArrays.of(compiled.graph)
    raw = load(spec.data, classes, options.data, file_arrays).subset(options.subset)
    arrays = preprocess(raw, spec.data)
    samples = len(first(arrays.x_train))
    check_sample_counts(samples, training, options.subset)
    return None, arrays, samples, arrays.source


def train(compiled: Compiled, options: Options) -> RunResult:
    """Run a spec end to end; raise DataError/TrainError with a clear message."""
    spec = effective_spec(compiled.spec, options)
    _weights_found(compiled)  # before Keras loads
    if spec.data is None or spec.compile is None:
        missing = " and ".join(repr(k) for k in ("data", "compile") if getattr(spec, k) is None)
        raise TrainError(f"{compiled.file}: training needs {missing} in the spec")
    training = spec.training or Training()
    backend = select_backend(spec.runtime)
    plan = distribute.strategy_scope(training.distribution, backend, spec.runtime.backend)
    classes = _classes(spec, compiled)
    file_arrays = DataArrays.of(compiled.graph)
    checked, arrays, samples, source = _read_data(spec, compiled, options, classes, plan)

    from specc.backends import keras_build
    from specc.backends.kerasenv import keras as get_keras
    from specc.layers.lookup import lookup_adapts

    keras = get_keras()
    device, gpu = device_name(backend)
    runtime = _choose_runtime(spec, backend, gpu, file_arrays, plan, checked is not None)
    seed = _seed(keras, backend, training)
    folder = _run_folder(spec, options, plan)
    feed: Any = arrays
    if checked is not None:  # after the seed: Keras' loader shuffles with it
        module = _streamed(spec.data.dataset)
        if spec.data.dataset in DISTRIBUTED_STREAMS:  # a file cache, even batches for a strategy
            feed = module.open_streams(checked, training.batch_size, seed, folder / "cache",
                                       plan.replicas if plan else 1)  # fmt: skip
        else:
            feed = module.open_streams(checked, training.batch_size, seed)

    with distribute.scope(plan):  # a strategy's variables are made in its scope
        model = _built(spec, compiled)
        # A Normalization given no mean/variance learns them from the training part of the data.
        keras_build.adapt_normalization(
            model, _adapt_data(feed, samples, training), lookup_adapts(compiled.graph)
        )
        model.compile(
            optimizer=keras_build.make_optimizer(spec),
            **keras_build.compile_arguments(spec),
            jit_compile=runtime["jit_compile"],
            steps_per_execution=1 if runtime["loop"] == "fused" else runtime["steps_per_execution"],
        )
    history: dict[str, list[float]] = {}
    timer: dict[str, Any] = {"epochs": []}
    test = (arrays.x_test, arrays.y_test) if options.track_test and arrays else None
    callbacks = [*_callbacks(keras, spec, folder, history, timer, test), *options.extra_callbacks]
    print(f"specc: training {spec.name} on {samples:,} samples from {source}; "
          f"backend {backend}, device {device}, {runtime}", flush=True)  # fmt: skip
    notes = [f"{plan.describe()}, global batch {training.batch_size}", *plan.notes] if plan else []
    notes += getattr(feed, "notes", [])
    if notes:
        print("; ".join(f"specc: {n}" if not i else n for i, n in enumerate(notes)), flush=True)
    interrupted = False
    start = time.perf_counter()
    try:
        _fit(keras, model, feed, training, runtime, plan, callbacks, seed, options.verbose)
        if training.fine_tune is not None and "diverged" not in timer:  # the second phase
            _fine_tune(keras, model, compiled, spec, feed, runtime, callbacks, seed, options)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        getattr(feed, "close", lambda: None)()  # a stream's file cache
    wall = time.perf_counter() - start
    if interrupted:
        done = len(timer["epochs"])
        print(f"\ninterrupted after {done} complete epoch{'s' if done != 1 else ''}; "
              f"{_kept(folder, timer)}", file=sys.stderr)  # fmt: skip
        return RunResult(folder, {}, history, interrupted=True)
    _check_not_diverged(timer, folder)
    run = _Run(compiled, spec, model, feed, classes, folder, plan, training, source,
               file_arrays.outputs)  # fmt: skip
    trained = samples if checked is not None else None  # a stream's own training part
    return _finish(run, history, _metrics(
        {}, timer, wall, samples, training, backend, device, runtime, seed, source, trained))  # fmt: skip


@dataclass
class _Run:
    """A trained model and what the run folder is written from."""

    compiled: Compiled
    spec: Spec
    model: Any
    feed: Any
    """The data: :class:`Arrays`, or an image folder's :class:`image_folder.Streams`."""
    classes: Any
    folder: Path
    plan: distribute.Plan | None
    training: Training
    source: str
    outputs: Any = None
    """The model's output names where it has several (metrics.json groups them)."""


def _adapt_data(feed: Any, samples: int, training: Training) -> Any:
    """What an unadapted Normalization learns from: the training part of the arrays (as
    fit splits them), or an image folder's training images."""
    if isinstance(feed, Arrays):
        fit_part = int(samples * (1 - training.validation_split))
        return each(feed.x_train, lambda a: a[:fit_part])
    return feed.train.map(lambda x, y: x)


def _finish(run: _Run, history: dict[str, list[float]], metrics: dict[str, Any]) -> RunResult:
    """Evaluate, then write model.keras, metrics.json, history.json, the pictures and the report."""
    from specc.backends import keras_build

    folder, batch = run.folder, run.training.batch_size
    keras_build.save(run.model, folder / "model.keras")
    arrays = run.feed
    if isinstance(run.feed, Arrays):
        scores = _evaluate(run.model, run.feed, batch, run.plan)
    else:
        from specc.training.image_folder import test_arrays

        scores = run.model.evaluate(run.feed.test, verbose=0, return_dict=True)
        x_test, y_test, whole = test_arrays(run.feed)
        arrays = Arrays(x_test, y_test, x_test, y_test, run.source)
        if run.feed.class_names:
            metrics["class_names"] = run.feed.class_names
        if getattr(run.feed, "normalization", None):  # a time series' training statistics
            metrics["normalization"] = run.feed.normalization
        if not whole:
            print(f"specc: the report and confusion matrix show the first {len(x_test):,} "
                  "test images (of more than fit its memory budget)", flush=True)  # fmt: skip
    metrics = {f"test_{k}": float(v) for k, v in scores.items()} | metrics
    if run.outputs:
        metrics["outputs"] = per_output(scores, run.outputs)
    regression = _regression(run, arrays, metrics)
    if run.plan is not None:
        metrics |= {
            "distribution": run.plan.describe(),
            "weights_sha256": distribute.weights_sha256(run.model),
        }
    write_atomic(folder / "metrics.json", finite_json(metrics))
    write_atomic(folder / "history.json", finite_json(history))
    _pictures(run.model, arrays, history, run.classes, folder, run.spec.name, batch, run.plan)
    from specc.training import html_report  # report.npz, diagram.svg, then report.html

    html_report.save_data(run.compiled, run.model, arrays, run.classes, folder, batch, run.plan,
                          regression)  # fmt: skip
    html_report.write(folder, folder / "report.html")
    return RunResult(folder, metrics, history)


def _regression(run: _Run, arrays: Any, metrics: dict[str, Any]) -> bool:
    """For a regression (one output, no class labels, a regression loss): ``predicted.png``,
    predicted against true test values, and their MAE, RMSE and R² in ``metrics.json``
    (``regression``), where a classifier gets its confusion matrix. Whether it is one."""
    from specc.training import report

    loss = run.spec.compile.loss if run.spec.compile else None
    if (
        run.outputs or run.classes is not None or loss is None or isinstance(loss, dict)
        or loss_name(loss) not in report.REGRESSION_LOSSES
    ):  # fmt: skip
        return False
    batch = run.training.batch_size
    if run.plan is None:
        predicted, n = run.model.predict(arrays.x_test, batch_size=batch, verbose=0), None
    else:
        inputs, n = run.plan.test_inputs(arrays.x_test, batch)
        predicted = run.model.predict(**inputs, verbose=0)
    truth = arrays.y_test if n is None else arrays.y_test[:n]
    try:
        scores = report.regression_metrics(truth, predicted)
    except ValueError:  # labels and predictions of different sizes: no picture to draw
        return False
    metrics["regression"] = scores
    r2 = scores["r2"]
    title = f"{run.spec.name}: test R² {r2:.3f}" if r2 is not None else run.spec.name
    names = list(run.spec.data.targets or []) if run.spec.data else None
    report.predicted_vs_true(truth, predicted, run.folder / "predicted.png", title, names)
    return True


def _pictures(
    model: Any, arrays: Any, history: dict, classes: Any, folder: Path, name: str, batch: int,
    plan: distribute.Plan | None = None,
) -> None:  # fmt: skip
    """``curves.png``, and a test confusion matrix per output of class labels:
    ``confusion.png`` for a model of one output, ``confusion_<output>.png`` for each such
    output of several (an output that is no classification, a regression, has none)."""
    from specc.training import report

    report.curves(history, folder / "curves.png")
    wanted = classes if isinstance(classes, dict) else {None: classes}
    if not any(isinstance(n, int) and n for n in wanted.values()):
        return
    if plan is None:
        from specc.training.text_folder import predict_feed

        predictions, n = model.predict(**predict_feed(arrays.x_test, batch), verbose=0), None
    else:
        inputs, n = plan.test_inputs(arrays.x_test, batch)
        predictions = model.predict(**inputs, verbose=0)
    if not isinstance(predictions, list | tuple | dict):
        predictions = [predictions]
    if not isinstance(predictions, dict):  # Keras gives several outputs in model.outputs' order
        predictions = dict(zip(wanted, predictions, strict=True))
    for output, count in wanted.items():
        if not (isinstance(count, int) and count):
            continue
        y = arrays.y_test[output] if output is not None else arrays.y_test
        y = y if n is None else y[:n]
        predicted = np.asarray(predictions[output]).argmax(axis=-1)
        truth = y.argmax(axis=-1) if y.ndim == 2 else y.astype(int)
        accuracy = float((predicted == truth).mean())
        file = "confusion.png" if output is None else f"confusion_{output}.png"
        title = name if output is None else f"{name}: {output}"
        report.confusion(
            truth, predicted, count, folder / file, f"{title}: test accuracy {accuracy:.4f}"
        )


def _layer_data(layer: Any) -> dict[str, Any]:
    """A layer entry as data, with the routes a graph spec gives it (``inputs``, ``as``:
    spec-only, so not fields a dump includes) and an ``apply`` entry's ``as`` as written."""
    data = layer.model_dump(mode="json", exclude_none=True, by_alias=True)
    for key, value in (
        ("inputs", getattr(layer, "inputs", None)),
        ("as", layer.label if hasattr(layer, "label") else None),
    ):
        if value is not None:
            data[key] = list(value) if isinstance(value, tuple) else value
    return data


def _spec_yaml(spec: Spec) -> str:
    from specc.language.loader import dump_yaml  # reads back the same under YAML 1.2 (1e3 quoted)

    data = spec.model_dump(mode="json", exclude_none=True, by_alias=True)
    data["model"]["layers"] = [_layer_data(layer) for layer in spec.model.layers]
    body = dump_yaml(data, sort_keys=False, width=100)
    return (
        "# The spec as run by specc train (defaults and command-line overrides applied).\n" + body
    )


__all__ = ["DataError", "Options", "RunResult", "TrainError", "train"]
