"""specc.schema.json against specc itself, through a standard JSON Schema validator.

Editors and CI tools check specs with the published schema, so it must say what specc
says. Every spec in the repo and a variant per schema-level rule is loaded once, with
specc's own loader (so both sides see the same data), then judged by both: the
``jsonschema`` package (Draft 2020-12, format checks on) and specc, whose verdict is
classified by the stage that refused it. The schema must refuse exactly what specc's
schema stage (Pydantic) refuses; what only the graph or the cross-field checks refuse
(shapes, names, sizes, labels vs loss) it accepts, as no JSON Schema can know it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from pydantic import ValidationError

from specc.analysis import pipeline
from specc.errors import SpecError
from specc.language import blocks, loader, variants
from specc.language.jsonschema import json_schema
from specc.language.schema import Spec
from specc.layers import CATALOG
from specc.terms import descriptions
from tests.helpers import CASES, ROOT, SPECS

SCHEMA = json.loads((ROOT / "specc.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)

BASE = """\
name: base
description: every section, valid
data:
  dataset: mnist
  preprocessing:
    x: [{reshape: [28, 28, 1]}, {cast: float32}, {divide: 255}]
    y: [{one_hot: 10}]
model:
  input: {shape: [28, 28, 1]}
  layers:
    - {type: Conv2D, filters: 4, kernel_size: 3, activation: relu}
    - {type: MaxPooling2D, pool_size: 2}
    - {type: Dropout, rate: 0.2, seed: 1}
    - {type: Reshape, target_shape: [-1]}
    - {type: Dense, units: 10, activation: softmax, kernel_regularizer: {l2: 0.001}}
compile:
  optimizer: {type: Adam, learning_rate: 0.001, clipnorm: 1.0}
  loss: categorical_crossentropy
  metrics: [accuracy]
training:
  epochs: 1
  batch_size: 32
  validation_split: 0.1
  seed: 1
  callbacks: [{type: EarlyStopping, monitor: val_loss, patience: 2}]
