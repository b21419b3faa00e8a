"""Block libraries: files of blocks that specs import by name with ``use:``.

``use: [specc/transformer, ./team_blocks.yaml]`` at a spec's top level brings the blocks of
each library into the spec, as if its ``blocks:`` held them: ``specc/NAME`` is a library
shipped with specc (``specc/library/NAME.yaml``, package data), anything else a file
relative to the file that says ``use:`` (the spec, the base a variant extends, or another
library). A library holds ``blocks:`` only, with an optional ``description:`` and ``use:``
of its own; libraries used twice (directly and through another) are read once, a cycle of
libraries is refused, and one block name means one block: a name defined by two libraries,
or by a library and the spec, is an error naming both places.

Loading is pure and happens before expansion: the library's blocks are put under the spec's
``blocks:`` with their positions marked with the library's file, so every message about a
block's layer points at the library's line and column and names the use in the spec, and
expansion's bounds count library blocks as they count the spec's own.
"""

from __future__ import annotations

import difflib
import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specc.errors import Diagnostic, Loc, SpecError
from specc.language.loader import (
    Loaded,
    Origin,
    Position,
    SourceMap,
    display_path,
    dump_yaml,
    load_text,
    read_text,
)

USE = "use"
SHIPPED_PREFIX = "specc/"
SHIPPED = Path(__file__).resolve().parent.parent / "library"
"""Where specc's own libraries live (package data: ``specc/library/*.yaml``)."""
MAX_LIBRARIES = 64
"""Libraries one spec may read, all told (a team's few files; never a crawl of a disk)."""
LIBRARY_KEYS = ("description", "use", "blocks")


def _shown(path: str | os.PathLike[str]) -> str:
    """A library's file as messages show it: a shipped one by its place in the package
    (``specc/library/conv.yaml``, the same on every machine), another as any spec file."""
    real = Path(os.path.realpath(path))
    if real.parent == SHIPPED:
        return f"specc/library/{real.name}"
    return display_path(path)


def shipped_names() -> list[str]:
    """The names of specc's own libraries, as a spec writes them (``specc/transformer``)."""
    return sorted(SHIPPED_PREFIX + p.stem for p in SHIPPED.glob("*.yaml"))


@dataclass
class _Library:
    path: str
    """As shown in messages (relative to the working directory when inside it)."""
    loaded: Loaded


