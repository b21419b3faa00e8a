"""The graph benchmark measures what it says: valid specs of exactly N nodes, with merges."""

from __future__ import annotations

from collections import Counter

import pytest

from specc.analysis.pipeline import compile_text
from tests.helpers import bench_module


def _bench():
    return bench_module("graph_speed")


@pytest.mark.parametrize("nodes", [250, 251, 253, 1000])
def test_generated_graph_has_the_nodes_and_merges_it_claims(nodes):
    compiled = compile_text(_bench().graph_spec(nodes))
    assert compiled.warnings == ()
    assert len(compiled.graph.rows) == nodes
    types = Counter(row.type for row in compiled.graph.rows)
    assert types["Add"] > nodes // 5 and types["Concatenate"] > nodes // 40
