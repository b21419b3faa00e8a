"""Graph specs (Keras' functional form): inputs, layers that name what they take, shared
layers, several outputs.

Resolved as the equivalent Keras functional code runs: layers are made and called in the
order the spec lists them (so automatic names and node indices are Keras' own), then the
layers that reach the outputs are ordered as ``keras.Model`` orders them (its
``map_graph``: depth from the outputs, then first visit in a depth-first walk from them).
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Callable

from specc.analysis import submodels
from specc.analysis.graph import (
    Call,
    Graph,
    GraphInput,
    ResolvedLayer,
    Row,
    Source,
    _size_problem,
    label_clashes,
    layer_names,
    nested_inputs,
    take_input_names,
)
from specc.analysis.submodels import Definitions
from specc.errors import Diagnostic
from specc.language.messages import did_you_mean
from specc.language.schema import Apply, Backbone, Spec, UseModel
from specc.layers import LayerSpec
from specc.layers.base import OpSpec, Out, apply, format_out
from specc.layers.shapes import Shape, ShapeError
from specc.terms.values import is_identifier

Diagnose = Callable[[tuple, str], Diagnostic]

MAX_TENSORS = 100_000
"""Tensors a graph's entries may make in all (a split's pieces each count): the summary
prints each, and a spec's YAML holds at most 100,000 values."""
Node = tuple[str, int]
"""A Keras node: (layer or input name, which call of it)."""


def _warning(diagnostic: Diagnostic) -> Diagnostic:
    return dataclasses.replace(diagnostic, severity="warning")


def _split(ref: str) -> tuple[str, int | None]:
    """``lstm.1`` -> ``("lstm", 1)``; ``dense`` -> ``("dense", None)``."""
    name, _, index = ref.partition(".")
    return name, int(index) if index else None


def resolve_graph(
    spec: Spec,
    diagnose: Diagnose,
    counters: dict[str, int] | None = None,
    definitions: Definitions | None = None,
) -> tuple[Graph | None, list[Diagnostic]]:
    """Names, shapes, parameters and Keras' layer order of a graph spec, and its problems.

    Warnings (layers that feed no output) come with the problems, as ``severity="warning"``.
    ``counters``, ``definitions``: see :func:`specc.analysis.graph.resolve`.
    """
    resolver = _Resolver(spec, diagnose, counters, definitions)
    resolver.name()
    resolver.connect()
    resolver.refuse_forward_references()
    resolver.call_layers()
    out_sources = resolver.outputs_taken()
    if any(d.severity == "error" for d in resolver.problems) or not out_sources:
        return None, resolver.problems
    graph = resolver.model(out_sources)
    return graph, resolver.problems


