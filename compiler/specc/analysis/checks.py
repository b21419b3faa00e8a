"""Cross-field rules: what no single field can know on its own.

Each rule reads the validated spec and its resolved graph and yields diagnostics; the
rules are independent so every problem in a file is reported at once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from specc.analysis.finetune import check_fine_tune
from specc.analysis.graph import Graph
from specc.analysis.strings import check_strings
from specc.analysis.weights import check_weights
from specc.errors import Diagnostic, format_loc
from specc.language.messages import did_you_mean
from specc.language.schema import (
    DISTRIBUTED_STREAMS,
    FOLDER_DATASETS,
    STRATEGIES,
    WORD_DATASETS,
    Data,
    PadStep,
    ReshapeStep,
    Spec,
)
from specc.layers.custom import PLUGIN_VALUE
from specc.terms.objects import from_logits, loss_name

Diagnose = Callable[[tuple, str], Diagnostic]

KNOWN_DATASETS: dict[str, tuple[tuple[int, ...] | None, int | None]] = {
    # name: (sample shape as keras.datasets loads it (None: word-id lists of any length),
    # number of classes (None: regression targets))
    "mnist": ((28, 28), 10),
    "fashion_mnist": ((28, 28), 10),
    "cifar10": ((32, 32, 3), 10),
    "cifar100": ((32, 32, 3), 100),
    "imdb": (None, 2),
    "reuters": (None, 46),
    "boston_housing": ((13,), None),
    "california_housing": ((8,), None),
}


CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}
"""An image folder's ``color_mode`` -> channels per pixel."""


def dataset_shape(data: Data | None) -> tuple[int, ...] | None:
    """One sample's shape as the named dataset loads it (None: unknown or of any length);
    an image folder's when its spec states ``image_size`` (and ``color_mode``: rgb)."""
    if data is not None and data.dataset == "image_folder" and data.image_size:
        return (*data.image_size, CHANNELS[data.color_mode or "rgb"])
    return KNOWN_DATASETS.get(data.dataset, (None, None))[0] if data else None


def dataset_classes(data: Data | None) -> int | None:
    """How many classes the named dataset's labels count (None: not known, or regression)."""
    if data is None:
        return None
    if data.dataset == "cifar100" and data.label_mode == "coarse":
        return 20
    return KNOWN_DATASETS.get(data.dataset, (None, None))[1]


CATEGORICAL = {"categorical_crossentropy", "categorical_focal_crossentropy", "categorical_hinge"}
SPARSE = {"sparse_categorical_crossentropy"}
BINARY = {"binary_crossentropy", "binary_focal_crossentropy"}


def final_activation(spec: Spec, graph: Graph | None = None) -> tuple[tuple, str] | None:
    """Location and name of the activation that produces the model's output, if any.

    Walks back over layers that don't change values' meaning (Dropout, Flatten, ...), and
    into wrappers and nested blocks (the last layer inside them counts). In a graph with one
    output, the walk follows each layer's first input.
    """
    if graph is not None and graph.functional:
        return _graph_activation(spec, graph)
    return _last_activation(list(spec.model.layers), ("model", "layers"))


def _graph_activation(
    spec: Spec, graph: Graph, output: int | None = None
) -> tuple[tuple, str] | None:
    """The activation ending output ``output`` (None: the only output)."""
    if output is None and len(graph.output_shapes) != 1:
        return None
    calls = {(c.layer, c.node): c for c in graph.calls}
    made = {layer.name: layer for layer in graph.made}
    source = graph.outputs[output or 0]
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
        (key, _), *more = spec.model.output_refs
        return ("model", "outputs", 0 if key is None else key) if not more else ("model", "outputs")
    return ("model", "layers", len(spec.model.layers) - 1)


def _last_activation(layers: list, loc: tuple) -> tuple[tuple, str] | None:
    for i in range(len(layers) - 1, -1, -1):
        found = _activation(layers[i], (*loc, i))
        if found is not None:
            return found
    return None


