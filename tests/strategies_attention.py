"""Hypothesis strategy for the attention family.

MultiHeadAttention and Attention take a query and a value (and maybe a key), so in a layer
stack they are always refused, by specc and by Keras alike: ``layer_for`` draws them as
borderline entries for any input. Their rule over several inputs is tested against Keras'
functional API in ``test_differential_attention.py``.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def layer_for(draw: Any, shape: list[int | None]) -> dict[str, Any] | None:
    """An attention layer for an input of ``shape`` (batch axis excluded), or None."""
    if draw(st.integers(0, 3)):
        return None
    if draw(st.booleans()):
        return {"type": "Attention", "use_scale": draw(st.booleans())}
    return {
        "type": "MultiHeadAttention",
        "num_heads": draw(st.integers(1, 3)),
        "key_dim": draw(st.integers(1, 4)),
    }
