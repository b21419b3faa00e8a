"""The spec language as Pydantic models: what a spec may say, field by field.

Layers are a discriminated union on ``type`` (the Keras class name); every other key is a
Keras constructor argument, with Keras' own default. ``extra="forbid"`` everywhere so a
misspelled key is an error, and ``strict=True`` so YAML's ``"3"`` is not quietly an int.
Rules that need more than one field live in :mod:`specc.analysis.checks` and :mod:`specc.analysis.graph`.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    SerializeAsAny,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError, core_schema

from specc.layers import CATALOG, CODE_LAYERS, OPERATIONS, LayerSpec
from specc.layers.base import AnyCatalogLayer, validate_layer
from specc.terms.objects import LOSS_NAMES, METRIC_NAMES, LearningRate, LossSpec, MetricSpec
from specc.terms.values import (
    ACTIVATIONS,
    INITIALIZERS,
    Count,
    Fraction,
    Identifier,
    NonNegative,
    PosInt,
    Positive,
    Rate,
    Ref,
    Regularizer,
    Seed,
    Strict,
    finite,
)

SPEC_VERSION: Final = 1

# ---------------------------------------------------------------- value vocabularies
LOSSES = LOSS_NAMES
METRICS = METRIC_NAMES
KERAS_DATASETS = (
    "mnist", "fashion_mnist", "cifar10", "cifar100", "imdb", "reuters", "boston_housing",
    "california_housing",
)  # fmt: skip
"""The datasets of ``keras.datasets`` a spec names (docs/training.md, "Keras datasets")."""
FOLDER_DATASETS = ("image_folder", "csv", "timeseries", "audio_folder", "text_folder")
"""Data read from the user's files and streamed through tf.data (docs/training.md)."""
DISTRIBUTED_STREAMS = ("image_folder", "csv")
"""The streams that train under training.distribution and take --subset (so far)."""
DATASETS = (*KERAS_DATASETS, *FOLDER_DATASETS, "npz")
WORD_DATASETS = ("imdb", "reuters")
"""Datasets of word-id lists of different lengths: ``num_words`` applies, ``pad`` is needed."""


# ---------------------------------------------------------------------------- layers
LAYER_TYPES = CATALOG
"""Keras class name -> layer declaration (the catalog, see :mod:`specc.layers`)."""
__all__ = ["ACTIVATIONS", "CODE_LAYERS", "INITIALIZERS", "LAYER_TYPES", "Regularizer", "Spec"]


DTYPES = (
    "float32", "float16", "bfloat16", "float64", "int8", "int16", "int32", "int64", "uint8",
    "uint16", "uint32", "uint64", "bool", "string",
)  # fmt: skip


class Input(Strict):
    """The model's input, as ``keras.Input`` takes it."""

    shape: Annotated[list[PosInt | None], Field(min_length=1)] = Field(
        description="Input shape without the batch axis, e.g. [28, 28, 1]; null for a size "
        "known only at run time, e.g. [null, 71] for sequences of any length."
    )
    dtype: Literal[DTYPES] = Field(  # type: ignore[valid-type]  # Literal over a tuple of names; Pydantic reads it at runtime
        default="float32",
        description="int32 for token ids (Embedding inputs); string for text and categories "
        "(a StringLookup, TextVectorization or Hashing layer must take it).",
    )
    name: Identifier | None = Field(
        default=None, description="The input layer's name (Keras' default: input_layer)."
    )


class NamedInput(Input):
    """One of a graph spec's inputs (``model.inputs``); its name is what layers refer to."""

    name: Identifier | None = Field(
        default=None,
        description="The input's name, which layers' inputs refer to (Keras' default: "
        "input_layer, input_layer_1, ...).",
    )


class Apply(Strict):
    """A layer declared above, called again (shared weights, as in a siamese net)."""

    apply: Identifier = Field(description="The name of the layer to call again.")
    inputs: Annotated[list[Ref], Field(min_length=1)] = Field(
        default=None,  # type: ignore[arg-type]  # None means not set; '| None' would accept null and change the JSON Schema
        description="What this call takes; default: the layer before it.",
    )
    as_: Identifier = Field(  # type: ignore[assignment]  # None means 'not set' (Pydantic keeps the default unvalidated)
        default=None,
        alias="as",
        description="A name for this call's output, for other layers' inputs to refer to.",
    )


def _weights_file(value: str) -> str:
    if value != "imagenet" and not value.endswith((".weights.h5", ".h5")):
        raise ValueError(
            f"must be a weights file ending in .weights.h5 (or a legacy .h5), got {value!r}"
        )
    return value


WeightsFile = Annotated[
    str,
    AfterValidator(_weights_file),
    WithJsonSchema({"type": "string", "pattern": r"(\.h5|^imagenet)$"}),
]
"""A weights file's path (``.weights.h5``/``.h5``), or ``imagenet`` for a keras.applications
backbone (from Keras' cache, offline)."""


