"""Value types shared by the spec language, the layer catalog and Keras objects.

Small annotated types (positive ints, finite floats, rates, seeds, names, activations,
regularizers, spatial sizes) so every declaration states its argument ranges the same way,
with the bounds Keras itself enforces, and every error message reads the same.
"""

from __future__ import annotations

import keyword
import re
import typing
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

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
Activation = Literal[ACTIVATIONS]  # type: ignore[valid-type]  # Literal over a tuple of names; Pydantic reads it at runtime
Initializer = Literal[INITIALIZERS]  # type: ignore[valid-type]  # Literal over a tuple of names; Pydantic reads it at runtime
Padding = Literal["valid", "same"]
INT64_MAX = 2**63 - 1
"""Every integer is passed to Keras, which turns it into an int64 tensor or attribute."""
SEED_MAX = 2**32 - 1
"""Seeds are 32-bit: ``keras.utils.set_random_seed`` refuses more, and so does the jax
backend's uint32 seed state for a layer's ``seed`` (tensorflow's int64 one allows 2**63 - 1)."""

PosInt = Annotated[int, Field(gt=0, le=INT64_MAX)]
Count = Annotated[int, Field(ge=0, le=INT64_MAX)]
Seed = Annotated[int, Field(ge=0, le=SEED_MAX)]
FLOAT32_MAX = 3.4028234663852886e38
"""Largest float32. Keras computes in float32: a larger learning rate becomes inf in its
variable, a larger weight_decay fails to convert when training starts."""


def _float32(value: float) -> float:
    if abs(value) > FLOAT32_MAX:
        raise PydanticCustomError(
            "finite_number", "Input should be a finite number", {"limit": FLOAT32_MAX}
        )
    return value


def finite(**bounds: float) -> Any:
    """A float Keras can use: finite and within float32's range, within ``bounds`` (gt, ge,
    lt, le). ``.inf``, ``.nan`` and ``1.0e+309`` (which YAML reads as inf) are refused: Keras
    refuses some and trains others into inf/nan weights, and none is a Python literal in
    emitted code. Every float field is one. (The validator comes last so the bounds stay
    standard JSON Schema keywords.)"""
    return Annotated[float, AllowInfNan(False), Field(**bounds), AfterValidator(_float32)]  # type: ignore[call-overload]  # bounds are gt/ge/lt/le floats; mypy cannot match **kwargs to Field's overloads


def _number() -> Any:
    return Annotated[int, Field(ge=-INT64_MAX, le=INT64_MAX)] | finite()


Number = _number()
"""A number an operation takes where it takes a tensor (``x + 3.0``): an int stays an int
(``x + 3``), a float a float, as Keras records the constant."""

Rate = finite(ge=0, lt=1)
Positive = finite(gt=0)
NonNegative = finite(ge=0)
Fraction = finite(ge=0, le=1)
Float = finite()
PosFloat = Positive
NonNegFloat = NonNegative

IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(?!\n)$"
"""ASCII identifiers (as the message says). ``(?!\n)`` because Python's ``$`` also matches
before a final newline; ECMA-262 (editors) reads it the same."""


def is_identifier(value: Any) -> bool:
    """Whether ``value`` is a name specc takes (and Python code can use): an ASCII
    identifier that is not a keyword."""
    return (
        isinstance(value, str)
        and value.isascii()
        and value.isidentifier()
        and not keyword.iskeyword(value)
    )


def _identifier(value: str) -> str:
    if not is_identifier(value):
        raise ValueError(f"must be a Python identifier (letters, digits, _), got {value!r}")
    return value


Identifier = Annotated[
    str,
    AfterValidator(_identifier),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": IDENTIFIER_PATTERN,
            "not": {"enum": sorted(keyword.kwlist)},
            "description": "An ASCII Python identifier that is not a keyword.",
        }
    ),
]


REF_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(?:\.(?:0|[1-9][0-9]*))?(?!\n)$"
"""A reference to a tensor in a graph spec: a layer or input name, and for a layer with
several outputs the output's index (``lstm.1``)."""
_REF = re.compile(REF_PATTERN)


def _ref(value: str) -> str:
    if not _REF.match(value):
        raise ValueError(
            f"must be a layer or input name, or name.N for output N of a layer with several "
            f"outputs (e.g. lstm.1), got {value!r}"
        )
    return value


Ref = Annotated[
    str,
    AfterValidator(_ref),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": REF_PATTERN,
            "description": "A layer or input name; name.N for output N of a layer with "
            "several outputs (lstm.1).",
        }
    ),
]


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

    item = {"type": "integer", "minimum": minimum, "maximum": INT64_MAX}
    schema = {"anyOf": [item, {"type": "array", "items": item, "minItems": rank, "maxItems": rank}]}
    number = PosInt if minimum == 1 else Annotated[int, Field(ge=minimum, le=INT64_MAX)]
    return Annotated[
        tuple[(number,) * rank],  # type: ignore[misc]  # a tuple type of a rank known only at call time
        BeforeValidator(expand),
        WithJsonSchema(schema),
        INT_OR_TUPLE,
    ]


Spatial1 = spatial(1)
Spatial2 = spatial(2)
Spatial3 = spatial(3)


class Strict(BaseModel):
    """Base of the spec's sections: unknown keys refused, no coercion, immutable.

    Validators are built on first use (``defer_build``), as the layer declarations' are:
    built at import, each section's validator would inline its nested sections again
    (26 validators where ``specc validate`` needs the one of ``Spec``).
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)
    KIND: ClassVar[str] = "spec"
    """What the JSON Schema's descriptions file it under (``optimizers``, ``callbacks``)."""

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        """Described for editors (:mod:`specc.terms.descriptions`, read only here)."""
        from specc.terms import descriptions

        return descriptions.json_schema(cls, core_schema, handler)


class Regularizer(Strict):
    """``{l2: 0.01}`` or ``{l1: ..., l2: ...}``."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    l1: NonNegative = 0.0  # type: ignore[valid-type]  # finite() builds a Pydantic type; mypy cannot evaluate calls
    l2: NonNegative = 0.0  # type: ignore[valid-type]  # finite() builds a Pydantic type; mypy cannot evaluate calls

    @model_validator(mode="after")
    def _some(self) -> Regularizer:
        if not self.model_fields_set:
            raise ValueError("give l1, l2 or both, e.g. {l2: 0.01}")
        return self
