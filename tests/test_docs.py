"""The documentation: README.md and docs/*.md say what is true and link where they say.

The spec reference is generated from the catalog and kept fresh; every relative link and
anchor resolves as GitHub and MkDocs resolve them; the architecture page names every
module of the package, and no page names a module or repository file that does not
exist; the site builds with ``mkdocs build --strict`` where MkDocs is installed.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import annotated_types
import pytest

from specc.language.reference import REFERENCE_FILE, REGENERATE, reference_markdown
from specc.layers import CATALOG
from specc.terms import objects
from tests.helpers import ROOT

DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
PACKAGE = ROOT / "compiler" / "specc"


# ------------------------------------------------------------------ Markdown, as read
def _prose(text: str) -> list[str]:
    """The lines outside fenced code blocks (where links and headings live)."""
    lines, fence = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fence = not fence
            continue
        if not fence:
            lines.append(line)
    return lines


def _headings(text: str) -> list[str]:
    """Each ATX heading's text as rendered: code spans, links and emphasis reduced."""
    out = []
    for line in _prose(text):
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", match.group(1))
            out.append(title.replace("`", "").replace("*", ""))
    return out


def github_slug(title: str) -> str:
    """GitHub's anchor: lower case, punctuation dropped (not - or _), spaces to -.

    >>> github_slug("What `validate` checks"), github_slug("Reproducing the blog: 99.1 %")
    ('what-validate-checks', 'reproducing-the-blog-991-')
    """
    kept = "".join(c for c in title.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def mkdocs_slug(title: str) -> str:
    """Python-Markdown's ``toc`` slugify, which MkDocs uses.

    >>> mkdocs_slug("Reproducing the blog: 99.1 %"), mkdocs_slug("losses.Huber")
    ('reproducing-the-blog-991', 'losseshuber')
    """
    value = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


@functools.cache
def anchors(page: Path) -> frozenset[str]:
    """The anchors that both GitHub and MkDocs give the page's headings (duplicates
    numbered as each numbers them)."""
    github: set[str] = set()
    mkdocs: set[str] = set()
    for title in _headings(page.read_text("utf-8")):
        for slug, seen, sep in (
            (github_slug(title), github, "-"),
            (mkdocs_slug(title), mkdocs, "_"),
        ):
            n, candidate = 0, slug
            while candidate in seen:
                n += 1
                candidate = f"{slug}{sep}{n}"
            seen.add(candidate)
    return frozenset(github & mkdocs)


LINK = re.compile(
    r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)|<img [^>]*src=\"([^\"]+)\""
)


def links(page: Path) -> list[str]:
    """Every link target and image source outside code (fenced blocks and code spans)."""
    out = []
    for line in _prose(page.read_text("utf-8")):
        line = re.sub(r"`[^`]*`", "``", line)
        out.extend(next(g for g in m.groups() if g) for m in LINK.finditer(line))
    return out


# ------------------------------------------------------------------------- reference
def test_reference_is_fresh(specc):
    """docs/reference.md is what the catalog renders (regenerate: the message says how)."""
    checked_in = (ROOT / REFERENCE_FILE).read_text("utf-8")
    assert checked_in == reference_markdown(), f"{REFERENCE_FILE} is stale: run `{REGENERATE}`"
    assert specc("reference").stdout == checked_in


