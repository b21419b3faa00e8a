"""What every application shares: a graph written as spec data, Keras' argument checks.

A generator mirrors its ``keras/src/applications/<family>.py`` call for call: each
``net.add`` is one Keras layer made and called, in Keras' order (so automatic names are
Keras' own), named where Keras names it. What it returns is the mapping a user writes
under ``model:``; specc's graph resolution computes the table from it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

POOLINGS = (None, "avg", "max")


class ApplicationError(ValueError):
    """An argument the Keras application refuses, said in one line (what to do included)."""


class Net:
    """A functional graph as spec entries, built as the Keras code builds it.

    ``add`` returns a reference to the layer's output: its name when Keras names it, else
    a label (``as:``) that stays only where another entry refers to it, so the automatic
    names stay Keras' wherever the graph is placed.
    """

    INPUT = "input_layer"

    def __init__(self, name: str, input_shape: tuple[int | None, ...]) -> None:
        self.name = name
        self.input_shape = input_shape
        self.entries: list[dict[str, Any]] = []
        self.refs: list[str] = []
        self.used: set[str] = set()

    def add(self, kind: str, x: str | list[str], name: str | None = None, **args: Any) -> str:
        """One layer ``kind`` made with ``args`` and called on ``x`` (a list: several)."""
        taken = [x] if isinstance(x, str) else list(x)
        entry: dict[str, Any] = {"type": kind}
        if name is not None:
            entry["name"] = name
        entry.update({key: _listed(value) for key, value in args.items()})
        previous = self.refs[-1] if self.refs else self.INPUT
        if taken != [previous] or not isinstance(x, str):
            entry["inputs"] = taken
            self.used.update(taken)
        ref = name if name is not None else f"x{len(self.entries)}"
        if name is None:
            entry["as"] = ref
        self.entries.append(entry)
        self.refs.append(ref)
        return ref

    def spec(self, output: str) -> dict[str, Any]:
        """The ``model:`` mapping: name, the input, the layers, the output."""
        self.used.add(output)
        for entry in self.entries:
            if "as" in entry and entry["as"] not in self.used:
                del entry["as"]
        return {
            "name": self.name,
            "inputs": [{"shape": list(self.input_shape)}],
            "layers": self.entries,
            "outputs": [output],
        }


def _listed(value: Any) -> Any:
    """Keras' tuples as the lists a spec writes."""
    return [_listed(v) for v in value] if isinstance(value, tuple | list) else value


@dataclass(frozen=True)
class Arguments:
    """The arguments every application takes, as Keras names them (``input_tensor``
    aside: a spec feeds the application a layer's output where it uses one)."""

    include_top: bool
    weights: Any
    input_shape: Any
    pooling: str | None
    classes: int
    classifier_activation: str | None
    name: str

    def input(self, default_size: int, min_size: int) -> tuple[int | None, ...]:
        """The shape the model is built for, after the checks Keras makes first."""
        check_common(
            self.include_top, self.pooling, self.classes, self.classifier_activation, self.weights
        )
        check_weights(self.weights, self.include_top, self.classes)
        return obtain_input_shape(
            self.input_shape, default_size, min_size, self.include_top, self.weights
        )


Generator = Callable[..., dict[str, Any]]


def standard(model_name: str, build: Callable[[Arguments], dict[str, Any]]) -> Generator:
    """The generator of an application with only the arguments every one takes, with
    Keras' signature and defaults (``model_name``: Keras' default name)."""

    def generator(
        include_top: bool = True,
        weights: Any = "imagenet",
        input_shape: Any = None,
        pooling: str | None = None,
        classes: int = 1000,
        classifier_activation: str | None = "softmax",
        name: str = model_name,
    ) -> dict[str, Any]:
        return build(
            Arguments(
                include_top, weights, input_shape, pooling, classes, classifier_activation, name
            )
        )

    return generator


def check_weights(weights: Any, include_top: bool, classes: int, of: int = 1000) -> None:
    """Keras' checks of ``weights`` against ``classes`` (a path is checked where loaded)."""
    if weights is not None and not isinstance(weights, str):
        raise ApplicationError(
            f"weights must be null (random), imagenet or a weights file's path, got {weights!r}"
        )
    if weights == "imagenet" and include_top and classes != of:
        raise ApplicationError(
            f"with weights: imagenet and include_top: true, classes must be {of} "
            f"(got {classes}); give weights: null to train {classes} classes"
        )


def check_common(
    include_top: Any, pooling: Any, classes: Any, classifier_activation: Any, weights: Any
) -> None:
    """The arguments every application takes, as values Keras would use."""
    if not isinstance(include_top, bool):
        raise ApplicationError(f"include_top must be true or false, got {include_top!r}")
    if pooling not in POOLINGS:
        raise ApplicationError(f"pooling must be null, avg or max, got {pooling!r}")
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 1:
        raise ApplicationError(f"classes must be a positive integer, got {classes!r}")
    if classifier_activation is not None and not isinstance(classifier_activation, str):
        raise ApplicationError(
            f"classifier_activation must be an activation's name or null, "
            f"got {classifier_activation!r}"
        )
    if (
        include_top
        and weights is not None
        and classifier_activation not in (None, "softmax", "linear")
    ):
        raise ApplicationError(
            "with pretrained weights, classifier_activation must be softmax or null "
            f"(got {classifier_activation!r}); give weights: null for another activation"
        )


