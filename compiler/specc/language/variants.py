"""Variants: a spec that ``extends:`` another and says only what differs.

``extends: mnist_cnn.yaml`` (relative to the variant's folder) reads the base, itself
possibly a variant; the variant's own keys are merged into it, mappings key by key and
anything else (lists, scalars) replacing the base's value; then ``set:``, a mapping of spec
paths to values, edits it in the order written, as ``--set`` does (``model.layers[1]:
{type: BatchNormalization}``, ``~`` deletes, ``model.layers[+1]: ...`` inserts). The
result is a plain spec, validated as one, every value located in the file that holds it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from specc.errors import Diagnostic, Loc, SpecError
from specc.language import overrides, paths
from specc.language.loader import Loaded, Origin, SourceMap, display_path, load_file, load_text
from specc.language.overrides import Positions
from specc.language.paths import PathError

EXTENDS, SET = "extends", "set"
MAX_CHAIN = 16
"""Bases of bases, this deep at most (a chain longer than this is surely a mistake)."""


def is_variant(data: Any) -> bool:
    return isinstance(data, dict) and EXTENDS in data


def load(path: str | os.PathLike[str]) -> Loaded:
    """Read a spec file; a variant comes back resolved (see :func:`resolve`)."""
    return resolve(load_file(path), path)


def load_text_at(text: str, file: str) -> Loaded:
    """Spec text said to be ``file``: a variant's base is found relative to its folder."""
    return resolve(load_text(text, file), file)


def resolve(loaded: Loaded, path: str | os.PathLike[str], _chain: tuple[str, ...] = ()) -> Loaded:
    """The spec ``loaded`` (read from ``path``) with its bases merged in and its ``set:``
    applied; a plain spec is returned as it is. Raises SpecError with every problem."""
    data = loaded.data
    if not is_variant(data):
        return loaded
    source = loaded.source
    chain = (*_chain, os.path.realpath(path))
    base_path = _base_path(loaded, path, chain)
    try:
        base = resolve(load_file(base_path), base_path, chain)
    except SpecError as exc:
        raise SpecError(_from_base(exc, loaded, base_path), exc.exit_code) from None
    merged_source = SourceMap(source.file)
    for table, base_table in zip(
        (merged_source.values, merged_source.keys),
        (base.source.values, base.source.keys),
        strict=True,
    ):  # the base's positions, each marked with the file that holds it
        for loc, pos in base_table.items():
            table[loc] = pos if len(pos) == 3 else (pos[0], pos[1], Origin(base.source.file))
    merged_source.yaml11.update(base.source.yaml11)
    own = {k: v for k, v in data.items() if k not in (EXTENDS, SET)}
    merged = _merge(base.data, own, (), source, merged_source)
    merged_source.values[()] = source.values.get((), (1, 1))
    merged = _apply_set(data.get(SET), merged, source, merged_source)
    return Loaded(merged, merged_source, loaded.text, (*base.parts, base.text))


def _base_path(loaded: Loaded, path: str | os.PathLike[str], chain: tuple[str, ...]) -> Path:
    """The base's file, or a located error: not a path, missing, a cycle, too deep."""
    source = loaded.source
    given = loaded.data[EXTENDS]
    if not isinstance(given, str) or not given.strip():
        raise SpecError(
            [
                source.diagnostic(
                    (EXTENDS,),
                    "must be the path of the spec this one extends (relative to this "
                    "spec's folder), e.g. extends: mnist_cnn.yaml",
                )
            ]
        )
    base = Path(path).parent / given
    try:
        real, is_file, exists = os.path.realpath(base), base.is_file(), base.exists()
    except (OSError, ValueError) as exc:  # a name too long for the system, say
        shown = given if len(given) <= 60 else given[:57] + "..."
        message = f"cannot read {shown!r}: {getattr(exc, 'strerror', None) or exc}"
        raise SpecError([source.diagnostic((EXTENDS,), message)]) from None
    if real in chain:
        names = [display_path(p) for p in chain] + [display_path(base)]
        raise SpecError([source.diagnostic((EXTENDS,), f"makes a cycle: {' -> '.join(names)}")])
    if len(chain) > MAX_CHAIN:
        message = f"more than {MAX_CHAIN} specs extend one another; is that meant?"
        raise SpecError([source.diagnostic((EXTENDS,), message)])
    if not is_file:
        what = "is not a file" if exists else "no such file"
        raise SpecError(
            [
                source.diagnostic(
                    (EXTENDS,),
                    f"cannot read {display_path(base)}: {what} (extends is relative to "
                    "this spec's folder)",
                )
            ]
        )
    return base