runtime: {backend: auto, jit_compile: auto}
"""

# (id, text to replace in BASE, replacement, stage specc refuses at: "schema", "graph" or None)
VARIANTS: list[tuple[str, str, str, str | None]] = [
    ("base", "", "", None),
    # optimizer by name, any case, as Keras' optimizers.get
    ("optimizer_class_name", "{type: Adam, learning_rate: 0.001, clipnorm: 1.0}", "Adam", None),
    (
        "optimizer_rmsprop_class",
        "{type: Adam, learning_rate: 0.001, clipnorm: 1.0}",
        "RMSprop",
        None,
    ),
    ("optimizer_sgd_class", "{type: Adam, learning_rate: 0.001, clipnorm: 1.0}", "SGD", None),
    ("optimizer_name", "{type: Adam, learning_rate: 0.001, clipnorm: 1.0}", "rmsprop", None),
    ("optimizer_upper", "{type: Adam, learning_rate: 0.001, clipnorm: 1.0}", "ADAM", None),
    ("optimizer_unknown", "{type: Adam, learning_rate: 0.001, clipnorm: 1.0}", "adamx", "schema"),
    (
        "optimizer_not_supported",
        "{type: Adam, learning_rate: 0.001, clipnorm: 1.0}",
        "ftrl",
        "schema",
    ),
    ("optimizer_type_lowercase", "type: Adam,", "type: adam,", "schema"),
    # one clip only; a null one does not count
    ("two_clips", "clipnorm: 1.0}", "clipnorm: 1.0, global_clipnorm: 1.0}", "schema"),
    ("clipvalue_and_clipnorm", "clipnorm: 1.0}", "clipnorm: 1.0, clipvalue: 0.5}", "schema"),
    ("clip_and_null_clip", "clipnorm: 1.0}", "clipnorm: 1.0, clipvalue: null}", None),
    # names: ASCII identifiers, not keywords
    ("name_hyphen", "name: base", "name: my-model", "schema"),
    ("name_keyword", "name: base", "name: class", "schema"),
    ("name_keyword_none", "name: base", "name: None", "schema"),
    ("name_soft_keyword", "name: base", "name: match", None),
    ("name_underscore", "name: base", "name: _private2", None),
    ("name_digit_first", "name: base", "name: 2bad", "schema"),
    ("name_non_ascii", "name: base", "name: café", "schema"),
    ("name_trailing_newline", "name: base", 'name: "base\\n"', "schema"),
    ("name_empty", "name: base", 'name: ""', "schema"),
    ("name_number", "name: base", "name: 12", "schema"),
    ("layer_name_keyword", "{type: MaxPooling2D,", "{type: MaxPooling2D, name: if,", "schema"),
    ("layer_name_null", "{type: MaxPooling2D,", "{type: MaxPooling2D, name: null,", None),
    # finite floats, within float32
    ("lr_inf", "learning_rate: 0.001", "learning_rate: .inf", "schema"),
    ("l2_minus_inf", "l2: 0.001", "l2: -.inf", "schema"),
    ("rate_nan", "rate: 0.2", "rate: .nan", "schema"),
    ("divide_beyond_double", "divide: 255", "divide: 1.0e+309", "schema"),
    ("lr_beyond_float32", "learning_rate: 0.001", "learning_rate: 1.0e+39", "schema"),
    ("lr_float32_max", "learning_rate: 0.001", "learning_rate: 3.0e+38", None),
    ("lr_int_beyond_double", "learning_rate: 0.001", "learning_rate: " + "9" * 400, "schema"),
    ("lr_int", "learning_rate: 0.001", "learning_rate: 1", None),
    ("lr_string", "learning_rate: 0.001", 'learning_rate: "0.001"', "schema"),
    ("min_delta_nan", "patience: 2}", "patience: 2, min_delta: .nan}", "schema"),
    # integers: int64, seeds 32-bit
    ("seed_max", "seed: 1\n", "seed: 4294967295\n", None),
    ("seed_over_32_bits", "seed: 1\n", "seed: 4294967296\n", "schema"),
    ("layer_seed_2_64", "seed: 1}", "seed: 18446744073709551616}", "schema"),
    ("layer_seed_negative", "seed: 1}", "seed: -1}", "schema"),
    ("batch_size_int64_max", "batch_size: 32", "batch_size: 9223372036854775807", None),
    ("batch_size_over_int64", "batch_size: 32", "batch_size: 9223372036854775808", "schema"),
    ("epochs_zero", "epochs: 1", "epochs: 0", "schema"),
    ("epochs_float", "epochs: 1", "epochs: 1.5", "schema"),
    ("epochs_bool", "epochs: 1", "epochs: true", "schema"),
    ("filters_string", "filters: 4", 'filters: "4"', "schema"),
    ("kernel_size_list", "kernel_size: 3", "kernel_size: [3, 3]", None),
    ("kernel_size_three", "kernel_size: 3", "kernel_size: [3, 3, 3]", "schema"),
    ("kernel_size_zero", "kernel_size: 3", "kernel_size: 0", "schema"),
    ("pool_strides_null", "pool_size: 2}", "pool_size: 2, strides: null}", None),
    # ranges and enums
    ("rate_one", "rate: 0.2", "rate: 1", "schema"),
    ("validation_split_negative", "validation_split: 0.1", "validation_split: -0.1", "schema"),
    ("activation_unknown", "activation: relu", "activation: relux", "schema"),
    ("padding_unknown", "activation: relu}", "activation: relu, padding: full}", "schema"),
    ("loss_unknown", "loss: categorical_crossentropy", "loss: crossentropy", "schema"),
    ("metric_unknown", "metrics: [accuracy]", "metrics: [acuracy]", "schema"),
    ("cast_unknown", "{cast: float32}", "{cast: int8}", "schema"),
    ("backend_unknown", "backend: auto", "backend: cntk", "schema"),
    ("jit_compile_bool", "jit_compile: auto", "jit_compile: false", None),
    ("jit_compile_string", "jit_compile: auto", "jit_compile: always", "schema"),
    ("specc_version_2", "name: base", "specc: 2\nname: base", "schema"),
    ("specc_version_1", "name: base", "specc: 1\nname: base", None),
    ("description_number", "description: every section, valid", "description: 5", "schema"),
    # keys and types
    ("unknown_top_key", "name: base", "name: base\nauthor: me", "schema"),
    ("unknown_layer_key", "kernel_size: 3,", "kernal_size: 3,", "schema"),
    ("missing_name", "name: base\n", "", "schema"),
    (
        "missing_model",
        "model:\n  input: {shape: [28, 28, 1]}",
        "modell:\n  input: {shape: [28, 28, 1]}",
        "schema",
    ),
    ("unknown_layer_type", "{type: Reshape,", "{type: Resize,", "schema"),
    ("lambda_layer", "{type: Reshape, target_shape: [-1]}", "{type: Lambda}", "schema"),
    ("layer_without_type", "{type: MaxPooling2D, pool_size: 2}", "{pool_size: 2}", "schema"),
    ("layers_empty", "  layers:\n", "  layers: []\n  old_layers:\n", "schema"),
    ("layers_mapping", "  layers:\n", "  layers: {}\n  old_layers:\n", "schema"),
    ("callback_unknown", "type: EarlyStopping,", "type: ModelCheckpoint,", "schema"),
    # input rank 1..3
    ("input_rank_4", "input: {shape: [28, 28, 1]}", "input: {shape: [1, 28, 28, 1]}", "graph"),
    # Reshape [-1] over an unknown axis leaves the size unknown, so Keras (and specc's graph)
    # refuse the Dense after it; the schema takes the null.
    ("input_null_dim", "input: {shape: [28, 28, 1]}", "input: {shape: [null, 28, 1]}", "graph"),
    (
        "input_dtype_unknown",
        "input: {shape: [28, 28, 1]}",
        "input: {shape: [28, 28, 1], dtype: int3}",
        "schema",
    ),
    ("input_rank_0", "input: {shape: [28, 28, 1]}", "input: {shape: []}", "schema"),
    ("input_zero", "input: {shape: [28, 28, 1]}", "input: {shape: [28, 0, 1]}", "schema"),
    # cross-field rules written into the schema
    ("reshape_two_unknowns", "target_shape: [-1]", "target_shape: [-1, -1]", "schema"),
    ("reshape_zero", "target_shape: [-1]", "target_shape: [0, -1]", "schema"),
    ("reshape_below_minus_one", "target_shape: [-1]", "target_shape: [-2]", "schema"),
    ("regularizer_empty", "{l2: 0.001}", "{}", "schema"),
    ("regularizer_l1", "{l2: 0.001}", "{l1: 0.0}", None),
    ("npz_without_path", "dataset: mnist", "dataset: npz", "schema"),
    ("npz_empty_path", "dataset: mnist", 'dataset: npz\n  path: ""', "schema"),
    ("npz_null_path", "dataset: mnist", "dataset: npz\n  path: null", "schema"),
    ("npz_with_path", "dataset: mnist", "dataset: npz\n  path: data/mnist.npz", None),
    ("step_two_keys", "{cast: float32}", "{cast: float32, divide: 2}", "schema"),
    ("step_unknown", "{cast: float32}", "{resize: 2}", "schema"),
    # what only the graph and the cross-field checks know: the schema accepts it
    (
        "graph_input_layer_name",
        "{type: MaxPooling2D,",
        "{type: MaxPooling2D, name: input_layer,",
        "graph",
    ),
    ("graph_name_clash", "{type: MaxPooling2D,", "{type: MaxPooling2D, name: conv2d,", "graph"),
    ("graph_weights_too_large", "filters: 4,", "filters: 2147483648,", "graph"),
    ("graph_kernel_does_not_fit", "kernel_size: 3,", "kernel_size: 29,", "graph"),
    ("checks_wrong_classes", "units: 10,", "units: 9,", "graph"),
]


def _load(text: str, file: str) -> loader.Loaded | None:
    try:
        return loader.load_text(text, file)
    except SpecError:
        return None  # refused while reading YAML: nothing for a JSON Schema to judge


BLOCK_FORM = (
    "repeat must be", "unknown key", "a block needs a non-empty list", "params is a list",
    "must be a mapping of block names", "must be an identifier", "a block is a mapping",
    "a block takes one input", "cannot be a parameter name", "must be the name of a block",
    "must be a Python identifier",
)  # fmt: skip
"""Block problems of form (the JSON Schema states them); the rest (names, parameters,
cycles) only specc can see, and so a value a use's ``$param`` gave (its note names the
use: the JSON Schema sees only ``$name``)."""


def specc_stage(loaded: loader.Loaded) -> str | None:
    """Where specc refuses the data: ``schema`` (Pydantic), ``graph`` (graph or checks), or
    None when it accepts it. A variant (``extends:``) is judged merged with its bases, which
    the JSON Schema cannot see: it checks a variant's form only, so any refusal of the
    merged spec counts as ``graph`` (the schema must accept every variant specc accepts)."""
    if variants.is_variant(loaded.data):
        given = loaded.data["extends"]
        if not isinstance(given, str) or not given:
            return "schema"  # its form: the schema says extends is a path
        try:
            merged = variants.resolve(loaded, loaded.source.file)
        except SpecError:
            return "graph"
        return "graph" if specc_stage(merged) else None
    expanded, problems = blocks.expand(loaded)
    if problems:  # blocks are expanded before the schema: its form is the schema's to state
        in_form = any(
            any(m in p.message for m in BLOCK_FORM) and "in block '" not in (p.hint or "")
            for p in problems
        )
        return "schema" if in_form else "graph"
    try:
        Spec.model_validate(expanded.data)
    except ValidationError as exc:
        origins = getattr(expanded.source, "origins", {})
        in_blocks = all(
            tuple(e["loc"][:3]) in origins and origins[tuple(e["loc"][:3])][1] for e in exc.errors()
        )  # a value in a block's layer: the JSON Schema sees it only as written ($param)
        return "graph" if in_blocks else "schema"
    try:
        pipeline.compile_loaded(loaded)
    except SpecError:
        return "graph"
    return None


def _verdicts(loaded: loader.Loaded) -> tuple[str | None, list[str]]:
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:120]}"
        for e in VALIDATOR.iter_errors(loaded.data)
    ]
    return specc_stage(loaded), errors


def _agree(stage: str | None, errors: list[str]) -> None:
    if stage == "schema":
        assert errors, "specc's schema stage refuses it, the JSON Schema accepts it"
    else:
        assert not errors, (
            f"specc {'accepts it' if stage is None else 'refuses it only in the ' + stage}, the JSON Schema refuses it: {errors}"
        )


def _load_path(path: Path) -> loader.Loaded | None:
    try:
        return _load(loader.read_text(path), str(path))  # a variant's base is found from it
    except SpecError:
        return None  # not text: refused before YAML


REPO_SPECS = sorted(
    [*SPECS.glob("*.yaml"), *(ROOT / "tests" / "golden" / "specs").glob("*.yaml")]
    + [p / "spec.yaml" for p in CASES.iterdir() if (p / "spec.yaml").exists()]
)
JUDGED = [path for path in REPO_SPECS if _load_path(path) is not None]
"""The specs that load as YAML; the rest are loader cases, with no data to judge."""


@pytest.mark.parametrize("path", JUDGED, ids=lambda p: str(p.relative_to(ROOT)))
def test_repo_spec(path: Path):
    loaded = _load_path(path)
    assert loaded is not None
    _agree(*_verdicts(loaded))


def test_repo_specs_cover_every_verdict():
    """The repo's specs include accepted ones and refusals of both stages."""
    stages = {specc_stage(loaded) for path in JUDGED if (loaded := _load_path(path))}
    assert stages == {None, "schema", "graph"}
    assert len(JUDGED) >= 35


