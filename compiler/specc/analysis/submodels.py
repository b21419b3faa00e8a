"""Models inside models: a sub-model of ``models:`` built and called as one layer.

Resolved as the Keras code that states it runs: ``tower = make_tower()`` builds the
sub-model where the spec first uses it (``{model: tower}``), so its inputs and layers take
Keras' automatic names from the counters at that point, after the outer inputs and the
layers above it and before the layers below; then ``tower(x)`` calls it, one row in the
summary (``tower (Functional)``, its output shape(s), all its weights). ``{apply: tower}``
calls the same sub-model again: its weights are shared, counted once.
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import PrivateAttr, ValidationError

from specc.errors import Diagnostic
from specc.language.messages import did_you_mean
from specc.language.schema import Backbone, Input, Model, NamedInput, Spec, UseModel
from specc.layers.base import LayerSpec, Out, apply, format_out
from specc.layers.shapes import Shape, ShapeError

if TYPE_CHECKING:
    from specc.analysis.graph import Graph, Row

Diagnose = Callable[[tuple, str], Diagnostic]

MAX_NESTING = 16
"""Sub-models inside sub-models, this deep at most (as blocks): each level is a few Python
frames, and 1,000 levels ran out of them."""
MAX_BUILT_LAYERS = 10_000
"""Layers built for sub-models in all (their inputs, outputs and a split's pieces too),
every copy counted, a backbone's twice (made from specc's data, then built): a use under
another name is a copy of its own, so 22 levels of two copies each were 4 million models,
and 300 ResNet152 backbones 7 s. Half the layers blocks may expand to, since building a
sub-model costs more than a layer (validate stays under 1 s of CPU); still four
NASNetLarge backbones."""


@dataclass
class Budget:
    """What building sub-models has cost so far, shared by every level and copy."""

    layers: int = 0
    said: bool = False
    """Whether the budget's refusal was said (once: every later copy is refused quietly)."""


@dataclass
class Definitions:
    """The spec's ``models:``, and what resolving them found (shared by every level)."""

    models: dict[str, Model]
    diagnose: Diagnose
    problems: list[Diagnostic] = field(default_factory=list)
    stack: list[str] = field(default_factory=list)
    """The sub-models being resolved, outermost first (a use of one of them recurses)."""
    used: set[str] = field(default_factory=set)
    budget: Budget = field(default_factory=Budget)


