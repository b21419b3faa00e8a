"""Keras objects a spec names or configures: losses, metrics, learning-rate schedules,
initializers, regularizers and constraints.

Each may be written as Keras accepts it: a name (``loss: sparse_categorical_crossentropy``,
``kernel_initializer: he_normal``) or an object with its class and arguments
(``loss: {type: SparseCategoricalCrossentropy, from_logits: true}``,
``kernel_initializer: {type: HeNormal, seed: 1}``). Every class is declared once below,
with Keras 3's argument names and defaults (a test compares them with Keras'
constructors); validators are built on first use only.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    SerializeAsAny,
    TypeAdapter,
    create_model,
)
from pydantic_core import PydanticCustomError, core_schema

from specc.terms.user_code import check_allowed, is_plugin_path
from specc.terms.values import (
    Float,
    NonNegFloat,
    PosFloat,
    PosInt,
    Regularizer,
    Seed,
)

Fraction = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Reduction = Literal["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none"]


class KerasObject(BaseModel):
    """A configured Keras object: ``type`` is the class name, the rest its arguments."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)
    MODULE: ClassVar[str] = ""
    """Where the class lives under ``keras`` (``losses``, ``optimizers.schedules``...)."""
    type: str

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        """Described for editors (:mod:`specc.terms.descriptions`, read only here)."""
        from specc.terms import descriptions

        return descriptions.json_schema(cls, core_schema, handler)


