"""Reading a saved model's ``compile_config``: optimizer (and its learning-rate
schedule), losses and metrics as the spec's ``compile`` section."""

from __future__ import annotations

from typing import Any

from specc.backends import kerasenv
from specc.backends.import_layers import LayerReader
from specc.backends.import_values import (
    _EXECUTION,
    _MISSING,
    ImportProblem,
    _json,
    _kind,
    _plain,
    _plural,
    _same,
    _serialized,
    _show,
)
from specc.language.schema import OPTIMIZER_CLASSES
from specc.terms.objects import (
    DECLARED,
    LOSS_NAMES,
    METRIC_NAMES,
)
from specc.terms.user_code import current
from specc.terms.values import is_identifier


class CompileReader(LayerReader):
    """The ``compile`` section: optimizer, loss and metrics."""

    def compile(self, config: dict[str, Any]) -> dict[str, Any] | None:
        """The spec's ``compile`` section from config.json's ``compile_config``."""
        saved = config.get("compile_config")
        if saved is None:
            return None
        if not isinstance(saved, dict):
            raise ImportProblem(
                "config.json: compile_config must be an object with optimizer, loss and metrics, "
                f"not {_kind(saved)}"
            )
        if not saved:
            return None
        if "config" in saved:  # an older layout wraps it as {class_name, config}
            saved = saved["config"]
            if not isinstance(saved, dict):
                raise ImportProblem(
                    f"config.json: compile_config.config must be an object, not {_kind(saved)}"
                )
        out: dict[str, Any] = {}
        if saved.get("optimizer") is not None:
            optimizer = self.optimizer(saved["optimizer"])
            if optimizer is not _MISSING:
                out["optimizer"] = optimizer
        self._loss(saved, out)
        for key in ("metrics", "weighted_metrics"):
            self._metrics(saved, key, out)
        self._loss_weights_and_the_rest(saved, out)
        return out

    def _loss(self, saved: dict[str, Any], out: dict[str, Any]) -> None:
        """``loss``: one, or one per output name, into ``out``."""
        loss = saved.get("loss")
        per_output = isinstance(loss, dict) and not _serialized(loss)  # {output name: loss}
        names_ok = not isinstance(loss, dict) or all(map(is_identifier, loss))
        if isinstance(loss, list) or (per_output and not names_ok):
            raise ImportProblem(
                f"config.json: compile_config.loss is {_kind(loss)} (one loss per output); "
                "a spec gives a loss per output by the output's name"
            )
        if loss is None:  # the layers add their own (add_loss: a CTC layer), or fit refuses
            out["loss"] = None
        elif per_output:
            made_losses = {
                name: self.loss_or_metric(value, f"compile_config.loss.{name}", "losses")
                for name, value in loss.items()
            }
            out["loss"] = {k: v for k, v in made_losses.items() if v is not _MISSING}
        else:
            made = self.loss_or_metric(loss, "compile_config.loss", "losses")
            if made is not _MISSING:
                out["loss"] = made

    def _metrics(self, saved: dict[str, Any], key: str, out: dict[str, Any]) -> None:
        """``metrics`` or ``weighted_metrics``: a list, or lists per output name."""
        metrics = saved.get(key)
        if metrics is None or metrics == []:
            return
        if isinstance(metrics, dict) and all(
            is_identifier(k) and isinstance(v, list) for k, v in metrics.items()
        ):  # per output name
            out[key] = {
                name: [
                    m
                    for i, x in enumerate(values)
                    if (m := self.loss_or_metric(x, f"compile_config.{key}.{name}[{i}]", "metrics"))
                    is not _MISSING
                ]
                for name, values in metrics.items()
            }
            return
        if not isinstance(metrics, list):
            raise ImportProblem(
                f"config.json: compile_config.{key} must be a list of metrics, not {_kind(metrics)}"
            )
        made_list = [
            self.loss_or_metric(m, f"compile_config.{key}[{i}]", "metrics")
            for i, m in enumerate(metrics)
        ]
        out[key] = [m for m in made_list if m is not _MISSING]

    def _loss_weights_and_the_rest(self, saved: dict[str, Any], out: dict[str, Any]) -> None:
        """``loss_weights`` (numbers), then every key specc does not read, reported."""
        weights = saved.get("loss_weights")
        if weights is not None:
            values = list(weights.values()) if isinstance(weights, dict) else weights
            if not isinstance(values, list) or any(
                not isinstance(w, int | float) or isinstance(w, bool) for w in values
            ):
                self.problem(
                    "compile_config.loss_weights",
                    f"{_show(weights)} is not supported by specc (numbers, one per output: a "
                    "list, or a mapping output name -> weight)",
                )
            elif isinstance(weights, dict):
                out["loss_weights"] = {str(k): _plain(w) for k, w in weights.items()}
            else:
                out["loss_weights"] = _plain(weights)
        for key, value in saved.items():
            known = {"optimizer", "loss", "metrics", "weighted_metrics", "loss_weights"}
            if key not in known | _EXECUTION and value is not None:
                self.problem(f"compile_config.{key}", f"{_show(value)} is not supported by specc")

    def loss_or_metric(self, value: Any, where: str, expect: str) -> Any:
        """A loss or metric as Keras wrote it: a string stays that string; an object becomes
        ``{type: Class, ...}``; a function Keras names (``keras.losses.mse``) its name."""
        names = LOSS_NAMES if expect == "losses" else METRIC_NAMES
        what = "loss" if expect == "losses" else "metric"
        if isinstance(value, str):
            if (
                value in names
                or value in DECLARED[expect]
                or (expect == "metrics" and value.lower() in ("acc", "accuracy"))
            ):
                return value
            self.problem(
                where,
                f"{what} {value!r} is not one Keras names; specs name Keras' own {_plural(what)}",
            )
            return _MISSING
        if not _serialized(value):
            raise ImportProblem(
                f"config.json: {where} must be a {what} name or a serialised Keras object, "
                f"not {_kind(value)}"
            )
        plugins = current()
        if value["class_name"] == "function" and isinstance(value["config"], str):
            name = value["config"]
            keras_fn = value.get("module") in ("builtins", f"keras.{expect}", None)
            if keras_fn and name in names:
                return name  # Keras' own function, e.g. keras.losses.binary_crossentropy
            # Keras saves a function's module as "builtins": the allowed modules are asked
            defining = plugins.defining(name) if plugins is not None else []
            if len(defining) == 1:
                return f"{defining[0]}.{name}"
            said = (
                f"pass --plugin MODULE, the module defining it, to read it as MODULE.{name}"
                if not defining
                else f"--plugin modules {', '.join(defining)} all define it"
            )
            self.problem(
                where,
                f"{name!r} is a custom {what} function (Python code); a spec is data and names "
                f"Keras' own {_plural(what)}; {said}",
            )
            return _MISSING
        module = value.get("module")
        if isinstance(module, str) and plugins is not None and plugins.allows(module):
            config = value["config"] if isinstance(value["config"], dict) else {}
            return {"type": f"{module}.{value['class_name']}", **_json(config)}
        return self.keras_object(value, where, expect=expect)

    def optimizer(self, optimizer: Any) -> Any:
        """The spec's optimizer: a name, or ``{type, ...}`` without Keras' defaults."""
        where = "config.json: compile_config.optimizer"
        if isinstance(optimizer, str):
            return optimizer
        if not isinstance(optimizer, dict):
            raise ImportProblem(
                f"{where} must be a name or {{class_name, config}}, not {_kind(optimizer)}"
            )
        cls_name, config = optimizer.get("class_name"), optimizer.get("config")
        if not isinstance(cls_name, str):
            raise ImportProblem(f"{where}.class_name must be a string, not {_kind(cls_name)}")
        if not isinstance(config, dict):
            raise ImportProblem(f"{where}.config must be an object, not {_kind(config)}")
        classes = {cls.__name__: cls for cls in OPTIMIZER_CLASSES}
        if cls_name not in classes:
            self.problem(
                "compile_config.optimizer", f"optimizer {cls_name[:80]!r} is not supported by specc"
            )
            return _MISSING
        fields = classes[cls_name].model_fields
        defaults = _json(getattr(kerasenv.keras().optimizers, cls_name)().get_config())
        entry: dict[str, Any] = {"type": cls_name}
        ok = True
        for key, value in config.items():
            if key == "name":
                continue
            here = f"compile_config.optimizer.{key}"
            if key not in fields:
                if not _same(value, defaults.get(key)):
                    self.problem(
                        "compile_config.optimizer",
                        f"argument {key[:80]}={_show(value)} is not supported by specc",
                    )
                    ok = False
                continue
            if _serialized(value):
                value = self.keras_object(value, here, expect="optimizers.schedules")
                if value is _MISSING:
                    ok = False
                    continue
            value = _plain(value)
            if not _same(value, fields[key].default):
                entry[key] = value
        if not ok:
            return _MISSING
        return entry if len(entry) > 1 else cls_name.lower()
