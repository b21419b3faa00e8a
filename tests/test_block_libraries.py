"""specc's shipped block libraries equal the Keras code they stand for.

Each block is used in a small spec and written beside it as Keras functional code, the
way keras-io writes it (its layer classes' ``call`` as plain functions); ``specc
summary``'s table is byte for byte the code's ``model.summary()``, the model specc builds
prints the same, and both have the same weights. The token-and-position embedding and the
patch encoder, which make their positions without ``arange``, also compute what keras-io's
layer classes compute once given the same weights.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from specc.analysis.pipeline import compile_text
from specc.backends import keras_build, table
from tests.family_differential import SETTINGS
from tests.keras_helpers import keras

pytestmark = pytest.mark.keras


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")


def _text(model: Any) -> str:
    out = io.StringIO()
    model.summary(print_fn=lambda line, line_break=True: out.write(line))
    return out.getvalue().split("\n", 1)[1]  # the model's name line aside


# --------------------------------------------------------------- the reference code
def _encoder(k: Any, inputs: Any, embed_dim: int, num_heads: int, ff_dim: int, rate=0.1) -> Any:
    """keras-io text_classification_with_transformer: TransformerBlock.call."""
    layers = k.layers
    attn_output = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)(inputs, inputs)
    attn_output = layers.Dropout(rate)(attn_output)
    out1 = layers.LayerNormalization(epsilon=1e-6)(inputs + attn_output)
    ffn_output = layers.Dense(ff_dim, activation="relu")(out1)
    ffn_output = layers.Dense(embed_dim)(ffn_output)
    ffn_output = layers.Dropout(rate)(ffn_output)
    return layers.LayerNormalization(epsilon=1e-6)(out1 + ffn_output)


def _token_and_position(k: Any, x: Any, maxlen: int, vocab_size: int, embed_dim: int) -> Any:
    """keras-io TokenAndPositionEmbedding.call, positions made from the ids."""
    layers, ops = k.layers, k.ops
    positions = ops.cumsum(ops.ones_like(x), axis=-1) - 1
    token_embeddings = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)(x)
    position_embeddings = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)(positions)
    return token_embeddings + position_embeddings


def _prenorm_encoder(k: Any, encoded: Any, num_heads: int, dim: int, units: list[int]) -> Any:
    """keras-io image_classification_with_vision_transformer: one transformer layer."""
    layers = k.layers
    x1 = layers.LayerNormalization(epsilon=1e-6)(encoded)
    attention_output = layers.MultiHeadAttention(num_heads=num_heads, key_dim=dim, dropout=0.1)(
        x1, x1
    )
    x2 = layers.Add()([attention_output, encoded])
    x3 = layers.LayerNormalization(epsilon=1e-6)(x2)
    for n in units:  # mlp(x3, hidden_units=transformer_units, dropout_rate=0.1)
        x3 = layers.Dense(n, activation=k.activations.gelu)(x3)
        x3 = layers.Dropout(0.1)(x3)
    return layers.Add()([x3, x2])


def _decoder(
    k: Any, inputs: Any, encoder_outputs: Any, embed_dim: int, latent_dim: int, heads: int
):
    """keras-io neural_machine_translation_with_transformer: TransformerDecoder.call."""
    layers = k.layers
    attention_output_1 = layers.MultiHeadAttention(num_heads=heads, key_dim=embed_dim)(
        inputs, inputs
    )
    out_1 = layers.LayerNormalization()(inputs + attention_output_1)
    attention_output_2 = layers.MultiHeadAttention(num_heads=heads, key_dim=embed_dim)(
        out_1, encoder_outputs
    )
    out_2 = layers.LayerNormalization()(out_1 + attention_output_2)
    proj_output = layers.Dense(latent_dim, activation="relu")(out_2)
    proj_output = layers.Dense(embed_dim)(proj_output)
    return layers.LayerNormalization()(out_2 + proj_output)


def _patches(k: Any, images: Any, patch_size: int, num_patches: int, patch_dim: int) -> Any:
    """keras-io Patches.call (the sizes known statically)."""
    patches = k.ops.image.extract_patches(images, size=patch_size)
    return k.ops.reshape(patches, (-1, num_patches, patch_dim))


def _patch_encoder(k: Any, patch: Any, num_patches: int, projection_dim: int) -> Any:
    """keras-io PatchEncoder.call, positions made from the patches."""
    ops = k.ops
    positions = ops.cumsum(ops.max(ops.ones_like(patch), axis=-1), axis=-1) - 1
    projected_patches = k.layers.Dense(units=projection_dim)(patch)
    embedding = k.layers.Embedding(input_dim=num_patches, output_dim=projection_dim)
    return projected_patches + embedding(positions)


def _mixer(k: Any, inputs: Any, num_patches: int, hidden: int, tokens: int, channels: int) -> Any:
    """keras-io mlp_image_classification's MLPMixerLayer.call, one LayerNormalization per
    mixing step as the MLP-Mixer paper has it, its MLPs' widths given."""
    layers, ops = k.layers, k.ops
    x = layers.LayerNormalization(epsilon=1e-6)(inputs)
    x_channels = ops.transpose(x, axes=(0, 2, 1))
    mlp1_outputs = layers.Dense(units=tokens, activation="gelu")(x_channels)
    mlp1_outputs = layers.Dense(units=num_patches)(mlp1_outputs)
    mlp1_outputs = layers.Dropout(rate=0.2)(mlp1_outputs)
    mlp1_outputs = ops.transpose(mlp1_outputs, axes=(0, 2, 1))
    x = mlp1_outputs + inputs
    x_patches = layers.LayerNormalization(epsilon=1e-6)(x)
    mlp2_outputs = layers.Dense(units=channels, activation="gelu")(x_patches)
    mlp2_outputs = layers.Dense(units=hidden)(mlp2_outputs)
    mlp2_outputs = layers.Dropout(rate=0.2)(mlp2_outputs)
    return x + mlp2_outputs


