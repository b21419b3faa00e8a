"""specc import of a keras.applications backbone: read back by name (``{type: MobileNetV2,
include_top: false, ...}``) where the nested model is the application as Keras builds it,
proven layer by layer against specc's own data of it; anything else stays a ``models:``
graph. Each imported spec's table (``expand_nested`` included) equals Keras' own."""

from __future__ import annotations

import io
from typing import Any

import pytest
import yaml

from specc.analysis.pipeline import compile_text
from specc.backends import keras_build, table
from specc.backends.importer import import_model, to_yaml
from tests.keras_helpers import keras

pytestmark = pytest.mark.keras


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")


def _text(model: Any) -> str:
    out = io.StringIO()
    model.summary(print_fn=lambda line, line_break=True: out.write(line), expand_nested=True)
    return out.getvalue()


def _transfer(
    name: str, size: int, arguments: dict[str, Any], frozen: bool = True, head: bool = True
) -> Any:
    """The tutorial's shape of model: an input, the backbone (frozen, training=False),
    a Dense head."""
    k = keras()
    k.backend.clear_session()
    inputs = k.Input((size, size, 3))
    x = k.layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    base = getattr(k.applications, name)(input_shape=(size, size, 3), weights=None, **arguments)
    if frozen:
        base.trainable = False
    x = base(x, training=False)
    if head:
        x = k.layers.Flatten()(x)
        x = k.layers.Dense(2)(x)
    return k.Model(inputs, x, name="transfer")


def _imported(model: Any, tmp_path) -> tuple[dict[str, Any], Any]:
    """The import of ``model`` saved, and the imported spec compiled from its YAML."""
    path = tmp_path / "m.keras"
    model.save(path)
    spec = import_model(path)
    return spec, compile_text(to_yaml(spec, str(path)))


def _backbone(spec: dict[str, Any]) -> dict[str, Any]:
    return next(e for e in spec["model"]["layers"] if e.get("type", "").lower() != "rescaling")


def _check_same(model: Any, compiled: Any) -> None:
    """specc's table of the imported spec, and the model it builds, equal Keras'."""
    want = _text(model)
    assert table.as_text(compiled.graph, expand_nested=True) == want
    keras().backend.clear_session()
    built = keras_build.build(compiled.spec, compiled.graph, compile=False)
    assert _text(built) == want
    assert [layer.get_config() for layer in built.layers[2].layers] == [
        layer.get_config() for layer in model.layers[2].layers
    ]


def test_mobilenetv2_backbone_imports_by_name(tmp_path):
    """The fast representative: the tutorial's backbone, pooled, frozen, called with
    training=False; the entry is what a user writes, and it builds the same model."""
    model = _transfer("MobileNetV2", 32, {"include_top": False, "alpha": 0.35, "pooling": "avg"})
    spec, compiled = _imported(model, tmp_path)
    assert "models" not in spec
    assert _backbone(spec) == {
        "type": "MobileNetV2",
        "include_top": False,
        "weights": None,
        "input_shape": [32, 32, 3],
        "pooling": "avg",
        "alpha": 0.35,
        "trainable": False,
        "training": False,
    }
    _check_same(model, compiled)


def test_a_model_named_as_an_application_but_not_one_stays_a_graph(tmp_path):
    """The name proposes, the layers decide: a small model named ``resnet50`` is no
    ResNet50, and an application with some layers frozen (after fine-tuning) is no
    application call; both keep their graph under models:."""
    k = keras()
    k.backend.clear_session()
    inner_in = k.Input((8, 8, 3))
    inner = k.Model(inner_in, k.layers.Conv2D(4, 3)(inner_in), name="resnet50")
    inputs = k.Input((8, 8, 3))
    model = k.Model(inputs, k.layers.Flatten()(inner(inputs)), name="fake")
    spec, _ = _imported(model, tmp_path)
    assert spec["model"]["layers"][0] == {"model": "resnet50"}
    assert list(spec["models"]) == ["resnet50"]

    model = _transfer("MobileNetV2", 32, {"include_top": False, "alpha": 0.35}, frozen=False)
    for layer in model.layers[2].layers[:50]:
        layer.trainable = False
    spec, compiled = _imported(model, tmp_path)
    assert _backbone(spec) == {"model": "mobilenetv2_0_35_32", "training": False}
    assert table.as_text(compiled.graph, expand_nested=True) == _text(model)


def test_top_arguments_are_read_and_proven(tmp_path):
    """include_top with its classes and classifier_activation, as the layers say them."""
    arguments = {"include_top": True, "classes": 5, "classifier_activation": None}
    model = _transfer("MobileNetV2", 32, {"alpha": 0.35, **arguments}, head=False)
    spec, compiled = _imported(model, tmp_path)
    assert _backbone(spec) == {
        "type": "MobileNetV2",
        "weights": None,
        "input_shape": [32, 32, 3],
        "classes": 5,
        "classifier_activation": None,
        "alpha": 0.35,
        "trainable": False,
        "training": False,
    }
    _check_same(model, compiled)


ONE_PER_FAMILY = [
    ("VGG16", 32, {"include_top": False, "pooling": "max"}),
    ("ResNet50", 32, {"include_top": False}),
    ("ResNet50V2", 32, {"include_top": True, "classes": 3}),
    ("DenseNet121", 32, {"include_top": False, "pooling": "avg"}),
    ("InceptionV3", 75, {"include_top": False}),
    ("InceptionResNetV2", 75, {"include_top": False, "pooling": "avg"}),
    ("Xception", 71, {"include_top": False}),
    ("MobileNet", 32, {"include_top": True, "alpha": 0.25, "classes": 4, "dropout": 0.3}),
    ("NASNetMobile", 32, {"include_top": False}),
    ("MobileNetV3Small", 32, {"include_top": False, "minimalistic": True}),
    ("MobileNetV3Large", 32, {"include_top": True, "classes": 3, "alpha": 0.75}),
    ("EfficientNetB0", 32, {"include_top": False, "pooling": "avg"}),
    ("EfficientNetV2B0", 32, {"include_top": False, "include_preprocessing": False}),
    ("ConvNeXtTiny", 32, {"include_top": False}),
]
"""One application of each family (small inputs, weights=None), with arguments that
exercise what the import must read: top or not, pooling, classes, family arguments."""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "size", "arguments"), ONE_PER_FAMILY, ids=[c[0] for c in ONE_PER_FAMILY]
)
def test_each_family_imports_by_name(name, size, arguments, tmp_path):
    model = _transfer(name, size, arguments)
    spec, compiled = _imported(model, tmp_path)
    assert "models" not in spec
    entry = _backbone(spec)
    assert entry["type"] == name
    for key, value in arguments.items():  # each argument given is read back (or a default)
        assert entry.get(key, _default(name, key)) == value, key
    _check_same(model, compiled)
    assert yaml.safe_load(to_yaml(spec, "m.keras"))["model"]["layers"][1] == entry


def _default(name: str, key: str) -> Any:
    import inspect

    from specc.applications import generators

    return inspect.signature(generators()[name]).parameters[key].default
