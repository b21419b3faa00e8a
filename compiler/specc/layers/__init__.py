"""The layer catalog: every Keras layer type specc knows, one declaration each.

Families are modules (core, convolution, pooling, ...), listed in
:data:`specc.layers.base.FAMILIES`; :data:`CATALOG` imports a family when one of its
types is first looked up. :data:`Layer` is the annotated type a spec's layer entries are
validated with (see :mod:`specc.layers.base`).
"""

from __future__ import annotations

from specc.layers.base import (
    CATALOG,
    CODE_LAYERS,
    FAMILIES,
    OPERATIONS,
    Layer,
    LayerSpec,
    OpSpec,
    Out,
)

__all__ = [
    "CATALOG",
    "CODE_LAYERS",
    "FAMILIES",
    "OPERATIONS",
    "Layer",
    "LayerSpec",
    "OpSpec",
    "Out",
]
