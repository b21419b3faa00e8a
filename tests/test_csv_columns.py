"""A CSV whose columns feed several model inputs (``data.inputs``): the heart-disease
example (specs/heart_disease.yaml, keras-io's structured-data classification), its table
equal to the Keras code's, trained by ``specc train`` and its emitted script to the same
test metrics; and the checks on the column groups."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from specc.analysis.pipeline import compile_file, compile_text
from specc.errors import SpecError
from tests.emitted import emit
from tests.helpers import run_script

SPEC = Path(__file__).parent.parent / "specs" / "heart_disease.yaml"
COLUMNS = [
    "age", "sex", "cp", "trestbps", "chol", "fbs", "restecg", "thalach", "exang", "oldpeak",
    "slope", "ca", "thal", "target",
]  # fmt: skip


def write_heart_csv(path: Path, rows: int = 160, seed: int = 0) -> Path:
    """Heart-disease-like rows; the target shows in age, thalach and thal."""
    rng = np.random.default_rng(seed)
    lines: list[list[object]] = [COLUMNS]
    for _ in range(rows):
        t = int(rng.integers(0, 2))
        thal = ["normal", "fixed", "reversible"][int(rng.integers(0, 3))]
        lines.append([
            int(rng.normal(50 + 5 * t, 8)), int(rng.integers(0, 2)), int(rng.integers(0, 5)),
            int(rng.normal(130, 15)), int(rng.normal(240, 40)), int(rng.integers(0, 2)),
            int(rng.integers(0, 3)), int(rng.normal(150 - 10 * t, 20)), int(rng.integers(0, 2)),
            round(float(rng.random() * 3), 1), int(rng.integers(0, 3)), int(rng.integers(0, 4)),
            thal if rng.random() < 0.7 else ("reversible" if t else "normal"), t,
        ])  # fmt: skip
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(lines)
    return path


def keras_io_model():
    """The example's model as Keras code (keras-io's functional style)."""
    from tests.keras_helpers import keras

    k = keras()
    k.backend.clear_session()
    numeric = k.Input(shape=(6,), name="numeric")
    ints = {n: k.Input(shape=(1,), dtype="int64", name=n) for n in ("sex", "cp", "fbs")}
    ints |= {n: k.Input(shape=(1,), dtype="int64", name=n) for n in ("restecg", "exang", "ca")}
    thal = k.Input(shape=(1,), dtype="string", name="thal")
    encoded = [k.layers.Normalization()(numeric)]
    for name, vocabulary in (("sex", 2), ("cp", 5), ("fbs", 2), ("restecg", 3), ("exang", 2)):
        lookup = k.layers.IntegerLookup(vocabulary=list(range(vocabulary)), output_mode="one_hot")
        encoded.append(lookup(ints[name]))
    string = k.layers.StringLookup(
        vocabulary=["fixed", "normal", "reversible"], output_mode="one_hot"
    )
    encoded.append(string(thal))
    ca = k.layers.Flatten()(k.layers.Embedding(8, 2)(k.layers.IntegerLookup()(ints["ca"])))
    x = k.layers.Concatenate()([*encoded, ca])
    x = k.layers.Dropout(0.5)(k.layers.Dense(32, activation="relu")(x))
    output = k.layers.Dense(1, activation="sigmoid")(x)
    inputs = [numeric, *(ints[n] for n in ("sex", "cp", "fbs", "restecg", "exang", "ca")), thal]
    return k.Model(inputs, output, name="heart_disease")


@pytest.mark.keras
def test_the_heart_disease_table_equals_the_keras_code():
    from specc.backends import table
    from tests.family_differential import keras_summary
    from tests.keras_helpers import keras_rows, static_rows

    graph = compile_file(SPEC).graph
    model = keras_io_model()
    assert static_rows(graph) == keras_rows(model)
    assert table.as_text(graph, width=88).strip() == keras_summary(model)
    assert graph.total_params == model.count_params() == 1086


@pytest.mark.keras
def test_specc_train_and_the_emitted_script_agree_on_the_heart_csv(tmp_path, specc):
    data = write_heart_csv(tmp_path / "heart.csv")
    spec = tmp_path / "heart.yaml"
    text = SPEC.read_text().replace("data/heart.csv", str(data)).replace("epochs: 50", "epochs: 1")
    spec.write_text(text)
    run = specc("train", str(spec), "--output-dir", str(tmp_path / "specc"))
    assert run.exit_code == 0, run.stderr
    ours = json.loads((tmp_path / "specc" / "metrics.json").read_text())
    assert ours["train_samples"] == 102  # 160 rows: 32 test, 26 validation
    script = emit(compile_file(spec), tmp_path / "gen")
    proc = run_script(script, "--output-dir", str(tmp_path / "script"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    theirs = json.loads((tmp_path / "script" / "metrics.json").read_text())
    for key in ("test_loss", "test_accuracy"):
        assert math.isclose(ours[key], theirs[key], rel_tol=1e-5), (key, ours[key], theirs[key])


def _errors(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        compile_text(text)
    return [f"{d.line}:{d.col}: {d.message}" for d in caught.value.diagnostics]


GROUPS = """\
name: g
data:
  dataset: csv
  path: t.csv
  label: y
  inputs: {groups}
model:
  inputs: [{{name: a, shape: [2]}}, {{name: b, shape: [1], dtype: string}}]
  layers:
    - {{type: StringLookup, vocabulary: [p, q], output_mode: one_hot, inputs: [b]}}
    - {{type: Concatenate, inputs: [a, string_lookup]}}
    - {{type: Dense, units: 1, activation: sigmoid}}
  outputs: [dense]
compile: {{optimizer: adam, loss: binary_crossentropy}}
"""


def test_column_groups_must_fit_the_model_inputs():
    assert compile_text(GROUPS.format(groups="{a: [x1, x2], b: [c]}")).graph is not None
    assert _errors(GROUPS.format(groups="{a: [x1], b: [c], z: [w]}")) == [
        "6:15: 1 column(s) feed input 'a' of shape [2]; make its shape [1]",
        "6:32: the model has no input 'z'; its inputs are a, b",
    ]
    assert _errors(GROUPS.format(groups="{a: [x1, x2]}")) == [
        "6:11: model input 'b' is given no columns"
    ]


@pytest.mark.keras
def test_a_grouped_integer_column_holding_a_fraction_is_refused(tmp_path, specc):
    data = tmp_path / "t.csv"
    data.write_text("x1,x2,c,y\n1,2,p,0\n1,2.5,q,1\n" + "1,2,p,0\n" * 8)
    spec = tmp_path / "g.yaml"
    text = GROUPS.format(groups="{a: [x1, x2], b: [c]}").replace("t.csv", str(data))
    spec.write_text(text.replace("{name: a, shape: [2]}", "{name: a, shape: [2], dtype: int64}"))
    run = specc("train", str(spec), "--output-dir", str(tmp_path / "run"))
    assert run.exit_code == 1, run.stderr
    assert run.stderr.strip() == (
        f"error: {data}:3:2: column 'x2' holds '2.5', not a whole number, but feeds an integer input"
    )