@dataclass
class _Reader:
    """Reads the libraries a spec uses, transitively, each once."""

    spec: Loaded
    problems: list[Diagnostic] = field(default_factory=list)
    read: dict[str, _Library] = field(default_factory=dict)
    """By real path: each library once, however many times it is used."""

    def use_list(self, data: Any, source: SourceMap, where: str) -> list[tuple[Loc, str]]:
        """The names a document's ``use:`` lists, each with its place; a bad one reported."""
        given = data.get(USE) if isinstance(data, dict) else None
        if given is None:
            return []
        if isinstance(given, str):
            given = [given]
            located: list[Loc] = [(USE,)]
        elif isinstance(given, list):
            located = [(USE, i) for i in range(len(given))]
        else:
            self.problems.append(
                source.diagnostic(
                    (USE,),
                    "must list block libraries: use: [specc/transformer, ./my_blocks.yaml]",
                )
            )
            return []
        out = []
        for loc, name in zip(located, given, strict=True):
            if not isinstance(name, str) or not name.strip():
                self.problems.append(
                    source.diagnostic(
                        loc,
                        f"a library is named by a string, specc/NAME or a path (got {name!r})",
                    )
                )
                continue
            out.append((loc, name))
        return out

    def resolve(self, name: str, folder: Path) -> tuple[Path | None, str]:
        """The file a library name means, or None and why not."""
        if name.startswith(SHIPPED_PREFIX):
            path = SHIPPED / f"{name[len(SHIPPED_PREFIX) :]}.yaml"
            if not path.is_file():
                known = shipped_names()
                close = difflib.get_close_matches(name, known, n=1)
                if close:
                    return (
                        None,
                        f"no library {name!r} ships with specc (did you mean {close[0]!r}?)",
                    )
                return None, f"no library {name!r} ships with specc (there are {', '.join(known)})"
            return path, ""
        path = folder / name
        try:
            is_file, exists = path.is_file(), path.exists()
        except (OSError, ValueError) as exc:
            return None, f"cannot read {name!r}: {getattr(exc, 'strerror', None) or exc}"
        if not is_file:
            what = "is not a file" if exists else "no such file"
            return None, (
                f"cannot read {display_path(path)}: {what} (a library's path is relative to "
                "the file that uses it; specc's own are specc/NAME)"
            )
        return path, ""

    def load(
        self,
        data: Any,
        source: SourceMap,
        folder_of: Any,
        chain: tuple[str, ...],
    ) -> list[_Library]:
        """The libraries a document uses, in order, each read (with those it uses) once;
        ``folder_of(loc)`` is the folder a ``use:`` entry's path is relative to."""
        found: list[_Library] = []
        for loc, name in self.use_list(data, source, ""):
            path, why = self.resolve(name, folder_of(loc))
            if path is None:
                self.problems.append(source.diagnostic(loc, why))
                continue
            real = os.path.realpath(path)
            if real in chain:
                names = [_shown(p) for p in (*chain, real)]
                self.problems.append(
                    source.diagnostic(
                        loc, f"libraries use one another in a cycle: {' -> '.join(names)}"
                    )
                )
                continue
            if real in self.read:
                found.append(self.read[real])
                continue
            if len(self.read) >= MAX_LIBRARIES:
                self.problems.append(
                    source.diagnostic(loc, f"a spec may use at most {MAX_LIBRARIES} libraries")
                )
                continue
            shown = _shown(path)
            try:
                loaded = load_text(read_text(path), shown)
            except SpecError as exc:
                self.problems += exc.diagnostics
                continue
            library = self.read[real] = _Library(shown, loaded)
            if not self.well_formed(library):
                continue
            folder = Path(path).parent
            self.load(loaded.data, loaded.source, lambda _loc, f=folder: f, (*chain, real))
            found.append(library)
        return found

    def well_formed(self, library: _Library) -> bool:
        """A library holds blocks (and may describe itself and use others), nothing else."""
        data, source = library.loaded.data, library.loaded.source
        good = True
        for key in data:
            if key not in LIBRARY_KEYS:
                good = False
                self.problems.append(
                    source.diagnostic(
                        (key,),
                        f"a block library holds {', '.join(LIBRARY_KEYS)} only, not {key!r}",
                        key=True,
                        hint="a library is a file of blocks; the model goes in the spec",
                    )
                )
        if not isinstance(data.get("blocks"), dict) or not data["blocks"]:
            good = False
            self.problems.append(
                source.diagnostic(
                    ("blocks",) if "blocks" in data else (),
                    "a block library needs blocks: a mapping of block names to blocks",
                )
            )
        return good


def _positions(source: SourceMap, prefix: Loc, origin: Origin) -> dict[str, dict[Loc, Position]]:
    """``source``'s positions under ``prefix``, each marked with ``origin`` (kept if it has one)."""
    out: dict[str, dict[Loc, Position]] = {"values": {}, "keys": {}}
    n = len(prefix)
    for kind in ("values", "keys"):
        for loc, pos in getattr(source, kind).items():
            if loc[:n] == prefix:
                out[kind][loc] = pos if len(pos) == 3 else (pos[0], pos[1], origin)
    return out


def uses_libraries(data: Any) -> bool:
    return isinstance(data, dict) and USE in data


