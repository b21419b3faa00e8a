"""Pictures of a run: loss/accuracy curves and the test confusion matrix (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from specc.files import atomic_path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def integer_ticks(ax: Any) -> None:
    """Ticks on whole numbers only (epochs, counts). ``MaxNLocator(integer=True)`` alone falls back to
    fractional ticks when fewer than two whole numbers fit in the view (one epoch: the
    view is 0.945..1.055, ticks 0.96, 0.975, ...); ``min_n_ticks=1`` keeps it on integers."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))


def curves_figure(history: dict[str, list[float]]) -> Any:
    """One panel per metric, train and validation per epoch (whole epochs on the x axis)."""
    plt = _pyplot()
    metrics = [m for m in history if not m.startswith("val_") and m != "learning_rate"]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 4), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        epochs = np.arange(1, len(history[metric]) + 1)
        ax.plot(epochs, history[metric], marker="o", label="train")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], marker="o", label="validation")
        ax.set_xlabel("epoch")
        integer_ticks(ax)
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    return fig


def curves(history: dict[str, list[float]], path: Path) -> None:
    """``curves.png``: :func:`curves_figure`, written atomically."""
    fig = curves_figure(history)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    _pyplot().close(fig)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, classes: int) -> np.ndarray:
    """Counts[true, predicted].

    >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]), 2).tolist()
    [[1, 0], [1, 1]]
    """
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def confusion(y_true: np.ndarray, y_pred: np.ndarray, classes: int, path: Path, title: str) -> None:
    plt = _pyplot()
    counts = confusion_matrix(y_true, y_pred, classes)
    fig, ax = plt.subplots(figsize=(1.0 + 0.6 * classes, 0.6 + 0.6 * classes))
    ax.imshow(counts, cmap="Blues")
    for (i, j), n in np.ndenumerate(counts):
        ax.text(
            j,
            i,
            str(n),
            ha="center",
            va="center",
            fontsize=7,
            color="white" if n > counts.max() / 2 else "black",
        )
    ax.set_xticks(range(classes))
    ax.set_yticks(range(classes))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
