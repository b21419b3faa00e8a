"""A training run as one self-contained HTML page (``report.html``).

At train time :func:`save_data` keeps what the page needs from the model in a small
``report.npz`` (test labels and predictions, a few misclassified test images, the first
conv layer's kernels, the last conv layer's feature maps averaged per class) and
``diagram.svg``; :func:`write` then builds the page from the run folder alone, with
matplotlib and Jinja, so ``specc report`` needs no TensorFlow. Every image is embedded as a
``data:`` URI and a Content-Security-Policy forbids anything else: the page loads nothing.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import numpy as np

from specc.files import write_atomic
from specc.training.data import each

DATA_FILE = "report.npz"
DIAGRAM_FILE = "diagram.svg"
MAX_MISCLASSIFIED = 36
MAX_CHANNELS = 16
"""Feature-map channels kept per class (the first ones): enough to see, small on disk."""
RUN_FACTS = ("epochs", "seconds_per_epoch", "backend", "device", "train_samples", "data")
"""What the page's first line says about the run (from metrics.json)."""


def _pictures(class_name: str) -> bool:
    """Whether the catalog declares the layer's kernels and outputs pictures (``PICTURES``)."""
    from specc.layers import CATALOG

    cls = CATALOG.get(class_name)
    return cls is not None and cls.PICTURES


class ReportError(Exception):
    """The folder is not a run folder (or cannot be read); exit code 2."""

    exit_code = 2


# ------------------------------------------------------------------ at train time
def save_data(
    compiled: Any, model: Any, arrays: Any, classes: Any, folder: Path, batch: int,
    plan: Any = None, regression: bool = False,
) -> None:  # fmt: skip
    """Write ``report.npz`` and ``diagram.svg`` into ``folder`` (needs the trained model).

    Predictions are drawn for one output of class labels (``classes`` an int); with
    several inputs, the misclassified pictures are the first image input's; for a
    ``regression`` the true and predicted test values are kept (the page plots them).
    Under a distribution strategy the test part is the one ``plan`` cuts (batches split
    evenly)."""
    from specc.backends import diagram
    from specc.backends.kerasenv import keras as get_keras

    diagram.draw(diagram.model_boxes(compiled.graph, compiled.origins), folder / DIAGRAM_FILE)
    keras = get_keras()
    convs = [layer for layer in model.layers if _pictures(type(layer).__name__)]
    out: dict[str, np.ndarray] = {}
    last = convs[-1] if convs and len(model.outputs) == 1 else None
    probe = None
    if last is not None:
        try:  # a layer called more than once has no single output to probe
            probe = keras.Model(inputs=model.inputs, outputs=[*model.outputs, last.output])
        except (AttributeError, ValueError):
            probe = None
    x_test, y_test = arrays.x_test, arrays.y_test
    if plan is None:
        from specc.training.text_folder import predict_feed  # texts go in as a dataset

        feed = predict_feed(x_test, batch)
    else:
        feed, n = plan.test_inputs(x_test, batch)
        x_test = each(x_test, lambda a: a[:n])
        y_test = each(y_test, lambda a: a[:n])
    if probe is not None:
        probs, maps = probe.predict(**feed, verbose=0)
    else:
        probs, maps = model.predict(**feed, verbose=0), None
    probs = np.asarray(probs[0] if isinstance(probs, list) else probs)
    if regression:
        from specc.training.report import paired

        truth_values, predicted_values = paired(y_test, probs)
        out |= {"true_values": truth_values.astype(np.float32),
                "predicted_values": predicted_values.astype(np.float32)}  # fmt: skip
    if isinstance(classes, int) and classes and probs.ndim == 2:
        truth = y_test.argmax(axis=-1) if y_test.ndim == 2 else y_test
        truth = truth.astype(np.int64).reshape(-1)
        predicted = probs.argmax(axis=-1).astype(np.int64)
        out |= {"y_true": truth, "y_pred": predicted}
        out |= _misclassified(x_test, probs, truth, predicted)
        if maps is not None and maps.ndim == 4:
            channels = min(maps.shape[-1], MAX_CHANNELS)
            means = np.zeros((classes, *maps.shape[1:3], channels), dtype=np.float32)
            counts = np.zeros(classes, dtype=np.int64)
            for c in range(classes):
                picked = truth == c
                counts[c] = int(picked.sum())
                if counts[c]:
                    means[c] = maps[picked][..., :channels].mean(axis=0)
            out |= {"maps": means, "maps_count": counts, "maps_layer": np.array(last.name)}  # type: ignore[union-attr]  # maps comes from the probe, built only when last is set
    if convs:
        out |= {"filters": np.asarray(convs[0].get_weights()[0], dtype=np.float32),
                "filters_layer": np.array(convs[0].name)}  # fmt: skip
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **out)  # type: ignore[arg-type]  # numpy's stub types **kwds like allow_pickle; they are array names here
    write_atomic(folder / DATA_FILE, buffer.getvalue())