def _activation(layer: Any, loc: tuple) -> tuple[tuple, str] | None:
    """The activation ``layer`` ends with, as its declaration's ``VALUE`` says: None for a
    layer that passes values on (the walk goes on to the layer before it).

    The location is the layer's for an activation layer, else its ``activation`` field's."""
    value = layer.VALUE  # every catalog class declares it (checked when it is declared)
    if value == "same":
        return None
    if value == "argument":
        return (*loc, "activation"), layer.activation or "linear"
    if value == "linear":
        return (*loc, "activation"), "linear"
    if value != "inner":
        return loc, value  # the layer is that activation (Softmax: "softmax")
    for key in reversed(layer.NESTED):
        value = getattr(layer, key)
        if isinstance(value, list):
            found = _last_activation(value, (*loc, key))
        else:
            found = None if value is None else _activation(value, (*loc, key))
        if found is not None:
            return found
    return None


def input_names(graph: Graph) -> tuple[str, ...]:
    """The model's input names (``model.inputs``; keys ``x_train_<name>`` of a data file)."""
    return tuple(given.name for given in graph.inputs)


def output_names(graph: Graph) -> tuple[str, ...]:
    """Keras' ``model.output_names``: each output's layer (keys ``y_train_<name>``)."""
    if graph.output_keys:  # keras.Model(inputs, {name: tensor}): losses go by its keys
        return graph.output_keys
    if graph.functional:
        return tuple(source[0] for source in graph.outputs)
    return (graph.layers[-1].name,) if graph.layers else ()


def _listing(names: tuple[str, ...]) -> str:
    return ", ".join(names)


def _per_name(
    value: Any, names: tuple[str, ...], loc: tuple, what: str, example: str, diagnose: Diagnose
) -> Iterator[Diagnostic]:
    """A per-input/per-output setting: a mapping for several, a list (one value) for one."""
    several = len(names) > 1
    if isinstance(value, dict) and not several:
        one = {
            "steps": "a list of steps", "loss": "one loss", "[metrics]": "a list",
            "weight": "a list of one weight",
        }[example]  # fmt: skip
        yield diagnose(
            loc,
            f"the model has one {what}: give {format_loc(loc)} as {one} (a mapping by "
            f"{what} name is for a model with several {what}s)",
        )
    elif several and not isinstance(value, dict) and value:
        yield diagnose(
            loc,
            f"the model has {len(names)} {what}s ({_listing(names)}): give {format_loc(loc)} "
            f"per {what}, as a mapping {what} name -> {example}",
        )
    elif isinstance(value, dict):
        for key in value:
            if key not in names:
                hint = did_you_mean(key, names)
                yield diagnose(
                    (*loc, key),
                    f"the model has no {what} named {key!r}"
                    + (f" ({hint})" if hint else "")
                    + f"; its {what}s are {_listing(names)}",
                )


def check_several(spec: Spec, graph: Graph, diagnose: Diagnose) -> Iterator[Diagnostic]:
    """Several inputs or outputs: data from a .npz with arrays per input and output,
    preprocessing and losses given per name, each output a layer of its own."""
    ins, outs = input_names(graph), output_names(graph)
    if graph.functional and len(outs) > 1 and (spec.data or spec.compile):
        for k, name in enumerate(outs):
            if outs.index(name) != k:
                yield diagnose(
                    ("model", "outputs", k),
                    f"outputs {outs.index(name)} and {k} are both outputs of layer {name!r}; "
                    "Keras names a model's outputs by their layers, and training needs a name "
                    "per output (its loss, its labels y_train_<name>): take outputs of "
                    "different layers",
                )
                return
    if spec.data is not None:
        grouped = spec.data.dataset == "csv" and spec.data.inputs  # columns per input
        several = [f"{len(ins)} inputs" for _ in [0] if len(ins) > 1 and not grouped]
        several += [f"{len(outs)} outputs" for _ in [0] if len(outs) > 1]
        if several and spec.data.dataset != "npz":
            yield diagnose(
                ("data", "dataset"),
                f"{spec.data.dataset} gives one image array and one label array, but the model "
                f"has {' and '.join(several)}; train it on a local .npz (dataset: npz) with "
                "x_train_<input>/x_test_<input> per input and y_train_<output>/y_test_<output> "
                "per output"
                + (
                    "; or, for a csv, give data.inputs: the columns of each input"
                    if spec.data.dataset == "csv" and len(ins) > 1
                    else ""
                ),
            )
        prep = spec.data.preprocessing
        x_at = ("data", "preprocessing", "x")  # a stack has one input (no graph inputs)
        yield from _per_name(prep.x, ins or ("",), x_at, "input", "steps", diagnose)
        yield from _per_name(prep.y, outs, ("data", "preprocessing", "y"), "output",
                             "steps", diagnose)  # fmt: skip
    if spec.compile is not None and not (isinstance(graph.output_shape, list) and len(outs) == 1):
        comp = spec.compile
        loss = comp.loss
        if loss is not None:  # null: the layers add their own losses
            yield from _per_name(loss, outs, ("compile", "loss"), "output", "loss", diagnose)
        if len(outs) > 1 and isinstance(loss, dict):
            missing = [name for name in outs if name not in loss]
            if missing:
                yield diagnose(
                    ("compile", "loss"),
                    f"no loss for output(s) {_listing(tuple(missing))}; Keras needs one per output",
                )
        for key in ("metrics", "weighted_metrics"):
            value = getattr(comp, key)
            if value is not None:
                yield from _per_name(value, outs, ("compile", key), "output", "[metrics]",
                                     diagnose)  # fmt: skip
        yield from _loss_weights(comp.loss_weights, outs, diagnose)