class UseModel(Strict):
    """A sub-model of models: built here and called as one layer (tower = make_tower())."""

    model: Identifier = Field(description="The sub-model to build and call (a key of models).")
    name: Identifier = Field(  # type: ignore[assignment]  # None means 'not set' (Pydantic keeps the default unvalidated)
        default=None,
        description="The Keras name of this sub-model where it is not the one models: gives "
        "(a second, separately weighted copy needs its own).",
    )
    inputs: Annotated[list[Ref], Field(min_length=1)] = Field(
        default=None,  # type: ignore[arg-type]  # None means not set; '| None' would accept null and change the JSON Schema
        description="What the sub-model takes, one tensor per input of it; default: the "
        "layer before it.",
    )
    as_: Identifier = Field(  # type: ignore[assignment]  # None means 'not set' (Pydantic keeps the default unvalidated)
        default=None,
        alias="as",
        description="A name for this call's output, for other layers' inputs to refer to.",
    )
    trainable: bool = Field(
        default=True,
        description="false freezes every weight of the sub-model (model.trainable = False).",
    )
    weights: WeightsFile | None = Field(
        default=None,
        description="A weights file (.weights.h5 as model.save_weights writes it, or a legacy "
        ".h5) loaded into the sub-model once it is built; a relative path is taken from the "
        "spec's folder. Checked to exist before TensorFlow loads. null: Keras' initial weights.",
    )
    training: bool | None = Field(
        default=None,
        description="The call's training argument: base(x, training=False) as the "
        "transfer-learning tutorial writes it. (Keras 3.15's fit passes training=True over "
        "it, keras-team/keras#20285: a frozen base's BatchNormalization runs in inference "
        "mode because it is frozen; specc trains as Keras does.)",
    )


