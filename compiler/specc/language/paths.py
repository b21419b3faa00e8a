"""Paths into a spec's data: ``model.layers[1].kernel_regularizer.l2``.

One syntax for everything that names a place in a spec from outside the file: ``--set``
overrides, a variant's edits, a sweep's swept values. Pure functions on the plain data the
loader returns (dicts, lists, scalars); none changes its argument, each returns new data
that shares the untouched parts.

A path is keys joined by dots, and list indexes in brackets. A key is a spec identifier
(letters, digits, ``_``, ``-``); an index is an integer, negative counting from the end as in
Python. A last step ``[+N]`` names a new list item at index N (the items from N on move up
one), for :func:`edit`: ``model.layers[+1]`` inserts a layer before the second.

>>> parse("model.layers[1].kernel_regularizer.l2")
('model', 'layers', 1, 'kernel_regularizer', 'l2')
>>> render(("model", "layers", -1, "units"))
'model.layers[-1].units'
>>> data = {"model": {"layers": [{"type": "Dense", "units": 8}]}}
>>> assign(data, parse("model.layers[0].units"), 16)["model"]["layers"][0]
{'type': 'Dense', 'units': 16}
>>> data["model"]["layers"][0]["units"]  # the original is left as it was
8
"""

from __future__ import annotations

import re
from typing import Any


class Insert(int):
    """The step ``[+N]``: a new item at index N of a list (only as a path's last step)."""

    def __repr__(self) -> str:
        return f"Insert({int(self)})"


Key = str | int
SpecPath = tuple[Key, ...]

_TOKEN = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_\-]*)|\[(\+?-?[0-9]+)\]")


class PathError(ValueError):
    """A path that is not well formed, or that does not fit the data it is applied to.

    ``where`` is the part of the path that was reached before the problem (for messages).
    """

    def __init__(self, message: str, where: SpecPath = ()) -> None:
        super().__init__(message)
        self.where = where


def parse(text: str) -> SpecPath:
    """The keys and indexes of ``text``.

    >>> parse("training.epochs")
    ('training', 'epochs')
    >>> parse("blocks.residual.layers[0].filters")
    ('blocks', 'residual', 'layers', 0, 'filters')
    >>> parse("model.layers[1")
    Traceback (most recent call last):
    ...
    specc.language.paths.PathError: 'model.layers[1': expected a key or [index] at column 13
    """
    if not text:
        raise PathError("empty path: write keys joined by dots, e.g. training.epochs")
    keys: list[Key] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or (pos == 0 and text[0] == ".") or (pos > 0 and text[pos] not in ".["):
            raise PathError(f"{text!r}: expected a key or [index] at column {pos + 1}")
        key, index = match.groups()
        if key is not None:
            keys.append(key)
        elif index.startswith("+"):
            if index.startswith("+-"):
                raise PathError(f"{text!r}: [+N] inserts before index N, N >= 0 (not negative)")
            if match.end() != len(text):
                raise PathError(
                    f"{text!r}: [+N] (insert before index N, N >= 0) is only a path's last step"
                )
            keys.append(Insert(int(index[1:])))
        else:
            keys.append(int(index))
        pos = match.end()
    if isinstance(keys[0], int):
        raise PathError(f"{text!r}: a path starts with a key (e.g. model), not an index")
    return tuple(keys)


def render(path: SpecPath) -> str:
    """The text that :func:`parse` reads back into ``path``.

    >>> render(parse("a.b[2][0].c"))
    'a.b[2][0].c'
    """
    out = ""
    for key in path:
        if isinstance(key, Insert):
            out += f"[+{int(key)}]"
        else:
            out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else key)
    return out


def _step(node: Any, key: Key, where: SpecPath) -> Any:
    """``node[key]``, or a PathError that says what is there instead."""
    if isinstance(key, Insert):
        raise PathError(f"{render((*where, key))}: [+N] inserts; it names no value", where)
    if isinstance(key, int):
        if not isinstance(node, list):
            raise PathError(
                f"{render(where)} is {_kind(node)}, not a list: [{key}] needs a list", where
            )
        if not -len(node) <= key < len(node):
            raise PathError(
                f"{render(where)} has {len(node)} item(s): index {key} is out of range", where
            )
        return node[key]
    if not isinstance(node, dict):
        raise PathError(
            f"{render(where) or 'the spec'} is {_kind(node)}, not a mapping: .{key} needs one",
            where,
        )
    if key not in node:
        raise PathError(f"{render((*where, key))}: no such key", (*where, key))
    return node[key]


def _kind(node: Any) -> str:
    if isinstance(node, dict):
        return "a mapping"
    if isinstance(node, list):
        return "a list"
    return f"the value {node!r}"


def get(data: Any, path: SpecPath) -> Any:
    """The value at ``path``; a PathError if any step is missing.

    >>> get({"a": [{"b": 1}]}, ("a", 0, "b"))
    1
    """
    node = data
    for i, key in enumerate(path):
        node = _step(node, key, path[:i])
    return node


