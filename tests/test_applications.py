"""keras.applications graphs as data (issue 19): each family's table equal to Keras'.

``specc.applications.application_spec`` writes an application as a ``model:`` mapping;
validated as a spec, its table must be the one ``keras.applications.<Name>(weights=None,
...)`` prints, byte for byte (the model's name line and the Connected-to column included),
for Keras' defaults and other arguments. The default run builds one small family of each
kind; ``-m slow`` the rest (Keras takes seconds to build the big ones).
"""

from __future__ import annotations

import io
from typing import Any

import pytest
import yaml

from specc.analysis.pipeline import compile_text
from specc.applications import NAMES, ApplicationError, application_document, application_spec
from specc.backends import table
from tests.helpers import KERAS_MISSING

keras_only = pytest.mark.skipif(KERAS_MISSING is not None, reason=KERAS_MISSING or "")


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")


def _specc_text(name: str, arguments: dict[str, Any]) -> tuple[str, int]:
    """specc's table of the application, through the spec text a user could write."""
    document = application_document(name, **arguments)
    compiled = compile_text(yaml.safe_dump(document, sort_keys=False), f"{name}.yaml")
    return table.as_text(compiled.graph), compiled.graph.total_params


def _keras_text(name: str, arguments: dict[str, Any]) -> tuple[str, int]:
    from tests.keras_helpers import keras

    k = keras()
    k.backend.clear_session()
    given = {key: tuple(v) if isinstance(v, list) else v for key, v in arguments.items()}
    model = getattr(k.applications, name)(**given)
    out = io.StringIO()
    model.summary(print_fn=lambda line, line_break=True: out.write(line))
    return out.getvalue(), model.count_params()


def _case(name: str, slow: bool = False, **arguments: Any) -> Any:
    arguments.setdefault("weights", None)
    shown = ",".join(f"{k}={v}" for k, v in arguments.items() if k != "weights")
    marks = [pytest.mark.keras, keras_only, *([pytest.mark.slow] if slow else [])]
    return pytest.param(name, arguments, id=f"{name}({shown})", marks=marks)


CASES = [
    _case("VGG16"),
    _case("VGG16", include_top=False, pooling="max", input_shape=[48, 64, 3]),
    _case("VGG19", slow=True),
    _case("VGG19", include_top=False, pooling="avg", slow=True),
    _case("VGG19", input_shape=[64, 64, 3], classes=7, classifier_activation=None, slow=True),
]


@pytest.mark.parametrize(("name", "arguments"), CASES)
def test_application_table_is_keras(name, arguments):
    ours, our_params = _specc_text(name, arguments)
    theirs, their_params = _keras_text(name, arguments)
    assert ours == theirs
    assert our_params == their_params


def test_every_application_has_a_generator():
    """NAMES lists each family's applications once, by Keras' names."""
    assert len(set(NAMES)) == len(NAMES)
    assert {"VGG16", "VGG19"} <= set(NAMES)


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("VGG166", {}, "unknown application 'VGG166'; did you mean VGG16?"),
        ("VGG16", {"alpha": 1.0}, "VGG16 takes no argument 'alpha'"),
        ("VGG16", {"weights": None, "pooling": "mean"}, "pooling must be null, avg or max"),
        ("VGG16", {"classes": 10}, "with weights: imagenet and include_top: true, classes must"),
        ("VGG16", {"input_shape": [64, 64, 3]}, "input_shape must be [224, 224, 3]"),
        ("VGG16", {"include_top": False, "input_shape": [31, 64, 3]}, "at least 32x32"),
        ("VGG16", {"weights": None, "input_shape": [None, 64, 3]}, "must be static"),
        ("VGG16", {"include_top": False, "input_shape": [64, 64, 1]}, "must have 3 channels"),
        ("VGG16", {"classifier_activation": "relu"}, "classifier_activation must be softmax"),
    ],
)
def test_arguments_keras_refuses_are_refused_in_one_line(name, arguments, message):
    with pytest.raises(ApplicationError) as caught:
        application_spec(name, **arguments)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_spec_names_layers_only_where_keras_does():
    """Automatic names are left to the resolution (a backbone placed after other layers
    takes the next numbers, as in Keras); labels stay only where an entry uses them."""
    model = application_spec("VGG16", weights=None, include_top=False, pooling="avg")
    last = model["layers"][-1]
    assert last == {"type": "GlobalAveragePooling2D", "as": "x18"}
    assert model["outputs"] == ["x18"]
    assert all("inputs" not in entry for entry in model["layers"])  # a chain