class _Resolver:
    """One graph spec resolved phase by phase, as its functional code runs: names, what each
    entry takes, the calls (shapes, weights), the outputs, then Keras' model (its layer
    order and summary rows). Each phase adds its problems to ``problems`` and reads only
    what the phases before it set, so each can be run (and tested) after those alone."""

    def __init__(
        self,
        spec: Spec,
        diagnose: Diagnose,
        counters: dict[str, int] | None = None,
        definitions: Definitions | None = None,
    ) -> None:
        self.spec = spec
        self.diagnose = diagnose
        self.counters = {} if counters is None else counters
        self.input_names = take_input_names(spec, self.counters)
        self.entries: list[LayerSpec | Apply] = []
        self.problems: list[Diagnostic] = []
        self.failed: set[int] = set()
        for i, entry in enumerate(spec.model.layers):
            if isinstance(entry, UseModel):  # a sub-model, built when it is named
                loc = ("model", "layers", i)
                problem = submodels.unknown(entry, loc, definitions, diagnose)
                self.problems += [problem] if problem else []
                self.failed |= {i} if problem else set()
                entry = submodels.sub_model(entry, loc, definitions)
            elif isinstance(entry, Backbone):  # a keras.applications model by name
                assert definitions is not None  # resolve() always passes them
                loc = ("model", "layers", i)
                made, problem = submodels.backbone(entry, loc, definitions, diagnose)
                if made is None:
                    self.problems += [problem] if problem else []
                    self.failed.add(i)
                    given = entry.arguments.get("name")  # two that failed: no clash said
                    name = given if isinstance(given, str) else entry.type
                    made = submodels.SubModel.model_construct(type="Functional", name=name)
                entry = made
            self.entries.append(entry)
        self.problems += nested_inputs(self.entries, diagnose)
        self.symbols: dict[str, tuple[str, int]] = {}
        """name -> ("input", k) | ("layer", entry) | ("label", entry)"""
        self.name_of: dict[int, str] = {}
        self.inner_of: dict[int, tuple[str, ...]] = {}
        self.refs: dict[int, list[tuple[tuple, str, int | None, tuple[str, int]]]] = {}
        """entry -> [(loc, name, index, (kind, at))] per input, in order."""
        self.applied: dict[int, int] = {}
        """apply entry -> the entry declaring the layer it calls."""
        self.input_shapes = {
            name: (None, *given.shape)
            for name, given in zip(self.input_names, spec.model.model_inputs, strict=True)
        }
        self.outputs: dict[Node, Shape | list[Shape]] = {
            (name, 0): shape for name, shape in self.input_shapes.items()
        }
        self.node_of: dict[int, Node] = {}
        self.calls_made: dict[str, int] = defaultdict(int)
        self.first: dict[str, tuple[int, Out, Shape | list[Shape]]] = {}
        """layer name -> (entry, result, input) of its first call."""
        self.calls: list[Call] = []
        self.total = 0
        self.made_tensors = 0
        self.too_big: Diagnostic | None = None
        self.call_of: dict[Node, Call] = {}

    # -- names ---------------------------------------------------------------------------
    def name(self) -> None:
        """Every input, layer and label named; names Keras would refuse reported."""
        entries, diagnose = self.entries, self.diagnose
        positions = [i for i, e in enumerate(entries) if isinstance(e, LayerSpec)]
        layer_specs = [e for e in entries if isinstance(e, LayerSpec)]  # in positions' order
        names, inner_names, clashes = layer_names(layer_specs, positions, self.counters)
        self.problems += [diagnose(loc, message) for loc, message in clashes]
        self._name_inputs()
        symbols = self.symbols
        for pos, layer, name, inner in zip(positions, layer_specs, names, inner_names, strict=True):
            self.name_of[pos], self.inner_of[pos] = name, inner
            for used in (name, *inner):
                kind = symbols.get(used, ("", -1))[0]
                if kind == "input":
                    self.problems.append(
                        diagnose(
                            ("model", "layers", pos, "name")
                            if used == name and layer.name is not None
                            else ("model", "layers", pos),
                            f"layer name {used!r} is the name of model input "
                            f"{symbols[used][1]}; Keras requires unique names",
                        )
                    )
            symbols.setdefault(name, ("layer", pos))
            if isinstance(layer, submodels.SubModel) and not is_identifier(name):
                # mobilenetv2_1.00_224 (its Keras name) is referred to by its models: key
                symbols.setdefault(layer.key, ("layer", pos))
        self.problems += label_clashes(self.spec, self.name_of, diagnose, self.input_names)
        for pos in positions:  # a sub-model with errors (said at models.NAME) is not called
            if isinstance(entries[pos], submodels.SubModel) and entries[pos].graph is None:  # type: ignore[union-attr]  # a SubModel (the isinstance before it)
                self.failed.add(pos)
        for i, entry in enumerate(entries):
            label = entry.as_ if isinstance(entry, Apply) else entry.label
            if label is not None:
                symbols.setdefault(label, ("label", i))

    def _name_inputs(self) -> None:
        input_loc: Callable[[int], tuple[str | int, ...]] = (
            (lambda k: ("model", "inputs", k, "name"))
            if self.spec.model.inputs is not None
            else (lambda k: ("model", "input", "name"))
        )
        for k, name in enumerate(self.input_names):
            if name in self.symbols:
                self.problems.append(
                    self.diagnose(
                        input_loc(k),
                        f"input name {name!r} is already used by input {self.symbols[name][1]}; "
                        "Keras requires unique names",
                    )
                )
            else:
                self.symbols[name] = ("input", k)

    # -- what each entry takes -----------------------------------------------------------
    def connect(self) -> None:
        """What each entry calls (``apply:``) and takes (``inputs:``, else the entry
        above), by name; an unknown name or a later layer is reported."""
        for i, entry in enumerate(self.entries):
            if isinstance(entry, Apply):
                self._connect_apply(i, entry)
            given = entry.inputs
            if given is None:
                self._connect_default(i)
                continue
            found = []
            for j, ref in enumerate(given):
                loc = ("model", "layers", i, "inputs", j)
                name, index = _split(ref)
                target = self.symbols.get(name)
                if target is None:
                    hint = did_you_mean(name, list(self.symbols))
                    self.problems.append(
                        self.diagnose(
                            loc, f"unknown input {name!r}" + (f" ({hint})" if hint else "")
                        )
                    )
                    self.failed.add(i)
                    continue
                found.append((loc, name, index, target))
            self.refs[i] = found

    def _connect_apply(self, i: int, entry: Apply) -> None:
        target = self.symbols.get(entry.apply)
        loc = ("model", "layers", i, "apply")
        if target is None or target[0] != "layer":
            layers = [n for n, (kind, _) in self.symbols.items() if kind == "layer"]
            if target is None:
                message = f"unknown layer {entry.apply!r}"
            elif target[0] == "input":
                message = f"{entry.apply!r} is a model input, not a layer"
            else:
                message = f"{entry.apply!r} names a call's output, not a layer"
            hint = did_you_mean(entry.apply, layers) if target is None else None
            self.problems.append(self.diagnose(loc, message + (f" ({hint})" if hint else "")))
            self.failed.add(i)
        elif isinstance(self.entries[target[1]], OpSpec):
            self.problems.append(
                self.diagnose(
                    loc,
                    f"{entry.apply!r} is an operation, which holds no weights to share; "
                    "write the operation again (an op entry) instead of apply",
                )
            )
            self.failed.add(i)
        elif target[1] > i:
            self.problems.append(
                self.diagnose(
                    loc,
                    f"layer {entry.apply!r} is declared later (model.layers[{target[1]}]); "
                    "declare a layer before calling it again",
                )
            )
            self.failed.add(i)
        else:
            self.applied[i] = target[1]

    def _connect_default(self, i: int) -> None:
        """An entry without ``inputs:`` takes the entry above, the first the only input."""
        input_names = self.input_names
        if i > 0:
            self.refs[i] = [(("model", "layers", i), "", None, ("entry", i - 1))]
        elif len(input_names) == 1:
            self.refs[i] = [(("model", "layers", i), input_names[0], None, ("input", 0))]
        else:
            self.problems.append(
                self.diagnose(
                    ("model", "layers", i),
                    f"the model has {len(input_names)} inputs; say which this layer "
                    f"takes with inputs: [...] (one of {', '.join(input_names)})",
                )
            )
            self.failed.add(i)

    def refuse_forward_references(self) -> None:
        """A cycle, or a layer used before it is made (Keras calls in the listed order)."""
        for i, found in self.refs.items():
            for loc, name, _, target in found:
                at = _entry_of(target)
                if at is None or at < i:
                    continue
                self.failed.add(i)
                if at == i:
                    self.problems.append(
                        self.diagnose(
                            loc,
                            f"layer {name!r} takes its own output: a cycle, which Keras cannot build",
                        )
                    )
                    continue
                path = _path(at, i, self.refs)
                if path:
                    cycle = " -> ".join(_shown(e, self.entries, self.name_of) for e in [i, *path])
                    message = f"{name!r} is computed from this layer's output: a cycle ({cycle}), which Keras cannot build"
                else:
                    message = (
                        f"{name!r} is made later (model.layers[{at}]); Keras calls layers in the "
                        "order they are listed, so list it above this layer"
                    )
                self.problems.append(self.diagnose(loc, message))

    # -- the calls: shapes and weights ---------------------------------------------------
    def call_layers(self) -> None:
        """Each entry's layer called, in order, on what it takes: its output shape, node
        and weights (made at its first call; a later call must fit them)."""
        for i, entry in enumerate(self.entries):
            if i in self.failed:
                continue
            if isinstance(entry, Apply):
                layer_entry = self.applied[i]
                if layer_entry in self.failed or self.name_of[layer_entry] not in self.first:
                    self.failed.add(i)
                    continue
                layer, name = self.entries[layer_entry], self.name_of[layer_entry]
            else:
                layer, name = entry, self.name_of[i]
            taken = self.taken(i)
            if taken is None or not self._call(i, layer, name, *taken):  # type: ignore[arg-type]  # a LayerSpec at this point (apply calls are resolved first)
                self.failed.add(i)

    def taken(self, i: int) -> tuple[list[Source], list[Shape | list[Shape]]] | None:
        """Entry ``i``'s sources and their shapes; None when one failed or has no such
        output (said)."""
        sources: list[Source] = []
        values: list[Shape | list[Shape]] = []
        for loc, ref_name, index, target in self.refs[i]:
            at = _entry_of(target)
            if at is not None and (at in self.failed or at not in self.node_of):
                return None
            node = (ref_name, 0) if at is None else self.node_of[at]
            out = self.outputs[node]
            if index is not None:
                count = len(out) if isinstance(out, list) else 1
                if index >= count:
                    some = (
                        f"{count} outputs ({', '.join(f'{ref_name}.{n}' for n in range(count))})"
                        if count > 1
                        else f"one output (write {ref_name})"
                    )
                    self.problems.append(
                        self.diagnose(loc, f"{ref_name!r} has {some}; there is no output {index}")
                    )
                    return None
                out = out[index] if isinstance(out, list) else out
            sources.append((node[0], node[1], index))
            values.append(out)
        return sources, values

    def _call(
        self,
        i: int,
        layer: LayerSpec,
        name: str,
        sources: list[Source],
        values: list[Shape | list[Shape]],
    ) -> bool:
        """Call ``layer`` for entry ``i``; False (said) when Keras would refuse it."""
        several = len(values) > 1
        source_names = ", ".join(_ref_text(s) for s in sources)
        try:
            shape: Shape | list[Shape]
            if several:
                singles = [v for v in values if not isinstance(v, list)]
                if len(singles) < len(values):  # one source is a whole multi-output layer
                    whole = next(
                        s for s, v in zip(sources, values, strict=True) if isinstance(v, list)
                    )
                    raise ShapeError(
                        f"{whole[0]!r} outputs several tensors; take one with {whole[0]}.0, "
                        f"{whole[0]}.1, ...",
                        show_input=False,
                    )
                shape = singles
            else:
                shape = values[0]
            if isinstance(shape, list) and not several and not layer.LIST_INPUT:
                raise ShapeError(
                    f"{layer.type} takes one input tensor, but {source_names} outputs "
                    f"{len(shape)}: {format_out(shape)}; take one with "
                    f"{sources[0][0]}.0, {sources[0][0]}.1, ...",
                    show_input=False,
                )
            result = apply(layer, shape, source_names, routed=several)
        except ShapeError as exc:
            field = exc.field if isinstance(exc.field, tuple) else (exc.field,) if exc.field else ()
            at_entry = self.applied.get(i, i)
            loc = ("model", "layers", i, *(field if at_entry == i else ()))
            message = f"{exc} (input {format_out(shape)})" if exc.show_input else str(exc)
            self.problems.append(self.diagnose(loc, message))
            return False
        if not self._weigh(i, name, result, shape) or not self._count(i, result.shape):
            return False
        node = (name, self.calls_made[name])
        self.calls_made[name] += 1
        self.node_of[i] = node
        self.outputs[node] = result.shape
        self.calls.append(Call(i, name, node[1], tuple(sources), result.shape))
        return True

    def _count(self, i: int, shape: Shape | list[Shape]) -> bool:
        """False (said once) past MAX_TENSORS tensors made: splits of many pieces each
        would make the summary and the diagram unbounded."""
        self.made_tensors += len(shape) if isinstance(shape, list) else 1
        if self.made_tensors <= MAX_TENSORS:
            return True
        if self.made_tensors - (len(shape) if isinstance(shape, list) else 1) <= MAX_TENSORS:
            self.problems.append(
                self.diagnose(
                    ("model", "layers", i),
                    f"the model makes more than {MAX_TENSORS:,} tensors (outputs of its "
                    "layers and operations) by this entry; make it smaller",
                )
            )
        return False

    def _weigh(self, i: int, name: str, result: Out, shape: Shape | list[Shape]) -> bool:
        """A first call makes the layer's weights (counted toward the model's size); a
        later call must need the same weights (False, said, when not)."""
        params = result.trainable + result.non_trainable
        if name in self.first:
            before_entry, before, before_input = self.first[name]
            if params != before.trainable + before.non_trainable:
                self.problems.append(
                    self.diagnose(
                        ("model", "layers", i),
                        f"layer {name!r} made its weights for input "
                        f"{format_out(before_input)} (model.layers[{before_entry}]); "
                        f"called on {format_out(shape)} it would need other weights, "
                        "which Keras refuses",
                    )
                )
                return False
            return True
        self.first[name] = (i, result, shape)
        if not self.too_big:
            self.too_big = _size_problem(i, result, self.total, params, self.diagnose)
            self.problems += [self.too_big] if self.too_big else []
        self.total += params
        return True

    # -- outputs -------------------------------------------------------------------------
    def outputs_taken(self) -> list[Source]:
        """The model's outputs (``model.outputs``, else the last entry's)."""
        out_sources: list[Source] = []
        if self.spec.model.outputs is None:
            last = len(self.entries) - 1
            if last in self.node_of:
                out_sources.append((*self.node_of[last], None))
            return out_sources
        for j, ref in enumerate(self.spec.model.outputs):
            loc = ("model", "outputs", j)
            name, index = _split(ref)
            target = self.symbols.get(name)
            if target is None:
                hint = did_you_mean(name, list(self.symbols))
                self.problems.append(
                    self.diagnose(loc, f"unknown output {name!r}" + (f" ({hint})" if hint else ""))
                )
                continue
            at = _entry_of(target)
            if at is not None and at not in self.node_of:
                continue  # its own problem is reported
            node = (name, 0) if at is None else self.node_of[at]
            out = self.outputs[node]
            count = len(out) if isinstance(out, list) else 1
            if index is not None and index >= count:
                self.problems.append(
                    self.diagnose(
                        loc, f"{name!r} has {count} output(s); there is no output {index}"
                    )
                )
                continue
            out_sources.append((node[0], node[1], index))
        return out_sources

    # -- Keras' model: order and rows ----------------------------------------------------
    def tensors(self, source: Source) -> list[tuple[Node, int]]:
        """The flat tensors a source stands for: (node, output index)."""
        node = (source[0], source[1])
        if source[2] is not None:
            return [(node, source[2])]
        out = self.outputs[node]
        return [(node, t) for t in range(len(out) if isinstance(out, list) else 1)]

    def parents(self, node: Node) -> list[tuple[Node, int]]:
        call = self.call_of.get(node)
        return [] if call is None else [t for s in call.sources for t in self.tensors(s)]

    def model(self, out_sources: list[Source]) -> Graph:
        """The graph as ``keras.Model`` makes it of these outputs: its layers' order, its
        summary's rows; inputs and calls that feed no output are warned about."""
        self.call_of = {(c.layer, c.node): c for c in self.calls}
        flat_outputs = [t for s in out_sources for t in self.tensors(s)]
        nodes_depths, op_depths, op_index = self.depths([node for node, _ in flat_outputs])
        self._warn_unused(nodes_depths, op_depths, op_index)
        by_depth: dict[int, list[str]] = defaultdict(list)
        for op, depth in op_depths.items():
            by_depth[depth].append(op)
        operations = [
            op
            for depth in sorted(by_depth, reverse=True)
            for op in sorted(by_depth[depth], key=lambda o: op_index[o])
        ]
        resolved = self.resolved_layers()
        given_inputs = self.spec.model.model_inputs
        dtypes = {n: given.dtype for n, given in zip(self.input_names, given_inputs, strict=True)}
        input_shapes = self.input_shapes
        return Graph(
            self.spec.model.name or self.spec.name,
            input_shapes[self.input_names[0]],
            tuple(resolved[op] for op in operations if op in resolved),
            functional=True,
            inputs=tuple(GraphInput(n, input_shapes[n], dtypes[n]) for n in self.input_names),
            calls=tuple(self.calls),
            outputs=tuple(out_sources),
            rows=tuple(self.rows(operations, resolved, nodes_depths)),
            sequential_like=self.sequential_like(nodes_depths),
            output_shapes=tuple(_tensor_shape(self.outputs[node], t) for node, t in flat_outputs),
            made=tuple(sorted(resolved.values(), key=lambda layer: layer.index)),
        )

    def depths(self, outputs: list[Node]) -> tuple[dict[Node, int], dict[str, int], dict[str, int]]:
        """Keras' ``map_graph``: each node's and operation's depth from the outputs, and
        each operation's index of first visit."""
        order, op_index = _build_map(outputs, self.parents)
        nodes_depths: dict[Node, int] = {}
        op_depths: dict[str, int] = {}
        for node in reversed(order):
            depth = nodes_depths.setdefault(node, 0)
            depth = max(depth, op_depths.get(node[0], 0))
            op_depths[node[0]] = depth
            nodes_depths[node] = depth
            for parent, _ in self.parents(node):
                nodes_depths[parent] = max(depth + 1, nodes_depths.get(parent, 0))
        return nodes_depths, op_depths, op_index

    def _warn_unused(
        self, nodes_depths: dict[Node, int], op_depths: dict[str, int], op_index: dict[str, int]
    ) -> None:
        """Inputs and calls the outputs do not need: Keras keeps the one, leaves out the
        other. An unused input is put at depth 0, as Keras does."""
        for k, name in enumerate(self.input_names):
            if name not in op_depths:
                op_depths[name], op_index[name], nodes_depths[(name, 0)] = 0, -1, 0
                self.problems.append(
                    _warning(
                        self.diagnose(
                            ("model", "inputs", k)
                            if self.spec.model.inputs is not None
                            else ("model", "input"),
                            f"input {name!r} feeds no output; Keras keeps it as an input nothing uses",
                        )
                    )
                )
        for i in range(len(self.entries)):
            if i in self.node_of and self.node_of[i] not in nodes_depths:
                name = self.node_of[i][0]
                what = f"layer {name!r}" if self.node_of[i][1] == 0 else f"this call of {name!r}"
                self.problems.append(
                    _warning(
                        self.diagnose(
                            ("model", "layers", i),
                            f"{what} feeds no output: Keras leaves it out of the model (use it, "
                            "add it to model.outputs, or remove it)",
                        )
                    )
                )

    def sequential_like(self, nodes_depths: dict[Node, int]) -> bool:
        """Whether Keras' summary shows no ``Connected to`` column: one node per depth, each
        with one parent, and no layer called twice."""
        nodes_by_depth: dict[int, list[Node]] = defaultdict(list)
        for node, depth in nodes_depths.items():
            nodes_by_depth[depth].append(node)
        return (
            not any(
                len(v) > 1 or (len(v) == 1 and len(self.parents(v[0])) > 1)
                for v in nodes_by_depth.values()
            )
            and max(Counter(op for op, _ in nodes_depths).values()) <= 1
        )

    def resolved_layers(self) -> dict[str, ResolvedLayer]:
        """Each layer as made at its first call, with its last call's output shape."""
        entries = self.entries
        last_shape: dict[str, Shape | list[Shape]] = {}
        for call in self.calls:
            last_shape[call.layer] = call.output_shape
        resolved: dict[str, ResolvedLayer] = {}
        for name, (i, result, shape) in self.first.items():
            resolved[name] = ResolvedLayer(
                i,
                name,
                entries[i].type,  # type: ignore[union-attr]  # a LayerSpec at this point (apply calls are resolved first)
                entries[i],  # type: ignore[arg-type]  # a LayerSpec at this point (apply calls are resolved first)
                shape,
                last_shape[name],
                result.trainable,
                result.non_trainable,
                self.inner_of[i],
                result.int64_params,
            )
        return resolved

    def rows(
        self,
        operations: list[str],
        resolved: dict[str, ResolvedLayer],
        nodes_depths: dict[Node, int],
    ) -> list[Row]:
        """model.summary()'s rows, in Keras' order, with what each row is connected to."""
        rows = []
        for op in operations:
            if op in self.input_shapes:
                rows.append(Row(op, "InputLayer", self.input_shapes[op], 0, 0, ()))
                continue
            layer = resolved[op]
            connected = tuple(
                f"{parent[0]}[{parent[1]}][{t}]"
                for n in range(self.calls_made[op])
                if (op, n) in nodes_depths
                for parent, t in self.parents((op, n))
            )
            rows.append(
                Row(
                    op,
                    layer.type,
                    layer.output_shape,
                    layer.params,
                    layer.trainable_params,
                    connected,
                )
            )
        return rows


