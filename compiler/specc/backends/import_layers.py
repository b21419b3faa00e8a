"""Reading a saved model's layers: each layer's config as a spec entry (by the catalog
declaration's fields, Keras' defaults left out), its Keras objects as spec values, and the
model's input."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from specc.analysis.graph import to_snake_case
from specc.backends.arguments import ordered
from specc.backends.import_values import (
    _MISSING,
    _OBJECT_KINDS,
    _OWN,
    DEFAULT_INPUT_NAME,
    _collapsed,
    _first_line,
    _json,
    _kind,
    _layer_defaults,
    _named_config,
    _nested_fields,
    _object_defaults,
    _plain,
    _plural,
    _Reader,
    _same,
    _serialized,
    _show,
)
from specc.language import messages
from specc.language.schema import DTYPES
from specc.layers import CATALOG, CODE_LAYERS, LayerSpec
from specc.layers.custom import PluginLayer
from specc.terms.objects import (
    DECLARED,
    LOSS_AS_METRIC,
    snake,
)
from specc.terms.user_code import current
from specc.terms.values import is_identifier


def _call_arguments(cls: type[LayerSpec], serialized: dict[str, Any]) -> dict[str, Any]:
    """The arguments of a layer's first call that its declaration holds as fields
    (``CALL_ARGUMENTS``: ``mha(x, x, use_causal_mask=True)``), where not their default."""
    nodes = serialized.get("inbound_nodes")
    if not cls.CALL_ARGUMENTS or not isinstance(nodes, list) or not nodes:
        return {}
    kwargs = nodes[0].get("kwargs") if isinstance(nodes[0], dict) else None
    if not isinstance(kwargs, dict):
        return {}
    return {
        key: value
        for key, value in kwargs.items()
        if key in cls.CALL_ARGUMENTS
        and isinstance(value, bool)
        and value != cls.model_fields[key].default
    }


class LayerReader(_Reader):
    """Layers, their arguments and Keras objects, and inputs, as spec entries."""

    def keras_object(self, value: Any, where: str, *, expect: str) -> Any:
        """A serialised Keras object as a spec value, or _MISSING (a problem was reported).

        ``expect`` is the objects.py module the argument takes (``initializers``...).
        """
        class_name, config = value["class_name"], value["config"]
        module = value.get("module")
        kind = _OBJECT_KINDS.get(module) if isinstance(module, str) else None
        what = {v[0]: v[1] for v in _OBJECT_KINDS.values()}[expect]
        if class_name == "function" or kind is None:
            shown = config if isinstance(config, str) else class_name
            self.problem(
                where,
                f"{_show(shown)} is a custom {what} (Python code, module {module!r}); a spec is "
                f"data and names Keras' own {_plural(what)}",
            )
            return _MISSING
        if kind[0] != expect and not (expect == "metrics" and kind[0] == "losses"):
            self.problem(where, f"{_show(value)} is a {kind[1]}, not a {what}")
            return _MISSING
        prefix = ""
        if kind[0] != expect:  # a loss object used as a metric: {type: losses.Name}
            expect, prefix = kind[0], LOSS_AS_METRIC
        declared = DECLARED[expect]
        if class_name not in declared:
            self.problem(where, f"{what} class {class_name!r} is not supported by specc")
            return _MISSING
        if not isinstance(config, dict):
            self.problem(where, f"{class_name}'s config must be an object, not {_kind(config)}")
            return _MISSING
        fields = declared[class_name]
        required = {
            k: config[k] for k, (_, default) in fields.items() if default is ... and k in config
        }
        try:
            defaults = _object_defaults(expect, class_name, json.dumps(required, sort_keys=True))
        except Exception as exc:  # Keras refuses the arguments: say so, in one line
            self.problem(where, f"Keras cannot make {_show(value)}: {_first_line(exc)}")
            return _MISSING
        args: dict[str, Any] = {}
        ok = True
        for key, arg in config.items():
            default = defaults.get(key, _MISSING)
            if key not in fields:
                if not _same(arg, default) and not (default is _MISSING and arg is None):
                    self.problem(
                        where, f"{class_name} argument {key}={_show(arg)} is not supported by specc"
                    )
                    ok = False
                continue
            if fields[key][1] is not ... and (
                _same(arg, default) or (default is _MISSING and _same(_plain(arg), fields[key][1]))
            ):
                continue
            args[key] = _plain(arg)
        if not ok:
            return _MISSING
        if expect == "regularizers" and class_name in ("L1", "L2", "L1L2"):
            # The shorthand specs have always used: {l2: 0.01}, {l1: ..., l2: ...}.
            if class_name == "L1L2":  # both keys, so it stays an L1L2
                return {"l1": _plain(config.get("l1", 0.0)), "l2": _plain(config.get("l2", 0.0))}
            key = class_name.lower()
            return {key: _plain(config.get(key, 0.01))}
        name = snake(class_name)
        if not args and name in kind[2] and _named_config(expect, name) == _json(value):
            return name  # the object Keras' name stands for: he_normal, non_neg
        return {"type": prefix + class_name, **args}

    def layers(
        self, serialized: list[Any], counters: dict[str, int], where: str
    ) -> list[dict[str, Any] | None]:
        """Spec entries for a list of layers (``where`` locates the list: ``layers``)."""
        return [self.layer(s, counters, f"{where}[{i}]") for i, s in enumerate(serialized)]

    def layer(
        self,
        serialized: Any,
        counters: dict[str, int],
        where: str,
        *,
        name: str | None = None,
        ignore: frozenset[str] = frozenset(),
    ) -> dict[str, Any] | None:
        """One layer's spec entry (None if it has problems, all reported).

        A layer keeps its name in the spec only where Keras' automatic name differs; that
        name depends only on the layers constructed before it, so one pass works. ``name``
        is the name as written where Keras renamed the layer (``forward_lstm``).
        """
        if not _serialized(serialized) or not isinstance(serialized["config"], dict):
            self.problem(where, f"must be a serialised Keras layer, not {_kind(serialized)}")
            return None
        layer_type, config = serialized["class_name"], serialized["config"]
        keras_name = config.get("name")
        name = name or keras_name
        where = f"{where} ({keras_name})" if isinstance(keras_name, str) else where
        module = serialized.get("module")
        plugins = current()
        if isinstance(module, str) and plugins is not None and plugins.allows(module):
            return self.plugin_layer(serialized, name, counters, where)
        cls = self._layer_class(serialized, where)
        if cls is None:
            return None
        entry: dict[str, Any] = {"type": layer_type}
        own_ignore = set(ignore)
        inner = self._inner_layers(cls, config, counters, where, entry, own_ignore)
        ok = all(e is not None for e in inner)
        ok &= self._layer_name(cls, layer_type, name, counters, where, entry)
        ok &= self._dtype_policy(config.get("dtype"), where)
        ok &= self._trainable(cls, layer_type, config, inner, where, entry)
        try:
            defaults = _layer_defaults(layer_type)
        except Exception as exc:  # a catalog declaration without a usable MINIMAL
            self.problem(
                where, f"internal: cannot build a default {layer_type}: {_first_line(exc)}"
            )
            return None
        own_ignore |= getattr(cls, "DERIVED", frozenset())
        ok &= self._arguments(cls, config, defaults, own_ignore, where, entry)
        if not ok:
            return None
        for key, value in cls.implied(serialized).items():
            if key in entry and _same(entry[key], value):
                del entry[key]  # what Keras writes when the spec leaves it out
        entry |= _call_arguments(cls, serialized)
        adapted = self.vocabularies.get(keras_name) if isinstance(keras_name, str) else None
        learned = getattr(cls, "learned_vocabulary", None)
        if adapted is not None and config.get("vocabulary") is None and learned is not None:
            tokens = learned(config, adapted)  # inline, from the assets (None: never adapted)
            if tokens is not None:
                entry["vocabulary"] = tokens
        tidy = getattr(cls, "imported", None)
        if tidy is not None:
            entry = tidy(entry)
        return self.validated(cls, entry, config, where)

    def _layer_class(self, serialized: dict[str, Any], where: str) -> type[LayerSpec] | None:
        """The catalog class of a layer Keras itself defines; None (said) for a layer of
        Python code, a custom class or a type specc does not know."""
        layer_type = serialized["class_name"]
        module, registered = serialized.get("module"), serialized.get("registered_name")
        if layer_type in CODE_LAYERS:
            self.problem(
                where,
                f"{layer_type} layers carry Python code; a spec is data (write the computation "
                "with catalog layers)",
            )
            return None
        custom = not (isinstance(module, str) and module.split(".")[0] == "keras") or (
            registered is not None and registered != layer_type
        )
        if custom:
            self.problem(
                where,
                f"{layer_type} is a custom layer class ({registered or module}): Python code; "
                f"pass --plugin {module}, or the .py file defining it, to read it as a plugin "
                "layer",
            )
            return None
        cls = CATALOG.get(layer_type)
        if cls is None:
            self.problem(where, f"layer type {layer_type} is not supported by specc")
            return None
        home = cls.KERAS_PATH.rpartition(".")[0]
        if home.startswith("src.") and module != f"keras.{home}":  # keras.applications' own
            self.problem(
                where,
                f"{layer_type} from module {module} is not keras.{home}.{layer_type}, the "
                "layer specc knows by that name",
            )
            return None
        return cls

    def plugin_layer(
        self, serialized: dict[str, Any], name: Any, counters: dict[str, int], where: str
    ) -> dict[str, Any] | None:
        """A layer of an allowed plugin module: ``{type: module.Class, ...}`` with the
        arguments of its ``get_config()`` (those every layer has apart), which Keras' own
        ``from_config`` passes to the constructor as they are. The names the class takes
        inside are Keras' to know: every layer after it keeps its name."""
        layer_type, config = serialized["class_name"], serialized["config"]
        entry: dict[str, Any] = {"type": f"{serialized['module']}.{layer_type}"}
        ok = self._layer_name(PluginLayer, layer_type, name, counters, where, entry)
        self.explicit_names = True
        ok &= self._dtype_policy(config.get("dtype"), where)
        if config.get("trainable", True) is False:
            entry["trainable"] = False
        for key, value in config.items():
            if key not in _OWN:
                entry[key] = _json(value) if isinstance(value, dict) else _plain(value)
        return entry if ok else None

    def _inner_layers(
        self,
        cls: type[LayerSpec],
        config: dict[str, Any],
        counters: dict[str, int],
        where: str,
        entry: dict[str, Any],
        own_ignore: set[str],
    ) -> list[dict[str, Any] | None]:
        """The layers inside a wrapper or nested model, read into ``entry`` (before the
        wrapper's own name is counted, as Keras makes them first)."""
        inner: list[dict[str, Any] | None] = []
        for key in _nested_fields(cls):
            value = config.get(key)
            if value is None:
                continue
            here = f"{where}.{key}"
            if cls.MIRRORED:
                own_ignore.add("backward_layer")
                if not self._automatic_backward(config, here):
                    own_ignore.add(key)  # reported once, as the backward layer
                    inner.append(None)
                    continue
                forward = value["config"].get("name") if _serialized(value) else None
                plain = forward.removeprefix("forward_") if isinstance(forward, str) else None
                made = self.layer(
                    value,
                    counters,
                    here,
                    name=plain,
                    ignore=frozenset({"zero_output_for_mask"}),  # Bidirectional sets it
                )
                inner.append(made)
                entry[key] = made
            elif isinstance(value, list):
                # A nested model's own InputLayer: the layers before it give its input.
                kept = [
                    v for v in value if not (_serialized(v) and v["class_name"] == "InputLayer")
                ]
                made_list = self.layers(kept, counters, here)
                inner += made_list
                entry[key] = made_list
            else:
                made = self.layer(value, counters, here)
                inner.append(made)
                entry[key] = made
        return inner

    def _layer_name(
        self,
        cls: type[LayerSpec],
        layer_type: str,
        name: Any,
        counters: dict[str, int],
        where: str,
        entry: dict[str, Any],
    ) -> bool:
        """``name:`` only where Keras' automatic name differs; the counters moved on as
        Keras' would (the layers it makes inside too). False (said) for a name that is not
        an identifier."""
        prefix = to_snake_case(layer_type)
        n = counters.get(prefix, 0)
        auto = prefix if n == 0 else f"{prefix}_{n}"
        ok = True
        if auto == name and not getattr(self, "explicit_names", False):
            counters[prefix] = n + 1
        elif not is_identifier(name):
            self.problem(
                where,
                f"layer name {name!r} is not a Python identifier (letters, digits, _); "
                "specs name layers with identifiers",
            )
            ok = False
        else:
            entry["name"] = name
        for taken in (
            () if cls is PluginLayer else cls.SUBLAYERS
        ):  # as the spec's names will: layers Keras makes inside
            counters[taken] = counters.get(taken, 0) + 1
        return ok

    def _trainable(
        self,
        cls: type[LayerSpec],
        layer_type: str,
        config: dict[str, Any],
        inner: list[dict[str, Any] | None],
        where: str,
        entry: dict[str, Any],
    ) -> bool:
        """``trainable: false`` where the layer is frozen (not through its inner layers
        alone); False (said) for a value Keras refuses or a type specc cannot freeze."""
        trainable = config.get("trainable", True)
        if not isinstance(trainable, bool):  # Keras' Layer refuses it: "Expected `trainable`
            self.problem(  # to be a boolean"
                where,
                f"trainable={_show(trainable)} is refused by Keras' loader: trainable must be "
                "true or false",
            )
            return False
        if trainable is False:
            frozen_inside = inner and all(
                e is not None and e.get("trainable") is False for e in inner
            )
            if "trainable" not in cls.model_fields:
                self.problem(where, f"trainable=False is not supported by specc for {layer_type}")
                return False
            if not frozen_inside:  # frozen through its inner layers, as specs say it
                entry["trainable"] = False
        return True

    def _arguments(
        self,
        cls: type[LayerSpec],
        config: dict[str, Any],
        defaults: dict[str, Any],
        own_ignore: set[str],
        where: str,
        entry: dict[str, Any],
    ) -> bool:
        """Every argument that differs from Keras' default, as a spec value, into ``entry``;
        False when one cannot be said (each said)."""
        fields = cls.model_fields
        from_keras = getattr(cls, "from_keras", None)
        ok = True
        for key, value in config.items():
            if key in _OWN or key in own_ignore or key in entry:
                continue
            default = defaults.get(key, _MISSING)
            if key not in fields:
                if not _same(value, default) and not (default is _MISSING and value is None):
                    self.problem(where, f"argument {key}={_show(value)} is not supported by specc")
                    ok = False
                continue
            if key == "strides" and fields[key].default is None:  # a pool's strides
                if value == config.get("pool_size"):
                    continue  # Keras fills them in from pool_size (its default config can't)
            elif _same(value, default) and not fields[key].is_required():
                continue
            made = self.argument(value, f"{where}: argument {key}={_show(value)}")
            if made is _MISSING:
                ok = False
                continue
            entry[key] = from_keras(key, made) if from_keras else made
        return ok

    def argument(self, value: Any, where: str) -> Any:
        """A layer argument's value as a spec writes it (objects by name or ``{type}``)."""
        if (
            _serialized(value)
            and isinstance(value.get("module"), str)
            and value["module"] in _OBJECT_KINDS
        ):
            expect = _OBJECT_KINDS[value["module"]][0]
            return self.keras_object(value, where, expect=expect)
        if _serialized(value):
            module = value.get("module")
            plugins = current()
            if isinstance(module, str) and plugins is not None and plugins.allows(module):
                config = value["config"] if isinstance(value["config"], dict) else {}
                return {"type": f"{module}.{value['class_name']}", **_json(config)}
            hint = "" if str(module).startswith("keras") else (
                f"; pass --plugin {module}, or the .py file defining it, to read it"
            )  # fmt: skip
            self.problem(where, f"{value['class_name']} objects are not supported by specc{hint}")
            return _MISSING
        return _plain(value)

    def _automatic_backward(self, config: dict[str, Any], where: str) -> bool:
        """Whether a Bidirectional's backward layer is the copy Keras makes by itself: the
        forward layer's config with ``go_backwards`` flipped, named ``backward_<name>``. A
        backward layer written by hand differs, or at least took an automatic name of its
        own (``lstm_1``), which would shift the names of every later layer."""
        forward, backward = config.get("layer"), config.get("backward_layer")
        if backward is None:
            return True
        own = {"name", "go_backwards"}
        same = (
            _serialized(forward)
            and _serialized(backward)
            and isinstance(forward["config"], dict)
            and isinstance(backward["config"], dict)
            and forward["class_name"] == backward["class_name"]
            and {k: v for k, v in forward["config"].items() if k not in own}
            == {k: v for k, v in backward["config"].items() if k not in own}
            and backward["config"].get("go_backwards") != forward["config"].get("go_backwards")
        )
        if same and _serialized(forward):  # same implies it: said again for the type checker
            name = forward["config"].get("name")
            plain = name.removeprefix("forward_") if isinstance(name, str) else None
            same = backward["config"].get("name") == f"backward_{plain}"
        if not same:
            shown = backward["config"].get("name") if _serialized(backward) else None
            self.problem(
                where.removesuffix(".layer"),
                f"a backward_layer of its own is not supported by specc ({_show(shown)} is not "
                "the mirror of layer that Keras makes when backward_layer is not given); leave "
                "backward_layer out",
            )
            return False
        return True

    def _dtype_policy(self, policy: Any, where: str) -> bool:
        name = policy
        if _serialized(policy) and isinstance(policy["config"], dict):
            name = policy["config"].get("name")
        if policy is None or name == "float32":
            return True
        self.problem(where, f"dtype policy {_show(name)} is not supported by specc (float32 only)")
        return False

    def validated(
        self, cls: type[LayerSpec], entry: dict[str, Any], config: dict[str, Any], where: str
    ) -> dict[str, Any] | None:
        """``entry`` if the declaration takes it, lists in their shortest equal form."""
        try:
            model = cls.model_validate(entry)
        except ValidationError as exc:
            # Keras stores some arguments as lists that it takes as one value: LayerNormalization's
            # axis -1 is kept as [-1]. Said the short way, the declaration may take them.
            failed = {e["loc"][0] for e in exc.errors() if e["loc"] and e["loc"][0] in entry}
            short = {
                k: entry[k][0] if len(entry[k]) == 1 else _collapsed(entry[k])
                for k in failed
                if isinstance(entry[k], list) and entry[k]
            }
            if short:
                try:
                    cls.model_validate({**entry, **short})
                except ValidationError:
                    pass
                else:
                    return self.validated(cls, {**entry, **short}, config, where)
            for error in exc.errors():
                key = error["loc"][0] if error["loc"] else None
                raw = config.get(key, entry.get(key)) if isinstance(key, str) else None
                shown = f"argument {key}={_show(raw)}" if isinstance(key, str) else "its arguments"
                loc, owner = messages.clean_loc(error["loc"], entry)
                text, hint = messages.error_text(error, loc, owner)
                if (
                    error["type"] == "string_type"
                    and error["msg"] != "Input should be a valid string"
                ):
                    # a name-or-object field's own words: "a name or a mapping"
                    wanted = error["msg"].removeprefix("Input should be ")
                    text = f"must be {wanted} (got {error.get('input')!r})"
                hint = f" ({hint})" if hint else ""
                self.problem(where, f"{shown} is not supported by specc: {text}{hint}")
            return None
        for key, field in cls.model_fields.items():
            # Keras' default, said in another form (an axis -1 stored as [-1]): left out.
            default = key in entry and key != "type" and not field.is_required()
            if default and getattr(model, key) == field.default:
                del entry[key]
        for key, value in list(entry.items()):
            short = _collapsed(value)
            if short == value:
                continue
            try:
                if cls.model_validate({**entry, key: short}) == model:
                    entry[key] = short
            except ValidationError:
                pass
        head: dict[str, Any] = {k: entry.pop(k) for k in ("type", "name") if k in entry}
        return {**head, **ordered(model, entry)}  # as people write it: units first

    def input(self, serialized: Any, where: str = "input") -> dict[str, Any]:
        """The spec's ``input`` from an InputLayer's config."""
        config = serialized["config"] if _serialized(serialized) else None
        if not isinstance(config, dict):
            self.problem(
                where, f"the input must be a serialised InputLayer, not {_kind(serialized)}"
            )
            return {"shape": [1]}
        shape = config.get("batch_shape", config.get("batch_input_shape"))
        out: dict[str, Any] = {"shape": [1]}
        if (
            not isinstance(shape, list)
            or len(shape) < 2
            or any(
                not (d is None or (isinstance(d, int) and not isinstance(d, bool))) for d in shape
            )
        ):
            self.problem(where, f"batch_shape must be a list of sizes, not {_show(shape)}")
        else:
            if shape[0] is not None:
                self.problem(
                    where, f"a fixed batch size ({shape[0]}) is not supported by specc (batch_shape "
                    f"{_show(shape)}); specs leave the batch axis open"
                )  # fmt: skip
            out["shape"] = shape[1:]
        dtype = config.get("dtype", "float32")
        if _serialized(dtype) and isinstance(dtype["config"], dict):
            dtype = dtype["config"].get("name")
        if dtype not in DTYPES:
            self.problem(where, f"dtype {_show(dtype)} is not supported by specc")
        elif dtype != "float32":
            out["dtype"] = dtype
        for flag in ("sparse", "ragged"):
            if config.get(flag):
                self.problem(where, f"{flag} inputs are not supported by specc")
        name = config.get("name", DEFAULT_INPUT_NAME)
        if name != DEFAULT_INPUT_NAME:
            if is_identifier(name):
                out["name"] = name
            else:
                self.problem(
                    where, f"input name {_show(name)} is not a Python identifier; specs name the "
                    "input with an identifier"
                )  # fmt: skip
        return out
