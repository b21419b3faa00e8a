"""One error type for every user-facing problem, and its three renderings.

Every stage (loader, schema, checks, graph) reports :class:`Diagnostic` objects with a
file position, so the CLI can print ``path:line:col: error: loc: message`` for all of a
file's problems at once instead of stopping at the first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field

Loc = tuple[str | int, ...]


def format_loc(loc: Loc) -> str:
    """Render a YAML path the way users read it.

    >>> format_loc(("model", "layers", 3, "filters"))
    'model.layers[3].filters'
    >>> format_loc(())
    ''
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


@dataclass(frozen=True)
class Diagnostic:
    """A located problem in a spec file."""

    message: str
    file: str = "<spec>"
    line: int = 1
    col: int = 1
    loc: Loc = ()
    hint: str | None = None
    severity: str = "error"
    origin: str | None = None
    """Where the value came from when it is not written in ``file``: ``--set #2 (PATH=VALUE)``
    (then ``line`` and ``col`` are 0: the command line has no place in the file)."""

    def text(self) -> str:
        where = format_loc(self.loc)
        head = f"{self.file}:{self.line}:{self.col}: {self.severity}: "
        if self.origin:
            head = f"{self.file}: {self.origin}: {self.severity}: "
        body = f"{where}: {self.message}" if where else self.message
        return head + body + (f" ({self.hint})" if self.hint else "")

    def github(self) -> str:
        def esc(s: str) -> str:
            return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

        def esc_prop(s: str) -> str:
            return esc(s).replace(":", "%3A").replace(",", "%2C")

        where = format_loc(self.loc)
        body = f"{where}: {self.message}" if where else self.message
        if self.hint:
            body += f" ({self.hint})"
        if self.origin:
            return f"::{self.severity} file={esc_prop(self.file)}::{esc(self.origin)}: {esc(body)}"
        return (
            f"::{self.severity} file={esc_prop(self.file)},line={self.line},col={self.col}::"
            f"{esc(body)}"
        )

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["loc"] = format_loc(self.loc)
        if self.origin is None:
            del d["origin"]
        return d


@dataclass
class SpecError(Exception):
    """Raised by the API when a spec is invalid; carries every diagnostic found."""

    diagnostics: Sequence[Diagnostic] = field(default_factory=list)
    exit_code: int = 1

    def __str__(self) -> str:
        return "\n".join(d.text() for d in self.diagnostics)


class PluginError(Exception):
    """A ``--plugin`` that cannot be used (its import fails, it lacks the class the spec
    names, the class is no Keras layer): the command line's fault, not the spec's: one
    line, exit 2."""


class KerasMissingError(ImportError):
    """Keras is needed (``build_model``) but not installed; the message says what to install."""


def render(diags: Iterable[Diagnostic], fmt: str) -> str:
    """Render diagnostics as ``text``, ``github`` or ``json`` lines."""
    diags = list(diags)
    if fmt == "json":
        return json.dumps([d.as_dict() for d in diags], indent=2)
    if fmt == "github":
        return "\n".join(d.github() for d in diags)
    return "\n".join(d.text() for d in diags)