class Backbone(BaseModel):
    """A keras.applications model by name, as one layer: {type: MobileNetV2, weights: null}."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True, defer_build=True)
    type: str = Field(description="The application's name in keras.applications (VGG16, ...).")
    trainable: bool = Field(
        default=True, description="false freezes all its weights (base_model.trainable = False)."
    )
    inputs: Annotated[list[Ref], Field(min_length=1)] = Field(
        default=None,  # type: ignore[arg-type]  # None means not set; '| None' would accept null and change the JSON Schema
        description="What the backbone takes; default: the layer before it.",
    )
    training: bool | None = Field(
        default=None,
        description="The call's training argument: base_model(x, training=False) as the "
        "transfer-learning tutorial writes it (see {model: ...} entries).",
    )
    as_: Identifier = Field(  # type: ignore[assignment]  # None means 'not set' (Pydantic keeps the default unvalidated)
        default=None,
        alias="as",
        description="A name for this call's output, for other layers' inputs to refer to.",
    )

    @property
    def arguments(self) -> dict[str, Any]:
        """The keras.applications arguments written (include_top, weights, input_shape...)."""
        return dict(self.model_extra or {})


def is_application(tag: Any) -> bool:
    """Whether a ``type`` names a keras.applications model (and no catalog layer)."""
    if not isinstance(tag, str) or tag in CATALOG:
        return False
    from specc.applications import NAMES

    return tag in NAMES


def _entry(value: Any) -> LayerSpec | Apply | UseModel | Backbone:
    """A layer entry: ``{apply: name, ...}`` calls a layer again, ``{model: name, ...}``
    builds and calls a sub-model, else a catalog layer."""
    if isinstance(value, dict) and "type" not in value:
        if "apply" in value:
            return Apply.model_validate(value)
        if "model" in value:
            return UseModel.model_validate(value)
    if isinstance(value, dict) and is_application(value.get("type")):
        return Backbone.model_validate(value)
    return validate_layer(value)


class _Entry:
    """JSON Schema of a ``model.layers`` entry: a catalog layer, or an ``apply`` entry."""

    @classmethod
    def __get_pydantic_json_schema__(cls, _schema: Any, handler: Any) -> Any:
        layer = AnyCatalogLayer.__get_pydantic_json_schema__(_schema, handler)
        Apply.model_rebuild()
        UseModel.model_rebuild()
        apply = handler.generate_json_schema.generate_inner(Apply.__pydantic_core_schema__)
        ops = list(dict.fromkeys(OPERATIONS.values()))
        for op in ops:
            op.model_rebuild()
        union = core_schema.union_schema(
            [op.__pydantic_core_schema__ for op in ops], ref="Operation"
        )
        operation = handler.generate_json_schema.generate_inner(union)
        use = handler.generate_json_schema.generate_inner(UseModel.__pydantic_core_schema__)
        Backbone.model_rebuild()
        backbone = handler.generate_json_schema.generate_inner(Backbone.__pydantic_core_schema__)
        return {"anyOf": [layer, apply, operation, use, backbone]}


Entry = Annotated[
    LayerSpec | Apply | UseModel | Backbone, PlainValidator(_entry), SerializeAsAny(), _Entry
]
"""The type of a ``model.layers`` entry."""


KERAS_NAME_PATTERN = r"^[^/\x00-\x1f\x7f]+$"
"""What Keras takes as a model name: any text without ``/`` (control characters aside)."""


class Model(Strict):
    name: Annotated[str, Field(min_length=1, max_length=200, pattern=KERAS_NAME_PATTERN)] | None = (
        Field(
            default=None,
            description="The Keras model's name where it is not the spec's name (one that is "
            "no Python identifier, e.g. 3dcnn); default: the spec's name.",
        )
    )
    input: Input = Field(  # type: ignore[assignment]  # None means 'not set' (Pydantic keeps the default unvalidated)
        default=None, description="The model's one input (a graph spec may give inputs)."
    )
    inputs: Annotated[list[NamedInput], Field(min_length=1)] = Field(
        default=None,  # type: ignore[arg-type]  # None means not set; '| None' would accept null and change the JSON Schema
        description="A graph's inputs, each named for the layers' inputs to refer to; "
        "instead of input.",
    )
    layers: Annotated[list[Entry], Field(min_length=1)]
    outputs: (
        Annotated[list[Ref], Field(min_length=1)]
        | Annotated[dict[Identifier, Ref], Field(min_length=1)]
    ) = Field(  # type: ignore[assignment]  # None means not set; '| None' would accept null and change the JSON Schema
        default=None,
        description="The model's outputs, by layer name (lstm.1: output 1 of a layer with "
        "several outputs); default: the last layer. A mapping {name: layer} gives them "
        "as keras.Model(inputs, {name: tensor}) does: named by its keys, in their sorted "
        "order.",
    )

    @property
    def output_refs(self) -> list[tuple[str | None, Ref]]:
        """``outputs`` as (key, reference) in Keras' order: a mapping's keys sorted, as
        Keras flattens a dict of outputs; no key for a list."""
        if isinstance(self.outputs, dict):
            return sorted(self.outputs.items())
        return [(None, ref) for ref in self.outputs or []]

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [{"required": ["input"]}, {"required": ["inputs"]}],
        }
    )

    @model_validator(mode="before")
    @classmethod
    def _input_or_inputs(cls, data: Any) -> Any:
        """``input`` or ``inputs`` is required (both: refused at ``inputs``)."""
        if isinstance(data, dict) and "input" not in data and "inputs" not in data:
            raise PydanticCustomError("missing_input", "needs input (or inputs, a list)")
        return data

    @field_validator("inputs")
    @classmethod
    def _not_both(cls, value: list[NamedInput], info: ValidationInfo) -> list[NamedInput]:
        if info.data.get("input") is not None:
            raise ValueError(
                "give either input (one input) or inputs (a list of named inputs), not both"
            )
        return value

    @property
    def model_inputs(self) -> list[Input]:
        """The inputs as a list, whichever way the spec gave them."""
        return list(self.inputs) if self.inputs is not None else [self.input]


# --------------------------------------------------------------------------- compile
CLIPS = ("clipnorm", "clipvalue", "global_clipnorm")


class _Optimizer(Strict):
    KIND: ClassVar[str] = "optimizers"
    model_config = ConfigDict(
        json_schema_extra={
            "not": {
                "anyOf": [
                    {
                        "required": [a, b],
                        "properties": {a: {"type": "number"}, b: {"type": "number"}},
                    }
                    for i, a in enumerate(CLIPS)
                    for b in CLIPS[i + 1 :]
                ]
            }
        }
    )
    learning_rate: LearningRate = 0.001
    weight_decay: NonNegative | None = None
    clipnorm: Positive | None = None
    clipvalue: Positive | None = None
    global_clipnorm: Positive | None = None

    @field_validator("clipvalue", "global_clipnorm")
    @classmethod
    def _one_clip(cls, value: float | None, info: ValidationInfo) -> float | None:
        """Keras takes at most one of the three; reported at the second one, in file order."""
        earlier = [k for k in CLIPS[: CLIPS.index(info.field_name)] if info.data.get(k) is not None]
        if value is not None and earlier:
            raise ValueError(
                f"{earlier[0]} is already set; Keras takes only one of clipnorm, clipvalue "
                "and global_clipnorm"
            )
        return value


class SGD(_Optimizer):
    type: Literal["SGD"]
    learning_rate: LearningRate = 0.01
    momentum: Fraction = 0.0
    nesterov: bool = False


class RMSprop(_Optimizer):
    type: Literal["RMSprop"]
    rho: Fraction = 0.9
    momentum: Fraction = 0.0
    epsilon: Positive = 1e-07
    centered: bool = False


class _AdamLike(_Optimizer):
    beta_1: Rate = 0.9
    beta_2: Rate = 0.999
    epsilon: Positive = 1e-07


class Adam(_AdamLike):
    type: Literal["Adam"]
    amsgrad: bool = False


class AdamW(_AdamLike):
    type: Literal["AdamW"]
    weight_decay: NonNegative = 0.004
    amsgrad: bool = False


class Adamax(_AdamLike):
    type: Literal["Adamax"]


class Nadam(_AdamLike):
    type: Literal["Nadam"]


class Adagrad(_Optimizer):
    type: Literal["Adagrad"]
    initial_accumulator_value: NonNegative = 0.1
    epsilon: Positive = 1e-07


class Adadelta(_Optimizer):
    type: Literal["Adadelta"]
    rho: Fraction = 0.95
    epsilon: Positive = 1e-07


OPTIMIZER_CLASSES = (SGD, RMSprop, Adam, AdamW, Adamax, Nadam, Adagrad, Adadelta)
OPTIMIZER_NAMES = {cls.__name__.lower(): cls.__name__ for cls in OPTIMIZER_CLASSES}
"""Keras' string names (``"rmsprop"``) to class names (``"RMSprop"``)."""