class SubModel(LayerSpec):
    """A sub-model as a layer of the model that calls it (not in the catalog: made from a
    ``{model: NAME}`` entry). ``type`` is Keras' class, ``Functional`` or ``Sequential``."""

    CALL: ClassVar[str] = "list"
    MODEL: ClassVar[bool] = True
    type: str
    trainable: bool = True
    weights: str | None = None
    """A weights file loaded once it is built (relative to the spec's folder), or imagenet."""
    call_training: bool | None = None
    """``training=`` of its call: False keeps BatchNormalization in inference mode."""
    _weights_path: str | None = PrivateAttr(default=None)
    """The weights file found (``specc.analysis.weights.locate``), for the builders."""
    _key: str = PrivateAttr(default="")
    _definitions: Definitions | None = PrivateAttr(default=None)
    _loc: tuple = PrivateAttr(default=())
    _graph: Graph | None = PrivateAttr(default=None)
    _spec: Spec | None = PrivateAttr(default=None)
    _counters: dict[str, int] = PrivateAttr(default_factory=dict)
    _application: tuple[str, dict[str, Any]] | None = PrivateAttr(default=None)

    @property
    def application(self) -> tuple[str, dict[str, Any]] | None:
        """``(name, arguments)`` of a keras.applications backbone (built by that call; where
        its ImageNet weights file is found: :func:`specc.analysis.weights.imagenet_file`)."""
        return self._application

    @property
    def key(self) -> str:
        """The name of its definition under ``models:``."""
        return self._key

    @property
    def graph(self) -> Graph | None:
        """The sub-model resolved (None until named, or when it has errors)."""
        return self._graph

    @property
    def definition(self) -> Spec | None:
        """The sub-model as a spec of its own (name, model), for the builders."""
        return self._spec

    @property
    def VALUE(self) -> str:  # type: ignore[override]  # a sub-model's values are those of its output layer, known once resolved
        """What the sub-model's output is, for the final-activation check."""
        from specc.analysis.checks import final_activation

        if self._graph is None or self._spec is None:
            return "same"
        found = final_activation(self._spec, self._graph)
        return "same" if found is None else found[1]

    def made_with(self, counters: dict[str, int]) -> None:
        """Build the sub-model here: its inputs and layers named with ``counters``."""
        definitions = self._definitions
        if definitions is None or self._key not in definitions.models:
            return
        self._counters = dict(counters)
        self._graph, self._spec = _resolve_definition(
            definitions, self._key, counters, self._loc, self.name or self._key
        )

    def infer(self, shape: Shape) -> Out:
        return self._called([shape])

    def infer_many(self, shapes: list[Shape]) -> Out:
        return self._called(shapes)

    def _called(self, given: list[Shape]) -> Out:
        graph = self._graph
        if graph is None:
            raise ShapeError(
                f"sub-model {self._key!r} has errors (reported at models.{self._key})",
                show_input=False,
            )
        wanted = [i.shape for i in graph.inputs] or [graph.input_shape]
        if len(given) != len(wanted):
            raise ShapeError(
                f"sub-model {self._key!r} takes {len(wanted)} input(s) "
                f"({', '.join(format_out(w) for w in wanted)}), not {len(given)}",
                show_input=False,
            )
        for k, (have, want) in enumerate(zip(given, wanted, strict=True)):
            if not _fits(have, want):
                raise ShapeError(
                    f"sub-model {self._key!r} takes {format_out(want)} as input {k}, not "
                    f"{format_out(have)} (Keras refuses an input of another shape)",
                    show_input=False,
                )
        if [tuple(g) for g in given] != [tuple(w) for w in wanted]:
            graph = self._specialised(given) or graph
        return Out(
            graph.output_shape,
            graph.trainable_params,
            graph.non_trainable_params,
            graph.int64_params,
        )

    def _specialised(self, given: list[Shape]) -> Graph | None:
        """The sub-model run on more specific sizes than it declares (a ``null`` size
        given one): Keras computes the call's output shape through the graph again."""
        from specc.analysis.graph import resolve

        spec = self._spec
        if spec is None:
            return None
        model = spec.model
        if model.inputs is None:
            update: dict[str, Any] = {
                "input": Input.model_construct(**{**dict(model.input), "shape": list(given[0][1:])})
            }
        else:
            update = {
                "inputs": [
                    NamedInput.model_construct(**{**dict(i), "shape": list(g[1:])})
                    for i, g in zip(model.inputs, given, strict=True)
                ]
            }
        again = spec.model_copy(update={"model": model.model_copy(update=update)})
        definitions = Definitions(
            self._definitions.models if self._definitions else {}, lambda loc, m: _quiet(m)
        )
        if self._definitions is not None:
            definitions.budget = self._definitions.budget  # built again: it costs again
        graph, _ = resolve(again, definitions.diagnose, dict(self._counters), definitions)
        return graph


def _quiet(message: str) -> Diagnostic:
    return Diagnostic(message)


def _fits(have: Shape, want: Shape) -> bool:
    """Whether Keras' input spec takes ``have`` for ``want`` (a null size takes any)."""
    return len(have) == len(want) and all(
        w is None or h == w for h, w in zip(have[1:], want[1:], strict=True)
    )


def sub_model(use: UseModel, loc: tuple, definitions: Definitions | None) -> SubModel:
    """The layer a ``{model: NAME}`` entry makes (resolved when it is named, in order)."""
    known = definitions is not None and use.model in definitions.models
    chain = False
    if known:
        from specc.analysis.graph import is_sequential

        assert definitions is not None
        definition = definitions.models[use.model]
        chain = is_sequential(Spec.model_construct(name=use.model, model=definition))
    layer = SubModel.model_construct(
        type="Sequential" if chain else "Functional",
        name=use.name or (definition.name if known and definition.name else use.model),
        trainable=use.trainable,
        weights=use.weights,
        call_training=use.training,
    )
    layer._key, layer._definitions, layer._loc = use.model, definitions, loc
    layer._inputs = tuple(use.inputs) if use.inputs is not None else None
    layer._label = use.as_
    return layer


