"""Blocks: a sub-graph defined once with parameters, used many times.

A spec's ``blocks:`` section defines named blocks; a layer entry ``{block: NAME, ...}``
uses one, with its parameters and an optional ``repeat`` (or ``each: {param: [values]}``,
one application per value, as a Keras ``for`` loop over filter sizes). Expansion is a pure rewrite of
the loaded data that runs before the schema: each use becomes the block's layers, in the
block's order (so Keras' automatic names come out as the equivalent hand-written code
makes them: a block gives its layers no names), ``$param`` values substituted, and the
block's own references (``in``, its layers' ``as`` labels) turned into references to the
expanded layers. Labels are spec-only names, never Keras names, so expansion may add them.

The source map follows: an expanded value is located in the block's definition (a
substituted one at the use's argument), and every message about an expanded layer names
the use and repetition it came from.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from typing import Any

from specc.errors import Diagnostic, Loc, format_loc
from specc.language import libraries
from specc.language.loader import Loaded, SourceMap
from specc.language.messages import LABEL, name_taken
from specc.terms.values import is_identifier

BLOCK_INPUT = "in"
"""What a block's layers call the tensor the block is applied to."""
MAX_EXPANDED_LAYERS = 20_000
"""Expansion stops past this many layers: a few bytes of `repeat` must not make validate
slow (validating costs about 25 µs a layer; the largest published models have a few
thousand layers)."""
MAX_EXPANDED_VALUES = 200_000
"""Expansion stops past this many values copied (each layer's keys and values, a
``$param``'s value as often as it is substituted, each block use): a small value repeated
many times must not make validate slow either (a 20,000-layer expansion of plain layers
copies about 80,000)."""
MAX_DEPTH = 16
"""Blocks may use other blocks, this deep at most, and never in a cycle."""
_CYCLE = f"blocks cannot use themselves or nest past {MAX_DEPTH}"
BLOCK_KEYS = ("params", "layers", "description")
"""Keys of a block's definition (a description is for people and ``specc blocks``)."""
USE_KEYS = ("block", "repeat", "each", "inputs", "as")
"""Keys of a block use that are not the block's parameters."""

_PARAM = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)\Z")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")


class _Required:
    def __repr__(self) -> str:
        return "<required>"


REQUIRED: Any = _Required()
REQUIRED_MARK = "$required"
"""A parameter's default in a ``params`` mapping that says it has none: a use must give it."""


@dataclass(frozen=True)
class Use:
    """One application of a block: where it is written and which repetition."""

    block: str
    loc: Loc
    position: tuple[int, int]
    repetition: int
    repeat: int

    where: str = ""
    """The file or override that holds the use, when not the spec's own file."""

    def note(self) -> str:
        line, col = self.position
        at = f"{line}:{col}" if not self.where else f"{self.where}:{line}:{col}"
        if self.where.startswith("--set"):
            at = self.where
        times = f", repetition {self.repetition + 1} of {self.repeat}" if self.repeat > 1 else ""
        return f"in block {self.block!r} used at {at} ({format_loc(self.loc)}{times})"


@dataclass
class ExpandedSource(SourceMap):
    """The source map of an expanded spec: for each expanded layer, the path it is
    written at (in ``blocks:`` or ``model.layers``) and the uses it came through."""

    origins: dict[Loc, tuple[Loc, tuple[Use, ...]]] = field(default_factory=dict)
    params: dict[Loc, dict[tuple, str]] = field(default_factory=dict)
    """For each expanded layer, the paths in it whose value a ``$param`` of its innermost
    block gave, and that param's name (emit-code writes those as the param's variable)."""

    labelled: dict[Loc, tuple[Loc, tuple[Use, ...]]] = field(default_factory=dict)
    """For each expanded layer that carries a block use's label (the block's last layer),
    where that ``as:`` is written and the uses around that use: a message about the label
    is located there, not at the block's layer."""

    def diagnostic(
        self, loc: Loc, message: str, *, key: bool = False, hint: str | None = None
    ) -> Diagnostic:
        loc = tuple(loc)
        if loc[3:] == ("as",) and loc[:3] in self.labelled:
            written, uses = self.labelled[loc[:3]]
            notes = "; ".join(use.note() for use in reversed(uses))
            if notes:
                hint = f"{hint}; {notes}" if hint else notes
            return replace(self.at(loc, message, key=key, hint=hint), loc=written)
        if loc[:2] == ("model", "layers") and len(loc) >= 3 and loc[:3] in self.origins:
            written, uses = self.origins[loc[:3]]
            notes = "; ".join(use.note() for use in reversed(uses))
            if notes:
                hint = f"{hint}; {notes}" if hint else notes
            found = self.at(loc, message, key=key, hint=hint)
            return replace(found, loc=(*written, *loc[3:]))
        return super().diagnostic(loc, message, key=key, hint=hint)