def test_reference_writes_a_file(specc, tmp_path: Path):
    target = tmp_path / "reference.md"
    result = specc("reference", "-o", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert target.read_text("utf-8") == (ROOT / REFERENCE_FILE).read_text("utf-8")
    (tmp_path / "blocker").write_text("a file where a folder must be")
    result = specc("reference", "-o", str(tmp_path / "blocker" / "reference.md"))
    assert result.exit_code == 2
    assert "cannot write" in result.stderr and "Traceback" not in result.stderr


def _section(text: str, heading: str) -> str:
    """The text under ``heading`` (a line of its own) up to the next heading."""
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    end = text.find("\n#", start)
    return text[start : end if end >= 0 else None]


def _rows(section: str) -> dict[str, list[str]]:
    """``key`` -> its row's cells (type, default, description)."""
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\| `([^`]+)` \| (.*) \|$", line)
        if match:
            rows[match.group(1)] = re.split(r"(?<!\\) \| ", match.group(2))
    return rows


def _shown(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value) if not isinstance(value, float) else repr(value)


def _bounds(field: object) -> list[tuple[str, object]]:
    """The numeric bounds a declaration puts on a field itself (Pydantic metadata)."""
    out: list[tuple[str, object]] = []
    for meta in getattr(field, "metadata", []):
        for kind in ("ge", "gt", "le", "lt"):
            if isinstance(meta, getattr(annotated_types, kind.capitalize())):
                out.append((kind, getattr(meta, kind)))
    return out


def _check_declaration(text: str, heading: str, cls: type, skip: tuple[str, ...]) -> None:
    rows = _rows(_section(text, heading))
    fields = {(f.alias or k): f for k, f in cls.model_fields.items() if (f.alias or k) not in skip}
    assert set(rows) == set(fields), heading
    for name, field in fields.items():
        type_cell, default_cell, description = rows[name]
        if field.is_required():
            assert default_cell == "*required*", (heading, name)
        elif field.default_factory is None and field.default is not None:
            assert default_cell == f"`{_shown(field.default)}`", (heading, name, default_cell)
        for kind, bound in _bounds(field):
            if isinstance(bound, int) and bound in (2**63 - 1,):
                continue
            if type_cell.startswith("integer") and kind in ("gt", "lt"):
                bound = bound + 1 if kind == "gt" else bound - 1
            assert _shown(bound) in type_cell, (heading, name, kind, bound, type_cell)
        assert description.strip(), (heading, name)


def test_reference_lists_every_layer_argument_default_and_range():
    """Every catalog layer has its section; every argument its row, whose default is the
    declaration's (Keras' own) and whose type shows the declaration's bounds."""
    text = (ROOT / REFERENCE_FILE).read_text("utf-8")
    for tag, cls in CATALOG.registered().items():
        assert f"`keras.{cls.KERAS_PATH}`" in _section(text, f"#### {tag}")
        _check_declaration(text, f"#### {tag}", cls, skip=("type", "name"))
    rate = _rows(_section(text, "#### Dropout"))["rate"]
    assert rate[0] == "number, 0 ≤ x < 1" and rate[1] == "*required*"
    assert _rows(_section(text, "#### Conv2D"))["filters"][0] == "integer ≥ 1"


def test_reference_lists_every_keras_object():
    text = (ROOT / REFERENCE_FILE).read_text("utf-8")
    for module, declared in objects.DECLARED.items():
        for name in declared:
            cls = objects.object_class(module, name)
            _check_declaration(text, f"#### {module}.{name}", cls, skip=("type",))
    for name in objects.LOSS_NAMES:
        assert f"`{name}`" in _section(text, "### losses")
    huber = _rows(_section(text, "#### losses.Huber"))["delta"]
    assert huber[:2] == ["number > 0", "`1.0`"]


# ------------------------------------------------------------------------ the README
def test_readme_is_short_and_keeps_what_ci_and_newcomers_use():
    text = (ROOT / "README.md").read_text("utf-8")
    assert len(text.splitlines()) <= 300
    for needed in (
        "make run    # validate every spec in specs/ and print the blog model's layer table",
        "make test   # lint, validate specs, run the test suite (slow trainings excluded)",
        "CI (`.ci/run`) runs `make test`.",
        "pip install .",
        "pip install '.[keras]'",
        '<img src="docs/mnist_cnn.svg"',
    ):
        assert needed in text, needed
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    # the commands table names every command the CLI has
    from specc.cli import cli

    table = [line for line in text.splitlines() if line.startswith("| `specc ")]
    assert sorted(line.split()[2].strip("`") for line in table) == sorted(cli.commands)


# --------------------------------------------------------------------------- links
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_and_anchor_resolves(page: Path):
    """Files exist; #anchors are headings of the target page as GitHub and MkDocs slug
    them; a docs page links only inside docs/ (the site holds nothing else)."""
    broken = []
    for target in links(page):
        if re.match(r"^[a-z]+:", target):
            continue  # https:, mailto: (no network here)
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
            continue
        if page.parent == DOCS and DOCS.resolve() not in file.parents and file != page:
            broken.append(f"{target}: outside docs/, which the site does not hold")
        if anchor and (file.suffix != ".md" or anchor not in anchors(file)):
            broken.append(f"{target}: no heading #{anchor} in {file.name}")
    assert broken == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_code_span_in_a_table_holds_a_pipe(page: Path):
    """GitHub splits a table row at a pipe even inside a code span unless it is escaped,
    and MkDocs then shows the backslash: a table cell's code says its choices otherwise."""
    rows = [line for line in _prose(page.read_text("utf-8")) if line.startswith("|")]
    assert [row for row in rows if any("|" in code for code in re.findall(r"`[^`]*`", row))] == []