def backbone(
    use: Backbone, loc: tuple, definitions: Definitions, diagnose: Diagnose
) -> tuple[SubModel | None, Diagnostic | None]:
    """The layer a ``{type: MobileNetV2, ...}`` entry makes: the application's graph (as
    specc's data holds it) as a sub-model named as Keras names it, or the problem."""
    from specc.applications import ApplicationError, application_spec

    budget = definitions.budget
    if budget.layers > MAX_BUILT_LAYERS:  # refused once already: not made again
        return None, None
    try:
        data = application_spec(use.type, **use.arguments)
        budget.layers += len(data.get("layers", ()))  # made here, and built once named
        if budget.layers > MAX_BUILT_LAYERS:
            return None, _over_budget(budget, diagnose, loc, use.type)
        model = Model.model_validate(data)
    except (ApplicationError, ValueError) as exc:
        return None, diagnose(loc, f"{use.type}: {_one_line(exc)}")
    layer = SubModel.model_construct(
        type="Functional", name=data["name"], trainable=use.trainable,
        weights=use.arguments.get("weights"),  # found and loaded by specc, never downloaded
        call_training=use.training,
    )  # fmt: skip

    def inside(where: tuple, message: str) -> Diagnostic:  # its layers are not in the file
        return diagnose(loc, f"{use.type}: {message}")

    own = Definitions({use.type: model}, inside, definitions.problems)
    own.budget = definitions.budget  # a backbone's layers count with the rest
    layer._key, layer._definitions, layer._loc = use.type, own, loc
    layer._application = (use.type, use.arguments)
    layer._inputs = tuple(use.inputs) if use.inputs is not None else None
    layer._label = use.as_
    return layer, None


