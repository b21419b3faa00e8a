"""Spec -> standalone training script, through a Jinja template that writes formatted code.

Two steps, as in sqlc/datamodel-code-generator: :func:`render` returns ``{path: text}``
(pure, deterministic); :func:`write` or :func:`diff` then touch the disk.

Every value from a spec reaches the code as a Python literal (:func:`py`) or as a
:class:`Call` laid out by :func:`break_lines`; the environment's ``finalize`` refuses any other
string that is not an identifier, so a template cannot paste spec text raw even by mistake.

The output is already in the form ruff and black give code with their default settings
(line length 88, double quotes, magic trailing commas), so no formatter runs here and
``ruff format --check``/``black --check`` in a user's repo leave it alone. The fixed text
of the template is written formatted; the parts whose length depends on the spec (calls,
tuples, lists, assignments) are laid out by :func:`break_lines`, which follows the formatters'
rules for them. Emitted code is pure ASCII (other characters are escaped in literals), so
every tool measures a line's width the same way. Tests check all this with both tools.
"""

from __future__ import annotations

import builtins
import difflib
import keyword
import math
import os
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jinja2

from specc.analysis.arrays import DataArrays
from specc.analysis.graph import Graph, Source, to_snake_case
from specc.analysis.pipeline import Compiled
from specc.analysis.submodels import SubModel
from specc.backends import runtime
from specc.backends.arguments import (
    call_arguments,
    callback_arguments,
    layer_arguments,
    nested_arguments,
    optimizer_arguments,
    regularizer_call,
    stated,
)
from specc.errors import Diagnostic, SpecError
from specc.language.schema import FOLDER_DATASETS, DivideStep, PadStep, Regularizer, Training
from specc.layers import LayerSpec, OpSpec, constants, op_shapes
from specc.layers.custom import PluginLayer
from specc.layers.lookup import lookup_adapts
from specc.layers.preprocessing import adapted_at_train_time
from specc.terms.objects import KerasObject, PluginObject, loss_name
from specc.terms.user_code import is_plugin_path

LINE_LENGTH = 88
"""ruff's and black's default line length: what users' formatter checks expect."""
INDENT = "    "


class PyCode(str):
    """Text that is already safe Python (a rendered literal or laid-out code)."""


def string_literal(value: str) -> str:
    """A str literal in the formatters' quote style, ASCII only.

    Double quotes unless single quotes need fewer escapes (ruff's and black's rule);
    characters outside printable ASCII are escaped, so the literal's width is its length.

    >>> print(string_literal("it's"), string_literal('say "hi"'), string_literal("é\\n"))
    "it's" 'say "hi"' "\\xe9\\n"
    """
    quote = "'" if value.count('"') > value.count("'") else '"'
    out = []
    for char in value:
        if char in (quote, "\\"):
            out.append("\\" + char)
        elif char in "'\"":
            out.append(char)
        else:
            out.append(ascii(char)[1:-1])
    return quote + "".join(out) + quote


def float_literal(value: float) -> str:
    """A float as the formatters write it (``1e16``, not ``1e+16``); non-finite as a call.

    >>> float_literal(1e16), float_literal(0.001), float_literal(1e-05), float_literal(-math.inf)
    ('1e16', '0.001', '1e-05', 'float("-inf")')
    """
    if not math.isfinite(value):
        return f'float("{value}")'
    return repr(value).replace("e+", "e")


@dataclass(frozen=True)
class Call:
    """A call, tuple or list whose items may be split over lines.

    ``head`` is the callee (``keras.layers.Dense``), empty for a tuple or list literal;
    each item is ``(prefix, value)`` with prefix ``""`` (positional) or ``"key="``.
    """

    head: str
    items: tuple[tuple[str, PyCode | Call], ...] = ()
    brackets: str = "()"

    @property
    def one_tuple(self) -> bool:
        return not self.head and self.brackets == "()" and len(self.items) == 1

    def inner(self) -> str:
        text = ", ".join(prefix + str(value) for prefix, value in self.items)
        return text + "," if self.one_tuple else text

    def __str__(self) -> str:
        return f"{self.head}{self.brackets[0]}{self.inner()}{self.brackets[1]}"


Expr = PyCode | Call
Arg = Expr | tuple[str, Expr]
"""A call's argument: positional, or ``("key=", value)``."""
Tensors = dict[tuple[str, int], str | dict[int, str]]
"""A node -> the variable holding its output, or (unpacked) each output index -> its own."""


def break_lines(expr: Expr, depth: int = 0, lead: str = "", trail: str = "") -> list[str]:
    """The lines of ``lead + expr + trail`` at ``depth`` indents, as ruff/black split them.

    One line if it fits; else, for a call, the arguments on one line of their own between
    the brackets if that fits; else one item a line, each laid out in turn, with a
    trailing comma (none after a lone item: there is no delimiter to split at). Tuple
    and list literals skip the middle step, as the formatters do.

    >>> long = Call("f", (("", PyCode("1")), ("x=", PyCode("y" * 90))))
    >>> print("\\n".join(break_lines(Call("g", (("", long),)), trail=",")))
    g(
        f(
            1,
            x=yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy,
        )
    ),
    """
    pad = INDENT * depth
    line = f"{pad}{lead}{expr}{trail}"
    if not isinstance(expr, Call) or not expr.items or len(line) <= LINE_LENGTH:
        return [line]
    first = f"{pad}{lead}{expr.head}{expr.brackets[0]}"
    last = f"{pad}{expr.brackets[1]}{trail}"
    body = INDENT * (depth + 1) + expr.inner()
    if expr.head and len(body) <= LINE_LENGTH:  # never for a literal: those explode
        return [first, body, last]
    if len(expr.items) == 1 and not expr.one_tuple:
        ((prefix, value),) = expr.items
        return [first, *break_lines(value, depth + 1, prefix), last]
    lines = [first]
    for prefix, value in expr.items:
        lines += break_lines(value, depth + 1, prefix, ",")
    return [*lines, last]


def assignment_lines(target: str, expr: Expr, depth: int = 0) -> list[str]:
    """``target = expr`` as the formatters lay it out.

    A call or bracketed literal splits at its own brackets; a plain value that does not
    fit goes in parentheses on a line of its own, if it fits there (else it stays long).
    Plain values are what the template assigns: strings, None, booleans, non-negative
    numbers (black and ruff differ on a too-long negative one at depth > 0).
    """
    if isinstance(expr, Call):
        return break_lines(expr, depth, f"{target} = ")
    pad = INDENT * depth
    line = f"{pad}{target} = {expr}"
    alone = f"{pad}{INDENT}{expr}"
    if len(line) > LINE_LENGTH and len(alone) <= LINE_LENGTH:
        return [f"{pad}{target} = (", alone, f"{pad})"]
    return [line]


def as_expr(value: Any) -> Expr:
    """A spec value as an expression: tuples, lists and regularizers may split."""
    if isinstance(value, PyCode | Call):
        return value
    if isinstance(value, Regularizer):
        cls, kwargs = regularizer_call(value)
        items = tuple((f"{key}=", as_expr(v)) for key, v in kwargs.items())
        return Call(f"keras.regularizers.{cls}", items)
    if isinstance(value, PluginObject):  # the user's class, as plugins() found it
        return call(f"custom[{string_literal(value.type)}]", value.arguments())
    if isinstance(value, KerasObject):  # keras.losses.SparseCategoricalCrossentropy(...)
        return call(f"keras.{value.MODULE}.{value.type}", stated(value))
    if isinstance(value, LayerSpec):  # a layer inside another (a wrapper's, a nested model's)
        return layer_call(value, nested_arguments(value))
    if isinstance(value, dict):  # a loss or metrics per output name
        return Call(
            "", tuple((f"{string_literal(k)}: ", as_expr(v)) for k, v in value.items()), "{}"
        )
    if isinstance(value, tuple | list):
        brackets = "()" if isinstance(value, tuple) else "[]"
        return Call("", tuple(("", as_expr(v)) for v in value), brackets)
    if value is None or isinstance(value, bool | int):
        return PyCode(repr(value))
    if isinstance(value, float):
        return PyCode(float_literal(value))
    if isinstance(value, str):
        return PyCode(string_literal(value))
    raise TypeError(f"no Python literal for {type(value).__name__}")


