"""keras.applications graphs as data (issue 19): each family's table equal to Keras'.

``specc.applications.application_spec`` writes an application as a ``model:`` mapping;
validated as a spec, its table must be the one ``keras.applications.<Name>(weights=None,
...)`` prints, byte for byte (the model's name line and the Connected-to column included),
for Keras' defaults and other arguments. The default run builds one small family of each
kind; ``-m slow`` the rest (Keras takes seconds to build the big ones).
"""

from __future__ import annotations

import io
import re

import pytest
import yaml

from specc.analysis.pipeline import compile_text
from specc.applications import NAMES, ApplicationError, application_spec
from specc.backends import table
from tests.helpers import (
    KERAS_MISSING,
    application_case,
    application_text,
    keras_application_text,
)

keras_only = pytest.mark.skipif(KERAS_MISSING is not None, reason=KERAS_MISSING or "")


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")


MINE = (
    "VGG16", "VGG19", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2",
    "ResNet152V2", "DenseNet121", "DenseNet169", "DenseNet201", "InceptionV3",
    "InceptionResNetV2", "Xception", "MobileNet", "MobileNetV2", "NASNetMobile", "NASNetLarge",
)  # fmt: skip
"""The applications this module's cases cover (issue 19's first half), each with a case."""

CASES = [
    # the default run: one small model of each kind (a chain, depthwise and residual
    # blocks with Keras' asymmetric padding, concatenated branches with automatic names)
    application_case("VGG16"),
    application_case("VGG16", include_top=False, pooling="max", input_shape=[48, 64, 3]),
    application_case(
        "MobileNet", include_top=False, pooling="avg", alpha=0.5, input_shape=[96, 96, 3]
    ),
    application_case("MobileNetV2", include_top=False, alpha=0.35, input_shape=[97, 75, 3]),
    application_case("InceptionV3", include_top=False, pooling="max", input_shape=[75, 80, 3]),
    # -m slow: every application, Keras' defaults and other arguments
    application_case("VGG19", slow=True),
    application_case(
        "VGG19", input_shape=[64, 64, 3], classes=7, classifier_activation=None, slow=True
    ),
    application_case("ResNet50", slow=True),
    application_case(
        "ResNet50", include_top=False, pooling="avg", input_shape=[64, 96, 3], slow=True
    ),
    application_case("ResNet101", slow=True),
    application_case("ResNet152", include_top=False, slow=True),
    application_case("ResNet50V2", slow=True),
    application_case(
        "ResNet50V2", include_top=False, pooling="max", input_shape=[96, 80, 3], slow=True
    ),
    application_case("ResNet101V2", include_top=False, pooling="avg", slow=True),
    application_case("ResNet152V2", slow=True),
    application_case("DenseNet121", slow=True),
    application_case(
        "DenseNet121", include_top=False, pooling="max", input_shape=[33, 40, 3], slow=True
    ),
    application_case(
        "DenseNet169", include_top=False, pooling="avg", input_shape=[64, 96, 3], slow=True
    ),
    application_case("DenseNet201", slow=True),
    application_case("InceptionV3", slow=True),
    application_case("InceptionResNetV2", slow=True),
    application_case(
        "InceptionResNetV2", include_top=False, pooling="avg", input_shape=[80, 75, 3], slow=True
    ),
    application_case("Xception", slow=True),
    application_case(
        "Xception", include_top=False, pooling="max", input_shape=[71, 90, 3], slow=True
    ),
    application_case("MobileNet", slow=True),
    application_case("MobileNet", include_top=False, slow=True),
    application_case(
        "MobileNet",
        alpha=0.75,
        depth_multiplier=2,
        input_shape=[160, 160, 3],
        dropout=0.5,
        classes=10,
        classifier_activation=None,
        slow=True,
    ),
    application_case("MobileNetV2", slow=True),
    application_case("MobileNetV2", alpha=1.3, input_shape=[160, 160, 3], classes=10, slow=True),
    application_case("MobileNetV2", include_top=False, pooling="max", alpha=0.5, slow=True),
    application_case("NASNetMobile", slow=True),
    application_case(
        "NASNetMobile", include_top=False, pooling="avg", input_shape=[75, 99, 3], slow=True
    ),
    application_case("NASNetLarge", slow=True),
    application_case("NASNetLarge", include_top=False, slow=True),
]


