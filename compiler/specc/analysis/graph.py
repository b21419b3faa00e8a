"""The resolved model: final layer names, shapes and parameter counts.

This is the single input of every back end (summary, keras_build, codegen), so they cannot
drift apart. Resolving is pure Python; it reproduces Keras 3's naming and shape rules: a
Sequential chain here, a graph spec (``inputs:``, layers naming what they take) in
:mod:`specc.analysis.functional`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from specc.errors import Diagnostic
from specc.language.messages import LABEL, name_taken
from specc.language.schema import Spec
from specc.layers import LayerSpec
from specc.layers.base import OpSpec, Out, apply, format_out
from specc.layers.shapes import Shape, ShapeError

if TYPE_CHECKING:
    from specc.analysis.submodels import Definitions

INPUT_NAME = "input_layer"
"""The name specc (and the emitted code) give the model's ``keras.Input``: Keras' own name
for it in a fresh session. A layer may not take it (Keras requires unique names)."""
MAX_TENSOR_WEIGHTS = 2**31 - 1
"""Most weights one tensor may hold. TensorFlow's GPU kernels index tensors with 32-bit
ints and fail beyond it (tensorflow/tensorflow#19473, #60330); as float32 it is 8 GiB."""
MAX_MODEL_WEIGHTS = 2**33
"""Most weights a whole model may hold: 32 GiB as float32, 128 GiB with the gradients and
Adam's two slots, beyond any single accelerator's memory; 60x VGG16's 138 million."""


def to_snake_case(name: str) -> str:
    """Keras' automatic layer-name prefix for a class name.

    >>> [to_snake_case(n) for n in ("Conv2D", "MaxPooling2D", "GlobalAveragePooling1D")]
    ['conv2d', 'max_pooling2d', 'global_average_pooling1d']
    >>> to_snake_case("BatchNormalization")
    'batch_normalization'
    """
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


@dataclass(frozen=True)
class ResolvedLayer:
    """One layer with everything a back end needs."""

    index: int
    name: str
    type: str
    spec: LayerSpec
    input_shape: Shape | list[Shape]
    output_shape: Shape | list[Shape]
    trainable_params: int
    non_trainable_params: int
    inner_names: tuple[str, ...] = ()
    """Names of the layers given inside this one (wrapped, nested), in construction order."""
    int64_params: int = 0

    @property
    def params(self) -> int:
        return self.trainable_params + self.non_trainable_params


Source = tuple[str, int, int | None]
"""A tensor a layer takes: (layer or input name, Keras node index = which call of that
layer, output index; None for all of a layer's outputs, as one list)."""


@dataclass(frozen=True)
class GraphInput:
    """One ``keras.Input`` of a graph spec."""

    name: str
    shape: Shape
    dtype: str


@dataclass(frozen=True)
class Call:
    """One call of a layer in a graph spec, in the order the spec (and Keras code) makes it."""

    entry: int
    """Its index in ``model.layers``."""
    layer: str
    node: int
    """Keras' node index: how many times the layer was called before."""
    sources: tuple[Source, ...]
    output_shape: Shape | list[Shape]


@dataclass(frozen=True)
class Row:
    """One row of a functional model's summary, as Keras lists it (inputs included)."""

    name: str
    type: str
    output_shape: Shape | list[Shape]
    params: int
    trainable_params: int
    connected: tuple[str, ...]
    """Keras' "Connected to": ``conv2d[0][0]`` per input tensor (layer, node, tensor)."""


@dataclass(frozen=True)
class Graph:
    """An immutable, fully resolved model: a stack, or a graph (``functional``).

    For a graph, ``layers`` holds each layer once (a shared layer too), in the order Keras'
    functional model lists them, and ``rows`` its summary table, inputs included.
    """

    name: str
    input_shape: Shape
    layers: tuple[ResolvedLayer, ...]
    functional: bool = False
    inputs: tuple[GraphInput, ...] = ()
    calls: tuple[Call, ...] = ()
    outputs: tuple[Source, ...] = ()
    rows: tuple[Row, ...] = ()
    sequential_like: bool = True
    """Whether Keras prints it without the "Connected to" column (a chain, no sharing)."""
    output_shapes: tuple[Shape, ...] = ()
    """A graph's output tensors' shapes, in order."""
    made: tuple[ResolvedLayer, ...] = ()
    """A graph's layers in the order the spec makes them, those that feed no output too."""
    input_name: str = INPUT_NAME
    """A stack's input name (a sub-model's may be ``input_layer_3``: Keras' counter)."""
    output_keys: tuple[str, ...] = ()
    """A graph whose outputs are a mapping: its keys, sorted, one per output: the names
    compile, fit and predict go by (Keras' ``output_names`` stay the layers')."""

    @property
    def output_shape(self) -> Shape | list[Shape]:
        if self.functional:
            shapes = list(self.output_shapes)
            return shapes[0] if len(shapes) == 1 else shapes
        return self.layers[-1].output_shape if self.layers else self.input_shape

    @property
    def trainable_params(self) -> int:
        return sum(layer.trainable_params for layer in self.layers)

    @property
    def non_trainable_params(self) -> int:
        return sum(layer.non_trainable_params for layer in self.layers)

    @property
    def total_params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def int64_params(self) -> int:
        return sum(layer.int64_params for layer in self.layers)


def _auto_name(layer_type: str, counters: dict[str, int]) -> str:
    prefix = to_snake_case(layer_type)
    n = counters.get(prefix, 0)
    counters[prefix] = n + 1
    return prefix if n == 0 else f"{prefix}_{n}"


Clash = tuple[tuple, str]


def _unique(
    names: list[str],
    explicit: list[bool],
    loc: tuple,
    clashes: list[Clash],
    positions: list[int] | None = None,
) -> None:
    """Keras requires unique names among the layers of one model."""
    at = positions or list(range(len(names)))
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            clashes.append(
                (
                    (*loc, at[i], "name" if explicit[i] else "type"),
                    f"layer name {name!r} is already used by layer {seen[name]}; "
                    "Keras requires unique names",
                )
            )
        else:
            seen[name] = at[i]


def _name(
    layer: LayerSpec, counters: dict[str, int], inner: list[str], loc: tuple, clashes: list[Clash]
) -> str:
    """Name ``layer`` as Keras does when code constructs it: the layers given inside it
    first (a wrapped LSTM takes an ``lstm`` name before its Bidirectional), then itself,
    then the unnamed layers Keras makes inside it (its ``SUBLAYERS``: a MultiHeadAttention
    builds a ``softmax`` and a ``dropout`` when first called, which code does right after
    constructing it). Names of the inner layers are appended to ``inner`` in that order."""
    for key in layer.NESTED:
        value = getattr(layer, key)
        if isinstance(value, list):  # a nested model: its layers' names must be unique
            names = []
            for j, sub in enumerate(value):
                names.append(_name(sub, counters, inner, (*loc, key, j), clashes))
                inner.append(names[-1])
            _unique(names, [sub.name is not None for sub in value], (*loc, key), clashes)
        elif value is not None:
            inner.append(_name(value, counters, inner, (*loc, key), clashes))
    name = layer.name if layer.name is not None else _auto_name(layer.type, counters)
    made_with = getattr(layer, "made_with", None)
    if made_with is not None:  # a sub-model: built here, its layers named now
        made_with(counters)
    elif layer.MODEL:  # a nested Sequential makes an InputLayer when it is built (called)
        counters[INPUT_NAME] = counters.get(INPUT_NAME, 0) + 1
    for prefix in layer.SUBLAYERS:
        counters[prefix] = counters.get(prefix, 0) + 1
    return name


def layer_names(
    layers: list[LayerSpec],
    positions: list[int] | None = None,
    counters: dict[str, int] | None = None,
) -> tuple[list[str], list[tuple[str, ...]], list[Clash]]:
    """Names of a model's layers, the names of the layers inside each, and name clashes.

    >>> from specc.layers import CATALOG
    >>> lstm = CATALOG["LSTM"](type="LSTM", units=4)
    >>> bidi = CATALOG["Bidirectional"](type="Bidirectional", layer=lstm)
    >>> layer_names([bidi, lstm])[:2]
    (['bidirectional', 'lstm_1'], [('lstm',), ()])

    ``counters``: Keras' name counters as the model starts (a sub-model is built after the
    layers above it); advanced in place.
    """
    counters = {} if counters is None else counters
    names, inner_names = [], []
    clashes: list[Clash] = []
    at = positions or list(range(len(layers)))
    for i, layer in enumerate(layers):
        inner: list[str] = []
        names.append(_name(layer, counters, inner, ("model", "layers", at[i]), clashes))
        inner_names.append(tuple(inner))
    _unique(names, [layer.name is not None for layer in layers], ("model", "layers"), clashes, at)
    return names, inner_names, clashes


def _size_problem(
    i: int, out: Out, before: int, params: int, diagnose: Callable[[tuple, str], Diagnostic]
) -> Diagnostic | None:
    """Weights Keras cannot allocate: one tensor too large, or the model with this layer."""
    largest, how, field = out.largest or (params, f"{params:,} weights in all", "")
    if largest > MAX_TENSOR_WEIGHTS:
        return diagnose(
            ("model", "layers", i, field) if field else ("model", "layers", i),
            f"its largest weight tensor would have {largest:,} parameters ({how}), more than "
            f"the {MAX_TENSOR_WEIGHTS:,} one tensor may hold (TensorFlow's 32-bit index "
            "limit); make the layer or its input smaller",
        )
    if before + params > MAX_MODEL_WEIGHTS:
        return diagnose(
            ("model", "layers", i),
            f"with this layer the model has {before + params:,} parameters, more than the "
            f"{MAX_MODEL_WEIGHTS:,} (32 GiB as float32) specc allows; make it smaller",
        )
    return None


def is_sequential(spec: Spec) -> bool:
    """Whether a spec is a plain stack (``keras.Sequential``): one ``input``, each layer
    taking the one before it (``inputs`` absent or naming it), the last one the output."""
    model = spec.model
    if model.input is None or not _plain_chain(spec):
        return False
    # cast: _plain_chain has checked that every entry is a LayerSpec (no apply call).
    layers = cast(list[LayerSpec], model.layers)
    last = {layer_names(list(layers))[0][-1], layers[-1].label} - {None}
    if isinstance(model.outputs, dict):  # a mapping of outputs: a keras.Model's
        return False
    return model.outputs is None or (len(model.outputs) == 1 and model.outputs[0] in last)


def _plain_chain(spec: Spec) -> bool:
    layers = [layer for layer in spec.model.layers if isinstance(layer, LayerSpec)]
    if len(layers) != len(spec.model.layers):  # an apply call
        return False
    if any(isinstance(layer, OpSpec) for layer in layers):  # Sequential holds layers only
        return False
    if all(layer.inputs is None for layer in layers):
        return True
    names = layer_names(list(layers))[0]
    previous = {spec.model.input.name or INPUT_NAME}
    for layer, name in zip(layers, names, strict=True):
        if layer.inputs is not None and (len(layer.inputs) != 1 or layer.inputs[0] not in previous):
            return False
        previous = {name} | ({layer.label} if layer.label is not None else set())  # or as:
    return True


def model_input_names(spec: Spec, counters: dict[str, int] | None = None) -> list[str]:
    """Input names as Keras gives them: the spec's, else ``input_layer``, ``input_layer_1``...

    ``counters``: Keras' name counters when the model's inputs are made (a sub-model's come
    after the outer model's); read, not advanced (:func:`take_input_names` does that)."""
    names, n = [], (counters or {}).get(INPUT_NAME, 0)
    for given in spec.model.model_inputs:
        if given.name is not None:
            names.append(given.name)
        else:
            names.append(INPUT_NAME if n == 0 else f"{INPUT_NAME}_{n}")
            n += 1
    return names


def take_input_names(spec: Spec, counters: dict[str, int]) -> list[str]:
    """:func:`model_input_names`, the counter advanced past the unnamed inputs."""
    names = model_input_names(spec, counters)
    unnamed = sum(given.name is None for given in spec.model.model_inputs)
    counters[INPUT_NAME] = counters.get(INPUT_NAME, 0) + unnamed
    return names


def label_clashes(
    spec: Spec,
    names: dict[int, str],
    diagnose: Callable[[tuple, str], Diagnostic],
    input_names: list[str] | None = None,
) -> list[Diagnostic]:
    """Labels (``as:``) that equal another name ``inputs:`` and ``outputs:`` may use.

    A name there must mean one tensor: a label equal to an input's name, a layer's name
    (given or Keras' automatic one, before or after it) or another label would leave one
    of them silently unreachable. Each clash is reported once, at the later of the two in
    ``model.layers`` order, and names the earlier with its position. Clashes among inputs
    and among layer names are Keras' own rules, reported where names are resolved.
    ``names``: the Keras name of each entry that makes a layer (by index in the list).
    """
    model = spec.model
    first: dict[str, tuple[tuple, str]] = {}
    """name -> (where it is written, what it is) for the first that took it."""
    for k, input_name in enumerate(input_names or model_input_names(spec)):
        given = (model.input if model.inputs is None else model.inputs[k]).name is not None
        at: tuple = ("model", "input") if model.inputs is None else ("model", "inputs", k)
        what = "the name of a model input" if given else "Keras' name for the model input"
        first.setdefault(input_name, ((*at, "name") if given else at, what))
    problems: list[Diagnostic] = []

    def clash(loc: tuple, subject: str, name: str) -> None:
        other, what = first[name]
        here = diagnose(loc, "")
        problems.append(diagnose(loc, name_taken(subject, name, what, here, diagnose(other, ""))))

    for i, entry in enumerate(model.layers):
        name = names.get(i)
        if name is not None:
            explicit = getattr(entry, "name", None) is not None  # Apply and Backbone have none
            loc = ("model", "layers", i, "name" if explicit else "type")
            if name in first and first[name][1] == LABEL:
                clash(loc, "layer name", name)
            what = "the name of a layer" if explicit else "Keras' automatic name for a layer"
            first.setdefault(name, ((*loc[:3], "name") if explicit else loc[:3], what))
        label = entry.label if isinstance(entry, LayerSpec) else entry.as_
        if label is None:
            continue
        loc = ("model", "layers", i, "as")
        if label == name:
            problems.append(
                diagnose(
                    loc,
                    f"label {label!r} is this layer's own name; inputs: and outputs: may use "
                    "the name: remove as:",
                )
            )
        elif label in first:
            clash(loc, "label", label)
        else:
            first[label] = (loc, LABEL)
    return problems


def nested_inputs(layers: list, diagnose: Callable[[tuple, str], Diagnostic]) -> list[Diagnostic]:
    """``inputs`` on a layer inside another: it takes what its wrapper gives it."""
    out: list[Diagnostic] = []

    def walk(layer: LayerSpec, loc: tuple) -> None:
        for key in layer.NESTED:
            value = getattr(layer, key)
            subs = value if isinstance(value, list) else [] if value is None else [value]
            for j, sub in enumerate(subs):
                where = (*loc, key, j) if isinstance(value, list) else (*loc, key)
                if sub.inputs is not None:
                    out.append(
                        diagnose(
                            (*where, "inputs"),
                            f"a layer inside {layer.type} takes what the {layer.type} gives "
                            "it; only the model's own layers take inputs",
                        )
                    )
                walk(sub, where)

    for i, layer in enumerate(layers):
        if isinstance(layer, LayerSpec):
            walk(layer, ("model", "layers", i))
    return out


def resolve(
    spec: Spec,
    diagnose: Callable[[tuple, str], Diagnostic],
    counters: dict[str, int] | None = None,
    definitions: Definitions | None = None,
) -> tuple[Graph | None, list[Diagnostic]]:
    """Resolve names, shapes and params; return the graph (None if shapes fail) and problems.

    ``diagnose(loc, message)`` turns a YAML path and message into a located diagnostic.
    Shape flow stops at the first layer that cannot take its input (later shapes are
    unknown); name clashes are reported for all layers and still yield a graph, so the
    cross-field checks can run too. The spec is valid only if no problem is returned.
    ``counters`` and ``definitions``: for a sub-model, Keras' name counters where it is
    built and the spec's ``models:`` (see :mod:`specc.analysis.submodels`).
    """
    top = definitions is None
    if definitions is None:
        from specc.analysis.submodels import Definitions

        definitions = Definitions(dict(spec.models or {}), diagnose)
    counters = {} if counters is None else counters
    if not is_sequential(spec):
        from specc.analysis.functional import resolve_graph

        graph, problems = resolve_graph(spec, diagnose, counters, definitions)
    else:
        graph, problems = _resolve_chain(spec, diagnose, counters)
    if top:
        from specc.analysis.submodels import unused_problems

        problems = [*unused_problems(definitions), *problems]
    return graph, problems


def _resolve_chain(
    spec: Spec, diagnose: Callable[[tuple, str], Diagnostic], counters: dict[str, int]
) -> tuple[Graph | None, list[Diagnostic]]:
    """A plain stack resolved (see :func:`resolve`)."""
    # cast: a plain stack (is_sequential) holds LayerSpec entries only, no apply call.
    layers = cast(list[LayerSpec], spec.model.layers)
    input_name = take_input_names(spec, counters)[0]
    names, inner_names, clashes = layer_names(list(layers), counters=counters)
    problems: list[Diagnostic] = [diagnose(loc, message) for loc, message in clashes]
    problems += label_clashes(spec, dict(enumerate(names)), diagnose, [input_name])
    for i, (name, inner) in enumerate(zip(names, inner_names, strict=True)):
        if input_name in (name, *inner):
            problems.append(
                diagnose(
                    ("model", "layers", i, "name")
                    if name == input_name
                    else ("model", "layers", i),
                    f"layer name {input_name!r} is the model input's name in Keras; "
                    "choose another name",
                )
            )
    resolved = []
    shape: Shape | list[Shape] = (None, *spec.model.input.shape)
    problems += nested_inputs(list(layers), diagnose)
    total = 0
    too_big: Diagnostic | None = None
    for i, (layer, name) in enumerate(zip(layers, names, strict=True)):
        try:
            result = apply(layer, shape, f"layer {i - 1} ({names[i - 1]})" if i else "")
        except ShapeError as exc:
            field = exc.field if isinstance(exc.field, tuple) else (exc.field,) if exc.field else ()
            loc = ("model", "layers", i, *field)
            message = f"{exc} (input {format_out(shape)})" if exc.show_input else str(exc)
            problems.append(diagnose(loc, message))
            return None, problems
        trainable, frozen = result.trainable, result.non_trainable
        if not too_big:  # only the first: the layers after it inherit its size
            too_big = _size_problem(i, result, total, trainable + frozen, diagnose)
            problems += [too_big] if too_big else []
        total += trainable + frozen
        resolved.append(
            ResolvedLayer(
                i,
                name,
                layer.type,
                layer,
                shape,
                result.shape,
                trainable,
                frozen,
                inner_names[i],
                result.int64_params,
            )
        )
        shape = result.shape
    return Graph(
        spec.model.name or spec.name,
        (None, *spec.model.input.shape),
        tuple(resolved),
        input_name=input_name,
    ), problems