def py(value: Any) -> PyCode:
    """A Python literal for a spec value, on one line.

    >>> py("it's \\"quoted\\"\\n")
    '\\'it\\\\\\'s "quoted"\\\\n\\''
    >>> py((3, 3)), py((784,)), py(None), py(0.001), py([28, 28, 1])
    ('(3, 3)', '(784,)', 'None', '0.001', '[28, 28, 1]')
    """
    return PyCode(str(as_expr(value)))


def one_int_for_all(value: Any) -> Any:
    """``(3, 3)`` as ``3``, and padding ``((1, 1), (2, 2))`` as ``(1, 2)``: inner pairs first.

    Only equal ints collapse: ``((1, 2), (1, 2))`` is not ``(1, 2)`` to Keras.

    >>> one_int_for_all((3, 3)), one_int_for_all(((1, 1), (2, 2))), one_int_for_all(((1, 1),) * 2)
    (3, (1, 2), 1)
    >>> one_int_for_all(((1, 2), (1, 2))), one_int_for_all(((1, 2), (3, 3)))
    (((1, 2), (1, 2)), ((1, 2), 3))
    """
    if isinstance(value, tuple):
        value = tuple(one_int_for_all(v) for v in value)
        if len(set(value)) == 1 and isinstance(value[0], int):
            return value[0]
    return value


def call(
    head: str,
    args: dict[str, Any],
    positional: tuple[str, ...] = (),
    int_for_all_axes: frozenset[str] = frozenset(),
) -> Call:
    """``head(...)`` with ``args``: the leading ones named in ``positional`` by position.

    Arguments in ``int_for_all_axes`` (Keras takes one int for every axis) are written as
    people write them, ``3`` for ``(3, 3)``; a shape such as ``(784,)`` stays a tuple.
    """
    items: list[tuple[str, Expr]] = []
    for key, value in args.items():
        if key in int_for_all_axes:
            value = one_int_for_all(value)
        after_keyword = bool(items) and items[-1][0] != ""
        by_position = not after_keyword and positional[len(items) : len(items) + 1] == (key,)
        items.append(("" if by_position else f"{key}=", as_expr(value)))
    return Call(head, tuple(items))


def layer_call(spec: LayerSpec, args: dict[str, Any]) -> Call:
    """How a careful person writes a layer in Keras: its catalog declaration says which
    arguments go by position and which take one int for every axis."""
    if isinstance(spec, PluginLayer):  # the user's class, as plugins() found it
        return call(f"custom[{string_literal(spec.path)}]", args)
    return call(f"keras.{spec.KERAS_PATH}", args, spec.POSITIONAL, spec.INT_OR_TUPLE)


def plugin_paths(compiled: Compiled, *, layers_only: bool = False) -> list[str]:
    """The dotted paths of the user's objects the spec uses (``--plugin``), sorted."""
    found: set[str] = set()

    def walk(spec: LayerSpec) -> None:
        if isinstance(spec, PluginLayer):
            found.add(spec.path)
        else:  # the user's objects among its arguments (a custom regularizer)
            found.update(_plugin_objects([getattr(spec, key) for key in type(spec).model_fields]))
        for inner in spec.sublayers():
            walk(inner)

    graph = compiled.graph
    for layer in graph.made or graph.layers:
        walk(layer.spec)
    if compiled.spec.compile is not None and not layers_only:
        for key in ("loss", "metrics", "weighted_metrics"):
            found.update(_plugin_names(getattr(compiled.spec.compile, key)))
    return sorted(found)


def _plugin_objects(value: Any) -> list[str]:
    """The dotted paths of the ``{type: module.Class, ...}`` objects in a layer's arguments
    (plain strings there are file names and the like, never plugins)."""
    if isinstance(value, PluginObject):
        return [value.type, *_plugin_objects(list(value.arguments().values()))]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _plugin_objects(v)]
    if isinstance(value, list | tuple):
        return [n for v in value for n in _plugin_objects(v)]
    return []


def _plugin_names(value: Any) -> list[str]:
    if isinstance(value, PluginObject):
        return [value.type, *_plugin_names(list(value.arguments().values()))]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _plugin_names(v)]
    if isinstance(value, list | tuple):
        return [n for v in value for n in _plugin_names(v)]
    return [value] if is_plugin_path(value) else []


def plugin_function(
    compiled: Compiled, out_dir: str | os.PathLike[str], files: dict[str, Path]
) -> str | None:
    """``plugins()``: the user's classes and functions the spec names, imported (a plugin
    file loaded by its path relative to the script) and registered with Keras by their
    registered names, so the model.keras the script saves loads again where they import."""
    paths = plugin_paths(compiled)
    if not paths:
        return None
    lines = [
        "def plugins() -> dict[str, Any]:",
        f'{INDENT}"""The spec\'s own Python (specc --plugin), by the names the spec gives, each',
        f'{INDENT}registered with Keras so that a saved model loads again where it imports."""',
        f"{INDENT}import keras",
        "",
        f"{INDENT}found = {{}}",
    ]
    modules: dict[str, list[str]] = {}
    for path in paths:
        module, name = path.rsplit(".", 1)
        modules.setdefault(module, []).append(name)
    for module, names in sorted(modules.items()):
        if module in files:
            file = os.path.relpath(files[module].resolve(), Path(out_dir).resolve())
            made = Call(
                "load_plugin_file", (("", as_expr(module)), ("", as_expr(Path(file).as_posix())))
            )
        else:
            made = Call("importlib.import_module", (("", as_expr(module)),))
        lines += assignment_lines("module", made, 1)
        for name in names:
            lines += assignment_lines(
                f"found[{string_literal(f'{module}.{name}')}]", PyCode(f"module.{name}"), 1
            )
    lines += [
        f"{INDENT}for obj in found.values():",
        f"{INDENT * 2}keras.saving.get_custom_objects()[keras.saving.get_registered_name(obj)] = obj",
        f"{INDENT}return found",
    ]
    return "\n".join(lines)


def applied_lines(callee: Expr, args: tuple[Arg, ...], depth: int, lead: str = "") -> list[str]:
    """``lead + callee(args)`` (a layer made and called at once) as ruff/black lay it out.

    The formatters split at the last bracket first, the call's, if the line up to it
    fits (``x = keras.layers.Add(name="add")(`` then ``[a, b]``); else at the
    constructor's brackets, keeping ``)(x)`` on the closing line if that fits; else at
    both.

    >>> dense = Call("keras.layers.Dense", (("", PyCode("8")), ("name=", py("d" * 60))))
    >>> print("\\n".join(applied_lines(dense, (PyCode("x"),), 1, "x = ")))
        x = keras.layers.Dense(
            8, name="dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
        )(x)
    """
    pad = INDENT * depth
    trailer = Call(str(callee), tuple(arg if isinstance(arg, tuple) else ("", arg) for arg in args))
    if len(f"{pad}{lead}{trailer}") <= LINE_LENGTH:
        return [f"{pad}{lead}{trailer}"]
    if len(f"{pad}{lead}{callee}(") <= LINE_LENGTH or not isinstance(callee, Call):
        return break_lines(trailer, depth, lead)
    rest = f"({trailer.inner()})"
    if len(f"{pad}){rest}") <= LINE_LENGTH:
        lines = break_lines(callee, depth, lead, rest)
        if len(lines[0]) <= LINE_LENGTH:
            return lines
    return [*break_lines(callee, depth, lead, "("), *break_lines(trailer, depth, lead)[1:]]


RESERVED_NAMES = (
    frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))
)
"""Names a tensor variable never takes: Python's own (besides those build_model uses)."""