def _entry_of(target: tuple[str, int]) -> int | None:
    """The entry a symbol names: None for a model input."""
    return None if target[0] == "input" else target[1]


def _tensor_shape(out: Shape | list[Shape], index: int) -> Shape:
    return out[index] if isinstance(out, list) else out


def _ref_text(source: Source) -> str:
    return source[0] if source[2] is None else f"{source[0]}.{source[2]}"


def _shown(entry: int, entries: list, names: dict[int, str]) -> str:
    if entry in names:
        return names[entry]
    given = entries[entry]
    return given.as_ or f"model.layers[{entry}]"


def _path(start: int, goal: int, refs: dict) -> list[int]:
    """Entries from ``start`` back to ``goal`` through what each takes ([] if none)."""
    seen = {start}
    stack: list[tuple[int, list[int]]] = [(start, [start])]
    while stack:
        at, path = stack.pop()
        for _, _, _, target in refs.get(at, []):
            nxt = None if target[0] == "input" else target[1]
            if nxt is None or nxt in seen:
                continue
            if nxt == goal:
                return [*path, goal]
            seen.add(nxt)
            stack.append((nxt, [*path, nxt]))
    return []


def _build_map(
    outputs: list[Node], parents: Callable[[Node], list[tuple[Node, int]]]
) -> tuple[list[Node], dict[str, int]]:
    """Keras' ``_build_map``: nodes in post-order of a depth-first walk from the outputs,
    and each operation's index of first visit. Iterative: a long chain stays in bounds."""
    finished: set[Node] = set()
    in_progress: set[Node] = set()
    order: list[Node] = []
    op_index: dict[str, int] = {}
    for output in outputs:
        if output in finished:
            continue
        op_index.setdefault(output[0], len(op_index))
        stack = [(output, iter(parents(output)))]
        in_progress.add(output)
        while stack:
            node, pending = stack[-1]
            for parent, _ in pending:
                if parent not in finished and parent not in in_progress:
                    op_index.setdefault(parent[0], len(op_index))
                    in_progress.add(parent)
                    stack.append((parent, iter(parents(parent))))
                    break
            else:
                stack.pop()
                in_progress.discard(node)
                if node not in finished:
                    finished.add(node)
                    order.append(node)
    return order, op_index
