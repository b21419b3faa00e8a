"""Reading a saved model's structure: a Sequential model's layer list, a Functional
model's graph (what each call takes, shared layers' later calls, outputs), in an order
that gives Keras' automatic names by itself."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from specc.analysis.graph import INPUT_NAME, to_snake_case
from specc.backends import import_applications, import_ops
from specc.backends.import_layers import LayerReader
from specc.backends.import_values import (
    _kind,
    _serialized,
    _show,
    spec_name,
)
from specc.layers import CATALOG
from specc.terms.values import is_identifier

Node = tuple[str, int]
"""A Keras node: (layer name, which call of it)."""


_AUTO = re.compile(r"^(?P<prefix>.+?)(?:_(?P<n>[1-9][0-9]*))?$")


def _tensor(value: Any) -> tuple[str, int, int] | None:
    """A serialised KerasTensor's ``(layer, call, output)``, or None for anything else."""
    if not (_serialized(value) and value["class_name"] == "__keras_tensor__"):
        return None
    history = value["config"].get("keras_history") if isinstance(value["config"], dict) else None
    if (
        isinstance(history, list)
        and len(history) == 3
        and isinstance(history[0], str)
        and all(isinstance(h, int) and not isinstance(h, bool) and h >= 0 for h in history[1:])
    ):
        return history[0], history[1], history[2]
    return None


def _show_tensors(value: Any) -> str:
    """A call argument as a person reads it: tensors as ``layer[call][output]``.

    >>> t = {"class_name": "__keras_tensor__", "config": {"keras_history": ["lstm", 0, 1]}}
    >>> _show_tensors([t, None])
    '[lstm[0][1], None]'
    """
    found = _tensor(value)
    if found is not None:
        return f"{found[0]}[{found[1]}][{found[2]}]"
    if isinstance(value, list):
        return "[" + ", ".join(_show_tensors(v) for v in value) + "]"
    return _show(value)


def _returns_state(serialized: dict[str, Any]) -> bool:
    """Whether a layer's call gives several tensors (an RNN, or a wrapped one, with
    ``return_state``)."""
    config = serialized["config"]
    inner = config.get("layer")
    if _serialized(inner) and isinstance(inner["config"], dict):
        config = {**inner["config"], **config}
    return config.get("return_state") is True


def _construction_order(
    calls: dict[Node, list[tuple[str, int, int]]],
    order_key: dict[Node, tuple[int, int]],
    by_name: dict[str, tuple[int, dict[str, Any]]],
    inputs: set[str],
) -> list[Node]:
    """The calls in an order where each comes after what it takes (and after the same
    layer's earlier calls), and where layers with automatic names come in the order of
    their numbers (``dense`` before ``dense_1``), so a spec listing them in this order
    gets Keras' names by itself. Keras' config lists layers by depth, not by when they
    were made; where the two cannot agree, a layer gets ahead and keeps its name.
    """
    prefix_of: dict[str, tuple[str, int] | None] = {}
    numbers: dict[str, set[int]] = defaultdict(set)
    for name, (_, s) in by_name.items():
        if name in inputs:
            continue
        prefix = to_snake_case(s["class_name"])
        match = _AUTO.match(name)
        auto = match is not None and match["prefix"] == prefix
        prefix_of[name] = (prefix, int(match["n"] or 0)) if auto and match else None
        if prefix_of[name] is not None:
            numbers[prefix].add(prefix_of[name][1])  # type: ignore[index]  # not None: checked on the line above
    run = {p: next(i for i in range(len(ns) + 1) if i not in ns) for p, ns in numbers.items()}
    counters: dict[str, int] = defaultdict(int)
    waiting = {
        node: {(s[0], s[1]) for s in sources if s[0] not in inputs}
        | ({(node[0], node[1] - 1)} if node[1] else set())
        for node, sources in calls.items()
    }
    done: set[Node] = set()
    order: list[Node] = []
    while waiting:
        ready = sorted((n for n, w in waiting.items() if w <= done), key=order_key.__getitem__)
        if not ready:  # a cycle: Keras cannot have saved one; keep its order
            ready = sorted(waiting, key=order_key.__getitem__)

        def free(node: Node) -> bool:
            auto = prefix_of[node[0]]
            if node[1] or auto is None or auto[1] >= run[auto[0]]:
                return True  # a later call, or a layer that keeps its name anyway
            return auto[1] == counters[auto[0]]

        chosen = next((n for n in ready if free(n)), ready[0])
        auto = prefix_of[chosen[0]]
        if not chosen[1] and auto is not None and auto[1] < run[auto[0]]:
            if auto[1] == counters[auto[0]]:
                counters[auto[0]] += 1
            else:  # made ahead of its turn: it and the later ones keep their names
                run[auto[0]] = auto[1]
        order.append(chosen)
        done.add(chosen)
        del waiting[chosen]
    return order


