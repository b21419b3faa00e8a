"""The graph benchmark measures what it says: valid specs of exactly N nodes, with merges."""

from __future__ import annotations

import importlib.util
from collections import Counter

import pytest

from specc.analysis.pipeline import compile_text
from tests.helpers import ROOT


def _bench():
    spec = importlib.util.spec_from_file_location("graph_speed", ROOT / "bench" / "graph_speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("nodes", [250, 251, 253, 1000])
def test_generated_graph_has_the_nodes_and_merges_it_claims(nodes):
    compiled = compile_text(_bench().graph_spec(nodes))
    assert compiled.warnings == ()
    assert len(compiled.graph.rows) == nodes
    types = Counter(row.type for row in compiled.graph.rows)
    assert types["Add"] > nodes // 5 and types["Concatenate"] > nodes // 40
