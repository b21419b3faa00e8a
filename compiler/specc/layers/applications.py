"""Layers Keras defines inside its applications, not in ``keras.layers``.

ConvNeXt's ``LayerScale`` and ``StochasticDepth`` live in ``keras.src.applications.convnext``
and are saved under that module: a spec names them by class like any layer, the builder
and emitted code reach them by that path, and the importer reads them from that module
only (a class of the same name elsewhere is someone's own code).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from specc.layers.base import Out, Trainable
from specc.layers.shapes import FITS_SOME, Shape, ShapeError, format_shape
from specc.terms.values import Float, PosInt, Rate


class LayerScale(Trainable):
    """``x * gamma``: one learned scale per channel of the last axis (``projection_dim`` of
    them, each starting at ``init_values``), broadcast as NumPy does: the last axis must be
    ``projection_dim`` long, or either be 1 (an axis of 1 is widened to projection_dim)."""

    POSITIONAL = ("init_values", "projection_dim")
    MINIMAL: ClassVar[dict[str, Any]] = {"init_values": 1e-6, "projection_dim": 1}
    KERAS_PATH = "src.applications.convnext.LayerScale"
    VALUE = "linear"
    type: Literal["LayerScale"]
    init_values: Float
    projection_dim: PosInt

    def infer(self, shape: Shape) -> Out:
        """Output and weights for ``shape``.

        >>> LayerScale(type="LayerScale", init_values=1e-6, projection_dim=96).infer(
        ...     (None, 56, 56, 96))
        Out(shape=(None, 56, 56, 96), trainable=96, non_trainable=0, int64_params=0, largest=None)
        """
        size, dim = shape[-1], self.projection_dim
        if len(shape) < 2:
            raise ShapeError(
                f"LayerScale needs an axis of channels after the batch axis, but gets "
                f"{format_shape(shape)} (it would scale the batch axis)",
                show_input=False,
            )
        if not (dim == 1 or size == dim or size == 1):
            have = f"an unknown size: {FITS_SOME} it is {dim}" if size is None else f"size {size}"
            raise ShapeError(
                f"LayerScale multiplies the last axis by {dim} scales (projection_dim), but "
                f"that axis of the input {format_shape(shape)} has {have}; set projection_dim "
                "to the number of channels",
                "projection_dim",
                show_input=False,
            )
        out = shape if dim == 1 else (*shape[:-1], dim)
        return Out(out, dim)


class StochasticDepth(Trainable):
    """Drops a residual branch for whole samples in training (each kept one scaled by
    ``1 / (1 - drop_path_rate)``); passes its input through at inference. A rate of 1
    divides by zero in Keras (NaN outputs), so it is refused as Dropout's is."""

    POSITIONAL = ("drop_path_rate",)
    MINIMAL: ClassVar[dict[str, Any]] = {"drop_path_rate": 0.0}
    KERAS_PATH = "src.applications.convnext.StochasticDepth"
    VALUE = "same"
    type: Literal["StochasticDepth"]
    drop_path_rate: Rate

    def infer(self, shape: Shape) -> Out:
        return Out(shape)