class _Names:
    """Variable names for build_model(): each unique, an identifier, none of Python's."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(RESERVED_NAMES) | taken

    def fresh(self, base: str) -> str:
        name = re.sub(r"\W", "_", base)
        if not name.isidentifier():
            name = f"_{name}"
        candidate, n = name, 2
        while candidate in self.taken:
            candidate, n = f"{name}_{n}", n + 1
        self.taken.add(candidate)
        return candidate


def _written_labels(compiled: Compiled) -> Literal[False] | set[str]:
    """The ``as`` labels the spec writes in ``model.layers``, if it uses blocks (whose
    expansion makes labels up, ``res_1__2__in``); False if every label is written."""
    from specc.language import blocks

    data = compiled.written().data
    if not blocks.uses_blocks(data):
        return False
    layers = data["model"]["layers"]
    return {e["as"] for e in layers if isinstance(e, dict) and isinstance(e.get("as"), str)}


SCRIPT_GLOBALS = frozenset({
    "argparse", "json", "math", "os", "stat", "tempfile", "time", "Path", "TYPE_CHECKING",
    "np", "keras", "annotations", "load_data", "preprocess_x", "preprocess_y", "build_model",
    "adapt_normalization", "data_reaching", "on_gpu", "compile_model", "make_callbacks",
    "progress_bar", "check_sample_counts", "write_atomic", "finite", "json_text",
    "write_json", "plot_history", "main", "NAME", "DESCRIPTION", "DATASET", "DATA_PATH",
    "INPUT_SHAPE", "EPOCHS", "BATCH_SIZE", "VALIDATION_SPLIT", "SHUFFLE", "SEED",
    "JIT_COMPILE", "STEPS_PER_EXECUTION", "INPUTS", "OUTPUTS", "KEYS", "arrays", "take",
    "samples", "weights_file", "fine_tune", "WEIGHTS_DIR", "FINE_TUNE_BASE", "UNFREEZE_AT",
    "FINE_TUNE_EPOCHS", "FINE_TUNE_LEARNING_RATE",
    "INPUT_COLUMNS", "COLUMN_TYPES",
})  # fmt: skip
"""Module-level names of the script: a block's function takes none of them."""


@dataclass(frozen=True)
class _Segment:
    """The calls one use (one repetition) of a block makes: ``first`` to ``last``."""

    block: str
    first: int
    last: int


@dataclass
class _Plan:
    """How a graph with blocks is written: a function per block, called per use."""

    segments: dict[int, _Segment]
    params: dict[int, dict[str, str]]
    """call index -> {argument: the block param whose value it is}."""


def _block_plan(compiled: Compiled) -> _Plan | None:
    """Each use of a block as one call of a function, where the code can say so plainly:
    blocks used directly in ``model.layers`` (not inside another block), each use taking
    one tensor and giving one (its last layer's), no shared or multi-output layers inside,
    and every ``$param`` a whole argument. None otherwise: the layers are then written
    out, as blocks are expanded."""
    from specc.language import blocks

    loaded = compiled.written()
    if not blocks.uses_blocks(loaded.data):
        return None
    source = blocks.expand(loaded)[0].source
    if not isinstance(source, blocks.ExpandedSource):
        return None
    graph = compiled.graph
    calls = graph.calls
    times = {c.layer: sum(d.layer == c.layer for d in calls) for c in calls}
    groups: dict[tuple, list[int]] = {}
    params: dict[int, dict[str, str]] = {}
    for k, call in enumerate(calls):
        loc = ("model", "layers", call.entry)
        _, uses = source.origins.get(loc, ((), ()))
        if not uses:
            continue
        if len(uses) > 1 or times[call.layer] > 1 or isinstance(call.output_shape, list):
            return None
        paths = source.params.get(loc, {})
        if any(len(path) != 1 for path in paths):
            return None
        params[k] = {str(path[0]): name for path, name in paths.items()}
        groups.setdefault((uses[0].loc, uses[0].repetition, uses[0].block), []).append(k)
    segments: dict[int, _Segment] = {}
    for (_, _, block), ks in groups.items():
        if ks != list(range(ks[0], ks[-1] + 1)):
            return None
        segments[ks[0]] = _Segment(block, ks[0], ks[-1])
    for seg in segments.values():
        inside = {(calls[k].layer, calls[k].node) for k in range(seg.first, seg.last + 1)}
        taken = {
            (s[0], s[1])
            for k in range(seg.first, seg.last + 1)
            for s in calls[k].sources
            if (s[0], s[1]) not in inside
        }
        last = (calls[seg.last].layer, calls[seg.last].node)
        used_outside = {
            (s[0], s[1])
            for k, c in enumerate(calls)
            if not seg.first <= k <= seg.last
            for s in c.sources
        } | {(s[0], s[1]) for s in graph.outputs}
        if len(taken) != 1 or (inside & used_outside) - {last}:
            return None
    return _Plan(segments, params)


class _Flat(Exception):
    """Blocks cannot be written as functions after all (uses that differ): the graph is
    written out call by call instead."""


def graph_build_model(
    compiled: Compiled, model_name: PyCode, depth: int = 1, *, functions: bool = True
) -> tuple[list[str], list[str]]:
    """Block functions and the body of build_model() for a graph spec: Keras' functional
    API as people write it.

    One ``keras.Input`` per input (``inputs`` when there is one), then each layer made and
    called in the spec's order (its node indices and weights' draw order are Keras' own):
    ``x`` carries a tensor that only the next call takes; a tensor used again later (a
    branch, a skip connection, a model output) gets a name of its own (its ``as`` label or
    the layer's name); a layer called more than once is made once, as a variable; a layer
    with several outputs is unpacked. Every layer gets its resolved name, as in a stack;
    but where blocks become functions (one per block, called per use and repetition),
    layers keep Keras' automatic names (a function's layers cannot each be named
    in the code), which equal specc's for a model built in a fresh session, as the
    script's is: expansion keeps Keras' construction order.
    """
    plan = _block_plan(compiled) if functions else None
    try:
        return _GraphCode(compiled, model_name, depth, plan).write()
    except _Flat:
        return _GraphCode(compiled, model_name, depth, None).write()


def _signature(name: str, params: list[str]) -> list[str]:
    """``def name(params):`` as ruff formats it: one line, else the parameters on their
    own line, else one per line with a trailing comma."""
    line = f"def {name}({', '.join(params)}):"
    if len(line) <= LINE_LENGTH:
        return [line]
    inner = f"{INDENT}{', '.join(params)}"
    if len(inner) <= LINE_LENGTH:
        return [f"def {name}(", inner, "):"]
    return [f"def {name}(", *(f"{INDENT}{p}," for p in params), "):"]


