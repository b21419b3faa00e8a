"""Write what Keras itself says of every corpus model, for the tests to hold it to.

Regenerate everything (after reading why it changed):

    .venv/bin/python -m tests.corpus.make_expected

or only some models: ``.venv/bin/python -m tests.corpus.make_expected mnist_convnet
graphs/lstm_seq2seq``. For each model id (``<name>`` for the plain chains in this folder,
``graphs/<name>`` for the models that branch or merge) it writes
``expected/<id>.json`` (name, class, one row per layer, totals, compile config) and
``expected/<id>.summary.txt`` (the exact text of ``model.summary()``). Each model is built
after ``keras.backend.clear_session()``, so automatic names do not depend on what was built
before; the output is deterministic (sorted keys, indent 2).
"""

from __future__ import annotations

import importlib
import itertools
import json
import math
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from specc.backends.kerasenv import keras as load_keras

CORPUS = Path(__file__).resolve().parent
EXPECTED = CORPUS / "expected"
GRAPHS = "graphs"
NOT_MODELS = {"__init__", "make_expected"}
# Keras sizes summary tables to the terminal (min(88 or 108, columns - 4)); a fixed, wide
# enough width makes the captured text the default layout on any machine.
SUMMARY_COLUMNS = "200"


def model_ids() -> list[str]:
    """Every corpus model: chains first (``name``), then graphs (``graphs/name``), sorted."""
    chains = sorted(p.stem for p in CORPUS.glob("*.py") if p.stem not in NOT_MODELS)
    graphs = sorted(
        f"{GRAPHS}/{p.stem}" for p in (CORPUS / GRAPHS).glob("*.py") if p.stem not in NOT_MODELS
    )
    return chains + graphs


def module_name(model_id: str) -> str:
    return "tests.corpus." + model_id.replace("/", ".")


def expected_paths(model_id: str) -> tuple[Path, Path]:
    return EXPECTED / f"{model_id}.json", EXPECTED / f"{model_id}.summary.txt"


def build(model_id: str) -> Any:
    """The model as its corpus file builds it, in a fresh Keras session."""
    keras = load_keras()
    keras.backend.clear_session()
    module = importlib.import_module(module_name(model_id))
    with warnings.catch_warnings():
        # Sources written for tf.keras pass `input_shape=` or `alpha=`; Keras 3 accepts them
        # with a UserWarning per layer, which would only bury the output.
        warnings.simplefilter("ignore", UserWarning)
        return module.build()


def _shape(tensor: Any) -> Any:
    if isinstance(tensor, list | tuple):
        return [_shape(t) for t in tensor]
    return list(tensor.shape)


def _count(weights: list[Any]) -> int:
    return sum(math.prod(w.shape) for w in weights)


def _inbound(model: Any, layer: Any) -> list[str]:
    """Names of the layers whose outputs this layer takes, inside ``model`` (call order)."""
    in_model = {id(node) for nodes in model._nodes_by_depth.values() for node in nodes}
    return [
        tensor._keras_history.operation.name
        for node in layer._inbound_nodes
        if id(node) in in_model
        for tensor in node.input_tensors
    ]


def _operations(model: Any) -> list[Any]:
    """The rows Keras' summary prints: a Functional model's operations in order, the
    ``keras.ops`` nodes (``x + y`` is ``keras.src.ops.numpy.Add``, not a layer, so absent from
    ``model.layers``) among its layers; a Sequential's layers."""
    if type(model).__name__ == "Functional":
        return list(model._operations)
    return list(model.layers)