def _call(layer_type: str) -> str:
    """How the catalog says Keras calls the layer on several inputs (``CALL``); "one" for a
    type specc does not know (reported elsewhere)."""
    cls = CATALOG.get(layer_type)
    return cls.CALL if cls is not None else "one"


def _call_labels(
    order: list[Node], taken: set[str], alias: dict[str, str] | None = None
) -> dict[Node, str]:
    """The ``as:`` label of each later call of a layer (``dense_call1``), clashing with no
    layer's name nor another label (a sub-model's made from its ``models:`` key, ``alias``,
    where its Keras name is no identifier)."""
    labels: dict[Node, str] = {}
    for name, k in order:
        if k:
            label = f"{(alias or {}).get(name, name)}_call{k}"
            while label in taken:
                label += "_"
            taken.add(label)
            labels[(name, k)] = label
    return labels


SUB_MODELS = ("Functional", "Model")
"""Config classes of a Functional model used as a layer (a nested Sequential stays inline)."""


def _refs(value: Any) -> list[Any]:
    """A config's ``input_layers``/``output_layers``: one ``[name, node, tensor]``, a list,
    or a dict by name (``keras.Model({"a": x}, {"label": y})``), flattened as Keras
    flattens it: its keys sorted."""
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return [value]
    if isinstance(value, dict):
        return [value[key] for key in sorted(value)]
    return value if isinstance(value, list) else [value]


def _input_refs(config: dict[str, Any]) -> list[Any]:
    return _refs(config.get("input_layers"))


def _output_refs(config: Any) -> list[Any]:
    return _refs(config.get("output_layers")) if isinstance(config, dict) else []


def _end(value: Any) -> Any:
    """The layer name in a Functional config's ``[name, node, tensor]`` reference."""
    return value[0] if isinstance(value, list) and value else None


def _called_training(serialized: dict[str, Any]) -> Any:
    """The ``training`` argument of a layer's first call as saved (None: not given)."""
    nodes = serialized.get("inbound_nodes")
    node = nodes[0] if isinstance(nodes, list) and nodes else None
    kwargs = node.get("kwargs") if isinstance(node, dict) else None
    return kwargs.get("training") if isinstance(kwargs, dict) else None


def _write_outputs(
    part: dict[str, Any], keyed: Any, out_refs: list[str], previous: str | None
) -> None:
    """``outputs`` where they are not just the last entry: a mapping as Keras saved it
    (``keras.Model(inputs, {name: tensor})``, flattened by sorted key), else a list."""
    if isinstance(keyed, dict):
        by_key = dict(zip(sorted(keyed), out_refs, strict=True))
        part["outputs"] = {key: by_key[key] for key in keyed}
    elif out_refs != [previous] or previous is None:
        part["outputs"] = out_refs


def _label_applications(
    entries: list[dict[str, Any] | None], out_refs: list[str], applications: dict[str, int]
) -> None:
    """An application (``{type: MobileNetV2}``) whose Keras name is no identifier is
    referred to by a key made from it (``applications``: key -> its entry's position):
    that key becomes its ``as:`` label where another entry or the outputs refer to it."""
    used = {r.split(".")[0] for r in out_refs}
    for entry in entries:
        for r in (entry or {}).get("inputs", []):
            if isinstance(r, str):
                used.add(r.split(".")[0])
    for key, position in applications.items():
        entry = entries[position]
        if entry is not None and key in used:
            entry["as"] = key


