"""Weights files for sub-models and keras.applications backbones, found without Keras.

``weights: path.weights.h5`` on a sub-model is taken from the spec's folder and checked to
exist before TensorFlow is imported. ``weights: imagenet`` on an application is the file
``keras.applications`` would download, looked up offline in Keras' cache
(``$KERAS_HOME/models``, else ``~/.keras/models``, and the ``/tmp/.keras/models`` Keras
falls back to): specc never downloads; when the file is absent one line says which file
and where to put it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from specc.analysis.graph import Graph
from specc.analysis.submodels import SubModel
from specc.errors import Diagnostic

Diagnose = Callable[[tuple, str], Diagnostic]

_FIXED = {
    "VGG16": "vgg16", "VGG19": "vgg19", "ResNet50": "resnet50", "ResNet101": "resnet101",
    "ResNet152": "resnet152", "ResNet50V2": "resnet50v2", "ResNet101V2": "resnet101v2",
    "ResNet152V2": "resnet152v2", "DenseNet121": "densenet121", "DenseNet169": "densenet169",
    "DenseNet201": "densenet201", "InceptionV3": "inception_v3",
    "InceptionResNetV2": "inception_resnet_v2", "Xception": "xception",
}  # fmt: skip
"""Applications whose file is ``<stem>_weights_tf_dim_ordering_tf_kernels[_notop].h5``."""
_NAMED = {
    **{f"EfficientNetB{k}": f"efficientnetb{k}" for k in range(8)},
    **{f"EfficientNetV2B{k}": f"efficientnetv2-b{k}" for k in range(4)},
    **{f"EfficientNetV2{s}": f"efficientnetv2-{s.lower()}" for s in "SML"},
    **{f"ConvNeXt{s}": f"convnext_{s.lower()}" for s in ("Tiny", "Small", "Base", "Large", "XLarge")},
}  # fmt: skip
"""Applications whose file is the model's ``name`` + ``.h5`` (``_notop.h5``)."""


def _rows(input_shape: Any, sizes: tuple[int, ...]) -> int:
    """The image size MobileNet's weights are chosen by: the square input's, else 224."""
    if input_shape is None:
        return 224
    rows, cols = input_shape[0], input_shape[1]
    return rows if rows == cols and rows in sizes else 224


def imagenet_file(application: str, arguments: dict[str, Any]) -> str:
    """The file name ``keras.applications.<application>(weights="imagenet", ...)`` loads
    from ``<cache>/models/`` (Keras 3.15's rules, read from its source).

    >>> imagenet_file("MobileNetV2", {"include_top": False, "input_shape": [160, 160, 3]})
    'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160_no_top.h5'
    >>> imagenet_file("EfficientNetB0", {"include_top": True})
    'efficientnetb0.h5'
    """
    top = arguments.get("include_top", True)
    alpha = arguments.get("alpha", 1.0)
    shape = arguments.get("input_shape")
    if application in _FIXED:
        return (
            f"{_FIXED[application]}_weights_tf_dim_ordering_tf_kernels{'' if top else '_notop'}.h5"
        )
    if application in _NAMED:
        return f"{arguments.get('name') or _NAMED[application]}{'.h5' if top else '_notop.h5'}"
    if application == "MobileNetV2":
        rows = _rows(shape, (96, 128, 160, 192, 224))
        return (
            f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}"
            f"{'' if top else '_no_top'}.h5"
        )
    if application == "MobileNet":
        text = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0"}.get(alpha, "2_5")
        rows = _rows(shape, (128, 160, 192, 224))
        return f"mobilenet_{text}_{rows}_tf{'' if top else '_no_top'}.h5"
    if application in ("MobileNetV3Small", "MobileNetV3Large"):
        kind = "small" if application.endswith("Small") else "large"
        minimal = "_minimalistic" if arguments.get("minimalistic") else ""
        stem = f"weights_mobilenet_v3_{kind}{minimal}_224_{alpha}_float"
        return f"{stem}{'.h5' if top else '_no_top_v2.h5'}"
    if application in ("NASNetMobile", "NASNetLarge"):
        stem = "nasnet_mobile" if application == "NASNetMobile" else "nasnet_large"
        return f"{stem}{'' if top else '_no_top'}.h5"
    raise KeyError(application)