def test_the_link_checker_catches_what_it_must(tmp_path: Path):
    """The checker itself: a missing file, a missing anchor and an anchor only one of the
    two renderers makes are each found."""
    (tmp_path / "b.md").write_text("# Reproducing the blog: 99.1 %\n\n## Plain `code` heading\n")
    assert anchors(tmp_path / "b.md") == {"plain-code-heading"}
    page = tmp_path / "a.md"
    page.write_text("[x](b.md#plain-code-heading) [y](c.md) `[z](nope.md)`\n```\n[w](no.md)\n```\n")
    assert links(page) == ["b.md#plain-code-heading", "c.md"]


# ---------------------------------------------------------------------- architecture
def _modules() -> list[str]:
    found = [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.jinja")]
    return sorted(p.relative_to(ROOT).as_posix() for p in found if "__pycache__" not in p.parts)


def test_architecture_page_lists_every_module():
    text = (DOCS / "architecture.md").read_text("utf-8")
    listed = set(re.findall(r"^\| `(compiler/specc/[^`]+)` \| \S", text, re.MULTILINE))
    assert [m for m in _modules() if m not in listed] == []


MODULE_NAMES = (
    (re.compile(r"compiler/specc/[\w/.]*\w"), ""),
    (re.compile(r"(?<![\w/])((?:language|layers|analysis|backends|training)/[\w/]*\.(?:py|jinja))(?![\w.])"),
     "compiler/specc/"),
    (re.compile(r"\bspecc/((?:language|layers|analysis|backends|training)/[\w/]*\.(?:py|jinja))(?![\w.])"),
     "compiler/specc/"),
)  # fmt: skip
REPO_PATH = re.compile(r"`((?:specs|tests|bench|generated|docs|compiler)/[^`\s<>*…]*)`")


def named_paths(text: str) -> set[str]:
    """Repository paths a page names: modules (full, relative to the package, or
    ``specc.x.y`` dotted) and code-span paths of the repository's folders."""
    out = set()
    for pattern, prefix in MODULE_NAMES:
        out.update(prefix + m for m in pattern.findall(text))
    for sub, module in re.findall(
        r"\bspecc\.(language|layers|analysis|backends|training)\.(\w+)", text
    ):
        out.add(f"compiler/specc/{sub}/{module}.py")
    for path in REPO_PATH.findall(text):
        if "..." not in path:
            out.add(path.split("::")[0].rstrip("/"))
    return out


def test_no_page_names_a_file_that_does_not_exist():
    missing = {
        f"{page.relative_to(ROOT)}: {path}"
        for page in PAGES
        for path in named_paths(page.read_text("utf-8"))
        if not (ROOT / path).exists()
    }
    assert sorted(missing) == []


def test_named_paths_finds_modules_in_every_form():
    text = (
        "`compiler/specc/language/loader.py`, `language/nothing.py`, "
        "specc.training.gone.run and `tests/nope.py::x`, `generated/<name>.py`"
    )
    assert named_paths(text) == {
        "compiler/specc/language/loader.py",
        "compiler/specc/language/nothing.py",
        "compiler/specc/training/gone.py",
        "tests/nope.py",
    }


# ---------------------------------------------------------------------------- MkDocs
MKDOCS = shutil.which("mkdocs", path=str(Path(sys.executable).parent)) or shutil.which("mkdocs")


@pytest.mark.skipif(MKDOCS is None, reason="needs mkdocs: pip install 'specc[docs]'")
def test_mkdocs_builds_the_site_strictly(tmp_path: Path):
    """``mkdocs build --strict``: every page in the nav, every link and anchor found."""
    run = subprocess.run(
        [MKDOCS, "build", "--strict", "-d", str(tmp_path / "site")],  # type: ignore[list-item]
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "site" / "reference" / "index.html").exists()
    assert (tmp_path / "site" / "mnist_cnn.svg").exists()
