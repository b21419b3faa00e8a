"""Reading a saved model's operations: ``keras.ops`` nodes (``x + y``, ``keras.ops.relu6``)
as ``{op: ...}`` entries, by the operation catalog's declarations.

Keras saves an operation as a node of class ``Add`` from module ``keras.src.ops.numpy``,
its keyword arguments in ``config`` (``axis``) and its operands, tensors and constants,
in the call's ``args``. A class the catalog lacks is reported with its module, never
read as the layer of the same name.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from specc.backends.import_values import _kind, _serialized, _show
from specc.language import messages
from specc.layers import OPERATIONS, OpSpec, constants, op_shapes
from specc.layers.base import validate_op

OPS_MODULE = "keras.src.ops."
"""The module prefix of Keras' operation classes, as a saved config names them."""


def is_operation(serialized: Any) -> bool:
    """Whether a saved node is an operation (``keras.src.ops.*``) rather than a layer."""
    module = serialized.get("module") if isinstance(serialized, dict) else None
    return isinstance(module, str) and module.startswith(OPS_MODULE)


def declaration(serialized: dict[str, Any]) -> type[OpSpec] | str:
    """The catalog's declaration of a saved operation, or why there is none."""
    class_name, module = serialized["class_name"], serialized["module"]
    for cls in dict.fromkeys(OPERATIONS.values()):
        if (
            issubclass(cls, OpSpec)
            and cls.__name__ == class_name
            and f"{OPS_MODULE}{cls.MODULE}" == module
        ):
            return cls
    return (
        f"operation {class_name} (module {module}) is not supported by specc (it is a keras.ops "
        "function, not the layer of a similar name); see `specc reference` for the operations"
    )


def operands(node: Any, problems: list[str]) -> list[Any] | None:
    """One call's operands in order: tensors (serialised) and numbers; None when the call
    passes what a spec cannot say (added to ``problems``)."""
    if not isinstance(node, dict) or not isinstance(node.get("args"), list):
        problems.append(f"an inbound node must be {{args, kwargs}}, not {_kind(node)}")
        return None
    given = node.get("kwargs") or {}
    if not isinstance(given, dict):
        problems.append(f"an inbound node's kwargs must be an object, not {_kind(given)}")
        return None
    kwargs = {k: v for k, v in given.items() if v is not None}
    if kwargs:
        problems.append(
            f"the call passes keyword arguments {_show(kwargs)}, which a spec cannot say"
        )
        return None
    args = node["args"]
    if len(args) == 1 and isinstance(args[0], list):  # keras.ops.concatenate([a, b])
        args = args[0]
    out: list[Any] = []
    for arg in args:
        tensor = _serialized(arg) and arg["class_name"] == "__keras_tensor__"
        number = isinstance(arg, int | float) and not isinstance(arg, bool)
        if tensor or number:
            out.append(arg)
            continue
        if _serialized(arg) and arg["class_name"] in ARRAYS:
            array = constants.from_saved(arg)
            if isinstance(array, str):
                problems.append(f"the operation takes {array}")
                return None
            out.append(array)
            continue
        key = saved_key(arg)
        if key is None:
            problems.append(
                f"the operation takes {_show(arg)}; a spec gives it tensors, numbers, arrays "
                "and indices"
            )
            return None
        out.append(key)
    return out


ARRAYS = ("__tensor__", "__numpy__")
"""How Keras saves an array constant in a node's arguments (a tensor, a numpy array)."""


class SavedKey:
    """The index of a saved ``x[...]`` (``GetItem``'s second argument), as Python's."""

    def __init__(self, key: op_shapes.Key) -> None:
        self.key = key