@pytest.mark.parametrize(
    ("old", "new", "stage"), [v[1:] for v in VARIANTS], ids=[v[0] for v in VARIANTS]
)
def test_variant(old: str, new: str, stage: str | None):
    _check_variant(BASE, old, new, stage)


def _check_variant(base: str, old: str, new: str, stage: str | None) -> None:
    """``base`` with ``old`` replaced by ``new`` is refused at ``stage`` (None: accepted),
    and the JSON Schema agrees with specc on it."""
    assert old in base
    loaded = _load(base.replace(old, new, 1), "variant.yaml")
    assert loaded is not None
    got, errors = _verdicts(loaded)
    assert got == stage, "the variant does not test what its name says"
    _agree(got, errors)


LABELS_AND_BLOCKS = """\
name: labels
blocks:
  fc: [{type: Dense, units: 4, as: y}]
  stack:
    params: {depth: 2, label: out}
    layers:
      - {block: fc, repeat: $depth, as: $label}
model:
  input: {shape: [4]}
  layers:
    - {block: stack}
    - {type: Dense, units: 3, as: z}
"""
LABEL_VARIANTS = [
    ("ok", "", "", None),  # $params in a block's use: the JSON Schema must take them
    ("layer_label_keyword", "as: z", "as: class", "schema"),
    ("layer_label_newline", "as: z", 'as: "z\\n"', "schema"),
    ("use_label_keyword", "{block: stack}", "{block: stack, as: class}", "schema"),
    ("use_label_number", "{block: stack}", "{block: stack, as: 5}", "schema"),
    ("use_block_null", "{block: stack}", "{block: null}", "schema"),
    ("use_repeat_param_outside", "{block: stack}", "{block: fc, repeat: $depth}", "schema"),
    ("repeat_param_zero", "{block: stack}", "{block: stack, depth: 0}", "graph"),
    ("label_param_keyword", "{block: stack}", "{block: stack, label: class}", "graph"),
]


