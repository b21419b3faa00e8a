"""``specc train``: validate, build, train on real data, evaluate, write a run folder.

The run folder holds ``model.keras``, ``history.json``, ``metrics.json``, ``curves.png``,
``confusion.png`` and ``spec.yaml`` (the spec as run, overrides applied), each written
atomically. During training ``model.keras`` is the best checkpoint so far and
``history.json`` the epochs done, so Ctrl-C keeps what is complete.

Runtime choices (``runtime:`` / flags) make training fast without changing what the spec
says about the model, optimizer, batch size or epochs; ``auto`` picks what measured
fastest (README, "Training speed").
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from specc.checks import CATEGORICAL, SPARSE
from specc.data import DataError, load, preprocess
from specc.files import write_atomic
from specc.pipeline import Compiled
from specc.runtime import RuntimeChoiceError
from specc.runtime import resolve as resolve_runtime
from specc.schema import Runtime, Spec, Training


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


@dataclass
class RunResult:
    folder: Path
    metrics: dict[str, Any]
    history: dict[str, list[float]]
    interrupted: bool = False


def effective_spec(spec: Spec, options: Options) -> Spec:
    """The spec as it will run: command-line overrides applied, then re-validated."""
    training = (spec.training or Training()).model_dump(exclude_unset=True)
    for key in ("epochs", "batch_size", "seed"):
        if getattr(options, key) is not None:
            training[key] = getattr(options, key)
    data = spec.data.model_dump(exclude_unset=True) if spec.data else None
    if data is not None and options.data:
        data["path"] = str(options.data)
    runtime = spec.runtime.model_dump(exclude_unset=True) | {
        k: v for k, v in options.runtime.items() if v is not None
    }
    dumped = spec.model_dump(exclude_unset=True) | {"training": training, "runtime": runtime}
    if data is not None:
        dumped["data"] = data
    return Spec.model_validate(dumped, strict=False)


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

    if importlib.util.find_spec(wanted) is None:  # backend names are their module names
        raise TrainError(f"backend {wanted!r} is not installed (pip install {wanted})")
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


def _classes(spec: Spec, compiled: Compiled) -> int | None:
    steps = spec.data.preprocessing.y if spec.data else []
    if steps:
        return steps[-1].one_hot
    if spec.compile and spec.compile.loss in CATEGORICAL | SPARSE:
        return int(compiled.graph.output_shape[-1])  # type: ignore[arg-type]
    return None


def _callbacks(
    keras: Any,
    spec: Spec,
    folder: Path,
    history: dict[str, list[float]],
    timer: dict,
    test: tuple | None = None,
) -> list[Any]:
    from specc.keras_build import make_callbacks, save

    training = spec.training or Training()
    monitor = "val_loss" if training.validation_split else "loss"

    class RunFolder(keras.callbacks.Callback):
        """Per epoch: time it, keep history.json and the best model.keras up to date."""

        def __init__(self) -> None:
            super().__init__()
            self.best = float("inf")

        def on_epoch_begin(self, epoch, logs=None):  # type: ignore[no-untyped-def]
            timer["start"] = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):  # type: ignore[no-untyped-def]
            timer["epochs"].append(time.perf_counter() - timer["start"])
            for key, value in (logs or {}).items():
                history.setdefault(key, []).append(float(value))
            write_atomic(folder / "history.json", json.dumps(history, indent=2) + "\n")
            current = (logs or {}).get(monitor)
            if current is not None and current < self.best:
                self.best = float(current)
                save(self.model, folder / "model.keras")

    class TrackTest(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):  # type: ignore[no-untyped-def]
            result = self.model.evaluate(
                *test, batch_size=training.batch_size, verbose=0, return_dict=True
            )
            for key, value in result.items():
                timer.setdefault(f"test_{key}_by_epoch", []).append(round(float(value), 5))

    return [*make_callbacks(spec), RunFolder(), *([TrackTest()] if test else [])]


def train(compiled: Compiled, options: Options) -> RunResult:
    """Run a spec end to end; raise DataError/TrainError with a clear message."""
    spec = effective_spec(compiled.spec, options)
    if spec.data is None or spec.compile is None:
        missing = " and ".join(repr(k) for k in ("data", "compile") if getattr(spec, k) is None)
        raise TrainError(f"{compiled.file}: training needs {missing} in the spec")
    training = spec.training or Training()
    backend = select_backend(spec.runtime)
    classes = _classes(spec, compiled)
    raw = load(spec.data, classes, options.data).subset(options.subset)
    arrays = preprocess(raw, spec.data)

    from specc import keras_build
    from specc.kerasenv import keras as get_keras

    keras = get_keras()
    device, gpu = device_name(backend)
    try:
        runtime = resolve_runtime(spec.runtime, backend, gpu)
    except RuntimeChoiceError as exc:
        raise TrainError(str(exc)) from None
    seed = training.seed if training.seed is not None else 0
    keras.utils.set_random_seed(seed)
    if backend == "tensorflow" and training.seed is not None:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()  # seeded CPU runs repeat exactly

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = Path(options.output_dir or Path("runs") / f"{spec.name}-{stamp}")
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / "spec.yaml", _spec_yaml(spec))

    model = keras_build.build(spec, compiled.graph, compile=False)
    # A Normalization given no mean/variance learns them from the training part of the data.
    fit_part = int(len(arrays.x_train) * (1 - training.validation_split))  # as fit splits
    keras_build.adapt_normalization(model, arrays.x_train[:fit_part])
    model.compile(
        optimizer=keras_build.make_optimizer(spec),
        loss=spec.compile.loss,
        metrics=list(spec.compile.metrics),
        jit_compile=runtime["jit_compile"],
        steps_per_execution=1 if runtime["loop"] == "fused" else runtime["steps_per_execution"],
    )
    history: dict[str, list[float]] = {}
    timer: dict[str, Any] = {"epochs": []}
    test = (arrays.x_test, arrays.y_test) if options.track_test else None
    callbacks = _callbacks(keras, spec, folder, history, timer, test)
    print(f"specc: training {spec.name} on {len(arrays.x_train):,} samples from {arrays.source}; "
          f"backend {backend}, device {device}, {runtime}", flush=True)  # fmt: skip
    interrupted = False
    start = time.perf_counter()
    try:
        if runtime["loop"] == "fused":
            from specc.fused import FusedTrainer

            FusedTrainer(model).fit(
                arrays.x_train, arrays.y_train, batch_size=training.batch_size, epochs=training.epochs,
                validation_split=training.validation_split, shuffle=training.shuffle, seed=seed,
                callbacks=callbacks, verbose=0 if options.verbose == 0 else 1,
            )  # fmt: skip
        else:
            model.fit(
                arrays.x_train, arrays.y_train, batch_size=training.batch_size, epochs=training.epochs,
                validation_split=training.validation_split, shuffle=training.shuffle,
                callbacks=callbacks, verbose=options.verbose,
            )  # fmt: skip
    except KeyboardInterrupt:
        interrupted = True
    wall = time.perf_counter() - start
    if interrupted:
        done = len(timer["epochs"])
        print(f"\ninterrupted after {done} complete epoch(s); {folder}/ keeps history.json"
              + (" and the best model.keras so far" if done else ""), file=sys.stderr)  # fmt: skip
        return RunResult(folder, {}, history, interrupted=True)

    keras_build.save(model, folder / "model.keras")
    test = model.evaluate(
        arrays.x_test, arrays.y_test, batch_size=training.batch_size, verbose=0, return_dict=True
    )
    epochs = timer["epochs"]
    later = epochs[1:] or epochs
    metrics = (
        {f"test_{k}": float(v) for k, v in test.items()}
        | {
            "epochs": len(epochs),
            "first_epoch_seconds": round(epochs[0], 3),
            "seconds_per_epoch": round(float(np.mean(later)), 3),
            "epoch_seconds": [round(s, 3) for s in epochs],
            "total_wall_seconds": round(wall, 3),
            "samples_per_second": round(
                len(arrays.x_train) * (1 - training.validation_split) / float(np.mean(later)), 1
            ),
            "backend": backend,
            "device": device,
            "runtime": {k: v for k, v in runtime.items() if k != "backend"},
            "batch_size": training.batch_size,
            "seed": seed,
            "train_samples": len(arrays.x_train),
            "data": arrays.source,
        }
        | {k: v for k, v in timer.items() if k.endswith("_by_epoch")}
    )
    write_atomic(folder / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    write_atomic(folder / "history.json", json.dumps(history, indent=2) + "\n")
    _pictures(model, arrays, history, classes, folder, spec.name, training.batch_size)
    return RunResult(folder, metrics, history)


def _pictures(
    model: Any, arrays: Any, history: dict, classes: int | None, folder: Path, name: str, batch: int
) -> None:
    from specc import report

    report.curves(history, folder / "curves.png")
    if classes:
        predicted = model.predict(arrays.x_test, batch_size=batch, verbose=0).argmax(axis=-1)
        truth = (
            arrays.y_test.argmax(axis=-1) if arrays.y_test.ndim == 2 else arrays.y_test.astype(int)
        )
        accuracy = float((predicted == truth).mean())
        report.confusion(
            truth,
            predicted,
            classes,
            folder / "confusion.png",
            f"{name}: test accuracy {accuracy:.4f}",
        )


def _spec_yaml(spec: Spec) -> str:
    import yaml

    body = yaml.safe_dump(
        spec.model_dump(mode="json", exclude_none=True), sort_keys=False, width=100
    )
    return (
        "# The spec as run by specc train (defaults and command-line overrides applied).\n" + body
    )


__all__ = ["DataError", "Options", "RunResult", "TrainError", "train"]