@dataclass
class _Block:
    params: dict[str, Any]
    layers: list[Any]
    where: Loc
    """Where the layers are written (``blocks.NAME.layers``, or ``blocks.NAME`` for a list)."""


class _Expander:
    """Walks ``model.layers``, writing the flat layer list and its source map."""

    def __init__(self, loaded: Loaded) -> None:
        self.data: dict[str, Any] = loaded.data
        self.old = loaded.source
        self.new = ExpandedSource(loaded.source.file, yaml11=dict(loaded.source.yaml11))
        self.problems: list[Diagnostic] = []
        self.reported: set[Diagnostic] = set()
        self.blocks: dict[str, _Block] = {}
        self.cyclic: set[Loc] = set()
        """Uses of blocks in blocks that close a cycle (reported once, with the definitions)."""
        self.refused: set[str] = set()
        """Blocks defined with a mistake (reported there; their uses are skipped)."""
        self.out: list[Any] = []
        self.counts: dict[str, int] = {}
        self.use_labels: dict[str, Diagnostic] = {}
        """The label of each block use expanded so far, and where it is written."""
        self.measures: dict[str, tuple[int, int]] = {}
        """Each block's expansion, counted on its definition: (layers, values), at least."""
        self.copied = 0
        """Values copied so far (bounded by MAX_EXPANDED_VALUES)."""
        self.sizes: dict[int, tuple[Any, int]] = {}
        """The size of each ``$param`` value substituted (by id; the value kept alive)."""
        self.index: dict[int, dict[Loc, list[tuple[dict, Loc, Any]]]] = {}
        """The old source map's positions grouped by their first N steps, per N asked for."""

    def problem(
        self,
        loc: Loc,
        message: str,
        *,
        key: bool = False,
        uses: tuple[Use, ...] = (),
        at: Loc | None = None,
    ) -> None:
        """A problem at ``loc`` (written at ``at``, the argument that gave a ``$param``);
        ``uses``: the block uses it depends on, named in a note."""
        notes = "; ".join(use.note() for use in reversed(uses)) or None
        found = self.old.diagnostic(at or loc, message, key=key, hint=notes)
        found = replace(found, loc=loc)
        if found not in self.reported:  # a block's mistake, once however often it is used
            self.reported.add(found)
            self.problems.append(found)

    def copy_positions(self, old: Loc, new: Loc) -> None:
        """Every position recorded under ``old`` filed under ``new`` too (found in an index
        of the source map, not by a walk of all of it: that made expansion quadratic)."""
        n = len(old)
        groups = self.index.get(n)
        if groups is None:
            groups = self.index[n] = {}
            for table_old, table_new in (
                (self.old.values, self.new.values),
                (self.old.keys, self.new.keys),
            ):
                for loc, pos in table_old.items():
                    if len(loc) >= n:
                        groups.setdefault(loc[:n], []).append((table_new, loc[n:], pos))
        for table_new, rest, pos in groups.get(old, ()):
            table_new[(*new, *rest)] = pos

    def size(self, value: Any) -> int:
        """How many values ``value`` holds (itself included), once per object."""
        known = self.sizes.get(id(value))
        if known is None:
            known = self.sizes[id(value)] = (value, _size(value))
        return known[1]

    def spend(self, values: int, loc: Loc) -> None:
        """Count ``values`` copied; past MAX_EXPANDED_VALUES, stop at ``loc``."""
        self.copied += values
        if self.copied > MAX_EXPANDED_VALUES:
            raise _TooBig(loc, values=True)

    # ------------------------------------------------------------------ definitions
    def read_blocks(self) -> None:
        blocks = self.data.get("blocks")
        if blocks is None:
            return
        if not isinstance(blocks, dict):
            self.problem(("blocks",), "must be a mapping of block names to blocks")
            return
        for name, block in blocks.items():
            loc: Loc = ("blocks", name)
            if not isinstance(name, str) or not _NAME.match(name):
                self.problem(loc, f"block name {name!r} must be an identifier", key=True)
                continue
            where: Loc = (*loc, "layers")
            if isinstance(block, list):  # a list of layers: the block's parameters inferred
                block, where = {"layers": block}, loc
            if not isinstance(block, dict):
                self.problem(
                    loc, "a block is a list of layers, or a mapping with 'layers' and 'params'"
                )
                continue
            unknown = [key for key in block if key not in BLOCK_KEYS]
            for key in unknown:
                self.problem(
                    (*loc, key),
                    f"unknown key {key!r}: a block has params, layers and a description",
                    key=True,
                )
            if not isinstance(block.get("description", ""), str):
                self.problem((*loc, "description"), "a block's description is a string")
                continue
            params = _stated_params(block)
            if not isinstance(params, dict) or not all(
                isinstance(p, str) and _NAME.match(p) for p in params
            ):
                self.problem(
                    (*loc, "params"), "params is a list of names, or a mapping of names to defaults"
                )
                continue
            reserved = sorted(set(params) & {*USE_KEYS, BLOCK_INPUT})
            for word in reserved:
                self.problem(
                    (*loc, "params"), f"{word!r} cannot be a parameter name (a block use takes it)"
                )
            layers = block.get("layers")
            layer_list = layers if isinstance(layers, list) else []
            labels_in = [
                i
                for i, x in enumerate(layer_list)
                if isinstance(x, dict) and x.get("as") == BLOCK_INPUT
            ]
            for i in labels_in:
                self.problem(
                    (*where, i, "as"),
                    f"{BLOCK_INPUT!r} cannot label a layer: in a block it names what the block "
                    "is applied to",
                )
            if not isinstance(layers, list) or not layers:
                self.problem(
                    (*loc, "layers") if "layers" in block else loc,
                    "a block needs a non-empty list of layers",
                )
                continue
            twice = self.labels_twice(layer_list, where)
            if unknown or reserved or labels_in or twice:
                continue
            self.blocks[name] = _Block(params, layers, where)
        self.refused = {name for name in blocks if isinstance(name, str)} - set(self.blocks)
        self.check_param_names()
        self.check_uses_in_blocks()

    def check_param_names(self) -> None:
        """Every ``$name`` in a read block's layers must be one of its parameters."""
        for name, block in self.blocks.items():
            for path, value in _leaves(block.layers, block.where):
                match = _PARAM.match(value) if isinstance(value, str) else None
                if match and match.group(1) not in block.params:
                    self.problem(
                        path,
                        f"${match.group(1)} is not a parameter of block {name!r}"
                        + _suggest(match.group(1), block.params),
                    )

    def labels_twice(self, layers: list[Any], where: Loc) -> bool:
        """Whether a block's layers (and the uses among them) give one label twice: every
        use of the block would make two outputs of one name. Each repeat is reported."""
        first: dict[str, Loc] = {}
        found = False
        for i, layer in enumerate(layers):
            label = layer.get("as") if isinstance(layer, dict) else None
            if not isinstance(label, str) or _PARAM.match(label):
                continue
            loc = (*where, i, "as")
            if label in first:
                here, there = self.old.diagnostic(loc, ""), self.old.diagnostic(first[label], "")
                self.problem(loc, name_taken("label", label, LABEL, here, there))
                found = True
            else:
                first[label] = loc
        return found

    def unknown_block(self, loc: Loc, name: str) -> None:
        hint = _suggest(name, self.blocks) if self.blocks else "; define it under blocks:"
        self.problem(loc, f"unknown block {name!r}{hint}")

    def check_uses_in_blocks(self) -> None:
        """The uses of blocks in every block, used or not: an unknown block and a cycle are
        mistakes of the definition (a depth-first walk, without recursion: a spec may
        define thousands of blocks)."""
        edges = {
            name: [
                ((*block.where, i, "block"), layer["block"])
                for i, layer in enumerate(block.layers)
                if isinstance(layer, dict) and "block" in layer
            ]
            for name, block in self.blocks.items()
        }
        state: dict[str, bool] = {}  # False while on the path, True once done
        for root in self.blocks:
            if root in state:
                continue
            path, stack, state[root] = [root], [iter(edges[root])], False
            while stack:
                step = next(stack[-1], None)
                if step is None:
                    done = path.pop()
                    state[done] = True
                    stack.pop()
                    self.measures[done] = self.measure(self.blocks[done].layers)
                    continue
                loc, target = step
                if not isinstance(target, str) or target in self.refused:
                    continue
                if target not in self.blocks:
                    self.unknown_block(loc, target)
                elif state.get(target) is False:
                    chain = _chain([*path[path.index(target) :], target])
                    self.problem(loc, f"{_CYCLE}: {chain}")
                    self.cyclic.add(loc)
                elif target not in state:
                    path.append(target)
                    stack.append(iter(edges[target]))
                    state[target] = False

    def measure(self, layers: list[Any]) -> tuple[int, int]:
        """The layers and values ``layers`` expand to at least, from the definitions of the
        blocks they use (measured before: the walk above finishes a block after those it
        uses). A ``$param`` counts as one value, a ``repeat: $param`` as one repetition;
        the counts stop growing past the bounds, so a chain of thousands of blocks costs
        its length."""
        total_layers = total_values = 0
        for layer in layers:
            if isinstance(layer, dict) and "block" in layer:
                inner = (
                    self.measures.get(layer["block"]) if isinstance(layer["block"], str) else None
                )
                if inner is None:  # unknown, refused or in a cycle: reported elsewhere
                    continue
                reps = _repetitions(layer)
                total_layers += reps * inner[0]
                total_values += _size(layer) + reps * inner[1]
            else:
                total_layers += 1
                total_values += _size(layer)
            if total_layers > MAX_EXPANDED_LAYERS or total_values > MAX_EXPANDED_VALUES:
                break
        return min(total_layers, MAX_EXPANDED_LAYERS + 1), min(
            total_values, MAX_EXPANDED_VALUES + 1
        )

    def check_size(self, layers: list[Any]) -> None:
        """Refuse ``model.layers`` before expanding it when the block definitions already
        say it is too big: at the first use that makes it so."""
        total_layers = total_values = 0
        for i, layer in enumerate(layers):
            loc: Loc = ("model", "layers", i)
            if isinstance(layer, dict) and "block" in layer:
                inner = (
                    self.measures.get(layer["block"]) if isinstance(layer["block"], str) else None
                )
                if inner is None:
                    continue
                reps = _repetitions(layer)
                total_layers += reps * inner[0]
                total_values += _size(layer) + reps * inner[1]
                if "repeat" in layer:
                    loc = (*loc, "repeat")
            else:
                total_layers += 1
                total_values += _size(layer)
            if total_layers > MAX_EXPANDED_LAYERS:
                raise _TooBig(loc)
            if total_values > MAX_EXPANDED_VALUES:
                raise _TooBig(loc, values=True)

    # ------------------------------------------------------------------ expansion
    def ref_to_last(self, label: str) -> str:
        """A reference to the last layer written so far, giving it an id if it has none
        (or the model input's name when nothing is written yet)."""
        if not self.out:
            model = self.data.get("model", {})
            inputs = model.get("inputs") if isinstance(model, dict) else None
            if isinstance(inputs, list) and inputs and isinstance(inputs[0], dict):
                return str(inputs[0].get("name", "input_layer"))
            one = model.get("input") if isinstance(model, dict) else None
            return str(one.get("name") or "input_layer") if isinstance(one, dict) else "input_layer"
        last = self.out[-1]
        if isinstance(last, dict):
            if not isinstance(last.get("as"), str):
                last["as"] = label
            return str(last["as"])
        return label

    def layers(
        self,
        layers: list[Any],
        loc: Loc,
        uses: tuple[Use, ...],
        env: dict[str, Any],
        labels: dict[str, str],
    ) -> None:
        """Write ``layers`` (found at ``loc``) to the output, expanding block uses."""
        for i, layer in enumerate(layers):
            here = (*loc, i)
            if isinstance(layer, dict) and "block" in layer:
                self.use(layer, here, uses, env, labels)
                continue
            if len(self.out) >= MAX_EXPANDED_LAYERS:
                raise _TooBig(here)
            params = _param_paths(layer, env)
            self.spend(_size(layer) + sum(self.size(env[p][0]) - 1 for p in params.values()), here)
            entry, sources = _substitute(layer, env)
            new_loc: Loc = ("model", "layers", len(self.out))
            self.copy_positions(here, new_loc)
            for path, source in sources.items():  # a substituted value: the use's argument
                self.copy_positions(source, (*new_loc, *path))
            self.new.origins[new_loc] = (here, uses)
            self.new.params[new_loc] = params
            if uses and isinstance(entry, dict):
                entry = _relabel(entry, labels)
            self.out.append(entry)

    def use(
        self,
        use: dict[str, Any],
        loc: Loc,
        uses: tuple[Use, ...],
        env: dict[str, Any],
        labels: dict[str, str],
    ) -> None:
        self.spend(_size(use), loc)  # its arguments are copied; a use that writes nothing counts
        name = use.get("block")
        if not isinstance(name, str):
            self.problem((*loc, "block"), f"must be the name of a block (got {name!r})")
            return
        if name in self.refused:  # its definition's mistakes are reported there
            return
        if name not in self.blocks:
            self.unknown_block((*loc, "block"), name)
            return
        if (*loc, "block") in self.cyclic:  # reported with the definitions
            return
        if len(uses) >= MAX_DEPTH or any(u.block == name for u in uses):
            chain = _chain([*(u.block for u in uses), name])
            self.problem((*loc, "block"), f"{_CYCLE}: {chain}")
            return
        block = self.blocks[name]
        repeat = self.use_count(use, loc, uses, env)
        if repeat is None:
            return
        each = use.get("each")
        given, bad = self.use_arguments(use, loc, name, each)
        label, labelled, bad = self.use_label(use, loc, uses, env, labels, bad)
        inputs = _substitute(use.get("inputs"), env)[0]
        if inputs is not None and not _one_input(inputs):
            bad = True
            self.problem(
                (*loc, "inputs"), "a block takes one input: inputs: [<layer or input name>]"
            )
        if bad:
            return
        inner_env = _inner_env(block.params, given, env, loc)
        self.counts[name] = self.counts.get(name, 0) + 1
        use_id = label if label is not None else f"{name}_{self.counts[name]}"
        source = _relabel({"inputs": inputs}, labels)["inputs"][0] if inputs is not None else None
        position = self.old.position(loc)
        where = self.written_in(loc)
        for r in range(repeat):
            for key, values in (each or {}).items():  # this repetition's value, located at it
                value, sources = _substitute(values[r], env)
                inner_env[key] = (value, sources.get((), (*loc, "each", key, r)))
            prefix = f"{use_id}__{r + 1}" if repeat > 1 else use_id
            inner = {label: f"{prefix}__{label}" for label in _labels(block.layers)}
            if source is not None:
                inner[BLOCK_INPUT] = source
            elif _takes_input(block.layers):
                inner[BLOCK_INPUT] = self.ref_to_last(f"{prefix}__in")
            start = len(self.out)
            here = (*uses, Use(name, loc, position, r, repeat, where))
            try:
                self.layers(block.layers, block.where, here, inner_env, inner)
            except _TooBig as exc:
                if not exc.at_use:  # blame the repeat that made it too many
                    exc.loc, exc.at_use = (*loc, "repeat") if "repeat" in use else loc, True
                raise
            first = self.out[start] if len(self.out) > start else None
            if source is not None and isinstance(first, dict) and "inputs" not in first:
                first["inputs"] = [
                    source
                ]  # the block is applied to its inputs, not the layer before
            source = None  # the next repetition takes the one before it
        if label is not None and self.out and isinstance(self.out[-1], dict):
            self.out[-1]["as"] = label  # the use's label names the block's output
            last: Loc = ("model", "layers", len(self.out) - 1)
            self.new.values[(*last, "as")] = self.old.locate(labelled)
            self.new.labelled[last] = ((*loc, "as"), uses)

    def written_in(self, loc: Loc) -> str:
        """The file (or labelled text) a use is written in, where it came from another
        file; "" for the spec's own."""
        found = self.old.locate(loc)
        if len(found) == 3:
            origin = found[2]
            return origin.label or origin.file
        return ""

    def use_count(
        self, use: dict[str, Any], loc: Loc, uses: tuple[Use, ...], env: dict[str, Any]
    ) -> int | None:
        """How many times a use applies its block: its repeat, or the length of each's
        lists. None once a bad one is reported."""
        repeat, given_at = _substitute(use.get("repeat", 1), env)
        if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
            self.problem(  # a $param's value: at the argument that gave it, in this use
                (*loc, "repeat"),
                f"repeat must be a positive integer (got {repeat!r})",
                uses=uses if () in given_at else (),
                at=given_at.get(()),
            )
            return None
        each = use.get("each")
        if each is not None:
            lengths = (
                {len(v) for v in each.values() if isinstance(v, list)}
                if isinstance(each, dict)
                else set()
            )
            if (
                not isinstance(each, dict)
                or not each
                or not all(isinstance(v, list) and v for v in each.values())
                or len(lengths) != 1
            ):
                self.problem(
                    (*loc, "each"),
                    "each maps parameters to lists of one length: {filters: [64, 128, 256]}",
                )
                return None
            if "repeat" in use:
                self.problem((*loc, "repeat"), "give repeat or each, not both")
                return None
            return lengths.pop()
        return repeat

    def use_arguments(
        self, use: dict[str, Any], loc: Loc, name: str, each: dict[str, Any] | None
    ) -> tuple[dict[str, Any], bool]:
        """The arguments a use gives its block (each's first values among them), and whether
        one is given twice, unknown or missing (each reported)."""
        block = self.blocks[name]
        given = {k: v for k, v in use.items() if k not in USE_KEYS}
        bad = False
        for key, values in (each or {}).items():
            if key in given:
                bad = True
                self.problem((*loc, key), f"{key!r} is given by each too; give it once", key=True)
            given[key] = values[0]  # checked like an argument; each repetition its own
        for key in given:
            if key not in block.params:
                bad = True
                self.problem(
                    (*loc, "each", key) if key in (each or {}) else (*loc, key),
                    f"block {name!r} has no parameter {key!r}" + _suggest(str(key), block.params),
                    key=True,
                )
        missing = [
            p for p, default in block.params.items() if default is REQUIRED and p not in given
        ]
        if missing:
            bad = True
            self.problem((*loc, "block"), f"block {name!r} needs {', '.join(map(repr, missing))}")
        return given, bad

    def use_label(
        self,
        use: dict[str, Any],
        loc: Loc,
        uses: tuple[Use, ...],
        env: dict[str, Any],
        labels: dict[str, str],
        bad: bool,
    ) -> tuple[Any, Loc, bool]:
        """A use's label (None if it has none), where it is written, and whether the use is
        bad: a label that is no identifier, or (for a use not bad already) one taken."""
        label, label_at = _substitute(use.get("as"), env)  # in a block, `as: $name` too
        if "as" in use and not is_identifier(label):
            bad = True
            self.problem(
                (*loc, "as"),
                f"must be a Python identifier (letters, digits, _), got {label!r}",
                uses=uses if label_at else (),
                at=label_at.get(()),
            )
        if isinstance(label, str) and label in labels:  # a use in a block: this use's own
            label = labels[label]
        labelled = (label_at.get(()) if label_at else None) or (*loc, "as")
        if label is not None and not bad:
            written = self.old.diagnostic(labelled, "")  # where the label is written
            there = self.use_labels.setdefault(label, written)
            if there is not written:
                bad = True
                self.problem(
                    (*loc, "as"),
                    name_taken("label", label, LABEL, written, there),
                    uses=uses,
                    at=labelled,
                )
        return label, labelled, bad