@pytest.mark.parametrize(
    ("old", "new", "stage"), [v[1:] for v in LABEL_VARIANTS], ids=[v[0] for v in LABEL_VARIANTS]
)
def test_labels_and_block_uses(old: str, new: str, stage: str | None):
    """``as`` labels are identifiers that are not keywords, as specc's schema says; a use
    of a block inside a block may take its ``repeat`` and ``as`` from ``$params``."""
    _check_variant(LABELS_AND_BLOCKS, old, new, stage)


def test_integral_float_is_the_one_known_difference():
    """JSON has one number type: Draft 2020-12 calls 4.0 an integer, YAML (and specc) a
    float. A JSON Schema cannot refuse ``filters: 4.0``; specc does. Pinned here so a
    change on either side is noticed."""
    loaded = _load(BASE.replace("filters: 4", "filters: 4.0"), "variant.yaml")
    assert loaded is not None
    stage, errors = _verdicts(loaded)
    assert (stage, errors) == ("schema", [])


def test_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


# Keywords of Draft 2020-12 (core, applicator, validation, unevaluated, format, content,
# meta-data): strict validators such as Ajv refuse anything else, e.g. OpenAPI's
# `discriminator`.
STANDARD = {
    "$schema", "$id", "$ref", "$defs", "$comment", "$anchor", "$dynamicRef", "$dynamicAnchor",
    "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "prefixItems",
    "items", "contains", "properties", "patternProperties", "additionalProperties",
    "propertyNames", "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum",
    "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
    "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties", "required",
    "dependentRequired", "unevaluatedItems", "unevaluatedProperties", "format", "title",
    "description", "default", "deprecated", "readOnly", "writeOnly", "examples",
    "contentEncoding", "contentMediaType", "contentSchema",
}  # fmt: skip
_SCHEMA_MAPS = {"properties", "patternProperties", "$defs", "dependentSchemas"}
_SCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}
_SCHEMAS = {"not", "if", "then", "else", "items", "contains", "additionalProperties",
            "propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema"}  # fmt: skip


