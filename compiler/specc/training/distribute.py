"""``training.distribution``: the engines' own strategies, set up for ``specc train``.

specc does not parallelise anything itself: ``mirrored`` and ``multi_worker_mirrored`` are
TensorFlow's ``tf.distribute`` strategies (the model is built and compiled in
``strategy.scope()`` and fed a ``tf.data`` dataset of global batches, which the strategy
splits over the replicas), ``data_parallel`` is Keras' ``keras.distribution.DataParallel``
on JAX (set before the model is built; Keras shards each batch over the devices).

The spec's ``batch_size`` is the global batch: each of the R replicas gets batch_size / R
samples a step, so it must divide evenly. Every batch must, the last one too (an uneven
split fails inside TensorFlow and JAX alike), so the training, validation and test parts
are each cut to a multiple of R: at most R - 1 samples each, said when it happens.

Without a ``distribution`` block none of this runs: :func:`strategy_scope` returns None and
:func:`scope` is a null context.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from specc.language.schema import STRATEGIES, DataParallel, Mirrored, MultiWorkerMirrored
from specc.training.data import Feed, each, first

LOGICAL_CPUS_ENV = "SPECC_LOGICAL_CPUS"
"""Split the CPU into this many logical devices (tests, and trying a strategy without GPUs).

An environment variable, not a spec field: how many devices a machine has is the
machine's business, and the spec must stay the same from a laptop to a GPU cluster.
TensorFlow: ``tf.config.set_logical_device_configuration`` on the CPU; JAX:
``XLA_FLAGS=--xla_force_host_platform_device_count=N``. Only read with a distribution."""

Distribution = Mirrored | MultiWorkerMirrored | DataParallel


def _cut(x: Feed, y: Feed | None, start: int, stop: int) -> tuple[Feed, Feed | None]:
    """Samples ``start:stop`` of the inputs and labels (one array each, or one per name)."""

    def part(array: np.ndarray) -> np.ndarray:
        return array[start:stop]

    return each(x, part), (None if y is None else each(y, part))


class TrainSetupError(Exception):
    """The machine does not fit the strategy (``$TF_CONFIG``, devices): a usage error, exit 2."""


class DistributionError(Exception):
    """The spec and the machine disagree (batch size vs replicas, backend): exit 1."""


def logical_cpus() -> int | None:
    """``$SPECC_LOGICAL_CPUS`` as a count (None when unset)."""
    text = os.environ.get(LOGICAL_CPUS_ENV, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise TrainSetupError(
            f"${LOGICAL_CPUS_ENV} must be a whole number of devices, not {text!r}"
        )
    return int(text)


JOBS = ("chief", "worker", "ps", "evaluator")
"""The jobs TensorFlow allows in a cluster (``multi_worker_util._validate_cluster_spec``)."""


def _kind(value: Any) -> str:
    """What a JSON value is, for a message: ``a string``, ``a boolean``..."""
    kinds = ((bool, "a boolean"), (int, "an integer"), (float, "a number with a decimal point"),
             (str, "a string"), (list, "a list"), (dict, "an object"))  # fmt: skip
    return next((name for cls, name in kinds if isinstance(value, cls)), "null")


def worker_place(text: str | None) -> tuple[int, int, dict]:
    """(this worker's index, number of workers, the parsed config) from ``$TF_CONFIG`` text.

    A ``chief`` entry counts as worker 0, before the ``worker`` list. Every field's type is
    checked here, each with its own one-line message: TensorFlow would otherwise fail later
    with a traceback, or take ``"index": "0"`` as 0 where specc's worker folders cannot."""
    config = _parse_config(text)
    cluster, task = config.get("cluster"), config.get("task")
    roles = _check_cluster(cluster)
    role, index = _task_place(task, roles)
    if "rpc_layer" in config and not isinstance(config["rpc_layer"], str):
        raise TrainSetupError(
            f'$TF_CONFIG rpc_layer must be a string such as "grpc", not '
            f"{_kind(config['rpc_layer'])} {json.dumps(config['rpc_layer'])}"
        )
    chiefs = len(roles.get("chief", []))
    place = index if role == "chief" else chiefs + index
    return place, chiefs + len(roles.get("worker", [])), config


_EXAMPLE = (
    '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
    '"task": {"type": "worker", "index": 0}}'
)
"""A whole ``$TF_CONFIG``, quoted in the messages that say what is expected."""


def _parse_config(text: str | None) -> dict:
    """``$TF_CONFIG`` text as a JSON object, or a message saying what to set."""
    if not text or not text.strip():
        raise TrainSetupError(
            "strategy multi_worker_mirrored needs $TF_CONFIG: the cluster and this worker's "
            f"place in it, e.g. TF_CONFIG='{_EXAMPLE}' (docs/distribution.md: Several machines)"
        )
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TrainSetupError(
            f"$TF_CONFIG is not JSON ({exc.msg} at character {exc.pos}); expected e.g. {_EXAMPLE}"
        ) from None
    if not isinstance(config, dict):
        raise TrainSetupError(
            f"$TF_CONFIG must be a JSON object, not {_kind(config)}; expected e.g. {_EXAMPLE}"
        )
    return config


def _check_cluster(cluster: Any) -> dict[str, list[str]]:
    """The cluster's chief and worker address lists, every job and address checked."""
    if not isinstance(cluster, dict) or not {"chief", "worker"} & cluster.keys():
        raise TrainSetupError(
            '$TF_CONFIG needs "cluster": {"worker": ["host:port", ...]} (a "chief" list '
            f"may come first); expected e.g. {_EXAMPLE}"
        )
    for job, addresses in cluster.items():
        if job not in JOBS:
            raise TrainSetupError(
                f"$TF_CONFIG cluster has a job {json.dumps(job)}: TensorFlow knows "
                f"{', '.join(JOBS)} (this strategy uses chief and worker)"
            )
        if not isinstance(addresses, list) or not addresses:
            raise TrainSetupError(
                f'$TF_CONFIG cluster.{job} must be a non-empty list of "host:port" strings, '
                f"not {_kind(addresses)} {json.dumps(addresses)}"
            )
        for i, address in enumerate(addresses):
            if not isinstance(address, str) or ":" not in address:
                raise TrainSetupError(
                    f'$TF_CONFIG cluster.{job}[{i}] must be a "host:port" string, not '
                    f"{_kind(address)} {json.dumps(address)}"
                )
    if len(cluster.get("chief", [])) > 1:
        raise TrainSetupError(
            f"$TF_CONFIG cluster.chief lists {len(cluster['chief'])} addresses: a cluster has "
            'one chief at most (list the others under "worker")'
        )
    return {k: v for k, v in cluster.items() if k in ("chief", "worker")}


def _task_place(task: Any, roles: dict[str, list[str]]) -> tuple[str, int]:
    """This machine's (role, index) from the ``task`` entry, checked against the cluster."""
    names = ", ".join(map(repr, roles))
    if not isinstance(task, dict):
        raise TrainSetupError(
            f'$TF_CONFIG needs "task": {{"type": ..., "index": ...}} with type one of '
            f"{names} (this machine's role in the cluster)"
        )
    if "type" in task and not isinstance(task["type"], str):
        raise TrainSetupError(
            f"$TF_CONFIG task.type must be a string, one of {names}, not "
            f"{_kind(task['type'])} {json.dumps(task['type'])}"
        )
    if task.get("type") not in roles:
        raise TrainSetupError(
            f'$TF_CONFIG needs "task": {{"type": ..., "index": ...}} with type one of '
            f"{names} (this machine's role in the cluster)"
        )
    role = task["type"]
    last = len(roles[role]) - 1
    if "index" not in task:
        raise TrainSetupError(
            f'$TF_CONFIG task needs "index": this machine\'s place in cluster.{role}, 0 to {last}'
        )
    index = task["index"]
    if not isinstance(index, int) or isinstance(index, bool):
        digits = str(index).strip().removesuffix(".0")
        fix = int(digits) if not isinstance(index, bool) and digits.isdigit() else 0
        raise TrainSetupError(
            f"$TF_CONFIG task.index {json.dumps(index)} is not an integer but "
            f'{_kind(index)}: write e.g. "index": {fix} (0 to {last}, no quotes)'
        )
    if not 0 <= index <= last:
        raise TrainSetupError(
            f"$TF_CONFIG task.index {index!r} is out of range: cluster.{role} lists "
            f"{len(roles[role])} address(es), so the index is 0 to {last}"
        )
    return role, index


def check_backend(dist: Distribution, backend: str, stated: str) -> None:
    """The strategy's engine must be the backend actually chosen (``auto`` resolves late)."""
    need = STRATEGIES[dist.strategy]
    if backend != need:
        why = f"runtime.backend {stated!r}" + (
            f" resolved to {backend!r} ($KERAS_BACKEND {'is ' + repr(os.environ['KERAS_BACKEND']) if os.environ.get('KERAS_BACKEND') else 'unset'})"
            if stated == "auto"
            else ""
        )
        raise DistributionError(
            f"training.distribution strategy {dist.strategy!r} runs on the {need} backend, "
            f"but {why}; set runtime.backend: {need} or KERAS_BACKEND={need}"
        )


@dataclass
class Plan:
    """A strategy set up on this machine: how to build, feed and save under it."""

    dist: Distribution
    backend: str
    engine: Any
    """The tf.distribute.Strategy, or the keras.distribution.DataParallel."""
    replicas: int
    worker: int = 0
    workers: int = 1
    notes: list[str] = field(default_factory=list)

    @property
    def tf(self) -> bool:
        return self.backend == "tensorflow"

    def scope(self) -> contextlib.AbstractContextManager:
        """Where the model is built and compiled: its variables become the strategy's."""
        return self.engine.scope()

    def describe(self) -> dict[str, Any]:
        about: dict[str, Any] = {"strategy": self.dist.strategy, "replicas": self.replicas}
        if self.workers > 1 or self.dist.strategy == "multi_worker_mirrored":
            about |= {"worker": self.worker, "workers": self.workers}
        return about

    def folder(self, folder: Path) -> Path:
        """Worker 0 (the chief) writes the run folder; worker i > 0 its own beside it."""
        return folder if self.worker == 0 else folder / f"worker-{self.worker}"

    def check_batch(self, batch_size: int) -> None:
        if batch_size % self.replicas:
            up = batch_size + self.replicas - batch_size % self.replicas
            raise DistributionError(
                f"training.batch_size {batch_size} is the global batch and must split evenly "
                f"over the {self.replicas} replicas of strategy {self.dist.strategy!r}; use "
                f"e.g. {up} (or --batch-size {up})"
            )

    def runtime(self, resolved: dict[str, Any], stated: Any) -> dict[str, Any]:
        """Turn off the fast paths that fail under this strategy; refuse them when stated
        (a command-line override may state what the spec's checks never saw)."""
        out = dict(resolved)
        conflicts: list[tuple[str, Any, str]] = []  # (setting, what it must be, why)
        if out["loop"] == "fused":
            conflicts.append(("loop", "fit", "the fused loop runs on one device"))
        if self.tf and out["jit_compile"] not in (False, "auto"):
            conflicts.append(("jit_compile", False, "XLA fails under tf.distribute in Keras 3"))
        if self.tf and out["steps_per_execution"] != 1:
            conflicts.append(
                (
                    "steps_per_execution",
                    1,
                    "several steps per call fail under tf.distribute in Keras 3",
                )
            )
        for key, value, why in conflicts:
            if getattr(stated, key) != "auto":
                raise DistributionError(
                    f"runtime.{key} {getattr(stated, key)!r} cannot run under strategy "
                    f"{self.dist.strategy!r}: {why}; use {value} or auto"
                )
            out[key] = value
            self.notes.append(f"{key} {value} under {self.dist.strategy} ({why})")
        if self.tf:
            out["jit_compile"] = False  # what Keras' "auto" does under tf.distribute anyway
        return out

    # -- data ------------------------------------------------------------------------
    def _even(self, n: int, what: str) -> int:
        kept = n - n % self.replicas
        if kept != n:
            self.notes.append(
                f"{n - kept} of {n} {what} sample(s) left out so every batch splits evenly "
                f"over {self.replicas} replicas"
            )
        return kept

    def _dataset(self, x: Feed, y: Feed | None, batch: int, shuffle: bool, seed: int) -> Any:
        import tensorflow as tf

        data = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
        if shuffle:  # the same seed on every worker: the same order, so DATA shards are disjoint
            data = data.shuffle(len(first(x)), seed=seed, reshuffle_each_iteration=True)
        options = tf.data.Options()
        # The arrays are in memory, not files: each worker takes its share of every batch.
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        return data.batch(batch).with_options(options)

    def fit(
        self, model: Any, x: Feed, y: Feed, *, batch_size: int, epochs: int,
        validation_split: float, shuffle: bool, seed: int, callbacks: list, verbose: Any,
    ) -> Any:  # fmt: skip
        """``model.fit`` with fit's own split (the last part validates, taken before
        shuffling), each part cut to a multiple of the replicas, fed as global batches."""
        total = len(first(x))
        at = math.floor(total * (1.0 - validation_split)) if validation_split else total
        train_n, val_n = self._even(at, "training"), self._even(total - at, "validation")
        if not train_n or (validation_split and not val_n):
            raise DistributionError(
                f"{at} training and {total - at} validation sample(s) cannot be split over "
                f"{self.replicas} replicas (each part needs at least {self.replicas}); use "
                "more samples"
            )
        parts = _cut(x, y, 0, train_n), _cut(x, y, at, at + val_n)
        if self.tf:
            train = self._dataset(*parts[0], batch_size, shuffle, seed)
            val = self._dataset(*parts[1], batch_size, False, seed) if val_n else None
            self._keras_multi_worker_fixes(model, *_cut(x, y, 0, 1))
            return model.fit(
                train,
                validation_data=val,
                epochs=epochs,
                callbacks=callbacks,
                verbose=verbose,
                shuffle=False,  # the dataset shuffles, every epoch
            )
        return model.fit(
            *parts[0], batch_size=batch_size, epochs=epochs, shuffle=shuffle,
            validation_data=parts[1] if val_n else None, callbacks=callbacks, verbose=verbose,
        )  # fmt: skip

    def test_data(self, x: Feed, y: Feed, batch_size: int) -> dict[str, Any]:
        """Arguments for ``evaluate`` on the test split (cut to a multiple of the replicas)."""
        n = self._even(len(first(x)), "test")
        x_cut, y_cut = _cut(x, y, 0, n)
        if self.tf:
            return {"x": self._dataset(x_cut, y_cut, batch_size, False, 0)}
        return {"x": x_cut, "y": y_cut, "batch_size": batch_size}

    def test_inputs(self, x: Feed, batch_size: int) -> tuple[dict[str, Any], int]:
        """Arguments for ``predict`` on the test images, and how many it predicts."""
        n = len(first(x)) - len(first(x)) % self.replicas
        x = each(x, lambda a: a[:n])
        if self.tf:
            return {"x": self._dataset(x, None, batch_size, False, 0)}, n
        return {"x": x, "batch_size": batch_size}, n

    def streams_built(self, model: Any, stream: Any) -> None:
        """Before ``fit`` on a stream under MultiWorkerMirrored: the model built from one
        local sample of ``stream`` (an uncached one: a partial read discards a cache), see
        :meth:`_keras_multi_worker_fixes`."""
        if self.dist.strategy != "multi_worker_mirrored":
            return
        x, y = next(iter(stream.take(1)))
        self._keras_multi_worker_fixes(model, x.numpy()[:1], y.numpy()[:1])

    def _keras_multi_worker_fixes(self, model: Any, x: Feed, y: Feed | None) -> None:
        """Two Keras 3 bugs that stop ``fit`` under MultiWorkerMirroredStrategy
        (keras-team/keras#20585, tensorflow/tensorflow#72388; still in Keras 3.15):

        1. ``_maybe_symbolic_build`` averages the first distributed batch with
           ``strategy.reduce``, which the collective strategy cannot do for a tuple of
           batches ("Attempt to convert a value (PerReplica...)"). Building from one local
           sample instead builds the same variables: only shapes and dtypes are read.
        2. ``reduce_per_replica`` reduces the per-step metrics with ``axis=0``, but they are
           scalars ("Invalid reduction dimension 0 for input with 0 dimensions"); the mean
           over replicas (``axis=None``) is what it means.
        """
        if self.dist.strategy != "multi_worker_mirrored":
            return
        from keras.src.backend.tensorflow import trainer

        strategy = self.engine

        def build(iterator: Any = None, data_batch: Any = None) -> None:
            with strategy.scope():
                model._symbolic_build(data_batch=(x, y))

        model._maybe_symbolic_build = build
        original = trainer.reduce_per_replica
        if getattr(original, "specc_fixed", False):
            return

        def reduce_per_replica(values: Any, strategy: Any, reduction: Any) -> Any:
            import tensorflow as tf

            if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(
                strategy
            ):
                return tf.nest.map_structure(
                    lambda v: strategy.reduce("MEAN", v, axis=None), values
                )
            return original(values, strategy, reduction)

        reduce_per_replica.specc_fixed = True  # type: ignore[attr-defined]  # marks Keras's function as patched; functions take attributes
        trainer.reduce_per_replica = reduce_per_replica


def shard_by_data(tf: Any, dataset: Any) -> Any:
    """A stream every worker reads whole, keeping its share of each global batch (auto-shard
    policy DATA): the same seed gives every worker the same order, so the shares are
    disjoint. FILE sharding cannot split one CSV over workers, nor an image loader that
    reads its files inside a ``map``."""
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def weights_sha256(model: Any) -> str:
    """A checksum of the model's weights: equal on every worker of a synchronous run."""
    digest = hashlib.sha256()
    for array in model.get_weights():
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def strategy_scope(
    dist: Distribution | None, backend: str, stated_backend: str = "auto"
) -> Plan | None:
    """Set up ``dist`` on this machine, before Keras touches a device; None without one.

    Must run before TensorFlow initialises (logical CPUs and the collective strategy are
    configured at start-up) and before JAX does (its device count is an XLA flag)."""
    if dist is None:
        return None
    from specc.backends.kerasenv import keras as quiet_keras  # TF's start-up lines muted

    check_backend(dist, backend, stated_backend)
    cpus = logical_cpus()
    if backend == "jax":
        if cpus:
            flag = f"--xla_force_host_platform_device_count={cpus}"
            os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flag}".strip()
        keras = quiet_keras()

        devices = list(dist.devices) if dist.devices else keras.distribution.list_devices()  # type: ignore[union-attr]  # under jax check_backend above leaves data_parallel only, which has devices
        known = set(keras.distribution.list_devices())
        missing = [d for d in devices if d not in known]
        if missing:
            raise TrainSetupError(
                f"training.distribution.devices names {', '.join(missing)}, but this machine "
                f"has {', '.join(sorted(known))}"
            )
        engine = keras.distribution.DataParallel(devices=devices)
        keras.distribution.set_distribution(engine)
        return Plan(dist, backend, engine, replicas=len(devices))
    worker, workers = 0, 1
    if isinstance(dist, MultiWorkerMirrored):
        worker, workers, _ = worker_place(os.environ.get("TF_CONFIG"))
    quiet_keras()  # lists the physical devices only: logical ones can still be set
    import tensorflow as tf

    if cpus and cpus > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(cpus)]
            )
        except RuntimeError:
            raise TrainSetupError(
                f"${LOGICAL_CPUS_ENV} needs TensorFlow not yet started in this process"
            ) from None
    if isinstance(dist, MultiWorkerMirrored):
        impl = tf.distribute.experimental.CommunicationImplementation
        options = tf.distribute.experimental.CommunicationOptions(
            implementation={"auto": impl.AUTO, "ring": impl.RING, "nccl": impl.NCCL}[
                dist.communication
            ]
        )
        engine = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    else:
        devices = list(dist.devices) if dist.devices else None
        if devices:
            known = {d.name.lower().replace("/device:", "/").replace("/job:localhost/replica:0/task:0", "")
                     for d in tf.config.list_logical_devices()}  # fmt: skip
            missing = [d for d in devices if d.lower().replace("/device:", "/") not in known]
            if missing:
                raise TrainSetupError(
                    f"training.distribution.devices names {', '.join(missing)}, but this "
                    f"machine has {', '.join(sorted(known))}"
                    + ("" if cpus else f" (${LOGICAL_CPUS_ENV}=N splits the CPU into N)")
                )
        engine = tf.distribute.MirroredStrategy(devices)
    return Plan(dist, backend, engine, engine.num_replicas_in_sync, worker, workers)


def scope(plan: Plan | None) -> contextlib.AbstractContextManager:
    """The strategy's scope, or nothing without a distribution."""
    return contextlib.nullcontext() if plan is None else plan.scope()
