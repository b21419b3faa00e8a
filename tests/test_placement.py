"""The layered layout behind ``specc diagram``: pure, so tested on small graphs directly."""

from __future__ import annotations

import itertools
import random
import time

import pytest

from specc.analysis.placement import (
    crossings,
    dummy_budget,
    isotonic,
    longest_path_ranks,
    place_dag,
)


def _rows(out, nodes):
    rows: dict[int, list] = {}
    for n in sorted(nodes, key=lambda n: out.order[n]):
        rows.setdefault(out.rank[n], []).append(n)
    return [rows[r] for r in sorted(rows)]


def test_a_chain_is_one_straight_column():
    nodes = [f"l{i}" for i in range(12)]
    out = place_dag(nodes, list(itertools.pairwise(nodes)))
    assert [out.rank[n] for n in nodes] == list(range(12))
    assert len({out.x[n] for n in nodes}) == 1
    assert all(points == [] for points in out.routes.values())


def test_a_residual_shortcut_runs_beside_the_main_path():
    # in -> a -> b -> c -> add, in -> add (ResNet's identity shortcut)
    nodes = ["in", "a", "b", "c", "add", "out"]
    edges = [("in", "a"), ("a", "b"), ("b", "c"), ("in", "add"), ("c", "add"), ("add", "out")]
    out = place_dag(nodes, edges, dict.fromkeys(nodes, 2.0), gap=0.5)
    main = {round(out.x[n], 6) for n in nodes}
    assert len(main) == 1  # the boxes stay in one column
    bends = out.routes[("in", "add")]
    assert len(bends) == 3  # one per rank it passes (a, b, c)
    assert all(x >= out.x["a"] + 1.0 + 0.5 for x in bends)  # clear of the boxes


def test_branches_and_a_merge_sit_side_by_side_without_overlap():
    nodes = ["in", "left", "right", "left2", "cat"]
    edges = [("in", "left"), ("in", "right"), ("left", "left2"), ("left2", "cat"), ("right", "cat")]
    widths = {"in": 1.0, "left": 3.0, "right": 2.0, "left2": 3.0, "cat": 1.0}
    out = place_dag(nodes, edges, widths, gap=0.4)
    assert out.rank["left"] == out.rank["right"] == 1
    a, b = sorted(["left", "right"], key=lambda n: out.x[n])
    assert out.x[b] - out.x[a] >= (widths[a] + widths[b]) / 2 + 0.4 - 1e-9
    assert min(out.x[n] - widths[n] / 2 for n in nodes) == pytest.approx(0.0)


def test_barycenter_ordering_removes_avoidable_crossings():
    # Two independent towers whose inputs are listed in the opposite order of their outputs.
    nodes = ["a", "b", "x", "y", "p", "q"]
    edges = [("a", "y"), ("b", "x"), ("x", "p"), ("y", "q")]
    out = place_dag(nodes, edges)
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
        out = place_dag(nodes, edges, widths, gap=0.3)
        assert out == place_dag(nodes, edges, widths, gap=0.3)
        for u, v in edges:
            assert out.rank[u] < out.rank[v]
            assert len(out.routes[(u, v)]) == out.rank[v] - out.rank[u] - 1
        for row in _rows(out, nodes):
            for a, b in itertools.pairwise(row):
                assert out.x[b] - out.x[a] >= (widths[a] + widths[b]) / 2 + 0.3 - 1e-6


def _fan(n):
    """``n`` Adds in a chain, each also taking the first layer: one source, n long edges."""
    nodes = ["in", "e0", *(f"a{i}" for i in range(n))]
    edges = [("in", "e0")] + [(f"a{i - 1}" if i else "e0", f"a{i}") for i in range(n)]
    edges += [("e0", f"a{i}") for i in range(1, n)]
    return nodes, edges


def test_crossings_counts_each_crossing_pair_once():
    """The O(E log E) count agrees with the definition, pair by pair, ties included."""
    rng = random.Random(11)
    for _ in range(300):
        top, bottom = rng.randint(1, 6), rng.randint(1, 6)
        rows = [[f"t{i}" for i in range(top)], [f"b{i}" for i in range(bottom)]]
        edges = [(rng.choice(rows[0]), rng.choice(rows[1])) for _ in range(rng.randint(0, 12))]
        pos = {n: i for row in rows for i, n in enumerate(row)}
        expected = sum(
            1
            for (u1, v1), (u2, v2) in itertools.combinations(edges, 2)
            if (pos[u1] - pos[u2]) * (pos[v1] - pos[v2]) < 0
        )
        assert crossings(rows, edges) == expected


def test_a_merge_heavy_graph_lays_out_with_bounded_work():
    """300 Adds that each also take one early layer: 44,850 dummy nodes the textbook way
    (and 2.7 s); past the budget the long edges share one lane, work stays linear."""
    nodes, edges = _fan(300)
    start = time.process_time()
    out = place_dag(nodes, edges, dict.fromkeys(nodes, 2.0), gap=0.35, dummy_width=0.15)
    seconds = time.process_time() - start
    assert sum(len(points) for points in out.routes.values()) <= dummy_budget(len(nodes))
    assert seconds < 1.0, f"{seconds:.2f} s of CPU for a 302-node layout"
    long_edges = [(u, v) for u, v in edges if out.rank[v] - out.rank[u] > 1]
    assert len(long_edges) == 299 and set(out.lanes) == set(long_edges)
    assert len(set(out.lanes.values())) == 1  # one source, one lane
    assert len({round(out.x[n], 6) for n in nodes}) == 1  # and the boxes one column
    right = max(out.x[n] + 1.0 for n in nodes)
    assert all(x >= right + 0.35 for x in out.lanes.values())  # beside the boxes, not on them


def test_lanes_that_overlap_in_rank_get_their_own_column():
    # Sliding skips: layer i also takes layer i - 40 (each source one edge over 39 ranks).
    n = 200
    nodes = [f"l{i}" for i in range(n)]
    edges = list(itertools.pairwise(nodes)) + [(nodes[i - 40], nodes[i]) for i in range(40, n)]
    out = place_dag(nodes, edges)
    assert sum(len(p) for p in out.routes.values()) <= dummy_budget(n) and out.lanes
    spans = {u: (out.rank[u], out.rank[v]) for u, v in out.lanes}
    columns = {u: out.lanes[e] for e in out.lanes for u in [e[0]]}
    for a, b in itertools.combinations(spans, 2):
        (a1, a2), (b1, b2) = spans[a], spans[b]
        if a1 < b2 and b1 < a2:
            assert columns[a] != columns[b], (a, b)
    assert len(set(columns.values())) <= 40  # no more columns than lanes open at once
    for u, v in edges:  # every edge is drawn one way or the other
        assert (u, v) in out.lanes or len(out.routes[(u, v)]) == out.rank[v] - out.rank[u] - 1


def test_small_graphs_make_every_dummy_and_no_lane():
    rng = random.Random(5)
    for _ in range(20):
        n = rng.randint(2, 30)
        nodes = list(range(n))
        edges = [(rng.randrange(v), v) for v in range(1, n) for _ in range(2)]
        out = place_dag(nodes, edges)
        assert out.lanes == {}
        for u, v in edges:
            assert len(out.routes[(u, v)]) == out.rank[v] - out.rank[u] - 1