def _optimizer_by_name(value: Any) -> Any:
    """``optimizer: rmsprop`` is shorthand for ``{type: RMSprop}`` with Keras defaults.

    Any case, as Keras' ``optimizers.get`` ("case-insensitive for built-in optimizers")."""
    if isinstance(value, str):
        return {"type": OPTIMIZER_NAMES.get(value.lower(), value)}
    return value


def _any_case(word: str) -> str:
    """A regex matching ``word`` in any case, without flags (JSON Schema has none).

    >>> _any_case("SGD")
    '[Ss][Gg][Dd]'
    """
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word)


OPTIMIZER_NAME_SCHEMA = {
    "type": "string",
    "pattern": "^(?:" + "|".join(map(_any_case, OPTIMIZER_NAMES)) + ")(?!\\n)$",
    "examples": sorted({*OPTIMIZER_NAMES, *OPTIMIZER_NAMES.values()}),
}
"""What ``optimizer:`` takes as a string, for JSON Schema: a name in any case."""


Optimizer = Annotated[
    SGD | RMSprop | Adam | AdamW | Adamax | Nadam | Adagrad | Adadelta,
    Field(discriminator="type"),
    BeforeValidator(_optimizer_by_name),
]


class _NoTypeKey:
    """JSON Schema of a per-output mapping: one without a ``type`` key (that is an object)."""

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> Any:
        return {**handler(schema), "not": {"required": ["type"]}}


def _loss_form(value: Any) -> str:
    """A mapping without ``type`` gives a loss per output; anything else is one loss.
    (Tags that are no identifiers, so never taken for an output's name in a location.)"""
    if value is None:
        return "none"  # the layers add their own losses (add_loss)
    return "per-output" if isinstance(value, dict) and "type" not in value else "one-loss"


def _metrics_form(value: Any) -> str:
    return "per-output" if isinstance(value, dict) else "one-list"


PerOutputLoss = Annotated[
    Annotated[LossSpec, Tag("one-loss")]
    | Annotated[dict[Identifier, LossSpec], Tag("per-output"), _NoTypeKey]
    | Annotated[SkipJsonSchema[None], Tag("none")],
    Discriminator(_loss_form),
]
"""One loss (one output), or ``{output name: loss}`` for a model with several outputs,
as ``model.compile(loss={...})`` takes it."""
PerOutputMetrics = Annotated[
    Annotated[list[MetricSpec], Tag("one-list")]
    | Annotated[dict[Identifier, list[MetricSpec]], Tag("per-output")],
    Discriminator(_metrics_form),
]
"""Metrics of the one output, or ``{output name: [metrics]}`` (Keras refuses one flat list
for several outputs)."""
PerOutputWeights = Annotated[
    Annotated[list[NonNegative], Tag("one-list")]
    | Annotated[dict[Identifier, NonNegative], Tag("per-output")],
    Discriminator(_metrics_form),
]
"""``loss_weights`` as ``model.compile`` takes them: a list in the order of the outputs, or
``{output name: weight}`` (Keras looks each output's weight up by its name)."""


def _or_null(schema: dict[str, Any]) -> None:
    """``null`` too, as an outer ``if`` (not ``anyOf``), so validators still name the
    mistake inside a loss rather than "not valid under any of the given schemas"."""
    rest = {k: schema.pop(k) for k in list(schema) if k not in ("description", "title")}
    schema.update({"if": {"type": "null"}, "then": {"type": "null"}, "else": rest})


class Compile(Strict):
    optimizer: Optimizer = Field(default_factory=lambda: RMSprop(type="RMSprop"))
    loss: PerOutputLoss = Field(
        json_schema_extra=_or_null,
        description="A loss name (categorical_crossentropy, mse, ...) or an object such as "
        "{type: SparseCategoricalCrossentropy, from_logits: true}; for a model with several "
        "outputs, a mapping output name -> loss, one per output; null where the model's "
        "layers add their own losses (add_loss: a plugin's CTC layer).",
    )
    metrics: PerOutputMetrics = Field(
        default_factory=list,
        description="Metrics; for a model with several outputs, a mapping output name -> list.",
    )
    weighted_metrics: PerOutputMetrics | None = None
    loss_weights: PerOutputWeights | None = Field(
        default=None,
        description="Scales each output's loss in the total: a list, one weight per output in "
        "the order of the outputs, or a mapping output name -> weight (one per output).",
    )