def layer_rows(model: Any) -> list[dict[str, Any]]:
    """One row per summary row, shaped as ``specc.backends.keras_build.layer_table``'s rows.

    Two differences, both needed by real models: ``output_shape`` is a list of shapes for a
    layer with several outputs (an LSTM with ``return_state=True``), and Functional models'
    rows also carry ``inbound``, the layers or operations each one is connected to. An
    operation (``add (Add)`` from ``x + y``) is a row with no weights, as Keras prints it, and
    ``operation``, its module (``keras.src.ops.numpy``).
    """
    functional = type(model).__name__ == "Functional"
    rows = []
    for layer in _operations(model):
        weighted = hasattr(layer, "count_params")  # a Layer; a keras.ops node has no weights
        row = {
            "name": layer.name,
            "type": type(layer).__name__,
            "output_shape": _shape(layer.output),
            "params": layer.count_params() if weighted else 0,
            "trainable_params": _count(layer.trainable_weights) if weighted else 0,
            "non_trainable_params": _count(layer.non_trainable_weights) if weighted else 0,
        }
        if not weighted:  # whose class name may be a layer's too (Add): say which it is
            row["operation"] = type(layer).__module__
        if functional:
            row["inbound"] = _inbound(model, layer)
        rows.append(row)
    return rows


def is_chain(description: dict[str, Any]) -> bool:
    """A Sequential, or a Functional model whose layers each take exactly the previous one
    and which has no operation node (a Sequential cannot hold ``x / 127.5``)."""
    if description["class"] == "Sequential":
        return True
    rows = description["layers"]
    return (
        bool(rows)
        and not any("operation" in row for row in rows)
        and rows[0]["type"] == "InputLayer"
        and rows[0]["inbound"] == []
        and all(row["inbound"] == [prev["name"]] for prev, row in itertools.pairwise(rows))
    )


def compile_config(model: Any) -> Any:
    """``model.get_compile_config()`` as JSON data; None when not compiled or not JSON-able
    (Keras 3.15 gives ``{}`` for a model never compiled, so ``model.compiled`` decides)."""
    config = model.get_compile_config()
    if not model.compiled or config is None:
        return None
    try:
        return json.loads(json.dumps(config))
    except (TypeError, ValueError):
        return None


def describe(model: Any) -> dict[str, Any]:
    """Everything Keras says of the model that the corpus tests hold it to."""
    trainable = _count(model.trainable_weights)
    non_trainable = _count(model.non_trainable_weights)
    return {
        "name": model.name,
        "class": type(model).__name__,
        "layers": layer_rows(model),
        "total_params": model.count_params(),
        "trainable_params": trainable,
        "non_trainable_params": non_trainable,
        "compiled": bool(model.compiled),
        "compile": compile_config(model),
    }


def summary_text(model: Any) -> str:
    """The exact text ``model.summary()`` prints, at Keras' default line length."""
    lines: list[str] = []
    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = SUMMARY_COLUMNS
    try:
        model.summary(print_fn=lambda text, *args, **kwargs: lines.append(text))
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def dumps(description: dict[str, Any]) -> str:
    return json.dumps(description, sort_keys=True, indent=2) + "\n"


def check_kind(model_id: str, description: dict[str, Any]) -> None:
    """Chains live in the corpus folder, branching models in ``graphs/``: keep them apart."""
    in_graphs = model_id.startswith(GRAPHS + "/")
    if is_chain(description) == in_graphs:
        where = "graphs/" if in_graphs else "the chain folder"
        raise SystemExit(
            f"{model_id}: is {'a chain' if in_graphs else 'not a chain'}, move it out of {where}"
        )


def write(model_id: str) -> dict[str, Any]:
    model = build(model_id)
    description = describe(model)
    check_kind(model_id, description)
    json_path, summary_path = expected_paths(model_id)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(dumps(description), encoding="utf-8")
    summary_path.write_text(summary_text(model), encoding="utf-8")
    return description


def main(argv: list[str]) -> int:
    ids = argv or model_ids()
    unknown = sorted(set(ids) - set(model_ids()))
    if unknown:
        print(f"error: not corpus models: {', '.join(unknown)}", file=sys.stderr)
        return 2
    for model_id in ids:
        description = write(model_id)
        print(f"{model_id}: {description['class']}, {description['total_params']:,} params")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
