"""The layer table, as data and as Keras prints it."""

from __future__ import annotations

import io
import re
import shutil
from typing import TYPE_CHECKING, Any

from specc.analysis.graph import Graph, Row
from specc.analysis.submodels import expanded
from specc.layers.base import format_out
from specc.layers.shapes import Shape

if TYPE_CHECKING:  # rich is imported lazily, where a table is drawn
    from rich.console import JustifyMethod


def _json_shape(shape: Shape | list[Shape]) -> list[Any]:
    """A shape as JSON: a list, or a list of lists for a layer with several outputs."""
    return [list(s) for s in shape] if isinstance(shape, list) else list(shape)


def _nest(graph: Graph, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` (the top level's) with each model-like row's own layers under ``layers``,
    as ``summary(expand_nested=True)`` lists them."""
    by_name = {row["name"]: row for row in rows}
    stack: list[dict[str, Any]] = []
    for level, row in expanded(graph):
        entry = (
            by_name[row.name]
            if level == 0
            else {
                "name": row.name,
                "type": row.type,
                "output_shape": _json_shape(row.output_shape),
                "params": row.params,
            }
        )
        del stack[level:]
        if level:
            stack[-1].setdefault("layers", []).append(entry)
        stack.append(entry)
    return rows


def as_dict(graph: Graph, *, expand_nested: bool = False) -> dict[str, Any]:
    """The summary as JSON-ready data (the format other tools rely on).

    A graph's rows are Keras' (inputs included), each with ``inputs``: the tensors it
    takes, as Keras' "Connected to" writes them (``conv2d[0][0]``: layer, call, output).
    ``expand_nested``: a sub-model's (or nested Sequential's) row holds its own rows under
    ``layers``, recursively.
    """
    out = _as_dict(graph)
    if expand_nested:
        out["layers"] = _nest(graph, out["layers"])
    return out


def _as_dict(graph: Graph) -> dict[str, Any]:
    if graph.functional:
        shapes = [list(s) for s in graph.output_shapes]
        return {
            "name": graph.name,
            "layers": [
                {
                    "name": row.name,
                    "type": row.type,
                    "output_shape": _json_shape(row.output_shape),
                    "params": row.params,
                    "trainable_params": row.trainable_params,
                    "inputs": list(row.connected),
                }
                for row in graph.rows
            ],
            "inputs": [i.name for i in graph.inputs],
            "outputs": [
                source[0] if source[2] is None else f"{source[0]}.{source[2]}"
                for source in graph.outputs
            ],
            "output_shape": shapes[0] if len(shapes) == 1 else shapes,
            "total_params": graph.total_params,
            "trainable_params": graph.trainable_params,
            "non_trainable_params": graph.non_trainable_params,
        }
    return {
        "name": graph.name,
        "layers": [
            {
                "name": layer.name,
                "type": layer.type,
                "output_shape": _json_shape(layer.output_shape),
                "params": layer.params,
                "trainable_params": layer.trainable_params,
            }
            for layer in graph.layers
        ],
        "total_params": graph.total_params,
        "trainable_params": graph.trainable_params,
        "non_trainable_params": graph.non_trainable_params,
    }


def _rows(graph: Graph, expand_nested: bool) -> list[tuple[int, Row]]:
    """The table's rows with their nesting level (0 unless ``expand_nested``)."""
    if expand_nested:
        return expanded(graph)
    if graph.functional:  # Keras' functional model lists its inputs too
        return [(0, row) for row in graph.rows]
    return [
        (0, Row(layer.name, layer.type, layer.output_shape, layer.params, 0, ()))
        for layer in graph.layers
    ]


def _indent(level: int) -> str:
    """The mark Keras' ``expand_nested`` puts before a nested layer's name."""
    return "   " * level + "└ " if level else ""


def readable_size(n_bytes: float) -> str:
    """Bytes as Keras' summary prints them.

    >>> readable_size(43290 * 4)
    '169.10 KB'
    >>> readable_size(0)
    '0.00 B'
    """
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n_bytes / 1024 < 1:
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} PB"


def as_text(
    graph: Graph,
    width: int | None = None,
    *,
    ascii_only: bool = False,
    expand_nested: bool = False,
) -> str:
    """The table Keras 3's ``model.summary()`` prints (float32 weights, 4 bytes each,
    but 8 for the int64 counters some layers keep, e.g. an adaptable Normalization's).

    ``ascii_only`` draws the box in ASCII, as Keras (through rich) does for a stdout whose
    encoding has no box-drawing characters (cp1252, ascii). ``expand_nested``: each
    sub-model's (nested Sequential's) layers after its row, indented, as Keras'
    ``summary(expand_nested=True)`` prints them.

    Keras draws it with rich, which takes about 0.4 s for a model of 1,000 layers
    (NASNetLarge) and 0.1 s to import: :func:`_drawn` draws the same text directly where
    every cell is plain text (the usual case), and rich draws the rest.
    """
    connected = graph.functional and not graph.sequential_like  # Keras' 4-column table
    default, positions = (108, (0.3, 0.56, 0.74, 1.0)) if connected else (88, (0.45, 0.80, 1.0))
    line = width or min(default, shutil.get_terminal_size((120, 24)).columns - 4)
    widths, current = [], 0
    for pos in positions:
        widths.append(int(pos * line) - current)
        current += widths[-1]
    rows = [
        [
            f"{_indent(level)}{row.name} ({row.type})",
            format_out(row.output_shape),
            f"{row.params:,}",
        ]
        + ([", ".join(row.connected) if level == 0 and row.connected else "-"] if connected else [])
        for level, row in _rows(graph, expand_nested)
    ]
    title = f'Model: "{graph.name}"'
    wide = graph.int64_params  # non-trainable, 4 bytes more each
    totals = [
        f" {label} params: {count:,} ({readable_size(count * 4 + extra * 4)})"
        for label, count, extra in (
            ("Total", graph.total_params, wide),
            ("Trainable", graph.trainable_params, 0),
            ("Non-trainable", graph.non_trainable_params, wide),
        )
    ]
    drawn = _drawn(title, rows, totals, line, widths, ascii_only)
    return drawn if drawn is not None else _rich(title, rows, totals, line, widths, ascii_only)


HEADERS = ("Layer (type)", "Output Shape", "Param #", "Connected to")
RIGHT = 2
"""The column rich right-justifies (Param #)."""


def _rich(
    title: str,
    rows: list[list[str]],
    totals: list[str],
    line: int,
    widths: list[int],
    ascii_only: bool,
) -> str:
    """The text as Keras draws it, through rich."""
    import rich.box
    import rich.console
    import rich.markup
    import rich.table

    justify: tuple[JustifyMethod, ...] = ("left", "left", "right", "left")
    # Table's own default box unless ASCII is asked for.
    box: dict[str, Any] = {"box": rich.box.ASCII} if ascii_only else {}
    table = rich.table.Table(
        *(rich.table.Column(HEADERS[k], justify=justify[k], width=w) for k, w in enumerate(widths)),
        width=line,
        show_lines=True,
        **box,
    )
    for cells in rows:  # Keras escapes the names only
        table.add_row(rich.markup.escape(cells[0]), *cells[1:])
    buffer = io.StringIO()
    console = rich.console.Console(
        file=buffer, highlight=False, force_terminal=False, color_system=None, width=line + 4
    )
    console.print(rich.markup.escape(title))
    console.print(table)
    for total in totals:
        console.print(total)
    return buffer.getvalue()


_BOXES = {
    False: ("┏━┳┓", "┃ ┃┃", "┡━╇┩", "│ ││", "├─┼┤", "└─┴┘"),
    True: ("+--+", "| ||", "|-+|", "| ||", "|-+|", "+--+"),
}
"""rich's HEAVY_HEAD and ASCII boxes: top, header, below the header, body, between rows,
bottom (each: left, line, divider, right)."""
_PLAIN = re.compile(r"[ -~]*")
_MARKUP = re.compile(r"\\|\[[a-z#/@]")
"""What rich would read as markup in a cell Keras does not escape (a tag, a backslash)."""
_WORD = re.compile(r"\s*\S+\s*")


def _column_widths(line: int, widths: list[int]) -> list[int] | None:
    """rich's widths for fixed columns in a table of width ``line``: each column's width
    plus its padding (2), reduced evenly to fit inside the borders (``ratio_reduce``).
    None where rich would take a path this does not follow (a very narrow table)."""
    values = [w + 2 for w in widths]
    total = line - (len(widths) + 1)
    if max(values) > total:
        return None
    excess = sum(values) - total
    if excess <= 0:
        return values
    remaining, ratio, result = excess, len(values), []
    for value in values:
        distributed = min(value, round(remaining / ratio))
        result.append(value - distributed)
        remaining -= distributed
        ratio -= 1
    return result if min(result) >= 3 else None


def _cell_lines(text: str, width: int, right: bool) -> list[str]:
    """A cell's text wrapped as rich wraps it (``divide_line`` without folding, then
    ellipsis), each line padded to ``width``."""
    breaks, offset = [], 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group()
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width or (offset and start):
            if start:
                breaks.append(start)
            offset = len(word)
    pieces = [text[a:b] for a, b in zip([0, *breaks], [*breaks, len(text)], strict=True)]
    lines = []
    for piece in pieces:
        piece = piece.rstrip()
        if len(piece) > width:
            piece = piece[: width - 1] + "…"
        lines.append(piece.rjust(width) if right else piece.ljust(width))
    return lines


def _drawn(
    title: str,
    rows: list[list[str]],
    totals: list[str],
    line: int,
    widths: list[int],
    ascii_only: bool,
) -> str | None:
    """The text rich draws, drawn directly; None where a cell is not plain ASCII (wide or
    control characters, markup rich would read) or the table too narrow to follow rich."""
    columns = _column_widths(line, widths)
    cells = [c for row in rows for c in row]
    if (
        columns is None
        or max(len(text) for text in [title, *totals]) > line + 4
        or not all(_PLAIN.fullmatch(c) for c in [title, *cells])
        or any(_MARKUP.search(c) for row in rows for c in row[1:])
    ):
        return None
    top, head, below, body, between, bottom = _BOXES[ascii_only]

    def rule(edge: str) -> str:
        return edge[0] + edge[2].join(edge[1] * w for w in columns) + edge[3] + "\n"

    def row_text(row: list[str] | tuple[str, ...], edge: str, header: bool = False) -> str:
        wrapped = [
            _cell_lines(text, w - 2, k == RIGHT)
            for k, (text, w) in enumerate(zip(row, columns, strict=True))
        ]
        height = max(len(lines) for lines in wrapped)
        if header:  # rich aligns the header's cells at the bottom
            wrapped = [[" " * (len(lines[0]))] * (height - len(lines)) + lines for lines in wrapped]
        return "".join(
            edge[0]
            + edge[2].join(
                f" {lines[i] if i < len(lines) else ' ' * (w - 2)} "
                for lines, w in zip(wrapped, columns, strict=True)
            )
            + edge[3]
            + "\n"
            for i in range(height)
        )

    parts = [
        title + "\n",
        rule(top),
        row_text(HEADERS[: len(columns)], head, header=True),
        rule(below),
    ]
    for k, row in enumerate(rows):
        parts += [rule(between)] if k else []
        parts.append(row_text(row, body))
    parts.append(rule(bottom))
    parts += [total + "\n" for total in totals]
    return "".join(parts)