def _from_base(exc: SpecError, loaded: Loaded, base: Path) -> list[Diagnostic]:
    """A base's problems as they are; one that has no place in the base (unreadable) is
    located at the ``extends:`` that names it."""
    out = []
    for d in exc.diagnostics:
        if d.file == display_path(base) and (d.line, d.col) == (1, 1) and not d.loc:
            message = f"cannot read {d.file}: {d.message}"
            out.append(loaded.source.diagnostic((EXTENDS,), message))
        else:
            out.append(d)
    return out


def _copy(source: SourceMap, loc: Loc, target: SourceMap) -> None:
    """``source``'s positions at and under ``loc`` into ``target``, replacing what was there."""
    n = len(loc)
    for table in (target.values, target.keys, target.yaml11):
        for k in [k for k in table if k[:n] == loc]:
            del table[k]
    # The three tables hold different position tuples; each is copied the same way.
    pairs: tuple[tuple[dict[Any, Any], dict[Any, Any]], ...] = (
        (source.values, target.values),
        (source.keys, target.keys),
        (source.yaml11, target.yaml11),
    )
    for mine, theirs in pairs:
        theirs.update({k: v for k, v in mine.items() if k[:n] == loc})


def _merge(base: Any, own: Any, loc: Loc, source: SourceMap, target: SourceMap) -> Any:
    """``own`` merged into ``base``: mappings key by key, anything else replaced."""
    if not (isinstance(base, dict) and isinstance(own, dict)):
        _copy(source, loc, target)
        return own
    out = dict(base)
    for key, value in own.items():
        if key in base:
            out[key] = _merge(base[key], value, (*loc, key), source, target)
            if (*loc, key) in source.keys:
                target.keys[(*loc, key)] = source.keys[(*loc, key)]
        else:
            out[key] = value
            _copy(source, (*loc, key), target)
    return out


def _apply_set(edits: Any, data: Any, source: SourceMap, target: SourceMap) -> Any:
    """The ``set:`` edits in order, each value located where the variant writes it."""
    if edits is None:
        return data
    if not isinstance(edits, dict):
        message = "must map spec paths to values, e.g. set: {model.layers[1].rate: 0.3}"
        raise SpecError([source.diagnostic((SET,), message)])
    problems = []
    where = _positions_by_key(source)
    editor = overrides.Editor(data, target)
    for text, value in edits.items():
        loc = (SET, text)
        if not isinstance(text, str):  # `~:`, `true:`, `3:` read as null, a bool, a number
            read = {None: "null", True: "true", False: "false"}.get(text, repr(text))
            message = (
                f"a key must be a spec path, e.g. model.layers[1].rate (this one reads as {read})"
            )
            problems.append(replace(source.diagnostic(loc, message, key=True), loc=(SET,)))
            break
        try:
            path = paths.parse(text)
            editor.edit(path, value, where.get(text, Positions()))
        except PathError as exc:
            message = f"{exc}{overrides.did_you_mean(editor.data, exc)}"
            problems.append(source.diagnostic(loc, message, key=True))
            break  # later edits may count on this one (list indexes)
    if problems:
        raise SpecError(problems)
    return editor.finish()


def _positions_by_key(source: SourceMap) -> dict[Any, Positions]:
    """The positions of each ``set:`` value, relative to it, in one pass over the source
    map (one pass per edit made ``set:`` quadratic)."""
    out: dict[Any, Positions] = {}
    tables: tuple[dict[Any, Any], ...] = (source.values, source.keys, source.yaml11)
    for t, table in enumerate(tables):
        for loc, pos in table.items():
            if len(loc) >= 2 and loc[0] == SET:
                found = out.get(loc[1])
                if found is None:
                    found = out[loc[1]] = Positions()
                (found.values, found.keys, found.yaml11)[t][loc[2:]] = pos
    return out
