"""Import Keras once, quietly: the back ends' single door to Keras.

TensorFlow's C++ start-up writes INFO lines (oneDNN, CUDA stubs) straight to file
descriptor 2, before any Python logging setting can apply; they bury specc's own output.
We silence fd 2 for the import only: Python exceptions still propagate normally.

An import that fails (keras installed without TensorFlow, or without the backend that
KERAS_BACKEND names) is the environment's fault, not the spec's: it is raised as
:class:`~specc.errors.KerasMissingError`, whose message says what to install.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from specc.errors import KerasMissingError

INSTALL = {
    "tensorflow": "pip install 'specc[keras]'",
    "jax": "pip install jax",
    "torch": "pip install torch",
}
"""What to install when importing Keras fails for want of a module (the top package)."""


def missing(exc: ImportError) -> KerasMissingError:
    """The error to raise when ``import keras`` (or its backend) failed with ``exc``."""
    top = (exc.name or "").split(".")[0]
    what = "Keras" if top in ("", "keras") else f"Keras' {top} backend" if top in INSTALL else top
    install = INSTALL.get(top, INSTALL["tensorflow"])
    detail = " ".join(str(exc).split())
    return KerasMissingError(f"{what} cannot be imported ({detail}): {install}")


def keras() -> Any:
    """The ``keras`` module, imported with TensorFlow's start-up noise suppressed."""
    if "keras" in sys.modules:
        return sys.modules["keras"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # C++ log lines; Python errors still raise
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import keras as module

        if module.backend.backend() == "tensorflow":
            import tensorflow as tf

            tf.config.list_physical_devices()  # probes CUDA now, while fd 2 is quiet
    except ImportError as exc:
        raise missing(exc) from exc
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return module