def _conv_bn_act(k: Any, x: Any, filters: int, kernel_size=3, strides=1, activation="relu"):
    layers = k.layers
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation(activation)(x)


def _squeeze_excitation(k: Any, inputs: Any, filters: int, filters_se: int) -> Any:
    """keras.applications.efficientnet's block, its squeeze and excite part."""
    layers = k.layers
    se = layers.GlobalAveragePooling2D(keepdims=True)(inputs)
    se = layers.Conv2D(filters_se, 1, activation="relu")(se)
    se = layers.Conv2D(filters, 1, activation="sigmoid")(se)
    return layers.multiply([inputs, se])


def _inverted_res_block(k: Any, inputs: Any, expansion: int, stride: int, filters: int) -> Any:
    """keras.applications.mobilenet_v2._inverted_res_block (alpha 1, padded `same`)."""
    layers = k.layers
    in_channels = inputs.shape[-1]
    x = layers.Conv2D(expansion * in_channels, 1, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999)(x)
    x = layers.ReLU(6.0)(x)
    x = layers.DepthwiseConv2D(3, strides=stride, use_bias=False, padding="same")(x)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999)(x)
    x = layers.ReLU(6.0)(x)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999)(x)
    if in_channels == filters and stride == 1:
        return layers.Add()([inputs, x])
    return x


# -------------------------------------------------------------------- the cases
def _spec(library: str, shape: list, layers: str, inputs: str = "", dtype: str = "") -> str:
    given = f"  inputs: {inputs}\n" if inputs else f"  input: {{shape: {shape}{dtype}}}\n"
    return f"name: block\nuse: [specc/{library}]\nmodel:\n{given}  layers:\n{layers}"


def _one(k: Any, shape: tuple, body: Callable[[Any], Any], dtype: str = "float32") -> Any:
    inputs = k.Input(shape, dtype=dtype)
    return k.Model(inputs, body(inputs))


