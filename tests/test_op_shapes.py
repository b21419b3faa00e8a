"""The shape rules of specc.layers.op_shapes against Keras' own, over drawn shapes and arguments.

Each case calls the ``keras.ops`` function on ``KerasTensor``s (so Keras runs its
``compute_output_spec``, as in a functional model) and the specc rule on the same shapes.
Where specc accepts, Keras accepts with the same shape. Where specc refuses, Keras refuses
too: at once, or when the operation runs on real arrays (unknown sizes 2), or its static
shape disagrees with the one its run produces (repeated squeeze axes): a spec that
validates is one whose table Keras prints and whose model runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

from specc.layers import op_shapes
from specc.layers.shapes import Shape, ShapeError
from tests.family_differential import SETTINGS
from tests.keras_helpers import keras

SIZE = st.one_of(st.sampled_from([1, 2, 3, 4, 6]), st.none())
Case = tuple[str, Callable[[Any, list[Any]], Any], Callable[[list[Shape]], Any], list[Shape]]
"""(what, the Keras call on its tensors, the specc rule on their shapes, the input shapes)"""


@st.composite
def shapes(draw: Any, rank: st.SearchStrategy[int] | None = None) -> Shape:
    """A tensor's shape in a functional model: mostly an unknown batch axis, then sizes."""
    n = draw(st.integers(1, 4) if rank is None else rank)
    first = draw(st.one_of(st.none(), SIZE)) if draw(st.booleans()) else None
    return (first, *(draw(SIZE) for _ in range(n - 1)))


def _vary(draw: Any, base: Shape) -> Shape:
    """Another input for a join with ``base``: mostly equal, else one size or rank off."""
    how = draw(st.sampled_from(["same", "same", "size", "rank"]))
    if how == "same":
        return base
    if how == "rank":
        return draw(shapes())
    out = list(base)
    out[draw(st.integers(0, len(base) - 1))] = draw(SIZE)
    return tuple(out)


def _axis(draw: Any, rank: int) -> int:
    return draw(st.integers(-rank - 1, rank))


@st.composite
def reduction(draw: Any) -> Case:
    shape = draw(shapes())
    name = draw(st.sampled_from(["mean", "sum", "max", "min"]))
    axis = draw(
        st.one_of(
            st.none(),
            st.integers(-len(shape) - 1, len(shape)),
            st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=3),
        )
    )
    keepdims = draw(st.booleans())
    return (
        f"{name}(axis={axis}, keepdims={keepdims})",
        lambda k, xs: getattr(k.ops, name)(xs[0], axis=axis, keepdims=keepdims),
        lambda s: op_shapes.reduce_shape(s[0], axis, keepdims),
        [shape],
    )


@st.composite
def join(draw: Any) -> Case:
    base = draw(shapes())
    others = [_vary(draw, base) for _ in range(draw(st.integers(1, 3)))]
    if draw(st.booleans()):
        axis = _axis(draw, len(base))
        return (
            f"concatenate(axis={axis})",
            lambda k, xs: k.ops.concatenate(xs, axis=axis),
            lambda s: op_shapes.concatenate_shape(s, axis),
            [base, *others],
        )
    axis = _axis(draw, len(base) + 1)
    return (
        f"stack(axis={axis})",
        lambda k, xs: k.ops.stack(xs, axis=axis),
        lambda s: op_shapes.stack_shape(s, axis),
        [base, *others],
    )


@st.composite
def split(draw: Any) -> Case:
    shape = draw(shapes())
    axis = _axis(draw, len(shape))
    cut = draw(st.one_of(st.integers(1, 4), st.lists(st.integers(0, 7), min_size=1, max_size=3)))
    return (
        f"split({cut}, axis={axis})",
        lambda k, xs: k.ops.split(xs[0], cut, axis=axis),
        lambda s: op_shapes.split_shapes(s[0], cut, axis),
        [shape],
    )


@st.composite
def reshape(draw: Any) -> Case:
    shape = draw(shapes())
    target = draw(
        st.lists(st.sampled_from([-1, -1, 1, 2, 3, 4, 6, 8, 12, 24]), min_size=1, max_size=4)
    )
    return (
        f"reshape({target})",
        lambda k, xs: k.ops.reshape(xs[0], target),
        lambda s: op_shapes.reshape_shape(s[0], target),
        [shape],
    )


@st.composite
def transpose(draw: Any) -> Case:
    shape = draw(shapes())
    rank = len(shape)
    axes = draw(
        st.one_of(
            st.none(),
            st.permutations(range(rank)).map(list),
            st.lists(st.integers(-rank - 1, rank), min_size=rank - 1, max_size=rank + 1),
        )
    )
    return (
        f"transpose({axes})",
        lambda k, xs: k.ops.transpose(xs[0], axes),
        lambda s: op_shapes.transpose_shape(s[0], axes),
        [shape],
    )


