"""The ``specc`` command line: a thin layer over the pipeline and the back ends.

Exit codes: 0 ok, 1 invalid spec / stale output / failed training, 2 usage or unreadable
input or a failed write, 130 interrupted, 141 stdout closed early (``| head``). Every
user-facing problem is printed as ``file:line:col: error: loc: message``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shlex
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from specc.errors import Diagnostic, KerasMissingError, PluginError, SpecError, render

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130
EXIT_CLOSED_PIPE = 141
"""128 + SIGPIPE: what a shell reports for ``cat big | head -1``; never 1 ("invalid")."""
FORMATS = click.Choice(["text", "json", "github"])

EPILOG = """\b
Exit codes: 0 ok; 1 invalid spec, stale generated code or failed training;
2 usage error, unreadable input or a failed write; 130 interrupted;
141 output closed early (e.g. piped into head).
"""


def plural(n: int, word: str) -> str:
    """A count and its noun, singular for one.

    >>> plural(1, "layer"), plural(13, "layer"), plural(43290, "param")
    ('1 layer', '13 layers', '43,290 params')
    """
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _closed_pipe() -> NoReturn:
    """The reader went away (``specc schema | head -1``): stop quietly, as Python's docs advise.

    Point stdout and stderr at devnull so the interpreter's final flush cannot fail again.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):  # in-memory in tests
            os.dup2(devnull, stream.fileno())
    os.close(devnull)
    sys.exit(EXIT_CLOSED_PIPE)


def _cannot_write(exc: OSError, path: str | os.PathLike[str] | None = None) -> NoReturn:
    """One line for a failed write, naming the file meant; exit 2."""
    where = exc.filename if exc.filename is not None else path
    reason = exc.strerror or str(exc)
    click.echo(
        f"{where}: error: cannot write: {reason}" if where else f"error: cannot write: {reason}",
        err=True,
    )
    sys.exit(EXIT_USAGE)


def _first_line(exc: BaseException, limit: int = 300) -> str:
    """``Type: first line of the message``, short enough for one terminal line or two."""
    line = next((part.strip() for part in str(exc).splitlines() if part.strip()), "")
    if len(line) > limit:
        line = line[: limit - 1] + "…"
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


def _keras_failed(spec: str, what: str, exc: Exception) -> NoReturn:
    """Keras raised: the spec passed our checks but Keras disagrees. One line, exit 1.

    Keras that cannot be imported (no TensorFlow) is no fault of the spec: exit 2.
    """
    if isinstance(exc, KerasMissingError):
        _keras_missing(exc)
    click.echo(f"{spec}: error: {what}: {_first_line(exc)}", err=True)
    sys.exit(EXIT_INVALID)


def _keras_missing(exc: KerasMissingError) -> NoReturn:
    """Keras or its backend is not installed: one line saying what to install, exit 2."""
    click.echo(f"error: {exc}", err=True)
    sys.exit(EXIT_USAGE)


def _utf8(stream: Any) -> bool:
    import codecs

    try:
        return codecs.lookup(getattr(stream, "encoding", None) or "utf-8").name == "utf-8"
    except LookupError:
        return False


