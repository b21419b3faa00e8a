"""Edits of a loaded spec that keep its source map right: ``--set PATH=VALUE``.

An override names a place with a spec path (:mod:`specc.language.paths`) and gives it a
value read as specc reads YAML (1.2 core schema: ``1e-3`` is a float, ``yes`` a string). A
null value (``~``) deletes the key or list item; a last step ``[+N]`` inserts a list item
before index N. The edited spec is then validated exactly as a file is. Every value an
override brings is located at the override (``--set #2 (model.layers[1].type=Foo)``),
everything else where it is written, list items that moved included.

The same edit serves a variant's ``set:`` (:mod:`specc.language.variants`), whose values
are located in the variant's file, and sweeps, which give values as data (:func:`of`).

>>> from specc.language import loader
>>> loaded = loader.load_text("name: m\\ntraining: {epochs: 15}\\n", "m.yaml")
>>> apply(loaded, [parse("training.epochs=3", 1)]).data
{'name': 'm', 'training': {'epochs': 3}}
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from specc.errors import Diagnostic, Loc, SpecError
from specc.language import paths
from specc.language.loader import Loaded, Origin, Position, SourceMap, load_text
from specc.language.paths import Insert, PathError, SpecPath

EXIT_USAGE = 2
"""A path that does not fit the spec, or a value that is not YAML: a usage error."""


@dataclass(frozen=True)
class Positions:
    """Where a value and everything in it are written, keyed relative to the value."""

    values: dict[Loc, Position] = field(default_factory=dict)
    keys: dict[Loc, Position] = field(default_factory=dict)
    yaml11: dict[Loc, tuple[bool, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Override:
    """One ``--set``: a path, the value (None deletes) and how messages name it."""

    path: SpecPath
    value: Any
    label: str
    """``--set #2 (model.layers[1].type=Foo)``: shown where the override is the cause."""
    yaml11: dict[Loc, tuple[bool, str]] = field(default_factory=dict, compare=False, repr=False)
    text: str = ""
    """``PATH=VALUE`` as given (emit-code's header repeats it)."""

    def __str__(self) -> str:
        return self.label


class OverrideError(ValueError):
    """An override that cannot be read (no ``=``, a malformed path, a value that is not YAML):
    a usage error, one line naming the override."""


def _printable(text: str) -> str:
    """The override as typed, on one line whatever it holds."""
    return text if text.isprintable() else repr(text)[1:-1]


def parse(text: str, number: int, flag: str = "--set") -> Override:
    """``PATH=VALUE`` (the ``number``-th ``flag``, ``--set`` or ``diff``'s ``--set-a``) as an
    :class:`Override`.

    >>> parse("model.layers[1]=~", 2)
    Override(path=('model', 'layers', 1), value=None, label='--set #2 (model.layers[1]=~)', text='model.layers[1]=~')
    >>> parse("compile.optimizer.learning_rate=1e-3", 1).value
    0.001
    >>> parse("training.epochs", 3)
    Traceback (most recent call last):
    ...
    specc.language.overrides.OverrideError: --set #3 (training.epochs): expected PATH=VALUE, e.g. training.epochs=3
    """
    label = f"{flag} #{number} ({_printable(text)})"
    path_text, eq, raw = text.partition("=")
    if not eq:
        raise OverrideError(f"{label}: expected PATH=VALUE, e.g. training.epochs=3")
    try:
        path = paths.parse(path_text.strip())
    except PathError as exc:
        raise OverrideError(f"{label}: {exc}") from None
    value, yaml11 = _value(raw, label)
    return Override(path, value, label, yaml11, text)


def parse_all(texts: Iterable[str], flag: str = "--set") -> list[Override]:
    """Every ``--set`` (or other ``flag``) in order, numbered from 1 as the messages count
    them."""
    return [parse(text, n, flag) for n, text in enumerate(texts, 1)]


def of(path: str | SpecPath, value: Any, label: str | None = None) -> Override:
    """An override given as data (a sweep's value); None deletes.

    >>> of("training.epochs", 3).label
    'training.epochs=3'
    """
    parsed = paths.parse(path) if isinstance(path, str) else tuple(path)
    text = f"{paths.render(parsed)}={value!r}"
    return Override(parsed, value, label or text, text=text)


_NULLS = ("~", "null", "Null", "NULL")


def _value(raw: str, label: str) -> tuple[Any, dict[Loc, tuple[bool, str]]]:
    """VALUE read as one YAML value (a scalar or a flow collection), with its YAML 1.1 hints."""
    if "\n" in raw or "\r" in raw:
        raise OverrideError(f"{label}: the value must be on one line")
    if not raw.strip():
        raise OverrideError(f"{label}: no value after '='; write ~ to delete, '' for text")
    try:
        loaded = load_text(f"value: {raw}\n", label)
    except SpecError as exc:
        problem = exc.diagnostics[0].message if exc.diagnostics else "not YAML"
        raise OverrideError(
            f"{label}: the value is not one YAML value ({problem}); quote text, "
            "write lists as [a, b] and mappings as {k: v}"
        ) from None
    if set(loaded.data) != {"value"}:
        raise OverrideError(f"{label}: the value is not one YAML value; quote it")
    value = loaded.data["value"]
    if value is None and raw.strip() not in _NULLS:
        raise OverrideError(f"{label}: {raw.strip()!r} reads as YAML null; quote text")
    return value, _subtree(loaded.source.yaml11, ("value",))


