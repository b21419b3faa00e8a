"""Array constants of operations: ``x - keras.ops.convert_to_tensor([103.939, ...])``.

An operation's constant operand may be a number (``x + 3.0``) or an array, which Keras
records in the node's arguments as what the code passed: a tensor (``__tensor__``, what
``keras.applications``' ``preprocess_input`` adds: ``float32``) or a numpy array
(``__numpy__``: ``x - np.array([1.0, 2.0])`` is ``float64``, and so is its result). A spec
writes a nested list for a tensor of Keras' default dtype, or says which it is::

    - {op: add, value: [[[[-103.939, -116.779, -123.68]]]]}   # a float32 tensor
    - {op: subtract, value: {numpy: [1.0, 2.0, 3.0]}}        # np.array([1.0, 2.0, 3.0])
    - {op: multiply, value: {tensor: [1, 2, 3], dtype: float16}}

Its shape broadcasts with the tensor's as numpy does (``(3,)`` against the channels).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from specc.layers.shapes import Shape
from specc.terms.values import INT64_MAX, Number

ArrayDType = Literal[
    "float16", "bfloat16", "float32", "float64",
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
]  # fmt: skip
"""The dtypes an array constant may have (numbers only: no bool or string constants)."""

NestedNumbers = Annotated[list[Any], Field(min_length=1)]
"""A nested list of numbers (its items are checked by :func:`array_shape`, in the shape
rule: one message for a ragged array, a string or an infinite value, at the value)."""


def array_shape(values: Any) -> Shape:
    """The shape of a nested list of numbers, which must be rectangular (as numpy's).

    >>> array_shape([[1.0, 2.0, 3.0]])
    (1, 3)
    >>> array_shape(2.0)
    ()
    >>> array_shape([[1.0], [2.0, 3.0]])
    Traceback (most recent call last):
    ...
    ValueError: the array is not rectangular: its rows at depth 1 have 1 and 2 items; give every row the same length
    """
    if not isinstance(values, list):
        if isinstance(values, bool) or not isinstance(values, int | float):
            raise ValueError(f"the array holds {values!r}; give numbers only")
        if isinstance(values, float) and not math.isfinite(values):
            raise ValueError(f"the array holds {values}; give finite numbers")
        if isinstance(values, int) and abs(values) > INT64_MAX:
            raise ValueError(f"the array holds {values}, beyond int64; give smaller integers")
        return ()
    if not values:
        raise ValueError("the array is empty; give it one or more numbers")
    inner = [array_shape(v) for v in values]
    for depth_shape in inner[1:]:
        if depth_shape != inner[0]:
            first, other = inner[0], depth_shape
            depth = 1 + next(
                (i for i, (a, b) in enumerate(zip(first, other, strict=False)) if a != b),
                min(len(first), len(other)),
            )
            counts = (
                first[depth - 1] if len(first) >= depth else 0,
                other[depth - 1] if len(other) >= depth else 0,
            )
            raise ValueError(
                f"the array is not rectangular: its rows at depth {depth} have {counts[0]} "
                f"and {counts[1]} items; give every row the same length"
            )
    return (len(values), *inner[0])


ARRAY_JSON_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "items": {"anyOf": [{"type": "number"}, {"type": "array"}]},
    "description": "A rectangular nested list of numbers (an array constant).",
}
"""The JSON Schema of an array literal: not recursive, so editors and the reference read it
(the nesting and rectangular shape are checked by specc)."""

ArrayLiteral = Annotated[NestedNumbers, WithJsonSchema(ARRAY_JSON_SCHEMA)]
"""A nested list of numbers: a tensor constant of Keras' default dtype (its operation's
shape rule checks it is rectangular)."""


class ArrayOf(BaseModel):
    """An array constant that says its kind (tensor: or numpy:) and its dtype."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)
    tensor: Number | ArrayLiteral | None = Field(
        default=None, description="The values of a tensor: keras.ops.convert_to_tensor(values)."
    )
    numpy: Number | ArrayLiteral | None = Field(
        default=None, description="The values of a numpy array: np.array(values)."
    )
    dtype: ArrayDType | None = Field(
        default=None,
        description="The constant's dtype (default: float32 for a tensor of floats, int32 of "
        "integers; float64 and int64 for numpy, as they infer it).",
    )

    @model_validator(mode="after")
    def _one_kind(self) -> ArrayOf:
        if (self.tensor is None) == (self.numpy is None):
            raise ValueError("give tensor: or numpy: (one of them) with the values")
        return self


ArrayConstant = ArrayLiteral | ArrayOf
"""An array operand as a spec writes it."""


@dataclass(frozen=True)
class Array:
    """An array constant, normalised: its values, dtype and whether it is a numpy array."""

    values: Any
    dtype: str
    numpy: bool = False

    @property
    def shape(self) -> Shape:
        return array_shape(self.values)


def default_dtype(values: Any, numpy: bool) -> str:
    """The dtype ``convert_to_tensor`` (float32, int32) or ``np.array`` (float64, int64)
    infers from the values.

    >>> default_dtype([1, 2.5], False), default_dtype([1, 2], True)
    ('float32', 'int64')
    """
    floats = any(isinstance(v, float) for v in _flat(values))
    if numpy:
        return "float64" if floats else "int64"
    return "float32" if floats else "int32"