class _GraphCode:
    """The writing of one graph's build_model(): the facts every step needs (who uses which
    tensor, the names taken) and one method per step, each testable alone."""

    def __init__(
        self,
        compiled: Compiled,
        model_name: PyCode,
        depth: int,
        plan: _Plan | None,
        sub: SubModel | None = None,
    ) -> None:
        self.sub = sub
        """The sub-model this writes the function of (None: the spec's model)."""
        self.builders = _builder_names(compiled.graph)
        graph = self.graph = compiled.graph
        self.calls = calls = graph.calls
        self.entries = compiled.spec.model.layers
        given = compiled.spec.model.outputs
        self.output_order = list(given) if isinstance(given, dict) else []
        """A mapping of outputs' keys as the spec writes them (the dict is written so)."""
        self.model_name = model_name
        self.depth = depth
        self.plan = plan
        self.defined: dict[str, list[str]] = {}
        """Each block's function, as written (a second use must write the same)."""
        self.names = _Names({"keras", "x", "inputs", "NAME", "INPUT_SHAPE"})
        self.function_name: dict[str, str] = {}
        for seg in plan.segments.values() if plan is not None else ():
            if seg.block not in self.function_name:
                taken = seg.block in SCRIPT_GLOBALS or seg.block in self.names.taken
                self.function_name[seg.block] = self.names.fresh(
                    f"{seg.block}_block" if taken else seg.block
                )
        self.written = _written_labels(compiled)
        self.made = {layer.name: layer for layer in graph.made}
        self.times = {name: sum(c.layer == name for c in calls) for name in self.made}
        self.users: dict[tuple[str, int], list[tuple[int, Source]]] = {}
        for k, call in enumerate(calls):
            for source in call.sources:
                self.users.setdefault((source[0], source[1]), []).append((k, source))
        self.outputs = {(s[0], s[1]) for s in graph.outputs}
        self.whole = {(s[0], s[1]) for s in graph.outputs if s[2] is None}
        self.statement_of = list(range(len(calls)))
        """The call whose statement runs call k: a block's first call for all its calls."""
        if plan is not None:
            for seg in plan.segments.values():
                for k in range(seg.first, seg.last + 1):
                    self.statement_of[k] = seg.first
        self.tensors: Tensors = {}
        """A node's variable, or its outputs' variables by index (unpacked)."""
        self.shared: dict[str, str] = {}
        """The variable of each layer called more than once (made once)."""
        self.named_ops = self.ops_to_name()
        """The operations whose automatic name in the script would not be theirs."""

    def ops_to_name(self) -> set[str]:
        """The operations the script must name: those the spec names, and those whose
        automatic name (from the counters Keras shares between layers and operations)
        would differ from the graph's. Layers are constructed with their names, so only
        the layers in block functions and the unnamed layers made inside layers
        (MultiHeadAttention's ``softmax``) move the counters."""
        counters: dict[str, int] = {}
        in_function = {
            k
            for seg in (self.plan.segments.values() if self.plan is not None else ())
            for k in range(seg.first, seg.last + 1)
        }
        named: set[str] = set()
        for k, call in enumerate(self.calls):
            layer = self.made[call.layer]
            if call.node:
                continue
            if isinstance(layer.spec, OpSpec):
                if layer.spec.name is not None or _take_name(layer.type, counters) != call.layer:
                    named.add(call.layer)
                continue
            _count_names(layer.spec, counters, automatic=k in in_function)
        return named

    def op_lines(
        self, k: int, tensors: Tensors, params: dict[str, str], depth: int, lead: str
    ) -> list[str]:
        """Call ``k``'s operation as code writes it: ``x + y``, ``keras.ops.relu6(x)``; an
        operation that needs a name made from its Keras class with it."""
        op = self.made[self.calls[k].layer]
        spec = op.spec
        assert isinstance(spec, OpSpec)
        given = iter(self.arguments(k, tensors))
        operands: list[Expr] = [
            next(given)  # type: ignore[misc]  # an op's arguments are its tensors, positional
            if value is None
            else PyCode(params["value"])
            if "value" in params
            else _constant_expr(value)
            for value in spec.operands
        ]
        kwargs = {
            key: PyCode(params[key]) if key in params else value
            for key, value in spec.keyword_arguments().items()
        }
        if spec.LISTED:  # keras.ops.concatenate([a, b], axis=-1)
            operands = [Call("", tuple(("", o) for o in operands), "[]")]
        trailing = [PyCode(repr(v)) for v in spec.trailing_arguments()]  # get_item's key
        if op.name in self.named_ops:
            kwargs["name"] = op.name
            ctor = call(f"keras.src.ops.{spec.MODULE}.{spec.type}", kwargs, spec.POSITIONAL)
            return applied_lines(ctor, (*operands, *trailing), depth, lead)
        text = _operator_text(spec, operands) if not kwargs else ""
        if text and len(f"{INDENT * depth}{lead}{text}") <= LINE_LENGTH:
            return [f"{INDENT * depth}{lead}{text}"]
        leading = [as_expr(kwargs.pop(key)) for key in spec.LEADING]  # einsum(subscripts, ...)
        head = call(f"keras.ops.{spec.FUNCTION}", kwargs, spec.POSITIONAL)
        items = (*(("", o) for o in [*leading, *operands, *trailing]), *head.items)
        return break_lines(Call(head.head, items), depth, lead)

    def write(self) -> tuple[list[str], list[str]]:
        """The block functions' lines and build_model()'s body; _Flat when a block's uses
        cannot share one function."""
        lines = self.input_lines()
        k = 0
        while k < len(self.calls):
            if self.plan is not None and k in self.plan.segments:
                seg = self.plan.segments[k]
                lines += self.block_call_lines(seg)
                k = seg.last + 1
            else:
                lines += self.call_lines(k)
                k += 1
        block_lines = [line for text in self.defined.values() for line in (*text, "", "")]
        return block_lines, [*lines, "", *self.model_lines()]

    def constructor(self, k: int, params: dict[str, str]) -> Call:
        """Call ``k``'s layer made: its arguments, or a block function's params' variables."""
        layer = self.made[self.calls[k].layer]
        if isinstance(layer.spec, SubModel):  # built by its own function
            return Call(self.builders[layer.name], ())
        if self.plan is None:
            return layer_call(layer.spec, layer_arguments(layer))
        args = layer_arguments(layer, inner_names=False)
        if layer.spec.name is None:
            del args["name"]
        args = {key: PyCode(params[key]) if key in params else v for key, v in args.items()}
        return layer_call(layer.spec, args)

    def arguments(self, k: int, tensors: Tensors) -> tuple[Arg, ...]:
        """What call ``k`` is applied to, as the layer takes it (a list, initial_state=)."""

        def expr(source: Source) -> str:
            var, index = tensors[(source[0], source[1])], source[2]
            if isinstance(var, dict):  # unpacked: every use names an index
                assert index is not None, source  # a whole use keeps the node packed
                return var[index]
            return var if index is None else f"{var}[{index}]"

        args = [PyCode(expr(s)) for s in self.calls[k].sources]
        layer = self.made[self.calls[k].layer]
        training = getattr(layer.spec, "call_training", None)
        if training is not None:  # base_model(x, training=False), as specc's builder calls it
            given = args[0] if len(args) == 1 else Call("", tuple(("", a) for a in args), "[]")
            return (given, ("training=", PyCode(repr(training))))
        if layer.spec.CALL == "positional" or len(args) == 1:
            keywords = call_arguments(layer.spec)  # use_causal_mask=True
            return (*args, *((f"{k}=", as_expr(v)) for k, v in keywords.items()))
        if layer.spec.CALL == "states":  # the sequence, then initial_state=[h(, c)]
            return (args[0], ("initial_state=", Call("", tuple(("", a) for a in args[1:]), "[]")))
        return (Call("", tuple(("", a) for a in args), "[]"),)  # merging layers, Attention

    def target(self, k: int, base: str, scope: _Names, following: int, outside: bool) -> str:
        """Where call ``k``'s output goes: ``x``, a name, or nowhere."""
        calls, graph = self.calls, self.graph
        node = (calls[k].layer, calls[k].node)
        used = [self.statement_of[u] if outside else u for u, _ in self.users.get(node, [])]
        if not used and (node not in self.outputs or not outside):
            return ""  # feeds nothing: made (its weights drawn) as the spec makes it
        if all(u == following for u in used) and (
            node not in self.outputs
            or not outside
            or (following == len(calls) and len(graph.outputs) == 1)
        ):
            return "x"
        return scope.fresh(base)

    def base_name(self, k: int) -> str:
        """The name call ``k``'s output would get: its label, else its layer's name."""
        call = self.calls[k]
        entry = self.entries[call.entry]
        label = entry.label if isinstance(entry, LayerSpec) else entry.as_
        if label is not None and self.written is not False and label not in self.written:
            label = None  # made up by block expansion: the layer's name reads better
        if self.times[call.layer] == 1:
            return label or call.layer
        return label or f"{call.layer}_out{call.node or ''}"

    def _outer(self, seg: _Segment) -> tuple[str, int]:
        """The one node a block's calls take from outside it."""
        calls = self.calls
        inside = {(calls[k].layer, calls[k].node) for k in range(seg.first, seg.last + 1)}
        (outer,) = {
            (s[0], s[1]) for k in range(seg.first, seg.last + 1) for s in calls[k].sources
        } - inside
        return outer

    def function(self, seg: _Segment) -> tuple[list[str], dict[str, str]]:
        """A block's function (its lines) and its params' variables, in order."""
        plan, calls = self.plan, self.calls
        assert plan is not None
        scope = _Names({"keras", "x", "inputs"})
        variables: dict[str, str] = {}
        for k in range(seg.first, seg.last + 1):
            for param in plan.params[k].values():
                if param not in variables:
                    variables[param] = scope.fresh(param)
        tensors: Tensors = {self._outer(seg): "inputs"}
        body: list[str] = []
        for k in range(seg.first, seg.last + 1):
            params = {a: variables[p] for a, p in plan.params[k].items()}
            to = "" if k == seg.last else self.target(k, self.base_name(k), scope, k + 1, False)
            lead = "return " if k == seg.last else f"{to} = " if to else ""
            if isinstance(self.made[calls[k].layer].spec, OpSpec):
                if calls[k].layer in self.named_ops:  # each use would need its own name
                    raise _Flat
                if to:
                    tensors[(calls[k].layer, calls[k].node)] = to
                body += self.op_lines(k, tensors, params, 1, lead)
                continue
            ctor = self.constructor(k, params)
            if to:
                tensors[(calls[k].layer, calls[k].node)] = to
            body += applied_lines(ctor, self.arguments(k, tensors), 1, lead)
        head = _signature(self.function_name[seg.block], ["inputs", *variables.values()])
        doc = f'{INDENT}"""Block {seg.block} of the spec: one call per use (and repetition)."""'
        return [*head, doc, f"{INDENT}import keras", "", *body], variables

    def input_lines(self) -> list[str]:
        """One ``keras.Input`` per input (``inputs`` = ... when there is one)."""
        graph, lines = self.graph, []
        for given in graph.inputs:
            var = "inputs" if len(graph.inputs) == 1 else self.names.fresh(given.name)
            one = len(graph.inputs) == 1 and self.sub is None  # the script's INPUT_SHAPE
            shape = PyCode("INPUT_SHAPE") if one else as_expr(given.shape[1:])
            dtype = (("dtype=", as_expr(given.dtype)),) if given.dtype != "float32" else ()
            items = (("shape=", shape), *dtype, ("name=", as_expr(given.name)))
            lines += assignment_lines(var, Call("keras.Input", items), self.depth)
            self.tensors[(given.name, 0)] = var
        lines.append("")
        return lines

    def block_values(self, seg: _Segment) -> dict[str, Any]:
        """This use's value of each of the block's params; _Flat when one param would take
        two values (the layers differ where the block's text is the same)."""
        assert self.plan is not None
        values: dict[str, Any] = {}
        for j in range(seg.first, seg.last + 1):
            layer = self.made[self.calls[j].layer]
            args = layer_arguments(layer)
            for key, param in self.plan.params[j].items():
                value = args[key]
                if key in layer.spec.INT_OR_TUPLE:
                    value = one_int_for_all(value)
                if values.setdefault(param, value) != value:
                    raise _Flat
        return values

    def block_call_lines(self, seg: _Segment) -> list[str]:
        """A block use (or repetition) as one call of its function."""
        text, variables = self.function(seg)
        if self.defined.setdefault(seg.block, text) != text:
            raise _Flat
        values = self.block_values(seg)
        source = self.tensors[self._outer(seg)]
        if not isinstance(source, str):  # an output of several: written out instead
            raise _Flat
        to = self.target(seg.last, self.base_name(seg.last), self.names, seg.last + 1, True)
        if to:
            self.tensors[(self.calls[seg.last].layer, self.calls[seg.last].node)] = to
        items = (
            ("", PyCode(source)),
            *((f"{var}=", as_expr(values[p])) for p, var in variables.items()),
        )
        call_expr = Call(self.function_name[seg.block], items)
        return break_lines(call_expr, self.depth, f"{to} = " if to else "")

    def call_lines(self, k: int) -> list[str]:
        """Call ``k`` outside any block function: its layer made (once, when shared) and
        applied, its output put in ``x``, a name, or unpacked."""
        call, names = self.calls[k], self.names
        node = (call.layer, call.node)
        base = self.base_name(k)
        lines: list[str] = []
        operation = isinstance(self.made[call.layer].spec, OpSpec)
        ctor: Expr = PyCode("") if operation else self.constructor(k, {})
        if self.times[call.layer] > 1:
            if call.layer not in self.shared:
                self.shared[call.layer] = names.fresh(call.layer)
                lines += assignment_lines(self.shared[call.layer], ctor, self.depth)
            ctor = PyCode(self.shared[call.layer])
        used = self.users.get(node, [])
        if isinstance(call.output_shape, list):  # several outputs: unpacked, or indexed
            if node in self.whole or any(s[2] is None for _, s in used):
                to = names.fresh(base)
                self.tensors[node] = to
            else:
                wanted = {s[2] for _, s in used} | {
                    s[2] for s in self.graph.outputs if (s[0], s[1]) == node
                }
                parts = {i: names.fresh(f"{base}_out{i}") for i in sorted(wanted)}  # type: ignore[type-var]  # wanted holds ints here (a multi-output layer's indices)
                self.tensors[node] = parts  # type: ignore[assignment]  # a multi-output node maps to a dict of names
                to = ", ".join(parts.get(i, "_") for i in range(len(call.output_shape)))
        else:
            to = self.target(k, base, names, k + 1, True)
            if to:
                self.tensors[node] = to
        if operation:
            return self.op_lines(k, self.tensors, {}, self.depth, f"{to} = " if to else "")
        args = self.arguments(k, self.tensors)
        return lines + applied_lines(ctor, args, self.depth, f"{to} = " if to else "")

    def model_lines(self) -> list[str]:
        """``return keras.Model(inputs=..., outputs=..., name=...)``."""
        graph, tensors = self.graph, self.tensors
        several = {(c.layer, c.node) for c in self.calls if isinstance(c.output_shape, list)}

        def out_expr(s: Source) -> PyCode:
            var = tensors[(s[0], s[1])]
            if isinstance(var, dict):
                return PyCode(var[s[2]])  # type: ignore[index]  # s[2] is the output index of a multi-output source
            if s[2] is None:
                return PyCode(f"*{var}" if (s[0], s[1]) in several else var)
            return PyCode(f"{var}[{s[2]}]")

        out = [out_expr(s) for s in graph.outputs]
        inputs = [PyCode(str(tensors[(given.name, 0)])) for given in graph.inputs]
        outputs: Expr = (
            out[0] if len(out) == 1 and not str(out[0]).startswith("*")
            else Call("", tuple(("", o) for o in out), "[]")
        )  # fmt: skip
        if graph.output_keys:  # outputs: {name: layer}, in the spec's order
            by_key = dict(zip(graph.output_keys, out, strict=True))
            order = self.output_order or list(by_key)
            outputs = Call("", tuple((f"{py(k)}: ", by_key[k]) for k in order), "{}")
        model = Call("keras.Model", (
            ("inputs=", inputs[0] if len(inputs) == 1 else Call("", tuple(("", i) for i in inputs), "[]")),
            ("outputs=", outputs),
            ("name=", self.model_name),
        ))  # fmt: skip
        return _returned(model, self.depth, self.sub)


