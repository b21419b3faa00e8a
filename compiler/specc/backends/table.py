"""The layer table, as data and as Keras prints it."""

from __future__ import annotations

import io
import shutil
from typing import TYPE_CHECKING, Any

from specc.analysis.graph import Graph, Row
from specc.analysis.submodels import expanded
from specc.layers.base import format_out
from specc.layers.shapes import Shape

if TYPE_CHECKING:  # rich is imported lazily, where a table is drawn
    from rich.console import JustifyMethod

    from specc.analysis.finetune import Unfreeze
    from specc.language.schema import Spec


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
    """
    import rich.box
    import rich.console
    import rich.markup
    import rich.table

    connected = graph.functional and not graph.sequential_like  # Keras' 4-column table
    default, positions = (108, (0.3, 0.56, 0.74, 1.0)) if connected else (88, (0.45, 0.80, 1.0))
    line = width or min(default, shutil.get_terminal_size((120, 24)).columns - 4)
    widths, current = [], 0
    for pos in positions:
        widths.append(int(pos * line) - current)
        current += widths[-1]
    headers = ("Layer (type)", "Output Shape", "Param #", "Connected to")
    justify: tuple[JustifyMethod, ...] = ("left", "left", "right", "left")
    # Table's own default box unless ASCII is asked for.
    box: dict[str, Any] = {"box": rich.box.ASCII} if ascii_only else {}
    table = rich.table.Table(
        *(rich.table.Column(headers[k], justify=justify[k], width=w) for k, w in enumerate(widths)),
        width=line,
        show_lines=True,
        **box,
    )
    for level, row in _rows(graph, expand_nested):
        prefix = "   " * level + "└ " if level else ""
        cells = [
            rich.markup.escape(f"{prefix}{row.name}") + f" ({rich.markup.escape(row.type)})",
            format_out(row.output_shape),
            f"{row.params:,}",
        ]
        if connected:
            cells.append(", ".join(row.connected) if level == 0 and row.connected else "-")
        table.add_row(*cells)
    buffer = io.StringIO()
    console = rich.console.Console(
        file=buffer, highlight=False, force_terminal=False, color_system=None, width=line + 4
    )
    console.print(f'Model: "{rich.markup.escape(graph.name)}"')
    console.print(table)
    wide = graph.int64_params  # non-trainable, 4 bytes more each
    for label, count, extra in (
        ("Total", graph.total_params, wide),
        ("Trainable", graph.trainable_params, 0),
        ("Non-trainable", graph.non_trainable_params, wide),
    ):
        console.print(f" {label} params: {count:,} ({readable_size(count * 4 + extra * 4)})")
    return buffer.getvalue()


def _unfrozen(spec: Spec, graph: Graph) -> tuple[Unfreeze, int, int] | None:
    from specc.analysis import finetune
    from specc.errors import Diagnostic

    where = finetune.resolve(spec, graph, lambda loc, message: Diagnostic(message))
    if not isinstance(where, finetune.Unfreeze):
        return None
    return (where, *finetune.after_unfreeze(graph, where))


def fine_tune_text(spec: Spec, graph: Graph) -> str:
    """What ``model.summary()`` counts once ``training.fine_tune`` has unfrozen the base
    (the rows stay; only the trainable and non-trainable totals move). Empty without it."""
    found = _unfrozen(spec, graph)
    if found is None:
        return ""
    where, trainable, frozen = found
    wide = graph.int64_params
    return (
        f" After training.fine_tune unfreezes {where.layer.name} from layer {where.at} "
        f"({where.names[where.at]}):\n"
        f" Trainable params: {trainable:,} ({readable_size(trainable * 4)})\n"
        f" Non-trainable params: {frozen:,} ({readable_size(frozen * 4 + wide * 4)})\n"
    )


def fine_tune_dict(spec: Spec, graph: Graph) -> dict[str, Any]:
    """``{"fine_tune": {...}}``: the counts of :func:`fine_tune_text`, for ``--format json``."""
    found = _unfrozen(spec, graph)
    if found is None:
        return {}
    where, trainable, frozen = found
    return {
        "fine_tune": {
            "model": where.layer.name,
            "from": where.at,
            "from_layer": where.names[where.at],
            "trainable_params": trainable,
            "non_trainable_params": frozen,
        }
    }
