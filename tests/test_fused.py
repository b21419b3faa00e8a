"""The fused loop (jax): the very same math as model.fit, one compiled call per epoch.

Runs in a subprocess with KERAS_BACKEND=jax (this test process uses tensorflow), on
synthetic MNIST-shaped data: the comparison needs arrays, not the real MNIST.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.helpers import ROOT, synthetic_mnist, write_npz

SCRIPT = r"""
import json, os, sys
import numpy as np
import specc
from specc.training.fused import FusedTrainer
from specc.backends.kerasenv import keras

k = keras()
assert k.backend.backend() == "jax"
with np.load(sys.argv[1]) as d:
    x = d["x_train"].reshape(-1, 28, 28, 1).astype("float32") / 255
    y = np.eye(10, dtype="float32")[d["y_train"]]

def fresh():
    k.utils.set_random_seed(3)
    return specc.build_model("specs/mnist_cnn.yaml")

kw = dict(batch_size=64, epochs=2, shuffle=False, validation_split=0.1, verbose=0)
fit = fresh()
h_fit = fit.fit(x, y, **kw).history

# The fused trainer's state handling, one step per call: must be bit-identical to fit.
stepwise = fresh()
trainer = FusedTrainer(stepwise)
def python_loop(state, xd, yd, order):
    for row in np.asarray(order):
        state, logs = trainer._step_fn(state, xd[row], yd[row])
    return state, logs
trainer._epoch_fn = python_loop
h_step = trainer.fit(x, y, **kw)

fused = fresh()
h_fused = FusedTrainer(fused).fit(x, y, **kw)
diff = lambda m: max(float(np.abs(a - b).max()) for a, b in zip(fit.get_weights(), m.get_weights()))

# Fewer samples than one batch, for training (18) and validation (2), on a small model.
def small():
    k.utils.set_random_seed(3)
    m = k.Sequential([k.Input((28, 28, 1)), k.layers.Flatten(), k.layers.Dense(10, activation="softmax")])
    m.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return m

tiny = dict(kw, epochs=1)
h_tiny_fit = small().fit(x[:20], y[:20], **tiny).history
h_tiny = FusedTrainer(small()).fit(x[:20], y[:20], **tiny)
print(json.dumps({"fit": h_fit, "step": h_step, "fused": h_fused,
                  "step_weight_diff": diff(stepwise), "fused_weight_diff": diff(fused),
                  "tiny_fit": h_tiny_fit, "tiny": h_tiny}))
"""


def test_fused_loop_is_fits_math(tmp_path):
    data = tmp_path / "d.npz"
    write_npz(data, **synthetic_mnist(n_train=640))
    env = os.environ | {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(data)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    # Same train_step, same state, same batches, same dropout draws: bit for bit.
    assert out["step"] == out["fit"]
    assert out["step_weight_diff"] == 0.0
    # The scanned epoch differs only by XLA's float reassociation inside the loop body.
    for key in ("loss", "val_loss"):
        assert abs(out["fused"][key][0] - out["fit"][key][0]) < 1e-3 * out["fit"][key][0], key
    assert out["fused"]["accuracy"][0] == out["fit"]["accuracy"][0]
    assert out["fused_weight_diff"] < 0.05
    # One partial batch each for training and validation: the same single steps as fit.
    for key in ("loss", "val_loss"):
        assert abs(out["tiny"][key][0] - out["tiny_fit"][key][0]) < 1e-5, key
