"""The spec language as Pydantic models: what a spec may say, field by field.

Layers are a discriminated union on ``type`` (the Keras class name); every other key is a
Keras constructor argument, with Keras' own default. ``extra="forbid"`` everywhere so a
misspelled key is an error, and ``strict=True`` so YAML's ``"3"`` is not quietly an int.
Rules that need more than one field live in :mod:`specc.checks` and :mod:`specc.graph`.
"""

from __future__ import annotations

import keyword
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

SPEC_VERSION = 1

# ---------------------------------------------------------------- value vocabularies
ACTIVATIONS = (
    "celu", "elu", "exponential", "gelu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish",
    "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus",
    "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh",
    "tanh_shrink",
)  # fmt: skip
INITIALIZERS = (
    "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "lecun_normal",
    "lecun_uniform", "ones", "orthogonal", "random_normal", "random_uniform",
    "truncated_normal", "variance_scaling", "zeros",
)  # fmt: skip
LOSSES = (
    "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
    "categorical_focal_crossentropy", "categorical_hinge", "cosine_similarity", "hinge",
    "huber", "kl_divergence", "log_cosh", "mae", "mean_absolute_error", "mse",
    "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error",
    "poisson", "sparse_categorical_crossentropy", "squared_hinge",
)  # fmt: skip
METRICS = (
    "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "mae", "mse",
    "mean_absolute_error", "mean_squared_error", "auc", "precision", "recall",
)  # fmt: skip
DATASETS = ("mnist", "fashion_mnist", "npz")

Activation = Literal[ACTIVATIONS]  # type: ignore[valid-type]
Initializer = Literal[INITIALIZERS]  # type: ignore[valid-type]
Padding = Literal["valid", "same"]
INT64_MAX = 2**63 - 1
"""Every integer is passed to Keras, which turns it into an int64 tensor or attribute."""
SEED_MAX = 2**32 - 1
"""Seeds are 32-bit: ``keras.utils.set_random_seed`` refuses more, and so does the jax
backend's uint32 seed state for a layer's ``seed`` (tensorflow's int64 one allows 2**63 - 1)."""

PosInt = Annotated[int, Field(gt=0, le=INT64_MAX)]
Count = Annotated[int, Field(ge=0, le=INT64_MAX)]
Seed = Annotated[int, Field(ge=0, le=SEED_MAX)]
FLOAT32_MAX = 3.4028234663852886e38
"""Largest float32. Keras computes in float32: a larger learning rate becomes inf in its
variable, a larger weight_decay fails to convert when training starts."""


def _float32(value: float) -> float:
    if abs(value) > FLOAT32_MAX:
        raise PydanticCustomError(
            "finite_number", "Input should be a finite number", {"limit": FLOAT32_MAX}
        )
    return value


def finite(**bounds: float) -> Any:
    """A float Keras can use: finite and within float32's range, within ``bounds`` (gt, ge,
    lt, le). ``.inf``, ``.nan`` and ``1.0e+309`` (which YAML reads as inf) are refused: Keras
    refuses some and trains others into inf/nan weights, and none is a Python literal in
    emitted code. Every float field is one. (The validator comes last so the bounds stay
    standard JSON Schema keywords.)"""
    return Annotated[float, AllowInfNan(False), Field(**bounds), AfterValidator(_float32)]  # type: ignore[arg-type]


Rate = finite(ge=0, lt=1)
Positive = finite(gt=0)
NonNegative = finite(ge=0)
Fraction = finite(ge=0, le=1)

IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(?!\n)$"
"""ASCII identifiers (as the message says). ``(?!\n)`` because Python's ``$`` also matches
before a final newline; ECMA-262 (editors) reads it the same."""


def _identifier(value: str) -> str:
    if not (value.isascii() and value.isidentifier()) or keyword.iskeyword(value):
        raise ValueError(f"must be a Python identifier (letters, digits, _), got {value!r}")
    return value


