"""The reducing, joining, reshaping, product and image operations as spec entries.

A spec using each of them is compared with the plain Keras code a person writes for it
(``keras.ops.mean(x, axis=[1, 2])``, ``keras.ops.concatenate([a, b], axis=-1)``,
``keras.ops.split`` with several outputs, ``keras.ops.image.extract_patches``): the
summary byte for byte (names, row types, shapes, 0 params, Connected to), and the model
``specc build`` makes. Refusals say which argument to fix, in one line.
"""

from __future__ import annotations

from typing import Any

import pytest

from specc.analysis.pipeline import compile_text
from specc.backends import table
from specc.errors import SpecError
from tests.helpers import SHAPING, keras_text
from tests.keras_helpers import keras


def shaping_in_keras() -> Any:
    """SHAPING as Keras code writes it."""
    k = keras()
    k.backend.clear_session()
    ops = k.ops
    img, seq = k.Input((8, 8, 3), name="img"), k.Input((4, 6), name="seq")
    pooled = ops.mean(img, axis=[1, 2])
    summed = ops.sum(seq, axis=1, keepdims=True)
    top = ops.max(seq, axis=-1)
    least = ops.min(seq)
    cat = ops.concatenate([seq, seq], axis=-1)
    stacked = ops.stack([seq, seq, seq], axis=1)
    flat = ops.reshape(seq, [-1, 24])
    t = ops.transpose(seq, [0, 2, 1])
    back = ops.squeeze(ops.expand_dims(seq, 1), axis=1)
    scores = ops.matmul(seq, t)
    scores2 = ops.einsum("bij,bkj->bik", seq, seq)
    patches = ops.image.extract_patches(img, 2)
    small = ops.image.resize(img, [4, 4], interpolation="nearest")
    parts = ops.split(cat, 3, axis=-1)
    ends = parts[0] + parts[2]
    dense = k.layers.Dense(5)(pooled)
    outs = [dense, summed, top, least, stacked, flat, back, scores, scores2, patches, small, ends]
    return k.Model([img, seq], outs, name="shaping")


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")


@pytest.mark.keras
def test_shaping_operations_equal_keras():
    """Rows, names, shapes (split's list of them), Connected to; then specc build."""
    from specc.backends import keras_build

    compiled = compile_text(SHAPING, "shaping.yaml")
    expected = keras_text(shaping_in_keras())
    assert "(ExtractPatches)" in expected and "split (Split)" in expected
    assert table.as_text(compiled.graph) == expected
    keras().backend.clear_session()
    keras().ops.mean(keras().Input((2,)))  # the builder names ops itself, whatever ran before
    built = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert keras_text(built) == expected


def _problem(text: str) -> str:
    with pytest.raises(SpecError) as caught:
        compile_text(text, "s.yaml")
    return str(caught.value)


def _spec(*entries: str, shapes: str = "[4, 6]") -> str:
    layers = "\n".join(f"    - {e}" for e in entries)
    return f"name: s\nmodel:\n  input: {{shape: {shapes}}}\n  layers:\n{layers}\n"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{op: mean, axis: 3}", "axis 3 is out of range for a tensor of rank 3 (use -3 .. 2)"),
        ("{op: sum, axis: [1, -2]}", "axis [1, -2] names the same axis twice"),
        (
            "{op: concatenate, inputs: [input_layer, 1.0]}",
            "concatenate takes tensors, not constants",
        ),
        (
            "{op: split, indices_or_sections: 4, axis: -1}",
            "cannot split size 6 into 4 equal sections",
        ),
        ("{op: reshape, newshape: [-1, 5]}", ""),
        ("{op: reshape, newshape: [-1, -1]}", "at most one -1"),
        ("{op: transpose, axes: [0, 1]}", "axes [0, 1] must list each of the 3 axes once"),
        ("{op: squeeze, axis: 1}", "cannot squeeze axis 1 of (None, 4, 6): its size is 4, not 1"),
        (
            "{op: matmul, inputs: [input_layer, input_layer]}",
            "matmul needs the last size of the first (6)",
        ),
        (
            "{op: einsum, subscripts: 'bij,bij->bk', inputs: [input_layer, input_layer]}",
            "output letter 'k'",
        ),
        (
            "{op: einsum, subscripts: 'bij->bi', inputs: [input_layer, input_layer]}",
            "one term per input (2)",
        ),
        (
            "{op: extract_patches, size: 2}",
            "2D patches need a (batch, height, width, channels) input",
        ),
        ("{op: resize, size: [4]}", "size"),
    ],
)
def test_shaping_entries_refused_say_why(entry, message):
    if not message:  # reshape of an unknown batch: nothing to check, as Keras
        compile_text(_spec(entry), "s.yaml")
        return
    problem = _problem(_spec(entry))
    assert message in problem
    assert len(problem.strip().splitlines()) == 1, problem


def test_a_scalar_output_is_refused_for_training():
    """A reduction over every axis (the batch too) leaves a scalar: no labels fit it."""
    text = (
        _spec("{type: Dense, units: 3}", "{op: mean}") + "compile: {loss: mse, optimizer: adam}\n"
    )
    assert "the model outputs a scalar (shape ())" in _problem(text)


# ------------------------------------------------------------------------ specc import
def _vit_tokens(k: Any) -> Any:
    """ViT's patches (keras-io image_classification_with_vision_transformer) as ops, with a
    mean pool, a concatenation, a split's pieces and an attention-like einsum."""
    ops = k.ops
    image = k.Input((32, 32, 3), name="image")
    small = ops.image.resize(image, (16, 16))
    patches = ops.image.extract_patches(small, 4)
    tokens = ops.reshape(patches, (-1, 16, 48))
    tokens = k.layers.Dense(8)(tokens)
    query, key = ops.split(tokens, 2, axis=-1)
    scores = ops.einsum("bqd,bkd->bqk", query, key)
    scores = ops.matmul(ops.transpose(scores, (0, 2, 1)), tokens)
    pooled = ops.mean(scores, axis=1)
    both = ops.concatenate([pooled, ops.max(tokens, axis=1)], axis=-1)
    stacked = ops.stack([both, both], axis=1)
    out = ops.squeeze(ops.expand_dims(ops.sum(stacked, axis=1, keepdims=True), 1), [1, 2])
    return k.Model(image, out, name="vit_tokens")


@pytest.mark.keras
def test_imported_shaping_operations_round_trip(tmp_path):
    """import -> spec -> summary equal to Keras' table; specc build makes it again."""
    from tests.helpers import run_specc

    k = keras()
    k.backend.clear_session()
    model = _vit_tokens(k)
    model.save(tmp_path / "m.keras")
    spec_path = tmp_path / "m.yaml"
    run = run_specc("import", str(tmp_path / "m.keras"), "-o", str(spec_path))
    assert run.exit_code == 0, run.stderr
    summary = run_specc("summary", str(spec_path))
    assert summary.exit_code == 0, summary.stderr
    assert summary.stdout == keras_text(model)
    built = run_specc("build", str(spec_path), "-o", str(tmp_path / "b.keras"))
    assert built.exit_code == 0, built.stderr
    assert built.stdout.rsplit("\n", 2)[0] + "\n" == keras_text(model)