# -------------------------------------------------------------------------- training
Mode = Literal["auto", "min", "max"]


class EarlyStopping(Strict):
    KIND: ClassVar[str] = "callbacks"
    type: Literal["EarlyStopping"]
    monitor: str = "val_loss"
    min_delta: NonNegative = 0.0
    patience: Count = 0
    mode: Mode = "auto"
    restore_best_weights: bool = False
    start_from_epoch: Count = 0


class ReduceLROnPlateau(Strict):
    KIND: ClassVar[str] = "callbacks"
    type: Literal["ReduceLROnPlateau"]
    monitor: str = "val_loss"
    factor: finite(gt=0, lt=1) = 0.1  # type: ignore[valid-type]  # finite() builds a Pydantic type; mypy cannot evaluate calls
    patience: Count = 10
    mode: Mode = "auto"
    min_delta: NonNegative = 0.0001
    cooldown: Count = 0
    min_lr: NonNegative = 0.0


Callback = Annotated[EarlyStopping | ReduceLROnPlateau, Field(discriminator="type")]


TF_DEVICE_PATTERN = r"^/(?:device:)?(?:cpu|gpu|CPU|GPU):[0-9]+$"
"""A local TensorFlow device as tf.distribute names it: /gpu:0, /cpu:1, /device:GPU:0."""
KERAS_DEVICE_PATTERN = r"^(?:cpu|gpu|tpu):[0-9]+$"
"""A device as keras.distribution.list_devices() names it: gpu:0, cpu:1."""


class Mirrored(Strict):
    """Synchronous data parallelism on one machine's devices (tf.distribute.MirroredStrategy)."""

    strategy: Literal["mirrored"]
    devices: Annotated[
        list[Annotated[str, Field(pattern=TF_DEVICE_PATTERN)]], Field(min_length=1)
    ] = Field(
        default=None,  # type: ignore[arg-type]  # None means not set; '| None' would accept null and change the JSON Schema
        description='The devices to replicate on, e.g. ["/gpu:0", "/gpu:1"]; default: every '
        "local GPU (the CPU if there is none). Needs the tensorflow backend.",
    )

    @field_validator("devices")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        seen = [d.lower().replace("/device:", "/") for d in value]
        twice = next((d for i, d in enumerate(value) if seen[i] in seen[:i]), None)
        if twice is not None:
            raise ValueError(f"{twice!r} is listed twice; each device holds one replica")
        return value


class MultiWorkerMirrored(Strict):
    """Synchronous data parallelism across machines (tf.distribute.MultiWorkerMirroredStrategy).

    Every worker runs the same ``specc train`` (or emitted script) with its own ``TF_CONFIG``."""

    strategy: Literal["multi_worker_mirrored"]
    communication: Literal["auto", "ring", "nccl"] = Field(
        default="auto",
        description="How gradients are all-reduced: ring (gRPC, CPUs), nccl (GPUs), auto: "
        "TensorFlow's choice. The cluster comes from $TF_CONFIG. Needs the tensorflow backend.",
    )


class DataParallel(Strict):
    """Data parallelism on the JAX backend (keras.distribution.DataParallel)."""

    strategy: Literal["data_parallel"]
    devices: Annotated[
        list[Annotated[str, Field(pattern=KERAS_DEVICE_PATTERN)]], Field(min_length=1)
    ] = Field(
        default=None,  # type: ignore[arg-type]  # None means not set; '| None' would accept null and change the JSON Schema
        description='Devices as Keras lists them, e.g. ["gpu:0", "gpu:1"]; default: every '
        "device JAX sees. Needs the jax backend.",
    )

    @field_validator("devices")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        twice = next((d for i, d in enumerate(value) if d in value[:i]), None)
        if twice is not None:
            raise ValueError(f"{twice!r} is listed twice; each device holds one replica")
        return value


Distribution = Annotated[
    Mirrored | MultiWorkerMirrored | DataParallel, Field(discriminator="strategy")
]
STRATEGIES = {
    "mirrored": "tensorflow",
    "multi_worker_mirrored": "tensorflow",
    "data_parallel": "jax",
}
"""Each strategy and the backend whose engine runs it."""


class Unfreeze(Strict):
    """Which layers of a frozen sub-model fine-tuning trains again."""

    model: str | None = Field(
        default=None,
        description="The frozen sub-model (its name in the summary, e.g. "
        "mobilenetv2_1.00_160); default: the model's one sub-model with trainable: false.",
    )
    from_: str | Annotated[int, Field(ge=0)] = Field(
        alias="from",
        description="The first layer trained again: its name in the sub-model, or its index "
        "in the sub-model's layers (the tutorial's fine_tune_at = 100); the layers before it "
        "stay frozen, the rest are trained.",
    )


