"""Exit codes, output formats and help of the TF-free commands."""

from __future__ import annotations

import json
import subprocess
import sys

from specc.jsonschema import json_schema_text
from tests.conftest import CASES, ROOT, SPECS

BAD = CASES / "negative_filters" / "spec.yaml"


def test_validate_specs_folder_ok(specc):
    run = specc("validate", str(SPECS))
    assert run.exit_code == 0
    assert "mnist_cnn.yaml: ok (13 layers, 43,290 params)" in run.stdout


def test_validate_mixed_exit_1_and_all_errors(specc):
    run = specc("validate", str(SPECS / "mnist_cnn.yaml"), str(BAD))
    assert run.exit_code == 1
    assert "ok" in run.stdout
    assert "filters: must be greater than 0 (got -4)" in run.stderr
    assert "1 valid, 1 invalid" in run.stderr


def test_missing_file_is_exit_2(specc, tmp_path):
    run = specc("validate", str(tmp_path / "nope.yaml"))
    assert run.exit_code == 2
    assert run.stderr.strip().endswith("error: no such file")


def test_missing_file_beats_invalid(specc, tmp_path):
    run = specc("validate", str(BAD), str(tmp_path / "nope.yaml"))
    assert run.exit_code == 2


def test_folder_without_specs_is_exit_2(specc, tmp_path):
    run = specc("validate", str(tmp_path))
    assert run.exit_code == 2
    assert "no *.yaml or *.yml files" in run.stderr


def test_usage_errors_are_exit_2(specc):
    assert specc("validate").exit_code == 2
    assert specc("validate", "--format", "xml", str(BAD)).exit_code == 2
    assert specc("frobnicate").exit_code == 2


def test_summary_of_invalid_spec(specc):
    run = specc("summary", str(BAD))
    assert run.exit_code == 1
    assert run.stdout == ""
    assert "model.layers[0].filters" in run.stderr


def test_json_format(specc):
    run = specc("validate", "--format", "json", str(BAD), str(SPECS / "mnist_cnn.yaml"))
    assert run.exit_code == 1
    data = json.loads(run.stdout)
    assert data["valid"] is False
    bad, good = data["files"]
    assert good["valid"] and good["total_params"] == 43290
    (diag,) = bad["diagnostics"]
    assert diag["loc"] == "model.layers[0].filters"
    assert (diag["line"], diag["col"]) == (6, 16)
    assert diag["message"] == "must be greater than 0 (got -4)"


def test_github_format(specc):
    run = specc("validate", "--format", "github", "spec.yaml", cwd=BAD.parent)
    assert run.exit_code == 1
    assert run.stdout.strip() == (
        "::error file=spec.yaml,line=6,col=16::model.layers[0].filters: must be greater than 0 (got -4)"
    )


def test_help_teaches(specc):
    run = specc("--help")
    assert run.exit_code == 0
    for word in ("validate", "summary", "schema", "Exit codes"):
        assert word in run.stdout
    assert "--format" in specc("validate", "--help").stdout


def test_schema_file_is_in_sync(specc):
    """specc.schema.json is checked in for editors; regenerate with `make schema`."""
    checked_in = (ROOT / "specc.schema.json").read_text()
    assert checked_in == json_schema_text(), "specc.schema.json is stale: run `make schema`"
    assert specc("schema").stdout == checked_in


def test_specs_carry_schema_modeline():
    for spec in SPECS.glob("*.yaml"):
        assert spec.read_text().startswith("# yaml-language-server: $schema=../specc.schema.json")


def test_python_dash_m(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "specc", "validate", str(SPECS)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


TF_FREE = [
    ["validate", str(SPECS)],
    ["validate", str(BAD)],
    ["summary", str(SPECS / "mnist_cnn.yaml")],
    ["summary", "--format", "json", str(SPECS / "mnist_cnn.yaml")],
    ["schema"],
    ["emit-code", "--check", str(SPECS)],
]


def test_tf_free_commands_never_import_tensorflow():
    """The commands people run in a blink must not pay ~3 s for `import tensorflow`."""
    script = (
        "import sys, io, contextlib\n"
        "from specc.cli import main\n"
        "import specc\n"
        f"for argv in {TF_FREE!r}:\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "        try:\n"
        "            main(argv)\n"
        "        except SystemExit:\n"
        "            pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'jax', 'torch')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