class PluginObject(KerasObject):
    """The user's own loss, metric, initializer, regularizer or constraint class with its
    arguments (``{type: pointnet.OrthogonalRegularizer, num_features: 3}``), allowed by
    ``--plugin``: ``type`` is its dotted path, the rest goes to its constructor as given."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True, defer_build=True)

    def arguments(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


_PLUGIN_KINDS = {
    "losses": "loss", "metrics": "metric", "initializers": "initializer",
    "regularizers": "regularizer", "constraints": "constraint",
}  # fmt: skip
"""The kinds of Keras object a plugin may give, as a message names them."""


DECLARED: dict[str, dict[str, dict[str, Any]]] = {}
"""Module -> class name -> ``{argument: (type, default)}``, as declared below."""
_built: dict[tuple[str, str], type[KerasObject]] = {}


BASES: dict[str, type[KerasObject]] = {}
"""Module -> the common base of its declarations (what a field of that kind is typed as)."""


def _declare(module: str, classes: dict[str, dict[str, Any]], common: dict[str, Any]) -> None:
    """Declare each class of a Keras module: ``{ClassName: {arg: (type, default)}}``."""
    BASES[module] = type(f"Keras_{module.replace('.', '_')}", (KerasObject,), {"MODULE": module})
    table = DECLARED.setdefault(module, {})
    for name, fields in classes.items():
        table[name] = {**fields, **common}


def object_class(module: str, name: str) -> type[KerasObject]:
    """The Pydantic model of one declared class, created on first use (fast start-up)."""
    key = (module, name)
    if key not in _built:
        cls = create_model(
            name,
            __base__=BASES[module],
            __module__=__name__,
            type=(Literal[name], ...),  # type: ignore[arg-type]  # a Literal of a name known at runtime; Pydantic reads it then
            **DECLARED[module][name],
        )
        _built[key] = cls  # type: ignore[assignment]  # the pydantic mypy plugin types create_model's result as a fresh class, not one of __base__
    return _built[key]


LOSS_AS_METRIC = "losses."
"""In a metrics list, ``{type: losses.BinaryCrossentropy, ...}`` is the loss object used as
a metric, as Keras takes it (``metrics=[keras.losses.BinaryCrossentropy(...)]``, the
TensorFlow overfitting tutorial): Keras averages the loss's values. Without the prefix the
class is the metric of that name in ``keras.metrics``."""


def _qualified_loss(name: str) -> type[KerasObject]:
    """A loss class as a metrics list names it (``type: losses.Name``): for JSON Schema."""
    key = ("metrics", LOSS_AS_METRIC + name)
    if key not in _built:
        _built[key] = create_model(
            f"LossMetric{name}",
            __base__=KerasObject,
            __module__=__name__,
            type=(Literal[LOSS_AS_METRIC + name], ...),  # type: ignore[arg-type]  # a Literal of a name known at runtime; Pydantic reads it then
            **DECLARED["losses"][name],
        )
    return _built[key]


def classes(module: str) -> dict[str, type[KerasObject]]:
    """Every declared class of ``module`` (creating them all: for JSON Schema and tests)."""
    return {name: object_class(module, name) for name in DECLARED[module]}


def _none(tp: Any) -> tuple[Any, None]:
    return (tp | None, None)


# ------------------------------------------------------------------------------ losses
_declare(
    "losses",
    {
        "BinaryCrossentropy": {"from_logits": (bool, False), "label_smoothing": (Fraction, 0.0),
                               "axis": (int, -1)},
        "BinaryFocalCrossentropy": {"apply_class_balancing": (bool, False), "alpha": (Fraction, 0.25),
                                    "gamma": (NonNegFloat, 2.0), "from_logits": (bool, False),
                                    "label_smoothing": (Fraction, 0.0), "axis": (int, -1)},
        "CategoricalCrossentropy": {"from_logits": (bool, False), "label_smoothing": (Fraction, 0.0),
                                    "axis": (int, -1)},
        "CategoricalFocalCrossentropy": {"alpha": (Fraction, 0.25), "gamma": (NonNegFloat, 2.0),
                                         "from_logits": (bool, False),
                                         "label_smoothing": (Fraction, 0.0), "axis": (int, -1)},
        "SparseCategoricalCrossentropy": {"from_logits": (bool, False),
                                          "ignore_class": _none(int), "axis": (int, -1)},
        "CategoricalHinge": {}, "Hinge": {}, "SquaredHinge": {},
        "CosineSimilarity": {"axis": (int, -1)},
        "Huber": {"delta": (PosFloat, 1.0)},
        "KLDivergence": {}, "LogCosh": {}, "Poisson": {},
        "MeanAbsoluteError": {}, "MeanAbsolutePercentageError": {}, "MeanSquaredError": {},
        "MeanSquaredLogarithmicError": {},
        "Dice": {"axis": _none(int)},
        "Tversky": {"alpha": (Float, 0.5), "beta": (Float, 0.5), "axis": _none(int)},
    },
    {"reduction": (Reduction, "sum_over_batch_size"), "name": _none(str)},
)  # fmt: skip
LOSS_NAMES = (
    "bce", "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
    "categorical_focal_crossentropy", "categorical_hinge", "circle", "cosine_similarity", "ctc",
    "dice", "hinge", "huber", "kl_divergence", "kld", "log_cosh", "mae", "mape",
    "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error",
    "mean_squared_logarithmic_error", "mse", "msle", "poisson", "sparse_categorical_crossentropy",
    "squared_hinge", "tversky",
)  # fmt: skip
"""The strings ``keras.losses.get`` resolves (class names are accepted too)."""

# ----------------------------------------------------------------------------- metrics
_THRESHOLDS = _none(Fraction | list[Fraction])
_declare(
    "metrics",
    {
        "Accuracy": {}, "BinaryAccuracy": {"threshold": (Fraction, 0.5)},
        "CategoricalAccuracy": {}, "SparseCategoricalAccuracy": {},
        "TopKCategoricalAccuracy": {"k": (PosInt, 5)},
        "SparseTopKCategoricalAccuracy": {"k": (PosInt, 5), "from_sorted_ids": (bool, False)},
        "AUC": {"num_thresholds": (Annotated[int, Field(gt=1)], 200),
                "curve": (Literal["ROC", "PR"], "ROC"),
                "summation_method": (Literal["interpolation", "minoring", "majoring"], "interpolation"),
                "thresholds": _none(list[Fraction]), "multi_label": (bool, False),
                "num_labels": _none(PosInt), "from_logits": (bool, False)},
        "Precision": {"thresholds": _THRESHOLDS, "top_k": _none(PosInt), "class_id": _none(int)},
        "Recall": {"thresholds": _THRESHOLDS, "top_k": _none(PosInt), "class_id": _none(int)},
        "TruePositives": {"thresholds": _THRESHOLDS}, "TrueNegatives": {"thresholds": _THRESHOLDS},
        "FalsePositives": {"thresholds": _THRESHOLDS}, "FalseNegatives": {"thresholds": _THRESHOLDS},
        "F1Score": {"average": _none(Literal["micro", "macro", "weighted"]),
                    "threshold": _none(Fraction)},
        "FBetaScore": {"average": _none(Literal["micro", "macro", "weighted"]),
                       "beta": (PosFloat, 1.0), "threshold": _none(Fraction)},
        "BinaryCrossentropy": {"from_logits": (bool, False), "label_smoothing": (Fraction, 0)},
        "CategoricalCrossentropy": {"from_logits": (bool, False), "label_smoothing": (Fraction, 0),
                                    "axis": (int, -1)},
        "SparseCategoricalCrossentropy": {"from_logits": (bool, False),
                                          "ignore_class": _none(int), "axis": (int, -1)},
        "MeanAbsoluteError": {}, "MeanAbsolutePercentageError": {}, "MeanSquaredError": {},
        "MeanSquaredLogarithmicError": {}, "RootMeanSquaredError": {}, "LogCoshError": {},
        "CosineSimilarity": {"axis": (int, -1)}, "Hinge": {}, "SquaredHinge": {},
        "CategoricalHinge": {}, "KLDivergence": {}, "Poisson": {},
        "R2Score": {"class_aggregation": (_none(Literal["uniform_average", "variance_weighted_average"])[0],
                                          "uniform_average"),
                    "num_regressors": (Annotated[int, Field(ge=0)], 0)},
        "PearsonCorrelation": {"axis": (int, -1)}, "ConcordanceCorrelation": {"axis": (int, -1)},
    },
    {"name": _none(str)},
)  # fmt: skip
METRIC_NAMES = (
    "acc", "accuracy", "auc", "bce", "binary_accuracy", "binary_crossentropy",
    "categorical_accuracy", "categorical_crossentropy", "categorical_hinge",
    "concordance_correlation", "cosine_similarity", "f1_score", "f_beta_score",
    "false_negatives", "false_positives", "hinge", "kl_divergence", "log_cosh_error", "mae",
    "mape", "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error",
    "mean_squared_logarithmic_error", "mse", "msle", "pearson_correlation", "poisson",
    "precision", "r2_score", "recall", "root_mean_squared_error", "sparse_categorical_accuracy",
    "sparse_categorical_crossentropy", "sparse_top_k_categorical_accuracy", "squared_hinge",
    "top_k_categorical_accuracy", "true_negatives", "true_positives",
)  # fmt: skip
"""Metric strings ``model.compile`` resolves (``acc``/``accuracy`` pick binary, categorical or
sparse accuracy from the labels, as Keras does; class names are accepted too)."""

# ----------------------------------------------------------- learning-rate schedules
_Steps = PosInt
_declare(
    "optimizers.schedules",
    {
        "ExponentialDecay": {"initial_learning_rate": (PosFloat, ...), "decay_steps": (_Steps, ...),
                             "decay_rate": (PosFloat, ...), "staircase": (bool, False)},
        "InverseTimeDecay": {"initial_learning_rate": (PosFloat, ...), "decay_steps": (_Steps, ...),
                             "decay_rate": (NonNegFloat, ...), "staircase": (bool, False)},
        "PiecewiseConstantDecay": {"boundaries": (Annotated[list[int], Field(min_length=1)], ...),
                                   "values": (Annotated[list[NonNegFloat], Field(min_length=2)], ...)},  # type: ignore[valid-type]  # finite() builds a Pydantic type; mypy cannot evaluate calls
        "CosineDecay": {"initial_learning_rate": (NonNegFloat, ...), "decay_steps": (_Steps, ...),
                        "alpha": (Fraction, 0.0), "warmup_target": _none(PosFloat),
                        "warmup_steps": (Annotated[int, Field(ge=0)], 0)},
        "CosineDecayRestarts": {"initial_learning_rate": (NonNegFloat, ...),
                                "first_decay_steps": (_Steps, ...), "t_mul": (PosFloat, 2.0),
                                "m_mul": (PosFloat, 1.0), "alpha": (Fraction, 0.0)},
        "PolynomialDecay": {"initial_learning_rate": (NonNegFloat, ...), "decay_steps": (_Steps, ...),
                            "end_learning_rate": (NonNegFloat, 0.0001), "power": (PosFloat, 1.0),
                            "cycle": (bool, False)},
    },
    {},
)  # fmt: skip

# -------------------------------------------------------------------------- initializers
_SEED = {"seed": _none(Seed)}
_declare(
    "initializers",
    {
        "Zeros": {}, "Ones": {}, "Constant": {"value": (Float, 0.0)},
        "GlorotNormal": _SEED, "GlorotUniform": _SEED, "HeNormal": _SEED, "HeUniform": _SEED,
        "LecunNormal": _SEED, "LecunUniform": _SEED,
        "RandomNormal": {"mean": (Float, 0.0), "stddev": (PosFloat, 0.05), **_SEED},
        "TruncatedNormal": {"mean": (Float, 0.0), "stddev": (PosFloat, 0.05), **_SEED},
        "RandomUniform": {"minval": (Float, -0.05), "maxval": (Float, 0.05), **_SEED},
        "Orthogonal": {"gain": (Float, 1.0), **_SEED},
        "Identity": {"gain": (Float, 1.0)},
        "VarianceScaling": {"scale": (PosFloat, 1.0),
                            "mode": (Literal["fan_in", "fan_out", "fan_avg"], "fan_in"),
                            "distribution": (Literal["truncated_normal", "untruncated_normal",
                                                     "uniform"], "truncated_normal"), **_SEED},
    },
    {},
)  # fmt: skip
INITIALIZER_NAMES = (  # not "constant": keras.initializers.get("constant") fails (no value)
    "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "identity",
    "lecun_normal", "lecun_uniform", "ones", "orthogonal", "random_normal", "random_uniform",
    "truncated_normal", "variance_scaling", "zeros",
)  # fmt: skip

# ------------------------------------------------------------- regularizers, constraints
_declare(
    "regularizers",
    {
        "L1": {"l1": (NonNegFloat, 0.01)}, "L2": {"l2": (NonNegFloat, 0.01)},
        "L1L2": {"l1": (NonNegFloat, 0.0), "l2": (NonNegFloat, 0.0)},
        "OrthogonalRegularizer": {"factor": (NonNegFloat, 0.01),
                                  "mode": (Literal["rows", "columns"], "rows")},
    },
    {},
)  # fmt: skip
REGULARIZER_NAMES = ("l1", "l2", "orthogonal_regularizer")
_declare(
    "constraints",
    {
        "MaxNorm": {"max_value": (PosFloat, 2), "axis": (int | list[int], 0)},
        "MinMaxNorm": {"min_value": (NonNegFloat, 0.0), "max_value": (NonNegFloat, 1.0),
                       "rate": (Fraction, 1.0), "axis": (int | list[int], 0)},
        "NonNeg": {}, "UnitNorm": {"axis": (int | list[int], 0)},
    },
    {},
)  # fmt: skip
CONSTRAINT_NAMES = ("max_norm", "min_max_norm", "non_neg", "unit_norm")


# ------------------------------------------------------------------ name-or-object types
def snake(name: str) -> str:
    """Keras' snake_case of a class name.

    >>> snake("SparseCategoricalCrossentropy"), snake("HeNormal"), snake("L1L2")
    ('sparse_categorical_crossentropy', 'he_normal', 'l1l2')
    """
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


# long: one validator and its JSON Schema, sharing the names, kinds and plugin rule it closes over
def _by_name_or_object(
    module: str,
    names: tuple[str, ...],
    *,
    shorthand: type[BaseModel] | None = None,
    number: Any = None,
    nullable: bool = False,
) -> Any:
    """The annotated type of a field that takes a name or ``{type: Class, ...args}``.

    ``shorthand`` validates a mapping without ``type`` (``{l2: 0.01}`` for regularizers);
    ``number`` a plain number instead of a name (a constant learning rate); ``nullable``
    also takes ``null`` (an initializer Keras replaces by its own fallback).
    """
    declared = DECLARED[module]
    accepted = {*names, *declared} if number is None else set()
    plain = TypeAdapter(number, config=ConfigDict(strict=True)) if number is not None else None

    def validate(value: Any) -> Any:
        if isinstance(value, KerasObject | BaseModel) and not isinstance(value, dict):
            return value
        if value is None and nullable:
            return None
        if plain is not None and not isinstance(value, dict):
            return plain.validate_python(value)
        if isinstance(value, str):
            if value in accepted or (module == "metrics" and value.lower() in ("acc", "accuracy")):
                return value
            if module in ("losses", "metrics") and is_plugin_path(value):
                check_allowed(value, module[:-1] if module == "metrics" else "loss")
                return value  # the user's function or class, imported by the back end
            raise PydanticCustomError(
                "literal_error",
                "Input should be {expected}",
                {"expected": ", ".join(repr(n) for n in sorted(accepted))},
            )
        if isinstance(value, dict):
            if "type" not in value and shorthand is not None:
                return shorthand.model_validate(value)
            tag = value.get("type")
            if tag is None:
                raise PydanticCustomError("union_tag_not_found", "needs a 'type' key")
            loss = tag[len(LOSS_AS_METRIC) :] if isinstance(tag, str) else None
            qualified = loss is not None and tag.startswith(LOSS_AS_METRIC)
            if module == "metrics" and qualified and loss in DECLARED["losses"]:
                # Keras' own loss as a metric (losses.BinaryCrossentropy): no plugin
                return object_class("losses", loss).model_validate({**value, "type": loss})
            if module in _PLUGIN_KINDS and is_plugin_path(tag):  # the user's class
                check_allowed(tag, f"{_PLUGIN_KINDS[module]} class")
                return PluginObject.model_validate(value)
            if not isinstance(tag, str) or tag not in declared:
                raise PydanticCustomError(
                    "union_tag_invalid",
                    "Input tag {tag} found using 'type' does not match any of the expected tags",
                    {"discriminator": "'type'", "tag": str(tag),
                     "expected_tags": ", ".join(repr(t) for t in declared)},
                )  # fmt: skip
            return object_class(module, tag).model_validate(value)
        raise PydanticCustomError("string_type", "Input should be a name or a mapping")

    class _JsonSchema:
        @classmethod
        def __get_pydantic_json_schema__(cls, _schema: Any, handler: Any) -> Any:
            members: list[core_schema.CoreSchema | tuple[core_schema.CoreSchema, str]] = (
                [core_schema.literal_schema(sorted(accepted))] if accepted else []
            )
            if nullable:
                members.append(core_schema.none_schema())
            if plain is not None:
                members.append(plain.core_schema)
            if shorthand is not None:
                members.append(shorthand.__pydantic_core_schema__)
            qualified = (
                [_qualified_loss(n) for n in DECLARED["losses"]] if module == "metrics" else []
            )
            for obj in [*classes(module).values(), *qualified]:
                obj.model_rebuild()
                members.append(obj.__pydantic_core_schema__)
            return handler(core_schema.union_schema(members))

    return Annotated[BASES[module], PlainValidator(validate), SerializeAsAny(), _JsonSchema]


LossSpec = _by_name_or_object("losses", LOSS_NAMES)
MetricSpec = _by_name_or_object("metrics", METRIC_NAMES)
InitializerSpec = _by_name_or_object("initializers", INITIALIZER_NAMES, nullable=True)
"""An initializer by name or object; ``null`` as Keras takes it (``Dense(bias_initializer=
None)``, as the TensorFlow imbalanced-data tutorial writes it): Keras then initialises the
weight with its fallback, ``glorot_uniform`` for float weights."""
RegularizerSpec = _by_name_or_object("regularizers", REGULARIZER_NAMES, shorthand=Regularizer)
ConstraintSpec = _by_name_or_object("constraints", CONSTRAINT_NAMES)
LearningRate = _by_name_or_object("optimizers.schedules", (), number=PosFloat)
"""A constant learning rate or a schedule ``{type: ExponentialDecay, ...}``."""


def loss_name(loss: Any) -> str:
    """The canonical snake name of a loss given by name or object (for cross-field rules).

    >>> loss_name("sparse_categorical_crossentropy"), loss_name("bce")
    ('sparse_categorical_crossentropy', 'binary_crossentropy')
    """
    if isinstance(loss, KerasObject):
        return snake(loss.type)
    aliases = {"bce": "binary_crossentropy", "mse": "mean_squared_error",
               "mae": "mean_absolute_error", "kld": "kl_divergence"}  # fmt: skip
    name = loss if loss in LOSS_NAMES else snake(loss)
    return aliases.get(name, name)


def from_logits(loss: Any) -> bool:
    """Whether a loss takes logits (``from_logits: true``) rather than probabilities."""
    return bool(getattr(loss, "from_logits", False))


__all__ = [
    "DECLARED",
    "ConstraintSpec",
    "InitializerSpec",
    "KerasObject",
    "LearningRate",
    "LossSpec",
    "MetricSpec",
    "RegularizerSpec",
    "classes",
    "from_logits",
    "loss_name",
    "object_class",
    "snake",
]  # fmt: skip