class FineTune(Strict):
    """A second training phase: the frozen base unfrozen from a layer on, at a lower rate.

    As the TensorFlow transfer-learning tutorial fine-tunes: after training.epochs, unfreeze
    the top of the base model, compile again at a lower learning rate, train on from the
    epoch the first phase ended."""

    unfreeze: Unfreeze
    epochs: PosInt = Field(description="Epochs of the second phase (after training.epochs).")
    learning_rate: Positive = Field(
        description="The optimizer's learning rate for the second phase (the spec's "
        "optimizer otherwise unchanged), usually about 10x lower."
    )


class Training(Strict):
    epochs: PosInt = 1
    batch_size: PosInt = Field(
        default=32,
        description="Samples per training step. With training.distribution it is the GLOBAL "
        "batch: split evenly over all replicas (so divisible by their number).",
    )
    validation_split: Rate = 0.0
    shuffle: bool = True
    seed: Seed | None = None
    callbacks: list[Callback] = Field(default_factory=list)
    distribution: Distribution | None = Field(
        default=None,
        description="Train on several devices or machines: {strategy: mirrored} (one "
        "machine's GPUs), {strategy: multi_worker_mirrored} (several machines, $TF_CONFIG), "
        "{strategy: data_parallel} (jax). The model and batch_size (global) stay as they are.",
    )
    fine_tune: FineTune | None = Field(
        default=None,
        description="Fine-tuning after the first epochs: {unfreeze: {from: LAYER}, epochs: N, "
        "learning_rate: X} unfreezes a frozen sub-model from LAYER on and trains N more "
        "epochs at learning rate X.",
    )


# ------------------------------------------------------------------------------ data
class ReshapeStep(Strict):
    reshape: Annotated[list[PosInt], Field(min_length=1)]


class CastStep(Strict):
    cast: Literal["float16", "float32", "float64"]


class DivideStep(Strict):
    divide: Positive


class PadStep(Strict):
    pad: PosInt = Field(
        description="keras.utils.pad_sequences(x, maxlen=N): each list of word ids becomes N "
        "ids, shorter ones padded with 0 in front, longer ones keeping their last N."
    )


class OneHotStep(Strict):
    one_hot: PosInt = Field(description="Number of classes.")


STEP_KEYS = ("reshape", "cast", "divide", "pad")


def _step_tag(value: Any) -> str | None:
    """Each step is a one-key mapping; the key names the step (a model when serialising)."""
    keys = (
        value
        if isinstance(value, dict)
        else type(value).model_fields
        if isinstance(value, BaseModel)
        else ()
    )
    return next((k for k in keys if k in STEP_KEYS), None)


XStep = Annotated[
    Annotated[ReshapeStep, Tag("reshape")]
    | Annotated[CastStep, Tag("cast")]
    | Annotated[DivideStep, Tag("divide")]
    | Annotated[PadStep, Tag("pad")],
    Discriminator(
        _step_tag,
        custom_error_type="unknown_step",
        custom_error_message="each x step is one of {reshape: [...]}, {cast: float32}, "
        "{divide: 255}, {pad: 200}",
    ),
]


def _x_form(value: Any) -> str:
    """A mapping gives steps per input (a model with several), a list the one input's."""
    return "per-input" if isinstance(value, dict) else "one-list"


def _y_form(value: Any) -> str:
    return "per-output" if isinstance(value, dict) else "one-list"


class Preprocessing(Strict):
    """What happens to the arrays between loading and ``fit``, in order."""

    x: Annotated[
        Annotated[list[XStep], Tag("one-list")]
        | Annotated[dict[Identifier, list[XStep]], Tag("per-input")],
        Discriminator(_x_form),
    ] = Field(
        default_factory=list,
        description="Steps applied to the images; for a model with several inputs, a mapping "
        "input name -> steps.",
    )
    y: Annotated[
        Annotated[list[OneHotStep], Tag("one-list")]
        | Annotated[dict[Identifier, list[OneHotStep]], Tag("per-output")],
        Discriminator(_y_form),
    ] = Field(
        default_factory=list,
        description="Steps applied to the labels; for a model with several outputs, a mapping "
        "output name -> steps.",
    )

    def x_steps(self, name: str | None = None) -> list[Any]:
        """The steps of input ``name`` (None: the one input's)."""
        return self.x if isinstance(self.x, list) else self.x.get(name or "", [])

    def y_steps(self, name: str | None = None) -> list[OneHotStep]:
        """The steps of output ``name`` (None: the one output's)."""
        return self.y if isinstance(self.y, list) else self.y.get(name or "", [])