def _loss_weights(weights: Any, outs: tuple[str, ...], diagnose: Diagnose) -> Iterator[Diagnostic]:
    """One weight per output: a list in the outputs' order, or a mapping naming each output
    once (Keras looks every output's weight up by name and fails on a missing one)."""
    at = ("compile", "loss_weights")
    if isinstance(weights, dict):
        yield from _per_name(weights, outs, at, "output", "weight", diagnose)
        missing = [name for name in outs if name not in weights]
        if len(outs) > 1 and missing:
            yield diagnose(
                at,
                f"no weight for output(s) {_listing(tuple(missing))}; Keras needs one per "
                "output: add them (1.0 keeps an output's loss as it is)",
            )
    elif weights is not None and len(weights) != len(outs):
        yield diagnose(
            at,
            f"{len(weights)} weight(s) for {len(outs)} output(s); give one per "
            f"output, in the order of the outputs ({_listing(outs)})",
        )


def _reshaped(steps: list[Any], source: tuple | None) -> tuple | None:
    """The sample shape after the steps: the last reshape's (or pad's), else the source's."""
    shape = source
    for step in steps:
        if isinstance(step, ReshapeStep):
            shape = tuple(step.reshape)
        elif isinstance(step, PadStep):
            shape = (step.pad,)
    return shape


def check_data_shape(spec: Spec, graph: Graph, diagnose: Diagnose) -> Iterator[Diagnostic]:
    """The preprocessed images must have exactly ``model.input.shape``."""
    if spec.data is None:
        return
    if isinstance(spec.data.preprocessing.x, dict):  # several inputs: each its own steps
        for given in graph.inputs:  # in the spec's order
            shape, expected = (
                _reshaped(spec.data.preprocessing.x_steps(given.name), None),
                given.shape[1:],
            )
            if shape is not None and (
                len(shape) != len(expected)
                or any(w not in (None, d) for d, w in zip(shape, expected, strict=False))
            ):
                yield diagnose(
                    ("data", "preprocessing", "x", given.name),
                    f"samples of input {given.name!r} are reshaped to {list(shape)} but the input's "
                    f"shape is {list(expected)}; reshape to {list(expected)}",
                )
        return
    steps = spec.data.preprocessing.x
    if spec.data.dataset in WORD_DATASETS and not (steps and isinstance(steps[0], PadStep)):
        yield diagnose(
            ("data", "preprocessing", "x"),
            f"{spec.data.dataset} samples are lists of word ids of different lengths; add "
            "{pad: N} as the first x step (e.g. {pad: 200}) to make them one length",
        )
        return
    shape = dataset_shape(spec.data)
    for i, step in enumerate(steps):
        if isinstance(step, PadStep):
            shape = (step.pad,)
        elif isinstance(step, ReshapeStep):
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
        padded = [i for i, step in enumerate(steps) if isinstance(step, PadStep | ReshapeStep)]
        if padded and isinstance(steps[padded[-1]], PadStep) and len(wanted) == 1:
            yield diagnose(
                (*loc, padded[-1], "pad"),
                f"word-id lists are padded to {shape[0]} but model.input.shape is "
                f"{list(wanted)}; use {{pad: {wanted[0]}}}",
            )
            return
        yield diagnose(
            loc,
            f"images reach the model with shape {list(shape)} but model.input.shape is "
            f"{list(wanted)}; add a reshape step such as "
            f"{{reshape: {list(wanted)}}}",
        )