def _returned(model: Expr, depth: int, sub: SubModel | None) -> list[str]:
    """``return model``; a sub-model's weights file loaded (as specc's builder loads it,
    from the folder :func:`weights_file` looks in), then a frozen one's ``trainable`` set
    to False."""
    loads = sub is not None and sub.application is None and _weights_file(sub) is not None
    if sub is None or (sub.trainable and not loads):
        return break_lines(model, depth, "return ")
    pad = INDENT * depth
    return [
        *break_lines(model, depth, "model = "),
        *([f"{pad}model.load_weights(weights_file({py(sub.weights)}))"] if loads else []),
        *([f"{pad}model.trainable = False"] if not sub.trainable else []),
        f"{pad}return model",
    ]


def _weights_file(sub: SubModel) -> str | None:
    """The weights file a sub-model names (relative to the spec's folder), None for none
    or ``imagenet`` (Keras' own)."""
    return sub.weights if sub.weights not in (None, "imagenet") else None


def weights_files(compiled: Compiled) -> list[str]:
    """The weights files the spec's sub-models and backbones load, in build order."""
    if not compiled.graph.functional:
        return []
    found = (_weights_file(sub) for sub in _sub_models(compiled.graph))
    return list(dict.fromkeys(f for f in found if f is not None))


def _sub_models(graph: Graph) -> list[SubModel]:
    """The sub-models a graph builds, those inside them first, each once (equal ones
    once: compared only with those of the same name and inner names, as a scan of the
    whole list made 2,047 copies cost 12 s)."""
    out: list[SubModel] = []
    by_name: dict[tuple, list[SubModel]] = {}

    def add(sub: SubModel) -> None:
        inside = tuple(layer.name for layer in sub.graph.layers) if sub.graph else ()
        same = by_name.setdefault((sub.name, sub.key, inside), [])
        if not any(sub is s for s in same) and sub not in same:
            same.append(sub)
            out.append(sub)

    def walk(graph: Graph) -> None:
        for layer in graph.made or graph.layers:
            if isinstance(layer.spec, SubModel) and layer.spec.graph is not None:
                if layer.spec.application is None:  # a keras.applications call holds its own
                    walk(layer.spec.graph)
                add(layer.spec)

    walk(graph)
    return out


