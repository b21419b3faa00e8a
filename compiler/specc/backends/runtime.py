"""Runtime choices for training: fast defaults, chosen by measurement, never changing the math.

Pure Python (no keras): shared by ``specc train`` and the emitted scripts, so both make
the same choices. The figures behind each default are in docs/training.md ("Training
speed against hand-written Keras").
"""

from __future__ import annotations

from typing import Any, Literal

from specc.language.schema import Runtime

CPU_STEPS_PER_EXECUTION = 8
"""tensorflow on these 2-core CPUs: 8 steps per call measured ~1.2x faster epochs than 1
on 20,000 samples at batch 64 (2.8-2.9 s vs 3.3-3.4 s), ~1.02x on the full data."""
GPU_STEPS_PER_EXECUTION = 128
"""For ``loop: fit`` on a GPU: Keras' own multi-step calls (2.1x at 128 on an H100, per the issue)."""


class RuntimeChoiceError(ValueError):
    """An impossible runtime combination."""


def resolve(runtime: Runtime, backend: str, gpu: bool) -> dict[str, Any]:
    """Concrete settings for ``auto`` values.

    >>> resolve(Runtime(), "tensorflow", gpu=False)
    {'backend': 'tensorflow', 'loop': 'fit', 'jit_compile': False, 'steps_per_execution': 8}
    >>> resolve(Runtime(), "jax", gpu=True)["loop"]
    'fused'
    >>> resolve(Runtime(), "jax", gpu=False)["jit_compile"]  # jax without jit runs op by op
    'auto'
    """
    loop = runtime.loop
    if loop == "auto":
        loop = "fused" if backend == "jax" and gpu else "fit"
    if loop == "fused" and backend != "jax":
        raise RuntimeChoiceError(
            "runtime.loop 'fused' needs the jax backend (runtime.backend: jax)"
        )
    tf_cpu = backend == "tensorflow" and not gpu
    jit = runtime.jit_compile
    if jit == "auto":
        jit = False if tf_cpu else "auto"  # XLA measured 2.5x slower for this model on TF/CPU
    spe: int | Literal["auto", "epoch"] = runtime.steps_per_execution
    if spe == "auto":
        spe = GPU_STEPS_PER_EXECUTION if gpu else CPU_STEPS_PER_EXECUTION if tf_cpu else 1
    if loop == "fused":
        spe = "epoch"  # the fused loop runs a whole epoch per compiled call
    return {"backend": backend, "loop": loop, "jit_compile": jit, "steps_per_execution": spe}
