"""Read a spec file safely and remember where every value came from.

PyYAML's plain ``safe_load`` silently keeps the last of two duplicate keys, expands
aliases and merge keys without bound, forgets positions and reads YAML 1.1 (``yes`` is
true, ``010`` is 8, ``1e-3`` is a string). We compose the node graph (libyaml when
available) with YAML 1.2 core-schema rules, the ones editors and JSON Schema tools use,
and build plain Python data ourselves, so we can reject duplicate keys, tags, alias and
merge bombs, and keep a source map from YAML path to ``line:col`` for error messages.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from specc.errors import Diagnostic, Loc, SpecError

MAX_BYTES = 4 * 1024 * 1024
"""Specs larger than this are refused unread: a 1,000-layer spec is about 60 KB."""
MAX_NODES = 100_000
"""Bound on values, as written and after alias and merge expansion.

A 1,000-layer spec has about 8,000; a "billion laughs" file passes the bound at once, and
any file under MAX_BYTES is refused or checked in about a second.
"""
MAX_DEPTH = 64
MAX_INT_DIGITS = 1000
"""Longer integer literals are refused: Python cannot even print a 4,300-digit int."""

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
_MERGE = _TAG + "merge"

# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution), plus merge keys.
_CORE_NULL = re.compile(r"(?:~|null|Null|NULL|)\Z")
_CORE_BOOL = re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z")
_CORE_INT = re.compile(r"(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z")
_CORE_FLOAT = re.compile(
    r"(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z"
)
_CORE = [
    (_BOOL, _CORE_BOOL, "tTfF"),
    (_INT, _CORE_INT, "-+0123456789"),
    (_FLOAT, _CORE_FLOAT, "-+.0123456789"),
    (_NULL, _CORE_NULL, ["~", "n", "N", ""]),
    (_MERGE, re.compile(r"<<\Z"), "<"),
]
_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _CoreResolver(yaml.resolver.BaseResolver):
    """Tags of plain scalars as YAML 1.2's core schema reads them."""

    yaml_implicit_resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}  # noqa: RUF012


for _tag, _regexp, _first in _CORE:
    _CoreResolver.add_implicit_resolver(_tag, _regexp, list(_first))
_core = _CoreResolver()


