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

    @classmethod
    def under(cls, source: SourceMap, loc: Loc) -> Positions:
        """The positions ``source`` records at and under ``loc``, relative to it."""
        return cls(*(_subtree(table, loc) for table in _tables(source)))  # type: ignore[arg-type]


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