def _builder_names(graph: Graph) -> dict[str, str]:
    """Each sub-model's function name, ``build_<name>`` (clear of the script's names)."""
    names: dict[str, str] = {}
    for sub in _sub_models(graph):
        base = re.sub(r"\W", "_", f"build_{sub.name}")  # mobilenetv2_1.00_160: no identifier
        while base in SCRIPT_GLOBALS or base in names.values():
            base += "_model"
        names[sub.name or ""] = base
    return names


def sub_model_functions(compiled: Compiled) -> list[str]:
    """One function per sub-model, as a person factors it out: ``def build_tower()``."""
    lines: list[str] = []
    names = _builder_names(compiled.graph)
    for sub in _sub_models(compiled.graph):
        assert sub.graph is not None and sub.definition is not None
        inner = Compiled(sub.definition, sub.graph, compiled.file, "", loaded=compiled.written())
        if sub.application is not None:  # as a user writes it, so weights files work
            name, arguments = sub.application
            if _weights_file(sub) is not None:  # looked up where the script says
                arguments = {**arguments, "weights": PyCode(f"weights_file({py(sub.weights)})")}
            counted = {k: n for k, n in sorted(sub._counters.items()) if n > 0}
            body = (
                [
                    f"{INDENT}# Keras names the application's unnamed layers (its input) by its",
                    f"{INDENT}# counters: on from the names the layers above it take in the summary.",
                    f"{INDENT}state = keras.src.backend.common.global_state",
                    f"{INDENT}counters = state.get_global_attribute(",
                    f'{INDENT * 2}"object_name_uids", default=collections.defaultdict(int), '
                    "set_to_default=True",
                    f"{INDENT})",
                    *assignment_lines("counted", as_expr(counted), 1),
                    f"{INDENT}for prefix, n in counted.items():",
                    f"{INDENT * 2}counters[prefix] = max(counters[prefix], n)",
                    *_returned(call(f"keras.applications.{name}", arguments), 1, sub),
                ]
                if counted
                else _returned(call(f"keras.applications.{name}", arguments), 1, sub)
            )
        elif sub.graph.functional:
            body = _GraphCode(inner, py(sub.name), 1, None, sub).write()[1]
        else:
            given = sub.definition.model.input
            first = Call("keras.Input", (
                ("shape=", as_expr(tuple(given.shape))),
                *((("dtype=", as_expr(given.dtype)),) if given.dtype != "float32" else ()),
                ("name=", as_expr(sub.graph.input_name)),
            ))  # fmt: skip
            layers = [layer_call(layer.spec, layer_arguments(layer)) for layer in sub.graph.layers]
            items = tuple(("", e) for e in (first, *layers))
            model = Call("keras.Sequential", (("", Call("", items, "[]")), ("name=", py(sub.name))))
            body = _returned(model, 1, sub)
        kind = "Model" if sub.graph.functional else sub.type  # keras.Model or keras.Sequential
        lines += [
            f"def {names[sub.name or '']}() -> keras.{kind}:",
            f'{INDENT}"""Sub-model {sub.key} of the spec (models.{sub.key}), built where it is first used."""'
            if sub.application is None
            else f'{INDENT}"""keras.applications.{sub.key}: the spec\'s backbone, built where it is used."""',
            f"{INDENT}import keras",
            "",
            *body,
            "",
            "",
        ]
    return lines


_SIMPLE = re.compile(r"-?[A-Za-z0-9_.]+")
"""A power's operand ruff and black write without spaces (``x**2``, ``x**-1``)."""


def _constant_expr(value: Any) -> Expr:
    """A constant operand: a number's literal, an array made as Keras records it
    (``keras.ops.convert_to_tensor([...])``, ``np.array([...])``)."""
    array = constants.as_array(value)
    if array is None:
        return as_expr(value)
    head = "np.array" if array.numpy else "keras.ops.convert_to_tensor"
    items: tuple[tuple[str, PyCode | Call], ...] = (("", as_expr(array.values)),)
    if array.dtype != constants.default_dtype(array.values, array.numpy):
        items += (("dtype=", PyCode(string_literal(array.dtype))),)
    return Call(head, items)


def _operator_text(spec: OpSpec, operands: list[Expr]) -> str:
    """``a + b``, ``-a``, ``a**2`` as the formatters write them; "" if the operation has
    no operator. A negative constant before ``**`` is bracketed (``-2 ** x`` is -(2 ** x))."""
    if not spec.OPERATOR:
        return ""
    texts = [str(o) for o in operands]
    if spec.OPERATOR == "[]":  # x[:, 0]
        return f"{texts[0]}{op_shapes.format_index(getattr(spec, 'python_key', ()))}"
    if len(texts) == 1:
        return f"{spec.OPERATOR}{texts[0]}"
    left, right = texts
    if spec.OPERATOR == "**":
        if left.startswith("-"):
            left = f"({left})"
        if _SIMPLE.fullmatch(left) and _SIMPLE.fullmatch(right):
            return f"{left}**{right}"
    return f"{left} {spec.OPERATOR} {right}"


def _take_name(layer_type: str, counters: dict[str, int]) -> str:
    """The automatic name Keras gives the next unnamed layer or operation of a type."""
    prefix = to_snake_case(layer_type)
    n = counters.get(prefix, 0)
    counters[prefix] = n + 1
    return prefix if n == 0 else f"{prefix}_{n}"


def _count_names(spec: LayerSpec, counters: dict[str, int], *, automatic: bool) -> None:
    """The counters a layer moves when the script constructs it: its own name (and its
    inner layers') where it takes an automatic one, and the layers Keras makes inside."""
    for inner in spec.sublayers():
        _count_names(inner, counters, automatic=automatic)
    if automatic and spec.name is None:
        _take_name(spec.type, counters)
    for prefix in spec.SUBLAYERS:
        counters[prefix] = counters.get(prefix, 0) + 1


_COMMENT_SAFE = re.compile(r"[A-Za-z0-9_./@+-]+")


def comment(value: str) -> PyCode:
    """Text for a comment: kept as is when it is plainly safe, else as an ASCII literal."""
    return PyCode(value if _COMMENT_SAFE.fullmatch(value) else ascii(value))


def _finalize(value: Any) -> Any:
    if isinstance(value, PyCode) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and value.isidentifier():
        return value  # names: validated identifiers
    raise jinja2.TemplateError(f"template printed {value!r} without the py filter")


def _assign(target: str, value: Any, depth: int = 0) -> PyCode:
    return PyCode("\n".join(assignment_lines(target, as_expr(value), depth)))


def _item(value: Any, depth: int, lead: str = "") -> PyCode:
    """A list or argument-list item on lines of its own, with its trailing comma."""
    return PyCode("\n".join(break_lines(as_expr(value), depth, lead, ",")))


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("specc.backends", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        finalize=_finalize,
    )
    env.filters["py"] = py
    env.filters["comment"] = comment
    env.globals["assign"] = _assign
    env.globals["item"] = _item
    return env


# ----------------------------------------------------------------- script names
SCRIPT_IMPORTS = frozenset(
    {"argparse", "json", "os", "tempfile", "time", "pathlib", "typing", "__future__"}
    | {"keras", "numpy", "matplotlib", "tensorflow", "jax", "torch"}
)
"""What the emitted script imports itself."""

