"""Import Keras once, quietly: the back ends' single door to Keras.

TensorFlow's C++ start-up writes INFO lines (oneDNN, CUDA stubs) straight to file
descriptor 2, before any Python logging setting can apply; they bury specc's own output.
We silence fd 2 for the import only: Python exceptions still propagate normally.
"""

from __future__ import annotations

import os
import sys
from typing import Any


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
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return module