def check_labels(spec: Spec, graph: Graph, diagnose: Diagnose) -> Iterator[Diagnostic]:
    """Loss, label encoding and the last layer's width must agree."""
    if spec.compile is None or spec.compile.loss is None:
        return
    outs = output_names(graph)
    if len(outs) > 1:  # a loss per output (check_several: a mapping, each output named once)
        losses = spec.compile.loss
        if not isinstance(losses, dict) or len(set(outs)) != len(outs):
            return
        prep = spec.data.preprocessing if spec.data else None
        for k, name in enumerate(outs):
            if name in losses:
                steps = prep.y_steps(name) if prep else []
                at = ("data", "preprocessing", "y", name)
                yield from _labels(spec, graph.output_shapes[k], losses[name], steps, at,
                                   ("model", "outputs", k), diagnose)  # fmt: skip
        return
    if isinstance(spec.compile.loss, dict):
        return  # check_several refuses a mapping for one output
    steps = spec.data.preprocessing.y_steps() if spec.data else []
    yield from _labels(spec, graph.output_shape, spec.compile.loss, steps,
                       ("data", "preprocessing", "y"), output_loc(spec, graph), diagnose)  # fmt: skip


def _labels(
    spec: Spec, out: Any, loss_spec: Any, steps: list[Any], at: tuple, where: tuple,
    diagnose: Diagnose,
) -> Iterator[Diagnostic]:  # fmt: skip
    """One output's loss, label steps (at ``at``) and width (the output at ``where``)."""
    loss = loss_name(loss_spec)
    one_hot = steps[-1].one_hot if steps else None
    classes = dataset_classes(spec.data)
    if isinstance(out, list):  # a multi-output last layer (return_state, merge_mode: null)
        yield diagnose(
            where,
            f"the model outputs {len(out)} tensors, but the loss is computed on one output "
            "and specc trains on one label array; give the last layer a single output "
            "(e.g. return_state: false)",
        )
        return
    if not out:  # ops.mean/sum/max/min without axis reduce the batch axis too
        yield diagnose(
            where,
            "the model outputs a scalar (shape ()), with no batch axis to compare labels with;"
            " give the reducing operation an axis (e.g. axis: -1)",
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
                at,
                f"loss {loss!r} needs one-hot labels: add {{one_hot: {width}}} to {format_loc(at)} "
                "(or use loss: sparse_categorical_crossentropy)",
            )
        if one_hot is not None and one_hot != width:
            yield diagnose(
                (*at, len(steps) - 1, "one_hot"),
                f"labels are one-hot over {one_hot} classes but the last layer has {width} units",
            )
    if loss in SPARSE and one_hot is not None:
        yield diagnose(
            (*at, len(steps) - 1),
            f"loss {loss!r} takes integer labels, not one-hot: remove the one_hot step "
            "(or use loss: categorical_crossentropy)",
        )
    # classes is set only with spec.data (a known dataset): the check narrows it for mypy.
    if (
        classes is not None
        and spec.data is not None
        and loss in CATEGORICAL | SPARSE
        and width != classes
    ):
        yield diagnose(
            where,
            f"{spec.data.dataset} has {classes} classes but the last layer outputs {width}",
        )
    if one_hot is not None and classes is not None and spec.data is not None and one_hot != classes:
        yield diagnose(
            (*at, len(steps) - 1, "one_hot"),
            f"{spec.data.dataset} has {classes} classes, not {one_hot}",
        )


