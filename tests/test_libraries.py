"""Block libraries: ``use: [specc/transformer, ./team_blocks.yaml]`` brings a file's blocks
into a spec. Error cases with their exact messages live in tests/cases/library_*; the
shipped blocks are proven against Keras in tests/test_block_libraries.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from specc.analysis.pipeline import compile_file, compile_text
from specc.errors import SpecError
from specc.language import blocks, libraries
from tests.helpers import SPECS

EXAMPLES = [SPECS / "text_classification_transformer.yaml", SPECS / "vit_small_cifar100.yaml"]


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _errors(path: Path) -> list[str]:
    with pytest.raises(SpecError) as info:
        compile_file(path)
    return [d.text().replace(f"{path.parent}/", "") for d in info.value.diagnostics]


def test_every_shipped_library_loads_together_without_a_clash():
    """One spec may use all of them: no block name is defined twice."""
    names = libraries.shipped_names()
    assert names == ["specc/conv", "specc/transformer", "specc/vision"]
    text = (
        f"name: all\nuse: {names}\nmodel:\n  input: {{shape: [8, 8, 3]}}\n  layers:\n"
        "    - {block: conv_bn_act, filters: 4}\n"
    )
    assert compile_text(text, "all.yaml").graph.total_params == 4 * 27 + 4 * 4


def test_validating_the_examples_never_imports_keras():
    code = (
        "import sys\nfrom specc.analysis.pipeline import compile_file\n"
        f"for p in {[str(p) for p in EXAMPLES]}:\n    compile_file(p)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('keras', 'tensorflow', 'jax', 'torch')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_expand_prints_the_flat_spec_without_use_or_blocks(specc, tmp_path):
    run = specc("expand", str(EXAMPLES[0]))
    assert run.exit_code == 0, run.stderr
    flat = yaml.safe_load(run.stdout)
    assert "use" not in flat and "blocks" not in flat
    assert flat["model"]["layers"][0] == {"op": "ones_like", "inputs": ["input_layer"]}
    path = tmp_path / "flat.yaml"
    path.write_text(run.stdout)
    assert compile_file(path).graph.total_params == compile_file(EXAMPLES[0]).graph.total_params


def test_a_library_used_twice_is_read_once_and_libraries_use_libraries(tmp_path):
    """a.yaml and b.yaml both use common/c.yaml (relative to themselves): no clash."""
    _write(
        tmp_path,
        {
            "spec.yaml": "name: s\nuse: [libs/a.yaml, libs/b.yaml]\nmodel:\n"
            "  input: {shape: [8]}\n  layers:\n    - {block: a}\n    - {block: b}\n",
            "libs/a.yaml": "use: [common/c.yaml]\nblocks:\n  a: [{block: c, units: 3}]\n",
            "libs/b.yaml": "use: [./common/c.yaml]\nblocks:\n  b: [{block: c, units: 2}]\n",
            "libs/common/c.yaml": "blocks:\n  c: [{type: Dense, units: $units}]\n",
        },
    )
    compiled = compile_file(tmp_path / "spec.yaml")
    assert [row.params for row in compiled.graph.layers] == [27, 8]


def test_a_variant_reads_its_bases_libraries_from_the_bases_folder(tmp_path):
    _write(
        tmp_path,
        {
            "base/spec.yaml": "name: s\nuse: [team.yaml]\nmodel:\n  input: {shape: [8]}\n"
            "  layers:\n    - {block: head, units: 4}\n",
            "base/team.yaml": "blocks:\n  head: [{type: Dense, units: $units}]\n",
            "variants/wide.yaml": "extends: ../base/spec.yaml\nset:\n  model.layers[0].units: 16\n",
        },
    )
    assert compile_file(tmp_path / "variants" / "wide.yaml").graph.total_params == 8 * 16 + 16


def test_a_shipped_blocks_missing_parameter_is_named_at_the_use(tmp_path):
    _write(
        tmp_path,
        {
            "spec.yaml": "name: s\nuse: [specc/transformer]\nmodel:\n"
            "  input: {shape: [4, 8]}\n  layers:\n"
            "    - {block: transformer_encoder, num_heads: 2, key_dim: 8, embed_dim: 8}\n",
        },
    )
    assert _errors(tmp_path / "spec.yaml") == [
        "spec.yaml:6:15: error: model.layers[0].block: block 'transformer_encoder' needs 'ff_dim'"
    ]


def test_a_shape_error_in_a_shipped_block_points_into_the_library_and_at_the_use(tmp_path):
    """embed_dim must be the input's feature size: the residual add says so, in the
    library's file, and names the use in the spec."""
    _write(
        tmp_path,
        {
            "spec.yaml": "name: s\nuse: [specc/transformer]\nmodel:\n"
            "  input: {shape: [4, 8]}\n  layers:\n"
            "    - {block: transformer_encoder, num_heads: 2, key_dim: 8, ff_dim: 8,\n"
            "       embed_dim: 16}\n",
        },
    )
    (error,) = _errors(tmp_path / "spec.yaml")
    assert error.startswith("specc/library/transformer.yaml:")
    assert "blocks.transformer_encoder.layers[7]" in error
    assert error.endswith("(in block 'transformer_encoder' used at 6:7 (model.layers[0]))")


