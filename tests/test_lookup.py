"""String inputs and the lookup layers: validation, tables, vocabulary files, adapt, import,
emitted code (the shape rules themselves: tests/test_differential_lookup.py)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from specc.analysis.pipeline import compile_file, compile_text
from specc.errors import SpecError
from tests.helpers import run_specc

TABLE = """
name: tab
model:
  inputs:
    - {shape: [1], dtype: string, name: city}
    - {shape: [1], dtype: int64, name: code}
    - {shape: [1], name: age}
  layers:
    - {type: StringLookup, vocabulary: [paris, rome, oslo], output_mode: one_hot, inputs: [city]}
    - {type: IntegerLookup, max_tokens: 8, pad_to_max_tokens: true, output_mode: multi_hot, inputs: [code]}
    - {type: StringLookup, inputs: [city], adapt_samples: 5}
    - {type: Embedding, input_dim: 10, output_dim: 3}
    - {type: Flatten}
    - {type: Concatenate, inputs: [string_lookup, integer_lookup, flatten, age]}
    - {type: Dense, units: 1, activation: sigmoid}
  outputs: [dense]
"""


def _errors(text: str, file: str = "<spec>") -> list[str]:
    with pytest.raises(SpecError) as caught:
        compile_text(textwrap.dedent(text), file)
    return [f"{d.line}:{d.col}: {d.message}" for d in caught.value.diagnostics]


def test_a_string_input_into_dense_is_refused_naming_the_lookup_it_needs():
    errors = _errors(
        """
        name: bad
        model:
          input: {shape: [1], dtype: string}
          layers:
            - {type: Dense, units: 1}
        """
    )
    assert len(errors) == 1
    assert errors[0].startswith("6:7: Dense cannot take 'input_layer', a string tensor")
    assert "StringLookup" in errors[0] and "TextVectorization" in errors[0]


def test_a_string_tensor_into_a_graph_layer_is_refused_at_its_inputs():
    errors = _errors(
        """
        name: bad
        model:
          inputs: [{shape: [2], dtype: string, name: words}, {shape: [2], name: x}]
          layers:
            - {type: Add, inputs: [x, words]}
          outputs: [add]
        """
    )
    assert errors == [
        "6:27: Add cannot take 'words', a string tensor; put a StringLookup (categories), "
        "TextVectorization (text) or Hashing layer before it to turn the strings into numbers"
    ]


def test_a_float_input_into_string_lookup_is_refused():
    errors = _errors(
        """
        name: bad
        model:
          input: {shape: [1]}
          layers:
            - {type: StringLookup, vocabulary: [a]}
        """
    )
    assert errors == [
        "6:7: StringLookup reads strings but 'input_layer' is float32; give the input dtype: "
        "string, or use IntegerLookup for integer categories"
    ]


def test_static_widths_follow_the_vocabulary_as_keras_counts_it():
    graph = compile_text(TABLE).graph
    widths = {layer.name: layer.output_shape for layer in graph.layers}
    assert widths["string_lookup"] == (None, 4)  # 3 tokens + 1 OOV index
    assert widths["integer_lookup"] == (None, 8)  # padded to max_tokens
    assert widths["concatenate"] == (None, 4 + 8 + 3 + 1)
    assert graph.layers[-1].params == 16 + 1


def test_an_adapted_width_is_refused_saying_which_argument_gives_it():
    errors = _errors(
        """
        name: bad
        model:
          input: {shape: [1], dtype: string}
          layers:
            - {type: StringLookup, output_mode: one_hot}
            - {type: Dense, units: 1}
        """
    )
    assert len(errors) == 1
    assert errors[0].startswith("6:41: output_mode one_hot is as wide as the vocabulary")
    assert "max_tokens with pad_to_max_tokens: true" in errors[0]


def test_a_vocabulary_file_is_read_from_the_spec_folder(tmp_path: Path):
    (tmp_path / "words").mkdir()
    (tmp_path / "words" / "cities.txt").write_text("paris\nrome\noslo\nlima\n", "utf-8")
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "name: f\nmodel:\n  input: {shape: [1], dtype: string}\n  layers:\n"
        "    - {type: StringLookup, vocabulary: words/cities.txt, output_mode: one_hot,"
        " mask_token: '[M]'}\n",
        "utf-8",
    )
    compiled = compile_file(spec)
    assert compiled.graph.layers[0].output_shape == (None, 5)
    assert compiled.graph.layers[0].spec.vocabulary_path == str(tmp_path / "words/cities.txt")
    (tmp_path / "words" / "cities.txt").unlink()
    with pytest.raises(SpecError) as caught:
        compile_file(spec)
    (problem,) = caught.value.diagnostics
    assert (problem.line, problem.col) == (5, 40)  # at vocabulary:
    assert "vocabulary file" in problem.message and "not found" in problem.message


def test_a_repeated_token_and_adapt_samples_beside_a_vocabulary_are_refused():
    errors = _errors(
        """
        name: bad
        model:
          input: {shape: [1], dtype: string}
          layers:
            - {type: StringLookup, vocabulary: [a, b, a], adapt_samples: 3}
        """
    )
    assert len(errors) == 1 and "adapt_samples applies to a layer adapted" in errors[0]
    errors = _errors(
        """
        name: bad
        model:
          input: {shape: [1], dtype: string}
          layers:
            - {type: StringLookup, vocabulary: [a, b, a]}
        """
    )
    assert errors == ["6:40: the vocabulary repeats 'a'; Keras needs each token once"]


@pytest.mark.keras
def test_table_equals_keras_and_adapt_takes_the_first_samples():
    from specc.backends import keras_build, table
    from specc.layers.lookup import lookup_adapts
    from tests.family_differential import keras_summary
    from tests.keras_helpers import keras_rows, static_rows

    compiled = compile_text(TABLE)
    model = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert keras_rows(model) == static_rows(compiled.graph)
    assert keras_summary(model) == table.as_text(compiled.graph, width=88).strip()
    assert model.get_layer("city").output.dtype == "string"
    assert lookup_adapts(compiled.graph) == {"integer_lookup": None, "string_lookup_1": 5}
    cities = np.array([["rome"], ["oslo"], ["rome"], ["lima"], ["rome"], ["kyiv"]])
    codes = np.array([[4], [9], [4], [4], [2], [2]], dtype="int64")
    x = {"city": cities, "code": codes, "age": np.ones((6, 1), "float32")}
    assert keras_build.adapt_normalization(model, x, lookup_adapts(compiled.graph)) == 2
    assert model.get_layer("integer_lookup").get_vocabulary() == [-1, 4, 2, 9]
    assert model.get_layer("string_lookup_1").get_vocabulary() == ["[UNK]", "rome", "oslo", "lima"]
    import tensorflow as tf  # Keras' predict takes no NumPy strings; tf.data and tensors do

    out = model({key: tf.constant(value) for key, value in x.items()})
    assert tuple(out.shape) == (6, 1)


@pytest.mark.keras
def test_import_reads_adapted_vocabularies_inline(tmp_path: Path):
    """Keras saves an adapted vocabulary as an asset, not in get_config(): imported inline."""
    from tests.keras_helpers import keras, keras_rows, static_rows

    k = keras()
    k.backend.clear_session()
    city = k.Input(shape=(1,), dtype="string", name="city")
    code = k.Input(shape=(1,), dtype="int64", name="code")
    size = k.Input(shape=(1,), name="size")
    adapted = k.layers.StringLookup(output_mode="one_hot")
    adapted.adapt(np.array([["b"], ["a"], ["b"]]))
    numbers = k.layers.IntegerLookup()
    numbers.adapt(np.array([[7], [3], [7]]))
    bins = k.layers.Discretization(num_bins=3)
    bins.adapt(np.array([[0.1], [0.4], [0.9], [2.0]]))
    text = k.layers.TextVectorization(max_tokens=12, output_sequence_length=3)
    text.adapt(np.array(["the cat", "the dog sat"]))
    parts = [
        adapted(city),
        k.layers.Hashing(num_bins=4, output_mode="one_hot")(city),
        k.layers.CategoryEncoding(num_tokens=5, output_mode="one_hot")(numbers(code)),
        k.layers.Flatten()(k.layers.Embedding(12, 2)(text(city))),
        k.layers.CategoryEncoding(num_tokens=3, output_mode="one_hot")(bins(size)),
    ]
    model = k.Model([city, code, size], k.layers.Dense(1)(k.layers.Concatenate()(parts)))
    model.save(tmp_path / "m.keras")
    run = run_specc("import", str(tmp_path / "m.keras"), "-o", str(tmp_path / "m.yaml"))
    assert run.exit_code == 0, run.stderr
    written = (tmp_path / "m.yaml").read_text()
    assert "vocabulary: ['[UNK]', b, a]" in written
    assert "vocabulary: ['', '[UNK]', the, sat, dog, cat]" in written
    compiled = compile_file(tmp_path / "m.yaml")
    assert static_rows(compiled.graph) == keras_rows(model)


def test_emitted_code_adapts_the_lookup_layers(tmp_path: Path):
    spec = tmp_path / "tab.yaml"
    spec.write_text(
        TABLE
        + "data: {dataset: npz, path: x.npz}\ncompile: {optimizer: adam, loss: binary_crossentropy}\n",
        "utf-8",
    )
    run = run_specc("emit-code", str(spec), "-o", str(tmp_path / "out"))
    assert run.exit_code == 0, run.stderr
    script = (tmp_path / "out" / "tab.py").read_text()
    assert 'lookups = {"string_lookup_1": 5, "integer_lookup": None}' in script
    assert "layer.adapt(data)" in script
    assert "keras.layers.StringLookup(" in script
    assert 'dtype="string"' in script


def test_a_padded_vocabulary_larger_than_max_tokens_is_refused():
    """Found by the long differential run: padding to max_tokens does not excuse a
    vocabulary that needs more indices (Keras refuses it when the layer is made)."""
    errors = _errors(
        """
        name: bad
        model:
          input: {shape: [1], dtype: string}
          layers:
            - {type: StringLookup, vocabulary: [a, b], max_tokens: 2, pad_to_max_tokens: true, output_mode: one_hot}
        """
    )
    assert len(errors) == 1
    assert (
        "the vocabulary makes 3 indices (with the OOV and mask ones), more than max_tokens 2"
        in errors[0]
    )
