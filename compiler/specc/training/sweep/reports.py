"""The tables and the picture: sweep.csv, sweep.md and sweep.png from the study as it is
now, trials ranked by test accuracy (which metric is an accuracy is said here)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specc.files import HOST, write_atomic
from specc.training.sweep.liveness import _stale_why

if TYPE_CHECKING:
    from specc.training.sweep.study import Sweep


STATES = {"COMPLETE": "complete", "PRUNED": "pruned", "FAIL": "failed",
          "RUNNING": "running", "WAITING": "waiting"}  # fmt: skip
"""Optuna's trial states as the tables say them."""


def _is_accuracy(name: str) -> bool:
    """Whether a Keras metric name is an accuracy (``acc`` is Keras' alias of ``accuracy``)."""
    name = name.lower()
    return name in ("acc", "accuracy") or name.endswith(("accuracy", "_acc"))


def accuracy_key(keys: Iterable[str], prefix: str) -> str | None:
    """The accuracy among ``keys`` named ``prefix`` + metric (``test_``, ``val_``, ``""``):
    ``accuracy``, else ``acc``, else the first other accuracy (an output's, a named one)."""
    names = [k[len(prefix) :] for k in keys if k.startswith(prefix)]
    if not prefix:
        names = [n for n in names if not n.startswith("val_")]
    for wanted in ("accuracy", "acc"):
        if wanted in names:
            return prefix + wanted
    others = [n for n in names if _is_accuracy(n)]
    return prefix + others[0] if others else None


def names_accuracy(metrics: Any) -> bool:
    """Whether a spec's ``compile.metrics`` (a list, or one per output) has an accuracy."""
    lists = metrics.values() if isinstance(metrics, dict) else [metrics]
    for metric in (m for each_list in lists for m in each_list):
        if isinstance(metric, str):
            name = metric
        else:
            # a schema metric object: its name, else its type (both strings)
            name = str(getattr(metric, "name", None) or getattr(metric, "type", ""))
        if _is_accuracy(name.rsplit(".", 1)[-1]):
            return True
    return False


def _accuracy(metrics: dict[str, Any]) -> tuple[str, float] | None:
    key = accuracy_key(metrics, "test_")
    return (key, float(metrics[key])) if key else None


def rows(sweep: Sweep) -> list[dict[str, Any]]:
    """One row per trial, best test accuracy first; trials without one after, by number."""
    out = []
    trials = sweep.study.get_trials(deepcopy=False)
    retries = {t.system_attrs["retry_history"][-1]: t.number
               for t in trials if t.system_attrs.get("retry_history")}  # fmt: skip
    for t in trials:
        a = t.user_attrs
        values = {**t.system_attrs.get("fixed_params", {}), **t.params}
        out.append(
            {
                "trial": t.number,
                "state": STATES[t.state.name],
                **{p.name: values.get(p.name) for p in sweep.settings.params},
                "params": a.get("param_count"),
                "seconds_per_epoch": a.get("seconds_per_epoch"),
                "test_accuracy": a.get("test_accuracy"),
                "run_folder": _folder(sweep, t),
                "error": a.get("error") or _retried(t, retries),
            }
        )
    ranked = sorted(
        (r for r in out if r["test_accuracy"] is not None and r["state"] == "complete"),
        key=lambda r: (-r["test_accuracy"], r["trial"]),
    )
    rest = sorted((r for r in out if r not in ranked), key=lambda r: r["trial"])
    for i, r in enumerate(ranked, 1):
        r["rank"] = i
    return [{"rank": r.get("rank"), **r} for r in ranked + rest]


def _retried(trial: Any, retries: dict[int, int]) -> str | None:
    """Why a trial Optuna's heartbeat failed did not finish (it records no error itself)."""
    if trial.state.name != "FAIL" or trial.number not in retries:
        return None
    return f"interrupted: {_stale_why(trial)}; queued again as trial {retries[trial.number]}"


