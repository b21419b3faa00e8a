"""``--plugin``: the user's modules, imported only when a spec uses them, and Keras' word on
their layers.

``--plugin mypkg.layers`` allows ``type: mypkg.layers.TransformerBlock`` (an importable
module: installed, or found from the current folder); ``--plugin path/to/my_layers.py``
allows ``type: my_layers.TransformerBlock`` (the file is loaded as the module named by
its stem, as ``python path/to/my_layers.py``'s neighbours would import it). Nothing is
imported until a spec names a plugin class: validating a spec without one stays free of
Keras and of the user's code. A plugin layer's output shapes and weights are what Keras
makes of the class: it is constructed with the spec's arguments and called on
``keras.KerasTensor`` inputs; the automatic names it takes inside (its own sublayers) are
read from Keras' name counters around that.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from specc.analysis.graph import to_snake_case
from specc.backends import kerasenv
from specc.errors import PluginError
from specc.layers.base import Out
from specc.layers.custom import PluginLayer
from specc.layers.shapes import Shape, ShapeError
from specc.terms.user_code import PLUGIN_PATH, split_path


def _first_line(exc: BaseException) -> str:
    line = next((part.strip() for part in str(exc).splitlines() if part.strip()), "")
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


def is_file(given: str) -> bool:
    """Whether a ``--plugin`` value names a file (``layers.py``, ``a/b``) rather than a module."""
    return given.endswith(".py") or "/" in given or os.sep in given


@dataclass
class Loaded:
    """The allowed plugins: module name -> the ``--plugin`` value that allowed it."""

    given: dict[str, str]
    files: dict[str, Path] = field(default_factory=dict)
    """A file plugin's module name -> its path as given (relative to the current folder)."""
    _cache: dict[str, tuple[Out, tuple[str, ...], str]] = field(default_factory=dict)
    _built: dict[str, tuple[str, ...]] = field(default_factory=dict)

    # ------------------------------------------------------------ what is allowed
    def allows(self, module: str) -> bool:
        return module in self.given

    def module(self, name: str) -> ModuleType:
        """The plugin module ``name``, imported on first use (PluginError if it fails)."""
        given = self.given[name]
        if name in self.files:
            return self._file_module(name, self.files[name], given)
        if os.getcwd() not in sys.path and "" not in sys.path:
            sys.path.append(os.getcwd())  # `specc` is a script: its folder is on the path
        kerasenv.keras()  # quietly first: the plugin imports Keras itself
        try:
            return importlib.import_module(name)
        except Exception as exc:  # ImportError, SyntaxError, whatever its top level raises
            raise PluginError(f"--plugin {given}: cannot import it: {_first_line(exc)}") from exc

    def _file_module(self, name: str, path: Path, given: str) -> ModuleType:
        found = sys.modules.get(name)
        if found is not None:
            there = getattr(found, "__file__", None)
            if there is not None and Path(there).resolve() == path.resolve():
                return found
            raise PluginError(
                f"--plugin {given}: a module named {name!r} is already imported "
                f"({there or 'built in'}); rename the file"
            )
        if not path.is_file():
            raise PluginError(f"--plugin {given}: no such file")
        kerasenv.keras()
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise PluginError(f"--plugin {given}: cannot be loaded as a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            raise PluginError(f"--plugin {given}: cannot import it: {_first_line(exc)}") from exc
        return module

    def defining(self, name: str) -> list[str]:
        """The allowed modules that define ``name`` (each imported: a saved model names a
        custom function's module ``builtins``, so the modules are asked)."""
        return sorted(m for m in self.given if getattr(self.module(m), name, None) is not None)

    def obtain(self, path: str) -> Any:
        """The object ``module.name`` names (PluginError if the module lacks it)."""
        module_name, name = split_path(path)
        module = self.module(module_name)
        found = getattr(module, name, None)
        if found is None:
            raise PluginError(
                f"--plugin {self.given[module_name]}: {module_name} defines no {name!r} "
                f"(the spec names {path})"
            )
        register(found)
        return found

    def layer_class(self, path: str) -> Any:
        """The Keras layer class ``path`` names (PluginError if it is not one)."""
        cls = self.obtain(path)
        keras = kerasenv.keras()
        if not (isinstance(cls, type) and issubclass(cls, keras.layers.Layer)):
            raise PluginError(
                f"--plugin {self.given[split_path(path)[0]]}: {path} is not a keras.layers.Layer "
                "subclass, so it cannot be a layer of the model"
            )
        return cls

    # ------------------------------------------------------------ Keras' answers
    def sublayers(self, layer: PluginLayer) -> tuple[str, ...]:
        """Names taken when the layer is constructed (before any call is measured)."""
        key = _key(layer, ())
        if key not in self._built:
            cls = self.layer_class(layer.path)
            before = _uids()
            try:
                cls(**layer.arguments())
            except Exception:
                return ()  # the call in infer() reports it, located
            self._built[key] = _taken(before, _uids(), layer.type)
        return self._built[key]

    def infer(self, layer: PluginLayer, shapes: list[Shape]) -> Out:
        key = _key(layer, shapes)
        if key not in self._cache:
            self._cache[key] = self._measure(layer, shapes)
        out, taken, call = self._cache[key]
        layer.measured(taken, call)
        return out

    def _measure(self, layer: PluginLayer, shapes: list[Shape]) -> tuple[Out, tuple[str, ...], str]:
        keras = kerasenv.keras()
        cls = self.layer_class(layer.path)
        call = call_kind(cls)
        before = _uids()
        try:
            instance = cls(**layer.arguments())
            tensors = [keras.KerasTensor(shape, dtype="float32") for shape in shapes]
            if len(tensors) == 1 or call == "positional":
                result = instance(*tensors)
            else:
                result = instance(tensors)
            out_shape = _shapes(result)
        except PluginError:
            raise
        except Exception as exc:
            raise ShapeError(
                f"Keras refused {layer.path} on input {_shown(shapes)}: {_first_line(exc)}",
                show_input=False,
            ) from exc
        trainable = sum(math.prod(w.shape) for w in instance.trainable_weights)
        frozen = sum(math.prod(w.shape) for w in instance.non_trainable_weights)
        return Out(out_shape, trainable, frozen), _taken(before, _uids(), layer.type), call


def call_kind(cls: Any) -> str:
    """``"positional"`` where the class's ``call`` takes two or more tensors by position
    (``call(self, y_true, y_pred)``), else ``"list"`` (``call(self, inputs)``, given a list)."""
    try:
        parameters = list(inspect.signature(cls.call).parameters.values())[1:]
    except (TypeError, ValueError):
        return "positional"
    by_position = [
        p
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        and p.name not in ("training", "mask")
    ]
    return "positional" if len(by_position) >= 2 else "list"


def _key(layer: PluginLayer, shapes: Sequence[Any]) -> str:
    return json.dumps([layer.path, layer.arguments(), [list(s) for s in shapes]], default=repr)


def _shown(shapes: list[Shape]) -> str:
    return ", ".join("(" + ", ".join(str(d) for d in s) + ")" for s in shapes)


def _shapes(result: Any) -> Shape | list[Shape]:
    if isinstance(result, list | tuple):
        return [tuple(t.shape) for t in result]
    if isinstance(result, dict):
        raise TypeError("returns a dict of tensors; a spec's layers return a tensor or a list")
    return tuple(result.shape)


def _uids() -> dict[str, int]:
    """Keras' automatic-name counters now (``dense`` -> how many were named so far)."""
    kerasenv.keras()
    state = importlib.import_module("keras.src.backend.common.global_state")
    return dict(state.get_global_attribute("object_name_uids", default={}) or {})


def _taken(before: dict[str, int], after: dict[str, int], own: str) -> tuple[str, ...]:
    """The prefixes named between two counter readings, the layer's own name apart."""
    taken: list[str] = []
    for prefix, count in sorted(after.items()):
        taken += [prefix] * (count - before.get(prefix, 0))
    own_prefix = to_snake_case(own)
    if own_prefix in taken:
        taken.remove(own_prefix)
    return tuple(taken)


def register(obj: Any) -> None:
    """Make ``obj`` known to Keras' loader by its registered name, so a model saved with it
    loads again in this process (``keras.saving.load_model``) without ``custom_objects``."""
    keras = kerasenv.keras()
    if not callable(obj):
        return
    name = keras.saving.get_registered_name(obj)
    keras.saving.get_custom_objects().setdefault(name, obj)


_ACTIVE: Loaded | None = None


def load(given: Sequence[str]) -> Loaded | None:
    """The plugins ``--plugin`` allows (None without any); nothing is imported yet.

    A file is allowed under its stem's module name; raises PluginError for a value that is
    neither a dotted module name nor a ``.py`` file name, or two that claim one name."""
    global _ACTIVE
    if not given:
        _ACTIVE = None
        return None
    allowed: dict[str, str] = {}
    files: dict[str, Path] = {}
    for value in given:
        if is_file(value):
            path = Path(value)
            name = path.stem
            if path.suffix != ".py" or not name.isidentifier():
                raise PluginError(
                    f"--plugin {value}: a plugin file is a .py file whose name is a Python "
                    "identifier (it is imported under that name)"
                )
            files[name] = path
        else:
            name = value
            if not PLUGIN_PATH.match(f"{name}.X"):
                raise PluginError(
                    f"--plugin {value}: not a module name (mypkg.layers) or a .py file"
                )
        if name in allowed and allowed[name] != value:
            raise PluginError(f"--plugin {value}: {allowed[name]} is also module {name!r}")
        allowed[name] = value
    _ACTIVE = Loaded(allowed, files)
    return _ACTIVE


def active_or_none() -> Loaded | None:
    """The plugins of this command, if any (None: no --plugin)."""
    return _ACTIVE


def active() -> Loaded:
    """The plugins of this command (the builder and code generator look classes up here)."""
    if _ACTIVE is None:
        raise PluginError("the spec uses a plugin, but no --plugin was given")
    return _ACTIVE