def _keywords(schema: Any) -> set[str]:
    """Every keyword used anywhere in a schema (property names are not keywords)."""
    if not isinstance(schema, dict):
        return set()
    found = set(schema)
    for key, value in schema.items():
        if key in _SCHEMA_MAPS:
            found |= {k for sub in value.values() for k in _keywords(sub)}
        elif key in _SCHEMA_LISTS:
            found |= {k for sub in value for k in _keywords(sub)}
        elif key in _SCHEMAS:
            found |= _keywords(value)
    return found


def test_schema_uses_only_standard_keywords():
    assert _keywords(SCHEMA) - STANDARD == set()
    assert "oneOf" in _keywords(SCHEMA)  # the tagged unions are still there, standardly


# ------------------------------------------------------------- what standard tools report
# The mistakes people make most, as the validators editors and CI use report them: each
# must name the real mistake (not the nearest of 100 other layers, or a block use).
TYPO = "name: t\nmodel:\n  input: {shape: [28, 28, 1]}\n  layers:\n    - {type: Conv2D, filters: 4, kernal_size: 3}\n"
UNKNOWN_TYPE = TYPO.replace("Conv2D", "Conv2X").replace("kernal_size", "kernel_size")


def _errors_of(text: str) -> list[Any]:
    loaded = _load(text, "mistake.yaml")
    assert loaded is not None
    return list(VALIDATOR.iter_errors(loaded.data))


def test_unknown_key_is_reported_on_its_layer():
    """``jsonschema``'s best match (what check-jsonschema and most tools print first) names
    ``kernal_size`` as unexpected on the Conv2D, and no error is about another layer."""
    errors = _errors_of(TYPO)
    best = best_match(errors)
    assert best is not None
    assert best.validator == "additionalProperties"
    assert list(best.absolute_path) == ["model", "layers", 0]
    assert "'kernal_size' was unexpected" in best.message
    every = [e.message for error in errors for e in _leaves(error)]
    assert not [m for m in every if "'block'" in m or "'units'" in m], every


def test_unknown_type_lists_the_catalog():
    errors = _errors_of(UNKNOWN_TYPE)
    best = best_match(errors)
    assert best is not None
    assert (best.validator, list(best.absolute_path)) == ("enum", ["model", "layers", 0, "type"])
    assert best.message.startswith("'Conv2X' is not one of ['Dense', ")
    assert all(f"'{name}'" in best.message for name in CATALOG)
    assert [e.message for e in errors] == [best.message]


def _leaves(error: Any) -> list[Any]:
    return [error] + [leaf for sub in error.context for leaf in _leaves(sub)]