@st.composite
def expand_or_squeeze(draw: Any) -> Case:
    shape = draw(shapes())
    rank = len(shape)
    if draw(st.booleans()):
        axis: Any = draw(
            st.one_of(
                st.integers(-rank - 2, rank + 1),
                st.lists(st.integers(-rank - 2, rank + 1), min_size=1, max_size=2),
            )
        )
        return (
            f"expand_dims({axis})",
            lambda k, xs: k.ops.expand_dims(xs[0], axis),
            lambda s: op_shapes.expand_dims_shape(s[0], axis),
            [shape],
        )
    shape = tuple(1 if d is not None and draw(st.booleans()) else d for d in shape)
    axis = draw(
        st.one_of(
            st.none(),
            st.integers(-rank, rank - 1),
            st.lists(st.integers(-rank, rank - 1), min_size=1, max_size=2),
        )
    )
    return (
        f"squeeze({axis})",
        lambda k, xs: k.ops.squeeze(xs[0], axis),
        lambda s: op_shapes.squeeze_shape(s[0], axis),
        [shape],
    )


@st.composite
def matmul(draw: Any) -> Case:
    first = draw(shapes())
    second = list(draw(shapes()))
    if len(first) > 1 and len(second) > 1 and draw(st.booleans()):
        second[-2] = first[-1]  # mostly a product that agrees
    return (
        "matmul",
        lambda k, xs: k.ops.matmul(xs[0], xs[1]),
        lambda s: op_shapes.matmul_shape(s[0], s[1]),
        [first, tuple(second)],
    )


@st.composite
def einsum(draw: Any) -> Case:
    """Terms of letters a-e (some with ``...``), sizes per letter, sometimes one off."""
    sizes = {c: draw(SIZE) for c in "abcde"}
    terms, operands = [], []
    for _ in range(draw(st.integers(1, 3))):
        letters = "".join(
            draw(st.lists(st.sampled_from("abcde"), min_size=1, max_size=3, unique=True))
        )
        shape = [sizes[c] for c in letters]
        if draw(st.booleans()):
            wild = draw(shapes(st.integers(1, 2)))
            letters, shape = "..." + letters, [*wild, *shape]
        if draw(st.integers(0, 5)) == 0:
            shape[draw(st.integers(0, len(shape) - 1))] = draw(SIZE)
        terms.append(letters)
        operands.append(tuple(shape))
    used = sorted(set("".join(terms).replace(".", "")))
    output = draw(
        st.one_of(
            st.none(),
            st.permutations(used).flatmap(
                lambda p: st.integers(0, len(p)).map(lambda n: "".join(p[:n]))
            ),
        )
    )
    subscripts = ",".join(terms)
    if output is not None:
        dots = "..." if any("..." in t for t in terms) else ""
        subscripts += f"->{dots}{output}"
    return (
        f"einsum({subscripts!r})",
        lambda k, xs: k.ops.einsum(subscripts, *xs),
        lambda s: op_shapes.einsum_shape(subscripts, s),
        operands,
    )


@st.composite
def image(draw: Any) -> Case:
    last = draw(st.booleans())
    fmt = "channels_last" if last else "channels_first"
    spatial = [draw(st.one_of(st.integers(1, 12), st.none())) for _ in range(2)]
    channels = draw(st.integers(1, 4))
    shape = (None, *spatial, channels) if last else (None, channels, *spatial)
    if draw(st.booleans()):
        size = draw(st.tuples(st.integers(1, 64), st.integers(1, 64)))
        return (
            f"resize({size}, {fmt})",
            lambda k, xs: k.ops.image.resize(xs[0], size, data_format=fmt),
            lambda s: op_shapes.resize_shape(s[0], size, fmt),
            [shape],
        )
    patch = draw(st.one_of(st.integers(1, 5), st.tuples(st.integers(1, 5), st.integers(1, 5))))
    strides = draw(
        st.one_of(st.none(), st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3)))
    )
    dilation = draw(st.sampled_from([1, 1, 2]))
    padding = draw(st.sampled_from(["valid", "same"]))
    args = {"strides": strides, "dilation_rate": dilation, "padding": padding, "data_format": fmt}
    return (
        f"extract_patches({patch}, {args})",
        lambda k, xs: k.ops.image.extract_patches(xs[0], patch, **args),
        lambda s: op_shapes.extract_patches_shape(s[0], patch, **args),
        [shape],
    )


