"""A whole training epoch per compiled call, on the JAX backend.

``model.fit`` dispatches one compiled step per batch from Python; on a fast GPU and a
small model that per-step host work dominates. Here the data lives on the device and one
``jax.jit``-compiled ``lax.scan`` runs every batch of an epoch, each step being Keras'
own stateless ``model.train_step(state, batch)``: the same loss (regularisation
included), optimizer update, dropout randomness and metrics as ``fit``. Only the host
loop around the steps changes. Validation likewise runs ``model.test_step``.

Semantics kept from ``fit``: validation data is the last ``validation_split`` of the
arrays, taken before shuffling; training data is reshuffled every epoch; the last,
smaller batch is trained on too; callbacks see the same logs once per epoch, with the
model's variables up to date (so EarlyStopping and ReduceLROnPlateau work).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np


def _split(x: np.ndarray, y: np.ndarray, validation_split: float):
    if not validation_split:
        return (x, y), None
    at = math.floor(len(x) * (1.0 - validation_split))
    return (x[:at], y[:at]), (x[at:], y[at:])


class FusedTrainer:
    """Trains a compiled Keras model (JAX backend) with one compiled call per epoch."""

    def __init__(self, model: Any) -> None:
        import jax

        self.jax = jax
        self.model = model
        self._epoch_fn = jax.jit(self._epoch, donate_argnums=0)
        self._step_fn = jax.jit(self._one_step, donate_argnums=0)
        self._eval_fn = jax.jit(self._evaluate)  # no donation: it reads the model's own arrays

    # -- pure functions (traced) -------------------------------------------------------
    def _one_step(self, state, x, y):
        logs, state = self.model.train_step(state, (x, y))
        return state, logs

    def _epoch(self, state, x, y, order):
        """All full batches of one epoch; ``order`` is [steps, batch] indices into x/y."""

        def body(state, idx):
            logs, state = self.model.train_step(state, (x[idx], y[idx]))
            return state, logs

        state, logs = self.jax.lax.scan(body, state, order)
        return state, self.jax.tree.map(lambda v: v[-1], logs)

    def _evaluate(self, state, xs, ys, x_rest, y_rest):
        def body(state, batch):
            logs, state = self.model.test_step(state, batch)
            return state, logs

        logs = None
        if xs.shape[0]:  # no full batch when validation holds fewer samples than one batch
            state, logs = self.jax.lax.scan(body, state, (xs, ys))
            logs = self.jax.tree.map(lambda v: v[-1], logs)
        if x_rest is not None:
            logs, state = self.model.test_step(state, (x_rest, y_rest))
        return state, logs

    # -- host side -----------------------------------------------------------------------
    def _state(self) -> tuple:
        m = self.model
        return (
            [v.value for v in m.trainable_variables],
            [v.value for v in m.non_trainable_variables],
            [v.value for v in m.optimizer.variables],
            self._fresh_metrics(),
        )

    def _sync(self, state: tuple) -> None:
        m = self.model
        for ref, value in zip(m.trainable_variables, state[0], strict=True):
            ref.assign(value)
        for ref, value in zip(m.non_trainable_variables, state[1], strict=True):
            ref.assign(value)
        for ref, value in zip(m.optimizer.variables, state[2], strict=True):
            ref.assign(value)

    def _validate(self, x_val: Any, y_val: Any, batch_size: int) -> dict[str, float]:
        m = self.model
        full = (len(x_val) // batch_size) * batch_size
        xs = x_val[:full].reshape((-1, batch_size, *x_val.shape[1:]))
        ys = y_val[:full].reshape((-1, batch_size, *y_val.shape[1:]))
        rest = (x_val[full:], y_val[full:]) if full < len(x_val) else (None, None)
        state = (
            [v.value for v in m.trainable_variables],
            [v.value for v in m.non_trainable_variables],
            self._fresh_metrics(),
        )
        _, logs = self._eval_fn(state, xs, ys, *rest)
        return {f"val_{k}": float(v) for k, v in logs.items()}

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        batch_size: int,
        epochs: int,
        validation_split: float = 0.0,
        shuffle: bool = True,
        seed: int = 0,
        callbacks: list[Any] | None = None,
        verbose: int = 1,
    ) -> dict[str, list[float]]:
        """Train like ``model.fit(x, y, ...)``; return the history dict."""
        import keras

        jax, jnp, m = self.jax, self.jax.numpy, self.model
        (x_tr, y_tr), val = _split(x, y, validation_split)
        # Build the optimizer and compiled metrics without changing any weight.
        m.evaluate(x_tr[:1], y_tr[:1], verbose=0)
        m.reset_metrics()
        if not m.optimizer.built:
            m.optimizer.build(m.trainable_variables)
        reset = [np.asarray(v.value) for v in m.metrics_variables]
        self._fresh_metrics = lambda: [
            jnp.asarray(v) for v in reset
        ]  # new buffers: state is donated

        x_dev, y_dev = jax.device_put(x_tr), jax.device_put(y_tr)
        x_val = jax.device_put(val[0]) if val else None
        y_val = jax.device_put(val[1]) if val else None
        n = len(x_tr)
        steps = n // batch_size
        key = jax.random.key(seed)
        cb = keras.callbacks.CallbackList(
            callbacks or [], model=m, epochs=epochs, steps=steps + (n % batch_size > 0)
        )
        history: dict[str, list[float]] = {}
        m.stop_training = False
        cb.on_train_begin()
        for epoch in range(epochs):
            cb.on_epoch_begin(epoch)
            start = time.perf_counter()
            if shuffle:
                key, sub = jax.random.split(key)
                perm = jax.random.permutation(sub, n)
            else:
                perm = jnp.arange(n)
            state = self._state()
            logs = {}
            if steps:
                order = perm[: steps * batch_size].reshape(steps, batch_size)
                state, logs = self._epoch_fn(state, x_dev, y_dev, order)
            if n % batch_size:
                rest = perm[steps * batch_size :]
                state, logs = self._step_fn(state, x_dev[rest], y_dev[rest])
            self._sync(state)
            logs = {k: float(v) for k, v in logs.items()}
            if x_val is not None:
                logs |= self._validate(x_val, y_val, batch_size)
            if verbose:
                shown = " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())
                print(
                    f"Epoch {epoch + 1}/{epochs} - {time.perf_counter() - start:.2f}s - {shown}",
                    flush=True,
                )
            for k, v in logs.items():
                history.setdefault(k, []).append(v)
            cb.on_epoch_end(epoch, logs)
            if m.stop_training:
                break
        cb.on_train_end()
        return history