def _check_jsonschema(*files: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema (a dev dependency) over spec files, as a CI job would run it."""
    command = [sys.executable, "-m", "check_jsonschema", "--schemafile", str(SCHEMA_PATH)]
    return subprocess.run(
        [*command, *map(str, files)], capture_output=True, text=True, timeout=120, check=False
    )


def test_check_jsonschema_names_the_mistake(tmp_path: Path):
    """check-jsonschema, as a CI job runs it over spec files (one run): the valid spec
    passes, and each mistake's first line names the misspelt key or the unknown type where
    it is, without a "Best Match" among a union's members."""
    mistakes = [(m[0], BASE.replace(m[1], m[2], 1), m[3], m[4]) for m in OBJECT_MISTAKES]
    mistakes += [
        ("typo", TYPO, "model/layers/0", "Additional properties are not allowed "
         "('kernal_size' was unexpected)"),
        ("type", UNKNOWN_TYPE, "model/layers/0/type", "'Conv2X' is not one of ['Dense', "),
    ]  # fmt: skip
    (tmp_path / "ok.yaml").write_text(BASE)
    for name, text, _, _ in mistakes:
        (tmp_path / f"{name}.yaml").write_text(text)
    files = [tmp_path / "ok.yaml", *(tmp_path / f"{m[0]}.yaml" for m in mistakes)]
    run = _check_jsonschema(*files)
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert not [line for line in lines if "ok.yaml" in line], run.stdout
    for name, _, where, message in mistakes:
        first = next(line for line in lines if f"/{name}.yaml::" in line)
        assert f"/{name}.yaml::{_json_path(where)}: " in first, first
        assert message in first, first
    assert "'block' is a required property" not in run.stdout
    assert "Missing property" not in run.stdout
    assert "Best Match" not in run.stdout


def _json_path(where: str) -> str:
    """``model/layers/4/type`` as check-jsonschema writes it: ``$.model.layers[4].type``."""
    parts = [f"[{p}]" if p.isdigit() else f".{p}" for p in where.split("/")]
    return "$" + "".join(parts)


SCHEMA_PATH = ROOT / "specc.schema.json"
AJV = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "ajv"
"""ajv-cli, installed by .ci/run (``npm install --prefix .ci/node ajv-cli@5 ajv-formats``)."""
AJV_MISSING = (
    "needs node and ajv-cli: npm install --prefix .ci/node ajv-cli@5 ajv-formats"
    if shutil.which("node") is None or not AJV.exists()
    else ""
)
needs_ajv = pytest.mark.skipif(bool(AJV_MISSING), reason=AJV_MISSING)
AJV_STRICT = ["--spec=draft2020", "--strict=true", "-c", "ajv-formats", "-s", str(SCHEMA_PATH)]


def _ajv(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AJV), *args], capture_output=True, text=True, timeout=120, check=False
    )


@needs_ajv
def test_ajv_strict_compiles_the_schema():
    """Ajv in full strict mode (strictRequired, strictTypes, ...) takes the schema as it is:
    no error and no warning."""
    run = _ajv("compile", *AJV_STRICT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (run.stdout + run.stderr).strip() == f"schema {SCHEMA_PATH} is valid"


def _ajv_verdicts(files: list[Path]) -> dict[str, list[dict[str, Any]]]:
    """Ajv's verdict on each file: its errors (none: valid), strict, all errors."""
    args = [a for f in files for a in ("-d", str(f))]
    run = _ajv("validate", *AJV_STRICT, "--all-errors", "--errors=json", *args)
    out = run.stderr + run.stdout
    verdicts: dict[str, list[dict[str, Any]]] = {}
    for file in files:
        if f"{file} valid" in out.splitlines():
            verdicts[file.name] = []
            continue
        start = out.index(f"{file} invalid\n") + len(f"{file} invalid\n")
        verdicts[file.name] = json.JSONDecoder().raw_decode(out[start:].lstrip())[0]
    assert len(verdicts) == len(files), out
    return verdicts


@needs_ajv
def test_ajv_names_the_mistake(tmp_path: Path):
    files = []
    for name, text in (("typo", TYPO), ("type", UNKNOWN_TYPE), ("ok", BASE)):
        loaded = _load(text, f"{name}.yaml")
        assert loaded is not None
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps(loaded.data))
    verdicts = _ajv_verdicts(files)
    assert verdicts["ok.json"] == []
    unexpected = [
        (e["instancePath"], e["params"]["additionalProperty"])
        for e in verdicts["typo.json"]
        if e["keyword"] == "additionalProperties"
    ]
    assert unexpected == [("/model/layers/0", "kernal_size")]
    assert not [e for e in verdicts["typo.json"] if "block" in json.dumps(e["params"])]
    (enum,) = [e for e in verdicts["type.json"] if e["keyword"] == "enum"]
    assert enum["instancePath"] == "/model/layers/0/type"
    assert enum["params"]["allowedValues"] == list(CATALOG)
    assert [e["keyword"] for e in verdicts["type.json"]].count("required") == 0


def _as_js(data: Any) -> str | None:
    """``data`` as JSON that JavaScript reads exactly, or None: YAML's .inf and .nan have
    no JSON form, and JavaScript's numbers round integers beyond 2**53 (so 2**63 would
    pass ``maximum: 2**63 - 1`` in Ajv)."""

    def exact(node: Any) -> bool:
        if isinstance(node, dict):
            return all(map(exact, node.values()))
        if isinstance(node, list):
            return all(map(exact, node))
        return not (isinstance(node, int) and abs(node) > 2**53)

    try:
        text = json.dumps(data, allow_nan=False)
    except ValueError:
        return None
    return text if exact(data) else None


