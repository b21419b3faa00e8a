"""Read a spec file safely and remember where every value came from.

PyYAML's plain ``safe_load`` silently keeps the last of two duplicate keys, expands
aliases without bound and forgets positions. We compose the node graph (libyaml when
available) and build plain Python data ourselves, so we can reject duplicate keys, tags
and alias bombs, and keep a source map from YAML path to ``line:col`` for error messages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from specc.errors import Diagnostic, Loc, SpecError

MAX_BYTES = 4 * 1024 * 1024
"""Specs larger than this are refused unread: a 1,000-layer spec is about 60 KB."""
MAX_NODES = 200_000
"""Bound on values after alias expansion (a "billion laughs" file expands past it fast)."""
MAX_DEPTH = 64

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null")}
_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_constructor = yaml.constructor.SafeConstructor()


@dataclass
class SourceMap:
    """Where each YAML path starts: ``values`` for the value, ``keys`` for the key."""

    file: str
    values: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def position(self, loc: Loc, *, key: bool = False) -> tuple[int, int]:
        """Best position for ``loc``: the key or value itself, else its nearest ancestor."""
        loc = tuple(loc)
        if key and loc in self.keys:
            return self.keys[loc]
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.values:
                return self.values[loc[:end]]
        return (1, 1)

    def diagnostic(
        self, loc: Loc, message: str, *, key: bool = False, hint: str | None = None
    ) -> Diagnostic:
        line, col = self.position(loc, key=key)
        return Diagnostic(message, file=self.file, line=line, col=col, loc=tuple(loc), hint=hint)


@dataclass
class Loaded:
    """A parsed spec document: plain data plus its source map."""

    data: Any
    source: SourceMap
    text: str


def display_path(path: str | os.PathLike[str]) -> str:
    """Path as shown in messages: relative to the working directory when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


