"""keras.applications graphs as data, the modern families (issue 19): MobileNetV3,
EfficientNet B0-B7 and V2, ConvNeXt, each table equal to Keras' (tests/test_applications.py
has the method and the classic families).

The default run builds one small model per family, with Keras' defaults and with other
arguments; ``-m slow`` builds the rest (Keras takes seconds to build the big ones).
"""

from __future__ import annotations

from typing import Any

import pytest

from specc.applications import ApplicationError, application_spec
from tests.helpers import (
    KERAS_MISSING,
    application_case,
    application_text,
    keras_application_text,
)

keras_only = pytest.mark.skipif(KERAS_MISSING is not None, reason=KERAS_MISSING or "")


def _named(application: str, name: str, **arguments: Any) -> Any:
    """A slow case with Keras' ``name`` argument (which ``_case`` keeps for its own)."""
    case = application_case(application, slow=True, **arguments)
    return pytest.param(
        application,
        {**case.values[1], "name": name},
        id=case.id[:-1] + f",name={name})",
        marks=case.marks,
    )


CASES = [
    application_case("MobileNetV3Small"),
    application_case(
        "MobileNetV3Small", include_top=False, pooling="avg", input_shape=[96, 128, 3], alpha=0.75
    ),
    application_case("MobileNetV3Small", minimalistic=True, classes=7, dropout_rate=0.0, slow=True),
    application_case("MobileNetV3Large", slow=True),
    application_case(
        "MobileNetV3Large",
        input_shape=[64, 64, 3],
        alpha=1.25,
        classifier_activation=None,
        include_preprocessing=False,
        slow=True,
    ),
    application_case(
        "MobileNetV3Large", minimalistic=True, include_top=False, pooling="max", slow=True
    ),
    application_case("EfficientNetB0"),
    application_case("EfficientNetB0", include_top=False, pooling="max", input_shape=[75, 90, 3]),
    *(application_case(f"EfficientNetB{n}", slow=True) for n in range(1, 8)),
    application_case(
        "EfficientNetB3", input_shape=[64, 64, 3], classes=5, classifier_activation=None, slow=True
    ),
    application_case("EfficientNetV2B0"),
    application_case(
        "EfficientNetV2B0", include_top=False, pooling="avg", include_preprocessing=False
    ),
    *(application_case(f"EfficientNetV2{m}", slow=True) for m in ("B1", "B2", "B3", "S", "M", "L")),
    application_case("EfficientNetV2S", input_shape=[96, 80, 1], include_top=False, slow=True),
    _named("EfficientNetV2B2", "efficientnetv2-m", input_shape=[64, 64, 3], classes=3),
    application_case("ConvNeXtTiny", include_top=False, pooling="avg", input_shape=[64, 64, 3]),
    application_case(
        "ConvNeXtTiny", include_preprocessing=False, input_shape=[32, 48, 1], slow=True
    ),
    application_case("ConvNeXtTiny", slow=True),
    *(application_case(f"ConvNeXt{m}", slow=True) for m in ("Small", "Base", "Large", "XLarge")),
    application_case("ConvNeXtSmall", include_top=False, input_shape=[None, None, 3], slow=True),
]


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")


@pytest.mark.parametrize(("name", "arguments"), CASES)
def test_application_table_is_keras(name, arguments):
    ours, our_params = application_text(name, arguments)
    theirs, their_params = keras_application_text(name, arguments)
    assert ours == theirs
    assert our_params == their_params


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("MobileNetV3Small", {"alpha": 0.5}, "with weights: imagenet, alpha must be 0.75 or 1.0"),
        (
            "MobileNetV3Large",
            {"alpha": 0.75, "minimalistic": True},
            "alpha must be 1.0 for minimalistic",
        ),
        ("MobileNetV3Small", {"weights": None, "alpha": 0}, "alpha must be a positive number"),
        ("MobileNetV3Small", {"input_shape": [31, 64, 3]}, "at least 32x32"),
        ("MobileNetV3Small", {"input_shape": [64, 64]}, "must be [height, width, channels]"),
        ("MobileNetV3Small", {"input_shape": [64, None, 3]}, "a known height needs a known width"),
        ("MobileNetV3Small", {"classes": 10}, "classes must be 1000"),
        ("MobileNetV3Small", {"weights": None, "dropout_rate": 1.0}, "dropout_rate must be"),
        ("EfficientNetB0", {"classes": 10}, "classes must be 1000"),
        ("EfficientNetB4", {"input_shape": [224, 224, 3]}, "input_shape must be [380, 380, 3]"),
        ("EfficientNetB0", {"include_top": False, "input_shape": [16, 64, 3]}, "at least 32x32"),
        ("EfficientNetV2B0", {"name": "mine"}, "Keras looks up the blocks by the model's name"),
        ("EfficientNetV2S", {"weights": None, "pooling": "mean"}, "pooling must be null, avg"),
        ("ConvNeXtBase", {"name": "backbone"}, "name must contain convnext_base"),
        ("ConvNeXtTiny", {"classes": 5}, "classes must be 1000"),
        ("ConvNeXtTiny", {"input_shape": [64, 64, 3]}, "must be [224, 224, 3]"),
    ],
)
def test_arguments_keras_refuses_are_refused_in_one_line(
    name: str, arguments: dict[str, Any], message: str
):
    with pytest.raises(ApplicationError) as caught:
        application_spec(name, **arguments)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.keras
@pytest.mark.parametrize(
    ("name", "arguments"),
    [("EfficientNetB0", {"include_top": False, "input_shape": (64, 64, 3)})],
)
def test_imagenet_weights_change_the_graph_as_in_keras(name, arguments, monkeypatch):
    """With ``weights: imagenet`` EfficientNet adds a Rescaling by 1 / sqrt(stddev) per
    channel: the table equals the one Keras builds before it loads the weights (the
    download and the loading are stubbed out; nothing leaves the machine)."""
    from keras.src.models.functional import Functional
    from keras.src.utils import file_utils

    monkeypatch.setattr(file_utils, "get_file", lambda *args, **kwargs: "not-downloaded.h5")
    monkeypatch.setattr(Functional, "load_weights", lambda self, path: None, raising=False)
    arguments = {**arguments, "weights": "imagenet"}
    ours, our_params = application_text(name, arguments)
    theirs, their_params = keras_application_text(name, arguments)
    assert ours == theirs
    assert our_params == their_params
    assert "rescaling_1 (Rescaling)" in ours