def keras_models_dirs() -> list[Path]:
    """Where ``keras.utils.get_file(..., cache_subdir="models")`` keeps downloads."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return list(dict.fromkeys([Path(home) / "models", Path("/tmp/.keras/models")]))


def each_sub_model(graph: Graph, at: tuple = ()) -> Iterator[tuple[SubModel, tuple]]:
    """Every sub-model of the graph (and inside them), with the spec location of its entry."""
    for layer in graph.layers:
        spec = layer.spec
        if isinstance(spec, SubModel):
            yield spec, spec._loc or at
            if spec.graph is not None:
                yield from each_sub_model(spec.graph, spec._loc)


def check_weights(spec: Any, graph: Graph, diagnose: Diagnose) -> Iterator[Diagnostic]:
    """``imagenet`` only where Keras has ImageNet weights: a keras.applications backbone."""
    for sub, loc in each_sub_model(graph):
        if sub.weights == "imagenet" and sub.application is None:
            yield diagnose(
                (*loc, "weights"),
                f"imagenet weights exist only for keras.applications backbones; sub-model "
                f"{sub.name!r} is the spec's own: give a .weights.h5 file saved from it "
                "(model.save_weights) or null",
            )


def locate(graph: Graph, folder: Path, diagnose: Diagnose) -> list[Diagnostic]:
    """Find every sub-model's weights file (relative paths from the spec's ``folder``),
    noting each on its sub-model for the builders; the problems, one line each."""
    found = (locate_one(sub, loc, folder, diagnose) for sub, loc in each_sub_model(graph))
    return [problem for problem in found if problem is not None]


def locate_one(sub: SubModel, loc: tuple, folder: Path, diagnose: Diagnose) -> Diagnostic | None:
    """Sub-model ``sub``'s weights file noted on it, or the problem (at ``loc``)."""
    if sub.weights is None:
        return None
    if sub.weights == "imagenet" and sub.application is not None:
        application, arguments = sub.application
        name = imagenet_file(application, arguments)
        places = keras_models_dirs()
        found = next((p / name for p in places if (p / name).is_file()), None)
        if found is None:
            return diagnose(
                (*loc, "weights"),
                f"the ImageNet weights of {application} are not in Keras' cache: put {name} in "
                f"{places[0]} (specc does not download; keras.applications.{application}"
                "(weights='imagenet') downloads it there)",
            )
        sub._weights_path = str(found)
        return None
    try:
        path = Path(sub.weights).expanduser()
        path = path if path.is_absolute() else folder / path
        problem = _not_weights(path)
    except (OSError, RuntimeError, ValueError) as exc:  # a name too long, ~nobody
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        problem = f"weights file {_shown(sub.weights)} cannot be read: {reason}"
    if problem is not None:
        return diagnose((*loc, "weights"), problem)
    sub._weights_path = str(path)
    return None


HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
"""The first bytes of an HDF5 file's superblock (at 0, or 512, 1024, ... after a user
block): what ``save_weights`` writes, checked before TensorFlow's minute-long import."""


def _not_weights(path: Path) -> str | None:
    """Why ``path`` is no weights file (missing, a folder, not HDF5), or None."""
    if path.is_dir():
        return f"weights file {_shown(path)} is a folder; give the .weights.h5 file in it"
    if not path.is_file():  # missing, a dangling link or a loop, a FIFO, a device
        return (
            f"weights file {_shown(path)} not found"
            + ("" if path.parent.is_dir() else f" (no folder {_shown(path.parent)})")
            + "; a relative path is taken from the spec's folder"
        )
    with path.open("rb") as file:
        size, offset = path.stat().st_size, 0
        while offset + len(HDF5_SIGNATURE) <= min(size, 1 << 20):
            file.seek(offset)
            if file.read(len(HDF5_SIGNATURE)) == HDF5_SIGNATURE:
                return None
            offset = 512 if offset == 0 else offset * 2
    return (
        f"weights file {_shown(path)} is not an HDF5 file (what model.save_weights writes); "
        "give the .weights.h5 file saved from this model"
    )


def _shown(path: object) -> str:
    """A path as one line of text: quoted, escaped, where it holds a control character."""
    text = str(path)
    return text if text.isprintable() else repr(text)