def _rebuild(data: Any, path: SpecPath, leaf: Any, depth: int = 0) -> Any:
    """``data`` with ``leaf(parent, last_key)`` applied at the end of ``path``, copied along it."""
    if depth == len(path) - 1:
        return leaf(data, path[-1], path[:depth])
    key = path[depth]
    child = _step(data, key, path[:depth])
    new = _rebuild(child, path, leaf, depth + 1)
    if isinstance(data, list):
        copy_list = list(data)
        copy_list[key] = new  # type: ignore[index]  # key is an int when data is a list (_step checked it)
        return copy_list
    return {**data, key: new}


def assign(data: Any, path: SpecPath, value: Any) -> Any:
    """``data`` with ``value`` at ``path``. The last key may be new (an argument not given
    before); every step before it must exist, and a list index must be in range.

    >>> assign({"training": {"epochs": 15}}, ("training", "epochs"), 3)
    {'training': {'epochs': 3}}
    >>> assign({"compile": {}}, ("compile", "loss_weights"), [1, 2])
    {'compile': {'loss_weights': [1, 2]}}
    """
    if not path:
        return value

    def leaf(parent: Any, key: Key, where: SpecPath) -> Any:
        if isinstance(key, int):
            _step(parent, key, where)
            items = list(parent)
            items[key] = value
            return items
        if not isinstance(parent, dict):
            _step(parent, key, where)
        return {**parent, key: value}

    return _rebuild(data, path, leaf)


def delete(data: Any, path: SpecPath) -> Any:
    """``data`` without the key or list item at ``path``.

    >>> delete({"a": [1, 2, 3]}, ("a", 1))
    {'a': [1, 3]}
    >>> delete({"a": {"b": 1, "c": 2}}, ("a", "b"))
    {'a': {'c': 2}}
    """
    if not path:
        raise PathError("the whole spec cannot be deleted")

    def leaf(parent: Any, key: Key, where: SpecPath) -> Any:
        _step(parent, key, where)
        if isinstance(key, int):
            items = list(parent)
            del items[key]
            return items
        return {k: v for k, v in parent.items() if k != key}

    return _rebuild(data, path, leaf)


def insert(data: Any, path: SpecPath, value: Any) -> Any:
    """``data`` with ``value`` inserted into a list before index ``path[-1]``; the index may
    equal the list's length (append).

    >>> insert({"layers": ["a", "c"]}, ("layers", 1), "b")
    {'layers': ['a', 'b', 'c']}
    >>> insert({"layers": ["a"]}, ("layers", 1), "b")
    {'layers': ['a', 'b']}
    """
    if not path or not isinstance(path[-1], int):
        raise PathError(
            f"{render(path)}: an insertion needs a list index at the end, e.g. model.layers[1]"
        )

    def leaf(parent: Any, key: Key, where: SpecPath) -> Any:
        if not isinstance(parent, list):
            _step(parent, key, where)  # raises: not a list
        assert isinstance(key, int)
        if not -len(parent) <= key <= len(parent):
            raise PathError(
                f"{render(where)} has {len(parent)} item(s): cannot insert at {key}", where
            )
        items = list(parent)
        items.insert(key, value)
        return items

    return _rebuild(data, path, leaf)


def edit(data: Any, path: SpecPath, value: Any) -> Any:
    """What ``--set PATH=VALUE`` and a variant's ``set:`` do: insert at a last step ``[+N]``,
    delete when ``value`` is None (YAML ``~``), else assign.

    >>> layers = {"layers": ["a", "c"]}
    >>> edit(layers, parse("layers[+1]"), "b"), edit(layers, parse("layers[0]"), None)
    ({'layers': ['a', 'b', 'c']}, {'layers': ['c']})
    >>> edit(layers, parse("layers[-1]"), "z")
    {'layers': ['a', 'z']}
    """
    if path and isinstance(path[-1], Insert):
        if value is None:
            raise PathError(
                f"{render(path)}: [+N] inserts a value; ~ (delete) has nothing to insert"
            )
        return insert(data, (*path[:-1], int(path[-1])), value)
    if value is None:
        return delete(data, path)
    return assign(data, path, value)


def absolute(data: Any, path: SpecPath) -> SpecPath:
    """``path`` with negative list indexes counted from the start, as they stand in ``data``
    (a PathError where a step does not fit).

    >>> absolute({"a": [1, 2, 3]}, ("a", -1))
    ('a', 2)
    """
    out: list[Key] = []
    node = data
    for i, key in enumerate(path):
        if (
            isinstance(key, int)
            and not isinstance(key, Insert)
            and key < 0
            and isinstance(node, list)
        ):
            key = key + len(node) if key >= -len(node) else key
        out.append(key)
        if i < len(path) - 1:
            node = _step(node, key, tuple(out[:-1]))
    return tuple(out)