class _Group(click.Group):
    """Turns a closed stdout and Ctrl-C into exit codes before click makes them exit 1."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:  # --help and --version print while parsing
            return super().make_context(*args, **kwargs)
        except BrokenPipeError:
            _closed_pipe()

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _closed_pipe()
        except KerasMissingError as exc:
            _keras_missing(exc)
        except PluginError as exc:  # a --plugin that cannot be used
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_USAGE)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)


def _report(diags: Sequence[Diagnostic], fmt: str = "text") -> None:
    """Text diagnostics go to stderr; json and github annotations to stdout."""
    if fmt == "text":
        click.echo(render(diags, "text"), err=True)
    else:
        click.echo(render(diags, fmt))


def _spec_files(paths: Sequence[str]) -> tuple[list[Path], list[Diagnostic]]:
    """Every spec file named by ``paths`` (folders searched), and one diagnostic per empty
    folder and per folder that cannot be read (both exit 2)."""
    from specc.files import find_specs

    files: list[Path] = []
    problems: list[Diagnostic] = []
    for given in paths:
        found, unreadable = find_specs(given)
        problems.extend(unreadable)
        if not found and not unreadable:
            problems.append(Diagnostic("no *.yaml or *.yml files in this folder", file=given))
        files.extend(found)
    return files, problems


SET_HELP = (
    "Override a value before validating: PATH=VALUE, repeatable, applied in order. VALUE is "
    "YAML (1e-3 a float, [3, 3] a list, {type: Dense, units: 8} a mapping); ~ deletes; a "
    "last step [+N] inserts a list item before index N. "
    "E.g. --set training.epochs=3 --set 'model.layers[1]={type: BatchNormalization}' "
    "--set 'model.layers[+1]={type: Dropout, rate: 0.1}' --set 'model.layers[7]=~'."
)


def set_option(help: str = SET_HELP):
    """The ``--set PATH=VALUE`` option of every command that reads a spec."""
    return click.option("--set", "sets", metavar="PATH=VALUE", multiple=True, help=help)


def _overrides(sets: Sequence[str], flag: str = "--set") -> list[Any]:
    """The parsed ``--set`` (or ``flag``) overrides, or one line and exit 2 for one that
    cannot be read."""
    from specc.language.overrides import OverrideError, parse_all

    try:
        return parse_all(sets, flag)
    except OverrideError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)


PLUGIN_HELP = (
    "Allow the spec to use classes (layers, losses, metrics) of this Python module: an "
    "importable name (mypkg.layers: type: mypkg.layers.TransformerBlock) or a .py file, "
    "relative to the current folder (my_layers.py: type: my_layers.TransformerBlock). "
    "Repeatable. Without it no code is imported and every such class is an error at its "
    "line. A spec that uses a plugin layer imports Keras, which computes its shapes and "
    "parameters."
)


def plugin_option(help: str = PLUGIN_HELP):
    """The ``--plugin MODULE`` option of every command that reads specs or models."""
    return click.option("--plugin", "plugin", metavar="MODULE", multiple=True, help=help)


def _plugins(given: Sequence[str]) -> Any:
    """The plugins ``--plugin`` allows (nothing imported yet), or one line and exit 2."""
    if not given:
        return None
    from specc.backends.plugins import load

    try:
        return load(given)
    except PluginError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)


def _compile_checked(spec: str | Path, overriding: Sequence[Any] = (), plugins: Any = None):
    """Compile one spec; an unexpected exception becomes a one-line internal error.

    A bug in specc tripped by one file must not hide the results of the others (nor
    print a traceback): it is reported against that file and counts as invalid (exit 1).
    """
    from specc.analysis.pipeline import compile_file
    from specc.language.loader import display_path

    try:
        return compile_file(spec, overriding, plugins)
    except (SpecError, PluginError):
        raise
    except Exception as exc:
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())
        detail = detail if len(detail) <= 200 else detail[:197] + "..."
        message = f"internal error: {detail} (a bug in specc; please report it with this file)"
        raise SpecError([Diagnostic(message, file=display_path(spec))], EXIT_INVALID) from exc


def _compile(spec: str, fmt: str = "text", overriding: Sequence[Any] = (), plugins: Any = None):
    """Compile one spec or exit with its diagnostics."""
    try:
        compiled = _compile_checked(spec, overriding, plugins)
    except SpecError as exc:
        _report(exc.diagnostics, "github" if fmt == "github" else "text")
        sys.exit(exc.exit_code)
    if compiled.warnings:
        _report(compiled.warnings, "github" if fmt == "github" else "text")
    return compiled


def _located(compiled: Any) -> Any:
    """``compiled`` once every sub-model's weights file is found (before Keras loads), or
    exit 1 with each missing file at its line."""
    from specc.analysis.pipeline import locate_weights

    try:
        locate_weights(compiled)
    except SpecError as exc:
        _report(exc.diagnostics, "text")
        sys.exit(exc.exit_code)
    return compiled


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EPILOG,
)
@click.version_option(package_name="specc")
def cli() -> None:
    """specc: compile a YAML model spec into a checked Keras model or training script.

    \b
    Quick start:
      specc validate specs/              check every spec, all errors at once
      specc summary specs/mnist_cnn.yaml the layer table Keras would print
      specc summary SPEC --set training.epochs=3   any command: override values
      specc diff A.yaml B.yaml           what changes, in values, layers and params
      specc schema > specc.schema.json   JSON Schema for editor autocompletion
      specc reference                    every layer and argument, as Markdown
      specc build specs/mnist_cnn.yaml   the Keras model, saved as build/mnist_cnn.keras
      specc import model.keras           a spec from an existing Keras model
      specc emit-code specs/             standalone training scripts in generated/
      specc emit-code --check specs/     CI: fail with a diff if generated/ is stale
      specc train specs/mnist_cnn.yaml --data mnist.npz   train, evaluate, write runs/...
      specc diagram specs/mnist_cnn.yaml -o model.png      the network as a picture
      specc report runs/<run>/           the run's HTML report, again
      specc sweep specs/mnist_cnn.yaml --grid 'model.layers[11].rate=[0.2,0.5]'   compare
    """


@cli.command(epilog=EPILOG)
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=FORMATS,
    default="text",
    show_default=True,
    help="text for people, json for tools, github for Actions annotations.",
)
@set_option(SET_HELP + " Applied to every spec checked.")
@plugin_option()
def validate(
    paths: tuple[str, ...], fmt: str, sets: tuple[str, ...], plugin: tuple[str, ...]
) -> None:
    """Check spec files (or folders of *.yaml/*.yml) without TensorFlow.

    Reports every problem of every file, each with file:line:col, and a layer and
    parameter count for each valid spec. A problem in a value an override gave is
    reported as SPEC: --set #N (PATH=VALUE): error: ...
    """
    from specc.language.loader import display_path

    overriding = _overrides(sets)
    plugins = _plugins(plugin)
    files, empty = _spec_files(paths)
    code = EXIT_USAGE if empty else EXIT_OK
    results: list[dict] = [{"file": d.file, "valid": False, "diagnostics": [d]} for d in empty]
    for file in files:
        try:
            compiled = _compile_checked(file, overriding, plugins)
        except SpecError as exc:
            results.append(
                {"file": display_path(file), "valid": False, "diagnostics": list(exc.diagnostics)}
            )
            code = max(code, exc.exit_code)
            continue
        g = compiled.graph
        results.append(
            {
                "file": compiled.file,
                "valid": True,
                "diagnostics": list(compiled.warnings),
                "layers": len(g.layers),
                "total_params": g.total_params,
            }
        )
    if fmt == "json":
        out = [dict(r, diagnostics=[d.as_dict() for d in r["diagnostics"]]) for r in results]
        click.echo(json.dumps({"valid": code == EXIT_OK, "files": out}, indent=2))
    else:
        for r in results:
            if r["valid"]:
                if r["diagnostics"]:  # warnings
                    _report(r["diagnostics"], fmt)
                click.echo(
                    f"{r['file']}: ok ({plural(r['layers'], 'layer')}, {plural(r['total_params'], 'param')})"
                )
            else:
                _report(r["diagnostics"], fmt)
        bad = sum(not r["valid"] for r in results)
        if len(results) > 1:
            click.echo(f"{len(results) - bad} valid, {bad} invalid", err=bad > 0)
    sys.exit(code)


@cli.command(epilog=EPILOG)
@click.argument("spec", type=click.Path())
@set_option()
@plugin_option()
def expand(spec: str, sets: tuple[str, ...], plugin: tuple[str, ...]) -> None:
    """Print SPEC flat: a variant merged with its bases, overrides applied, blocks expanded.

    Each {block: NAME, ...} becomes the block's layers with its parameters filled in,
    repeated as asked; references inside a block become ids of the expanded layers
    (spec-only labels: Keras names stay automatic). The spec is checked first.
    """
    from specc.language import blocks

    compiled = _compile(spec, overriding=_overrides(sets), plugins=_plugins(plugin))
    click.echo(blocks.to_yaml(compiled.data), nl=False)


@cli.command(epilog=EPILOG)
@click.argument("libraries", nargs=-1)
def blocks(libraries: tuple[str, ...]) -> None:
    """List the blocks of block libraries, with their parameters and defaults.

    LIBRARIES are what a spec's use: names: specc/NAME (shipped) or a file's path; none:
    every library shipped with specc (a parameter without a default must be given).
    """
    from specc.language import libraries as libs

    try:
        click.echo(libs.describe(list(libraries)), nl=False)
    except SpecError as exc:
        _report(exc.diagnostics, "text")
        sys.exit(exc.exit_code)


@cli.command(epilog=EPILOG)
@click.argument("spec", type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: the table model.summary() prints; json: the same as data.",
)
@click.option(
    "--expand-nested",
    is_flag=True,
    help="Also list the layers of each sub-model and nested Sequential, indented, as "
    "model.summary(expand_nested=True) does (json: under the row's layers).",
)
@set_option()
@plugin_option()
def summary(
    spec: str, fmt: str, expand_nested: bool, sets: tuple[str, ...], plugin: tuple[str, ...]
) -> None:
    """Print the layer table of SPEC: names, output shapes, parameters, as Keras computes them.

    With --format json an invalid spec prints {"file", "valid": false, "diagnostics"}
    (exit 1, or 2 if unreadable).
    """
    from specc.backends import table

    overriding = _overrides(sets)
    plugins = _plugins(plugin)
    if fmt == "json":
        from specc.analysis.pipeline import compile_file
        from specc.language.loader import display_path

        try:
            compiled = compile_file(spec, overriding, plugins)
        except SpecError as exc:
            diags = [d.as_dict() for d in exc.diagnostics]
            out = {"file": display_path(spec), "valid": False, "diagnostics": diags}
            click.echo(json.dumps(out, indent=2))
            sys.exit(exc.exit_code)
        if compiled.warnings:
            _report(compiled.warnings)
        found = table.as_dict(compiled.graph, expand_nested=expand_nested)
        found |= table.fine_tune_dict(compiled.spec, compiled.graph)
        click.echo(json.dumps(found, indent=2))
        return
    compiled = _compile(spec, overriding=overriding, plugins=plugins)
    text = table.as_text(compiled.graph, expand_nested=expand_nested)
    text += table.fine_tune_text(compiled.spec, compiled.graph)
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:  # cp1252, ascii: the box Keras draws there
        text = table.as_text(compiled.graph, ascii_only=True, expand_nested=expand_nested)
        text += table.fine_tune_text(compiled.spec, compiled.graph)
        text = text.encode(encoding, "replace").decode(encoding)
    except LookupError:
        pass
    click.echo(text, nl=False)


@cli.command(epilog=EPILOG)
@click.argument("a", type=click.Path())
@click.argument("b", type=click.Path(), required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people; json: {a, b, same, values, layers, totals}.",
)
@set_option("Override a value of B (the new side): PATH=VALUE, as for validate.")
@click.option(
    "--set-a", "sets_a", metavar="PATH=VALUE", multiple=True, help="Override a value of A."
)
@plugin_option()
def diff(
    a: str, b: str | None, fmt: str, sets: tuple[str, ...], sets_a: tuple[str, ...],
    plugin: tuple[str, ...],
) -> None:  # fmt: skip
    """Compare two specs as resolved, not as text: values by spec path, then each layer
    whose output shape or parameters change, and the totals. Exit 0 whether or not they
    differ (json's "same" says which).

    \b
    B defaults to A, so --set previews an override:
      specc diff specs/mnist_cnn.yaml specs/mnist_cnn_batchnorm.yaml
      specc diff specs/mnist_cnn.yaml --set 'model.layers[6].filters=32'
    """
    from specc.backends import diff as compare

    plugins = _plugins(plugin)
    old = _compile(a, overriding=_overrides(sets_a, "--set-a"), plugins=plugins)
    new = _compile(b or a, overriding=_overrides(sets), plugins=plugins)
    result = compare.diff(old, new)
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
    else:
        click.echo(compare.as_text(result), nl=False)


OUTPUT_OPTION = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write to this file (atomically) instead of stdout.",
)
"""``-o FILE`` of the commands that print one text (schema, reference): see _write_or_print."""


@cli.command(epilog=EPILOG)
@OUTPUT_OPTION
def schema(output: str | None) -> None:
    """Print the JSON Schema of the spec language.

    Reference it from a spec's first line so editors complete and check keys:

    \b
      # yaml-language-server: $schema=../specc.schema.json
    """
    from specc.language.jsonschema import json_schema_text

    text = json_schema_text()
    _write_or_print(text, output)


def _write_or_print(text: str, output: str | None) -> None:
    """``text`` to ``output`` (atomically; exit 2 when it cannot be written), else stdout."""
    if output:
        from specc.files import write_atomic

        try:
            write_atomic(output, text)
        except OSError as exc:
            _cannot_write(exc, output)
    else:
        click.echo(text, nl=False)


@cli.command(epilog=EPILOG)
@OUTPUT_OPTION
def reference(output: str | None) -> None:
    """Print the spec reference as Markdown: every section, layer and Keras object.

    Each argument with its type, default, range and description, from the catalog (the
    checked-in copy is docs/reference.md: specc reference -o docs/reference.md).
    """
    from specc.language.reference import reference_markdown

    text = reference_markdown()
    _write_or_print(text, output)


@cli.command("emit-code", epilog=EPILOG)
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False),
    help="Folder for the emitted <name>.py files.  [default: generated; required with --set]",
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; print a unified diff of every stale file and exit 1 if any.",
)
@click.option(
    "--tracked",
    is_flag=True,
    help="Only the specs git tracks or has staged (the pre-commit hook): a new spec not yet "
    "added fails no unrelated commit.",
)
@set_option(
    SET_HELP + " Applied to every spec; the header records them; needs -o (the default "
    "folder holds each spec's own code)."
)
@plugin_option(
    PLUGIN_HELP + " The script imports the module (a file: loads it by its path relative "
    "to the script's folder) and registers its classes for saving and loading."
)
def emit_code(
    paths: tuple[str, ...], output_dir: str | None, check: bool, tracked: bool,
    sets: tuple[str, ...], plugin: tuple[str, ...],
) -> None:  # fmt: skip
    """Emit a standalone Keras training script for each spec (files or folders).

    The script needs only keras and numpy (matplotlib for its curves), never specc. Output is
    deterministic, formatted as ruff and black format code by default, and headed
    "Code generated by specc ... DO NOT EDIT".
    Use --check in CI to prove the checked-in code is fresh.
    """
    from specc.backends import codegen

    overriding = _overrides(sets)
    if overriding and output_dir is None:
        click.echo(
            "error: emit-code --set needs -o DIR: generated/ holds each spec's own code "
            "(which --check compares), not a changed copy",
            err=True,
        )
        sys.exit(EXIT_USAGE)
    output_dir = output_dir or "generated"
    plugins = _plugins(plugin)
    specs, empty = _spec_files(paths)
    if empty:
        _report(empty)
    if tracked:
        specs = _tracked_only(specs)
    code = EXIT_USAGE if empty else EXIT_OK
    files: dict[Path, str] = {}
    for spec in specs:
        try:
            compiled = _compile_checked(spec, overriding, plugins)
            rendered = codegen.render(compiled, output_dir, plugins)
        except SpecError as exc:
            _report(exc.diagnostics)
            code = max(code, exc.exit_code)
            continue
        clash = set(rendered) & set(files)
        if clash:
            _report(
                [
                    Diagnostic(
                        f"another spec also emits {sorted(clash)[0]}; spec names must differ",
                        file=str(spec),
                    )
                ]
            )
            code = max(code, EXIT_INVALID)
        files.update(rendered)
    if code != EXIT_OK:
        sys.exit(code)
    _refuse_foreign_outputs(files)
    if check:
        stale = codegen.diff(files)
        if stale:
            click.echo(stale, nl=False)
            click.echo(
                f"stale: regenerate with `specc emit-code {' '.join(paths)} -o {output_dir}"
                + "".join(f" --set {shlex.quote(text)}" for text in sets)
                + "".join(f" --plugin {shlex.quote(given)}" for given in plugin)
                + "`",
                err=True,
            )
            sys.exit(EXIT_INVALID)
        click.echo(f"{len(files)} file(s) fresh")
        return
    try:
        changed = codegen.write(files)
    except OSError as exc:
        _cannot_write(exc)
    for path in files:
        click.echo(f"{'wrote' if path in changed else 'unchanged'} {path}")


def _tracked_only(specs: list[Path]) -> list[Path]:
    """The specs in git's index (tracked, or staged to be), the others named in one note.

    What a commit holds is what the hook must judge: a spec being written, not yet added,
    is no reason to refuse someone's unrelated commit. Outside a git work tree: exit 2.
    """
    import subprocess

    folders: dict[Path, list[str]] = {}
    for spec in specs:  # asked in each spec's folder: the repository it lies in answers
        folders.setdefault(spec.resolve().parent, []).append(spec.resolve().name)
    known: set[Path] = set()
    for folder, names in folders.items():
        try:
            listed = subprocess.run(
                ["git", "-C", str(folder), "ls-files", "-z", "--cached", "--", *names],
                capture_output=True, check=True, timeout=60,
            ).stdout  # fmt: skip
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            reason = detail.decode(errors="replace").strip().splitlines()[:1] or [str(exc)]
            click.echo(f"{folder}: error: --tracked asks git which specs it tracks: "
                       f"{reason[0]}", err=True)  # fmt: skip
            sys.exit(EXIT_USAGE)
        known |= {folder / name for name in listed.decode().split("\0") if name}
    kept = [spec for spec in specs if spec.resolve() in known]
    left = [str(spec) for spec in specs if spec.resolve() not in known]
    if left:
        click.echo(f"note: left out {plural(len(left), 'spec')} git does not track: "
                   + ", ".join(left), err=True)  # fmt: skip
    return kept


def _refuse_foreign_outputs(files: dict[Path, str]) -> None:
    """Exit 2 if an output path holds something specc cannot have written (a folder, non-UTF-8).

    emit-code compares and overwrites only text files; anything else is the user's to move.
    """
    for path in files:
        if not (path.exists() or path.is_symlink()):
            continue
        if not path.is_file():
            problem = "is a folder, not a file" if path.is_dir() else "is not a regular file"
        else:
            try:
                path.read_bytes().decode("utf-8")
                continue
            except UnicodeDecodeError as exc:
                problem = f"is not UTF-8 text (byte {exc.start}), so not code specc emitted"
            except OSError as exc:
                problem = f"cannot be read: {exc.strerror or exc}"
        click.echo(f"{path}: error: {problem}; move it away and run emit-code again", err=True)
        sys.exit(EXIT_USAGE)


@cli.command(epilog=EPILOG)
@click.argument("spec", type=click.Path())
@click.option(
    "--data",
    type=click.Path(),
    help="An image folder or CSV for those datasets, else a local .npz (x_train, y_train, "
    "x_test, y_test; for several inputs x_train_<input>, "
    "x_test_<input> per input name, for several outputs y_train_<output>, y_test_<output> per "
    "output layer name). Default: the spec's data.path, else $SPECC_DATA_DIR/<dataset>.npz, "
    "else a keras.datasets download.",
)
@click.option("--epochs", type=click.IntRange(min=1), help="Override training.epochs.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Override training.batch_size.")
@click.option(
    "--seed",
    type=click.IntRange(0, 2**32 - 1),
    help="Override training.seed (seeded CPU runs repeat exactly).",
)
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False),
    help="Run folder.  [default: runs/<name>-<timestamp>]",
)
@click.option(
    "--subset",
    type=click.IntRange(min=1),
    help="Train and test on the first N samples (a quick run).",
)
@click.option(
    "--backend",
    type=click.Choice(["auto", "tensorflow", "jax", "torch"]),
    help="Override runtime.backend.",
)
@click.option("--loop", type=click.Choice(["auto", "fit", "fused"]), help="Override runtime.loop.")
@click.option("--jit-compile/--no-jit-compile", default=None, help="Override runtime.jit_compile.")
@click.option(
    "--steps-per-execution",
    type=click.IntRange(min=1),
    help="Override runtime.steps_per_execution.",
)
@click.option(
    "--track-test-accuracy",
    is_flag=True,
    help="Also evaluate on the test split after every epoch (benchmarks; excluded from epoch times).",
)
@set_option(SET_HELP + " The run folder's spec.yaml is the spec as run.")
@plugin_option()
def train(spec: str, data: str | None, epochs: int | None, batch_size: int | None, seed: int | None,
          output_dir: str | None, subset: int | None, backend: str | None, loop: str | None,
          jit_compile: bool | None, steps_per_execution: int | None,
          track_test_accuracy: bool, sets: tuple[str, ...],
          plugin: tuple[str, ...]) -> None:  # fmt: skip
    """Validate SPEC, build it, train it on real data and write a run folder.

    \b
    The run folder gets model.keras, history.json, metrics.json (test loss and
    accuracy, seconds per epoch, wall time, samples/s, backend, device), curves.png,
    confusion.png, spec.yaml (the spec as run), report.html (one page with all of it;
    specc report) and tensorboard/ (tensorboard --logdir runs/). Ctrl-C keeps the
    completed epochs' history and the best model so far. Example:
      specc train specs/mnist_cnn.yaml --data ../shared/data/mnist.npz
    """
    _need_matplotlib("train")  # curves.png, confusion.png and report.html, after training
    compiled = _located(_compile(spec, overriding=_overrides(sets), plugins=_plugins(plugin)))
    from specc.files import check_folder

    try:  # a file where the run folder goes: say so now, not after loading Keras and data
        check_folder(output_dir or "runs")
    except OSError as exc:
        _cannot_write(exc, output_dir or "runs")
    _need_keras()
    from specc.training.data import DataError
    from specc.training.distribute import DistributionError, TrainSetupError
    from specc.training.train import Options, TrainError
    from specc.training.train import train as run_training

    runtime = {
        "backend": backend,
        "loop": loop,
        "jit_compile": jit_compile,
        "steps_per_execution": steps_per_execution,
    }
    options = Options(data=data, epochs=epochs, batch_size=batch_size, seed=seed, output_dir=output_dir,
                      subset=subset, runtime=runtime, track_test=track_test_accuracy)  # fmt: skip
    try:
        result = run_training(compiled, options)
    except TrainSetupError as exc:  # $TF_CONFIG, devices: the machine, not the spec
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except (DataError, TrainError, DistributionError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INVALID)
    except OSError as exc:  # the run folder: read-only, full disk, a file in the way
        _cannot_write(exc, output_dir)
    except Exception as exc:  # Keras refused to build, compile, train or save the model
        _keras_failed(spec, "training failed", exc)
    if result.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    m = result.metrics
    shown = ", ".join(
        f"{k} {v:.4f}" for k, v in m.items() if k.startswith("test_") and isinstance(v, float)
    )
    click.echo(f"{shown}; {plural(m['epochs'], 'epoch')}, {m['seconds_per_epoch']:.2f} s/epoch after the first "
               f"({m['first_epoch_seconds']:.2f} s), {m['total_wall_seconds']:.1f} s in all")  # fmt: skip
    files = (
        "model.keras",
        "history.json",
        "metrics.json",
        "curves.png",
        "confusion.png",
        "spec.yaml",
        "report.html",
        "tensorboard/",
    )
    per_output = sorted(p.name for p in result.folder.glob("confusion_*.png"))  # several outputs
    wrote = [g for f in files if (result.folder / f).exists()  # no confusion: no class labels
             for g in ([f, *per_output] if f == "curves.png" else [f])]  # fmt: skip
    click.echo(f"wrote {result.folder}/: {', '.join(wrote)}")


@cli.command(epilog=EPILOG)
@click.argument("spec", type=click.Path())
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="The picture; its suffix picks the format: .svg, .png or .pdf.  "
    "[default: SPEC's file name with .svg, in the current folder]",
)
@click.option(
    "--compact",
    is_flag=True,
    help="Draw each block use as one box (a quick look at a deep model).",
)
@set_option()
@plugin_option()
def diagram(
    spec: str, output: str | None, compact: bool, sets: tuple[str, ...], plugin: tuple[str, ...]
) -> None:
    """Draw SPEC's network top to bottom: a box per layer (name, type, arguments, output
    shape, parameters), arrows for what each takes, blocks as labelled groups.

    Drawn with matplotlib (no Graphviz, no TensorFlow); written atomically. Example:

    \b
      specc diagram specs/mnist_cnn.yaml -o mnist_cnn.png
    """
    from specc.backends import diagram as drawing

    target = output or f"{Path(spec).stem}.svg"
    if Path(target).suffix.lower() not in drawing.FORMATS:
        raise click.BadParameter(
            f"the file name must end in {', '.join(drawing.FORMATS)} (got {target!r})",
            param_hint="--output",
        )
    _need_matplotlib("diagram")
    compiled = _compile(spec, overriding=_overrides(sets), plugins=_plugins(plugin))
    picture = drawing.model_boxes(compiled.graph, compiled.origins)
    if compact:
        picture = drawing.collapse(picture)
    try:
        drawing.draw(picture, target)
    except OSError as exc:
        _cannot_write(exc, target)
    click.echo(f"wrote {target} ({len(picture.boxes)} boxes)", err=True)


@cli.command(epilog=EPILOG)
@click.argument("run_dir", type=click.Path())
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="The page.  [default: RUN_DIR/report.html]",
)
def report(run_dir: str, output: str | None) -> None:
    """Write one self-contained HTML page for a training run folder: the spec as run, the
    layer table, the diagram, loss and accuracy curves, the confusion matrix, misclassified
    test images, the first conv layer's filters and the last conv layer's feature maps
    averaged per class. Images are embedded: the page needs nothing else.

    \b
    specc train writes it into every run folder; this command rewrites it.
    """
    _need_matplotlib("report")
    from specc.training import html_report

    target = Path(output or Path(run_dir) / "report.html")
    try:
        html_report.write(Path(run_dir), target)
    except html_report.ReportError as exc:
        click.echo(f"{run_dir}: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        _cannot_write(exc, target)
    click.echo(f"wrote {target}", err=True)


SWEEP_EPILOG = """\b
Examples:
  # every combination of two dropout rates and two optimizers (4 trials)
  specc sweep specs/mnist_cnn.yaml --data mnist.npz --epochs 3 --subset 5000 \\
      --grid 'model.layers[11].rate=[0.2, 0.5]' --grid 'compile.optimizer=[rmsprop, adam]'
  # 20 TPE trials over a log range and a list of activations, hopeless ones pruned
  # (the spec says optimizer: {type: Adam, learning_rate: 0.001})
  specc sweep my_spec.yaml --trials 20 --prune \\
      --range 'compile.optimizer.learning_rate=1e-4..1e-2:log' \\
      --grid 'model.layers[0].activation=[relu, gelu, tanh]'
  # resume after a crash or Ctrl-C: run the same command again
  # two workers on one study: start the same command twice (or on two machines
  # with --storage postgresql://... or --storage journal:PATH on a shared disk;
  # postgresql:// needs pip install 'specc[postgres]')

\b
Values are YAML as in a spec (1e-3 is a float, relu a string). A grid's points,
and each listed value or range end, are checked as a spec file is before any trial.
The sweep folder (default sweeps/<name>) holds study.db (the Optuna study), a run
folder per trial (trial-000, ...), and sweep.csv, sweep.md and sweep.png (test
accuracy against each swept value), rewritten after every trial.

\b
Exit codes: 0 at least one trial completed; 1 no trial completed (each failed
trial's error is in the tables); 2 usage error (bad --grid/--range, a path not in
the spec, values that make the spec invalid, no accuracy metric to rank by,
another sweep in the folder);
130 interrupted (the running trial is queued again for the next run).
"""


@cli.command(epilog=SWEEP_EPILOG)
@click.argument("spec", type=click.Path())
@click.option(
    "--grid",
    "grids",
    multiple=True,
    metavar="'PATH=[V1,V2,...]'",
    help="Values to try at a spec path (repeatable); every combination with --sampler grid.",
)
@click.option(
    "--range",
    "ranges",
    multiple=True,
    metavar="'PATH=LOW..HIGH[:log]'",
    help="A numeric range at a spec path (repeatable; random and tpe). Two integers: integers.",
)
@click.option(
    "--sampler",
    type=click.Choice(["grid", "random", "tpe"]),
    help="How values are picked.  [default: grid with only --grid, else tpe]",
)
@click.option(
    "--trials",
    type=click.IntRange(min=1),
    help="Trials of a random or tpe sweep.  [default: 10; a grid runs each point once]",
)
@click.option(
    "--epochs", type=click.IntRange(min=1), help="Override training.epochs in every trial."
)
@click.option("--data", type=click.Path(dir_okay=False), help="A local .npz, as for specc train.")
@click.option("--subset", type=click.IntRange(min=1), help="Train and test on the first N samples.")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False),
    help="The sweep folder.  [default: sweeps/<name>]",
)
@click.option(
    "--storage",
    metavar="URL",
    help="Where the study lives, to share it between processes or machines: a database "
    "URL (postgresql://..., mysql://..., sqlite:///...) or journal:PATH (Optuna's journal "
    "file).  [default: sqlite:///<sweep folder>/study.db]",
)
@click.option(
    "--study", "study_name", help="The study's name in the storage.  [default: the spec's name]"
)
@click.option(
    "--prune",
    is_flag=True,
    help="Stop a trial early when its validation accuracy after an epoch is below the "
    "median of earlier trials' at that epoch (Optuna's MedianPruner).",
)
@set_option(SET_HELP + " Applied before the swept values, in every trial.")
def sweep(spec: str, grids: tuple[str, ...], ranges: tuple[str, ...], sampler: str | None,
          trials: int | None, epochs: int | None, data: str | None, subset: int | None,
          output_dir: str | None, storage: str | None, study_name: str | None,
          prune: bool, sets: tuple[str, ...]) -> None:  # fmt: skip
    """Train SPEC once per set of values at spec paths, on Optuna; rank the trials.

    Each trial is a specc train run in its own folder; the study is stored so that
    running the same command again resumes where it stopped, and several processes
    given the same --storage share the work, each trial run once.
    """
    import importlib.util

    if importlib.util.find_spec("optuna") is None:
        click.echo("error: specc sweep needs Optuna: pip install 'specc[keras]'", err=True)
        sys.exit(EXIT_USAGE)
    _need_matplotlib("sweep")
    from specc.training import sweep as sweeping

    overriding = _overrides(sets)
    try:
        settings = sweeping.resolve_settings(
            spec, grids, ranges, sampler, trials, epochs=epochs, data=data, subset=subset,
            output_dir=output_dir, storage=storage, study=study_name, prune=prune,
            sets=overriding,
        )  # fmt: skip
        _need_keras()
        running = sweeping.open_sweep(settings)
    except sweeping.SweepUsageError as exc:  # a spec's own diagnostic says where already
        click.echo(str(exc) if ": error: " in str(exc) else f"error: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    except SpecError as exc:
        _report(exc.diagnostics)
        sys.exit(exc.exit_code)
    except OSError as exc:
        _cannot_write(exc, output_dir)
    from specc.training.train import TrainError, select_backend

    with contextlib.suppress(TrainError):  # no backend: exit 2 now, not a failure per trial
        select_backend(running.compiled.spec.runtime)
    counts = sweeping.run(running)
    said = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    click.echo(f"wrote {running.folder}/: sweep.csv, sweep.md, sweep.png ({said})")
    sys.exit(EXIT_OK if counts.get("complete") else EXIT_INVALID)


def _need_matplotlib(command: str) -> None:
    """matplotlib is an extra (``specc[diagram]``), so validate and the pre-commit hook stay
    light: a command that draws says what to install, in one line (exit 2), before any work."""
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        click.echo(
            f"error: specc {command} draws with matplotlib, which is not installed: "
            "pip install 'specc[diagram]'",
            err=True,
        )
        sys.exit(EXIT_USAGE)


def _need_keras() -> None:
    """Fail clearly when Keras is not installed."""
    import importlib.util

    if importlib.util.find_spec("keras") is None:
        click.echo("error: this command needs Keras: pip install 'specc[keras]'", err=True)
        sys.exit(EXIT_USAGE)


@cli.command(epilog=EPILOG)
@click.argument("spec", type=click.Path())
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Where to save the model (must end in .keras).  [default: build/<name>.keras]",
)
@set_option()
@plugin_option()
def build(spec: str, output: str | None, sets: tuple[str, ...], plugin: tuple[str, ...]) -> None:
    """Validate SPEC, build its Keras model, print Keras' summary and save it as .keras.

    The file is written atomically: if anything fails, no partial file is left and an
    existing file is untouched.
    """
    if output is not None and not output.endswith(".keras"):
        raise click.BadParameter("the output file name must end in .keras", param_hint="--output")
    compiled = _located(_compile(spec, overriding=_overrides(sets), plugins=_plugins(plugin)))
    _need_keras()
    from specc.backends import keras_build

    target = Path(output or Path("build") / f"{compiled.spec.name}.keras")
    try:
        model = keras_build.build(compiled.spec, compiled.graph)
        model.summary()
    except Exception as exc:
        _keras_failed(spec, "Keras refused the model", exc)
    try:
        keras_build.save(model, target)
    except OSError as exc:
        _cannot_write(exc, target)
    except Exception as exc:
        _keras_failed(spec, "Keras could not save the model", exc)
    click.echo(f"wrote {target} ({plural(model.count_params(), 'param')})")


@cli.command("import", epilog=EPILOG)
@click.argument("model", type=click.Path())
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write the spec to this file (atomically) instead of stdout.",
)
@plugin_option(
    "Read the model's classes of this Python module (an importable name, or a .py file "
    "relative to the current folder, imported under its stem) as plugin entries "
    "({type: module.Class, ...its get_config()}). Repeatable. Without it every custom "
    "class is reported, and nothing is imported."
)
def import_(model: str, output: str | None, plugin: tuple[str, ...]) -> None:
    """Turn a saved Keras model (.keras) into a spec.

    Reads the archive's config.json as data (nothing is deserialised): Sequential and
    Functional models (branches, several inputs and outputs, shared layers). Arguments equal to Keras defaults are
    left out; compile settings are kept. Everything a spec cannot say is reported at
    once, one line each (exit 1); the spec is validated before it is written.
    """
    _need_keras()
    from specc.analysis.pipeline import compile_text
    from specc.backends import importer
    from specc.terms.user_code import allowing

    plugins = _plugins(plugin)
    try:
        with allowing(plugins):
            text = importer.to_yaml(importer.import_model(model), model)
    except SpecError as exc:
        _report(exc.diagnostics)
        sys.exit(exc.exit_code)
    try:
        compile_text(text, "<imported spec>", plugins=plugins)
    except SpecError as exc:  # said of the model: the spec's file is not written
        _report([_of_model(d, model) for d in exc.diagnostics])
        sys.exit(exc.exit_code)
    if output:
        from specc.files import write_atomic

        try:
            write_atomic(output, text)
        except OSError as exc:
            _cannot_write(exc, output)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


def _of_model(diagnostic: Diagnostic, model: str) -> Diagnostic:
    """A problem of the spec made from ``model``, said of the model file."""
    from dataclasses import replace

    said = diagnostic.text().split(": error: ", 1)[1]
    return replace(diagnostic, file=model, line=1, col=1, loc=(), hint=None,
                   message=f"the spec made from it is invalid: {said}")  # fmt: skip


class _WholeWrites(io.RawIOBase):
    """A file descriptor whose ``write`` writes everything or raises.

    When a pipe's reader leaves mid-write (``specc schema | head -1``), the kernel reports
    a short write instead of an error; ``BufferedWriter`` passes the short count up and
    ``TextIOWrapper`` ignores it, so the rest of the output was dropped silently and specc
    exited 0. Writing the remainder meets EPIPE: ``BrokenPipeError``, exit 141.
    """

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        done = 0
        while done < len(view):
            done += os.write(self._fd, view[done:])
        return done


def _whole_stdout() -> None:
    """Give a piped stdout complete-or-raise writes (see :class:`_WholeWrites`)."""
    try:
        fd = sys.stdout.fileno()
        piped = stat.S_ISFIFO(os.fstat(fd).st_mode)
    except (AttributeError, OSError, ValueError):  # replaced by a test, or closed
        return
    if not piped or not isinstance(sys.stdout, io.TextIOWrapper):
        return
    sys.stdout.flush()
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(_WholeWrites(fd)),
        encoding=sys.stdout.encoding,
        errors=sys.stdout.errors,
        line_buffering=sys.stdout.line_buffering,
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    _whole_stdout()
    if not _utf8(sys.stdout) and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")  # a name no codepage has: no crash
    try:
        try:
            cli.main(args=argv, prog_name="specc", standalone_mode=True)
        finally:
            sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        _closed_pipe()
