"""The layered layout behind ``specc diagram``: pure, so tested on small graphs directly."""

from __future__ import annotations

import itertools
import random

import pytest

from specc.analysis.layout import crossings, isotonic, layout, longest_path_ranks


def _rows(out, nodes):
    rows: dict[int, list] = {}
    for n in sorted(nodes, key=lambda n: out.order[n]):
        rows.setdefault(out.rank[n], []).append(n)
    return [rows[r] for r in sorted(rows)]


def test_a_chain_is_one_straight_column():
    nodes = [f"l{i}" for i in range(12)]
    out = layout(nodes, list(itertools.pairwise(nodes)))
    assert [out.rank[n] for n in nodes] == list(range(12))
    assert len({out.x[n] for n in nodes}) == 1
    assert all(points == [] for points in out.routes.values())


def test_a_residual_shortcut_runs_beside_the_main_path():
    # in -> a -> b -> c -> add, in -> add (ResNet's identity shortcut)
    nodes = ["in", "a", "b", "c", "add", "out"]
    edges = [("in", "a"), ("a", "b"), ("b", "c"), ("in", "add"), ("c", "add"), ("add", "out")]
    out = layout(nodes, edges, dict.fromkeys(nodes, 2.0), gap=0.5)
    main = {round(out.x[n], 6) for n in nodes}
    assert len(main) == 1  # the boxes stay in one column
    bends = out.routes[("in", "add")]
    assert len(bends) == 3  # one per rank it passes (a, b, c)
    assert all(x >= out.x["a"] + 1.0 + 0.5 for x in bends)  # clear of the boxes


def test_branches_and_a_merge_sit_side_by_side_without_overlap():
    nodes = ["in", "left", "right", "left2", "cat"]
    edges = [("in", "left"), ("in", "right"), ("left", "left2"), ("left2", "cat"), ("right", "cat")]
    widths = {"in": 1.0, "left": 3.0, "right": 2.0, "left2": 3.0, "cat": 1.0}
    out = layout(nodes, edges, widths, gap=0.4)
    assert out.rank["left"] == out.rank["right"] == 1
    a, b = sorted(["left", "right"], key=lambda n: out.x[n])
    assert out.x[b] - out.x[a] >= (widths[a] + widths[b]) / 2 + 0.4 - 1e-9
    assert min(out.x[n] - widths[n] / 2 for n in nodes) == pytest.approx(0.0)


def test_barycenter_ordering_removes_avoidable_crossings():
    # Two independent towers whose inputs are listed in the opposite order of their outputs.
    nodes = ["a", "b", "x", "y", "p", "q"]
    edges = [("a", "y"), ("b", "x"), ("x", "p"), ("y", "q")]
    out = layout(nodes, edges)
    rows = _rows(out, nodes)
    assert crossings(rows, edges) == 0


def test_edges_must_go_forwards():
    with pytest.raises(ValueError, match="does not go forwards"):
        longest_path_ranks(["a", "b"], [("b", "a")])


def test_isotonic_is_the_least_squares_monotone_fit():
    rng = random.Random(3)
    for _ in range(200):
        targets = [rng.uniform(-5, 5) for _ in range(rng.randint(1, 8))]
        fit = isotonic(targets)
        assert all(x <= y + 1e-9 for x, y in itertools.pairwise(fit))
        # no monotone sequence on a grid around it does better
        best = sum((f - t) ** 2 for f, t in zip(fit, targets, strict=True))
        shifted = [f + rng.uniform(-0.1, 0.1) for f in fit]
        shifted.sort()
        assert best <= sum((s - t) ** 2 for s, t in zip(shifted, targets, strict=True)) + 1e-9


def test_random_dags_keep_order_and_spacing_and_are_deterministic():
    rng = random.Random(7)
    for _ in range(40):
        n = rng.randint(2, 14)
        nodes = list(range(n))
        edges = [
            (u, v) for v in range(1, n) for u in rng.sample(range(v), rng.randint(1, min(2, v)))
        ]
        widths = {i: rng.uniform(0.5, 3.0) for i in nodes}
        out = layout(nodes, edges, widths, gap=0.3)
        assert out == layout(nodes, edges, widths, gap=0.3)
        for u, v in edges:
            assert out.rank[u] < out.rank[v]
            assert len(out.routes[(u, v)]) == out.rank[v] - out.rank[u] - 1
        for row in _rows(out, nodes):
            for a, b in itertools.pairwise(row):
                assert out.x[b] - out.x[a] >= (widths[a] + widths[b]) / 2 + 0.3 - 1e-6