class _TooBig(Exception):
    def __init__(self, loc: Loc, *, values: bool = False) -> None:
        super().__init__(loc)
        self.loc = loc
        self.at_use = False
        self.values = values

    def message(self) -> str:
        if self.values:
            return (
                f"blocks expand to more than {MAX_EXPANDED_VALUES:,} values; check repeat, "
                "each and the values a block copies"
            )
        return (
            f"blocks expand to more than {MAX_EXPANDED_LAYERS:,} layers; check repeat, each "
            "and blocks that use other blocks"
        )


def _size(value: Any) -> int:
    """How many values ``value`` holds, itself included (a mapping's keys counted too)."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            count += len(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def _repetitions(use: dict[str, Any]) -> int:
    """How often a use applies its block, as written (1 where a ``$param`` says)."""
    repeat = use.get("repeat", 1)
    each = use.get("each")
    if isinstance(each, dict) and each:
        lengths = [len(v) for v in each.values() if isinstance(v, list)]
        return max(1, min(lengths)) if lengths else 1
    if isinstance(repeat, int) and not isinstance(repeat, bool) and repeat > 0:
        return repeat
    return 1


def _substitute(value: Any, env: dict[str, Any]) -> tuple[Any, dict[tuple, Loc]]:
    """``value`` with ``$param`` strings replaced; where each replaced value came from."""
    sources: dict[tuple, Loc] = {}

    def sub(item: Any, path: tuple) -> Any:
        if isinstance(item, str):
            match = _PARAM.match(item)
            if match and match.group(1) in env:
                replaced, source = env[match.group(1)]
                if source is not None:
                    sources[path] = source
                return replaced
            return item
        if isinstance(item, dict):
            return {k: sub(v, (*path, k)) for k, v in item.items()}
        if isinstance(item, list):
            return [sub(v, (*path, j)) for j, v in enumerate(item)]
        return item

    return sub(value, ()), sources


def _param_paths(value: Any, env: dict[str, Any], path: tuple = ()) -> dict[tuple, str]:
    """The paths in ``value`` that are ``$param`` strings of ``env``, and the param's name."""
    if isinstance(value, str):
        match = _PARAM.match(value)
        return {path: match.group(1)} if match and match.group(1) in env else {}
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)  # type: ignore[assignment]  # (index, item) pairs, walked the same way as a dict's items
    else:
        return {}
    return {p: n for k, v in items for p, n in _param_paths(v, env, (*path, k)).items()}