CASES: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "transformer_encoder": (
        _spec(
            "transformer",
            [10, 16],
            "    - {block: transformer_encoder, num_heads: 2, key_dim: 16, ff_dim: 32, embed_dim: 16}\n"
            "    - {block: transformer_encoder, num_heads: 2, key_dim: 16, ff_dim: 32, embed_dim: 16}\n",
        ),
        lambda k: _one(k, (10, 16), lambda x: _encoder(k, _encoder(k, x, 16, 2, 32), 16, 2, 32)),
    ),
    "transformer_encoder_prenorm": (
        _spec(
            "transformer",
            [12, 16],
            "    - {block: transformer_encoder_prenorm, num_heads: 4, key_dim: 16, ff_dim: 32,\n"
            "       embed_dim: 16, output_activation: gelu, repeat: 2}\n",
        ),
        lambda k: _one(
            k,
            (12, 16),
            lambda x: _prenorm_encoder(k, _prenorm_encoder(k, x, 4, 16, [32, 16]), 4, 16, [32, 16]),
        ),
    ),
    "transformer_decoder": (
        _spec(
            "transformer",
            [],
            "    - {type: Dense, units: 16, inputs: [source], as: encoded}\n"
            "    - {block: transformer_decoder, inputs: [target], context: encoded, num_heads: 2,\n"
            "       key_dim: 16, ff_dim: 32, embed_dim: 16}\n",
            inputs="[{name: target, shape: [7, 16]}, {name: source, shape: [9, 8]}]",
        ),
        lambda k: _decoder_model(k),
    ),
    "token_and_position_embedding": (
        _spec(
            "transformer",
            [20],
            "    - {block: token_and_position_embedding, vocab_size: 100, maxlen: 20, embed_dim: 8}\n",
            dtype=", dtype: int32",
        ),
        lambda k: _one(k, (20,), lambda x: _token_and_position(k, x, 20, 100, 8), "int32"),
    ),
    "patches_and_patch_encoder": (
        _spec(
            "vision",
            [24, 24, 3],
            "    - {block: patches, size: 6, num_patches: 16, patch_dim: 108}\n"
            "    - {block: patch_encoder, num_patches: 16, projection_dim: 32}\n",
        ),
        lambda k: _one(
            k, (24, 24, 3), lambda x: _patch_encoder(k, _patches(k, x, 6, 16, 108), 16, 32)
        ),
    ),
    "mlp_mixer": (
        _spec(
            "vision",
            [16, 32],
            "    - {block: mlp_mixer, num_patches: 16, hidden_units: 32, tokens_mlp_dim: 24,\n"
            "       channels_mlp_dim: 48, dropout: 0.2}\n",
        ),
        lambda k: _one(k, (16, 32), lambda x: _mixer(k, x, 16, 32, 24, 48)),
    ),
    "conv_bn_act_and_squeeze_excitation": (
        _spec(
            "conv",
            [32, 32, 3],
            "    - {block: conv_bn_act, filters: 16, strides: 2}\n"
            "    - {block: conv_bn_act, filters: 16, kernel_size: 1, activation: swish}\n"
            "    - {block: squeeze_excitation, filters: 16, squeeze_filters: 4}\n",
        ),
        lambda k: _one(
            k,
            (32, 32, 3),
            lambda x: _squeeze_excitation(
                k, _conv_bn_act(k, _conv_bn_act(k, x, 16, strides=2), 16, 1, 1, "swish"), 16, 4
            ),
        ),
    ),
    "inverted_residual": (
        _spec(
            "conv",
            [16, 16, 16],
            "    - {block: inverted_bottleneck, expanded_filters: 96, filters: 24, strides: 2}\n"
            "    - {block: inverted_residual, expanded_filters: 144, filters: 24}\n",
        ),
        lambda k: _one(
            k,
            (16, 16, 16),
            lambda x: _inverted_res_block(k, _inverted_res_block(k, x, 6, 2, 24), 6, 1, 24),
        ),
    ),
}


def _decoder_model(k: Any) -> Any:
    target = k.Input((7, 16), name="target")
    source = k.Input((9, 8), name="source")
    encoded = k.layers.Dense(16)(source)
    return k.Model([target, source], _decoder(k, target, encoded, 16, 32, 2))