class _Loader(_BaseLoader):
    """libyaml's parser (when available) with a composer that counts as it goes.

    Plain scalars resolve as YAML 1.2. PyYAML's own composers build the whole node graph
    before anyone can count it: 1.4 million nodes for a 4 MiB file take seconds. This one
    stops at MAX_NODES events and MAX_DEPTH levels, so no file under 4 MiB takes long.
    """

    yaml_implicit_resolvers = _CoreResolver.yaml_implicit_resolvers

    def compose_bounded(self) -> yaml.Node | None:
        """The single document's root node (None for an empty stream)."""
        self.get_event()  # stream start
        node = None
        self._anchors: dict[str, yaml.Node] = {}
        self._events = 0
        self._tags: dict[str, str] = {}
        if not isinstance(self.peek_event(), yaml.StreamEndEvent):
            self.get_event()  # document start
            node = self._compose(0)
            self.get_event()  # document end
        if not isinstance(self.peek_event(), yaml.StreamEndEvent):
            event = self.get_event()
            raise yaml.composer.ComposerError(
                "expected a single document in the stream",
                node.start_mark if node else None,
                "but found another document",
                event.start_mark,
            )
        return node

    def _resolve(self, value: str) -> str:
        """The YAML 1.2 tag of a plain scalar (memoised: specs repeat their words)."""
        tag = self._tags.get(value)
        if tag is None:
            tag = self._tags[value] = _core.resolve(yaml.ScalarNode, value, (True, False))
        return tag

    def _compose(self, depth: int) -> yaml.Node:
        event = self.get_event()
        self._events += 1
        if self._events > MAX_NODES:
            raise _TooBig(event.start_mark, f"YAML has more than {MAX_NODES:,} values")
        kind = type(event)
        anchor = event.anchor
        if kind is yaml.AliasEvent:
            if anchor not in self._anchors:
                raise yaml.composer.ComposerError(
                    None, None, f"found undefined alias {anchor!r}", event.start_mark
                )
            return self._anchors[anchor]
        if anchor is not None and anchor in self._anchors:
            raise yaml.composer.ComposerError(
                f"found duplicate anchor {anchor!r}; first occurrence",
                self._anchors[anchor].start_mark,
                "second occurrence",
                event.start_mark,
            )
        tag = event.tag
        node: yaml.Node
        if kind is yaml.ScalarEvent:
            if tag is None:
                tag = self._resolve(event.value) if event.implicit[0] else _STR
            elif tag == "!":  # the non-specific tag: a string (YAML 1.2, 10.3.2)
                tag = _STR
            node = yaml.ScalarNode(
                tag, event.value, event.start_mark, event.end_mark, style=event.style
            )
            if anchor is not None:
                self._anchors[anchor] = node
            return node
        if depth >= MAX_DEPTH:
            raise _TooDeep(event.start_mark, "")
        if kind is yaml.SequenceStartEvent:
            node = yaml.SequenceNode(
                _TAG + "seq" if tag in (None, "!") else tag,
                [],
                event.start_mark,
                None,
                flow_style=event.flow_style,
            )
            if anchor is not None:
                self._anchors[anchor] = node
            items = node.value
            while not isinstance(self.peek_event(), yaml.SequenceEndEvent):
                items.append(self._compose(depth + 1))
        else:
            node = yaml.MappingNode(
                _TAG + "map" if tag in (None, "!") else tag,
                [],
                event.start_mark,
                None,
                flow_style=event.flow_style,
            )
            if anchor is not None:
                self._anchors[anchor] = node
            pairs = node.value
            while not isinstance(self.peek_event(), yaml.MappingEndEvent):
                pairs.append((self._compose(depth + 1), self._compose(depth + 1)))
        node.end_mark = self.get_event().end_mark
        return node


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, quoting every string that YAML 1.1 *or* 1.2 reads otherwise.

    PyYAML quotes ``'yes'`` and ``'010'`` (YAML 1.1 would read them as true and 8) but
    writes ``1e3`` and ``0o10`` plain, which YAML 1.2 (and so specc) reads as numbers.
    """

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        tag = super().resolve(kind, value, implicit)
        if tag == _STR and kind is yaml.ScalarNode and implicit[0]:
            tag = _core.resolve(kind, value, implicit)
        return tag


def dump_yaml(data: Any, **options: Any) -> str:
    """YAML text that reads back as ``data`` under YAML 1.2 (specc, editors) and 1.1 alike."""
    return yaml.dump(data, Dumper=_Dumper, **options)


# What YAML 1.1 (PyYAML's default) would have made of a plain scalar, for hints.
_Yaml11 = yaml.resolver.Resolver()
_YAML11_TRUE = ("y", "Y", "yes", "Yes", "YES", "on", "On", "ON")
_YAML11_FALSE = ("n", "N", "no", "No", "NO", "off", "Off", "OFF")
_YAML11_BOOLS = {**dict.fromkeys(_YAML11_TRUE, True), **dict.fromkeys(_YAML11_FALSE, False)}
_constructor11 = yaml.constructor.SafeConstructor()


@dataclass(frozen=True)
class Origin:
    """Where a value of a spec comes from when not from the spec's own file: a base it
    extends (``file``), or a command-line override (``label``, ``--set #2 (...)``)."""

    file: str
    label: str | None = None


Position = tuple[int, int] | tuple[int, int, Origin]
"""``(line, col)`` in the spec's file, or ``(line, col, origin)`` in another place."""


@dataclass
class SourceMap:
    """Where each YAML path starts: ``values`` for the value, ``keys`` for the key.

    ``yaml11`` holds a hint for each plain scalar that YAML 1.1 read as another type
    (``yes`` was true, ``1e-3`` a string), shown when the schema refuses that value;
    with it, whether YAML 1.2 made the scalar a string. A spec made of several sources
    (a variant and its bases, ``--set`` overrides) has positions with an :class:`Origin`.
    """

    file: str
    values: dict[Loc, Position] = field(default_factory=dict)
    keys: dict[Loc, Position] = field(default_factory=dict)
    yaml11: dict[Loc, tuple[bool, str]] = field(default_factory=dict)

    def locate(self, loc: Loc, *, key: bool = False) -> Position:
        """Best position for ``loc``: the key or value itself, else its nearest ancestor."""
        loc = tuple(loc)
        if key and loc in self.keys:
            return self.keys[loc]
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.values:
                return self.values[loc[:end]]
        return (1, 1)

    def position(self, loc: Loc, *, key: bool = False) -> tuple[int, int]:
        """``(line, col)`` of :meth:`locate` (in whichever file holds it)."""
        found = self.locate(loc, key=key)
        return found[0], found[1]

    def at(
        self, loc: Loc, message: str, *, key: bool = False, hint: str | None = None
    ) -> Diagnostic:
        """The diagnostic at ``loc`` as written, in the file (or override) that holds it."""
        found = self.locate(loc, key=key)
        origin = found[2] if len(found) == 3 else None
        file = origin.file if origin else self.file
        label = origin.label if origin else None
        return Diagnostic(message, file, found[0], found[1], tuple(loc), hint, origin=label)

    def yaml11_hint(self, loc: Loc, *, wanted_string: bool) -> str | None:
        """The YAML 1.1 hint for a type error at ``loc`` (or at the scalar a union tag
        follows), when it explains it: a string where a value was wanted, or the reverse."""
        loc = tuple(loc)
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.yaml11:
                is_string, hint = self.yaml11[loc[:end]]
                return hint if is_string != wanted_string else None
        return None

    def diagnostic(
        self, loc: Loc, message: str, *, key: bool = False, hint: str | None = None
    ) -> Diagnostic:
        return self.at(loc, message, key=key, hint=hint)


@dataclass
class Loaded:
    """A parsed spec document: plain data plus its source map."""

    data: Any
    source: SourceMap
    text: str
    parts: tuple[str, ...] = ()
    """What else made ``data`` besides ``text``: the texts of the bases a variant extends
    and the overrides applied (so a digest of the spec covers them)."""
    overrides: tuple[str, ...] = ()
    """The ``--set`` overrides applied, as given (``training.epochs=3``)."""


def display_path(path: str | os.PathLike[str]) -> str:
    """Path as shown in messages: relative to the working directory when inside it.

    Symbolic links are not resolved: the file is shown by the name it was given (and a
    symlink loop cannot make this fail).
    """
    given = os.fspath(path)
    try:
        rel = os.path.relpath(os.path.abspath(given), os.getcwd())
    except (OSError, ValueError):  # working directory gone; another drive on Windows
        return given
    return given if rel == os.pardir or rel.startswith(os.pardir + os.sep) else rel


FILE_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFSOCK: "a socket",
              stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device"}  # fmt: skip
"""What a path that is not a regular file is, in refusals (specc sweep's journal too)."""


def read_text(path: str | os.PathLike[str]) -> str:
    """Read a spec file as UTF-8, refusing huge or binary files with a located error.

    Raises SpecError with exit code 2 when the file cannot be read at all, including
    anything that is not a regular file: opening a FIFO would block forever, so the file
    is opened non-blocking and checked with fstat before a single byte is read.
    """
    shown = display_path(path)

    def refuse(message: str) -> SpecError:
        return SpecError([Diagnostic(message, file=shown)], 2)

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except IsADirectoryError:
        raise refuse("is a directory, not a spec file") from None
    except FileNotFoundError:
        dangling = os.path.lexists(path)
        raise refuse("broken symbolic link" if dangling else "no such file") from None
    except OSError as exc:
        raise refuse(f"cannot read: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise refuse("is a directory, not a spec file")
        if not stat.S_ISREG(mode):
            kind = FILE_KINDS.get(stat.S_IFMT(mode), "not a regular file")
            raise refuse(f"is {kind}, not a regular file; specc reads spec files only")
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise refuse(f"cannot read: {exc.strerror or exc}") from None
    finally:
        if fd >= 0:
            os.close(fd)
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


_TAB_INDENT = re.compile("(?:\\A|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]) *\t")
"""A tab after a line break (any that ``str.splitlines`` knows) and spaces."""


def _tab_indent(text: str, file: str) -> Diagnostic | None:
    """YAML forbids tabs in indentation; say so plainly instead of a scanner error."""
    found = _TAB_INDENT.search(text)
    if found is None:
        return None
    start = found.start() + (found.group()[0] not in " \t")  # after the line break
    line = len(text[:start].splitlines()) + 1
    return Diagnostic(
        "tab character in indentation; YAML indents with spaces only",
        file=file,
        line=line,
        col=found.end() - start,
        hint="replace the tab with spaces",
    )


def _short(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Misfit(ValueError):
    """A scalar's text does not fit its tag; the message says why and the hint what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def _int(text: str) -> int:
    if not _CORE_INT.match(text):
        raise _Misfit("is not an integer", "YAML 1.2 integers look like 42, -7, 0o17 or 0x1F")
    digits = text.lstrip("+-")
    if len(digits) > MAX_INT_DIGITS:
        raise _Misfit(
            f"is an integer of {len(digits):,} digits",
            "a spec's numbers are small; check the value",
        )
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text)  # "010" is 10 in YAML 1.2, as editors read it


def _float(text: str) -> float:
    if not _CORE_FLOAT.match(text):
        raise _Misfit("is not a number", "YAML 1.2 numbers look like 0.5, -2 or 1e-3")
    if text.lower().endswith(".inf"):
        return -math.inf if text.startswith("-") else math.inf
    if text.lower().endswith(".nan"):
        return math.nan
    return float(text)


def _bool(text: str) -> bool:
    if not _CORE_BOOL.match(text):
        raise _Misfit("is not a boolean", "write true or false")
    return text.lower() == "true"


def _null(text: str) -> None:
    if not _CORE_NULL.match(text):
        raise _Misfit("is not null", "write null or ~, or leave the value empty")
    return None


_CONSTRUCT: dict[str, Callable[[str], Any]] = {
    _STR: str,
    _INT: _int,
    _FLOAT: _float,
    _BOOL: _bool,
    _NULL: _null,
}


def _show(value: Any) -> str:
    """A Python value as YAML 1.2 spells it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else ("-.inf" if value < 0 else ".inf")
    return str(value)


def _yaml11_hint(text: str, value: Any) -> str | None:
    """Say so when YAML 1.1 would have read the plain scalar ``text`` as another type."""
    if text in _YAML11_BOOLS:
        old: Any = _YAML11_BOOLS[text]
    else:
        tag = _Yaml11.resolve(yaml.ScalarNode, text, (True, False))
        if tag not in (_INT, _FLOAT) or isinstance(value, int | float):
            if tag == _STR and isinstance(value, int | float) and not isinstance(value, bool):
                return f"`{text}` is a number in YAML 1.2; quote it for text: '{text}'"
            return None
        try:
            old = _constructor11.yaml_constructors[tag](_constructor11, yaml.ScalarNode(tag, text))
        except (ValueError, TypeError, OverflowError):
            return None
    if isinstance(old, bool):
        return f"`{text}` is a string in YAML 1.2; write {_show(old)}"
    if ":" in text:
        return f"`{text}` is a string in YAML 1.2, not the base-60 number {_show(old)}; write {_show(old)}"
    return f"`{text}` is a string in YAML 1.2; write {_show(old)}"


class _Builder:
    """Turns a composed node graph into plain data, recording positions and problems."""

    def __init__(self, source: SourceMap) -> None:
        self.source = source
        self.problems: list[Diagnostic] = []
        self.count = 0
        self.flat: dict[int, list[tuple[Any, yaml.Node, yaml.Node]]] = {}
        self.keys: dict[int, Any] = {}
        self.scalars: dict[tuple[str, str, bool], tuple[Any, str | None]] = {}

    def fail(self, node: yaml.Node, message: str, loc: Loc, hint: str | None = None) -> None:
        line, col = _mark(node)
        self.problems.append(Diagnostic(message, self.source.file, line, col, loc, hint))

    def tick(self, node: yaml.Node, n: int = 1, cause: str = "alias bomb?") -> None:
        self.count += n
        if self.count > MAX_NODES:
            raise _TooBig(
                node.start_mark, f"YAML expands to more than {MAX_NODES:,} values ({cause})"
            )

    def build(self, node: yaml.Node, loc: Loc, depth: int = 0) -> Any:
        self.tick(node)
        if depth > MAX_DEPTH:
            raise _TooDeep(node.start_mark, "recursive alias?")
        self.source.values.setdefault(loc, _mark(node))
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, loc, hints=True)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _TAG + "seq":
                self.fail(node, f"YAML tag {_short(node.tag)!r} is not allowed in a spec", loc)
            return [self.build(item, (*loc, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.MappingNode)
        if node.tag != _TAG + "map":
            self.fail(node, f"YAML tag {_short(node.tag)!r} is not allowed in a spec", loc)
        out: dict[Any, Any] = {}
        for key, key_node, value_node in self._flatten(node, loc, depth, ()):
            self.source.keys.setdefault((*loc, key), _mark(key_node))
            out[key] = self.build(value_node, (*loc, key), depth + 1)
        return out

    def _flatten(
        self, node: yaml.MappingNode, loc: Loc, depth: int, stack: tuple[int, ...]
    ) -> list[tuple[Any, yaml.Node, yaml.Node]]:
        """A mapping's (key, key node, value node) with merge keys (``<<``) applied.

        Own keys win over merged ones, earlier merge sources over later ones (YAML's merge
        rule). Memoised per node, so a merge of a merge of ... costs its size once; every
        merged pair counts against MAX_NODES and a mapping that merges itself is refused.
        """
        done = self.flat.get(id(node))
        if done is not None:
            return done
        if depth > MAX_DEPTH:
            raise _TooDeep(node.start_mark, "merges of merges")
        own: list[tuple[Any, yaml.Node, yaml.Node]] = []
        merged: list[tuple[Any, yaml.Node, yaml.Node]] = []
        seen: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE and isinstance(key_node, yaml.ScalarNode):
                merged.extend(
                    self._merge_sources(key_node, value_node, loc, depth, (*stack, id(node)))
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail(key_node, "mapping keys must be plain scalars", loc)
                continue
            key = self.key(key_node, loc)
            if key in seen:
                line, _ = _mark(seen[key])
                self.fail(
                    key_node,
                    f"duplicate key {key!r} (first defined on line {line})",
                    (*loc, key),
                    hint="YAML keeps only one of them; remove the other",
                )
                continue
            seen[key] = key_node
            own.append((key, key_node, value_node))
        inherited = []
        for key, key_node, value_node in merged:
            if key not in seen:
                seen[key] = key_node
                inherited.append((key, key_node, value_node))
        self.flat[id(node)] = result = inherited + own
        return result

    def _merge_sources(
        self, key_node: yaml.Node, value: yaml.Node, loc: Loc, depth: int, stack: tuple[int, ...]
    ) -> list[tuple[Any, yaml.Node, yaml.Node]]:
        """The pairs a ``<<`` brings in, in priority order."""
        sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
        pairs: list[tuple[Any, yaml.Node, yaml.Node]] = []
        for src in sources:
            if not isinstance(src, yaml.MappingNode):
                self.fail(src, "a merge key (<<) needs a mapping or a list of mappings", loc)
                continue
            if id(src) in stack:
                self.fail(
                    key_node,
                    "merge key (<<) merges a mapping into itself (recursive merge)",
                    loc,
                    hint="merge a mapping defined outside this one",
                )
                continue
            got = self._flatten(src, loc, depth + 1, stack)
            self.tick(key_node, len(got), "merge keys (<<) bring in too much")
            pairs.extend(got)
        return pairs

    def key(self, node: yaml.ScalarNode, loc: Loc) -> Any:
        """A key's value, built once per node (keys of aliased mappings are shared)."""
        if id(node) not in self.keys:
            self.keys[id(node)] = self.scalar(node, loc)
        return self.keys[id(node)]

    def scalar(self, node: yaml.ScalarNode, loc: Loc, *, hints: bool = False) -> Any:
        plain = not node.style  # quoted scalars mean the same in YAML 1.1
        memo = (node.tag, node.value, plain)
        done = self.scalars.get(memo)
        if done is None:
            done = self._scalar(node, loc, plain)
            if done is None:
                return node.value
            self.scalars[memo] = done
        value, hint = done
        if hints and hint:
            self.source.yaml11[loc] = (isinstance(value, str), hint)
        return value

    def _scalar(
        self, node: yaml.ScalarNode, loc: Loc, plain: bool
    ) -> tuple[Any, str | None] | None:
        """(value, YAML 1.1 hint) of a scalar, or None after recording why it does not fit."""
        text = node.value
        if node.tag == _TAG + "timestamp":
            return text, None  # an explicit !!timestamp: keep the text, don't guess a type
        construct = _CONSTRUCT.get(node.tag)
        if construct is None:
            self.fail(
                node,
                f"YAML tag {_short(node.tag)!r} is not allowed in a spec",
                loc,
                hint="specs are plain data: strings, numbers, booleans, lists, mappings",
            )
            return None
        try:
            value = construct(text)
        except _Misfit as exc:
            self.fail(node, f"{_short(node.tag)} {_got(text)} {exc}", loc, exc.hint)
            return None
        return value, _yaml11_hint(text, value) if plain else None


def _got(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:37]) + "..."


class _TooBig(Exception):
    """Too many values; ``mark`` is where counting stopped."""

    def __init__(self, mark: yaml.Mark, message: str) -> None:
        self.mark = mark
        self.message = message


class _TooDeep(_TooBig):
    pass


def _line_col(text: str, index: int) -> tuple[int, int]:
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def _reader_error(exc: yaml.reader.ReaderError, text: str, file: str) -> Diagnostic:
    """A character YAML does not allow (a control character, say), with its position."""
    index = exc.position
    if _BaseLoader is not yaml.SafeLoader:  # libyaml counts UTF-8 bytes
        index = len(text.encode("utf-8")[: exc.position].decode("utf-8", errors="ignore"))
    code = ord(exc.character) if isinstance(exc.character, str) else int(exc.character)
    line, col = _line_col(text, index)
    return Diagnostic(
        f"character U+{code:04X} is not allowed in YAML ({exc.reason})",
        file,
        line,
        col,
        hint=f'delete it; inside double quotes it can be written "\\u{code:04x}"',
    )


def _too_big(exc: _TooBig, file: str) -> SpecError:
    line, col = exc.mark.line + 1, exc.mark.column + 1
    if isinstance(exc, _TooDeep):
        message = f"YAML nests deeper than {MAX_DEPTH} levels"
        message += f" ({exc.message})" if exc.message else ""
        return SpecError([Diagnostic(message, file, line, col)])
    hint = "use fewer anchors/aliases" if "expands" in exc.message else "a spec is a small file"
    return SpecError([Diagnostic(exc.message, file, line, col, hint=hint)])


def load_text(text: str, file: str = "<spec>") -> Loaded:
    """Parse spec text into plain data and a source map; raise SpecError listing every problem."""
    source = SourceMap(file)
    tab = _tab_indent(text, file)
    if tab:
        raise SpecError([tab])
    parser = None
    try:
        parser = _Loader(text)
        node = parser.compose_bounded()
    except yaml.reader.ReaderError as exc:
        raise SpecError([_reader_error(exc, text, file)]) from None
    except UnicodeEncodeError as exc:  # a lone surrogate, from an API caller's str
        line, col = _line_col(text, exc.start)
        message = "not UTF-8 text (a lone surrogate code point)"
        raise SpecError([Diagnostic(message, file, line, col)]) from None
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
        raise SpecError([Diagnostic("YAML error: " + " ".join(str(exc).split()), file)]) from None
    except _TooBig as exc:
        raise _too_big(exc, file) from None
    finally:
        if parser is not None:
            parser.dispose()
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
    except _TooBig as exc:
        raise _too_big(exc, file) from None
    if builder.problems:
        raise SpecError(builder.problems)
    return Loaded(data, source, text)


def load_file(path: str | os.PathLike[str]) -> Loaded:
    """Read and parse a spec file (see :func:`read_text` and :func:`load_text`)."""
    return load_text(read_text(path), display_path(path))
