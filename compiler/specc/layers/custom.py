"""A layer class from the user's Python: ``{type: mypkg.layers.TransformerBlock, embed_dim:
32}``, allowed by ``--plugin mypkg.layers``.

Not a catalog declaration (its arguments are whatever the class's constructor takes, its
shape rule is the class's own code): the entry keeps its arguments as given, its summary
type is the class name (``TransformerBlock``, as Keras prints it) and its module is
``module``. Shapes, parameters and the automatic names it takes inside come from the
:class:`~specc.terms.user_code.Plugins` the compilation runs with, which asks Keras.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, PrivateAttr, model_serializer

from specc.layers.base import LayerSpec, Out, _Routes
from specc.layers.shapes import Shape, ShapeError
from specc.terms import user_code as plugins
from specc.terms.values import Identifier

PLUGIN_VALUE = "plugin"
"""``VALUE`` of a plugin layer: what it makes of values is unknown, so the final-activation
check stops there and judges nothing."""


class PluginLayer(LayerSpec):
    """A layer class named by its dotted path; its arguments go to its constructor as given."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True, defer_build=True)

    VALUE = PLUGIN_VALUE

    type: str
    """The class name (Keras' summary type and automatic-name prefix)."""
    module: str
    """The Python module defining the class (``mypkg.layers``, a plugin file's stem)."""
    name: Identifier | None = None
    _sublayers: tuple[str, ...] | None = PrivateAttr(default=None)
    _call: str = PrivateAttr(default="positional")

    @model_serializer(mode="wrap")
    def _as_written(self, handler: Any) -> Any:
        """Dumped as a spec writes it (``type: module.Class``), so it validates again."""
        data = handler(self)
        if isinstance(data, dict):
            data.pop("module", None)
            data["type"] = self.path
        return data

    @property
    def path(self) -> str:
        """``module.Class``, as the spec names it."""
        return f"{self.module}.{self.type}"

    def arguments(self) -> dict[str, Any]:
        """The constructor arguments the spec gives (``name`` apart), in the spec's order."""
        return dict(self.model_extra or {})

    @property
    def SUBLAYERS(self) -> tuple[str, ...]:  # type: ignore[override]  # per instance: the class's code decides
        """The automatic names Keras takes inside the layer, measured (see ``Plugins``)."""
        if self._sublayers is None:
            found = plugins.current()
            self._sublayers = found.sublayers(self) if found is not None else ()
        return self._sublayers

    @property
    def CALL(self) -> str:  # type: ignore[override]  # per instance: the class's call() decides
        """How the class takes several inputs: ``"positional"`` (``call(self, a, b)``:
        keras-io's CTCLayer) or ``"list"`` (``call(self, inputs)``: the VAE's Sampling)."""
        return self._call

    def measured(self, sublayers: tuple[str, ...], call: str) -> None:
        """Record the names a call took too (layers built on first call: MHA's softmax)
        and how the class takes several inputs."""
        self._sublayers = sublayers
        self._call = call

    def infer(self, shape: Shape) -> Out:
        return self.infer_many([shape])

    def infer_many(self, shapes: list[Shape]) -> Out:
        found = plugins.current()
        if found is None:  # validated without plugins: cannot happen, said plainly if it does
            raise ShapeError(f"{self.path} needs --plugin {self.module}", show_input=False)
        out: Out = found.infer(self, shapes)
        return out


def validate_plugin(value: dict[str, Any]) -> PluginLayer:
    """A plugin layer's entry: allowed by the command line, else a schema error with the hint."""
    path = value["type"]
    plugins.check_allowed(path, "layer class")
    module, cls = plugins.split_path(path)
    value = dict(value)
    routes = _Routes.model_validate({k: value.pop(k) for k in ("inputs", "as") if k in value})
    if "module" in value:
        from pydantic_core import PydanticCustomError

        raise PydanticCustomError(
            "plugin_module", "'module' is how specc records the class's module; rename it"
        )
    layer = PluginLayer.model_validate({**value, "type": cls, "module": module})
    layer._inputs = tuple(routes.inputs) if routes.inputs is not None else None
    layer._label = routes.as_
    return layer