def _misclassified(
    x_test: Any, probs: np.ndarray, truth: np.ndarray, predicted: np.ndarray
) -> dict[str, np.ndarray]:
    """The first misclassified test examples: pictures of an image input, else the first
    words of a text input (nothing for other inputs)."""
    wrong = np.flatnonzero(predicted != truth)[:MAX_MISCLASSIFIED]
    confidence = probs[wrong, predicted[wrong]].astype(np.float32)
    # (n, h, w) or (n, h, w, c); not (n, steps, channels) waveforms, which are no pictures
    images = [a for a in _arrays(x_test) if a.ndim == 4 or (a.ndim == 3 and a.shape[-1] > 4)]
    if images:
        return {
            "wrong_index": wrong,
            "wrong_x": images[0][wrong].astype(np.float32),
            "wrong_confidence": confidence,
        }
    texts = [a for a in _arrays(x_test) if a.dtype.kind in "OSU"]
    if texts:  # a text classifier: each misclassified text's first words
        shown = texts[0][wrong].reshape(len(wrong), -1)[:, 0]
        return {
            "wrong_index": wrong,
            "wrong_text": np.array([first_words(t) for t in shown], dtype=str),
            "wrong_confidence": confidence,
        }
    return {}


FIRST_WORDS = 12
"""How many words of a misclassified text the report shows."""


def first_words(text: Any, count: int = FIRST_WORDS) -> str:
    """The first ``count`` words of a text (bytes as UTF-8), with "..." if there are more.

    >>> first_words(b"a  fine\\nfilm", 3), first_words("a fine film", 2)
    ('a fine film', 'a fine ...')
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    words = str(text).split()
    return " ".join(words[:count]) + (" ..." if len(words) > count else "")


def wrong_texts(data: Any) -> list[dict[str, Any]]:
    """The misclassified texts, each with its predicted and true label, index, probability."""
    if "wrong_text" not in data:
        return []
    truth, predicted = data["y_true"], data["y_pred"]
    return [
        {"predicted": int(predicted[i]), "true": int(truth[i]), "index": int(i),
         "confidence": float(data["wrong_confidence"][k]), "text": str(data["wrong_text"][k])}
        for k, i in enumerate(data["wrong_index"])
    ]  # fmt: skip


def _arrays(feed: Any) -> list[np.ndarray]:
    """The one input array, or each input's in the model's order."""
    return list(feed.values()) if isinstance(feed, dict) else [feed]


# ------------------------------------------------------------------ pictures
def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> str:
    """A figure as a ``data:`` URI (and closed)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    _pyplot().close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _file_uri(path: Path, mime: str) -> str | None:
    return (
        f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode()
        if path.is_file()
        else None
    )