def read_text(path: str | os.PathLike[str]) -> str:
    """Read a spec file as UTF-8, refusing huge or binary files with a located error.

    Raises SpecError with exit code 2 when the file cannot be read at all.
    """
    shown = display_path(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except IsADirectoryError:
        raise SpecError([Diagnostic("is a directory, not a spec file", file=shown)], 2) from None
    except FileNotFoundError:
        raise SpecError([Diagnostic("no such file", file=shown)], 2) from None
    except OSError as exc:
        raise SpecError([Diagnostic(f"cannot read: {exc.strerror}", file=shown)], 2) from None
    if len(raw) > MAX_BYTES:
        msg = f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB; a spec is a small YAML file"
        raise SpecError([Diagnostic(msg, file=shown)])
    return decode(raw, shown)


def decode(raw: bytes, file: str) -> str:
    """Decode UTF-8 (with or without BOM), pointing at the first byte that is not text."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        msg = f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); is this a binary file?"
        raise SpecError([Diagnostic(msg, file=file, line=line, col=col)]) from None
    nul = text.find("\x00")
    if nul >= 0:
        line = text.count("\n", 0, nul) + 1
        col = nul - (text.rfind("\n", 0, nul) + 1) + 1
        raise SpecError(
            [
                Diagnostic(
                    "contains a NUL byte; is this a binary file?", file=file, line=line, col=col
                )
            ]
        )
    return text


def _tab_indent(text: str, file: str) -> Diagnostic | None:
    """YAML forbids tabs in indentation; say so plainly instead of a scanner error."""
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip(" ")
        if stripped.startswith("\t"):
            col = len(line) - len(stripped) + 1
            return Diagnostic(
                "tab character in indentation; YAML indents with spaces only",
                file=file,
                line=lineno,
                col=col,
                hint="replace the tab with spaces",
            )
    return None


def _short(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Turns a composed node graph into plain data, recording positions and problems."""

    def __init__(self, source: SourceMap) -> None:
        self.source = source
        self.problems: list[Diagnostic] = []
        self.count = 0

    def fail(self, node: yaml.Node, message: str, loc: Loc, hint: str | None = None) -> None:
        line, col = _mark(node)
        self.problems.append(Diagnostic(message, self.source.file, line, col, loc, hint))

    def build(self, node: yaml.Node, loc: Loc, depth: int = 0) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooBig(node)
        if depth > MAX_DEPTH:
            raise _TooDeep(node)
        self.source.values.setdefault(loc, _mark(node))
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, loc)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _TAG + "seq":
                self.fail(node, f"YAML tag {_short(node.tag)!r} is not allowed in a spec", loc)
            return [self.build(item, (*loc, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.MappingNode)
        if node.tag != _TAG + "map":
            self.fail(node, f"YAML tag {_short(node.tag)!r} is not allowed in a spec", loc)
        out: dict[Any, Any] = {}
        first: dict[Any, yaml.Node] = {}
        for key_node, value_node in self._pairs(node, loc):
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail(key_node, "mapping keys must be plain scalars", loc)
                continue
            key = self.scalar(key_node, loc)
            if key in first:
                line, _ = _mark(first[key])
                self.fail(
                    key_node,
                    f"duplicate key {key!r} (first defined on line {line})",
                    (*loc, key),
                    hint="YAML keeps only one of them; remove the other",
                )
                continue
            first[key] = key_node
            self.source.keys[(*loc, key)] = _mark(key_node)
            out[key] = self.build(value_node, (*loc, key), depth + 1)
        return out

    def _pairs(self, node: yaml.MappingNode, loc: Loc) -> list[tuple[yaml.Node, yaml.Node]]:
        """Key/value pairs with YAML merge keys (``<<: *base``) applied; explicit keys win."""
        own: list[tuple[yaml.Node, yaml.Node]] = []
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                sources = (
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                for src in sources:
                    if not isinstance(src, yaml.MappingNode):
                        self.fail(
                            src, "a merge key (<<) needs a mapping or a list of mappings", loc
                        )
                        continue
                    merged.extend(self._pairs(src, loc))
            else:
                own.append((key_node, value_node))
        if not merged:
            return own
        explicit = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
        seen: set[Any] = set()
        inherited = []
        for k, v in merged:
            name = k.value if isinstance(k, yaml.ScalarNode) else id(k)
            if name not in explicit and name not in seen:
                seen.add(name)
                inherited.append((k, v))
        return inherited + own

    def scalar(self, node: yaml.ScalarNode, loc: Loc) -> Any:
        if node.tag == _TAG + "timestamp":
            return node.value  # a date-like string: keep the text, don't guess a type
        if node.tag not in _SCALAR_TAGS:
            self.fail(
                node,
                f"YAML tag {_short(node.tag)!r} is not allowed in a spec",
                loc,
                hint="specs are plain data: strings, numbers, booleans, lists, mappings",
            )
            return node.value
        return _constructor.yaml_constructors[node.tag](_constructor, node)


class _TooBig(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


class _TooDeep(_TooBig):
    pass


def load_text(text: str, file: str = "<spec>") -> Loaded:
    """Parse spec text into plain data and a source map; raise SpecError listing every problem."""
    source = SourceMap(file)
    tab = _tab_indent(text, file)
    if tab:
        raise SpecError([tab])
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or "invalid YAML"
        if exc.context and exc.context_mark and exc.context_mark is not mark:
            problem += f" ({exc.context} at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1})"
        if exc.context and "single document" in str(exc.context):
            problem = "expected a single YAML document, found another one (---)"
        raise SpecError([Diagnostic(f"YAML syntax error: {problem}", file, line, col)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Diagnostic(f"YAML error: {exc}", file)]) from None
    except RecursionError:
        raise SpecError([Diagnostic(f"YAML nests deeper than {MAX_DEPTH} levels", file)]) from None
    if node is None:
        raise SpecError(
            [Diagnostic("file is empty; a spec needs at least 'name' and 'model'", file)]
        )
    if not isinstance(node, yaml.MappingNode):
        kind = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
        line, col = _mark(node)
        raise SpecError(
            [
                Diagnostic(
                    f"a spec must be a mapping of keys to values, not {kind}",
                    file,
                    line,
                    col,
                    hint="start with 'name: ...' and 'model: ...'",
                )
            ]
        )
    builder = _Builder(source)
    try:
        data = builder.build(node, ())
    except _TooDeep as exc:
        line, col = _mark(exc.node)
        raise SpecError(
            [
                Diagnostic(
                    f"YAML nests deeper than {MAX_DEPTH} levels (recursive alias?)", file, line, col
                )
            ]
        ) from None
    except _TooBig as exc:
        line, col = _mark(exc.node)
        msg = f"YAML expands to more than {MAX_NODES:,} values (alias bomb?)"
        raise SpecError(
            [Diagnostic(msg, file, line, col, hint="use fewer anchors/aliases")]
        ) from None
    if builder.problems:
        raise SpecError(builder.problems)
    return Loaded(data, source, text)


def load_file(path: str | os.PathLike[str]) -> Loaded:
    """Read and parse a spec file (see :func:`read_text` and :func:`load_text`)."""
    return load_text(read_text(path), display_path(path))