def _flat(values: Any) -> list[Any]:
    if isinstance(values, list):
        return [x for v in values for x in _flat(v)]
    return [values]


def as_array(value: Any) -> Array | None:
    """The array an operand is (None for a number or a tensor).

    >>> as_array([1.0, 2.0])
    Array(values=[1.0, 2.0], dtype='float32', numpy=False)
    >>> as_array(ArrayOf(numpy=[1, 2]))
    Array(values=[1, 2], dtype='int64', numpy=True)
    >>> as_array(3.0) is None
    True
    """
    if isinstance(value, list):
        return Array(value, default_dtype(value, False))
    if isinstance(value, ArrayOf):
        numpy = value.numpy is not None
        values = value.numpy if numpy else value.tensor
        return Array(values, value.dtype or default_dtype(values, numpy), numpy)
    return None


def constant_shape(value: Any) -> Shape:
    """A constant operand's shape: a number is a scalar, an array has its own.

    >>> constant_shape(3.0), constant_shape([[1.0, 2.0, 3.0]])
    ((), (1, 3))
    """
    array = as_array(value)
    return () if array is None else array.shape


def python_text(array: Array) -> str:
    """The Python that makes the array as Keras records it.

    >>> python_text(Array([1.5, 2.0], "float32"))
    'keras.ops.convert_to_tensor([1.5, 2.0])'
    >>> python_text(Array([1, 2], "float16", numpy=True))
    'np.array([1, 2], dtype="float16")'
    """
    head = "np.array" if array.numpy else "keras.ops.convert_to_tensor"
    dtype = "" if array.dtype == default_dtype(array.values, array.numpy) else array.dtype
    return f"{head}({_values_text(array.values)}" + (f', dtype="{dtype}"' if dtype else "") + ")"


def _values_text(values: Any) -> str:
    if isinstance(values, list):
        return "[" + ", ".join(_values_text(v) for v in values) + "]"
    return repr(values)


def spec_value(array: Array) -> Any:
    """How a spec writes the array: a nested list for a tensor of the dtype inferred from
    it, else ``{tensor: ...}`` / ``{numpy: ...}`` with ``dtype`` if not the inferred one.

    >>> spec_value(Array([1.0], "float32")), spec_value(Array([1.0], "float64", numpy=True))
    ([1.0], {'numpy': [1.0]})
    """
    inferred = default_dtype(array.values, array.numpy)
    if not array.numpy and array.dtype == inferred and isinstance(array.values, list):
        return array.values
    out: dict[str, Any] = {"numpy" if array.numpy else "tensor": array.values}
    if array.dtype != inferred:
        out["dtype"] = array.dtype
    return out


def from_saved(serialized: dict[str, Any]) -> Array | str:
    """The array of a saved ``__tensor__`` / ``__numpy__`` argument, its floats written as
    the shortest decimals of the same value in its dtype (a float32 saved as
    ``-103.93900299072266`` is ``-103.939``); or why a spec cannot hold it.

    >>> from_saved({"class_name": "__tensor__", "config": {"value": [-103.93900299072266], "dtype": "float32"}})
    Array(values=[-103.939], dtype='float32', numpy=False)
    """
    config = serialized.get("config")
    if not isinstance(config, dict) or "value" not in config:
        return "an array constant without its value"
    dtype, values = config.get("dtype"), config["value"]
    if not isinstance(dtype, str) or dtype not in typing_args(ArrayDType):
        return f"an array constant of dtype {dtype!r} (a spec holds numbers: floats and ints)"
    flat = _flat(values)
    if not flat or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in flat):
        return "an array constant that holds something other than numbers"
    if any(isinstance(v, float) and not math.isfinite(v) for v in flat):
        return "an array constant with inf or nan (no literal a spec or Python code can hold)"
    try:
        array_shape(values)
    except ValueError as exc:
        return str(exc)
    floats = dtype.startswith(("float", "bfloat"))
    values = _map(values, (lambda v: _shortest(float(v), dtype)) if floats else int)
    return Array(values, dtype, serialized.get("class_name") == "__numpy__")


def _map(values: Any, function: Any) -> Any:
    return [_map(v, function) for v in values] if isinstance(values, list) else function(values)


def typing_args(alias: Any) -> tuple[Any, ...]:
    import typing

    return typing.get_args(alias)


_FORMATS = {"float16": "e", "float32": "f"}


def _shortest(value: float, dtype: str) -> float:
    """The shortest decimal that is the same ``dtype`` number (float64: Python's repr).

    >>> _shortest(0.2290000021457672, "float32"), _shortest(0.1, "float64")
    (0.229, 0.1)
    """
    fmt = _FORMATS.get(dtype)
    if fmt is None:  # float64 (and bfloat16, whose saved value is exact): as saved
        return value
    same = struct.pack(fmt, value)
    for digits in range(1, 18):
        candidate = float(f"{value:.{digits}g}")
        if struct.pack(fmt, candidate) == same:
            return candidate
    return value


__all__ = [
    "Array",
    "ArrayConstant",
    "ArrayDType",
    "ArrayLiteral",
    "ArrayOf",
    "NestedNumbers",
    "array_shape",
    "as_array",
    "constant_shape",
    "default_dtype",
    "from_saved",
    "python_text",
    "spec_value",
]