def _as_image(x: np.ndarray) -> tuple[np.ndarray, str | None]:
    """An (h, w), (h, w, 1) or (h, w, 3) array scaled to 0..1 for imshow, and its colour map."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    elif x.ndim == 3 and x.shape[-1] != 3:
        x = x.mean(axis=-1)
    low, high = float(np.min(x)), float(np.max(x))
    x = (x - low) / (high - low) if high > low else np.zeros_like(x)
    return x, ("gray" if x.ndim == 2 else None)


def curves(folder: Path) -> str | None:
    """The loss and accuracy curves, drawn again from ``history.json`` (so a run folder
    written before a fix of the picture gets the fixed one), else ``curves.png`` as it is."""
    history = _history(folder / "history.json")
    if not history:
        return _file_uri(folder / "curves.png", "image/png")
    from specc.training import report

    return _png(report.curves_figure(history))


def _history(path: Path) -> dict[str, list[float]] | None:
    """``history.json`` as ``{metric: [value per epoch]}`` (null for a NaN that
    finite_json wrote), or None where it is missing or not that."""
    try:
        data = json.loads(path.read_text()) if path.is_file() else None
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not data:
        return None
    history: dict[str, list[float]] = {}
    for key, values in data.items():
        if (
            not isinstance(values, list)
            or not values
            or not all(
                v is None or (isinstance(v, int | float) and not isinstance(v, bool))
                for v in values
            )
        ):
            return None
        history[key] = [float("nan") if v is None else float(v) for v in values]
    shown = [k for k in history if not k.startswith("val_") and k != "learning_rate"]
    lengths = {len(values) for values in history.values()}
    return history if shown and len(lengths) == 1 else None


def misclassified(data: Any) -> str | None:
    """A grid of misclassified test images, each titled ``predicted (true)``."""
    if "wrong_x" not in data or len(data["wrong_x"]) == 0:
        return None
    plt = _pyplot()
    images = data["wrong_x"]
    cols = min(len(images), 9)
    rows = -(-len(images) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.25 * cols, 1.45 * rows), squeeze=False)
    truth, predicted = data["y_true"], data["y_pred"]
    for ax in axes.flat:
        ax.axis("off")
    for k, (ax, index) in enumerate(zip(axes.flat, data["wrong_index"], strict=False)):
        image, cmap = _as_image(images[k])
        ax.imshow(image, cmap=cmap, interpolation="nearest")
        ax.set_title(f"{predicted[index]} (true {truth[index]})\n#{index}, p={data['wrong_confidence'][k]:.2f}",
                     fontsize=7, color="#b00020")  # fmt: skip
    fig.tight_layout()
    return _png(fig)


def predicted(data: Any, name: str, folder: Path) -> str | None:
    """Predicted against true test values of a regression, drawn again from report.npz
    (else ``predicted.png`` as it is)."""
    if "true_values" not in data:
        return _file_uri(folder / "predicted.png", "image/png")
    from specc.training import report

    return _png(report.predicted_figure(data["true_values"], data["predicted_values"], name))


def filters(data: Any) -> str | None:
    """The first conv layer's kernels, one small image each (RGB where it reads RGB)."""
    if "filters" not in data:
        return None
    plt = _pyplot()
    kernel = data["filters"]  # (kh, kw, in, out)
    if kernel.ndim != 4:
        return None
    count = kernel.shape[-1]
    cols = min(count, 16)
    rows = -(-count // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(0.7 * cols, 0.75 * rows + 0.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for k, ax in enumerate(axes.flat[:count]):
        image, cmap = _as_image(kernel[..., k])
        ax.imshow(image, cmap=cmap, interpolation="nearest")
        ax.set_title(str(k), fontsize=6)
    fig.suptitle(f"{data['filters_layer']}: {count} kernels of {kernel.shape[0]}×{kernel.shape[1]}×{kernel.shape[2]}",
                 fontsize=9)  # fmt: skip
    fig.tight_layout()
    return _png(fig)


def feature_maps(data: Any) -> str | None:
    """Per class (rows) the last conv layer's output channels (columns), averaged over the
    test images of that class: how the convolutions encode each digit."""
    if "maps" not in data:
        return None
    plt = _pyplot()
    maps, counts = data["maps"], data["maps_count"]
    classes, channels = maps.shape[0], maps.shape[-1]
    fig, axes = plt.subplots(classes, channels + 1, figsize=(0.75 * (channels + 1), 0.75 * classes + 0.4),
                             squeeze=False)  # fmt: skip
    low, high = float(maps.min()), float(maps.max())
    for c in range(classes):
        axes[c, 0].axis("off")
        axes[c, 0].text(0.5, 0.5, f"{c}\n({counts[c]})", ha="center", va="center", fontsize=8)
        for k in range(channels):
            ax = axes[c, k + 1]
            ax.imshow(maps[c, ..., k], cmap="viridis", vmin=low, vmax=high, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_title(str(k), fontsize=6)
    fig.suptitle(f"{data['maps_layer']}: mean output per class (rows; test count), channels 0-{channels - 1}",
                 fontsize=9)  # fmt: skip
    fig.tight_layout()
    return _png(fig)


# ------------------------------------------------------------------ the page
def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text()) if path.is_file() else None
    except (OSError, ValueError) as exc:
        raise ReportError(f"cannot read {path.name}: {exc}") from None


def context(folder: Path) -> dict[str, Any]:
    """Everything the template shows, read from the run folder."""
    from specc.analysis.pipeline import compile_file
    from specc.backends import diagram, table
    from specc.errors import SpecError

    if not folder.exists():
        raise ReportError("no such folder (give a run folder that specc train wrote)")
    if not folder.is_dir():
        raise ReportError("not a folder (give a run folder that specc train wrote)")
    spec_file = folder / "spec.yaml"
    if not spec_file.is_file():
        raise ReportError("no spec.yaml here: not a run folder that specc train wrote")
    spec_text = spec_file.read_text(encoding="utf-8", errors="replace")
    layer_table, name, diagram_uri, problem = None, folder.name, None, None
    try:
        from specc.backends.plugins import active_or_none

        compiled = compile_file(spec_file, plugins=active_or_none())
        graph = compiled.graph  # Keras' full width, whatever the terminal's
        layer_table = table.as_text(
            graph, 108 if graph.functional and not graph.sequential_like else 88
        )
        name = compiled.spec.name
    except SpecError as exc:
        compiled = None
        problem = "; ".join(d.text() for d in exc.diagnostics[:3])
    diagram_uri = _file_uri(folder / DIAGRAM_FILE, "image/svg+xml")
    if diagram_uri is None and compiled is not None:
        buffer = folder / f".{DIAGRAM_FILE}"  # drawn for the page only
        try:
            diagram.draw(diagram.model_boxes(compiled.graph, compiled.origins), buffer)
            diagram_uri = _file_uri(buffer, "image/svg+xml")
        finally:
            buffer.unlink(missing_ok=True)
    data = _data(folder / DATA_FILE)
    metrics = _json(folder / "metrics.json") or {}
    if not isinstance(metrics, dict):
        raise ReportError("cannot read metrics.json: not a JSON object")
    try:  # report.npz as specc train writes it; anything else is said in one line
        return _values(folder, name, spec_text, problem, layer_table, diagram_uri, data, metrics)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise ReportError(
            f"cannot read {DATA_FILE}: not what specc train writes ({type(exc).__name__}: {exc})"
        ) from None


def _data(path: Path) -> dict[str, np.ndarray]:
    """The arrays of ``report.npz`` (none when it is missing)."""
    import zipfile

    if not path.is_file():
        return {}
    if not zipfile.is_zipfile(path):
        raise ReportError(f"cannot read {DATA_FILE}: not an .npz (zip) file")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except Exception as exc:  # truncated or corrupt: zipfile, zlib and numpy raise their own
        raise ReportError(f"cannot read {DATA_FILE}: {type(exc).__name__}: {exc}") from None


def _values(
    folder: Path, name: str, spec_text: str, problem: str | None, layer_table: str | None,
    diagram_uri: str | None, data: dict[str, np.ndarray], metrics: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    accuracy = None
    if "y_true" in data:
        accuracy = float((data["y_true"] == data["y_pred"]).mean())
    return {
        "name": name,
        "folder": str(folder),
        "spec_text": spec_text,
        "spec_problem": problem,
        "layer_table": layer_table,
        "test_metrics": {k: v for k, v in metrics.items() if k.startswith("test_")}
        | _regression_rows(metrics),
        "run": {k: metrics[k] for k in RUN_FACTS if k in metrics},
        "wrong_shown": len(data.get("wrong_x", data.get("wrong_text", ()))),
        "wrong_texts": wrong_texts(data),
        "accuracy": accuracy,
        "wrong_total": int((data["y_true"] != data["y_pred"]).sum()) if "y_true" in data else None,
        "test_total": len(data["y_true"]) if "y_true" in data else None,
        "images": {
            "diagram": diagram_uri,
            "curves": curves(folder),
            "confusion": _file_uri(folder / "confusion.png", "image/png"),
            "confusions": _confusions(folder, metrics),
            "predicted": predicted(data, name, folder),
            "misclassified": misclassified(data),
            "filters": filters(data),
            "maps": feature_maps(data),
        },
    }


def _regression_rows(metrics: dict[str, Any]) -> dict[str, Any]:
    """A regression's MAE, RMSE and R² of the test values (metrics.json ``regression``)."""
    scores = metrics.get("regression")
    if not isinstance(scores, dict):
        return {}
    labels = {"mae": "MAE", "rmse": "RMSE", "r2": "R²"}
    return {
        label: "undefined (the true values are constant)" if scores[key] is None else scores[key]
        for key, label in labels.items()
        if key in scores
    }


def _confusions(folder: Path, metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """(output, picture) for each output of several that has a confusion matrix (its
    class labels): ``confusion_<output>.png``, in the order of the outputs."""
    outputs = metrics.get("outputs")
    found = []
    for output in outputs if isinstance(outputs, dict) else ():
        uri = _file_uri(folder / f"confusion_{output}.png", "image/png")
        if uri is not None:
            found.append((str(output), uri))
    return found


def render(values: dict[str, Any]) -> str:
    """The page: the package's Jinja template, every value autoescaped."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("specc", "backends/templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template("report.html.jinja").render(**values)


def write(folder: Path, target: Path) -> None:
    """Write the report of run folder ``folder`` to ``target``, atomically."""
    write_atomic(target, render(context(folder)))
