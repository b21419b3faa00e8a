"""The spec language as Pydantic models: what a spec may say, field by field.

Layers are a discriminated union on ``type`` (the Keras class name); every other key is a
Keras constructor argument, with Keras' own default. ``extra="forbid"`` everywhere so a
misspelled key is an error, and ``strict=True`` so YAML's ``"3"`` is not quietly an int.
Rules that need more than one field live in :mod:`specc.checks` and :mod:`specc.graph`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Discriminator, Field, Tag, model_validator

from specc.layers import CATALOG, CODE_LAYERS, Layer, LayerSpec
from specc.values import (
    ACTIVATIONS,
    INITIALIZERS,
    Identifier,
    PosInt,
    Rate,
    Regularizer,
    Strict,
)

SPEC_VERSION = 1

# ---------------------------------------------------------------- value vocabularies
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


# ---------------------------------------------------------------------------- layers
LAYER_TYPES = CATALOG
"""Keras class name -> layer declaration (the catalog, see :mod:`specc.layers`)."""
LAYER_CLASSES: tuple[type[LayerSpec], ...] = tuple(CATALOG.values())
__all__ = ["ACTIVATIONS", "CODE_LAYERS", "INITIALIZERS", "LAYER_TYPES", "Regularizer", "Spec"]


class Input(Strict):
    shape: Annotated[list[PosInt | None], Field(min_length=1)] = Field(
        description="Input shape without the batch axis, e.g. [28, 28, 1]; null: unknown size."
    )


class Model(Strict):
    input: Input
    layers: Annotated[list[Layer], Field(min_length=1)]


# --------------------------------------------------------------------------- compile
class _Optimizer(Strict):
    learning_rate: Annotated[float, Field(gt=0)] = 0.001
    weight_decay: Annotated[float, Field(ge=0)] | None = None
    clipnorm: Annotated[float, Field(gt=0)] | None = None
    clipvalue: Annotated[float, Field(gt=0)] | None = None
    global_clipnorm: Annotated[float, Field(gt=0)] | None = None


class SGD(_Optimizer):
    type: Literal["SGD"]
    learning_rate: Annotated[float, Field(gt=0)] = 0.01
    momentum: Annotated[float, Field(ge=0, le=1)] = 0.0
    nesterov: bool = False


class RMSprop(_Optimizer):
    type: Literal["RMSprop"]
    rho: Annotated[float, Field(ge=0, le=1)] = 0.9
    momentum: Annotated[float, Field(ge=0, le=1)] = 0.0
    epsilon: Annotated[float, Field(gt=0)] = 1e-07
    centered: bool = False


class _AdamLike(_Optimizer):
    beta_1: Annotated[float, Field(ge=0, lt=1)] = 0.9
    beta_2: Annotated[float, Field(ge=0, lt=1)] = 0.999
    epsilon: Annotated[float, Field(gt=0)] = 1e-07


class Adam(_AdamLike):
    type: Literal["Adam"]
    amsgrad: bool = False


class AdamW(_AdamLike):
    type: Literal["AdamW"]
    weight_decay: Annotated[float, Field(ge=0)] = 0.004  # type: ignore[assignment]
    amsgrad: bool = False


class Adamax(_AdamLike):
    type: Literal["Adamax"]


class Nadam(_AdamLike):
    type: Literal["Nadam"]


class Adagrad(_Optimizer):
    type: Literal["Adagrad"]
    initial_accumulator_value: Annotated[float, Field(ge=0)] = 0.1
    epsilon: Annotated[float, Field(gt=0)] = 1e-07


class Adadelta(_Optimizer):
    type: Literal["Adadelta"]
    rho: Annotated[float, Field(ge=0, le=1)] = 0.95
    epsilon: Annotated[float, Field(gt=0)] = 1e-07


OPTIMIZER_CLASSES = (SGD, RMSprop, Adam, AdamW, Adamax, Nadam, Adagrad, Adadelta)
OPTIMIZER_NAMES = {cls.__name__.lower(): cls.__name__ for cls in OPTIMIZER_CLASSES}
"""Keras' string names (``"rmsprop"``) to class names (``"RMSprop"``)."""


def _optimizer_by_name(value: Any) -> Any:
    """``optimizer: rmsprop`` is shorthand for ``{type: RMSprop}`` with Keras defaults."""
    if isinstance(value, str):
        if value.lower() in OPTIMIZER_NAMES:
            return {"type": OPTIMIZER_NAMES[value.lower()]}
        return {"type": value}
    return value


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
    min_delta: Annotated[float, Field(ge=0)] = 0.0
    patience: Annotated[int, Field(ge=0)] = 0
    mode: Mode = "auto"
    restore_best_weights: bool = False
    start_from_epoch: Annotated[int, Field(ge=0)] = 0


class ReduceLROnPlateau(Strict):
    type: Literal["ReduceLROnPlateau"]
    monitor: str = "val_loss"
    factor: Annotated[float, Field(gt=0, lt=1)] = 0.1
    patience: Annotated[int, Field(ge=0)] = 10
    mode: Mode = "auto"
    min_delta: Annotated[float, Field(ge=0)] = 0.0001
    cooldown: Annotated[int, Field(ge=0)] = 0
    min_lr: Annotated[float, Field(ge=0)] = 0.0


Callback = Annotated[EarlyStopping | ReduceLROnPlateau, Field(discriminator="type")]


class Training(Strict):
    epochs: PosInt = 1
    batch_size: PosInt = 32
    validation_split: Rate = 0.0
    shuffle: bool = True
    seed: Annotated[int, Field(ge=0)] | None = None
    callbacks: list[Callback] = Field(default_factory=list)


# ------------------------------------------------------------------------------ data
class ReshapeStep(Strict):
    reshape: Annotated[list[PosInt], Field(min_length=1)]


class CastStep(Strict):
    cast: Literal["float16", "float32", "float64"]


class DivideStep(Strict):
    divide: Annotated[float, Field(gt=0)]


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
