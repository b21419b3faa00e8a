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


# ------------------------------------------------------------------ regression
REGRESSION_LOSSES = frozenset({
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "huber", "log_cosh",
})  # fmt: skip
"""Losses (canonical names, :func:`specc.terms.objects.loss_name`) of a regression: its
run folder shows predicted against true values instead of a confusion matrix."""


def paired(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """True and predicted values as (samples, targets) float64 arrays of one shape (labels
    of shape (n,) against predictions of shape (n, 1), as Keras pairs them)."""
    truth = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)
    predicted = np.asarray(y_pred, dtype=np.float64).reshape(len(y_pred), -1)
    if truth.shape != predicted.shape:
        raise ValueError(f"true values {truth.shape} and predictions {predicted.shape} differ")
    return truth, predicted


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float | None]:
    """MAE and RMSE over every value, R² per target column averaged (scikit-learn's
    ``r2_score`` default); R² is None where a column's true values are all equal.

    >>> regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([[1.0], [2.0], [4.0]]))
    {'mae': 0.3333333333333333, 'rmse': 0.5773502691896257, 'r2': 0.5}
    """
    truth, predicted = paired(y_true, y_pred)
    error = predicted - truth
    total = ((truth - truth.mean(axis=0)) ** 2).sum(axis=0)
    constant = not np.all(total > 0)
    r2 = None if constant else float(np.mean(1.0 - (error**2).sum(axis=0) / total))
    return {
        "mae": float(np.abs(error).mean()),
        "rmse": float(np.sqrt((error**2).mean())),
        "r2": r2,
    }


def predicted_figure(
    y_true: np.ndarray, y_pred: np.ndarray, title: str, names: list[str] | None = None
) -> Any:
    """Predicted against true test values, one panel per target column (at most 6), with
    the diagonal a perfect model would sit on."""
    plt = _pyplot()
    truth, predicted = paired(y_true, y_pred)
    columns = min(truth.shape[1], 6)
    fig, axes = plt.subplots(1, columns, figsize=(4.2 * columns, 4.2), squeeze=False)
    for k, ax in enumerate(axes[0]):
        t, p = truth[:, k], predicted[:, k]
        ax.scatter(t, p, s=8, alpha=0.5, edgecolors="none")
        low, high = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
        ax.plot([low, high], [low, high], color="#b00020", linewidth=1, label="predicted = true")
        ax.set_xlabel("true")
        ax.set_ylabel("predicted")
        label = names[k] if names and k < len(names) else (f"target {k}" if columns > 1 else "")
        ax.set_title(f"{title}{': ' + label if label else ''}", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def predicted_vs_true(
    y_true: np.ndarray, y_pred: np.ndarray, path: Path, title: str, names: list[str] | None = None
) -> None:
    """``predicted.png``: :func:`predicted_figure`, written atomically."""
    fig = predicted_figure(y_true, y_pred, title, names)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    _pyplot().close(fig)