@pytest.mark.slow
@needs_ajv
def test_ajv_agrees_on_the_repo_specs(tmp_path: Path):
    """Ajv (strict) and ``jsonschema`` give every repo spec the same verdict (ECMA-262 and
    Python regexes, Ajv's and jsonschema's readings of 2020-12), as JSON data."""
    files, expected = [], {}
    for i, path in enumerate(JUDGED):
        loaded = _load_path(path)
        assert loaded is not None
        text = _as_js(loaded.data)
        if text is None:
            continue
        files.append(tmp_path / f"{i}.json")
        files[-1].write_text(text)
        expected[files[-1].name] = (str(path.relative_to(ROOT)), VALIDATOR.is_valid(loaded.data))
    assert len(files) >= len(JUDGED) - 3
    verdicts = _ajv_verdicts(files)
    differ = [spec for name, (spec, ok) in expected.items() if ok != (verdicts[name] == [])]
    assert differ == []
    assert {ok for _, ok in expected.values()} == {True, False}


# ------------------------------------------------------------------ what hover shows
def _described(prop: Any) -> bool:
    """A property is described by its own description, or by the definition it refers to
    (``as: {$ref: Label}``); ``{}`` only declares a name for Ajv (strictRequired) where the
    property is described beside it."""
    if not isinstance(prop, dict) or prop == {} or "description" in prop:
        return True
    ref = prop.get("$ref", "")
    return "description" in SCHEMA["$defs"].get(ref.rsplit("/", 1)[-1], {})


def _properties(node: Any, where: str = "#") -> list[tuple[str, Any]]:
    """Every property schema in ``node`` with its location, conditions (``if``, ``not``)
    left out: they restate properties to test them, not to document them."""
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("if", "not"):
                continue
            if key == "properties" and isinstance(value, dict):
                for name, prop in value.items():
                    found.append((f"{where}/properties/{name}", prop))
                    found += _properties(prop, f"{where}/properties/{name}")
            else:
                found += _properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _properties(value, f"{where}/{i}")
    return found


FILLER = re.compile(r"^(the )?\w+( argument| parameter| value| field)?\.?$", re.IGNORECASE)


def test_every_argument_has_a_description():
    """Editors show a property's description on hover: every argument of every layer,
    Keras object and section has one, and it says more than the argument's name."""
    props = _properties(SCHEMA)
    assert len(props) > 1000
    assert [where for where, prop in props if not _described(prop)] == []
    texts = {p["description"] for _, p in props if isinstance(p, dict) and "description" in p}
    assert [t for t in texts if FILLER.match(t) or "\n" in t] == []
    conv = SCHEMA["$defs"]["Conv2D"]["properties"]
    assert conv["filters"]["description"] == "Number of output channels (filters)."
    assert "rate" in SCHEMA["$defs"]["Dropout"]["properties"]["rate"]["description"]
    assert "passes" in SCHEMA["$defs"]["Training"]["properties"]["epochs"]["description"]


def test_every_type_has_a_one_line_summary():
    """Every definition of an object (layer, Keras object, section) says what it is in one
    line; a layer's ``type`` names the Keras class."""
    objects = {k: d for k, d in SCHEMA["$defs"].items() if "properties" in d}
    summaries = {k: d.get("description", "") for k, d in objects.items()}
    assert [k for k, text in summaries.items() if not text or "\n" in text or len(text) > 120] == []
    for chain in SCHEMA["$defs"]["Layer"]["allOf"]:
        layer = SCHEMA["$defs"][chain["then"]["$ref"].rsplit("/", 1)[-1]]
        tag = layer["properties"]["type"]["const"]
        assert layer["description"] == descriptions.SUMMARIES[f"layers.{tag}"]
        path = CATALOG[tag].KERAS_PATH
        assert layer["properties"]["type"]["description"] == f"The Keras class: keras.{path}."


def test_every_description_describes_something(monkeypatch: pytest.MonkeyPatch):
    """No entry of the descriptions table is stale: each summary and each argument entry is
    what some declaration in the schema reads (a renamed argument is noticed)."""
    used: set[str] = set()
    real = descriptions.describe

    def recording(schema: dict[str, Any], cls: type) -> None:
        kind, key = descriptions.kind_and_key(cls)
        used.add(key)
        for name, prop in schema.get("properties", {}).items():
            if "description" in prop:
                continue  # the declaration's own (Field(description=...)) is kept
            used.update(
                next(
                    (
                        [c]
                        for c in (f"{key}.{name}", f"{kind}.{name}", name)
                        if c in descriptions.ARGUMENTS
                    ),
                    [],
                )
            )
        real(schema, cls)

    monkeypatch.setattr(descriptions, "describe", recording)
    json_schema()
    assert set(descriptions.SUMMARIES) - used == set()
    assert set(descriptions.ARGUMENTS) - used == set()


YAML_SERVER = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "yaml-language-server"
"""yaml-language-server, installed by .ci/run beside ajv-cli."""
YAML_SERVER_MISSING = (
    "needs node and yaml-language-server: npm install --prefix .ci/node yaml-language-server@1"
    if shutil.which("node") is None or not YAML_SERVER.exists()
    else ""
)