def _relabel(entry: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    """A block layer's ``as`` and ``inputs`` in terms of the expansion's labels (a reference
    to an output by index, ``lstm.1``, keeps its index)."""
    entry = dict(entry)
    if isinstance(entry.get("as"), str) and entry["as"] in labels:
        entry["as"] = labels[entry["as"]]
    if isinstance(entry.get("inputs"), list):
        entry["inputs"] = [_label(ref, labels) for ref in entry["inputs"]]
    return entry


def _label(ref: Any, labels: dict[str, str]) -> Any:
    if not isinstance(ref, str):
        return ref
    if ref in labels:
        return labels[ref]
    base, dot, index = ref.rpartition(".")
    return f"{labels[base]}.{index}" if dot and index.isdigit() and base in labels else ref


def _takes_input(layers: list[Any]) -> bool:
    """Whether a block's layers name its input (``in``, or ``in.N``) anywhere."""
    return any(
        isinstance(ref, str) and ref.split(".")[0] == BLOCK_INPUT
        for layer in layers
        if isinstance(layer, dict) and isinstance(layer.get("inputs"), list)
        for ref in layer["inputs"]
    )


def _labels(layers: list[Any]) -> list[str]:
    return [x["as"] for x in layers if isinstance(x, dict) and isinstance(x.get("as"), str)]


def _one_input(inputs: Any) -> bool:
    """Whether a use's ``inputs`` names one input, as a block takes."""
    return isinstance(inputs, list) and len(inputs) == 1 and isinstance(inputs[0], str)


def _inner_env(
    params: dict[str, Any], given: dict[str, Any], env: dict[str, Any], loc: Loc
) -> dict[str, Any]:
    """A use's parameters as its block's layers see them: (value, where it was given), the
    block's default (located nowhere) for one not given."""
    inner_env: dict[str, Any] = {}
    for param, default in params.items():
        if param in given:
            value, sources = _substitute(given[param], env)
            inner_env[param] = (
                value,
                (*loc, param) if not sources else sources.get((), (*loc, param)),
            )
        else:
            inner_env[param] = (default, None)
    return inner_env


def _stated_params(block: dict) -> Any:
    """A block's params as written; a list of names (or none: the ``$names`` its layers
    use) becomes a mapping of each name to REQUIRED. Anything else is returned to refuse."""
    params = block.get("params")
    if params is None:  # the $names its layers use, all required
        params = sorted(
            {
                m.group(1)
                for _, v in _leaves(block.get("layers"), ())
                if isinstance(v, str) and (m := _PARAM.match(v))
            }
        )
    if isinstance(params, list) and all(isinstance(p, str) for p in params):
        params = dict.fromkeys(params, REQUIRED)
    elif isinstance(params, dict):  # `$required` in a mapping: a parameter without default
        params = {k: REQUIRED if v == REQUIRED_MARK else v for k, v in params.items()}
    return params


def _leaves(value: Any, loc: Loc) -> list[tuple[Loc, Any]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*loc, k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*loc, i))]
    return [(loc, value)]


