"""What a layer declaration is: a Pydantic model that also knows its shape rule.

Each Keras layer type is declared once, as a subclass of :class:`LayerSpec` in the module
of its family: its fields are the Keras constructor arguments (Keras' defaults, ranges),
``POSITIONAL`` the arguments people pass positionally, and :meth:`LayerSpec.infer` the
pure shape and parameter rule. Declaring the class registers it in :data:`CATALOG`;
schema, JSON Schema, summary, builder, code templates and importer all read the catalog.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, PlainValidator, SerializeAsAny
from pydantic_core import PydanticCustomError, core_schema

from specc import shapes
from specc.shapes import Shape, ShapeError
from specc.values import INT_OR_TUPLE, Identifier, marked

CATALOG: dict[str, type[LayerSpec]] = {}
"""Keras class name -> declaration, in declaration order (families in import order)."""


@dataclass(frozen=True)
class Out:
    """What a layer makes of its input: output shape and parameter counts."""

    shape: Shape
    trainable: int = 0
    non_trainable: int = 0
    largest: tuple[int, str, str] | None = None
    """The largest weight tensor: elements, how they come about, the argument to blame
    (for the allocation limit; when None, all of the layer's weights count as one)."""


class LayerSpec(BaseModel):
    """Base of every catalog layer: the arguments every Keras layer takes (``name``).

    Validators are built on first use (``defer_build``), so a spec pays only for the
    layer types it uses: the catalog does not slow down ``specc validate``.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    FAMILY: ClassVar[str] = ""
    POSITIONAL: ClassVar[tuple[str, ...]] = ()
    """Arguments Keras users pass positionally, in order (emitted code writes them so)."""
    INT_OR_TUPLE: ClassVar[frozenset[str]] = frozenset()
    """Tuple arguments Keras also accepts as one int (emitted as ``3`` for ``(3, 3)``)."""

    MINIMAL: ClassVar[dict[str, Any]] = {}
    """Valid values for required arguments whose names the importer does not know
    (it builds a default Keras instance with them, to leave Keras' defaults out)."""
    KERAS_PATH: ClassVar[str] = ""
    """Where the class lives in the ``keras`` namespace (default ``layers.<type>``)."""

    type: str
    name: Identifier | None = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        tags = typing.get_args(cls.model_fields["type"].annotation)
        if len(tags) == 1 and isinstance(tags[0], str):
            CATALOG[tags[0]] = cls
            if not cls.KERAS_PATH or cls.KERAS_PATH.endswith("." + cls.__mro__[1].__name__):
                cls.KERAS_PATH = f"layers.{tags[0]}"
            cls.FAMILY = cls.__module__.rsplit(".", 1)[-1]
            cls.INT_OR_TUPLE = frozenset(
                key
                for key, field in cls.model_fields.items()
                if marked(field.annotation, INT_OR_TUPLE)
                or any(m is INT_OR_TUPLE for m in field.metadata)
            )

    def infer(self, shape: Shape) -> Out:
        """Output shape and parameters for input ``shape``; raise ShapeError if impossible."""
        raise NotImplementedError(self.type)


class Trainable(LayerSpec):
    """Layers that also take Keras' base ``trainable`` argument (through ``**kwargs``)."""

    trainable: bool = True


# ------------------------------------------------------------------ shared rule helpers
def need_rank(layer: LayerSpec, shape: Shape, rank: int | Sequence[int], what: str = "") -> None:
    """Refuse an input whose rank (batch axis included) is not ``rank``."""
    ranks = (rank,) if isinstance(rank, int) else tuple(rank)
    if len(shape) in ranks:
        return
    wanted = " or ".join(f"rank-{r}" for r in ranks)
    raise ShapeError(
        f"{layer.type} needs a {wanted} input{' ' + what if what else ''}, "
        f"but gets {shapes.format_shape(shape)}"
        + ("; it cannot follow Flatten or Dense" if len(shape) == 2 and min(ranks) > 2 else ""),
        show_input=False,
    )


def need_known(layer: LayerSpec, shape: Shape, axis: int, why: str) -> int:
    """The size of ``axis``, which Keras must know to create weights."""
    size = shape[axis]
    if size is None:
        raise ShapeError(
            f"{layer.type} needs a known size on axis {axis} of its input "
            f"{shapes.format_shape(shape)} ({why})",
            show_input=False,
        )
    return size


def spatial_rank(layer: LayerSpec) -> tuple[int, str]:
    """Spatial rank from the class name (``Conv2D`` -> 2) and the input layout it expects."""
    rank = 3 if "3D" in layer.type else 2 if "2D" in layer.type else 1
    layout = {
        1: "(batch, steps, channels)",
        2: "(batch, rows, cols, channels)",
        3: "(batch, depth, rows, cols, channels)",
    }[rank]
    return rank, layout


def identity(layer: LayerSpec, shape: Shape) -> Out:
    return Out(shape)


CODE_LAYERS = frozenset({"Lambda", "TFOpLambda"})
"""Layers that carry Python code: a spec is data, so these are refused with a reason."""


def _dispatch(value: Any) -> LayerSpec:
    """Validate one layer entry with the declaration its ``type`` names.

    A hand-made discriminated union: only the declarations a spec uses build validators.
    """
    if isinstance(value, LayerSpec):
        return value
    if not isinstance(value, dict):
        raise PydanticCustomError("dict_type", "Input should be a valid dictionary")
    if "type" not in value:
        raise PydanticCustomError("union_tag_not_found", "needs a 'type' key")
    tag = value["type"]
    cls = CATALOG.get(tag) if isinstance(tag, str) else None
    if cls is None:
        raise PydanticCustomError(
            "union_tag_invalid",
            "Input tag {tag} found using 'type' does not match any of the expected tags",
            {
                "discriminator": "'type'",
                "tag": str(tag),
                "expected_tags": ", ".join(repr(t) for t in CATALOG),
            },
        )
    return cls.model_validate(value)


class _AnyCatalogLayer:
    """JSON Schema of a layer entry: one of the catalog's declarations (built when asked)."""

    @classmethod
    def __get_pydantic_json_schema__(cls, _schema: Any, handler: Any) -> Any:
        for layer_cls in CATALOG.values():
            layer_cls.model_rebuild()
        union = core_schema.union_schema(
            [layer_cls.__pydantic_core_schema__ for layer_cls in CATALOG.values()]
        )
        return handler(union)


Layer = Annotated[LayerSpec, PlainValidator(_dispatch), SerializeAsAny(), _AnyCatalogLayer]
"""The type of a layer entry in a spec (also inside wrappers and nested models)."""


__all__ = [
    "CATALOG",
    "CODE_LAYERS",
    "Layer",
    "LayerSpec",
    "Out",
    "Trainable",
    "need_known",
    "need_rank",
    "spatial_rank",
]