@st.composite
def getitem(draw: Any) -> Case:
    """``x[key]``: ints, slices and ``None`` near each axis' bounds (some beyond), one
    ``...`` or none; the rule reads the key back from the text a spec writes."""
    shape = draw(shapes())
    near = st.integers(-5, 5)
    item = st.one_of(
        near, st.none(), st.builds(slice, st.one_of(st.none(), near), st.one_of(st.none(), near),
                                   st.one_of(st.none(), st.sampled_from([-2, -1, 1, 2]))),
    )  # fmt: skip
    items = draw(st.lists(item, min_size=1, max_size=len(shape) + 1))
    if draw(st.booleans()):
        items.insert(draw(st.integers(0, len(items))), Ellipsis)
    key: Any = draw(near) if draw(st.integers(0, 4)) == 0 else tuple(items)
    text = op_shapes.format_index(key)
    return (
        f"getitem({text})",
        lambda k, xs: k.ops.get_item(xs[0], key),
        lambda s: op_shapes.getitem_shape(s[0], op_shapes.parse_index(text)),
        [shape],
    )


@st.composite
def along_axis(draw: Any) -> Case:
    """The declarations with an ``axis`` and no new shape rule of their own: argmax and
    argmin (a reduction), flip, cumsum (flattened without an axis), normalize, log_softmax."""
    from specc.layers import OPERATIONS

    shape = draw(shapes())
    rank = len(shape)
    name = draw(st.sampled_from(["argmax", "argmin", "flip", "cumsum", "normalize", "log_softmax"]))
    axis = draw(st.one_of(st.none(), st.integers(-rank - 1, rank)))
    if name in ("normalize", "log_softmax") and axis is None:
        axis = -1
    args: dict[str, Any] = {} if axis is None else {"axis": axis}
    if name in ("argmax", "argmin") and draw(st.booleans()):
        args["keepdims"] = True
    op = OPERATIONS[name].model_validate({"op": name, **args})
    return (
        f"{name}({args})",
        lambda k, xs: getattr(k.ops, name)(xs[0], **args),
        lambda s: op.infer(s[0]).shape,
        [shape],
    )


CASES = st.one_of(
    getitem(),
    along_axis(),
    reduction(),
    join(),
    split(),
    reshape(),
    transpose(),
    expand_or_squeeze(),
    matmul(),
    einsum(),
    image(),
)


def _keras_static(k: Any, call: Any, shapes: list[Shape]) -> Any:
    out = call(k, [k.KerasTensor(s) for s in shapes])
    return [tuple(t.shape) for t in out] if isinstance(out, list) else tuple(out.shape)


def _keras_run(k: Any, call: Any, shapes: list[Shape]) -> Any:
    arrays = [np.ones([2 if d is None else d for d in s], "float32") for s in shapes]
    out = call(k, arrays)
    return [tuple(t.shape) for t in out] if isinstance(out, list) else tuple(out.shape)


def _filled(shape: Any) -> Any:
    if isinstance(shape, list):
        return [_filled(s) for s in shape]
    return tuple(2 if d is None else d for d in shape)


@pytest.mark.keras
@settings(max_examples=600, **SETTINGS)
@given(CASES)
def test_op_shape_rules_equal_keras(case: Case) -> None:
    """Accepted: Keras' static shape equals specc's. Refused: Keras refuses statically or at
    run time, or its static shape is not the one its run gives."""
    what, call, rule, inputs = case
    note(f"{what} on {inputs}")
    op = what.split("(")[0]
    k = keras()
    try:
        ours = rule(inputs)
    except ShapeError as exc:
        assert "\n" not in str(exc)
        note(f"specc: {exc}")
        try:
            static = _keras_static(k, call, inputs)
        except Exception:
            event(f"{op}: refused by both")
            return
        try:
            ran = _keras_run(k, call, inputs)
        except Exception:
            event(f"{op}: refused, Keras fails to run it")
            return
        assert _filled(static) != ran, f"specc refuses {what} on {inputs} ({exc}); Keras runs it"
        event(f"{op}: refused, Keras' static shape is not its run's")
        return
    event(f"{op}: accepted")
    ours = [tuple(s) for s in ours] if isinstance(ours, list) else tuple(ours)
    assert _keras_static(k, call, inputs) == ours


@pytest.mark.keras
@settings(max_examples=200, **SETTINGS)
@given(
    st.integers(-20, 20),
    st.one_of(st.none(), st.integers(-20, 20)),
    st.sampled_from([1, 2, 3, -1, -2]),
)
def test_arange_shape_equals_keras(start: int, stop: int | None, step: int) -> None:
    """``ops.arange`` counts as numpy does; an empty range is refused, as tensorflow's run
    refuses it where start > stop (Keras' static rule refuses a negative count and says 0
    for an empty one)."""
    from keras.src.ops.numpy import Arange

    if stop is None:
        step = 1
    try:
        static: Shape | None = tuple(Arange().compute_output_spec(start, stop, step).shape)
    except ValueError:  # a negative count: "Negative dimensions are not allowed"
        static = None
    try:
        ours = op_shapes.arange_shape(start, stop, step)
    except ShapeError:
        assert static is None or static == (0,)
        return
    assert static == ours
    assert tuple(keras().ops.arange(start, stop, step).shape) == ours