def _series_and_audio_keys(data: Data) -> None:
    """The keys of a time series and of an audio folder, each on its own dataset only."""
    series = [k for k in ("targets", "sequence_length", "offset", "target_steps", "normalize")
              if getattr(data, k) is not None]  # fmt: skip
    if series and data.dataset != "timeseries":
        raise ValueError(f"{', '.join(series)} apply to timeseries, not {data.dataset}")
    if data.output_sequence_length is not None and data.dataset != "audio_folder":
        raise ValueError(f"output_sequence_length applies to audio_folder, not {data.dataset}")
    if data.sampling_rate is not None and data.dataset not in ("timeseries", "audio_folder"):
        raise ValueError(
            f"sampling_rate applies to timeseries and audio_folder, not {data.dataset}"
        )
    if data.dataset == "timeseries" and not data.targets:
        raise ValueError("dataset 'timeseries' needs 'targets': the column(s) to predict")
    if data.dataset in ("timeseries", "audio_folder") and data.preprocessing.x:
        raise ValueError(
            f"{data.dataset} data takes no x steps; scale in the model (e.g. a Normalization "
            "layer, adapted on the training part)"
        )
    if data.dataset == "timeseries" and data.preprocessing.y:
        raise ValueError("timeseries targets take no y steps: they are numbers to regress")


class Data(Strict):
    dataset: Literal[DATASETS]  # type: ignore[valid-type]  # Literal over a tuple of names; Pydantic reads it at runtime
    path: str | None = Field(
        default=None,
        description="A local .npz with x_train, y_train, x_test, y_test "
        "(required for dataset: npz; for a Keras dataset it replaces Keras' files).",
    )
    num_words: PosInt | None = Field(
        default=None,
        description="imdb, reuters: keep the N most frequent words; rarer ones become 2 "
        "(out of vocabulary), as keras.datasets' num_words.",
    )
    label_mode: Literal["fine", "coarse"] | None = Field(
        default=None, description="cifar100: 100 fine classes (default) or 20 coarse ones."
    )
    image_size: Annotated[list[PosInt], Field(min_length=2, max_length=2)] | None = Field(
        default=None,
        description="image_folder: [height, width] every image is resized to (default: the "
        "model input's).",
    )
    color_mode: Literal["grayscale", "rgb", "rgba"] | None = Field(
        default=None,
        description="image_folder: 1, 3 or 4 channels, each image converted to it (default: "
        "the model input's channels; images of mixed channels are refused unless it is set).",
    )
    cache: Literal["auto", "memory", "file", "none"] | None = Field(
        default=None,
        description="image_folder: keep the decoded images after the first epoch. auto: in "
        "memory when they take at most a quarter of the machine's memory, else in a file "
        "in the run folder.",
    )
    label: str | None = Field(
        default=None, description="csv: the label column (class indices, or numbers to regress)."
    )
    features: Annotated[list[str], Field(min_length=1)] | None = Field(
        default=None,
        description="csv: the numeric feature columns, in the order the model takes them "
        "(default: every column but the label and the categorical ones). timeseries: the "
        "columns of each window, in that order (default: every column).",
    )
    categorical: list[str] = Field(
        default_factory=list,
        description="csv: columns of categories (text or codes), each one-hot encoded by a "
        "StringLookup adapted on the training rows, after the numeric features.",
    )
    test_split: Fraction | None = Field(
        default=None,
        description="csv, timeseries: the last fraction of the rows tests (default 0.2).",
    )
    targets: Annotated[list[str], Field(min_length=1)] | None = Field(
        default=None,
        description="timeseries: the column(s) to predict, `offset` rows after each window.",
    )
    sequence_length: PosInt | None = Field(
        default=None,
        description="timeseries: rows (time steps) per window (default: the model input's "
        "first dimension).",
    )
    sampling_rate: PosInt | None = Field(
        default=None,
        description="timeseries: a window takes every N-th row (Keras' sampling_rate, "
        "default 1). audio_folder: the WAVs' sample rate in Hz, checked (every file must "
        "have it; nothing is resampled).",
    )
    offset: Annotated[int, Field(ge=0)] | None = Field(
        default=None,
        description="timeseries: the target is this many rows after the window's last row "
        "(default 1: the next row; 0: the last row itself).",
    )
    target_steps: PosInt | None = Field(
        default=None,
        description="timeseries: predict this many consecutive rows of the targets, the first "
        "`offset` rows after the window's last row (the model's output is then [target_steps, "
        "targets]; default: one row, an output of [targets]).",
    )
    normalize: Literal["train", "none"] | None = Field(
        default=None,
        description="timeseries: train (default): every column standardised by the training "
        "rows' mean and standard deviation, as the Keras and TensorFlow weather tutorials "
        "do; none: raw values (normalise in the model: an adapted Normalization).",
    )
    output_sequence_length: PosInt | None = Field(
        default=None,
        description="audio_folder: samples per clip, shorter ones padded with zeros and "
        "longer ones cut (default: the model input's first dimension).",
    )
    inputs: dict[Identifier, Annotated[list[str], Field(min_length=1)]] | None = Field(
        default=None,
        description="csv: the columns each model input takes, by input name ({city: [city], "
        "numbers: [age, chol]}), stacked in order: as strings for a dtype string input, "
        "integers for an int one, else numbers (instead of features and categorical).",
    )
    preprocessing: Preprocessing = Field(default_factory=Preprocessing)

    model_config = ConfigDict(
        json_schema_extra={
            "if": {
                "properties": {"dataset": {"enum": ["npz", *FOLDER_DATASETS]}},
                "required": ["dataset"],
            },
            "then": {
                "required": ["path"],
                "properties": {
                    "path": {
                        "type": "string",
                        "minLength": 1,
                        "description": "dataset: npz needs the path of its .npz file, "
                        "csv and timeseries that of their CSV file, image_folder, "
                        "audio_folder and text_folder that of their folder.",
                    }
                },
            },
        }
    )

    @model_validator(mode="after")
    def _npz_needs_path(self) -> Data:
        if self.dataset == "npz" and not self.path:
            raise ValueError("dataset 'npz' needs 'path' to the .npz file")
        if self.dataset in FOLDER_DATASETS and not self.path:
            what = "CSV file" if self.dataset in ("csv", "timeseries") else "folder"
            raise ValueError(f"dataset '{self.dataset}' needs 'path' to its {what}")
        stated = [k for k in ("image_size", "color_mode", "cache") if getattr(self, k) is not None]
        if stated and self.dataset != "image_folder":
            raise ValueError(f"{', '.join(stated)} apply to image_folder, not {self.dataset}")
        table = [k for k in ("label", "categorical", "inputs") if getattr(self, k)]
        table += [k for k in ("features", "test_split") if getattr(self, k) is not None]
        shared = ("features", "test_split") if self.dataset == "timeseries" else ()
        if self.dataset != "csv" and [k for k in table if k not in shared]:
            raise ValueError(f"{', '.join(table)} apply to csv, not {self.dataset}")
        _series_and_audio_keys(self)
        if self.dataset == "csv" and not self.label:
            raise ValueError("dataset 'csv' needs 'label': the name of the label column")
        if self.inputs and (self.features or self.categorical):
            raise ValueError(
                "inputs gives each model input its columns; features and categorical feed one "
                "input: give one or the other"
            )
        if self.dataset == "csv" and self.preprocessing.x:
            raise ValueError(
                "csv rows take no x steps; scale features in the model (e.g. a Normalization "
                "layer, adapted on the training rows)"
            )
        if self.num_words is not None and self.dataset not in WORD_DATASETS:
            raise ValueError(
                f"num_words applies to imdb and reuters, not {self.dataset}; remove it"
            )
        if self.label_mode is not None and self.dataset != "cifar100":
            raise ValueError(f"label_mode applies to cifar100, not {self.dataset}; remove it")
        return self

    def keras_arguments(self) -> dict[str, Any]:
        """What ``keras.datasets.<dataset>.load_data`` is called with (what the spec sets)."""
        return {
            k: v for k, v in (("num_words", self.num_words), ("label_mode", self.label_mode))
            if v is not None
        }  # fmt: skip