RUNTIME_MODULES = frozenset({
    "PIL", "absl", "astunparse", "certifi", "charset_normalizer", "contourpy", "cycler",
    "dateutil", "flatbuffers", "fontTools", "gast", "google", "grpc", "h5py", "idna", "jaxlib",
    "kiwisolver", "markdown_it", "mdurl", "ml_dtypes", "mpl_toolkits", "namex", "opt_einsum",
    "optree", "packaging", "pybind11_abseil", "pygments", "pyparsing", "requests", "rich",
    "scipy", "six", "tensorboard", "termcolor", "typing_extensions", "urllib3", "wrapt",
})  # fmt: skip
"""Third-party modules that keras, tensorflow, jax and matplotlib import when the script
runs (measured: top-level names in ``sys.modules`` after building a model and importing
matplotlib.pyplot, tensorflow and jax, minus the standard library; plus close neighbours)."""

OTHER_STDLIB = frozenset({
    # Removed in 3.12/3.13 (a script may still run on 3.11) or added in 3.14.
    "aifc", "asynchat", "asyncore", "audioop", "cgi", "cgitb", "chunk", "crypt", "distutils",
    "imghdr", "imp", "lib2to3", "mailcap", "msilib", "nis", "nntplib", "ossaudiodev", "pipes",
    "smtpd", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib", "annotationlib",
    "compression",
    # Imported by `site` from sys.path at start-up.
    "sitecustomize", "usercustomize",
})  # fmt: skip

SHADOWING_NAMES = (
    frozenset(sys.stdlib_module_names) | OTHER_STDLIB | SCRIPT_IMPORTS | RUNTIME_MODULES
)
"""Spec names refused by emit-code: ``<name>.py`` would shadow that module for the script
(Python puts the script's folder first on ``sys.path``) and for every script beside it."""


def _name_problem(compiled: Compiled) -> Diagnostic | None:
    name = compiled.spec.name
    if name not in SHADOWING_NAMES:
        return None
    kind = (
        "a Python standard-library module"
        if name in sys.stdlib_module_names or name in OTHER_STDLIB
        else "a module the training script imports"
    )
    source = compiled.written().source
    return source.diagnostic(
        ("name",),
        f"{name!r} is {kind}: the emitted {name}.py would shadow it for the script and "
        f"every script beside it; choose another name, e.g. '{name}_model'",
    )


def _fine_tune(compiled: Compiled) -> dict[str, Any] | None:
    """``training.fine_tune`` as the script's second phase: the base's name, the first
    layer trained again (index and name), the epochs and learning rate."""
    from specc.analysis import finetune

    spec = compiled.spec
    fine = spec.training.fine_tune if spec.training else None
    if fine is None:
        return None
    if spec.training is not None and spec.training.distribution is not None:
        raise SpecError([compiled.written().source.diagnostic(
            ("training", "fine_tune"),
            "fine-tuning under training.distribution is not supported yet (specc train "
            "refuses it too): emit the script without distribution",
        )])  # fmt: skip
    where = finetune.resolve(spec, compiled.graph, lambda loc, message: Diagnostic(message))
    assert isinstance(where, finetune.Unfreeze)  # checked by validate
    return {
        "base": where.layer.name,
        "at": where.at,
        "first": where.names[where.at],
        "epochs": fine.epochs,
        "learning_rate": fine.learning_rate,
    }


def _refusals(compiled: Compiled) -> None:
    """What stops a spec from becoming a training script, all said at once."""
    spec = compiled.spec
    problems = []
    missing = [key for key in ("data", "compile") if getattr(spec, key) is None]
    if missing:
        problems.append(Diagnostic(
            f"a training script needs {' and '.join(repr(m) for m in missing)}; add "
            f"{'that section' if len(missing) == 1 else 'those sections'} to the spec",
            file=compiled.file,
        ))  # fmt: skip
    shadow = _name_problem(compiled)
    if shadow is not None:
        problems.append(shadow)
    if (
        spec.data
        and spec.data.dataset in FOLDER_DATASETS
        and spec.training
        and spec.training.distribution
    ):
        problems.append(Diagnostic(
            f"the emitted script streams {spec.data.dataset} data on one device; remove "
            "training.distribution to emit it (specc train runs it distributed)", file=compiled.file,
        ))  # fmt: skip
    if problems:
        raise SpecError(problems)


def context(compiled: Compiled, source: str) -> dict[str, Any]:
    _refusals(compiled)
    spec = compiled.spec
    assert spec.data is not None and spec.compile is not None
    cls, args = optimizer_arguments(spec.compile.optimizer)
    training = spec.training or Training()
    graph = compiled.graph
    model_name = PyCode("NAME") if spec.model.name is None else py(spec.model.name)
    functional = graph_build_model(compiled, model_name) if graph.functional else None
    sub_models = sub_model_functions(compiled) if graph.functional else []
    arrays = DataArrays.of(graph)
    prep = spec.data.preprocessing
    return {
        "inputs": arrays.inputs,
        "outputs": arrays.outputs,
        "keys": arrays.keys() if arrays.inputs or arrays.outputs else (),
        "x_steps_by": {name: [_x_step(step.model_dump()) for step in prep.x_steps(name)]
                       for name in arrays.inputs if prep.x_steps(name)},
        "y_steps_by": {name: [_y_step(step.one_hot) for step in prep.y_steps(name)]
                       for name in arrays.outputs if prep.y_steps(name)},
        "source": source,
        "sha16": PyCode(compiled.sha256[:16]),
        "name": spec.name,
        "model_name": model_name,
        "description": spec.description,
        "dataset": spec.data.dataset,
        "download": call(f"keras.datasets.{spec.data.dataset}.load_data", spec.data.keras_arguments()),
        "table": _table(spec.data, spec.compile, graph.output_shape,
                        {given.name: given.dtype for given in graph.inputs}),
        "folder": _folder(spec.data, graph.inputs[0].shape[1:] if graph.functional else spec.model.input.shape),
        "text": {"label_mode": "categorical" if prep.y_steps() else "int"}
                if spec.data.dataset == "text_folder" else None,
        "series": _series(spec.data, graph.inputs[0].shape[1:] if graph.functional else spec.model.input.shape),
        "audio": _audio(spec.data, graph.inputs[0].shape[1:] if graph.functional else spec.model.input.shape),
        "x_tf": spec.data.dataset in FOLDER_DATASETS and any(
            not isinstance(step, DivideStep) for step in prep.x_steps()),
        "x_keras": any(isinstance(step, PadStep) for steps in
                       ([prep.x_steps(name) for name in arrays.inputs] or [prep.x_steps()])
                       for step in steps),
        "data_path": spec.data.path,
        "input_shape": tuple(graph.inputs[0].shape[1:] if graph.functional else spec.model.input.shape),
        "x_steps": [] if arrays.inputs else [_x_step(step.model_dump(), spec.data.dataset in FOLDER_DATASETS)
                                             for step in prep.x_steps()],
        "y_steps": [] if arrays.outputs or spec.data.dataset in FOLDER_DATASETS else [_y_step(step.one_hot) for step in prep.y_steps()],
        "functional": PyCode("\n".join(functional[1])) if functional else None,
        "block_functions": PyCode("\n".join([*sub_models, *functional[0]]))
                           if functional and (functional[0] or sub_models) else None,
        "layers": [] if graph.functional else [layer_call(layer.spec, layer_arguments(layer)) for layer in graph.layers],
        "adapt": adapted_at_train_time(list(spec.model.layers)) or bool(lookup_adapts(graph)),
        "lookups": lookup_adapts(graph),
        "optimizer": call(f"keras.optimizers.{cls}", args),
        "loss": _custom_code(spec.compile.loss),
        "metrics": _custom_code(_listed(spec.compile.metrics)),
        "compile_extra": {key: _custom_code(_listed(getattr(spec.compile, key)))
                          for key in ("weighted_metrics", "loss_weights")
                          if getattr(spec.compile, key) is not None},
        "input": None if graph.functional else Call("keras.Input", (
            ("shape=", PyCode("INPUT_SHAPE")),
            *((("dtype=", as_expr(spec.model.input.dtype)),) if spec.model.input.dtype != "float32" else ()),
            ("name=", as_expr(spec.model.input.name or "input_layer")),
        )),
        "training": training,
        "weights_files": weights_files(compiled),
        "applications_named": any(
            sub.application is not None and any(n > 0 for n in sub._counters.values())
            for sub in (_sub_models(graph) if graph.functional else [])
        ),
        "fine_tune": _fine_tune(compiled),
        "distribution": training.distribution,
        "runtime": spec.runtime,
        "cpu_spe": runtime.CPU_STEPS_PER_EXECUTION,
        "gpu_spe": runtime.GPU_STEPS_PER_EXECUTION,
        "callbacks": [call(f"keras.callbacks.{cls}", cb_args)
                      for cls, cb_args in map(callback_arguments, training.callbacks)],
    }  # fmt: skip


