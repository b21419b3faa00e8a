"""Shape rules of the ``keras.ops`` operations that reshape, reduce, join and split tensors.

Each is a small pure function after the operation's ``compute_output_spec`` in Keras 3
(``keras/src/ops/numpy.py``, ``ops/image.py``, ``ops/operation_utils.py``), on whole shapes:
an operation sees the batch axis like any other (``ops.mean(x, axis=0)`` reduces it), and
``None`` is a size not known before run time. Where Keras cannot agree the shapes, the rule
raises :class:`ShapeError` with one line naming the argument to fix; where Keras' static
rule would accept what its run refuses (repeated axes, an einsum contraction of two known
different sizes), the rule refuses too, so a spec that validates also runs.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Sequence
from types import EllipsisType

from specc.layers.shapes import Shape, ShapeError, format_shape

Axis = int | Sequence[int] | None


def _axis(axis: int, rank: int, field: str = "axis") -> int:
    """``axis`` in ``[-rank, rank)`` as a non-negative index (Keras' canonicalize_axis).

    >>> _axis(-1, 3)
    2
    >>> _axis(3, 3)
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: axis 3 is out of range for a tensor of rank 3 (use -3 .. 2)
    """
    if not -rank <= axis < rank:
        raise ShapeError(
            f"{field} {axis} is out of range for a tensor of rank {rank} (use {-rank} .. {rank - 1})",
            field,
        )
    return axis % rank


def _axes(axis: int | Sequence[int], rank: int, field: str = "axis") -> list[int]:
    """Several axes, each in range and none twice (Keras' run refuses repeated axes)."""
    listed = [axis] if isinstance(axis, int) else list(axis)
    found = [_axis(a, rank, field) for a in listed]
    if len(set(found)) != len(found):
        raise ShapeError(f"{field} {listed} names the same axis twice", field)
    return found


def broadcast(first: Shape, second: Shape) -> Shape:
    """Two shapes broadcast against each other, as Keras' ``broadcast_shapes``.

    >>> broadcast((None, 1, 4), (3, 4))
    (None, 3, 4)
    >>> broadcast((None, 3), (None, None))
    (None, 3)
    >>> broadcast((2, 3), (4, 3))
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: shapes (2, 3) and (4, 3) do not broadcast: 2 against 4
    """
    rank = max(len(first), len(second))
    a = (1,) * (rank - len(first)) + tuple(first)
    b = (1,) * (rank - len(second)) + tuple(second)
    out: list[int | None] = []
    for x, y in zip(a, b, strict=True):
        if x == 1:
            out.append(y)
        elif x is None:
            out.append(None if y == 1 else y)
        elif y in (1, None, x):
            out.append(x)
        else:
            raise ShapeError(
                f"shapes {tuple(first)} and {tuple(second)} do not broadcast: {x} against {y}"
            )
    return tuple(out)


def reduce_shape(shape: Shape, axis: Axis = None, keepdims: bool = False) -> Shape:
    """``mean``, ``sum``, ``max``, ``min``: the reduced axes go, or stay as 1 with ``keepdims``.

    >>> reduce_shape((None, 10, 64), 1)
    (None, 64)
    >>> reduce_shape((None, 7, 7, 32), [1, 2], keepdims=True)
    (None, 1, 1, 32)
    >>> reduce_shape((None, 8), None)
    ()
    >>> reduce_shape((None, 8), None, keepdims=True)
    (1, 1)
    >>> reduce_shape((None, 8), [1, -1])
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: axis [1, -1] names the same axis twice
    """
    if axis is None:
        return (1,) * len(shape) if keepdims else ()
    gone = _axes(axis, len(shape))
    if keepdims:
        return tuple(1 if i in gone else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in gone)


def _same_but(shapes: Sequence[Shape], skip: int | None, what: str) -> None:
    """Every shape equals the first, except on axis ``skip``; an unknown size matches any."""
    first = shapes[0]
    for other in shapes[1:]:
        agree = len(other) == len(first) and all(
            i == skip or a is None or b is None or a == b
            for i, (a, b) in enumerate(zip(first, other, strict=True))
        )
        if not agree:
            raise ShapeError(f"{what}: got {tuple(first)} and {tuple(other)}")


def concatenate_shape(shapes: Sequence[Shape], axis: int = 0) -> Shape:
    """Join along an existing axis: the sizes on ``axis`` add up, the others must agree.

    >>> concatenate_shape([(None, 4, 8), (None, 4, 2)], axis=-1)
    (None, 4, 10)
    >>> concatenate_shape([(None, 4), (None, None)], axis=1)
    (None, None)
    >>> concatenate_shape([(None, 4, 8), (None, 3, 2)], axis=-1)
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: concatenate needs the same sizes except on axis -1: got (None, 4, 8) and (None, 3, 2)
    """
    first = shapes[0]
    at = _axis(axis, len(first))
    _same_but(shapes, at, f"concatenate needs the same sizes except on axis {axis}")
    sizes = [s[at] for s in shapes]
    total = None if None in sizes else sum(d for d in sizes if d is not None)
    return (*first[:at], total, *first[at + 1 :])


def stack_shape(shapes: Sequence[Shape], axis: int = 0) -> Shape:
    """Join along a new axis of size ``len(shapes)``; the shapes must agree.

    >>> stack_shape([(None, 4), (None, 4), (None, 4)], axis=1)
    (None, 3, 4)
    >>> stack_shape([(None, 4), (None, 4)], axis=-1)
    (None, 4, 2)
    """
    first = shapes[0]
    at = _axis(axis, len(first) + 1)
    _same_but(shapes, None, "stack needs tensors of the same shape")
    return (*first[:at], len(shapes), *first[at:])


def split_shapes(
    shape: Shape, indices_or_sections: int | Sequence[int], axis: int = 0
) -> list[Shape]:
    """Cut along ``axis`` into equal sections, or at the given (increasing) indices.

    >>> split_shapes((None, 6, 4), 3, axis=1)
    [(None, 2, 4), (None, 2, 4), (None, 2, 4)]
    >>> split_shapes((None, 10), [2, 5], axis=-1)
    [(None, 2), (None, 3), (None, 5)]
    >>> split_shapes((None, 10), 3, axis=1)
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: cannot split size 10 into 3 equal sections (use a divisor of 10, or indices)
    """
    at = _axis(axis, len(shape))
    size = shape[at]

    def with_size(n: int | None) -> Shape:
        return (*shape[:at], n, *shape[at + 1 :])

    if isinstance(indices_or_sections, int):
        if indices_or_sections < 1:
            raise ShapeError("sections must be at least 1", "indices_or_sections")
        if size is not None and size % indices_or_sections:
            raise ShapeError(
                f"cannot split size {size} into {indices_or_sections} equal sections"
                f" (use a divisor of {size}, or indices)",
                "indices_or_sections",
            )
        part = None if size is None else size // indices_or_sections
        return [with_size(part)] * indices_or_sections
    cuts = list(indices_or_sections)
    if cuts != sorted(cuts) or (cuts and cuts[0] < 0) or (size is not None and cuts[-1:] > [size]):
        bound = "" if size is None else f" up to {size}"
        raise ShapeError(f"split indices {cuts} must increase from 0{bound}", "indices_or_sections")
    ends = [0, *cuts, size]
    return [
        with_size(None if b is None or a is None else b - a) for a, b in itertools.pairwise(ends)
    ]


def reshape_shape(shape: Shape, newshape: Sequence[int]) -> Shape:
    """``ops.reshape`` on the whole shape (batch axis included); one ``-1`` takes the rest.

    As Keras: with any unknown size (the batch) nothing can be checked and ``-1`` stays
    unknown.

    >>> reshape_shape((None, 64, 32), [-1, 8, 8, 32])
    (None, 8, 8, 32)
    >>> reshape_shape((2, 6), [3, -1])
    (3, 4)
    >>> reshape_shape((2, 6), [5, -1])
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: cannot reshape (2, 6) (12 values) into [5, -1]: 12 is not divisible by 5
    """
    target = list(newshape)
    if any(d < -1 for d in target) or target.count(-1) > 1:
        raise ShapeError(f"newshape {target} takes sizes >= 0 and at most one -1", "newshape")
    if None in shape:
        return tuple(None if d == -1 else d for d in target)
    size = math.prod(d for d in shape if d is not None)
    known = math.prod(d for d in target if d != -1)
    if -1 not in target:
        if known != size:
            raise ShapeError(
                f"cannot reshape {tuple(shape)} ({size} values) into {target} ({known} values)",
                "newshape",
            )
        return tuple(target)
    if known == 0 or size % known:
        raise ShapeError(
            f"cannot reshape {tuple(shape)} ({size} values) into {target}:"
            f" {size} is not divisible by {known}",
            "newshape",
        )
    return tuple(size // known if d == -1 else d for d in target)


def transpose_shape(shape: Shape, axes: Sequence[int] | None = None) -> Shape:
    """Permute the axes (all of them, batch included); none given reverses them.

    >>> transpose_shape((None, 4, 8), [0, 2, 1])
    (None, 8, 4)
    >>> transpose_shape((None, 4, 8))
    (8, 4, None)
    >>> transpose_shape((None, 4, 8), [0, 2])
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: axes [0, 2] must list each of the 3 axes once, e.g. [0, 2, 1]
    """
    if axes is None:
        return tuple(reversed(shape))
    rank = len(shape)
    if len(axes) != rank or any(not -rank <= a < rank for a in axes):
        example = [0, *range(rank - 1, 0, -1)]
        raise ShapeError(
            f"axes {list(axes)} must list each of the {rank} axes once, e.g. {example}", "axes"
        )
    found = _axes(axes, rank, "axes")
    return tuple(shape[a] for a in found)


def expand_dims_shape(shape: Shape, axis: int | Sequence[int]) -> Shape:
    """New axes of size 1, placed at ``axis`` in the result.

    >>> expand_dims_shape((None, 4), 1)
    (None, 1, 4)
    >>> expand_dims_shape((None, 4), -1)
    (None, 4, 1)
    >>> expand_dims_shape((None, 4), [0, 1])
    (1, 1, None, 4)
    """
    rank = len(shape) + (1 if isinstance(axis, int) else len(axis))
    new = _axes(axis, rank)
    rest = iter(shape)
    return tuple(1 if i in new else next(rest) for i in range(rank))


def squeeze_shape(shape: Shape, axis: int | Sequence[int] | None = None) -> Shape:
    """Remove axes of size 1: those named, or every known 1 when none is named.

    >>> squeeze_shape((None, 1, 4, 1))
    (None, 4)
    >>> squeeze_shape((None, 1, 4, 1), -1)
    (None, 1, 4)
    >>> squeeze_shape((None, 1, 4), 2)
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: cannot squeeze axis 2 of (None, 1, 4): its size is 4, not 1
    """
    if axis is None:
        return tuple(d for d in shape if d != 1)
    gone = _axes(axis, len(shape))
    for a in gone:
        if shape[a] != 1:
            raise ShapeError(
                f"cannot squeeze axis {a} of {tuple(shape)}: its size is {shape[a]}, not 1", "axis"
            )
    return tuple(d for i, d in enumerate(shape) if i not in gone)


def matmul_shape(first: Shape, second: Shape) -> Shape:
    """Matrix product over the last two axes; the axes before them broadcast.

    >>> matmul_shape((None, 4, 8), (None, 8, 3))
    (None, 4, 3)
    >>> matmul_shape((None, 5, 4, 8), (8, 2))
    (None, 5, 4, 2)
    >>> matmul_shape((None, 8), (8,))
    (None,)
    >>> matmul_shape((None, 4, 8), (None, 7, 3))
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: matmul needs the last size of the first (8) to equal the second-to-last of the second (7): got (None, 4, 8) and (None, 7, 3)
    """
    if not first or not second:
        raise ShapeError("matmul needs tensors of rank 1 or more, not scalars")
    a = (1, *first) if len(first) == 1 else tuple(first)
    b = (*second, 1) if len(second) == 1 else tuple(second)
    if a[-1] is not None and b[-2] is not None and a[-1] != b[-2]:
        raise ShapeError(
            f"matmul needs the last size of the first ({a[-1]}) to equal the second-to-last of"
            f" the second ({b[-2]}): got {tuple(first)} and {tuple(second)}"
        )
    out = [*broadcast(a[:-2], b[:-2]), a[-2], b[-1]]
    if len(first) == 1:
        del out[-2]
    if len(second) == 1:
        del out[-1]
    return tuple(out)


def _einsum_terms(subscripts: str, count: int) -> tuple[list[str], str]:
    """The input terms and the output term of an einsum equation (implicit output: the
    letters that appear once, sorted, after ``...``), checked as Keras can take them."""
    if any(c not in "abcdefghijklmnopqrstuvwxyz,.->" for c in subscripts):
        raise ShapeError(
            f"subscripts {subscripts!r} may use only lowercase letters, ',', '...' and '->'",
            "subscripts",
        )
    left, arrow, right = subscripts.partition("->")
    terms = left.split(",")
    if "->" in right or len(terms) != count:
        raise ShapeError(
            f"subscripts {subscripts!r} needs one term per input ({count}) and at most one '->'",
            "subscripts",
        )
    if not arrow:
        letters = [c for c in left if c.isalpha()]
        right = "..." + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    for term in [*terms, right]:
        if term.replace("...", "", 1).count(".") or term.count("...") > 1:
            raise ShapeError(f"term {term!r} may hold one '...' and letters only", "subscripts")
    for letter in right.replace("...", ""):
        if letter not in left or right.count(letter) > 1:
            raise ShapeError(
                f"output letter {letter!r} must appear once in the output and in an input",
                "subscripts",
            )
    return terms, right


def _einsum_bind(term: str, shape: Shape) -> tuple[dict[str, list[int | None]], Shape]:
    """The sizes each letter of ``term`` takes in ``shape``, and what ``...`` covers."""
    head, dots, tail = term.partition("...")
    if (len(shape) < len(head) + len(tail)) if dots else len(shape) != len(term):
        raise ShapeError(
            f"term {term!r} does not fit an input of shape {tuple(shape)} (rank {len(shape)})",
            "subscripts",
        )
    sizes: dict[str, list[int | None]] = {}
    end = len(shape) - len(tail)
    for letter, size in [*zip(head, shape, strict=False), *zip(tail, shape[end:], strict=True)]:
        sizes.setdefault(letter, []).append(size)
    return sizes, tuple(shape[len(head) : end]) if dots else ()


def einsum_shape(subscripts: str, shapes: Sequence[Shape]) -> Shape:
    """Einstein summation: each output letter takes its inputs' size; ``...`` broadcasts.

    A letter's known sizes must agree in every input (Keras' static rule does not check
    the contracted ones; its run does).

    >>> einsum_shape("bij,bjk->bik", [(None, 4, 8), (None, 8, 3)])
    (None, 4, 3)
    >>> einsum_shape("...ij,jk", [(None, 5, 4, 8), (8, 2)])
    (None, 5, 4, 2)
    >>> einsum_shape("abcd,aecd->acbe", [(None, 4, 2, 8), (None, 6, 2, 8)])
    (None, 2, 4, 6)
    >>> einsum_shape("a,a->a", [(1,), (None,)])   # Keras declares 1 with unknown as unknown
    (None,)
    >>> einsum_shape("ij,jk->ik", [(None, 8), (7, 3)])
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: letter 'j' of 'ij,jk->ik' has sizes 8 and 7 in the inputs
    """
    terms, right = _einsum_terms(subscripts, len(shapes))
    sizes: dict[str, list[int | None]] = {}
    firsts: dict[str, list[int | None]] = {}  # each input's size of the letter
    wild: Shape = ()
    for term, shape in zip(terms, shapes, strict=True):
        found, covered = _einsum_bind(term, shape)
        for letter, got in found.items():
            sizes.setdefault(letter, []).extend(got)
            firsts.setdefault(letter, []).append(got[0])
        wild = broadcast(wild, covered)
    for letter, got in sizes.items():
        seen = list(dict.fromkeys(d for d in got if d is not None))
        if len(seen) > 1:
            raise ShapeError(
                f"letter {letter!r} of {subscripts!r} has sizes {seen[0]} and {seen[-1]} in the inputs",
                "subscripts",
            )
    one: Shape = (1,)
    known = {  # as Keras declares it: the inputs' sizes broadcast (1 and unknown: unknown)
        letter: functools.reduce(broadcast, [(d,) for d in got], one)
        for letter, got in firsts.items()
    }
    head, _, tail = right.partition("...")
    if "..." not in right and wild:
        raise ShapeError(
            f"the output of {subscripts!r} must keep '...', which covers {wild}", "subscripts"
        )
    return (*(known[c][0] for c in head), *wild, *(known[c][0] for c in tail))


def extract_patches_shape(
    shape: Shape,
    size: int | Sequence[int],
    strides: int | Sequence[int] | None = None,
    dilation_rate: int | Sequence[int] = 1,
    padding: str = "valid",
    data_format: str = "channels_last",
) -> Shape:
    """``ops.image.extract_patches``: each patch (2D, or 3D with three sizes) flattened
    into the channels axis, as ViT cuts an image into tokens.

    >>> extract_patches_shape((None, 72, 72, 3), 6)
    (None, 12, 12, 108)
    >>> extract_patches_shape((None, 32, 32, 3), (4, 4), strides=2, padding="same")
    (None, 16, 16, 48)
    >>> extract_patches_shape((None, 3, 8, 8), 2, data_format="channels_first")
    (None, 12, 4, 4)
    >>> extract_patches_shape((None, 5, 5, 3), 6)
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: patches of 6x6 do not fit an image of 5x5 with valid padding (use smaller patches or padding: same)
    """
    window = (size, size) if isinstance(size, int) else tuple(size)
    rank = len(window)
    if len(shape) != rank + 2:
        unbatched = " (Keras would take the batch axis for image rows)" * (len(shape) == rank + 1)
        raise ShapeError(
            f"{rank}D patches need a (batch, {'depth, ' if rank == 3 else ''}height, width,"
            f" channels) input, got {tuple(shape)}{unbatched}",
        )
    step = (
        window
        if strides is None
        else (strides,) * rank
        if isinstance(strides, int)
        else tuple(strides)
    )
    dilation = (dilation_rate,) * rank if isinstance(dilation_rate, int) else tuple(dilation_rate)
    if len(step) != rank or len(dilation) != rank:
        raise ShapeError(f"strides and dilation_rate need {rank} values, as size has", "strides")
    if max(step) > 1 and max(dilation) > 1:
        raise ShapeError("Keras does not take strides > 1 with dilation_rate > 1", "dilation_rate")
    last = data_format == "channels_last"
    channels = shape[-1] if last else shape[1]
    spatial = shape[1:-1] if last else shape[2:]
    if channels is None:
        raise ShapeError("extract_patches needs a known number of channels", show_input=True)
    out: list[int | None] = []
    for n, k, s, d in zip(spatial, window, step, dilation, strict=True):
        if n is None:
            out.append(None)
        elif padding == "same":
            out.append(-(-n // s))
        elif n - d * (k - 1) - 1 < 0:
            raise ShapeError(
                f"patches of {'x'.join(map(str, window))} do not fit an image of"
                f" {'x'.join(map(str, spatial))} with valid padding (use smaller patches or"
                " padding: same)",
                "size",
            )
        else:
            out.append((n - d * (k - 1) - 1) // s + 1)
    depth = math.prod(window) * channels
    return (shape[0], *out, depth) if last else (shape[0], depth, *out)


def resize_shape(shape: Shape, size: Sequence[int], data_format: str = "channels_last") -> Shape:
    """``ops.image.resize``: a batch of images to ``size`` (height, width).

    >>> resize_shape((None, 32, 32, 3), (224, 224))
    (None, 224, 224, 3)
    >>> resize_shape((None, 3, 32, 32), (64, 48), "channels_first")
    (None, 3, 64, 48)
    """
    if len(shape) != 4:
        unbatched = " (Keras would take the batch axis for image rows)" * (len(shape) == 3)
        raise ShapeError(
            f"resize needs a (batch, height, width, channels) input, got {tuple(shape)}{unbatched}"
        )
    height, width = size
    if data_format == "channels_last":
        return (shape[0], height, width, shape[3])
    return (shape[0], shape[1], height, width)


def arange_shape(start: float, stop: float | None = None, step: float = 1) -> Shape:
    """``ops.arange``: ``ceil((stop - start) / step)`` values, as numpy counts them.

    >>> arange_shape(0, 10)
    (10,)
    >>> arange_shape(10)
    (10,)
    >>> arange_shape(0, 10, 3)
    (4,)
    >>> arange_shape(5, 2)
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: arange(5, 2, 1) holds no values (Keras' tensorflow back end refuses it; use stop > start, or a negative step)
    """
    if stop is None:
        start, stop = 0, start
    if step == 0:
        raise ShapeError("step must not be 0", "step")
    count = math.ceil((stop - start) / step)
    if count < 1:
        raise ShapeError(
            f"arange({start}, {stop}, {step}) holds no values (Keras' tensorflow back end refuses"
            " it; use stop > start, or a negative step)",
            "stop",
        )
    return (count,)


# ------------------------------------------------------------------------------ indexing
IndexItem = int | slice | None | EllipsisType
"""One item of an index: an integer, a slice, ``None`` (a new axis) or ``...``."""
Key = int | tuple[IndexItem, ...]
"""What ``x[...]`` passes Keras: one integer (``x[0]``), or a tuple (``x[:, 0]``)."""

_INTEGER = re.compile(r"[+-]?\d+")


def parse_index(text: str) -> Key:
    """The key of ``x[...]`` written as Python writes it, read without ``eval``.

    Integers, slices (``1:3``, ``::-1``, ``2:``), ``...`` and ``None`` (a new axis), one
    item or several split by commas; a trailing comma makes a tuple of one, as in Python.

    >>> parse_index("[:, 0]")
    (slice(None, None, None), 0)
    >>> parse_index("[..., ::-1]")
    (Ellipsis, slice(None, None, -1))
    >>> parse_index("[1:3, None, -1]")
    (slice(1, 3, None), None, -1)
    >>> parse_index("[0]"), parse_index("[0,]")
    (0, (0,))
    >>> parse_index("[:, a]")
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: key "[:, a]" at column 5: 'a' is no index item; write integers, slices (1:3, ::-1), ... or None, split by commas
    >>> parse_index("[1:3]")
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: key "[1:3]": Keras 3 slices a symbolic tensor by an integer or a tuple, not by one slice or None alone; add the axes it keeps, e.g. "[1:3, ...]"
    """
    stripped = text.strip()
    if not (stripped.startswith("[") and stripped.endswith("]")) or len(stripped) < 2:
        raise ShapeError(
            f'key "{text}" must be written in brackets, as in Python: "[:, 0]"',
            "key",
            show_input=False,
        )
    inner = stripped[1:-1]
    offset = text.index("[") + 2  # the column of the first character inside, 1-based
    parts = inner.split(",")
    tuple_given = len(parts) > 1
    if tuple_given and not parts[-1].strip():
        parts = parts[:-1]  # "[0,]": a tuple of one
    items: list[IndexItem] = []
    for part in parts:
        column = offset + len(part) - len(part.lstrip())
        offset += len(part) + 1
        items.append(_index_item(part.strip(), text, column))
    if sum(item is Ellipsis for item in items) > 1:
        raise ShapeError(f'key "{text}" has more than one "..."; keep one', "key", show_input=False)
    if tuple_given:
        return tuple(items)
    if isinstance(items[0], int):
        return items[0]
    lone = format_index((items[0], Ellipsis)) if items[0] is not Ellipsis else "[...]"
    raise ShapeError(
        f'key "{text}": Keras 3 slices a symbolic tensor by an integer or a tuple, not by one '
        f'slice or None alone; add the axes it keeps, e.g. "{lone}"',
        "key",
        show_input=False,
    )


def _index_item(item: str, text: str, column: int) -> IndexItem:
    """One item of an index (see :func:`parse_index`)."""
    if item == "...":
        return Ellipsis
    if item == "None":
        return None
    if _INTEGER.fullmatch(item):
        return int(item)
    bounds = item.split(":")
    if 2 <= len(bounds) <= 3 and all(
        not b.strip() or _INTEGER.fullmatch(b.strip()) for b in bounds
    ):
        numbers = [int(b) if b.strip() else None for b in bounds]
        if len(numbers) == 3 and numbers[2] == 0:
            raise ShapeError(
                f'key "{text}" at column {column}: a slice step must not be 0',
                "key",
                show_input=False,
            )
        return slice(*numbers)
    shown = item or "(nothing)"
    raise ShapeError(
        f'key "{text}" at column {column}: {shown!r} is no index item; write integers, slices '
        "(1:3, ::-1), ... or None, split by commas",
        "key",
        show_input=False,
    )


def format_index(key: Key) -> str:
    """The key as Python writes it between brackets (what :func:`parse_index` reads).

    >>> format_index((slice(None), -1, slice(None)))
    '[:, -1, :]'
    >>> format_index((Ellipsis, slice(None, None, -1)))
    '[..., ::-1]'
    >>> format_index(0), format_index((0,)), format_index((slice(2, None), None))
    ('[0]', '[0,]', '[2:, None]')
    """
    if isinstance(key, int):
        return f"[{key}]"
    texts = [_item_text(item) for item in key]
    return "[" + ", ".join(texts) + ("," if len(texts) == 1 else "") + "]"


def _item_text(item: IndexItem) -> str:
    if item is Ellipsis:
        return "..."
    if isinstance(item, slice):
        start, stop, step = (
            ("" if n is None else str(n)) for n in (item.start, item.stop, item.step)
        )
        return f"{start}:{stop}" + (f":{step}" if step else "")
    return str(item)


def getitem_shape(shape: Shape, key: Key) -> Shape:
    """``x[key]``: as Keras' ``GetItem.compute_output_spec``: an integer takes an axis
    away, a slice keeps it (its known size counted as ``range`` counts), ``None`` adds an
    axis of size 1, ``...`` stands for the axes no other item takes.

    >>> getitem_shape((None, 5, 4, 3), (slice(None), 0))
    (None, 4, 3)
    >>> getitem_shape((None, 5, 4, 3), (Ellipsis, slice(None, None, -1)))
    (None, 5, 4, 3)
    >>> getitem_shape((None, 5, 4, 3), (slice(None), slice(1, 3)))
    (None, 2, 4, 3)
    >>> getitem_shape((None, 5, 4, 3), (slice(None), None, 2))
    (None, 1, 4, 3)
    >>> getitem_shape((None, 5, 4, 3), (slice(None), 7))
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: key [:, 7] takes item 7 of axis 1, which has size 5 in (None, 5, 4, 3); use an index from -5 to 4
    >>> getitem_shape((None, 5), (slice(None), 0, 0))
    Traceback (most recent call last):
    ...
    specc.layers.shapes.ShapeError: key [:, 0, 0] has 3 items that take an axis, but (None, 5) has 2 axes; remove 1
    """
    items: list[IndexItem] = [key] if isinstance(key, int) else list(key)
    if Ellipsis not in items:
        items.append(Ellipsis)
    taking = sum(1 for item in items if item is not None and item is not Ellipsis)
    if taking > len(shape):
        raise ShapeError(
            f"key {format_index(key)} has {taking} items that take an axis, but "
            f"{format_shape(shape)} has {len(shape)} axes; remove {taking - len(shape)}",
            "key",
            show_input=False,
        )
    out: list[int | None] = []
    axis = 0
    for position, item in enumerate(items):
        if item is Ellipsis:
            rest = sum(1 for i in items[position + 1 :] if i is not None)
            kept = len(shape) - axis - rest
            out.extend(shape[axis : axis + kept])
            axis += kept
        elif item is None:
            out.append(1)
        else:
            size = shape[axis]
            if isinstance(item, int):
                if size is not None and not -size <= item < size:
                    raise ShapeError(
                        f"key {format_index(key)} takes item {item} of axis {axis}, which has "
                        f"size {size} in {format_shape(shape)}; use an index from {-size} to "
                        f"{size - 1}",
                        "key",
                        show_input=False,
                    )
            else:
                out.append(None if size is None else len(range(*item.indices(size))))
            axis += 1
    return tuple(out)