def _one_line(exc: Exception) -> str:
    """What an application refused, on one line: Pydantic's first error with where it is
    in the application's graph (its own text, ``15 validation errors for Model``, says
    nothing), else the exception's first line."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        got = reprlib.repr(first.get("input"))
        return f"{where}: {first['msg'][:1].lower()}{first['msg'][1:]} (got {got})"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text


def unknown(
    use: UseModel, loc: tuple, definitions: Definitions | None, diagnose: Diagnose
) -> Diagnostic | None:
    """The problem with a ``{model: NAME}`` whose NAME is no key of ``models:``."""
    names = list(definitions.models) if definitions is not None else []
    if use.model in names:
        return None
    hint = did_you_mean(use.model, names)
    where = "models: has " + ", ".join(names) if names else "the spec has no models: section"
    return diagnose(
        (*loc, "model"),
        f"unknown sub-model {use.model!r} ({hint or where}); define it under models:",
    )


def _resolve_definition(
    definitions: Definitions, key: str, counters: dict[str, int], loc: tuple, name: str
) -> tuple[Graph | None, Spec | None]:
    """Sub-model ``key`` resolved as its own model named ``name``; its problems located at
    ``models.<key>``. A sub-model that uses itself (directly or not) is refused at ``loc``."""
    from specc.analysis.graph import resolve

    if key in definitions.stack:
        cycle = " -> ".join([*definitions.stack[definitions.stack.index(key) :], key])
        definitions.problems.append(
            definitions.diagnose(
                (*loc, "model"),
                f"sub-model {key!r} uses itself ({cycle}); Keras cannot build a model "
                "inside itself",
            )
        )
        return None, None
    definitions.used.add(key)
    model = definitions.models[key]
    if _too_costly(definitions, key, model, loc):
        return None, None
    spec = Spec.model_construct(
        name=key, model=model.model_copy(update={"name": name}), models=definitions.models
    )
    outer = definitions.diagnose

    def diagnose(where: tuple, message: str) -> Diagnostic:
        return outer(("models", key, *where[1:]) if where[:1] == ("model",) else where, message)

    inner = Definitions(
        definitions.models, diagnose, definitions.problems, [*definitions.stack, key]
    )
    inner.used, inner.budget = definitions.used, definitions.budget
    graph, problems = resolve(spec, diagnose, counters, inner)
    definitions.problems += problems
    if graph is not None:  # a split's pieces cost as layers do: each copy makes them again
        definitions.budget.layers += sum(
            len(call.output_shape) - 1
            for call in graph.calls
            if isinstance(call.output_shape, list)
        )
    return graph, spec


def _too_costly(definitions: Definitions, key: str, model: Model, loc: tuple) -> bool:
    """Whether building ``key`` here would nest past MAX_NESTING or build more than
    MAX_BUILT_LAYERS layers in all (said at ``loc``, the budget once)."""
    budget = definitions.budget
    if len(definitions.stack) >= MAX_NESTING:
        chain = " -> ".join([*definitions.stack[:3], "...", *definitions.stack[-2:], key])
        definitions.problems.append(
            definitions.diagnose(
                (*loc, "model"),
                f"sub-models nest deeper than {MAX_NESTING} levels ({chain}); "
                "use fewer levels of models inside models",
            )
        )
        return True
    budget.layers += (
        len(model.layers or []) + len(model.inputs or [None]) + len(model.outputs or ())
    )
    if budget.layers <= MAX_BUILT_LAYERS:
        return False
    problem = _over_budget(budget, definitions.diagnose, (*loc, "model"), key)
    definitions.problems += [problem] if problem else []
    return True


def _over_budget(budget: Budget, diagnose: Diagnose, loc: tuple, key: str) -> Diagnostic | None:
    """The refusal of a build past MAX_BUILT_LAYERS, the first time only."""
    if budget.said:
        return None
    budget.said = True
    return diagnose(
        loc,
        f"sub-models build more than {MAX_BUILT_LAYERS:,} layers and outputs in all (each "
        f"use of {key!r} under a name of its own is a copy with its own layers); call one "
        "copy again with apply:, or use fewer",
    )


def unused_problems(definitions: Definitions) -> list[Diagnostic]:
    """Problems of the sub-models no entry uses (checked all the same, as blocks are)."""
    for key in definitions.models:
        if key not in definitions.used:
            _resolve_definition(definitions, key, {}, ("models", key), key)
    return definitions.problems


# ----------------------------------------------------------------- expand_nested rows
def expanded(graph: Graph) -> list[tuple[int, Row]]:
    """The summary's rows as ``model.summary(expand_nested=True)`` lists them: each
    model-like layer (a sub-model, a nested ``Sequential``) followed by its own layers one
    level deeper (their "Connected to" is ``-``: they belong to another model's graph)."""

    out: list[tuple[int, Row]] = []
    by_name = {layer.name: layer for layer in graph.layers}
    if graph.functional:
        for row in graph.rows:
            out.append((0, row))
            layer = by_name.get(row.name)
            if layer is not None:
                out += _inside(layer.spec, layer.input_shape, 1, layer.inner_names)
        return out
    for layer in graph.layers:
        out.append((0, _row(layer.name, layer.type, layer.output_shape, layer.params)))
        out += _inside(layer.spec, layer.input_shape, 1, layer.inner_names)
    return out


def _row(name: str, kind: str, shape: Shape | list[Shape], params: int) -> Row:
    from specc.analysis.graph import Row

    return Row(name, kind, shape, params, 0, ())


def _inside(
    spec: LayerSpec, shape: Shape | list[Shape], level: int, names: tuple[str, ...] = ()
) -> list[tuple[int, Row]]:
    """The rows of the layers inside ``spec`` if Keras lists them (a model's ``layers``)."""
    if isinstance(spec, SubModel):
        sub = spec.graph
        if sub is None:
            return []
        return [(level + depth, row) for depth, row in expanded(sub)]
    if not spec.MODEL:  # a layer (wrappers too: Keras does not list what they hold)
        return []
    out: list[tuple[int, Row]] = []
    given = iter(names)
    for inner in spec.sublayers():
        own = tuple(next(given) for _ in range(_count_inside(inner)))
        name = next(given)
        result = apply(inner, shape)
        params = result.trainable + result.non_trainable
        out.append((level, _row(name, inner.type, result.shape, params)))
        out += _inside(inner, shape, level + 1, own)
        shape = result.shape
    return out


def _count_inside(spec: LayerSpec) -> int:
    """How many names the layers given inside ``spec`` take (theirs and theirs inside)."""
    return sum(1 + _count_inside(inner) for inner in spec.sublayers())