def check_final_activation(spec: Spec, graph: Graph, diagnose: Diagnose) -> Iterator[Diagnostic]:
    """Cross-entropy losses expect probabilities (softmax for categorical, sigmoid for
    binary) unless the loss says ``from_logits: true``; then the last layer must be linear."""
    if spec.compile is None or spec.compile.loss is None:
        return
    outs = output_names(graph)
    if len(outs) > 1 and graph.functional:
        if isinstance(spec.compile.loss, dict) and len(set(outs)) == len(outs):
            for k, name in enumerate(outs):
                found = _graph_activation(spec, graph, k)
                if name in spec.compile.loss and found is not None:
                    yield from _activation_fits(
                        spec.compile.loss[name], found, graph.output_shapes[k], diagnose
                    )
        return
    if isinstance(spec.compile.loss, dict):
        return
    found = final_activation(spec, graph)
    if found is None:
        return
    yield from _activation_fits(spec.compile.loss, found, graph.output_shape, diagnose)


def _activation_fits(
    loss_spec: Any, found: tuple[tuple, str], out: Any, diagnose: Diagnose
) -> Iterator[Diagnostic]:
    """The activation ending an output (at ``found``) against its loss."""
    loss = loss_name(loss_spec)
    loc, activation = found
    if activation == PLUGIN_VALUE:  # the user's layer: its code decides, unseen here
        return
    if from_logits(loss_spec):
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
    single = not isinstance(out, list)
    if activation == "softmax" and loss in BINARY and single and out[-1] != 1:
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
    under it (measured with TensorFlow 2.21 / Keras 3.15 / JAX 0.10, docs/distribution.md "Several
    devices and machines"). What depends on the machine (device count, ``$TF_CONFIG``,
    ``runtime.backend: auto``) is checked when training starts."""
    dist = spec.training.distribution if spec.training else None
    if dist is None:
        return
    where = ("training", "distribution", "strategy")
    streamed = spec.data.dataset if spec.data is not None else None
    if streamed in FOLDER_DATASETS and streamed not in DISTRIBUTED_STREAMS:
        yield diagnose(where, f"{streamed} data trains on one device (for now)")
        return
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
    batch = spec.training.batch_size  # type: ignore[union-attr]  # training is set: the caller checks it before
    if devices and batch % len(devices):
        yield diagnose(
            ("training", "batch_size"),
            f"batch_size is the global batch, split evenly over the {len(devices)} devices of "
            f"training.distribution; {batch} is not a multiple of {len(devices)}: use e.g. "
            f"{batch + len(devices) - batch % len(devices)}",
        )


def check_column_groups(spec: Spec, graph: Graph, diagnose: Diagnose) -> Iterator[Diagnostic]:
    """A CSV's ``inputs``: one group of columns per model input, as many as its width."""
    groups = spec.data.inputs if spec.data is not None else None
    if not groups:
        return
    names = [given.name for given in graph.inputs] if graph.functional else [graph.input_name]
    shapes = (
        [given.shape[1:] for given in graph.inputs]
        if graph.functional
        else [tuple(spec.model.input.shape)]
    )
    for name in groups:
        if name not in names:
            yield diagnose(
                ("data", "inputs", name),
                f"the model has no input {name!r}; its inputs are {', '.join(names)}",
            )
    for name, shape in zip(names, shapes, strict=True):
        columns = groups.get(name)
        if columns is None:
            yield diagnose(("data", "inputs"), f"model input {name!r} is given no columns")
        elif len(shape) != 1 or shape[0] not in (None, len(columns)):
            yield diagnose(
                ("data", "inputs", name),
                f"{len(columns)} column(s) feed input {name!r} of shape {list(shape)}; "
                f"make its shape [{len(columns)}]",
            )


RULES = (
    check_several, check_data_shape, check_labels, check_final_activation, check_callbacks,
    check_distribution, check_fine_tune, check_weights, check_strings, check_column_groups,
)  # fmt: skip


def run_checks(spec: Spec, graph: Graph, diagnose: Diagnose) -> list[Diagnostic]:
    """Every cross-field diagnostic for a spec whose shapes resolved."""
    return [d for rule in RULES for d in rule(spec, graph, diagnose)]
