"""Every ``keras.applications`` model's graph as spec data, without TensorFlow.

``application_spec("VGG16", include_top=False, pooling="avg")`` is the mapping a user
writes under ``model:`` (the Keras model's name, its input, its layers with Keras' own
names, its output), equal to what ``keras.applications.VGG16(weights=None, ...)`` builds
(a test per family): specc's graph resolution computes the table from it.

Each family is a module of generators that mirror ``keras/src/applications/<family>.py``,
listed in :data:`FAMILIES`; each module's ``APPLICATIONS`` maps Keras' names to them.
Adding a family is its module plus its line in :data:`FAMILIES`.
"""

from __future__ import annotations

import importlib
import inspect
import math
import re
from collections.abc import Callable
from functools import cache
from typing import Any

from specc.applications.common import ApplicationError, unknown

__all__ = ["FAMILIES", "NAMES", "ApplicationError", "application_document", "application_spec"]

FAMILIES = (
    "vgg",
    "resnet",
    "densenet",
    "inception_v3",
    "inception_resnet_v2",
    "xception",
    "mobilenet",
    "mobilenet_v2",
    "nasnet",
    "mobilenet_v3",
    "efficientnet",
    "efficientnet_v2",
    "convnext",
)  # fmt: skip
"""The family modules of :mod:`specc.applications`, in the order :data:`NAMES` lists them."""


@cache
def generators() -> dict[str, Callable[..., dict[str, Any]]]:
    """Application name (``keras.applications.<name>``) -> its generator, every family."""
    found: dict[str, Callable[..., dict[str, Any]]] = {}
    for family in FAMILIES:
        found.update(importlib.import_module(f"specc.applications.{family}").APPLICATIONS)
    return found


NAMES: tuple[str, ...] = tuple(generators())
"""Every application, by the name ``keras.applications`` gives it."""


def application_spec(name: str, /, **arguments: Any) -> dict[str, Any]:
    """The ``model:`` mapping of ``keras.applications.<name>(**arguments)``.

    ``arguments`` are Keras' own (``include_top``, ``weights``, ``input_shape``,
    ``pooling``, ``classes``, ``classifier_activation``, ``name``, and ``alpha`` ... where
    the family has them), with Keras' defaults; what Keras refuses raises
    :class:`ApplicationError` with a one-line message.
    """
    generator = generators().get(name)
    if generator is None:
        raise unknown(name, list(generators()))
    accepted = inspect.signature(generator).parameters
    for argument, value in arguments.items():
        if argument not in accepted:
            raise ApplicationError(
                f"{name} takes no argument {argument!r}; it takes {', '.join(accepted)}"
            )
        _check_value(argument, value, accepted[argument].annotation)
    return generator(**arguments)


def _check_value(argument: str, value: Any, annotation: Any) -> None:
    """What no family checks and Keras would misread: a flag that is no boolean (YAML
    1.2 reads ``no`` as the string 'no', which Python takes as true) and a float that is
    no number (``.nan`` as a width factor)."""
    if annotation in ("bool", bool) and not isinstance(value, bool):
        raise ApplicationError(f"{argument} must be true or false, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ApplicationError(f"{argument} must be a finite number, got {value!r}")


def application_document(name: str, /, **arguments: Any) -> dict[str, Any]:
    """A whole spec (``specc: 1``, ``name``, ``model``) whose model is the application,
    for ``specc summary`` and the tests until a spec can name it as a layer."""
    model = application_spec(name, **arguments)
    return {"specc": 1, "name": re.sub(r"\W", "_", model["name"]), "model": model}
