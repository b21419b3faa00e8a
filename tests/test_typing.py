"""The package ships ``py.typed``, so its annotations are checked (``make test`` runs mypy,
configured in pyproject's ``tool.mypy``). A silenced error must say which one and why: every
``# type: ignore`` in ``compiler/specc`` names its codes and gives a reason on the same line,
so a reader (and ``warn_unused_ignores``) can tell when it is no longer needed."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "compiler" / "specc"

IGNORE = re.compile(r"#\s*type:\s*ignore\b(?P<rest>.*)")
"""A mypy ignore comment, with what follows it."""

EXPLAINED = re.compile(r"\[[a-z-]+(?:,\s*[a-z-]+)*\]\s+#\s*\S.*")
"""What must follow: ``[code, ...]`` then ``# reason``."""


def unexplained(source: str, name: str = "<src>") -> list[str]:
    """``name:line: comment`` for every ``# type: ignore`` comment in ``source`` without
    error codes and a reason (comments only: strings that mention it are not ignores).

    >>> unexplained("x = f()  # type: ignore\\n")
    ['<src>:1: # type: ignore']
    >>> unexplained("x = f()  # type: ignore[attr-defined]\\n")
    ['<src>:1: # type: ignore[attr-defined]']
    >>> unexplained("x = f()  # type: ignore[attr-defined]  # Pydantic adds it\\n")
    []
    >>> unexplained("s = '# type: ignore'\\n")
    []
    """
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        match = IGNORE.search(token.string)
        if match and not EXPLAINED.fullmatch(match.group("rest")):
            found.append(f"{name}:{token.start[0]}: {token.string}")
    return found


def test_every_type_ignore_names_its_code_and_says_why() -> None:
    """A bare ``# type: ignore`` (or one without a reason) in the package fails, naming it."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        found += unexplained(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE)))
    assert not found, "type: ignore without [code] and '# reason':\n" + "\n".join(found)


def test_no_module_has_its_type_errors_silenced_wholesale() -> None:
    # issue 18 item 5: every module is checked; a silenced error is one ignore with a reason
    import tomllib

    config = tomllib.loads((PACKAGE.parent.parent / "pyproject.toml").read_text())
    silenced = [
        override["module"]
        for override in config["tool"]["mypy"].get("overrides", [])
        if override.get("ignore_errors")
    ]
    assert silenced == []