def _folder(sweep: Sweep, trial: Any) -> str | None:
    """The trial's run folder, unless it never started or failed before making it: its name
    when it is in this sweep folder, else where another worker has it (its path, and the
    machine's name when that is another)."""
    name = trial.user_attrs.get("run_folder")
    if name is None:
        return None
    here = sweep.folder / name
    path = trial.user_attrs.get("run_path")
    if path is None or path == str(here.resolve()):
        return None if trial.state.name == "FAIL" and not here.is_dir() else str(name)
    worker = trial.user_attrs.get("specc_worker") or {}
    if worker.get("host", HOST) == HOST:
        return None if trial.state.name == "FAIL" and not Path(path).is_dir() else str(path)
    return f"{path} on {worker.get('node')}"


def _cell(column: str, value: Any) -> str:
    """A value as the Markdown table shows it (the CSV keeps full precision)."""
    if value is None:
        return ""
    if column == "params":
        return f"{value:,}"
    if isinstance(value, float):
        if column == "test_accuracy":
            return f"{value:.4f}"
        return f"{value:.2f}" if column == "seconds_per_epoch" else f"{value:.4g}"
    return str(value)


def csv_text(table: list[dict[str, Any]], columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    for r in table:
        writer.writerow({k: "" if r[k] is None else r[k] for k in columns})
    return buffer.getvalue()


def markdown_text(sweep: Sweep, table: list[dict[str, Any]], columns: list[str]) -> str:
    s = sweep.settings
    done = sum(r["state"] == "complete" for r in table)
    lines = [
        f"# Sweep of {s.spec}",
        "",
        f"{s.sampler} sampler, {len(table)} trial(s), {done} complete; "
        f"ranked by test accuracy. Run folders are in {sweep.folder}/.",
        "",
        "| " + " | ".join(columns) + " |",
        "|"
        + "|".join("---:" if c not in ("state", "run_folder", "error") else "---" for c in columns)
        + "|",
    ]
    for r in table:
        cells = [_cell(c, r[c]).replace("|", "\\|") for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(sweep: Sweep, table: list[dict[str, Any]], path: Path) -> None:
    """Test accuracy against each swept value, one panel per path (pruned trials hollow)."""
    from specc.files import atomic_path
    from specc.training.report import _pyplot

    plt = _pyplot()
    params = sweep.settings.params
    fig, axes = plt.subplots(1, len(params), figsize=(4.5 * len(params), 3.8), squeeze=False)
    for ax, p in zip(axes[0], params, strict=True):
        for state, style in (("complete", {"color": "C0"}),
                             ("pruned", {"facecolors": "none", "edgecolors": "C1"})):  # fmt: skip
            points = [(r[p.name], r["test_accuracy"]) for r in table
                      if r["state"] == state and r["test_accuracy"] is not None]  # fmt: skip
            if not points:
                continue
            xs = [x for x, _ in points]
            if p.is_grid and not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in p.values
            ):
                labels = [json.dumps(v) if not isinstance(v, str) else v for v in p.values]
                ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
                xs = [p.values.index(x) for x in xs]
            ax.scatter(xs, [y for _, y in points], label=state, zorder=3, **style)
        if ax.get_legend_handles_labels()[1] == ["complete", "pruned"]:
            ax.legend()
        if p.log:
            ax.set_xscale("log")
        elif p.whole:  # epochs, units, filters: no tick between two counts (1.2 epochs)
            from specc.training.report import integer_ticks

            integer_ticks(ax)
        ax.set_xlabel(p.name)
        ax.set_ylabel("test accuracy")
        ax.grid(alpha=0.3)
    if not any(r["test_accuracy"] is not None for r in table):
        fig.suptitle("no trial has finished yet")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def write_reports(sweep: Sweep) -> None:
    """sweep.csv, sweep.md and sweep.png from the study as it is now, each atomically."""
    table = rows(sweep)
    columns = ["rank", "trial", "state", *(p.name for p in sweep.settings.params),
               "params", "seconds_per_epoch", "test_accuracy", "run_folder", "error"]  # fmt: skip
    write_atomic(sweep.folder / "sweep.csv", csv_text(table, columns))
    write_atomic(sweep.folder / "sweep.md", markdown_text(sweep, table, columns))
    plot(sweep, table, sweep.folder / "sweep.png")