@st.composite
def drawn_blocks(draw: Any) -> tuple[str, Callable[[Any], Any]]:
    """A shipped block with drawn arguments, and its Keras code with the same ones."""
    kind = draw(st.sampled_from(["encoder", "embedding", "conv", "mixer", "residual"]))
    n = draw(st.integers(2, 8))
    if kind == "encoder":
        heads, dim, ff = draw(st.integers(1, 3)), draw(st.sampled_from([4, 8])), n * 2
        use = f"{{block: transformer_encoder, num_heads: {heads}, key_dim: {dim}, ff_dim: {ff}, embed_dim: {dim}}}"
        return _spec("transformer", [n, dim], f"    - {use}\n"), lambda k: _one(
            k, (n, dim), lambda x: _encoder(k, x, dim, heads, ff)
        )
    if kind == "embedding":
        vocab, dim = draw(st.integers(3, 40)), draw(st.integers(1, 8))
        use = f"{{block: token_and_position_embedding, vocab_size: {vocab}, maxlen: {n}, embed_dim: {dim}}}"
        return _spec("transformer", [n], f"    - {use}\n", dtype=", dtype: int32"), lambda k: _one(
            k, (n,), lambda x: _token_and_position(k, x, n, vocab, dim), "int32"
        )
    if kind == "mixer":
        hidden, tokens, channels = (draw(st.integers(2, 12)) for _ in range(3))
        use = (f"{{block: mlp_mixer, num_patches: {n}, hidden_units: {hidden}, "
               f"tokens_mlp_dim: {tokens}, channels_mlp_dim: {channels}, dropout: 0.2}}")  # fmt: skip
        return _spec("vision", [n, hidden], f"    - {use}\n"), lambda k: _one(
            k, (n, hidden), lambda x: _mixer(k, x, n, hidden, tokens, channels)
        )
    channels = draw(st.sampled_from([2, 4, 8]))
    if kind == "residual":
        expansion = draw(st.sampled_from([1, 2, 6]))
        use = f"{{block: inverted_residual, expanded_filters: {expansion * channels}, filters: {channels}}}"
        return _spec("conv", [2 * n, 2 * n, channels], f"    - {use}\n"), lambda k: _one(
            k, (2 * n, 2 * n, channels), lambda x: _inverted_res_block(k, x, expansion, 1, channels)
        )
    filters, size = draw(st.integers(1, 8)), draw(st.sampled_from([1, 3]))
    strides, activation = draw(st.sampled_from([1, 2])), draw(st.sampled_from(["relu", "swish"]))
    squeeze = draw(st.integers(1, 4))
    use = (f"{{block: conv_bn_act, filters: {filters}, kernel_size: {size}, strides: {strides}, "
           f"activation: {activation}}}\n    - {{block: squeeze_excitation, filters: {filters}, "
           f"squeeze_filters: {squeeze}}}")  # fmt: skip
    return _spec("conv", [2 * n, 2 * n, channels], f"    - {use}\n"), lambda k: _one(
        k,
        (2 * n, 2 * n, channels),
        lambda x: _squeeze_excitation(
            k, _conv_bn_act(k, x, filters, size, strides, activation), filters, squeeze
        ),
    )


def _equal_to_keras(text: str, code: Callable[[Any], Any]) -> None:
    """specc's table, parameter count, built model and weights equal the Keras code's."""
    compiled = compile_text(text, "block.yaml")
    k = keras()
    k.backend.clear_session()
    theirs = code(k)
    assert table.as_text(compiled.graph).split("\n", 1)[1] == _text(theirs)
    assert compiled.graph.total_params == theirs.count_params()
    k.backend.clear_session()
    built = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert _text(built) == _text(theirs)
    assert [tuple(w.shape) for w in built.weights] == [tuple(w.shape) for w in theirs.weights]


@pytest.mark.parametrize("case", CASES)
def test_shipped_block_is_its_keras_code(case):
    _equal_to_keras(*CASES[case])


@settings(max_examples=8, **SETTINGS)
@given(drawn_blocks())
def test_drawn_shipped_blocks_equal_their_keras_code(block):
    """The differential test of the shipped blocks: arguments drawn (sizes, heads,
    strides, activations, expansion), each table and its weights equal to Keras'."""
    note(block[0])
    _equal_to_keras(*block)


@pytest.mark.slow
@settings(max_examples=150, **SETTINGS)
@given(drawn_blocks())
def test_drawn_shipped_blocks_equal_their_keras_code_long(block):
    note(block[0])
    _equal_to_keras(*block)


def test_every_shipped_block_is_proven():
    """Each block of every shipped library is used by a case above."""
    from specc.language import libraries

    shipped = {
        name
        for library in libraries.shipped_names()
        for name in libraries.library_blocks(library)[1]
    }
    used = {name for text, _ in CASES.values() for name in shipped if f"block: {name}," in text}
    assert shipped == used


# -------------------------------------------------- the same numbers as keras-io's classes
def _keras_io_classes(k: Any) -> tuple[type, type]:
    """keras-io's TokenAndPositionEmbedding and PatchEncoder, as published (Keras 3)."""
    layers, ops = k.layers, k.ops

    class TokenAndPositionEmbedding(layers.Layer):
        def __init__(self, maxlen, vocab_size, embed_dim):
            super().__init__()
            self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
            self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

        def call(self, x):
            maxlen = ops.shape(x)[-1]
            positions = ops.arange(start=0, stop=maxlen, step=1)
            positions = self.pos_emb(positions)
            x = self.token_emb(x)
            return x + positions

    class PatchEncoder(layers.Layer):
        def __init__(self, num_patches, projection_dim):
            super().__init__()
            self.num_patches = num_patches
            self.projection = layers.Dense(units=projection_dim)
            self.position_embedding = layers.Embedding(
                input_dim=num_patches, output_dim=projection_dim
            )

        def call(self, patch):
            positions = ops.expand_dims(ops.arange(start=0, stop=self.num_patches, step=1), axis=0)
            projected_patches = self.projection(patch)
            return projected_patches + self.position_embedding(positions)

    return TokenAndPositionEmbedding, PatchEncoder