def _editor(tmp_path: Path, name: str, text: str, *points: str) -> dict[str, Any]:
    """What yaml-language-server (an editor) reports for a spec that names the checked-in
    schema on its modeline: diagnostics, and the hover text at each ``line:col``."""
    spec = tmp_path / f"{name}.yaml"
    spec.write_text(f"# yaml-language-server: $schema={SCHEMA_PATH}\n{text}")
    driver = ROOT / "tests" / "yaml_hover.js"
    run = subprocess.run(
        ["node", str(driver), str(YAML_SERVER), str(spec), *points],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.mark.slow  # three language-server starts: about 10 s
@pytest.mark.skipif(bool(YAML_SERVER_MISSING), reason=YAML_SERVER_MISSING)
def test_editor_hover_and_diagnostics(tmp_path: Path):
    """In an editor (yaml-language-server: Draft 2020-12, the schema's $id), hovering a
    layer argument or a training field shows its description, and the two common mistakes
    are reported as what they are."""
    lines = BASE.splitlines()
    filters = next(i for i, line in enumerate(lines) if "filters:" in line)
    epochs = next(i for i, line in enumerate(lines) if "epochs:" in line)
    points = {
        "filters": f"{filters + 1}:{lines[filters].index('filters') + 2}",
        "rate": f"{filters + 3}:{lines[filters + 2].index('rate') + 1}",
        "epochs": f"{epochs + 1}:{lines[epochs].index('epochs') + 1}",
    }
    seen = _editor(tmp_path, "ok", BASE, *points.values())
    assert seen["diagnostics"] == []
    hovers = {name: seen["hovers"][point] for name, point in points.items()}
    properties = SCHEMA["$defs"]
    assert properties["Conv2D"]["properties"]["filters"]["description"] in hovers["filters"]
    assert properties["Dropout"]["properties"]["rate"]["description"] in hovers["rate"]
    assert properties["Training"]["properties"]["epochs"]["description"] in hovers["epochs"]
    typo = _editor(tmp_path, "typo", TYPO)["diagnostics"]
    assert [5, "Property kernal_size is not allowed."] in typo
    unknown = _editor(tmp_path, "type", UNKNOWN_TYPE)["diagnostics"]
    assert [m for _, m in unknown] == [
        "Value is not accepted. Valid values: " + ", ".join(f'"{t}"' for t in CATALOG) + "."
    ]


# (id, text in BASE, its replacement, where the best match is, its message)
OBJECT_MISTAKES = [
    ("initializer_key", "activation: softmax,", "activation: softmax, kernel_initializer: "
     "{type: HeNormal, sed: 1},", "model/layers/4/kernel_initializer", "'sed' was unexpected"),
    ("regularizer_type", "{l2: 0.001}", "{type: L3}", "model/layers/4/kernel_regularizer/type",
     "'L3' is not one of ['L1', 'L2', 'L1L2', 'OrthogonalRegularizer']"),
    ("regularizer_shorthand_key", "{l2: 0.001}", "{l3: 0.001}",
     "model/layers/4/kernel_regularizer", "'l3' was unexpected"),
    ("optimizer_key", "learning_rate: 0.001", "learning_rat: 0.001", "compile/optimizer",
     "'learning_rat' was unexpected"),
    ("optimizer_type", "type: Adam,", "type: Adamm,", "compile/optimizer/type",
     "'Adamm' is not one of ['SGD', 'RMSprop', 'Adam', "),
    ("loss_key", "loss: categorical_crossentropy", "loss: {type: CategoricalCrossentropy, "
     "from_logit: true}", "compile/loss", "'from_logit' was unexpected"),
    ("callback_key", "patience: 2}", "patience: 2, patiance: 3}", "training/callbacks/0",
     "'patiance' was unexpected"),
    ("section_key", "epochs: 1", "epoch: 1", "training", "'epoch' was unexpected"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [m[1:] for m in OBJECT_MISTAKES],
    ids=[m[0] for m in OBJECT_MISTAKES],
)
def test_object_mistakes_are_named(old: str, new: str, where: str, message: str):
    """Keras objects (initializers, regularizers, optimizers, losses, callbacks) and the
    optional sections are picked by their form and ``type`` too: the best match names the
    misspelt key or the unknown class, not "is not of type 'null'" or a list of names."""
    assert old in BASE
    errors = _errors_of(BASE.replace(old, new, 1))
    best = best_match(errors)
    assert best is not None
    assert "/".join(map(str, best.absolute_path)) == where
    assert message in best.message


def _json_path(where: str) -> str:
    """``model/layers/4/type`` as check-jsonschema writes it: ``$.model.layers[4].type``."""
    parts = [f"[{p}]" if p.isdigit() else f".{p}" for p in where.split("/")]
    return "$" + "".join(parts)
