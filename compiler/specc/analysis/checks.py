"""Cross-field rules: what no single field can know on its own.

Each rule reads the validated spec and its resolved graph and yields diagnostics; the
rules are independent so every problem in a file is reported at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from specc.analysis.graph import Graph
from specc.errors import Diagnostic
from specc.language.objects import from_logits, loss_name
from specc.language.schema import STRATEGIES, ReshapeStep, Spec

Diagnose = Callable[[tuple, str], Diagnostic]

KNOWN_DATASETS = {
    # name: (image shape as loaded, number of classes)
    "mnist": ((28, 28), 10),
    "fashion_mnist": ((28, 28), 10),
}
CATEGORICAL = {"categorical_crossentropy", "categorical_focal_crossentropy", "categorical_hinge"}
SPARSE = {"sparse_categorical_crossentropy"}
BINARY = {"binary_crossentropy", "binary_focal_crossentropy"}


ACTIVATION_LAYERS = {
    "Softmax": "softmax", "ReLU": "relu", "LeakyReLU": "leaky_relu", "PReLU": "prelu",
    "ELU": "elu",
}  # fmt: skip
"""Layers that are an activation function (``Dense(10)`` then ``Softmax()``)."""
LINEAR_LAYERS = {
    "Dense", "Conv1D", "Conv2D", "BatchNormalization", "LayerNormalization",
    "GroupNormalization", "UnitNormalization", "Embedding",
}  # fmt: skip


def final_activation(spec: Spec, graph: Graph | None = None) -> tuple[tuple, str] | None:
    """Location and name of the activation that produces the model's output, if any.

    Walks back over layers that don't change values' meaning (Dropout, Flatten, ...), and
    into wrappers and nested blocks (the last layer inside them counts). In a graph with one
    output, the walk follows each layer's first input.
    """
    if graph is not None and graph.functional:
        return _graph_activation(spec, graph)
    return _last_activation(list(spec.model.layers), ("model", "layers"))


def _graph_activation(spec: Spec, graph: Graph) -> tuple[tuple, str] | None:
    if len(graph.output_shapes) != 1:
        return None
    calls = {(c.layer, c.node): c for c in graph.calls}
    made = {layer.name: layer for layer in graph.made}
    source = graph.outputs[0]
    while (source[0], source[1]) in calls:
        call = calls[(source[0], source[1])]
        layer = made[call.layer]
        found = _activation(layer.spec, ("model", "layers", layer.index))
        if found is not None:
            return found
        if len(call.sources) != 1:
            return None
        source = call.sources[0]
    return None


def output_loc(spec: Spec, graph: Graph) -> tuple:
    """Where the model's output is said: the last layer, or ``model.outputs``."""
    if graph.functional and spec.model.outputs is not None:
        return ("model", "outputs", 0) if len(spec.model.outputs) == 1 else ("model", "outputs")
    return ("model", "layers", len(spec.model.layers) - 1)


def _last_activation(layers: list, loc: tuple) -> tuple[tuple, str] | None:
    for i in range(len(layers) - 1, -1, -1):
        found = _activation(layers[i], (*loc, i))
        if found is not None:
            return found
    return None


def _activation(layer: Any, loc: tuple) -> tuple[tuple, str] | None:
    """The activation ``layer`` ends with, if it says (a wrapper: its inner layer's).

    The location is the layer's for an activation layer, else its ``activation`` field's."""
    if layer.type in ACTIVATION_LAYERS:
        return loc, ACTIVATION_LAYERS[layer.type]
    if hasattr(layer, "activation"):
        return (*loc, "activation"), layer.activation or "linear"
    if layer.type in LINEAR_LAYERS:
        return (*loc, "activation"), "linear"
    for key in reversed(layer.NESTED):
        value = getattr(layer, key)
        if isinstance(value, list):
            found = _last_activation(value, (*loc, key))
        else:
            found = None if value is None else _activation(value, (*loc, key))
        if found is not None:
            return found
    return None