def _chain(names: list[str]) -> str:
    """``a -> b -> a``; a long one shortened in the middle (a cycle of 3,000 blocks)."""
    if len(names) > 20:
        names = [*names[:8], f"... ({len(names) - 16} more)", *names[-8:]]
    return " -> ".join(names)


def _suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def uses_blocks(data: Any) -> bool:
    """Whether the spec defines or uses blocks (else expansion has nothing to do)."""
    if not isinstance(data, dict):
        return False
    model = data.get("model")
    layers = model.get("layers") if isinstance(model, dict) else None
    return (
        "blocks" in data
        or libraries.USE in data
        or (isinstance(layers, list) and any(isinstance(x, dict) and "block" in x for x in layers))
    )


def expand(loaded: Loaded) -> tuple[Loaded, list[Diagnostic]]:
    """The spec with every block use expanded (the blocks of the libraries it uses among
    its own), and the problems found doing it."""
    loaded, found = libraries.with_libraries(loaded)
    if found:
        return loaded, found
    if not uses_blocks(loaded.data):
        return loaded, []
    expander = _Expander(loaded)
    expander.read_blocks()
    model = loaded.data.get("model")
    layers = model.get("layers") if isinstance(model, dict) else None
    if not isinstance(layers, list):
        return loaded, expander.problems
    for table_old, table_new in (
        (expander.old.values, expander.new.values),
        (expander.old.keys, expander.new.keys),
    ):  # everything outside model.layers keeps its place
        for loc, pos in table_old.items():
            if loc[:2] != ("model", "layers") or len(loc) == 2:
                table_new[loc] = pos
    try:
        expander.check_size(layers)
        expander.layers(layers, ("model", "layers"), (), {}, {})
    except _TooBig as exc:
        expander.problem(exc.loc, exc.message())
        return loaded, expander.problems
    data = {k: v for k, v in loaded.data.items() if k != "blocks"}
    data["model"] = {**model, "layers": expander.out}
    return Loaded(
        data, expander.new, loaded.text, loaded.parts, loaded.overrides
    ), expander.problems


def to_yaml(data: dict[str, Any]) -> str:
    """An expanded spec as YAML, one layer a line, that reads back the same under YAML 1.2."""
    from specc.language.loader import dump_yaml

    def flow(value: Any) -> str:
        return dump_yaml(value, default_flow_style=True, width=10**9, sort_keys=False).strip()

    lines: list[str] = []
    for key, value in data.items():
        if key == "model" and isinstance(value, dict) and isinstance(value.get("layers"), list):
            lines.append("model:")
            for sub, item in value.items():
                if sub == "layers":
                    lines.append("  layers:")
                    lines += [f"    - {flow(layer)}" for layer in item]
                else:
                    lines.append(f"  {flow({sub: item})[1:-1]}")
        else:
            lines.append(dump_yaml({key: value}, sort_keys=False, width=88).rstrip())
    return "\n".join(lines) + "\n"
