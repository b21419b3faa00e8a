"""Fine-tuning a frozen sub-model, as the TensorFlow transfer-learning tutorial does it.

``training.fine_tune: {unfreeze: {from: LAYER}, epochs: N, learning_rate: X}``: after the
first ``training.epochs``, the frozen sub-model (the base) is unfrozen from LAYER on,

    base_model.trainable = True
    for layer in base_model.layers[:fine_tune_at]:
        layer.trainable = False

and the model is compiled again at learning rate X and trained N more epochs. Here: which
sub-model and layer index that is (checked against the sub-model's own layer names), and
the trainable and non-trainable counts Keras prints after the unfreeze.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from specc.analysis.graph import Graph, ResolvedLayer
from specc.analysis.submodels import SubModel
from specc.errors import Diagnostic
from specc.language.messages import did_you_mean
from specc.language.schema import Spec
from specc.layers.base import apply

Diagnose = Callable[[tuple, str], Diagnostic]
AT = ("training", "fine_tune", "unfreeze")


@dataclass(frozen=True)
class Unfreeze:
    """The sub-model to unfreeze and where: ``layers[:at]`` stay frozen."""

    layer: ResolvedLayer
    """The sub-model's row in the model (its spec a :class:`SubModel`)."""
    at: int
    names: tuple[str, ...]
    """The sub-model's ``model.layers`` names, in Keras' order (inputs first in a graph)."""


def layer_names(graph: Graph) -> tuple[str, ...]:
    """A model's ``model.layers`` names: a functional model lists its inputs too, a
    Sequential one does not."""
    if graph.functional:
        return tuple(row.name for row in graph.rows)
    return tuple(layer.name for layer in graph.layers)


def sub_models(graph: Graph) -> list[ResolvedLayer]:
    """The model's own sub-model rows (not those inside them)."""
    return [layer for layer in graph.layers if isinstance(layer.spec, SubModel)]


def resolve(spec: Spec, graph: Graph, diagnose: Diagnose) -> Unfreeze | Diagnostic | None:
    """Where ``training.fine_tune`` unfreezes (None: no fine-tuning), or the problem."""
    fine = spec.training.fine_tune if spec.training else None
    if fine is None:
        return None
    subs = sub_models(graph)
    wanted = fine.unfreeze.model
    if wanted is None:
        frozen = [s for s in subs if not s.spec.trainable]  # type: ignore[attr-defined]  # SubModel.trainable (sub_models keeps SubModels only)
        if not frozen:
            return diagnose(
                AT, "fine-tuning unfreezes a frozen sub-model, but the model has none: set "
                "trainable: false on the sub-model (the base) so the first epochs train the head",
            )  # fmt: skip
        if len(frozen) > 1:
            return diagnose(
                AT, f"the model has {len(frozen)} frozen sub-models "
                f"({', '.join(s.name for s in frozen)}): name the one to unfreeze with "
                "unfreeze.model",
            )  # fmt: skip
        chosen = frozen[0]
    else:
        by_name = {s.name: s for s in subs}
        if wanted not in by_name:
            hint = did_you_mean(wanted, list(by_name))
            have = ", ".join(by_name) or "none"
            return diagnose(
                (*AT, "model"),
                f"the model has no sub-model named {wanted!r}"
                + (f" ({hint})" if hint else "") + f"; its sub-models: {have}",
            )  # fmt: skip
        chosen = by_name[wanted]
    inner = chosen.spec.graph  # type: ignore[attr-defined]  # a SubModel (sub_models keeps SubModels only)
    if inner is None:
        return None  # its own errors are reported where it is defined
    names = layer_names(inner)
    at = _position(fine.unfreeze.from_, names, chosen.name, diagnose)
    return at if isinstance(at, Diagnostic) else Unfreeze(chosen, at, names)


def _position(
    start: str | int, names: tuple[str, ...], model: str, diagnose: Diagnose
) -> int | Diagnostic:
    """The index of the first layer trained again, by name or index."""
    if isinstance(start, int):
        if start >= len(names):
            return diagnose(
                (*AT, "from"),
                f"{model} has {len(names)} layers (0 to {len(names) - 1}); unfreezing from "
                f"layer {start} would train none of them",
            )
        return start
    if start not in names:
        hint = did_you_mean(start, list(names))
        return diagnose(
            (*AT, "from"),
            f"{model} has no layer named {start!r}" + (f" ({hint})" if hint else "")
            + f"; its layers run {names[0]} ... {names[-1]} ({len(names)} in all)",
        )  # fmt: skip
    return names.index(start)


def check_fine_tune(spec: Spec, graph: Graph, diagnose: Diagnose) -> Iterator[Diagnostic]:
    """The sub-model and layer ``training.fine_tune`` names exist."""
    found = resolve(spec, graph, diagnose)
    if isinstance(found, Diagnostic):
        yield found


def _unfrozen_trainable(layer: ResolvedLayer) -> int:
    """The layer's trainable parameters once ``trainable`` is set True on it (Keras sets
    it on every layer inside, so frozen layers within count as trainable again)."""
    spec = layer.spec
    if isinstance(spec, SubModel):
        inner = spec.graph
        return sum(_unfrozen_trainable(x) for x in inner.layers) if inner else 0
    if getattr(spec, "trainable", True):
        return layer.trainable_params
    thawed = spec.model_copy(update={"trainable": True})
    routed = isinstance(layer.input_shape, list)
    return apply(thawed, layer.input_shape, routed=routed).trainable


def after_unfreeze(graph: Graph, where: Unfreeze) -> tuple[int, int]:
    """(trainable, non-trainable) parameters of the whole model after the unfreeze, as
    ``model.summary()`` counts them then."""
    inner = where.layer.spec.graph  # type: ignore[attr-defined]  # a SubModel (resolve chose it)
    by_name = {layer.name: layer for layer in inner.layers}
    thawed = sum(
        _unfrozen_trainable(by_name[name]) for name in where.names[where.at :] if name in by_name
    )
    total = graph.total_params
    trainable = graph.trainable_params - where.layer.trainable_params + thawed
    return trainable, total - trainable