def saved_key(arg: Any) -> SavedKey | None:
    """The index Keras saved for ``x[key]``: a list of integers, ``None``, ``__slice__``
    and ``__ellipsis__`` objects (a tuple); None if it is no index.

    >>> saved_key([{"class_name": "__ellipsis__", "config": {}}, 2]).key
    (Ellipsis, 2)
    >>> saved_key([{"class_name": "__slice__", "config": {"start": 1, "stop": None, "step": None}}, None]).key
    (slice(1, None, None), None)
    """
    items: list[op_shapes.IndexItem] = []
    for item in arg if isinstance(arg, list) else [arg]:
        if item is None or (isinstance(item, int) and not isinstance(item, bool)):
            items.append(item)
        elif _serialized(item) and item["class_name"] == "__ellipsis__":
            items.append(Ellipsis)
        elif _serialized(item) and item["class_name"] == "__slice__":
            config = item["config"] if isinstance(item["config"], dict) else {}
            bounds = [config.get(k) for k in ("start", "stop", "step")]
            if not all(
                b is None or (isinstance(b, int) and not isinstance(b, bool)) for b in bounds
            ):
                return None
            items.append(slice(*bounds))
        else:
            return None
    return SavedKey(tuple(items)) if isinstance(arg, list) else None


def entry(
    cls: type[OpSpec], config: dict[str, Any], given: list[Any], name: str | None
) -> tuple[dict[str, Any] | None, list[str]]:
    """The spec entry of one operation: its keyword arguments (Keras' defaults left out),
    its operands as ``inputs`` (references and numbers, in order), ``name`` if given; or
    its problems."""
    fields = cls.model_fields
    out: dict[str, Any] = {"op": typing_first(cls)}
    if name is not None:
        out["name"] = name
    problems = []
    for key, value in config.items():
        if key in ("name", "trainable") or (key == "dtype" and key not in fields):
            continue
        if key not in fields or key in ("op", "type", "value"):
            problems.append(f"argument {key}={_show(value)} is not supported by specc")
        elif fields[key].is_required() or value != fields[key].default:
            out[key] = list(value) if isinstance(value, tuple) else value
    if problems:
        return None, problems
    if cls.TRAILING:  # get_item(x, key): the key is no operand
        trailing = [  # x[0] saves its key as the number 0
            SavedKey(v) if isinstance(v, int) and not isinstance(v, bool) else v
            for v in given[len(given) - len(cls.TRAILING) :]
        ]
        given = given[: len(given) - len(cls.TRAILING)]
        if [type(v) for v in trailing] != [SavedKey] * len(trailing):
            return None, [f"{typing_first(cls)} takes an index after its tensor"]
        for key, value in zip(cls.TRAILING, trailing, strict=True):
            out[key] = op_shapes.format_index(value.key)
    if any(isinstance(v, SavedKey) for v in given):
        return None, [f"{typing_first(cls)} takes no index"]
    given = [constants.spec_value(v) if isinstance(v, constants.Array) else v for v in given]
    out["inputs"] = given
    try:
        validate_op(out)
    except PydanticCustomError as exc:
        return None, [str(exc)]
    except ValidationError as exc:
        for error in exc.errors():
            loc, owner = messages.clean_loc(error["loc"], out)
            text, hint = messages.error_text(error, loc, owner)
            where = ".".join(str(part) for part in loc)
            problems.append(f"{where}: {text}" + (f" ({hint})" if hint else ""))
        return None, problems
    return out, []


def typing_first(cls: type[OpSpec]) -> str:
    """The ``op`` name an imported operation gets: its first (``extract_patches`` for
    ``keras.ops.image.extract_patches``)."""
    return str(typing.get_args(cls.model_fields["op"].annotation)[0])


def shortened(made: dict[str, Any], previous: str | None, cls: type[OpSpec]) -> dict[str, Any]:
    """``inputs`` left out where the entry above is the one tensor, a last constant as
    ``value``: ``{op: add, value: 3.0}`` rather than ``{op: add, inputs: [conv2d, 3.0]}``."""
    given = made["inputs"]
    tensors = [v for v in given if isinstance(v, str)]
    out = {k: v for k, v in made.items() if k != "inputs"}
    if tensors == [previous] and previous is not None:
        if given == [previous]:
            return out
        if len(given) == 2 and given[0] == previous and "value" in cls.model_fields:
            return {**out, "value": given[1]}
    return {**out, "inputs": given}


__all__ = ["OPS_MODULE", "declaration", "entry", "is_operation", "operands", "shortened"]