@pytest.mark.parametrize(("name", "arguments"), CASES)
def test_application_table_is_keras(name, arguments):
    ours, our_params = application_text(name, arguments)
    theirs, their_params = keras_application_text(name, arguments)
    assert ours == theirs
    assert our_params == their_params


def test_every_application_has_a_generator():
    """NAMES lists each family's applications once, by Keras' names."""
    assert len(set(NAMES)) == len(NAMES)
    assert set(MINE) <= set(NAMES)
    tested = {param.values[0] for param in CASES}
    assert set(MINE) <= tested, f"no table test for {set(MINE) - tested}"


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


def test_an_application_is_a_spec_specc_summary_reads(capsys):
    """``python -m specc.applications NAME ARG=VALUE ...`` prints the spec (the application
    as the whole model); its table is the generator's."""
    from specc.applications.__main__ import main

    given = ["MobileNetV2", "include_top=false", "alpha=0.35", "input_shape=[96, 96, 3]"]
    assert main(given) == 0
    text = capsys.readouterr().out
    compiled = compile_text(text, "mobilenet.yaml")
    assert compiled.graph.name == "mobilenetv2_0.35_96"
    ours, _ = application_text("MobileNetV2", {"include_top": False, "alpha": 0.35,
                                          "input_shape": [96, 96, 3]})  # fmt: skip
    assert table.as_text(compiled.graph) == ours
    assert main(["MobileNetV2", "alpha=0.3"]) == 2  # imagenet weights: Keras' alphas only
    assert capsys.readouterr().err == (
        "error: with weights: imagenet, alpha must be 0.35, 0.5, 0.75, 1.0, 1.3 or 1.4 "
        "(got 0.3); give weights: null for another\n"
    )
    assert main(["MobileNetV2", "alpha"]) == 2
    assert "is not ARGUMENT=VALUE" in capsys.readouterr().err


@pytest.mark.keras
@keras_only
def test_custom_scale_layer_imports_builds_and_emits(tmp_path):
    """InceptionResNetV2's Keras-internal CustomScaleLayer: a saved model that uses it
    imports as a spec (module keras.src.applications.inception_resnet_v2), whose table
    and built model are Keras', and whose emitted script calls the same class."""
    from tests.helpers import run_specc
    from tests.keras_helpers import keras

    k = keras()
    k.backend.clear_session()
    scale_layer = k.src.applications.inception_resnet_v2.CustomScaleLayer
    x = k.Input((8, 8, 4))
    up = k.layers.Conv2D(2, 3, padding="same")(x)
    up = k.layers.Conv2D(4, 1)(up)
    y = scale_layer(0.17)([x, up])
    model = k.Model(x, k.layers.Activation("relu")(y), name="scaled_residual")
    model.save(tmp_path / "original.keras")
    spec_path = tmp_path / "imported.yaml"
    done = run_specc("import", str(tmp_path / "original.keras"), "-o", str(spec_path))
    assert done.exit_code == 0, done.stderr
    entry = yaml.safe_load(spec_path.read_text())["model"]["layers"][2]
    assert entry == {
        "type": "CustomScaleLayer",
        "scale": 0.17,
        "inputs": ["input_layer", "conv2d_1"],
    }
    out = io.StringIO()
    model.summary(print_fn=lambda line, line_break=True: out.write(line))
    summary = run_specc("summary", str(spec_path))
    assert summary.stdout == out.getvalue()
    k.backend.clear_session()
    built = run_specc("build", str(spec_path), "-o", str(tmp_path / "built.keras"))
    assert built.exit_code == 0, built.stderr
    assert built.stdout.rsplit("\n", 2)[0] + "\n" == out.getvalue()
    from tests.emitted import completed, emit, load_module

    data = completed(yaml.safe_load(spec_path.read_text()))
    script = emit(compile_text(yaml.safe_dump(data, sort_keys=False)), tmp_path / "out")
    called = r"keras\.src\.applications\.inception_resnet_v2\.CustomScaleLayer\(\s*0\.17,"
    assert re.search(called, script.read_text())
    k.backend.clear_session()
    emitted = load_module(script).build_model()
    assert [(x.name, x.count_params()) for x in emitted.layers] == [
        (x.name, x.count_params()) for x in model.layers
    ]
