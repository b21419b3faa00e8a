"""Every spec in the repo, made emittable, and its emitted script as a module.

A training script needs ``data`` and ``compile`` (emit-code refuses a spec without them,
and that stays so). The valid test cases are model-only specs, so for them the missing
sections are filled with neutral ones that no cross-field rule constrains (a local .npz
with no preprocessing; mean squared error): ``build_model()`` depends on ``model`` alone,
so this tests exactly the code the case's model produces; a model with several outputs
gets the loss per output name. A last layer with several outputs (an LSTM with
``return_state`` last), or several outputs of one layer, has no name per output to train
each on, so emit-code refuses them (``tests/cases/multi_output_with_loss``); they are not
emittable.
"""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from specc.analysis.checks import output_names
from specc.analysis.pipeline import Compiled, compile_file, compile_text
from specc.backends import codegen
from specc.errors import SpecError
from specc.language import variants
from tests.helpers import CASES, ROOT, SPECS

GOLDEN_SPECS = sorted((ROOT / "tests" / "golden" / "specs").glob("*.yaml"))
VALID_CASES = sorted(p / "spec.yaml" for p in CASES.iterdir() if (p / "expected.json").exists())


def _named_outputs(compiled: Compiled) -> bool:
    """Each output a layer's own, so a name to train it by (every input can be fed)."""
    names = output_names(compiled.graph)
    return len(set(names)) == len(names) and not (
        len(names) == 1 and isinstance(compiled.graph.output_shape, list)
    )


REPO_SPECS = [
    *sorted(SPECS.glob("*.yaml")),
    *GOLDEN_SPECS,
    *(path for path in VALID_CASES if _named_outputs(compile_file(path))),
]
NEUTRAL = {"data": {"dataset": "npz", "path": "data.npz"}, "compile": {"loss": "mse"}}


def completed(data: dict[str, Any]) -> dict[str, Any]:
    """The spec with neutral ``data`` and ``compile`` sections if it lacks either: the two
    must agree (a categorical loss needs one-hot labels), and only the model is tested.
    Several outputs get mean squared error each, by name."""
    if all(key in data for key in NEUTRAL):
        return data
    try:
        names = output_names(compile_text(yaml.safe_dump(data, sort_keys=False), "m.yaml").graph)
    except SpecError:
        names = ()
    if len(names) > 1:
        return {**data, **NEUTRAL, "compile": {"loss": dict.fromkeys(names, "mse")}}
    return {**data, **NEUTRAL}


def compile_emittable(path: Path) -> Compiled:
    """The spec at ``path``, completed if it lacks a section a training script needs."""
    data = variants.load(path).data  # read as specc reads it (YAML 1.2), bases merged
    if all(key in data for key in NEUTRAL):
        return compile_file(path)
    return compile_text(yaml.safe_dump(completed(data), sort_keys=False), str(path))


def repo_spec_id(path: Path) -> str:
    return path.parent.name if path.name == "spec.yaml" else path.stem


_counter = itertools.count()


def load_module(path: Path) -> ModuleType:
    """Import an emitted script as a fresh module (never cached under its own name)."""
    spec = importlib.util.spec_from_file_location(f"emitted_{next(_counter)}_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def emit(compiled: Compiled, out_dir: Path) -> Path:
    """Write the spec's script into ``out_dir``; return its path."""
    files = codegen.render(compiled, out_dir)
    codegen.write(files)
    (path,) = files
    return path
