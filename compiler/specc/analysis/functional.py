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
    model_input_names,
    nested_inputs,
)
from specc.errors import Diagnostic
from specc.language.messages import did_you_mean
from specc.language.schema import Apply, Spec
from specc.layers import LayerSpec
from specc.layers.base import Out, apply, format_out
from specc.layers.shapes import Shape, ShapeError

Diagnose = Callable[[tuple, str], Diagnostic]
Node = tuple[str, int]
"""A Keras node: (layer or input name, which call of it)."""


def _warning(diagnostic: Diagnostic) -> Diagnostic:
    return dataclasses.replace(diagnostic, severity="warning")


def _split(ref: str) -> tuple[str, int | None]:
    """``lstm.1`` -> ``("lstm", 1)``; ``dense`` -> ``("dense", None)``."""
    name, _, index = ref.partition(".")
    return name, int(index) if index else None


def resolve_graph(spec: Spec, diagnose: Diagnose) -> tuple[Graph | None, list[Diagnostic]]:
    """Names, shapes, parameters and Keras' layer order of a graph spec, and its problems.

    Warnings (layers that feed no output) come with the problems, as ``severity="warning"``.
    """
    entries = list(spec.model.layers)
    given_inputs = spec.model.model_inputs
    problems: list[Diagnostic] = nested_inputs(entries, diagnose)

    # ------------------------------------------------------------------ names
    positions = [i for i, e in enumerate(entries) if isinstance(e, LayerSpec)]
    layer_specs: list[LayerSpec] = [entries[i] for i in positions]  # type: ignore[misc]  # positions index LayerSpec entries only (not apply calls)
    names, inner_names, clashes = layer_names(layer_specs, positions)
    problems += [diagnose(loc, message) for loc, message in clashes]
    input_names = model_input_names(spec)
    input_loc = (
        (lambda k: ("model", "inputs", k, "name"))
        if spec.model.inputs is not None
        else (lambda k: ("model", "input", "name"))
    )
    symbols: dict[str, tuple[str, int]] = {}
    """name -> ("input", k) | ("layer", entry) | ("label", entry)"""
    for k, name in enumerate(input_names):
        if name in symbols:
            problems.append(
                diagnose(
                    input_loc(k),
                    f"input name {name!r} is already used by input {symbols[name][1]}; "
                    "Keras requires unique names",
                )
            )
        else:
            symbols[name] = ("input", k)
    name_of: dict[int, str] = {}
    inner_of: dict[int, tuple[str, ...]] = {}
    for pos, name, inner in zip(positions, names, inner_names, strict=True):
        name_of[pos], inner_of[pos] = name, inner
        for used in (name, *inner):
            kind = symbols.get(used, ("", -1))[0]
            if kind == "input":
                problems.append(
                    diagnose(
                        ("model", "layers", pos, "name")
                        if used == name and entries[pos].name is not None
                        else ("model", "layers", pos),
                        f"layer name {used!r} is the name of model input "
                        f"{symbols[used][1]}; Keras requires unique names",
                    )
                )
        symbols.setdefault(name, ("layer", pos))
    problems += label_clashes(spec, name_of, diagnose)
    for i, entry in enumerate(entries):
        label = entry.as_ if isinstance(entry, Apply) else entry.label
        if label is not None:
            symbols.setdefault(label, ("label", i))

    # --------------------------------------------------- what each entry takes
    failed: set[int] = set()
    refs: dict[int, list[tuple[tuple, str, int | None, tuple[str, int]]]] = {}
    """entry -> [(loc, name, index, (kind, at))] per input, in order."""
    applied: dict[int, int] = {}
    """apply entry -> the entry declaring the layer it calls."""
    for i, entry in enumerate(entries):
        if isinstance(entry, Apply):
            target = symbols.get(entry.apply)
            loc = ("model", "layers", i, "apply")
            if target is None or target[0] != "layer":
                layers = [n for n, (kind, _) in symbols.items() if kind == "layer"]
                if target is None:
                    message = f"unknown layer {entry.apply!r}"
                elif target[0] == "input":
                    message = f"{entry.apply!r} is a model input, not a layer"
                else:
                    message = f"{entry.apply!r} names a call's output, not a layer"
                hint = did_you_mean(entry.apply, layers) if target is None else None
                problems.append(diagnose(loc, message + (f" ({hint})" if hint else "")))
                failed.add(i)
            elif target[1] > i:
                problems.append(
                    diagnose(
                        loc,
                        f"layer {entry.apply!r} is declared later (model.layers[{target[1]}]); "
                        "declare a layer before calling it again",
                    )
                )
                failed.add(i)
            else:
                applied[i] = target[1]
        given = entry.inputs
        if given is None:
            if i > 0:
                refs[i] = [(("model", "layers", i), "", None, ("entry", i - 1))]
            elif len(input_names) == 1:
                refs[i] = [(("model", "layers", i), input_names[0], None, ("input", 0))]
            else:
                problems.append(
                    diagnose(
                        ("model", "layers", i),
                        f"the model has {len(input_names)} inputs; say which this layer "
                        f"takes with inputs: [...] (one of {', '.join(input_names)})",
                    )
                )
                failed.add(i)
            continue
        found = []
        for j, ref in enumerate(given):
            loc = ("model", "layers", i, "inputs", j)
            name, index = _split(ref)
            target = symbols.get(name)
            if target is None:
                hint = did_you_mean(name, list(symbols))
                problems.append(
                    diagnose(loc, f"unknown input {name!r}" + (f" ({hint})" if hint else ""))
                )
                failed.add(i)
                continue
            found.append((loc, name, index, target))
        refs[i] = found

    def entry_of(target: tuple[str, int]) -> int | None:
        return None if target[0] == "input" else target[1]

    # forward references: a cycle, or a layer used before it is made
    for i, found in refs.items():
        for loc, name, _, target in found:
            at = entry_of(target)
            if at is None or at < i:
                continue
            failed.add(i)
            if at == i:
                problems.append(
                    diagnose(
                        loc,
                        f"layer {name!r} takes its own output: a cycle, which Keras cannot build",
                    )
                )
                continue
            path = _path(at, i, refs)
            if path:
                cycle = " -> ".join(_shown(e, entries, name_of) for e in [i, *path])
                message = f"{name!r} is computed from this layer's output: a cycle ({cycle}), which Keras cannot build"
            else:
                message = (
                    f"{name!r} is made later (model.layers[{at}]); Keras calls layers in the "
                    "order they are listed, so list it above this layer"
                )
            problems.append(diagnose(loc, message))

    # ----------------------------------------------------------------- shapes
    outputs: dict[Node, Shape | list[Shape]] = {}
    node_of: dict[int, Node] = {}
    calls_made: dict[str, int] = defaultdict(int)
    first: dict[str, tuple[int, Out, Shape | list[Shape]]] = {}
    """layer name -> (entry, result, input) of its first call."""
    calls: list[Call] = []
    input_shapes = {
        name: (None, *given.shape) for name, given in zip(input_names, given_inputs, strict=True)
    }
    for name, shape in input_shapes.items():
        outputs[(name, 0)] = shape
    total = 0
    too_big: Diagnostic | None = None
    for i, entry in enumerate(entries):
        if i in failed:
            continue
        if isinstance(entry, Apply):
            layer_entry = applied[i]
            if layer_entry in failed or name_of[layer_entry] not in first:
                failed.add(i)
                continue
            layer, name = entries[layer_entry], name_of[layer_entry]
        else:
            layer, name = entry, name_of[i]
        sources: list[Source] = []
        values: list[Shape | list[Shape]] = []
        for loc, ref_name, index, target in refs[i]:
            at = entry_of(target)
            if at is not None and (at in failed or at not in node_of):
                break
            node = (ref_name, 0) if at is None else node_of[at]
            out = outputs[node]
            if index is not None:
                count = len(out) if isinstance(out, list) else 1
                if index >= count:
                    some = (
                        f"{count} outputs ({', '.join(f'{ref_name}.{n}' for n in range(count))})"
                        if count > 1
                        else f"one output (write {ref_name})"
                    )
                    problems.append(
                        diagnose(loc, f"{ref_name!r} has {some}; there is no output {index}")
                    )
                    break
                out = out[index] if isinstance(out, list) else out
            sources.append((node[0], node[1], index))
            values.append(out)
        else:
            several = len(values) > 1
            source_names = ", ".join(_ref_text(s) for s in sources)
            try:
                if several and any(isinstance(v, list) for v in values):
                    whole = next(
                        s for s, v in zip(sources, values, strict=True) if isinstance(v, list)
                    )
                    raise ShapeError(
                        f"{whole[0]!r} outputs several tensors; take one with {whole[0]}.0, "
                        f"{whole[0]}.1, ...",
                        show_input=False,
                    )
                shape = values if several else values[0]
                if isinstance(shape, list) and not several and not layer.LIST_INPUT:
                    raise ShapeError(
                        f"{layer.type} takes one input tensor, but {source_names} outputs "
                        f"{len(shape)}: {format_out(shape)}; take one with "
                        f"{sources[0][0]}.0, {sources[0][0]}.1, ...",
                        show_input=False,
                    )
                result = apply(layer, shape, source_names, routed=several)  # type: ignore[arg-type]  # a LayerSpec at this point (apply calls are resolved first)
            except ShapeError as exc:
                field = (
                    exc.field if isinstance(exc.field, tuple) else (exc.field,) if exc.field else ()
                )
                at_entry = applied.get(i, i)
                loc = ("model", "layers", i, *(field if at_entry == i else ()))
                message = f"{exc} (input {format_out(shape)})" if exc.show_input else str(exc)
                problems.append(diagnose(loc, message))
                failed.add(i)
                continue
            params = result.trainable + result.non_trainable
            if name in first:
                before_entry, before, before_input = first[name]
                if params != before.trainable + before.non_trainable:
                    problems.append(
                        diagnose(
                            ("model", "layers", i),
                            f"layer {name!r} made its weights for input "
                            f"{format_out(before_input)} (model.layers[{before_entry}]); "
                            f"called on {format_out(shape)} it would need other weights, "
                            "which Keras refuses",
                        )
                    )
                    failed.add(i)
                    continue
            else:
                first[name] = (i, result, shape)
                if not too_big:
                    too_big = _size_problem(i, result, total, params, diagnose)
                    problems += [too_big] if too_big else []
                total += params
            node = (name, calls_made[name])
            calls_made[name] += 1
            node_of[i] = node
            outputs[node] = result.shape
            calls.append(Call(i, name, node[1], tuple(sources), result.shape))
            continue
        failed.add(i)

    # ---------------------------------------------------------------- outputs
    out_sources: list[Source] = []
    if spec.model.outputs is None:
        last = len(entries) - 1
        if last in node_of:
            out_sources.append((*node_of[last], None))
    else:
        for j, ref in enumerate(spec.model.outputs):
            loc = ("model", "outputs", j)
            name, index = _split(ref)
            target = symbols.get(name)
            if target is None:
                hint = did_you_mean(name, list(symbols))
                problems.append(
                    diagnose(loc, f"unknown output {name!r}" + (f" ({hint})" if hint else ""))
                )
                continue
            at = entry_of(target)
            if at is not None and at not in node_of:
                continue  # its own problem is reported
            node = (name, 0) if at is None else node_of[at]
            out = outputs[node]
            count = len(out) if isinstance(out, list) else 1
            if index is not None and index >= count:
                problems.append(
                    diagnose(loc, f"{name!r} has {count} output(s); there is no output {index}")
                )
                continue
            out_sources.append((node[0], node[1], index))
    if any(d.severity == "error" for d in problems) or not out_sources:
        return None, problems

    # ------------------------------------------- Keras' model: order and rows
    call_of = {(c.layer, c.node): c for c in calls}

    def tensors(source: Source) -> list[tuple[Node, int]]:
        """The flat tensors a source stands for: (node, output index)."""
        node = (source[0], source[1])
        if source[2] is not None:
            return [(node, source[2])]
        out = outputs[node]
        return [(node, t) for t in range(len(out) if isinstance(out, list) else 1)]

    def parents(node: Node) -> list[tuple[Node, int]]:
        call = call_of.get(node)
        return [] if call is None else [t for s in call.sources for t in tensors(s)]

    flat_outputs = [t for s in out_sources for t in tensors(s)]
    order, op_index = _build_map([node for node, _ in flat_outputs], parents)
    nodes_depths: dict[Node, int] = {}
    op_depths: dict[str, int] = {}
    for node in reversed(order):
        depth = nodes_depths.setdefault(node, 0)
        depth = max(depth, op_depths.get(node[0], 0))
        op_depths[node[0]] = depth
        nodes_depths[node] = depth
        for parent, _ in parents(node):
            nodes_depths[parent] = max(depth + 1, nodes_depths.get(parent, 0))
    for k, name in enumerate(input_names):
        if name not in op_depths:
            op_depths[name], op_index[name], nodes_depths[(name, 0)] = 0, -1, 0
            problems.append(
                _warning(
                    diagnose(
                        ("model", "inputs", k)
                        if spec.model.inputs is not None
                        else ("model", "input"),
                        f"input {name!r} feeds no output; Keras keeps it as an input nothing uses",
                    )
                )
            )
    for i in range(len(entries)):
        if i in node_of and node_of[i] not in nodes_depths:
            name = node_of[i][0]
            what = f"layer {name!r}" if node_of[i][1] == 0 else f"this call of {name!r}"
            problems.append(
                _warning(
                    diagnose(
                        ("model", "layers", i),
                        f"{what} feeds no output: Keras leaves it out of the model (use it, "
                        "add it to model.outputs, or remove it)",
                    )
                )
            )
    by_depth: dict[int, list[str]] = defaultdict(list)
    for op, depth in op_depths.items():
        by_depth[depth].append(op)
    operations = [
        op
        for depth in sorted(by_depth, reverse=True)
        for op in sorted(by_depth[depth], key=lambda o: op_index[o])
    ]
    nodes_by_depth: dict[int, list[Node]] = defaultdict(list)
    for node, depth in nodes_depths.items():
        nodes_by_depth[depth].append(node)
    sequential_like = (
        not any(
            len(v) > 1 or (len(v) == 1 and len(parents(v[0])) > 1) for v in nodes_by_depth.values()
        )
        and max(Counter(op for op, _ in nodes_depths).values()) <= 1
    )

    resolved: dict[str, ResolvedLayer] = {}
    last_shape: dict[str, Shape | list[Shape]] = {}
    for call in calls:
        last_shape[call.layer] = call.output_shape
    for name, (i, result, shape) in first.items():
        resolved[name] = ResolvedLayer(
            i,
            name,
            entries[i].type,  # type: ignore[union-attr]  # a LayerSpec at this point (apply calls are resolved first)
            entries[i],  # type: ignore[arg-type]  # a LayerSpec at this point (apply calls are resolved first)
            shape,
            last_shape[name],
            result.trainable,
            result.non_trainable,
            inner_of[i],
            result.int64_params,
        )
    dtypes = {name: given.dtype for name, given in zip(input_names, given_inputs, strict=True)}
    rows = []
    for op in operations:
        if op in input_shapes:
            rows.append(Row(op, "InputLayer", input_shapes[op], 0, 0, ()))
            continue
        layer = resolved[op]
        connected = tuple(
            f"{parent[0]}[{parent[1]}][{t}]"
            for n in range(calls_made[op])
            if (op, n) in nodes_depths
            for parent, t in parents((op, n))
        )
        rows.append(
            Row(op, layer.type, layer.output_shape, layer.params, layer.trainable_params, connected)
        )
    layers = tuple(resolved[op] for op in operations if op in resolved)
    graph = Graph(
        spec.model.name or spec.name,
        input_shapes[input_names[0]],
        layers,
        functional=True,
        inputs=tuple(GraphInput(n, input_shapes[n], dtypes[n]) for n in input_names),
        calls=tuple(calls),
        outputs=tuple(out_sources),
        rows=tuple(rows),
        sequential_like=sequential_like,
        output_shapes=tuple(_tensor_shape(outputs[node], t) for node, t in flat_outputs),
        made=tuple(sorted(resolved.values(), key=lambda layer: layer.index)),
    )
    return graph, problems


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
