"""The diagram benchmark draws what it says: N boxes, and the fan's merges all take one layer."""

from __future__ import annotations

from collections import Counter

import pytest

from specc.analysis.pipeline import compile_text
from specc.backends import diagram
from tests.helpers import bench_module


def _bench():
    return bench_module("diagram_speed")


@pytest.mark.parametrize("shape", ["chain", "fan", "residual"])
@pytest.mark.parametrize("boxes", [100, 301])
def test_generated_specs_draw_the_boxes_they_claim(shape, boxes):
    compiled = compile_text(_bench().SHAPES[shape](boxes))
    assert compiled.warnings == ()
    d = diagram.model_boxes(compiled.graph, compiled.origins)
    assert len(d.boxes) == boxes
    into = Counter(v for _, v, _ in d.edges)
    if shape == "fan":  # every Add takes the stream and the one early Dense
        adds = [b.id for b in d.boxes if b.title.endswith(": Add")]
        assert len(adds) == boxes - 2 and all(into[a] == 2 for a in adds)
        assert sum(1 for u, _, _ in d.edges if u == "dense") == boxes - 1  # twice to the first
    if shape == "chain":
        assert set(into.values()) == {1}
