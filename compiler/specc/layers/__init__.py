"""The layer catalog: every Keras layer type specc knows, one declaration each.

Families are modules (core, convolution, pooling, ...); importing this package
registers every declaration in :data:`CATALOG`. :data:`Layer` is the annotated type a
spec's layer entries are validated with (see :mod:`specc.layers.base`).
"""

from __future__ import annotations

from specc.layers import (  # noqa: F401  (importing a family registers its layers)
    activations,
    attention,
    convolution,
    core,
    merging,
    normalization,
    pooling,
    preprocessing,
    recurrent,
    regularization,
    reshaping,
)
from specc.layers.base import CATALOG, CODE_LAYERS, Layer, LayerSpec, Out

__all__ = ["CATALOG", "CODE_LAYERS", "Layer", "LayerSpec", "Out"]