# ----------------------------------------------------------------- the source map
def _tables(source: SourceMap | Positions) -> tuple[dict, dict, dict]:
    return source.values, source.keys, source.yaml11


def _subtree(table: dict[Loc, Any], loc: Loc) -> dict[Loc, Any]:
    n = len(loc)
    return {k[n:]: v for k, v in table.items() if k[:n] == loc}


def _drop(source: SourceMap, loc: Loc) -> None:
    """Forget every position at or under ``loc``."""
    n = len(loc)
    for table in _tables(source):
        for k in [k for k in table if k[:n] == loc]:
            del table[k]


def _shift(source: SourceMap, items: Loc, start: int, delta: int) -> None:
    """List items of ``items`` from index ``start`` on move by ``delta``."""
    n = len(items)
    for table in _tables(source):
        moved = {
            k: (*items, k[n] + delta, *k[n + 1 :])
            for k in table
            if len(k) > n and k[:n] == items and isinstance(k[n], int) and k[n] >= start
        }
        values = {new: table.pop(old) for old, new in moved.items()}
        table.update(values)


def _graft(source: SourceMap, positions: Positions, loc: Loc) -> None:
    for table, new in zip(_tables(source), _tables(positions), strict=True):
        table.update({(*loc, *k): v for k, v in new.items()})


def edit(data: Any, source: SourceMap, path: SpecPath, value: Any, where: Positions) -> Any:
    """``data`` with ``value`` at ``path`` (see :func:`paths.edit`); ``source`` (changed in
    place) then locates the new value by ``where`` and the items that moved where they are
    written. Raises PathError where the path does not fit."""
    path = paths.absolute(data, path)
    new = paths.edit(data, path, value)
    last = path[-1]
    if isinstance(last, Insert):
        items = path[:-1]
        _shift(source, items, int(last), 1)
        _graft(source, where, (*items, int(last)))
    elif value is None:
        _drop(source, path)
        if isinstance(last, int):
            _shift(source, path[:-1], last + 1, -1)
    else:
        _drop(source, path)
        _graft(source, where, path)
    return new


def copy_source(source: SourceMap) -> SourceMap:
    """A source map to edit, the one given left as it is."""
    return SourceMap(source.file, dict(source.values), dict(source.keys), dict(source.yaml11))