def check_data_shape(spec: Spec, graph: Graph, diagnose: Diagnose) -> Iterator[Diagnostic]:
    """The preprocessed images must have exactly ``model.input.shape``."""
    if spec.data is None:
        return
    source = KNOWN_DATASETS.get(spec.data.dataset, (None, None))[0]
    shape = source
    for i, step in enumerate(spec.data.preprocessing.x):
        if isinstance(step, ReshapeStep):
            if shape is not None and math.prod(step.reshape) != math.prod(shape):
                yield diagnose(
                    ("data", "preprocessing", "x", i, "reshape"),
                    f"cannot reshape {spec.data.dataset} images of shape {list(shape)} "
                    f"({math.prod(shape)} values) into {step.reshape} ({math.prod(step.reshape)} values)",
                )
                return
            shape = tuple(step.reshape)
    if spec.model.input is None and len(spec.model.model_inputs) != 1:
        return  # several inputs: no single image array to compare
    wanted = spec.model.model_inputs[0].shape
    if shape is not None and (
        len(shape) != len(wanted)
        or any(w not in (None, d) for d, w in zip(shape, wanted, strict=False))
    ):
        loc = ("data", "preprocessing", "x") if spec.data.preprocessing.x else ("data", "dataset")
        yield diagnose(
            loc,
            f"images reach the model with shape {list(shape)} but model.input.shape is "
            f"{list(wanted)}; add a reshape step such as "
            f"{{reshape: {list(wanted)}}}",
        )


def check_labels(spec: Spec, graph: Graph, diagnose: Diagnose) -> Iterator[Diagnostic]:
    """Loss, label encoding and the last layer's width must agree."""
    if spec.compile is None:
        return
    loss = loss_name(spec.compile.loss)
    out = graph.output_shape
    where = output_loc(spec, graph)
    steps = spec.data.preprocessing.y if spec.data else []
    one_hot = steps[-1].one_hot if steps else None
    classes = KNOWN_DATASETS.get(spec.data.dataset, (None, None))[1] if spec.data else None
    if isinstance(out, list):  # a multi-output last layer (return_state, merge_mode: null)
        yield diagnose(
            where,
            f"the model outputs {len(out)} tensors, but the loss is computed on one output "
            "and specc trains on one label array; give the last layer a single output "
            "(e.g. return_state: false)",
        )
        return
    # Keras takes the classes on the last axis, so a (batch, steps, classes) output is a
    # classifier per step (labels of the same shape); a known dataset has one label per image.
    if loss in CATEGORICAL | SPARSE and (len(out) < 2 or (classes is not None and len(out) != 2)):
        yield diagnose(
            where,
            f"loss {loss!r} needs a (batch, classes) output, but the model outputs "
            f"{out}; add Flatten or GlobalAveragePooling before the last Dense",
        )
        return
    width = out[-1]
    if loss in CATEGORICAL:
        if spec.data is not None and one_hot is None:
            yield diagnose(
                ("data", "preprocessing", "y"),
                f"loss {loss!r} needs one-hot labels: add {{one_hot: {width}}} to data.preprocessing.y "
                "(or use loss: sparse_categorical_crossentropy)",
            )
        if one_hot is not None and one_hot != width:
            yield diagnose(
                ("data", "preprocessing", "y", len(steps) - 1, "one_hot"),
                f"labels are one-hot over {one_hot} classes but the last layer has {width} units",
            )
    if loss in SPARSE and one_hot is not None:
        yield diagnose(
            ("data", "preprocessing", "y", len(steps) - 1),
            f"loss {loss!r} takes integer labels, not one-hot: remove the one_hot step "
            "(or use loss: categorical_crossentropy)",
        )
    if classes is not None and loss in CATEGORICAL | SPARSE and width != classes:
        yield diagnose(
            where,
            f"{spec.data.dataset} has {classes} classes but the last layer outputs {width}",
        )  # type: ignore[union-attr]
    if one_hot is not None and classes is not None and one_hot != classes:
        yield diagnose(
            ("data", "preprocessing", "y", len(steps) - 1, "one_hot"),
            f"{spec.data.dataset} has {classes} classes, not {one_hot}",
        )  # type: ignore[union-attr]


