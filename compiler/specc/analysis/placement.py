"""A small layered (Sugiyama-style) layout for drawing a model top to bottom, in pure Python.

Graphviz is a system package; a model diagram should need none. The steps are the
textbook ones, kept small: ranks by longest path from the sources (so a layer sits one
rank below the lowest layer it takes), dummy nodes where an edge spans several ranks (a
residual shortcut becomes a polyline beside the main path, not a line through boxes),
the order within each rank by barycenter sweeps (keeping the order with the fewest
crossings), then x positions that pull each node towards its neighbours while keeping
boxes apart (least squares under order constraints: pool-adjacent-violators).

The work is near-linear in the size of the graph. Dummy nodes are what can grow faster:
an edge spanning k ranks makes k - 1 of them, so 3,000 layers that each take one early
layer would make 4.5 million. Past :func:`dummy_budget`, the edges of the sources whose
long edges cost most leave the layered part and run in *lanes*: one vertical line per
source, right of everything, shared by all its long edges (a trunk with branches), lanes
that do not overlap in rank sharing a column. Crossings are counted in O(E log E).

Nothing here draws; ``specc.backends.diagram`` turns a :class:`Placement` into a picture.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

Node = Hashable
DUMMY_WEIGHT = 1e-15
"""How much a bend of an edge weighs against a box when both want the same x: boxes win."""
MAIN_PATH_WEIGHT = 1000.0
"""A box weighs this much more per layer its longest path through the model is longer."""
MIN_DUMMIES = 1_000
DUMMIES_PER_NODE = 2
"""The dummy-node budget: ``max(MIN_DUMMIES, DUMMIES_PER_NODE * nodes)``; past it, lanes."""


@dataclass(frozen=True)
class Placement:
    """Where each node goes: its rank (row, top = 0), its order in the rank, its centre x.

    ``routes`` gives, per edge ``(u, v)``, the x of each dummy point on ranks between
    ``rank[u]`` and ``rank[v]`` (empty for an edge between adjacent ranks, and for an
    edge in ``lanes``). ``lanes`` gives, per edge routed in a lane (graphs past the dummy
    budget only), the lane's x: the edge runs straight down it from ``u``'s rank to
    ``v``'s.
    """

    rank: dict[Node, int]
    order: dict[Node, int]
    x: dict[Node, float]
    routes: dict[tuple[Node, Node], list[float]] = field(default_factory=dict)
    lanes: dict[tuple[Node, Node], float] = field(default_factory=dict)

    @property
    def ranks(self) -> int:
        return 1 + max(self.rank.values(), default=-1)


def longest_path_ranks(
    nodes: Sequence[Node], edges: Sequence[tuple[Node, Node]]
) -> dict[Node, int]:
    """Rank each node one below the lowest of its predecessors (sources at 0).

    ``nodes`` must be in an order where every edge goes forwards (a model's layers are
    made in such an order); an edge that goes backwards is refused.

    >>> longest_path_ranks("abcd", [("a", "b"), ("b", "c"), ("a", "c"), ("a", "d")])
    {'a': 0, 'b': 1, 'c': 2, 'd': 1}
    """
    position = {n: i for i, n in enumerate(nodes)}
    preds: dict[Node, list[Node]] = {n: [] for n in nodes}
    for u, v in edges:
        if position[u] >= position[v]:
            raise ValueError(f"edge {u!r} -> {v!r} does not go forwards in the node order")
        preds[v].append(u)
    rank: dict[Node, int] = {}
    for n in nodes:
        rank[n] = 1 + max((rank[p] for p in preds[n]), default=-1)
    return rank


def crossings(rows: list[list[Node]], edges: Sequence[tuple[Node, Node]]) -> int:
    """How many pairs of edges between adjacent rows cross (edges go from row r to r + 1).

    >>> crossings([["a", "b"], ["c", "d"]], [("a", "d"), ("b", "c")])
    1
    >>> crossings([["a", "b"], ["c", "d"]], [("a", "c"), ("b", "d")])
    0
    """
    where = {n: (r, i) for r, row in enumerate(rows) for i, n in enumerate(row)}
    by_row: dict[int, list[tuple[int, int]]] = {}
    for u, v in edges:
        (ru, iu), (_, iv) = where[u], where[v]
        by_row.setdefault(ru, []).append((iu, iv))
    return sum(_inversions(pairs, len(rows[r + 1])) for r, pairs in by_row.items())


def _inversions(pairs: list[tuple[int, int]], size: int) -> int:
    """How many pairs (a1, b1), (a2, b2) have a1 < a2 and b1 > b2, in O(n log n): sorted
    by (a, b), each pair counts the earlier ones with a greater b (a Fenwick tree over b;
    an earlier one with the same a has b <= its own, so ties are never counted)."""
    tree = [0] * (size + 1)
    total = 0
    for seen, (_, b) in enumerate(sorted(pairs)):
        i, at_most = b + 1, 0
        while i > 0:
            at_most += tree[i]
            i -= i & -i
        total += seen - at_most
        i = b + 1
        while i <= size:
            tree[i] += 1
            i += i & -i
    return total


def _barycenter_sweeps(
    rows: list[list[Node]],
    up: dict[Node, list[Node]],
    down: dict[Node, list[Node]],
    edges: list[tuple[Node, Node]],
    sweeps: int,
) -> list[list[Node]]:
    """Reorder each row by the mean position of its neighbours in the row before it
    (downwards, then upwards), keeping the best ordering seen."""
    best = [list(row) for row in rows]
    best_count = crossings(best, edges)
    current = [list(row) for row in rows]
    for sweep in range(sweeps):
        downward = sweep % 2 == 0
        span = range(1, len(current)) if downward else range(len(current) - 2, -1, -1)
        for r in span:
            fixed = current[r - 1] if downward else current[r + 1]
            index = {n: i for i, n in enumerate(fixed)}
            neighbours = up if downward else down
            keyed = []
            for i, n in enumerate(current[r]):
                near = [index[m] for m in neighbours[n] if m in index]
                keyed.append((sum(near) / len(near) if near else float(i), i, n))
            current[r] = [n for _, _, n in sorted(keyed, key=lambda t: (t[0], t[1]))]
        count = crossings(current, edges)
        if count < best_count:
            best, best_count = [list(row) for row in current], count
    return best


def isotonic(targets: Sequence[float], weights: Sequence[float] | None = None) -> list[float]:
    """The non-decreasing sequence closest to ``targets`` in weighted least squares (pool
    adjacent violators): used to place boxes as near their wished x as their order allows.

    >>> isotonic([1.0, 3.0, 2.0, 4.0])
    [1.0, 2.5, 2.5, 4.0]
    >>> isotonic([0.0, -1.0], [9.0, 1.0])   # the heavier one moves less
    [-0.1, -0.1]
    """
    blocks: list[list[float]] = []  # [mean, weight, count]
    for t, w in zip(targets, weights or [1.0] * len(targets), strict=True):
        blocks.append([float(t), float(w), 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    out: list[float] = []
    for mean, _, count in blocks:
        out += [round(mean, 9)] * int(count)
    return out


def _place_row(
    row: list[Node],
    wished: dict[Node, float],
    width: dict[Node, float],
    gap: float,
    weight: dict[Node, float] | None = None,
) -> dict[Node, float]:
    """Centres for ``row`` in its order, at least ``gap`` apart edge to edge, as close to
    ``wished`` as possible: substitute y_i = x_i - offset_i (offset the least distance
    node i must keep from node 0), then y must be non-decreasing."""
    offsets = [0.0]
    for a, b in pairwise(row):
        offsets.append(offsets[-1] + (width[a] + width[b]) / 2 + gap)
    weights = [weight.get(n, 1.0) for n in row] if weight else None
    ys = isotonic([wished[n] - o for n, o in zip(row, offsets, strict=True)], weights)
    return {n: y + o for n, y, o in zip(row, ys, offsets, strict=True)}


def place_dag(
    nodes: Sequence[Node],
    edges: Sequence[tuple[Node, Node]],
    width: dict[Node, float] | None = None,
    *,
    gap: float = 0.4,
    dummy_width: float = 0.2,
    sweeps: int = 8,
) -> Placement:
    """Lay out a DAG top to bottom. ``nodes`` in an order where edges go forwards (the
    order a model makes its layers); ``width`` per node (default 1).

    >>> out = place_dag(["in", "a", "b", "add"], [("in", "a"), ("a", "b"), ("in", "add"), ("b", "add")])
    >>> out.rank == {"in": 0, "a": 1, "b": 2, "add": 3}
    True
    >>> len({round(out.x[n], 3) for n in ("in", "a", "b", "add")})  # the main path stays straight
    1
    >>> len(out.routes[("in", "add")])                              # the shortcut: two bends beside it
    2
    """
    widths: dict[Node, float] = {n: 1.0 for n in nodes} | dict(width or {})
    rank = longest_path_ranks(nodes, edges)
    successors: dict[Node, list[Node]] = {n: [] for n in nodes}
    for u, v in edges:
        successors[u].append(v)
    laned = laned_sources(rank, edges, dummy_budget(len(nodes)))
    in_lane = [(u, v) for u, v in edges if u in laned and rank[v] - rank[u] > 1]
    # Dummy nodes on each rank an edge passes, so edges only join adjacent rows.
    chain: dict[tuple[Node, Node], list[Node]] = {}
    short: list[tuple[Node, Node]] = []
    rows: list[list[Node]] = [[] for _ in range(1 + max(rank.values(), default=-1))]
    for n in nodes:
        rows[rank[n]].append(n)
    for u, v in edges:
        if u in laned and rank[v] - rank[u] > 1:
            chain[(u, v)] = []
            continue
        points: list[Node] = []
        for r in range(rank[u] + 1, rank[v]):
            dummy = ("__dummy__", u, v, r)
            widths[dummy] = dummy_width
            rows[r].append(dummy)
            points.append(dummy)
        chain[(u, v)] = points
        path = [u, *points, v]
        short += list(pairwise(path))
    up: dict[Node, list[Node]] = {n: [] for row in rows for n in row}
    down: dict[Node, list[Node]] = {n: [] for row in rows for n in row}
    for a, b in short:
        up[b].append(a)
        down[a].append(b)
    # Dummies start to the right of the real nodes: the main path keeps the left column.
    real = set(nodes)
    rows = [[n for n in row if n in real] + [n for n in row if n not in real] for row in rows]
    rows = _barycenter_sweeps(rows, up, down, short, sweeps)
    order = {n: i for row in rows for i, n in enumerate(row)}

    x = _x_positions(nodes, rows, rank, successors, up, down, widths, gap, sweeps)
    left = min(x[n] - widths[n] / 2 for n in x) if x else 0.0
    routes = {e: [x[d] - left for d in points] for e, points in chain.items()}
    # Lanes: right of everything, one per laned source, a column shared where spans allow.
    right = max((x[n] + widths[n] / 2 for n in x), default=0.0) - left
    spans: dict[Node, tuple[int, int]] = {}
    for u, v in in_lane:
        spans[u] = (rank[u], max(rank[v], spans.get(u, (0, 0))[1]))
    column = lane_columns(spans)
    pitch = dummy_width + gap
    lanes = {(u, v): right + gap + dummy_width / 2 + column[u] * pitch for u, v in in_lane}
    return Placement(
        rank=dict(rank),
        order={n: order[n] for n in nodes},
        x={n: x[n] - left for n in nodes},
        routes=routes,
        lanes=lanes,
    )


def _x_positions(
    nodes: Sequence[Node],
    rows: list[list[Node]],
    rank: dict[Node, int],
    successors: dict[Node, list[Node]],
    up: dict[Node, list[Node]],
    down: dict[Node, list[Node]],
    widths: dict[Node, float],
    gap: float,
    sweeps: int,
) -> dict[Node, float]:
    """Each node's x in its ordered row: start packed from 0, then alternate sweeps pulling
    each node to its neighbours (the longest path's the most)."""
    real = set(nodes)
    x: dict[Node, float] = {}
    # Boxes on the longest path weigh most: where a side branch (a projection shortcut)
    # and the main path want the same x, the branch steps aside and the main path stays.
    below: dict[Node, int] = {}
    for n in reversed(nodes):
        below[n] = max((below[m] + 1 for m in successors[n]), default=0)
    longest = max((rank[n] + below[n] for n in nodes), default=0)
    weight = {n: DUMMY_WEIGHT for row in rows for n in row}
    weight |= {n: max(MAIN_PATH_WEIGHT ** (rank[n] + below[n] - longest), 1e-12) for n in nodes}
    for row in rows:
        x |= _place_row(row, dict.fromkeys(row, 0.0), widths, gap)
    for sweep in range(2 * sweeps + 1):  # ending downwards: a layer lines up under its input
        downward = sweep % 2 == 0
        span = range(1, len(rows)) if downward else range(len(rows) - 2, -1, -1)
        for r in span:
            neighbours = up if downward else down
            wished = {}
            for n in rows[r]:
                # A real node follows its real neighbours, the main path's most (a chain
                # stays straight, a shortcut does not pull an Add aside); a dummy its edge.
                near = [m for m in neighbours[n] if m in real or n not in real]
                near = near or neighbours[n]
                total = sum(weight[m] for m in near)
                wished[n] = sum(weight[m] * x[m] for m in near) / total if near else x[n]
            x |= _place_row(rows[r], wished, widths, gap, weight)
    return x


def dummy_budget(nodes: int) -> int:
    """How many dummy nodes a layout of ``nodes`` nodes may make: linear in its size, so
    ordering and placement (a few sweeps over every row) stay near-linear too."""
    return max(MIN_DUMMIES, DUMMIES_PER_NODE * nodes)


def laned_sources(
    rank: dict[Node, int], edges: Sequence[tuple[Node, Node]], budget: int
) -> set[Node]:
    """The sources whose long edges run in lanes: the costliest first (cost: the dummy
    nodes their long edges would make; ties in edge order) until the rest fit ``budget``.

    >>> sorted(laned_sources({"a": 0, "b": 1, "c": 4, "d": 5}, [("a", "c"), ("b", "d")], 3))
    ['a']
    >>> laned_sources({"a": 0, "b": 1, "c": 4, "d": 5}, [("a", "c"), ("b", "d")], 6)
    set()
    """
    cost: dict[Node, int] = {}
    for u, v in edges:
        if rank[v] - rank[u] > 1:
            cost[u] = cost.get(u, 0) + rank[v] - rank[u] - 1
    left = sum(cost.values())
    chosen: set[Node] = set()
    for u in sorted(cost, key=lambda n: -cost[n]):
        if left <= budget:
            break
        chosen.add(u)
        left -= cost[u]
    return chosen


def lane_columns(spans: dict[Node, tuple[int, int]]) -> dict[Node, int]:
    """A column for each lane (``spans``: its first and last rank) such that lanes sharing
    a column do not overlap, in as few columns as the most lanes open at once (interval
    partitioning: by first rank, each lane takes the lowest column free by then).

    >>> lane_columns({"a": (0, 5), "b": (1, 3), "c": (3, 9), "d": (5, 6)})
    {'a': 0, 'b': 1, 'c': 1, 'd': 0}
    """
    busy: list[tuple[int, int]] = []  # (last rank, column) of the lanes open
    free: list[int] = []
    column: dict[Node, int] = {}
    for u, (first, last) in sorted(spans.items(), key=lambda item: item[1][0]):
        while busy and busy[0][0] <= first:
            heapq.heappush(free, heapq.heappop(busy)[1])
        column[u] = heapq.heappop(free) if free else len(busy)
        heapq.heappush(busy, (last, column[u]))
    return column