def did_you_mean(data: Any, exc: PathError) -> str:
    """``(did you mean 'layers'?)`` for a key not found, from the keys that are there."""
    if not exc.where or not str(exc).endswith("no such key"):
        return ""
    try:
        parent = paths.get(data, exc.where[:-1])
    except PathError:
        return ""
    close = difflib.get_close_matches(str(exc.where[-1]), [str(k) for k in parent], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def apply(loaded: Loaded, overrides: Sequence[Override]) -> Loaded:
    """``loaded`` with each override applied in order. A path that does not fit the spec
    raises SpecError (exit 2) naming the spec and the override."""
    if not overrides:
        return loaded
    source = copy_source(loaded.source)
    data = loaded.data
    for override in overrides:
        origin = Origin(source.file, override.label)
        where = Positions({(): (0, 0, origin)}, {}, dict(override.yaml11))
        try:
            data = edit(data, source, override.path, override.value, where)
        except PathError as exc:
            message = f"{exc}{did_you_mean(data, exc)}"
            diagnostic = Diagnostic(message, source.file, 0, 0, origin=override.label)
            raise SpecError([diagnostic], EXIT_USAGE) from None
    parts = tuple(f"{paths.render(o.path)}={o.value!r}" for o in overrides)
    given = (*loaded.overrides, *(o.text for o in overrides))
    return Loaded(data, source, loaded.text, (*loaded.parts, *parts), given)


# ----------------------------------------------------------------- many edits, linear
class _Node:
    """The positions at one path of a source map (value, key, YAML 1.1 hint) and those
    under it: a trie, so that an edit costs the size of what it changes, not of the map."""

    __slots__ = ("here", "kids")

    def __init__(self) -> None:
        self.here: list[Any] = [None, None, None]
        self.kids: dict[Any, _Node] | list[_Node | None] = {}

    def kid(self, key: Any, *, create: bool) -> _Node | None:
        kids = self.kids
        if isinstance(kids, list):
            if isinstance(key, int) and 0 <= key < len(kids):
                found = kids[key]
                if found is None and create:
                    found = kids[key] = _Node()
                return found
            if not create:
                return None
            self.kids = kids = {i: k for i, k in enumerate(kids) if k is not None}
        found = kids.get(key)
        if found is None and create:
            found = kids[key] = _Node()
        return found

    def as_list(self, length: int) -> list[_Node | None] | None:
        """The children as a list of ``length`` items (the data there is a list), or None
        where the positions do not fit one (then items are renamed one by one)."""
        kids = self.kids
        if isinstance(kids, dict):
            if not all(
                isinstance(k, int) and not isinstance(k, bool) and 0 <= k < length for k in kids
            ):
                return None
            items: list[_Node | None] = [None] * length
            for k, node in kids.items():
                items[k] = node
            self.kids = kids = items
        if len(kids) < length:
            kids.extend([None] * (length - len(kids)))
        return kids


def _trie(tables: tuple[dict, dict, dict]) -> _Node:
    root = _Node()
    for t, table in enumerate(tables):
        for loc, pos in table.items():
            node = root
            for key in loc:
                node = node.kid(key, create=True)  # type: ignore[assignment]  # kid(create=True) never returns None
            node.here[t] = pos
    return root


def _flatten(node: _Node, tables: tuple[dict, dict, dict]) -> None:
    stack: list[tuple[_Node, Loc]] = [(node, ())]
    while stack:
        node, loc = stack.pop()
        for t, pos in enumerate(node.here):
            if pos is not None:
                tables[t][loc] = pos
        kids = node.kids
        pairs = enumerate(kids) if isinstance(kids, list) else kids.items()
        stack.extend(((kid, (*loc, key)) for key, kid in pairs if kid is not None))


def _plain_copy(value: Any) -> Any:
    """A copy of plain data that this editor may change in place (recursion is safe: the
    loader refuses data nested deeper than 64 levels)."""
    if isinstance(value, dict):
        return {k: _plain_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_copy(v) for v in value]
    return value


class Editor:
    """Many edits of one spec, as :func:`edit` makes them one at a time, in time linear in
    the spec and the edits (a variant's ``set:`` may hold thousands): the data is copied
    once and changed in place, the source map kept as a trie until :meth:`finish`."""

    def __init__(self, data: Any, source: SourceMap) -> None:
        self.data = _plain_copy(data)
        self.source = source
        self.root = _trie(_tables(source))

    def node(self, path: SpecPath) -> _Node:
        node = self.root
        for key in path:
            node = node.kid(key, create=True)  # type: ignore[assignment]  # kid(create=True) never returns None
        return node

    def edit(self, path: SpecPath, value: Any, where: Positions) -> None:
        """``value`` at ``path``; raises PathError where the path does not fit (the data
        and positions left as they were)."""
        if not path:  # the spec itself (no parsed path is empty): as edit does
            source = SourceMap(self.source.file)
            _flatten(self.root, _tables(source))
            self.data = edit(self.data, source, path, _plain_copy(value), where)
            self.root = _trie(_tables(source))
            return
        if isinstance(path[-1], Insert) and value is None:
            raise PathError(
                f"{paths.render(path)}: [+N] inserts a value; ~ (delete) has nothing to insert"
            )
        path = paths.absolute(self.data, path)
        *front, last = path
        parent = paths.get(self.data, tuple(front))
        where_at = tuple(front)
        grafted = _trie(_tables(where))
        node = self.node(tuple(front))
        if isinstance(last, Insert):
            index = int(last)
            if not isinstance(parent, list):
                paths._step(parent, index, where_at)  # raises: not a list
            if not -len(parent) <= index <= len(parent):
                raise PathError(
                    f"{paths.render(where_at)} has {len(parent)} item(s): cannot insert at {index}",
                    where_at,
                )
            items = node.as_list(len(parent))
            parent.insert(index, _plain_copy(value))
            if items is None:
                self._rename(node, index, 1)
                node.kids[index] = grafted
            else:
                items.insert(index, grafted)
            return
        if isinstance(last, int):
            paths._step(parent, last, where_at)  # raises: not a list, out of range
        elif not isinstance(parent, dict):
            paths._step(parent, last, where_at)  # raises: not a mapping
        if value is None:
            paths._step(parent, last, where_at)  # raises: no such key
            if isinstance(last, int):
                items = node.as_list(len(parent))
                del parent[last]
                if items is None:
                    node.kid(last, create=True)
                    del node.kids[last]
                    self._rename(node, last + 1, -1)
                else:
                    del items[last]
            else:
                del parent[last]
                node.kid(last, create=True)
                del node.kids[last]  # type: ignore[arg-type]  # parent is a dict here: _step above refuses a str key into a list
            return
        parent[last] = _plain_copy(value)
        if isinstance(last, int) and (items := node.as_list(len(parent))) is not None:
            items[last] = grafted
        else:
            node.kid(last, create=True)
            node.kids[last] = grafted  # type: ignore[index]  # the kid was just created under this key

    @staticmethod
    def _rename(node: _Node, start: int, delta: int) -> None:
        """Items from ``start`` on move by ``delta`` (positions that do not fit a list)."""
        kids = node.kids
        assert isinstance(kids, dict)
        moved = {k: kids.pop(k) for k in [k for k in kids if isinstance(k, int) and k >= start]}
        kids.update({k + delta: v for k, v in moved.items()})

    def finish(self) -> Any:
        """The edited data; the source map given to the editor now locates it."""
        for table in _tables(self.source):
            table.clear()
        _flatten(self.root, _tables(self.source))
        return self.data