def test_library_blocks_count_against_the_expansion_bounds(tmp_path):
    """A library cannot make a few bytes of spec expand past 20,000 layers."""
    _write(
        tmp_path,
        {
            "spec.yaml": "name: s\nuse: [lib.yaml]\nmodel:\n  input: {shape: [8]}\n"
            "  layers:\n    - {block: wide, repeat: 300}\n",
            "lib.yaml": "blocks:\n  unit: [{type: Dense, units: 1}]\n"
            "  wide: [{block: unit, repeat: 100}]\n",
        },
    )
    assert _errors(tmp_path / "spec.yaml") == [
        f"spec.yaml:6:29: error: model.layers[0].repeat: blocks expand to more than "
        f"{blocks.MAX_EXPANDED_LAYERS:,} layers; check repeat, each and blocks that use other "
        "blocks"
    ]


def test_a_library_of_a_library_that_is_not_there_is_located_in_the_library(tmp_path):
    _write(
        tmp_path,
        {
            "spec.yaml": "name: s\nuse: [lib.yaml]\nmodel:\n  input: {shape: [8]}\n"
            "  layers:\n    - {type: Dense, units: 1}\n",
            "lib.yaml": "use: [specc/vision, gone.yaml]\nblocks:\n  a: [{type: Dense, units: 1}]\n",
        },
    )
    assert _errors(tmp_path / "spec.yaml") == [
        "lib.yaml:1:21: error: use[1]: cannot read gone.yaml: no such file (a library's path "
        "is relative to the file that uses it; specc's own are specc/NAME)"
    ]


def test_use_must_be_names(tmp_path):
    _write(tmp_path, {"spec.yaml": "name: s\nuse: {a: 1}\nmodel:\n  layers: []\n"})
    assert _errors(tmp_path / "spec.yaml") == [
        "spec.yaml:2:6: error: use: must list block libraries: use: [specc/transformer, "
        "./my_blocks.yaml]"
    ]


def test_specc_blocks_lists_every_shipped_block_with_its_parameters(specc):
    run = specc("blocks")
    assert run.exit_code == 0, run.stderr
    for name in libraries.shipped_names():
        assert f"\n{name}: " in f"\n{run.stdout}"
        for block in libraries.library_blocks(name)[1]:
            assert f"\n  {block}(" in run.stdout
    assert (
        "  transformer_encoder(num_heads, key_dim, ff_dim, embed_dim, dropout=0.1, "
        "epsilon=1.0e-06)\n" in run.stdout
    )
    one = specc("blocks", "specc/conv")
    assert one.exit_code == 0 and one.stdout.startswith("specc/conv: ")
    assert "transformer" not in one.stdout
    missing = specc("blocks", "specc/transformers")
    assert missing.exit_code == 2
    assert "did you mean 'specc/transformer'?" in missing.stderr
