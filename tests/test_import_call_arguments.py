"""``specc import`` of a layer call's own arguments (``CALL_ARGUMENTS``): the causal
self-attention of a Transformer decoder, ``mha(x, x, use_causal_mask=True)``."""

from __future__ import annotations

import io

import numpy as np
import pytest

from specc.analysis.pipeline import compile_text
from specc.backends import keras_build, table
from specc.backends.importer import import_model, to_yaml
from specc.errors import SpecError
from tests.keras_helpers import keras


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")  # Keras' table and specc's at one width


def _summary(model) -> str:
    out = io.StringIO()
    model.summary(print_fn=lambda line, line_break=True: out.write(line))
    return out.getvalue()


@pytest.mark.keras
def test_a_causal_self_attention_imports_with_its_mask(tmp_path):
    """Refused before ("the call passes use_causal_mask=True, which a spec cannot say");
    now the entry says ``use_causal_mask: true``, its table is Keras', and the model built
    from it is causal again: later positions leave position 0's output alone."""
    k = keras()
    k.backend.clear_session()
    x = k.Input((6, 8))
    y = k.layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x, use_causal_mask=True)
    model = k.Model(x, k.layers.Dense(3)(y))
    model.save(tmp_path / "m.keras")
    spec = import_model(tmp_path / "m.keras")
    mha = spec["model"]["layers"][0]
    assert mha["type"] == "MultiHeadAttention" and mha["use_causal_mask"] is True, mha
    compiled = compile_text(to_yaml(spec, "m.keras"))
    assert table.as_text(compiled.graph) == _summary(model)
    built = keras_build.build(compiled.spec, compiled.graph, compile=False)
    rng = np.random.default_rng(0)
    a = rng.normal(size=(1, 6, 8)).astype("float32")
    b = a.copy()
    b[:, 1:] = rng.normal(size=(1, 5, 8))
    first = [np.asarray(built(v))[0, 0] for v in (a, b)]
    np.testing.assert_allclose(first[0], first[1], rtol=1e-5, atol=1e-6)


@pytest.mark.keras
def test_a_second_call_with_the_mask_is_still_refused(tmp_path):
    """``apply:`` calls a layer again with its entry's fields: a mask given on a later call
    only is not said by a spec, and import says so in one line."""
    k = keras()
    k.backend.clear_session()
    x = k.Input((6, 8))
    mha = k.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    y = mha(mha(x, x), x, use_causal_mask=True)
    k.Model(x, y).save(tmp_path / "m.keras")
    with pytest.raises(SpecError) as caught:
        import_model(tmp_path / "m.keras")
    assert "use_causal_mask=True, which a spec cannot say" in str(caught.value)