def obtain_input_shape(
    input_shape: Any,
    default_size: int,
    min_size: int,
    require_flatten: bool,
    weights: Any,
) -> tuple[int | None, ...]:
    """Keras' ``imagenet_utils.obtain_input_shape`` (channels last): the input shape an
    application is built for, or its refusal."""
    if input_shape is not None:
        input_shape = _shape_tuple(input_shape)
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        default_shape: tuple[int | None, ...] = (default_size, default_size, input_shape[-1])
    else:
        default_shape = (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and input_shape != default_shape:
            raise ApplicationError(
                f"with include_top: true and weights: imagenet, input_shape must be "
                f"{list(default_shape)} (got {list(input_shape)}); give include_top: false "
                "or weights: null for another size"
            )
        return default_shape
    if input_shape:
        if len(input_shape) != 3:
            raise ApplicationError(
                f"input_shape must be [height, width, channels], got {list(input_shape)}"
            )
        if input_shape[-1] != 3 and weights == "imagenet":
            raise ApplicationError(
                f"with weights: imagenet the input must have 3 channels, got "
                f"input_shape {list(input_shape)}"
            )
        if any(size is not None and size < min_size for size in input_shape[:2]):
            raise ApplicationError(
                f"input size must be at least {min_size}x{min_size}, got input_shape "
                f"{list(input_shape)}"
            )
    else:
        input_shape = default_shape if require_flatten else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ApplicationError(
            f"with include_top: true the input shape must be static, got "
            f"{list(input_shape)}; give every size or include_top: false"
        )
    return tuple(input_shape)


def _shape_tuple(input_shape: Any) -> tuple[int | None, ...]:
    if not isinstance(input_shape, list | tuple) or not all(
        size is None or (isinstance(size, int) and not isinstance(size, bool) and size > 0)
        for size in input_shape
    ):
        raise ApplicationError(
            f"input_shape must be a list of positive sizes (null: any), got {input_shape!r}"
        )
    return tuple(input_shape)


def classifier(
    net: Net, x: str, classes: int, classifier_activation: str | None, name: str = "predictions"
) -> str:
    """The top Dense layer (``activation`` left out where Keras' is None: linear)."""
    args: dict[str, Any] = {"units": classes}
    if classifier_activation is not None:
        args["activation"] = classifier_activation
    return net.add("Dense", x, name=name, **args)


POOLING_LAYERS = {"avg": "GlobalAveragePooling2D", "max": "GlobalMaxPooling2D"}
"""The layer type each ``pooling`` ends a top-less application with (what import reads
back as ``pooling``)."""

DROPOUT = "Dropout"
"""The layer type of an application's ``dropout``/``dropout_rate``."""


def pool(net: Net, x: str, pooling: str | None, names: tuple[str, str] | None = None) -> str:
    """``pooling`` without the top: global average or max (named where Keras names them)."""
    if pooling is None:
        return x
    kind = POOLING_LAYERS[pooling]
    name = None if names is None else names[0 if pooling == "avg" else 1]
    return net.add(kind, x, name=name)


def unknown(name: str, names: list[str]) -> ApplicationError:
    """An application name Keras does not have, with the closest one."""
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean {close[0]}?" if close else f"; one of {', '.join(names)}"
    return ApplicationError(f"unknown application {name!r}{hint}")


Size = tuple[int | None, int | None]
"""A feature map's height and width (None: known only when run)."""


def correct_pad(size: Size, kernel_size: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Keras' ``imagenet_utils.correct_pad``: the zero padding before a strided 'valid'
    convolution that 'same' would have made (``size``: the input's height and width).

    >>> correct_pad((112, 112), 3), correct_pad((7, 8), 5), correct_pad((None, None), 3)
    (((0, 1), (0, 1)), ((2, 2), (1, 2)), ((0, 1), (0, 1)))
    """
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - (size[1] or 0) % 2)
    correct = (kernel_size // 2, kernel_size // 2)
    return ((correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1]))


def conv_size(size: Size, kernel_size: int, stride: int, padding: str, pad: Any = None) -> Size:
    """The height and width after a (zero padding ``pad``, then a) convolution or pooling.

    >>> conv_size((224, 224), 3, 2, "same"), conv_size((7, None), 3, 2, "valid", ((0, 1), (0, 1)))
    ((112, 112), (3, None))
    """

    def one(n: int | None, margins: tuple[int, int]) -> int | None:
        if n is None:
            return None
        n += sum(margins)
        return -(-n // stride) if padding == "same" else (n - kernel_size) // stride + 1

    margins = pad or ((0, 0), (0, 0))
    return one(size[0], margins[0]), one(size[1], margins[1])


def make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """Keras' ``_make_divisible``: ``v`` rounded to a multiple of ``divisor``, never more
    than 10% below it.

    >>> make_divisible(32 * 0.35, 8), make_divisible(1280 * 1.3, 8), make_divisible(16, 8)
    (16, 1664, 16)
    """
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v