# --------------------------------------------------------------------------- runtime
class Runtime(Strict):
    """How to run training fast. Never changes the model, optimizer, batch size or epochs.

    ``auto`` picks what measured fastest for the backend and device (see docs/training.md, "Runtime").
    """

    backend: Literal["auto", "tensorflow", "jax", "torch"] = Field(
        default="auto", description="auto: $KERAS_BACKEND if set, else tensorflow."
    )
    jit_compile: Literal["auto"] | bool = Field(
        default="auto",
        description="XLA. auto: off on CPU (measured 2.5-4x slower there), Keras' choice on GPU.",
    )
    steps_per_execution: Literal["auto"] | PosInt = Field(
        default="auto",
        description="Training steps per compiled call. auto: chosen per backend and device.",
    )
    loop: Literal["auto", "fit", "fused"] = Field(
        default="auto",
        description="fit: Keras' model.fit. fused (jax only): the data resident on the device and "
        "a whole epoch per compiled call through Keras' stateless API. auto: fused on a jax GPU.",
    )


# ------------------------------------------------------------------------------ spec
class Spec(Strict):
    """A model and how to train it."""

    specc: Literal[1] = SPEC_VERSION
    name: Identifier = Field(
        description="The spec's name, and the model's and the run's (a Python identifier "
        "that is not a keyword)."
    )
    description: str | None = None
    data: Data | None = None
    models: dict[Identifier, Model] | None = Field(
        default=None,
        description="Sub-models by name, each written as model: is (input or inputs, "
        "layers, outputs); an entry {model: NAME} of model.layers builds one and calls it "
        "as one layer (its Keras name: NAME, or its own name:).",
    )
    model: Model
    compile: Compile | None = None
    training: Training | None = None
    runtime: Runtime = Field(default_factory=Runtime)
