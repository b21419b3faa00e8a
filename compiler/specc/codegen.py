"""Spec -> standalone training script, through Jinja templates and ruff.

Two steps, as in sqlc/datamodel-code-generator: :func:`render` returns ``{path: text}``
(pure, deterministic); :func:`write` or :func:`diff` then touch the disk. Every value
from a spec reaches the code through the ``py`` filter, which renders a Python literal;
the environment's ``finalize`` refuses any other string that is not an identifier, so a
template cannot paste spec text raw even by mistake.
"""

from __future__ import annotations

import difflib
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import jinja2

from specc import runtime
from specc.arguments import (
    callback_arguments,
    layer_arguments,
    nested_arguments,
    optimizer_arguments,
    regularizer_call,
    split_positional,
)
from specc.errors import Diagnostic, SpecError
from specc.layers import LayerSpec
from specc.layers.preprocessing import adapted_at_train_time
from specc.pipeline import Compiled
from specc.schema import Regularizer, Training

RUFF_ARGS = ("format", "--isolated", "--line-length", "100", "--target-version", "py310")


class PyCode(str):
    """Text that is already safe Python (a rendered literal)."""


def py(value: Any) -> PyCode:
    """A Python literal for a spec value.

    >>> py("it's \\"quoted\\"\\n")
    '\\'it\\\\\\'s "quoted"\\\\n\\''
    >>> py((3, 3)), py((2, 1)), py(None), py(0.001), py([28, 28, 1])
    ('3', '(2, 1)', 'None', '0.001', '[28, 28, 1]')
    """
    if isinstance(value, PyCode):
        return value
    if isinstance(value, Regularizer):
        cls, kwargs = regularizer_call(value)
        inner = ", ".join(f"{key}={py(v)}" for key, v in kwargs.items())
        return PyCode(f"keras.regularizers.{cls}({inner})")
    if isinstance(value, LayerSpec):  # a layer inside another: its constructor call
        return layer_call(value, nested_arguments(value))
    if value is None or isinstance(value, bool | int | float | str):
        return PyCode(repr(value))
    if isinstance(value, tuple):
        if len(set(value)) == 1:
            return py(value[0])  # kernel_size=3 rather than (3, 3)
        return PyCode(
            "(" + ", ".join(py(v) for v in value) + ("," if len(value) == 1 else "") + ")"
        )
    if isinstance(value, list):
        return PyCode("[" + ", ".join(py(v) for v in value) + "]")
    raise TypeError(f"no Python literal for {type(value).__name__}")


def layer_call(spec: LayerSpec, args: dict[str, Any]) -> PyCode:
    """``keras.layers.Dense(10, activation='softmax', name='dense_1')`` for a layer."""
    positional, keywords = split_positional(spec, args)
    parts = [py(v) for v in positional] + [f"{k}={py(v)}" for k, v in keywords.items()]
    return PyCode(f"keras.{spec.KERAS_PATH}({', '.join(parts)})")


_COMMENT_SAFE = re.compile(r"[A-Za-z0-9_./@+-]+")


def comment(value: str) -> PyCode:
    """Text for a comment: kept as is when it is plainly safe, else as a literal."""
    return PyCode(value if _COMMENT_SAFE.fullmatch(value) else repr(value))


def _finalize(value: Any) -> Any:
    if isinstance(value, PyCode) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and value.isidentifier():
        return value  # names: validated identifiers
    raise jinja2.TemplateError(f"template printed {value!r} without the py filter")


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("specc", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        finalize=_finalize,
    )
    env.filters["py"] = py
    env.filters["comment"] = comment
    env.filters["code"] = PyCode  # a macro's output: built only from finalized pieces
    return env


def context(compiled: Compiled, source: str) -> dict[str, Any]:
    spec = compiled.spec
    missing = [key for key in ("data", "compile") if getattr(spec, key) is None]
    if missing:
        raise SpecError([Diagnostic(
            f"a training script needs {' and '.join(repr(m) for m in missing)}; add "
            f"{'that section' if len(missing) == 1 else 'those sections'} to the spec",
            file=compiled.file,
        )])  # fmt: skip
    assert spec.data is not None and spec.compile is not None
    cls, args = optimizer_arguments(spec.compile.optimizer)
    return {
        "source": source,
        "sha16": PyCode(compiled.sha256[:16]),
        "name": spec.name,
        "description": spec.description,
        "dataset": spec.data.dataset,
        "data_path": spec.data.path,
        "input_shape": tuple(spec.model.input.shape),
        "x_steps": [step.model_dump() for step in spec.data.preprocessing.x],
        "y_steps": [step.model_dump() for step in spec.data.preprocessing.y],
        "layers": [layer_call(layer.spec, layer_arguments(layer)) for layer in compiled.graph.layers],
        "adapt": adapted_at_train_time(list(spec.model.layers)),
        "optimizer": {"cls": cls, "args": args},
        "loss": spec.compile.loss,
        "metrics": list(spec.compile.metrics),
        "training": spec.training or Training(),
        "runtime": spec.runtime,
        "cpu_spe": runtime.CPU_STEPS_PER_EXECUTION,
        "gpu_spe": runtime.GPU_STEPS_PER_EXECUTION,
        "callbacks": [dict(zip(("cls", "args"), callback_arguments(cb), strict=True))
                      for cb in (spec.training.callbacks if spec.training else [])],
    }  # fmt: skip


def format_code(text: str) -> str:
    """ruff format, in memory, with fixed settings (so output never depends on local config)."""
    try:
        from ruff.__main__ import find_ruff_bin

        ruff = find_ruff_bin()
    except (ImportError, FileNotFoundError):
        raise RuntimeError(
            "emit-code needs ruff to format its output: pip install ruff==0.17.6"
        ) from None
    proc = subprocess.run(
        [ruff, *RUFF_ARGS, "--stdin-filename", "generated.py", "-"],
        input=text, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"ruff could not format the generated code:\n{proc.stderr}")
    return proc.stdout


def source_label(path: str | os.PathLike[str]) -> str:
    """The spec's path as the header names it: relative to the working directory, POSIX."""
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def render(compiled: Compiled, out_dir: str | os.PathLike[str] = "generated") -> dict[Path, str]:
    """``{output path: formatted code}`` for one compiled spec."""
    template = environment().get_template("train.py.jinja")
    code = template.render(context(compiled, source_label(compiled.file)))
    return {Path(out_dir) / f"{compiled.spec.name}.py": format_code(code)}


def write(files: dict[Path, str]) -> list[Path]:
    """Write each file atomically; return those whose content changed."""
    from specc.files import write_atomic

    changed = []
    for path, text in files.items():
        if not path.exists() or path.read_text() != text:
            write_atomic(path, text)
            changed.append(path)
    return changed


def diff(files: dict[Path, str]) -> str:
    """A unified diff of every stale or missing file; empty when all are fresh."""
    chunks = []
    for path, text in files.items():
        old = path.read_text() if path.exists() else ""
        if old != text:
            chunks.extend(difflib.unified_diff(
                old.splitlines(keepends=True), text.splitlines(keepends=True),
                fromfile=f"{path} (on disk)" if old else "/dev/null", tofile=f"{path} (from spec)",
            ))  # fmt: skip
    return "".join(chunks)