class GraphReader(LayerReader):
    """Sequential and Functional models' structure, as a layer list or a graph spec."""

    def __init__(self) -> None:
        super().__init__()
        self.op_operands: dict[str, list[Any]] = {}
        """An operation's operands as saved (tensors serialised, numbers), by its name."""

    models: dict[str, dict[str, Any]]
    """The sub-models met (a Functional layer of a Functional model), by name: ``models:``."""

    def sub_model(
        self,
        serialized: dict[str, Any],
        counters: dict[str, int],
        where: str,
        key: str | None = None,
    ) -> dict[str, Any] | None:
        """A Functional model used as a layer: its definition joins ``models:`` (read with
        the name counters where it is built, so its layers keep Keras' names), and the
        entry that builds and calls it, ``{model: NAME}``, is returned. ``key``: its
        ``models:`` key where its Keras name is no identifier (``mobilenetv2_1.00_224``,
        ``cifar10-encoder``), which then goes in the definition's ``name:``."""
        config = serialized["config"]
        name = config.get("name")
        if not isinstance(name, str) or not name:
            self.problem(where, f"a sub-model needs a name, not {_show(name)}")
            return None
        key = name if key is None else key
        before, problems = dict(counters), len(self.problems)
        part = self.functional(config, counters)
        if part is None:
            return None
        if "input" in part:  # inputs: keeps it a Functional model (input: + a chain: Sequential)
            part = {"inputs": [part.pop("input")], **part}
        n = counters.get(INPUT_NAME, 0)
        for given, ref in zip(part["inputs"], _input_refs(config), strict=False):
            given.pop("name", None)
            if _end(ref) == (INPUT_NAME if n == 0 else f"{INPUT_NAME}_{n}"):
                n += 1  # the name specc gives it there: left out, as for a layer
            else:
                given["name"] = _end(ref)
        counters[INPUT_NAME] = n
        called_once = len(serialized.get("inbound_nodes") or []) <= 1
        if called_once and len(self.problems) == problems:
            application = import_applications.recognise(config, part, before)
            if application is not None:  # keras.applications.<type>(...): by name
                return application
        if not hasattr(self, "models"):
            self.models = {}
        if key != name:
            part = {"name": name, **part}
        self.models[key] = part
        entry: dict[str, Any] = {"model": key}
        if config.get("trainable") is False:
            entry["trainable"] = False
        return entry

    def functional(
        self, config: dict[str, Any], counters: dict[str, int] | None = None
    ) -> dict[str, Any] | None:
        """``input``/``inputs``, ``layers`` and ``outputs`` of a Functional model's spec.

        Each layer call (a Keras node) becomes an entry: a layer's first call its layer
        entry, later calls ``{apply: name, inputs, as}``. Entries are listed so that each
        comes after what it takes and, as far as that allows, in the order Keras made the
        layers (which Keras' config does not keep: it lists layers by depth), read back
        from their automatic names; a layer keeps ``name:`` only where that fails.
        """
        named = self._named_layers(config)
        if named is None:
            return None
        by_name, is_input, input_names, output_refs = named
        found = self._calls(by_name, is_input)
        if found is None:
            return None
        calls, order_key, call_problems, multi = found
        sub_models = {n for n, (_, s) in by_name.items() if s["class_name"] in SUB_MODELS}
        multi |= {n for n in sub_models if len(_output_refs(by_name[n][1]["config"])) > 1}
        outputs = self._outputs(output_refs, calls, is_input, multi, sub_models)
        if outputs is None:
            return None
        order = _construction_order(calls, order_key, by_name, is_input)
        alias = self._sub_model_keys(by_name)
        labels = _call_labels(order, set(by_name) | set(alias.values()), alias)

        def ref(source: tuple[str, int, int]) -> str:
            layer, node, index = source
            text = labels.get((layer, node), alias.get(layer, layer))
            return f"{text}.{index}" if layer in multi else text

        # ------------------------------------------------------------- the entries
        if counters is None:  # the model's own: its unnamed input is input_layer
            counters = {INPUT_NAME: int(input_names == [INPUT_NAME])}
        entries: list[dict[str, Any] | None] = []
        applications: dict[str, int] = {}
        previous: str | None = input_names[0] if len(input_names) == 1 else None
        for position, (name, k) in enumerate(order):
            for message in call_problems[(name, k)]:
                self.problem(f"layers[{position}] ({name})", message)
            refs = [ref(s) for s in calls[(name, k)]]
            if k:
                entry: dict[str, Any] | None = {
                    "apply": alias.get(name, name), "inputs": refs, "as": labels[(name, k)],
                }  # fmt: skip
            elif import_ops.is_operation(by_name[name][1]):
                entry = self._op_entry(by_name[name][1], refs, counters, position, previous)
            else:
                made = by_name[name][1]
                entry = (
                    self.sub_model(made, counters, f"layers[{position}]", alias.get(name))
                    if made["class_name"] in SUB_MODELS
                    else self.layer(made, counters, f"layers[{position}]")
                )
                kind = CATALOG.get(made["class_name"])
                if kind is not None and kind.MODEL:  # built when called: an InputLayer
                    counters[INPUT_NAME] = counters.get(INPUT_NAME, 0) + 1
                if entry is not None and refs != [previous]:
                    entry["inputs"] = refs
                called = made["class_name"] in SUB_MODELS
                if called and entry is not None and "type" in entry and name in alias:
                    applications[alias[name]] = len(entries)
                if entry is not None and called and _called_training(made) is False:
                    entry["training"] = False  # base_model(x, training=False)
            entries.append(entry)
            output = labels.get((name, k), alias.get(name, name))
            previous = None if name in multi else output
        out_refs = [ref(s) for s in outputs]
        part = self._inputs_part(by_name, input_names)
        part["layers"] = entries
        _write_outputs(part, config.get("output_layers"), out_refs, previous)
        written = part.get("outputs", [])
        _label_applications(
            entries, list(written.values()) if isinstance(written, dict) else written, applications
        )
        return part

    def _sub_model_keys(self, by_name: dict[str, tuple[int, dict[str, Any]]]) -> dict[str, str]:
        """The ``models:`` key of each sub-model whose Keras name is no identifier, by that
        name: an identifier made from it (``mobilenetv2_1.00_224`` -> ``mobilenetv2_1_00_224``),
        clear of the layers' names and the other sub-models' keys; the spec refers to the
        sub-model by it (``inputs:``, ``apply:``), and its Keras name stays its ``name:``."""
        taken = set(by_name) | set(getattr(self, "models", {}))
        keys: dict[str, str] = {}
        for name, (_, s) in by_name.items():
            if s["class_name"] in SUB_MODELS and not is_identifier(name):
                key = spec_name(name)
                while key in taken:
                    key += "_"
                taken.add(key)
                keys[name] = key
        return keys

    def _op_sources(
        self, name: str, k: int, node: Any, problems: list[str]
    ) -> list[tuple[str, int, int]] | None:
        """What one call of an operation takes (its tensor operands); its operands, numbers
        included, are kept for its entry. An operation is called once (keras.ops makes a
        new one per call)."""
        if k:
            problems.append("an operation called twice is not supported by specc")
            return None
        given = import_ops.operands(node, problems)
        if given is None:
            return None
        self.op_operands[name] = given
        return [t for t in (_tensor(a) for a in given) if t is not None]

    def _op_entry(
        self,
        serialized: dict[str, Any],
        refs: list[str],
        counters: dict[str, int],
        position: int,
        previous: str | None,
    ) -> dict[str, Any] | None:
        """An operation's ``{op: ...}`` entry, its tensors as ``refs`` say them; None (said)
        when specc lacks it or cannot say its arguments."""
        config, name = serialized["config"], serialized.get("name")
        where = f"layers[{position}] ({name})"
        cls = import_ops.declaration(serialized)
        if isinstance(cls, str):
            self.problem(where, cls)
            return None
        named: dict[str, Any] = {}
        if not self._layer_name(cls, cls.__name__, name, counters, where, named):
            return None
        tensors = iter(refs)
        given = self.op_operands.get(name) if isinstance(name, str) else None
        if given is None:  # its call was refused (said)
            return None
        inputs = [next(tensors) if _tensor(a) is not None else a for a in given]
        made, problems = import_ops.entry(cls, config, inputs, named.get("name"))
        for message in problems:
            self.problem(where, message)
        return None if made is None else import_ops.shortened(made, previous, cls)

    def _named_layers(
        self, config: dict[str, Any]
    ) -> tuple[dict[str, tuple[int, dict[str, Any]]], set[str], list[Any], list[Any]] | None:
        """The layers by name (with their position), the inputs' names, the input and output
        references; None when they do not fit together (said)."""
        layers = config.get("layers")
        if not isinstance(layers, list) or not layers:
            self.problem(
                "config.json", f"config.layers must be a non-empty list, not {_kind(layers)}"
            )
            return None
        by_name: dict[str, tuple[int, dict[str, Any]]] = {}
        for i, s in enumerate(layers):
            name = (
                s.get("name", s["config"].get("name"))
                if _serialized(s) and isinstance(s["config"], dict)
                else None
            )
            if not isinstance(name, str) or name in by_name:
                what = "has no name" if not isinstance(name, str) else f"repeats {name!r}"
                self.problem(f"config.layers[{i}]", f"the layer {what}")
                return None
            by_name[name] = (i, s)
        is_input = {n for n, (_, s) in by_name.items() if s["class_name"] == "InputLayer"}

        input_refs, output_refs = (
            _refs(config.get("input_layers")),
            _refs(config.get("output_layers")),
        )
        input_names = [_end(r) for r in input_refs]
        given = config.get("input_layers")
        if isinstance(given, dict) and any(given[k] != [k, 0, 0] for k in given):
            self.problem(
                "config.json", f"inputs given as a dict {_show(given)} whose keys are not "
                "the inputs' names: a spec names each input (inputs: [{name: ...}])",
            )  # fmt: skip
            return None
        if not input_names or any(n not in is_input for n in input_names):
            self.problem(
                "config.json", f"input_layers {_show(input_refs)} are not the model's inputs"
            )
            return None
        unlisted = sorted(is_input - set(input_names))
        if unlisted:
            self.problem("config.json", f"inputs {unlisted} are not among the model's inputs")
            return None
        return by_name, is_input, input_names, output_refs

    def _calls(
        self, by_name: dict[str, tuple[int, dict[str, Any]]], is_input: set[str]
    ) -> (
        tuple[
            dict[Node, list[tuple[str, int, int]]],
            dict[Node, tuple[int, int]],
            dict[Node, list[str]],
            set[str],
        ]
        | None
    ):
        """Every call (node) and what it takes, its place in the config, its problems, and
        the layers whose outputs are taken one by one; None when a call takes what the
        model lacks (said)."""
        calls: dict[Node, list[tuple[str, int, int]]] = {}
        order_key: dict[Node, tuple[int, int]] = {}
        call_problems: dict[Node, list[str]] = {}
        for name, (i, s) in by_name.items():
            if name in is_input:
                continue
            nodes = s.get("inbound_nodes")
            if not isinstance(nodes, list) or not nodes:
                self.problem(f"config.layers[{i}] ({name})", "the layer is never called")
                return None
            for k, node in enumerate(nodes):
                call_problems[(name, k)] = []
                if import_ops.is_operation(s):
                    sources = self._op_sources(name, k, node, call_problems[(name, k)])
                else:
                    sources = self.call_sources(
                        node, s["class_name"], call_problems[(name, k)], first=k == 0
                    )
                # A call a spec cannot say is reported; the layer is still read, for the
                # problems of its own arguments (all are named at once).
                calls[(name, k)] = sources or []
                order_key[(name, k)] = (i, k)
        multi = {n for n, (_, s) in by_name.items() if _returns_state(s)}
        for sources in calls.values():
            for layer, node, index in sources:
                if layer not in by_name or (
                    (layer, node) not in calls and not (layer in is_input and node == 0)
                ):
                    self.problem(
                        "config.json", f"a call takes {layer}[{node}], which the model lacks"
                    )
                    return None
                if index > 0:
                    multi.add(layer)
        return calls, order_key, call_problems, multi

    def _outputs(
        self,
        output_refs: list[Any],
        calls: dict[Node, list[tuple[str, int, int]]],
        is_input: set[str],
        multi: set[str],
        sub_models: set[str],
    ) -> list[tuple[str, int, int]] | None:
        """The model's outputs as (layer, call, output); None when one is not a layer of the
        model (said). A layer whose output n > 0 is taken joins ``multi``. An output of a
        sub-model (``sub_models``) counts its node 0, the one Keras makes when it builds the
        sub-model, which no call of the outer model is: its call k is node k + 1 there, as
        Keras reads it back (``functional_from_config``'s ``get_tensor``)."""
        outputs: list[tuple[str, int, int]] = []
        for ref in output_refs:
            out = _tensor({"class_name": "__keras_tensor__", "config": {"keras_history": ref}})
            if out is not None and out[0] in sub_models and out[1] > 0:
                out = (out[0], out[1] - 1, out[2])
            if out is None or (
                (out[0], out[1]) not in calls and not (out[0] in is_input and out[1] == 0)
            ):
                self.problem("config.json", f"output {_show(ref)} is not a layer of the model")
                return None
            outputs.append(out)
            if out[2] > 0:
                multi.add(out[0])
        return outputs

    def _inputs_part(
        self, by_name: dict[str, tuple[int, dict[str, Any]]], input_names: list[Any]
    ) -> dict[str, Any]:
        """``input:`` for one input, else ``inputs:`` with each one's name."""
        part: dict[str, Any] = {}
        if len(input_names) == 1:
            part["input"] = self.input(by_name[input_names[0]][1])
        else:
            part["inputs"] = []
            for n, name in enumerate(input_names):
                made = self.input(by_name[name][1], f"inputs[{n}]")
                part["inputs"].append(
                    {"name": name, **{k: v for k, v in made.items() if k != "name"}}
                )
        return part

    @staticmethod
    def call_sources(
        node: Any, layer_type: str, problems: list[str], *, first: bool = True
    ) -> list[tuple[str, int, int]] | None:
        """What one call of a layer takes, as ``(layer, call, output)`` references, or None
        where the call passes something a spec's ``inputs`` cannot say (added to
        ``problems``, to be located once the call's place in the spec is known)."""
        if not isinstance(node, dict) or not isinstance(node.get("args"), list):
            problems.append(f"an inbound node must be {{args, kwargs}}, not {_kind(node)}")
            return None
        args, kwargs = node["args"], node.get("kwargs") or {}
        if not isinstance(kwargs, dict):
            problems.append(f"the call's kwargs must be an object, not {_kind(kwargs)}")
            return None
        ok = True
        states: list[Any] = []
        declared = CATALOG[layer_type].CALL_ARGUMENTS if layer_type in CATALOG else ()
        for key, value in kwargs.items():
            default = CATALOG[layer_type].CALL_TRAINING if layer_type in CATALOG else None
            if value is None or (key == "training" and value in (False, default)):
                continue
            if key in declared and isinstance(value, bool) and first:
                continue  # a field of the layer's entry (use_causal_mask: true)
            if key == "initial_state" and isinstance(value, list) and _call(layer_type) == "states":
                states = value  # routed after the sequence: inputs: [x, h, c]
                continue
            problems.append(
                f"the call passes {key}={_show_tensors(value)}, which a spec cannot say",
            )
            ok = False
        tensors = [_tensor(a) for a in args]
        positional = _call(layer_type) == "positional"  # query, value(, key): not one list
        custom = layer_type not in CATALOG  # a plugin's class: its call() takes either
        if len(args) == 1 and isinstance(args[0], list) and not positional:
            tensors = [_tensor(a) for a in args[0]]
            if len(tensors) < 2:
                problems.append("the call passes a list of one tensor, which a spec cannot say")
                return None
        elif len(args) > 1 and not positional and not custom:
            problems.append(
                f"the call passes {len(args)} positional arguments; a spec passes several "
                f"inputs to {layer_type} as one list",
            )
            return None
        if states and len(args) == 1 and not isinstance(args[0], list):
            tensors += [_tensor(state) for state in states]
        routed = [t for t in tensors if t is not None]
        if not args or len(routed) < len(tensors):
            problems.append(
                f"the call's arguments {_show_tensors(args)} are not tensors a spec routes"
            )
            return None
        return routed if ok else None

    def sequential(self, inner: dict[str, Any]) -> dict[str, Any]:
        """``input`` and ``layers`` of a Sequential model's spec."""
        layers = inner.get("layers")
        if not isinstance(layers, list):
            self.problem("config.json", f"config.layers must be a list, not {_kind(layers)}")
            layers = []
        input_entry: dict[str, Any] = {"shape": [1]}
        if layers and _serialized(layers[0]) and layers[0]["class_name"] == "InputLayer":
            input_entry = self.input(layers[0])
            layers = layers[1:]
        else:
            shape = inner.get("build_input_shape")
            if isinstance(shape, list):
                input_entry = self.input(
                    {"class_name": "InputLayer", "config": {"batch_shape": shape}}
                )
            else:
                self.problem("input", "the model was saved without an input shape (never built)")
        if not layers:
            self.problem("layers", "the model has no layers")
        return {"input": input_entry, "layers": self.layers(layers, {}, "layers")}