def test_position_embeddings_compute_what_keras_io_classes_compute():
    k = keras()
    token_class, patch_class = _keras_io_classes(k)
    rng = np.random.default_rng(0)

    k.backend.clear_session()
    ours = keras_build.build(*_compiled(CASES["token_and_position_embedding"][0]), compile=False)
    layer = token_class(20, 100, 8)
    ids = k.Input((20,), dtype="int32")
    theirs = k.Model(ids, layer(ids))
    token, position = (x for x in ours.layers if x.__class__.__name__ == "Embedding")
    layer.token_emb.set_weights(token.get_weights())
    layer.pos_emb.set_weights(position.get_weights())
    x = rng.integers(0, 100, size=(4, 20)).astype("int32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-6)
    assert float(np.abs(ours.predict(x, verbose=0)).max()) > 0  # not two models of zeros

    k.backend.clear_session()
    compiled = _compiled(
        _spec(
            "vision",
            [16, 108],
            "    - {block: patch_encoder, num_patches: 16, projection_dim: 32}\n",
        )
    )
    ours = keras_build.build(*compiled, compile=False)
    layer = patch_class(16, 32)
    patches = k.Input((16, 108))
    theirs = k.Model(patches, layer(patches))
    dense = next(x for x in ours.layers if x.__class__.__name__ == "Dense")
    embedding = next(x for x in ours.layers if x.__class__.__name__ == "Embedding")
    layer.projection.set_weights(dense.get_weights())
    layer.position_embedding.set_weights(embedding.get_weights())
    x = rng.normal(size=(3, 16, 108)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-5)


def _compiled(text: str) -> tuple[Any, Any]:
    compiled = compile_text(text, "block.yaml")
    return compiled.spec, compiled.graph


# ------------------------------------------------------------- the decoder's causal mask
def test_the_decoder_attends_causally_built_and_emitted():
    """``use_causal_mask: true`` reaches MultiHeadAttention's call: built, position 0 does
    not see later positions; the emitted code passes it as the call's keyword."""
    from specc.backends import codegen

    compiled = compile_text(CASES["transformer_decoder"][0], "block.yaml")
    k = keras()
    k.backend.clear_session()
    model = keras_build.build(compiled.spec, compiled.graph, compile=False)
    rng = np.random.default_rng(1)
    target = rng.normal(size=(2, 7, 16)).astype("float32")
    source = rng.normal(size=(2, 9, 8)).astype("float32")
    later = target.copy()
    later[:, 3:] += 1.0  # only positions 3 and after change
    before = model.predict({"target": target, "source": source}, verbose=0)
    after = model.predict({"target": later, "source": source}, verbose=0)
    np.testing.assert_allclose(before[:, :3], after[:, :3], atol=1e-5)
    assert not np.allclose(before[:, 3:], after[:, 3:])
    functions, body = codegen.graph_build_model(compiled, codegen.PyCode("'block'"))
    code = " ".join(" ".join(functions + body).split())
    assert "target, target, use_causal_mask=True" in code
    assert code.count("use_causal_mask") == 1


# ------------------------------------------------------------------ the example specs
def _text_classifier(k: Any) -> Any:
    """keras-io text_classification_with_transformer's model, its two classes' calls
    written as the functions above (vocab 20000, maxlen 200, embed 32, 2 heads, ff 32)."""
    layers = k.layers
    inputs = layers.Input(shape=(200,), dtype="int32")
    x = _token_and_position(k, inputs, 200, 20000, 32)
    x = _encoder(k, x, 32, 2, 32)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    return k.Model(inputs=inputs, outputs=outputs)


def _vit(k: Any) -> Any:
    """keras-io image_classification_with_vision_transformer's create_vit_classifier at
    reduced sizes (patch 8 of 32x32 images, projection 32, 2 heads, 2 layers, head 64/32,
    100 classes), without its augmentation."""
    layers = k.layers
    inputs = k.Input(shape=(32, 32, 3))
    patches = _patches(k, inputs, 8, 16, 192)
    encoded_patches = _patch_encoder(k, patches, 16, 32)
    for _ in range(2):
        encoded_patches = _prenorm_encoder(k, encoded_patches, 2, 32, [64, 32])
    representation = layers.LayerNormalization(epsilon=1e-6)(encoded_patches)
    representation = layers.Flatten()(representation)
    features = layers.Dropout(0.5)(representation)
    for units in (64, 32):  # mlp(representation, hidden_units=mlp_head_units, dropout_rate=0.5)
        features = layers.Dense(units, activation=k.activations.gelu)(features)
        features = layers.Dropout(0.5)(features)
    logits = layers.Dense(100)(features)
    return k.Model(inputs=inputs, outputs=logits)


EXAMPLES = {
    "text_classification_transformer": (_text_classifier, [_token_and_position, _encoder]),
    "vit_small_cifar100": (_vit, [_patches, _patch_encoder, _prenorm_encoder]),
}


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_table_is_the_keras_codes(example):
    from tests.helpers import SPECS

    code, _ = EXAMPLES[example]
    compiled = compile_file_(SPECS / f"{example}.yaml")
    k = keras()
    k.backend.clear_session()
    theirs = code(k)
    assert table.as_text(compiled.graph).split("\n", 1)[1] == _text(theirs)
    assert compiled.graph.total_params == theirs.count_params()
    k.backend.clear_session()
    built = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert _text(built) == _text(theirs)


def _statements(function: Callable[..., Any]) -> int:
    """Lines of a function's code: no signature, docstring, comments or blank lines."""
    import inspect

    source = inspect.getsource(function).split('"""')[-1]
    return sum(
        1 for line in source.splitlines() if line.strip() and not line.strip().startswith("#")
    )


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_spec_is_shorter_than_its_keras_code(example):
    """The spec's model (its input and layers) against the Keras code that builds it."""
    from tests.helpers import SPECS

    text = (SPECS / f"{example}.yaml").read_text()
    model = text.split("\nmodel:\n", 1)[1].split("\n\n", 1)[0]
    spec_lines = [line for line in model.splitlines() if line.strip()]
    code, helpers = EXAMPLES[example]
    keras_lines = _statements(code) + sum(_statements(f) for f in helpers)
    assert len(spec_lines) < keras_lines, (len(spec_lines), keras_lines)


def compile_file_(path: Any) -> Any:
    from specc.analysis.pipeline import compile_file

    return compile_file(path)


def _cifar100_file(path: Any) -> Any:
    """CIFAR-100 as Keras' loader gives it, small and synthetic: a bright square per class."""
    rng = np.random.default_rng(3)
    arrays = {}
    for split, n in (("train", 64), ("test", 16)):
        labels = rng.integers(0, 100, (n, 1)).astype("uint8")
        images = rng.integers(0, 60, (n, 32, 32, 3)).astype("uint8")
        for i, label in enumerate(labels[:, 0]):
            row, col = divmod(int(label) % 16, 4)
            images[i, 8 * row : 8 * row + 8, 8 * col : 8 * col + 8] = 255
        arrays |= {f"x_{split}": images, f"y_{split}": labels}
    np.savez(path, **arrays)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("example", EXAMPLES)
def test_example_trains_an_epoch(example, tmp_path, specc, monkeypatch):
    """``specc train`` on small generated data, one epoch: Keras' own imdb.npz (lists of
    word ids) found in $SPECC_DATA_DIR, CIFAR-100's arrays given with --data."""
    import json

    from tests.helpers import SPECS
    from tests.keras_files import write_keras_file

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # never the user's cache
    if example == "text_classification_transformer":
        monkeypatch.setenv("SPECC_DATA_DIR", str(tmp_path / "data"))
        write_keras_file(tmp_path / "data", "imdb")
        data: list[str] = []
    else:
        data = ["--data", str(_cifar100_file(tmp_path / "cifar100.npz"))]
    out = tmp_path / "run"
    run = specc("train", str(SPECS / f"{example}.yaml"), *data, "--epochs", "1",
                "--batch-size", "16", "--output-dir", str(out))  # fmt: skip
    assert run.exit_code == 0, run.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 1 and 0.0 <= metrics["test_accuracy"] <= 1.0
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == 1 and np.isfinite(history["loss"][0])