def _custom_code(value: Any) -> Any:
    """Losses and metrics with the user's (``--plugin``) as ``custom["mypkg.losses.focal"]``
    (from ``plugins()``); a class (a capitalised name) is made with no arguments."""
    if is_plugin_path(value):
        made = f"custom[{string_literal(value)}]"
        return PyCode(made + "()" if value.rsplit(".", 1)[1][:1].isupper() else made)
    if isinstance(value, list | tuple):
        return [_custom_code(v) for v in value]
    if isinstance(value, dict):
        return {k: _custom_code(v) for k, v in value.items()}
    return value


def _listed(value: Any) -> Any:
    """Metrics (or weights) as a list, or per output name as a dict of lists (of weights:
    of numbers)."""
    if isinstance(value, dict):
        return {k: list(v) if isinstance(v, list | tuple) else v for k, v in value.items()}
    return list(value)


def _y_step(classes: int) -> Expr:
    """The right-hand side of ``y = ...`` for a one-hot step."""
    return Call("keras.utils.to_categorical", (("", PyCode("y")), ("", as_expr(classes))))


def _table(
    data: Any, compiled: Any, output_shape: Any, dtypes: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """A CSV's columns and label kind (as specc train reads them), or None."""
    if data.dataset != "csv":
        return None
    from specc.analysis.checks import CATEGORICAL, SPARSE

    steps = data.preprocessing.y_steps()
    classifier = steps or loss_name(compiled.loss) in CATEGORICAL | SPARSE
    return {
        "label": data.label,
        "features": data.features,
        "categorical": list(data.categorical),
        "test_split": data.test_split if data.test_split is not None else 0.2,
        "classes": (steps[-1].one_hot if steps else int(output_shape[-1])) if classifier else None,
        "one_hot": steps[-1].one_hot if steps else None,
        "inputs": data.inputs,
        "column_types": _column_types(data.inputs, dtypes or {}) if data.inputs else None,
    }


def _column_types(groups: dict[str, list[str]], dtypes: dict[str, str]) -> dict[str, str]:
    """How the emitted script parses each grouped column: as its input's dtype (string,
    int64 for integer inputs, float32 otherwise), as ``specc train`` does."""
    out: dict[str, str] = {}
    for name, columns in groups.items():
        kind = dtypes.get(name, "float32")
        kind = (
            kind if kind == "string" else "int64" if kind.startswith(("int", "uint")) else "float32"
        )
        out |= dict.fromkeys(columns, kind)
    return out


def _folder(data: Any, input_shape: Any) -> dict[str, Any] | None:
    """An image folder's loader settings (the spec's, else the model input's), or None."""
    if data.dataset != "image_folder":
        return None
    modes = {1: "grayscale", 3: "rgb", 4: "rgba"}
    return {
        "image_size": tuple(data.image_size or input_shape[:2]),
        "color_mode": data.color_mode or modes.get(input_shape[-1], "rgb"),
        "label_mode": "categorical" if data.preprocessing.y_steps() else "int",
        "cache": data.cache or "auto",
    }


def _series(data: Any, input_shape: Any) -> dict[str, Any] | None:
    """A time series' columns and windows (the spec's, else the model input's), or None."""
    if data.dataset != "timeseries":
        return None
    return {
        "features": data.features,
        "targets": list(data.targets),
        "sequence_length": data.sequence_length or input_shape[0],
        "sampling_rate": data.sampling_rate or 1,
        "offset": 1 if data.offset is None else data.offset,
        "target_steps": data.target_steps,
        "test_split": data.test_split if data.test_split is not None else 0.2,
        "normalize": data.normalize or "train",
    }


def _audio(data: Any, input_shape: Any) -> dict[str, Any] | None:
    """An audio folder's loader settings (the spec's, else the model input's), or None."""
    if data.dataset != "audio_folder":
        return None
    return {
        "output_sequence_length": data.output_sequence_length or input_shape[0],
        "sampling_rate": data.sampling_rate,
        "label_mode": "categorical" if data.preprocessing.y_steps() else "int",
    }


def _x_step(step: dict[str, Any], tensors: bool = False) -> Expr:
    """The right-hand side of ``x = ...`` for one image step (on a batch of tensors, for
    an image folder's tf.data pipeline)."""
    if "reshape" in step:
        head = "tf.reshape" if tensors else "x.reshape"
        shape = tuple(("", as_expr(d)) for d in [-1, *step["reshape"]])
        return (
            Call(head, (("", PyCode("x")), ("", Call("", shape)))) if tensors else Call(head, shape)
        )
    if "cast" in step:
        if tensors:
            return Call("tf.cast", (("", PyCode("x")), ("", as_expr(step["cast"]))))
        return Call("x.astype", (("", as_expr(step["cast"])),))
    if "pad" in step:  # zeros in front, longer lists keep their last ids: Keras' defaults
        return Call(
            "keras.utils.pad_sequences", (("", PyCode("x")), ("maxlen=", as_expr(step["pad"])))
        )
    return PyCode(f"x / {float_literal(float(step['divide']))}")


def source_label(path: str | os.PathLike[str]) -> str:
    """The spec's path as the header names it: relative to the working directory, POSIX."""
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def render(
    compiled: Compiled, out_dir: str | os.PathLike[str] = "generated", plugins: Any = None
) -> dict[Path, str]:
    """``{output path: code}`` for one compiled spec; raises SpecError if it cannot be.
    ``plugins``: the ``--plugin`` modules (``specc.backends.plugins.Loaded``), for the
    files the script loads by path."""
    label = source_label(compiled.file)
    label += "".join(f" --set {shlex.quote(text)}" for text in compiled.overrides)
    files: dict[str, Path] = getattr(plugins, "files", {})
    used = {path.rsplit(".", 1)[0] for path in plugin_paths(compiled)}
    given = getattr(plugins, "given", {})
    label += "".join(f" --plugin {shlex.quote(given[m])}" for m in sorted(used) if m in given)
    values = context(compiled, label)
    found = plugin_function(compiled, out_dir, files)
    values["plugins"] = PyCode(found) if found else None
    values["plugin_files"] = any(m in files for m in used)
    compiling = compiled.spec.compile
    values["plugins_compile"] = compiling is not None and any(
        _plugin_names(getattr(compiling, key)) for key in ("loss", "metrics", "weighted_metrics")
    )
    values["plugins_model"] = bool(plugin_paths(compiled, layers_only=True))
    code = environment().get_template("train.py.jinja").render(values)
    return {Path(out_dir) / f"{compiled.spec.name}.py": code}


def write(files: dict[Path, str]) -> list[Path]:
    """Write each file atomically; return those whose content changed."""
    from specc.files import write_atomic

    changed = []
    for path, text in files.items():
        if not path.exists() or path.read_text() != text:
            write_atomic(path, text)
            changed.append(path)
    return changed


def diff(files: dict[Path, str]) -> str:
    """A unified diff of every stale or missing file; empty when all are fresh."""
    chunks: list[str] = []
    for path, text in files.items():
        old = path.read_text() if path.exists() else ""
        if old != text:
            chunks.extend(difflib.unified_diff(
                old.splitlines(keepends=True), text.splitlines(keepends=True),
                fromfile=f"{path} (on disk)" if old else "/dev/null", tofile=f"{path} (from spec)",
            ))  # fmt: skip
    return "".join(chunks)