def check_final_activation(spec: Spec, graph: Graph, diagnose: Diagnose) -> Iterator[Diagnostic]:
    """Cross-entropy losses expect probabilities (softmax for categorical, sigmoid for
    binary) unless the loss says ``from_logits: true``; then the last layer must be linear."""
    if spec.compile is None:
        return
    loss = loss_name(spec.compile.loss)
    found = final_activation(spec, graph)
    if found is None:
        return
    loc, activation = found
    if from_logits(spec.compile.loss):
        if activation in ("softmax", "sigmoid"):
            yield diagnose(
                loc,
                f"the loss has from_logits: true, so it applies {activation} itself; a "
                f"{activation} here would apply it twice: remove the activation (linear "
                "outputs, i.e. logits) or set from_logits: false",
            )
        return
    if loss in CATEGORICAL | SPARSE and activation != "softmax":
        hint = (
            "; or keep the linear outputs (logits) and write the loss as "
            f"{{type: {_class_name(loss)}, from_logits: true}}"
            if activation == "linear"
            else ""
        )
        yield diagnose(
            loc,
            f"loss {loss!r} expects probabilities: the last activation must be "
            f"softmax, not {activation!r}{hint}",
        )
    if loss in BINARY and activation != "sigmoid":
        yield diagnose(
            loc,
            f"loss {loss!r} expects probabilities: the last activation must be "
            f"sigmoid, not {activation!r}",
        )
    single = not isinstance(graph.output_shape, list)
    if activation == "softmax" and loss in BINARY and single and graph.output_shape[-1] != 1:
        yield diagnose(loc, "softmax with binary cross-entropy: use categorical_crossentropy")


def _class_name(loss: str) -> str:
    """``sparse_categorical_crossentropy`` -> ``SparseCategoricalCrossentropy``."""
    return "".join(part.capitalize() for part in loss.split("_"))


def check_callbacks(spec: Spec, graph: Graph, diagnose: Diagnose) -> Iterator[Diagnostic]:
    """Callbacks watching ``val_*`` need a validation split."""
    if spec.training is None:
        return
    for i, cb in enumerate(spec.training.callbacks):
        if cb.monitor.startswith("val_") and spec.training.validation_split == 0:
            yield diagnose(
                ("training", "callbacks", i, "monitor"),
                f"monitors {cb.monitor!r} but training.validation_split is 0, so there is "
                "no validation data; set validation_split (e.g. 0.1)",
            )


def check_distribution(spec: Spec, graph: Graph, diagnose: Diagnose) -> Iterator[Diagnostic]:
    """A strategy runs on one backend's engine and refuses the runtime options that fail
    under it (measured with TensorFlow 2.21 / Keras 3.15 / JAX 0.10, README "Several
    devices and machines"). What depends on the machine (device count, ``$TF_CONFIG``,
    ``runtime.backend: auto``) is checked when training starts."""
    dist = spec.training.distribution if spec.training else None
    if dist is None:
        return
    where = ("training", "distribution", "strategy")
    need = STRATEGIES[dist.strategy]
    runtime = spec.runtime
    if runtime.backend not in ("auto", need):
        yield diagnose(
            where,
            f"strategy {dist.strategy!r} runs on the {need} backend, but runtime.backend is "
            f"{runtime.backend!r}; set runtime.backend: {need} (or auto with KERAS_BACKEND={need})"
            + ("" if need == "jax" else ", or use strategy: data_parallel on jax"),
        )
        return
    if runtime.loop == "fused":
        yield diagnose(
            ("runtime", "loop"),
            f"the fused loop keeps the data and the model on one device, so it cannot run "
            f"under strategy {dist.strategy!r}; use runtime.loop: fit (or auto)",
        )
    if need == "tensorflow":
        if runtime.jit_compile is True:
            yield diagnose(
                ("runtime", "jit_compile"),
                "XLA under tf.distribute fails in Keras 3 (a replica's variables live on "
                "another device) and Keras turns it off there by itself; use jit_compile: auto "
                "or false with this strategy",
            )
        spe = runtime.steps_per_execution
        if isinstance(spe, int) and spe > 1:
            yield diagnose(
                ("runtime", "steps_per_execution"),
                f"steps_per_execution {spe} fails under tf.distribute in Keras 3 (fit stops "
                "with 'You must feed a value for placeholder tensor'); use 1 or auto "
                "(auto is 1 under a strategy)",
            )
    devices = getattr(dist, "devices", None)
    batch = spec.training.batch_size  # type: ignore[union-attr]
    if devices and batch % len(devices):
        yield diagnose(
            ("training", "batch_size"),
            f"batch_size is the global batch, split evenly over the {len(devices)} devices of "
            f"training.distribution; {batch} is not a multiple of {len(devices)}: use e.g. "
            f"{batch + len(devices) - batch % len(devices)}",
        )


RULES = (
    check_data_shape, check_labels, check_final_activation, check_callbacks, check_distribution,
)  # fmt: skip


def run_checks(spec: Spec, graph: Graph, diagnose: Diagnose) -> list[Diagnostic]:
    """Every cross-field diagnostic for a spec whose shapes resolved."""
    return [d for rule in RULES for d in rule(spec, graph, diagnose)]
