"""``specc diagram``: the model as boxes and arrows, top to bottom, drawn with matplotlib.

A box per layer call (name and type, the arguments the spec gives, output shape and
parameters), arrows for what each layer takes, blocks drawn as labelled groups around
their layers. :func:`model_boxes` turns a compiled spec into plain data (tested without
drawing); :mod:`specc.analysis.placement` places it; :func:`draw` paints it. No Graphviz and
no TensorFlow: matplotlib only, so it runs wherever ``specc validate`` does.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specc.analysis.graph import Graph
from specc.analysis.placement import Placement, place_dag
from specc.files import atomic_path
from specc.layers import base

FORMATS = (".svg", ".png", ".pdf")
"""What ``-o`` may end in; the suffix picks the format."""
ARG_ORDER = (
    "units", "filters", "kernel_size", "strides", "pool_size", "size", "padding", "cropping",
    "dilation_rate", "groups", "depth_multiplier", "activation", "rate", "axis", "target_shape",
    "dims", "n", "num_heads", "key_dim", "return_sequences", "return_state", "merge_mode",
    "layer", "use_bias", "kernel_regularizer", "trainable",
)  # fmt: skip
"""The arguments a box shows first (the ones that say what a layer does); the rest after."""
HIDDEN_ARGS = {"type", "name", "inputs", "as", "layers"}
MAX_ARG_CHARS = 44
"""Longest line of arguments in a box; longer argument lists wrap once, then are cut (…)."""
COLOURS = {
    "input": "#e8e8e8",
    "convolution": "#cfe2f3",
    "pooling": "#d9ead3",
    "core": "#fce5cd",
    "normalization": "#e6d9f2",
    "regularization": "#eeeeee",
    "reshaping": "#fff2cc",
    "merging": "#f4cccc",
    "activations": "#d0f0ee",
    "recurrent": "#f9d9ea",
    "attention": "#f9d9ea",
    "preprocessing": "#ececd9",
    "operations": "#ffffff",
}
OP_FAMILIES = frozenset(base.OP_FAMILIES)
"""Operations (``{op: add}``) are drawn white with a dashed edge: no weights, not layers."""


@dataclass(frozen=True)
class Box:
    """One box of the diagram: a model input or one call of a layer."""

    id: str
    title: str
    args: tuple[str, ...]
    shape: str
    params: int
    family: str
    groups: tuple[tuple[Any, ...], ...] = ()
    """The block uses (outermost first) this layer comes from; each a hashable key."""
    output: bool = False


@dataclass(frozen=True)
class Group:
    """A block use (one repetition): its label and how deep it is nested (0 = outermost)."""

    key: tuple[Any, ...]
    label: str
    depth: int


@dataclass
class Diagram:
    """What to draw: boxes in the order the model makes them, edges between box ids."""

    name: str
    boxes: list[Box]
    edges: list[tuple[str, str, int | None]]
    """(from, to, output index of a layer with several outputs, else None)."""
    groups: dict[tuple[Any, ...], Group] = field(default_factory=dict)
    total_params: int = 0


def _short(value: Any) -> str:
    """An argument value, short: tuples as 3×3, regularizers as l2(0.0001).

    >>> _short((3, 3)), _short("same"), _short({"l1": 0.0, "l2": 0.0001}), _short(None)
    ('3×3', 'same', 'l2(0.0001)', 'None')
    """
    if isinstance(value, tuple | list):
        if value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return "×".join(str(v) for v in value)
        return "[" + ", ".join(_short(v) for v in value) + "]"
    if isinstance(value, dict):
        if "type" in value:
            return str(value["type"])
        parts = [f"{k}({v:g})" if isinstance(v, float) else f"{k}={_short(v)}"
                 for k, v in value.items() if v not in (0, 0.0, None)]  # fmt: skip
        return ", ".join(parts) or "{}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def arguments(layer: Any) -> list[str]:
    """``key=value`` for each argument the spec sets on ``layer`` (defaults left out), the
    telling ones first."""
    data = layer.model_dump(mode="python", exclude_unset=True)
    keys = [k for k in ARG_ORDER if k in data] + [k for k in data if k not in ARG_ORDER]
    out = []
    for key in keys:
        if key in HIDDEN_ARGS or (key == "trainable" and data[key] is True):
            continue
        value = data[key]
        if key == "layer" and isinstance(value, dict):  # a wrapper: the wrapped layer's type
            value = value.get("type")
        out.append(f"{key}={_short(value)}")
    return out


def wrap(parts: Sequence[str], limit: int = MAX_ARG_CHARS, lines: int = 2) -> tuple[str, ...]:
    """Join ``parts`` with ", " into at most ``lines`` lines of ``limit`` characters; what
    does not fit is cut with "…".

    >>> wrap(["filters=32", "kernel_size=3×3", "padding=same", "activation=relu"], 30)
    ('filters=32, kernel_size=3×3,', 'padding=same, activation=relu')
    >>> wrap(["a" * 10, "b" * 10, "c" * 10], 12, lines=1)
    ('aaaaaaaaaa, …',)
    """
    out: list[str] = []
    current = ""
    for i, part in enumerate(parts):
        candidate = f"{current}, {part}" if current else part
        if len(candidate) <= limit:
            current = candidate
            continue
        if len(out) + 1 == lines or not current:
            current = (current + ", …") if current else part[: limit - 1] + "…"
            break
        out.append(current + ",")
        current = part
        if i == len(parts) - 1 and len(part) > limit:
            current = part[: limit - 1] + "…"
    if current:
        out.append(current)
    return tuple(out)


def _shape(shape: Any) -> str:
    if isinstance(shape, list):
        return ", ".join(_shape(s) for s in shape)
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _family(layer: Any) -> str:
    return type(layer).__module__.rsplit(".", 1)[-1]


def model_boxes(graph: Graph, origins: dict[int, tuple[Any, ...]] | None = None) -> Diagram:
    """The boxes, edges and block groups of a resolved model.

    ``origins`` maps an entry of ``model.layers`` to the block uses it was expanded from
    (:attr:`specc.analysis.pipeline.Compiled.origins`); without it no groups are drawn.
    """
    origins = origins or {}
    boxes: list[Box] = []
    edges: list[tuple[str, str, int | None]] = []
    groups: dict[tuple[Any, ...], Group] = {}

    def group_keys(entry: int) -> tuple[tuple[Any, ...], ...]:
        keys = []
        uses = origins.get(entry, ())
        for depth in range(len(uses)):
            key = tuple((u.block, u.loc, u.repetition) for u in uses[: depth + 1])
            use = uses[depth]
            if key not in groups:
                times = f" {use.repetition + 1}/{use.repeat}" if use.repeat > 1 else ""
                groups[key] = Group(key, f"{use.block}{times}", depth)
            keys.append(key)
        return tuple(keys)

    def layer_box(bid: str, layer: Any, shape: Any, entry: int, call: int, out: bool) -> Box:
        title = f"{layer.name}: {layer.type}" + (f" (call {call + 1}, shared)" if call else "")
        return Box(
            bid,
            title,
            wrap(arguments(layer.spec)),
            _shape(shape),
            layer.params if call == 0 else 0,
            _family(layer.spec),
            group_keys(entry),
            out,
        )

    if graph.functional:
        by_name = {layer.name: layer for layer in graph.made or graph.layers}
        for given in graph.inputs:
            boxes.append(
                Box(given.name, f"{given.name}: Input", (), _shape(given.shape), 0, "input")
            )
        outputs = {(name, node) for name, node, _ in graph.outputs}
        for call in graph.calls:
            bid = f"{call.layer}#{call.node}" if call.node else call.layer
            layer = by_name[call.layer]
            out = (call.layer, call.node) in outputs
            boxes.append(layer_box(bid, layer, call.output_shape, call.entry, call.node, out))
            for name, node, index in call.sources:
                edges.append((f"{name}#{node}" if node else name, bid, index))
    else:
        boxes.append(Box("input", "input: Input", (), _shape(graph.input_shape), 0, "input"))
        previous = "input"
        for i, layer in enumerate(graph.layers):
            last = i == len(graph.layers) - 1
            boxes.append(layer_box(layer.name, layer, layer.output_shape, layer.index, 0, last))
            edges.append((previous, layer.name, None))
            previous = layer.name
    return Diagram(graph.name, boxes, edges, groups, graph.total_params)


def collapse(diagram: Diagram) -> Diagram:
    """Each outermost block use (repetition) as one box: for a quick look at a deep model.

    Its title is the block's, its shape the last layer's, its parameters the sum; edges
    inside a block go, edges between boxes stay.
    """
    boxes: list[Box] = []
    merged: dict[str, str] = {}
    members: dict[str, list[Box]] = {}
    for box in diagram.boxes:
        if not box.groups:
            boxes.append(box)
            merged[box.id] = box.id
            continue
        key = box.groups[0]
        gid = "group:" + repr(key)
        merged[box.id] = gid
        if gid not in members:
            members[gid] = []
            boxes.append(box)  # placeholder, replaced below
        members[gid].append(box)
    out: list[Box] = []
    for box in boxes:
        gid = merged[box.id]
        if gid == box.id:
            out.append(box)
            continue
        inner = members[gid]
        group = diagram.groups[inner[0].groups[0]]
        types: dict[str, int] = {}
        for b in inner:
            kind = b.title.split(": ", 1)[1].split(" ")[0]
            types[kind] = types.get(kind, 0) + 1
        summary = [f"{n}× {t}" if n > 1 else t for t, n in types.items()]
        out.append(
            Box(
                gid,
                f"{group.label}: block, {len(inner)} layers",
                wrap(summary),
                inner[-1].shape,
                sum(b.params for b in inner),
                "block",
                (),
                any(b.output for b in inner),
            )
        )
    # Edges between boxes, each once, in their first order (a dict: a list's `in` made
    # this quadratic in the edges of a big model).
    edges = {
        (merged[u], merged[v], index): None
        for u, v, index in diagram.edges
        if merged[u] != merged[v]
    }
    return Diagram(diagram.name, out, list(edges), {}, diagram.total_params)


# ---------------------------------------------------------------------------- drawing
TITLE_PT, BODY_PT = 9.0, 7.5
CHAR_IN = 0.062
"""Width of one character of the body font, in inches (DejaVu Sans at 7.5 pt averages less;
a little more keeps text inside its box)."""
LINE_IN = 0.15
PAD_IN = 0.08
RANK_GAP_IN = 0.32
GROUP_PAD_IN = 0.1
GROUP_LABEL_IN = 0.17
MARGIN_IN = 0.3
HEADER_IN = 0.45
EDGE_PT, ARROW_PT = 0.9, 8.0
"""Edge line width and arrowhead scale (FancyArrowPatch's ``mutation_scale``), in points."""
BULK_EDGES = 300
"""Past this many edges, all lines and arrowheads are drawn as two collections (the same
picture; an artist per edge costs ~0.4 ms to make and draw, most of a big diagram's time)."""


@dataclass(frozen=True)
class Placed:
    """Boxes and edges in inches (x right, y down), ready to paint."""

    boxes: dict[str, tuple[float, float, float, float]]
    """id -> (left, top, width, height)."""
    edges: list[tuple[list[tuple[float, float]], int | None]]
    groups: list[tuple[Group, tuple[float, float, float, float]]]
    width: float
    height: float


def place(diagram: Diagram) -> Placed:
    """Lay the diagram out in inches: box sizes from their text, the layered layout for
    x and rank, extra room between ranks where block groups open and close."""
    chars = max(
        (max([len(b.title) * 1.3 * TITLE_PT / BODY_PT, *(len(a) for a in b.args), len(_foot(b))])
         for b in diagram.boxes),
        default=10,
    )  # fmt: skip
    box_w = max(2.0, chars * CHAR_IN + 2 * PAD_IN)
    heights = {b.id: 2 * PAD_IN + LINE_IN * (2 + len(b.args)) + 0.02 for b in diagram.boxes}
    ids = [b.id for b in diagram.boxes]
    plain = [(u, v) for u, v, _ in diagram.edges]
    lay: Placement = place_dag(ids, plain, dict.fromkeys(ids, box_w), gap=0.35, dummy_width=0.15)

    # Vertical room: a group's top edge and label above its first rank, its bottom below
    # its last, nested groups each one step further out.
    first: dict[tuple, int] = {}
    last: dict[tuple, int] = {}
    for b in diagram.boxes:
        for key in b.groups:
            r = lay.rank[b.id]
            first[key] = min(first.get(key, r), r)
            last[key] = max(last.get(key, r), r)
    opening = [0] * (lay.ranks + 1)
    closing = [0] * (lay.ranks + 1)
    for key in first:
        opening[first[key]] += 1
        closing[last[key]] += 1
    rank_h = [0.0] * lay.ranks
    for b in diagram.boxes:
        rank_h[lay.rank[b.id]] = max(rank_h[lay.rank[b.id]], heights[b.id])
    tops: list[float] = []
    y = MARGIN_IN
    for r in range(lay.ranks):
        y += opening[r] * (GROUP_PAD_IN + GROUP_LABEL_IN)
        tops.append(y)
        y += rank_h[r] + RANK_GAP_IN + closing[r] * GROUP_PAD_IN
    height = y - RANK_GAP_IN + MARGIN_IN

    # Horizontal room for nested group frames on the left and right.
    deepest = max((len(b.groups) for b in diagram.boxes), default=0)
    shift = MARGIN_IN + deepest * GROUP_PAD_IN
    rects = {
        b.id: (shift + lay.x[b.id] - box_w / 2, tops[lay.rank[b.id]], box_w, heights[b.id])
        for b in diagram.boxes
    }
    edges, bends = _edges(diagram, lay, rects, tops, rank_h, shift)
    groups = _group_frames(diagram, rects, bends, tops, rank_h, first, last)
    width = max((r[0] + r[2] for r in rects.values()), default=0) + shift
    for points, _ in edges:
        width = max(width, max(p[0] for p in points) + MARGIN_IN)
    return Placed(rects, edges, groups, width, height)


def _edges(
    diagram: Diagram,
    lay: Placement,
    rects: dict[str, tuple[float, float, float, float]],
    tops: list[float],
    rank_h: list[float],
    shift: float,
) -> tuple[list[tuple[list[tuple[float, float]], int | None]], dict[str, list[float]]]:
    """Each edge's points from the bottom of one box to the top of the next (down its
    route through the ranks between, or its lane), and per box the x of the bends into it."""
    edges = []
    bends: dict[str, list[float]] = {}  # per box, the x of the bends of the edges into it
    for u, v, index in diagram.edges:
        ux, uy, uw, uh = rects[u]
        vx, vy, vw, _ = rects[v]
        points = [(ux + uw / 2, uy + uh)]
        lane = lay.lanes.get((u, v))
        if lane is not None:  # down its lane, right of everything: four points, not a rank each
            ru, rv = lay.rank[u], lay.rank[v]
            if uy + uh < tops[ru] + rank_h[ru]:  # below the rank before turning aside
                points.append((ux + uw / 2, tops[ru] + rank_h[ru]))
            points += [(shift + lane, tops[ru + 1] - 0.02),
                       (shift + lane, tops[rv - 1] + rank_h[rv - 1] + 0.02)]  # fmt: skip
            bends.setdefault(v, []).append(shift + lane)
        for k, x in enumerate(lay.routes[(u, v)]):
            r = lay.rank[u] + 1 + k
            points += [(shift + x, tops[r] - 0.02), (shift + x, tops[r] + rank_h[r] + 0.02)]
            bends.setdefault(v, []).append(shift + x)
        points.append((vx + vw / 2, vy))
        edges.append((points, index))
    return edges, bends


def _group_frames(
    diagram: Diagram,
    rects: dict[str, tuple[float, float, float, float]],
    bends: dict[str, list[float]],
    tops: list[float],
    rank_h: list[float],
    first: dict[tuple, int],
    last: dict[tuple, int],
) -> list[tuple[Group, tuple[float, float, float, float]]]:
    """Each block group's frame around its boxes (and the shortcuts into them), nested
    frames each a step further out, outermost first."""
    # Each group's boxes, and the groups opening and closing on each rank, in one pass
    # (not a pass over every box per group: a deep model has thousands of block uses).
    members: dict[tuple, list[Box]] = {}
    for b in diagram.boxes:
        for key in b.groups:
            members.setdefault(key, []).append(b)
    opening_at: dict[int, list[tuple]] = {}
    closing_at: dict[int, list[tuple]] = {}
    for key in first:
        opening_at.setdefault(first[key], []).append(key)
        closing_at.setdefault(last[key], []).append(key)
    # The frames opening on a rank stack above it, outermost highest; closing, below it.
    opening_step: dict[tuple, int] = {}
    for keys in opening_at.values():
        keys.sort(key=lambda g: diagram.groups[g].depth)
        opening_step |= {g: len(keys) - i for i, g in enumerate(keys)}
    closing_step: dict[tuple, int] = {}
    for keys in closing_at.values():
        keys.sort(key=lambda g: -diagram.groups[g].depth)
        closing_step |= {g: i + 1 for i, g in enumerate(keys)}
    groups = []
    for key, group in sorted(diagram.groups.items(), key=lambda kv: kv[1].depth):
        if key not in members:
            continue
        inside = [rects[b.id] for b in members[key]]
        xs = [x for b in members[key] for x in bends.get(b.id, ())]
        if xs:  # a shortcut into the block runs inside its frame
            inside.append((min(xs) - 0.1, inside[0][1], max(xs) - min(xs) + 0.2, 0.0))
        below = max(len(b.groups) for b in members[key])
        out = below - group.depth  # how many frames this one holds, itself included
        left = min(r[0] for r in inside) - out * GROUP_PAD_IN
        right = max(r[0] + r[2] for r in inside) + out * GROUP_PAD_IN
        top = tops[first[key]] - opening_step[key] * (GROUP_PAD_IN + GROUP_LABEL_IN)
        bottom = tops[last[key]] + rank_h[last[key]] + closing_step[key] * GROUP_PAD_IN
        groups.append((group, (left, top, right - left, bottom - top)))
    return groups


def _foot(box: Box) -> str:
    if box.family == "input":
        return box.shape
    return f"{box.shape} · {box.params:,} params"


def draw(diagram: Diagram, path: str | Path, *, dpi: int = 110) -> None:
    """Paint the diagram to ``path`` (.svg, .png or .pdf), atomically.

    The cyclic GC is paused meanwhile: matplotlib makes a dozen objects per box, and its
    full passes over them made a 3,000-box drawing a fifth slower.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        _draw(diagram, path, dpi)
    finally:
        if enabled:
            gc.enable()


def _draw(diagram: Diagram, path: str | Path, dpi: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    placed = place(diagram)
    header = HEADER_IN
    title = f"{diagram.name}: {diagram.total_params:,} params"
    width, height = _size(diagram, placed)
    with matplotlib.rc_context(
        {"svg.fonttype": "none", "svg.hashsalt": "specc", "font.family": "DejaVu Sans"}
    ):
        fig = plt.figure(figsize=(width, height))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
        ax.axis("off")
        ax.text(MARGIN_IN, 0.3, title, fontsize=11, fontweight="bold", va="center")

        def down(y: float) -> float:
            return y + header

        for group, (x, y, w, h) in placed.groups:
            shade = ["#f6f8fc", "#eef2f9", "#e6ecf6"][min(group.depth, 2)]
            ax.add_artist(
                FancyBboxPatch((x, down(y)), w, h, boxstyle="round,pad=0,rounding_size=0.06",
                               facecolor=shade, edgecolor="#7f8fa6", linewidth=0.8,
                               linestyle="--", zorder=1)
            )  # fmt: skip
            ax.text(x + 0.08, down(y) + 0.05, group.label, fontsize=BODY_PT, color="#4a5a75",
                    fontstyle="italic", va="top", zorder=2)  # fmt: skip
        # Patches go in with add_artist, not add_patch: the limits are set above, and
        # add_patch's update of the data limits was a third of a 3,000-box drawing.
        paths = [[(px, down(py)) for px, py in points] for points, _ in placed.edges]
        bulk = len(paths) > BULK_EDGES
        if bulk:
            _edges_in_bulk(ax, [list(pts) for pts in paths])
        for pts, (_, index) in zip(paths, placed.edges, strict=True):
            if not bulk:
                if len(pts) > 2:
                    ax.plot([p[0] for p in pts[:-1]], [p[1] for p in pts[:-1]],
                            color="#555555", linewidth=EDGE_PT, zorder=3,
                            solid_capstyle="round")  # fmt: skip
                ax.add_artist(
                    FancyArrowPatch(pts[-2], pts[-1], arrowstyle="-|>", mutation_scale=ARROW_PT,
                                    color="#555555", linewidth=EDGE_PT, shrinkA=0, shrinkB=0,
                                    zorder=3)
                )  # fmt: skip
            if index is not None:
                ax.text(pts[0][0] + 0.04, pts[0][1] + 0.1, f"[{index}]", fontsize=6.5,
                        color="#555555", zorder=4)  # fmt: skip
        by_id = {b.id: b for b in diagram.boxes}
        for bid, (x, y, w, h) in placed.boxes.items():
            box = by_id[bid]
            ax.add_artist(
                FancyBboxPatch((x, down(y)), w, h, boxstyle="round,pad=0,rounding_size=0.05",
                               facecolor=COLOURS.get(box.family, "#e3eaf4"),
                               edgecolor="#222222" if box.output else "#5f6b7a",
                               linewidth=1.6 if box.output else 0.9, zorder=5,
                               linestyle="--" if box.family in OP_FAMILIES else "-")
            )  # fmt: skip
            ty = down(y) + PAD_IN
            ax.text(x + PAD_IN, ty, box.title, fontsize=TITLE_PT, fontweight="bold",
                    va="top", zorder=6)  # fmt: skip
            for k, line in enumerate(box.args):
                ax.text(x + PAD_IN, ty + LINE_IN * (1 + k) + 0.02, line, fontsize=BODY_PT,
                        va="top", color="#333333", zorder=6)  # fmt: skip
            ax.text(x + PAD_IN, down(y) + h - PAD_IN, _foot(box), fontsize=BODY_PT,
                    va="bottom", color="#1f3b63", zorder=6)  # fmt: skip
        suffix = Path(path).suffix.lower()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=suffix[1:], dpi=dpi, metadata=_metadata(suffix))
        plt.close(fig)


def _edges_in_bulk(ax: Any, paths: list[list[tuple[float, float]]]) -> None:
    """All edges as two collections (their lines; their heads, the shape ``-|>`` gives a
    FancyArrowPatch at ``mutation_scale=8``, tip on the target): two artists instead of
    one or two per edge, which for thousands of edges is most of the drawing time."""
    from matplotlib.collections import LineCollection, PolyCollection

    length, half = 0.4 * ARROW_PT / 72, 0.2 * ARROW_PT / 72  # inches: data units here
    reach = math.hypot(length, half)
    cos_t, sin_t = length / reach, half / reach
    pad = 0.5 * EDGE_PT / 72 / sin_t  # the stroked outline's point lands on the tip
    heads = []
    for pts in paths:
        (x0, y0), (x1, y1) = pts[-2], pts[-1]
        norm = math.hypot(x0 - x1, y0 - y1) or 1.0
        ux, uy = (x0 - x1) / norm, (y0 - y1) / norm
        bx, by = x1 + pad * ux, y1 + pad * uy
        dx, dy = ux * reach, uy * reach
        heads.append([(bx + cos_t * dx + sin_t * dy, by - sin_t * dx + cos_t * dy), (bx, by),
                      (bx + cos_t * dx - sin_t * dy, by + sin_t * dx + cos_t * dy)])  # fmt: skip
        pts[-1] = (bx, by)
    ax.add_collection(
        LineCollection(paths, colors="#555555", linewidths=EDGE_PT, zorder=3, capstyle="round"),
        autolim=False,
    )
    ax.add_collection(
        PolyCollection(heads, facecolors="#555555", edgecolors="#555555",
                       linewidths=EDGE_PT, zorder=3, joinstyle="miter"),
        autolim=False,
    )  # fmt: skip


def _metadata(suffix: str) -> dict[str, Any]:
    """No dates in the file: the same spec gives the same bytes (SVG/PDF)."""
    if suffix == ".svg":
        return {"Date": None}
    if suffix == ".pdf":
        return {"CreationDate": None, "ModDate": None}
    return {}


def dimensions(diagram: Diagram) -> tuple[float, float]:
    """The figure's size in inches (for tests and a quick check of how tall a model is)."""
    return _size(diagram, place(diagram))


def _size(diagram: Diagram, placed: Placed) -> tuple[float, float]:
    title = f"{diagram.name}: {diagram.total_params:,} params"
    return max(placed.width, MARGIN_IN * 2 + len(title) * 0.095), placed.height + HEADER_IN


__all__ = ["FORMATS", "Box", "Diagram", "collapse", "draw", "model_boxes", "place"]