Identifier = Annotated[
    str,
    AfterValidator(_identifier),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": IDENTIFIER_PATTERN,
            "not": {"enum": sorted(keyword.kwlist)},
            "description": "An ASCII Python identifier that is not a keyword.",
        }
    ),
]


def _spatial(rank: int, what: str = "integer") -> Any:
    """``3`` or ``[3, 3]`` as Keras accepts, normalised to a tuple of ``rank`` ints."""

    def expand(value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return (value,) * rank
        if isinstance(value, list | tuple):
            if len(value) != rank:
                raise ValueError(f"needs {rank} {what}s, got {len(value)}")
            return tuple(value)
        return value

    item = {"type": "integer", "minimum": 1, "maximum": INT64_MAX}
    schema = {"anyOf": [item, {"type": "array", "items": item, "minItems": rank, "maxItems": rank}]}
    return Annotated[
        tuple[(PosInt,) * rank],  # type: ignore[misc]
        BeforeValidator(expand),
        WithJsonSchema(schema),
    ]


Spatial1 = _spatial(1)
Spatial2 = _spatial(2)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Regularizer(Strict):
    """``{l2: 0.01}`` or ``{l1: ..., l2: ...}``."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    l1: NonNegative = 0.0
    l2: NonNegative = 0.0

    @model_validator(mode="after")
    def _some(self) -> Regularizer:
        if not self.model_fields_set:
            raise ValueError("give l1, l2 or both, e.g. {l2: 0.01}")
        return self


# ---------------------------------------------------------------------------- layers
class NamedLayer(Strict):
    """What every Keras layer takes: a name."""

    KIND: ClassVar[str] = "other"
    name: Identifier | None = None


class LayerBase(NamedLayer):
    """Layers that also take Keras' base ``trainable`` argument (through ``**kwargs``)."""

    trainable: bool = True


class _Weighted(LayerBase):
    activation: Activation | None = None
    use_bias: bool = True
    kernel_initializer: Initializer = "glorot_uniform"
    bias_initializer: Initializer = "zeros"
    kernel_regularizer: Regularizer | None = None
    bias_regularizer: Regularizer | None = None
    activity_regularizer: Regularizer | None = None


class Conv1D(_Weighted):
    KIND = "conv"
    type: Literal["Conv1D"]
    filters: PosInt
    kernel_size: Spatial1
    strides: Spatial1 = (1,)
    padding: Literal["valid", "same", "causal"] = "valid"
    dilation_rate: Spatial1 = (1,)


class Conv2D(_Weighted):
    KIND = "conv"
    type: Literal["Conv2D"]
    filters: PosInt
    kernel_size: Spatial2
    strides: Spatial2 = (1, 1)
    padding: Padding = "valid"
    dilation_rate: Spatial2 = (1, 1)


class Dense(_Weighted):
    type: Literal["Dense"]
    units: PosInt


class MaxPooling1D(LayerBase):
    KIND = "pool"
    type: Literal["MaxPooling1D"]
    pool_size: Spatial1 = (2,)
    strides: Spatial1 | None = None
    padding: Padding = "valid"


class AveragePooling1D(MaxPooling1D):
    type: Literal["AveragePooling1D"]  # type: ignore[assignment]
    pool_size: Spatial1  # required: unlike MaxPooling1D, Keras gives it no default


class MaxPooling2D(LayerBase):
    KIND = "pool"
    type: Literal["MaxPooling2D"]
    pool_size: Spatial2 = (2, 2)
    strides: Spatial2 | None = None
    padding: Padding = "valid"


class AveragePooling2D(MaxPooling2D):
    type: Literal["AveragePooling2D"]  # type: ignore[assignment]
    pool_size: Spatial2  # required: unlike MaxPooling2D, Keras gives it no default


class GlobalMaxPooling1D(LayerBase):
    KIND = "global_pool"
    type: Literal["GlobalMaxPooling1D"]
    keepdims: bool = False


class GlobalAveragePooling1D(GlobalMaxPooling1D):
    type: Literal["GlobalAveragePooling1D"]  # type: ignore[assignment]


class GlobalMaxPooling2D(GlobalMaxPooling1D):
    type: Literal["GlobalMaxPooling2D"]  # type: ignore[assignment]


class GlobalAveragePooling2D(GlobalMaxPooling1D):
    type: Literal["GlobalAveragePooling2D"]  # type: ignore[assignment]


class BatchNormalization(LayerBase):
    type: Literal["BatchNormalization"]
    axis: int = -1
    momentum: Fraction = 0.99
    epsilon: Positive = 0.001
    center: bool = True
    scale: bool = True


class LayerNormalization(LayerBase):
    type: Literal["LayerNormalization"]
    axis: int = -1
    epsilon: Positive = 0.001
    center: bool = True
    scale: bool = True


class Dropout(LayerBase):
    type: Literal["Dropout"]
    rate: Rate
    seed: Seed | None = None


class SpatialDropout1D(NamedLayer):
    """Keras' SpatialDropout layers take no ``**kwargs``, hence no ``trainable``."""

    type: Literal["SpatialDropout1D"]
    rate: Rate
    seed: Seed | None = None


class SpatialDropout2D(SpatialDropout1D):
    type: Literal["SpatialDropout2D"]  # type: ignore[assignment]


class Flatten(LayerBase):
    type: Literal["Flatten"]


def _reshape_json_schema(schema: dict[str, Any]) -> None:
    """What ``_one_unknown`` says, for JSON Schema: no 0 and at most one -1."""
    target = schema["properties"]["target_shape"]
    target["items"]["not"] = {"const": 0}
    target.update({"contains": {"const": -1}, "minContains": 0, "maxContains": 1})


class Reshape(LayerBase):
    model_config = ConfigDict(json_schema_extra=_reshape_json_schema)
    type: Literal["Reshape"]
    target_shape: Annotated[list[Annotated[int, Field(ge=-1, le=INT64_MAX)]], Field(min_length=1)]

    @model_validator(mode="after")
    def _one_unknown(self) -> Reshape:
        if self.target_shape.count(-1) > 1 or 0 in self.target_shape:
            raise ValueError("target_shape takes positive sizes and at most one -1")
        return self


class ActivationLayer(LayerBase):
    type: Literal["Activation"]
    activation: Activation


LAYER_CLASSES: tuple[type[NamedLayer], ...] = (
    Conv1D, Conv2D, MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D,
    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
    BatchNormalization, LayerNormalization, Dropout, SpatialDropout1D, SpatialDropout2D,
    Flatten, Reshape, Dense, ActivationLayer,
)  # fmt: skip
LAYER_TYPES: dict[str, type[NamedLayer]] = {
    cls.model_fields["type"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in LAYER_CLASSES
}
CODE_LAYERS = {"Lambda", "TFOpLambda"}
"""Layers that carry Python code: a spec is data, so these are refused with a reason."""

Layer = Annotated[
    Conv1D
    | Conv2D
    | MaxPooling1D
    | MaxPooling2D
    | AveragePooling1D
    | AveragePooling2D
    | GlobalMaxPooling1D
    | GlobalMaxPooling2D
    | GlobalAveragePooling1D
    | GlobalAveragePooling2D
    | BatchNormalization
    | LayerNormalization
    | Dropout
    | SpatialDropout1D
    | SpatialDropout2D
    | Flatten
    | Reshape
    | Dense
    | ActivationLayer,
    Field(discriminator="type"),
]


class Input(Strict):
    shape: Annotated[list[PosInt], Field(min_length=1, max_length=3)] = Field(
        description="Input shape without the batch axis, e.g. [28, 28, 1]."
    )


class Model(Strict):
    input: Input
    layers: Annotated[list[Layer], Field(min_length=1)]


# --------------------------------------------------------------------------- compile
CLIPS = ("clipnorm", "clipvalue", "global_clipnorm")


class _Optimizer(Strict):
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
    learning_rate: Positive = 0.001
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
    learning_rate: Positive = 0.01
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
    weight_decay: NonNegative = 0.004  # type: ignore[assignment]
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


class Compile(Strict):
    optimizer: Optimizer = Field(default_factory=lambda: RMSprop(type="RMSprop"))
    loss: Literal[LOSSES]  # type: ignore[valid-type]
    metrics: list[Literal[METRICS]] = Field(default_factory=list)  # type: ignore[valid-type]


# -------------------------------------------------------------------------- training
Mode = Literal["auto", "min", "max"]


class EarlyStopping(Strict):
    type: Literal["EarlyStopping"]
    monitor: str = "val_loss"
    min_delta: NonNegative = 0.0
    patience: Count = 0
    mode: Mode = "auto"
    restore_best_weights: bool = False
    start_from_epoch: Count = 0


class ReduceLROnPlateau(Strict):
    type: Literal["ReduceLROnPlateau"]
    monitor: str = "val_loss"
    factor: finite(gt=0, lt=1) = 0.1
    patience: Count = 10
    mode: Mode = "auto"
    min_delta: NonNegative = 0.0001
    cooldown: Count = 0
    min_lr: NonNegative = 0.0


Callback = Annotated[EarlyStopping | ReduceLROnPlateau, Field(discriminator="type")]


class Training(Strict):
    epochs: PosInt = 1
    batch_size: PosInt = 32
    validation_split: Rate = 0.0
    shuffle: bool = True
    seed: Seed | None = None
    callbacks: list[Callback] = Field(default_factory=list)


# ------------------------------------------------------------------------------ data
class ReshapeStep(Strict):
    reshape: Annotated[list[PosInt], Field(min_length=1)]


class CastStep(Strict):
    cast: Literal["float16", "float32", "float64"]


class DivideStep(Strict):
    divide: Positive


class OneHotStep(Strict):
    one_hot: PosInt = Field(description="Number of classes.")


STEP_KEYS = ("reshape", "cast", "divide")


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
    | Annotated[DivideStep, Tag("divide")],
    Discriminator(
        _step_tag,
        custom_error_type="unknown_step",
        custom_error_message="each image step is one of {reshape: [...]}, {cast: float32}, {divide: 255}",
    ),
]


class Preprocessing(Strict):
    """What happens to the arrays between loading and ``fit``, in order."""

    x: list[XStep] = Field(default_factory=list, description="Steps applied to the images.")
    y: list[OneHotStep] = Field(default_factory=list, description="Steps applied to the labels.")


class Data(Strict):
    dataset: Literal[DATASETS]  # type: ignore[valid-type]
    path: str | None = Field(
        default=None,
        description="A local .npz with x_train, y_train, x_test, y_test "
        "(required for dataset: npz; for mnist/fashion_mnist it replaces the download).",
    )
    preprocessing: Preprocessing = Field(default_factory=Preprocessing)

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"dataset": {"const": "npz"}}, "required": ["dataset"]},
            "then": {
                "required": ["path"],
                "properties": {"path": {"type": "string", "minLength": 1}},
            },
        }
    )

    @model_validator(mode="after")
    def _npz_needs_path(self) -> Data:
        if self.dataset == "npz" and not self.path:
            raise ValueError("dataset 'npz' needs 'path' to the .npz file")
        return self


# --------------------------------------------------------------------------- runtime
class Runtime(Strict):
    """How to run training fast. Never changes the model, optimizer, batch size or epochs.

    ``auto`` picks what measured fastest for the backend and device (see the README).
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
    name: Identifier
    description: str | None = None
    data: Data | None = None
    model: Model
    compile: Compile | None = None
    training: Training | None = None
    runtime: Runtime = Field(default_factory=Runtime)
