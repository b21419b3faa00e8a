"""Value types shared by the spec language and the layer catalog.

Small annotated types (positive ints, rates, names, activations, initializers,
regularizers, spatial sizes) so every layer declaration says its argument ranges the
same way, and every error message reads the same.
"""

from __future__ import annotations

import keyword
import typing
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

ACTIVATIONS = (
    "celu", "elu", "exponential", "gelu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish",
    "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus",
    "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh",
    "tanh_shrink",
)  # fmt: skip
INITIALIZERS = (
    "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal",
    "lecun_uniform", "ones", "orthogonal", "random_normal", "random_uniform",
    "truncated_normal", "variance_scaling", "zeros",
)  # fmt: skip

Activation = Literal[ACTIVATIONS]  # type: ignore[valid-type]
Initializer = Literal[INITIALIZERS]  # type: ignore[valid-type]
Padding = Literal["valid", "same"]
PosInt = Annotated[int, Field(gt=0)]
Float = Annotated[float, Field(allow_inf_nan=False)]
"""Any finite number (``.inf``, ``.nan`` and overflowing literals such as 1e309 refused)."""
PosFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]
Seed = Annotated[int, Field(ge=0, lt=2**32)]
"""A random seed as Keras' seed generators take it."""


def _identifier(value: str) -> str:
    if not value.isidentifier() or keyword.iskeyword(value):
        raise ValueError(f"must be a Python identifier (letters, digits, _), got {value!r}")
    return value


Identifier = Annotated[str, AfterValidator(_identifier)]


class IntOrTuple:
    """Marks a tuple argument that Keras also accepts as one int (``3`` for ``(3, 3)``)."""


INT_OR_TUPLE = IntOrTuple()


def marked(annotation: Any, marker: object) -> bool:
    """Whether ``marker`` appears in the metadata of ``annotation`` or of a type inside it."""
    if typing.get_origin(annotation) is Annotated and any(
        m is marker for m in annotation.__metadata__
    ):
        return True
    return any(marked(arg, marker) for arg in typing.get_args(annotation))


def spatial(rank: int, what: str = "integer", minimum: int = 1) -> Any:
    """``3`` or ``[3, 3]`` as Keras accepts, normalised to a tuple of ``rank`` ints >= minimum."""

    def expand(value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return (value,) * rank
        if isinstance(value, list | tuple):
            if len(value) != rank:
                raise ValueError(f"needs {rank} {what}s, got {len(value)}")
            return tuple(value)
        return value

    item = {"type": "integer", "minimum": minimum}
    schema = {"anyOf": [item, {"type": "array", "items": item, "minItems": rank, "maxItems": rank}]}
    number = PosInt if minimum == 1 else Annotated[int, Field(ge=minimum)]
    return Annotated[
        tuple[(number,) * rank],  # type: ignore[misc]
        BeforeValidator(expand),
        WithJsonSchema(schema),
        INT_OR_TUPLE,
    ]


Spatial1 = spatial(1)
Spatial2 = spatial(2)
Spatial3 = spatial(3)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Regularizer(Strict):
    """``{l2: 0.01}`` or ``{l1: ..., l2: ...}``."""

    l1: Annotated[float, Field(ge=0)] = 0.0
    l2: Annotated[float, Field(ge=0)] = 0.0

    @model_validator(mode="after")
    def _some(self) -> Regularizer:
        if not self.model_fields_set:
            raise ValueError("give l1, l2 or both, e.g. {l2: 0.01}")
        return self


NonNegInt = Annotated[int, Field(ge=0)]
UnitFloat = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
"""A number in [0, 1] (both ends included)."""