def with_libraries(loaded: Loaded) -> tuple[Loaded, list[Diagnostic]]:
    """The spec with the blocks of every library it uses put under its ``blocks:`` (located
    in the library's file), ``use:`` removed; and the problems found doing it."""
    if not uses_libraries(loaded.data):
        return loaded, []
    reader = _Reader(loaded)
    spec_folder = Path(loaded.source.file).parent

    def folder_of(loc: Loc) -> Path:
        """A ``use:`` written in a base the variant extends is relative to the base's file."""
        found = loaded.source.locate(loc)
        if len(found) == 3 and not found[2].label:
            return Path(found[2].file).parent
        return spec_folder

    reader.load(loaded.data, loaded.source, folder_of, ())
    source = SourceMap(loaded.source.file, dict(loaded.source.values), dict(loaded.source.keys))
    source.yaml11.update(loaded.source.yaml11)
    own = loaded.data.get("blocks")
    blocks: dict[Any, Any] = {}
    owners: dict[str, Diagnostic] = {}
    problems = reader.problems
    for library in reader.read.values():
        lib_blocks = library.loaded.data.get("blocks")
        if not isinstance(lib_blocks, dict):
            continue
        lib_source = library.loaded.source
        origin = Origin(library.path)
        for name, block in lib_blocks.items():
            here = lib_source.diagnostic(("blocks", name), "", key=True)
            if name in owners:
                there = owners[name]
                problems.append(
                    lib_source.diagnostic(
                        ("blocks", name),
                        f"block {name!r} is defined by two libraries: here and at "
                        f"{there.file}:{there.line}:{there.col}",
                        key=True,
                        hint="a spec's blocks share one namespace; rename one of them",
                    )
                )
                continue
            owners[name] = here
            blocks[name] = block
            for kind, table in _positions(lib_source, ("blocks", name), origin).items():
                getattr(source, kind).update(table)
    if isinstance(own, dict):
        for name, block in own.items():
            if name in owners:
                there = owners[name]
                problems.append(
                    loaded.source.diagnostic(
                        ("blocks", name),
                        f"block {name!r} is also defined by a library this spec uses, at "
                        f"{there.file}:{there.line}:{there.col}",
                        key=True,
                        hint="rename this block: a spec's blocks and its libraries' share "
                        "one namespace",
                    )
                )
                continue
            blocks[name] = block
    elif own is not None:
        return loaded, problems  # not a mapping: expansion reports it
    data = {k: v for k, v in loaded.data.items() if k != USE}
    if blocks or own is not None:
        data["blocks"] = blocks
    if "blocks" not in loaded.data:
        source.values[("blocks",)] = loaded.source.locate((USE,))
    merged = Loaded(data, source, loaded.text, (*loaded.parts, *_texts(reader)), loaded.overrides)
    return merged, problems


def _texts(reader: _Reader) -> tuple[str, ...]:
    """The libraries' texts (a digest of the spec covers what it uses)."""
    return tuple(library.loaded.text for library in reader.read.values())


def library_blocks(name: str) -> tuple[str, dict[str, Any]]:
    """A library's description and blocks: ``specc/NAME``, or a file relative to the
    working directory. Raises SpecError (exit code 2) naming what cannot be read."""
    reader = _Reader(Loaded({}, SourceMap(name), ""))
    path, why = reader.resolve(name, Path.cwd())
    if path is None:
        raise SpecError([Diagnostic(why, file=name)], 2)
    library = _Library(_shown(path), load_text(read_text(path), _shown(path)))
    if not reader.well_formed(library):
        raise SpecError(reader.problems)
    data = library.loaded.data
    return str(data.get("description", "")), dict(data["blocks"])


def describe(names: list[str]) -> str:
    """The blocks of each library (every shipped one when none is named), one line per
    block with its parameters and defaults, then its description: ``specc blocks``."""
    from specc.language.blocks import REQUIRED_MARK

    lines: list[str] = []
    for name in names or shipped_names():
        about, blocks = library_blocks(name)
        lines.append(f"{name}: {about}" if about else name)
        for block, body in blocks.items():
            params = body.get("params") if isinstance(body, dict) else None
            if isinstance(params, dict):
                shown = [p if v == REQUIRED_MARK else f"{p}={_value(v)}" for p, v in params.items()]
            else:
                shown = [str(p) for p in params or ()]
            lines.append(f"  {block}({', '.join(shown)})")
            text = body.get("description") if isinstance(body, dict) else None
            if isinstance(text, str) and text:
                lines += [f"      {line}" for line in textwrap.wrap(text, 84)]
        lines.append("")
    return "\n".join(lines)


def _value(value: Any) -> str:
    """A default as YAML writes it (``1.0e-06``, ``true``, ``relu``)."""
    return dump_yaml(value, default_flow_style=True).strip().removesuffix("...").strip()
