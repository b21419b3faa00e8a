"""A folder of texts (``dataset: text_folder``): specs/imdb_text_folder.yaml trained from a
generated folder by ``specc train`` and its emitted script to the same test metrics (the
TextVectorization adapted on the training split), misclassified texts shown in the report
by their first words, and the folder checked before training in one line each."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from specc.analysis.pipeline import compile_file
from tests.emitted import emit
from tests.helpers import run_script

SPEC = Path(__file__).parent.parent / "specs" / "imdb_text_folder.yaml"
GOOD = ["great", "wonderful", "superb", "moving", "brilliant", "loved"]
BAD = ["awful", "boring", "dull", "terrible", "waste", "hated"]
FILLER = ["the", "a", "film", "movie", "plot", "actor", "story", "was", "it", "and", "of"]


def write_texts(root: Path, train: int = 40, test: int = 12, mixed: bool = False) -> Path:
    """train/ and test/, each with neg/ and pos/ reviews; ``mixed``: words of both kinds
    in both classes (a classifier then gets many wrong)."""
    rng = np.random.default_rng(0)
    for split, n in (("train", train), ("test", test)):
        for label, words in (("neg", BAD), ("pos", GOOD)):
            folder = root / split / label
            folder.mkdir(parents=True, exist_ok=True)
            vocabulary = FILLER + (GOOD + BAD if mixed else words * 2)
            for i in range(n // 2):
                text = " ".join(rng.choice(vocabulary, size=int(rng.integers(5, 30))))
                (folder / f"{i}.txt").write_text(text.capitalize() + ".", "utf-8")
    return root


def _spec(tmp_path: Path, data: Path, text: str | None = None) -> Path:
    path = tmp_path / "imdb.yaml"
    text = text or SPEC.read_text()
    path.write_text(text.replace("data/aclImdb ", str(data)).replace("epochs: 3", "epochs: 1"))
    return path


@pytest.mark.keras
def test_the_example_table_equals_the_keras_code():
    from specc.backends import table
    from tests.family_differential import keras_summary
    from tests.keras_helpers import keras, keras_rows, static_rows

    k = keras()
    k.backend.clear_session()
    L = k.layers
    model = k.Sequential(
        [
            k.Input(shape=(1,), dtype="string"),
            L.TextVectorization(max_tokens=20000, output_sequence_length=500),
            L.Embedding(20000, 128),
            L.Dropout(0.5),
            L.Conv1D(128, 7, padding="valid", activation="relu", strides=3),
            L.Conv1D(128, 7, padding="valid", activation="relu", strides=3),
            L.GlobalMaxPooling1D(),
            L.Dense(128, activation="relu"),
            L.Dropout(0.5),
            L.Dense(1, activation="sigmoid"),
        ],
        name="imdb_text_folder",
    )
    graph = compile_file(SPEC).graph
    assert static_rows(graph) == keras_rows(model)
    assert table.as_text(graph, width=88).strip() == keras_summary(model)


@pytest.mark.keras
def test_specc_train_and_the_emitted_script_agree_on_a_text_folder(tmp_path, specc):
    path = _spec(tmp_path, write_texts(tmp_path / "texts"))
    run = specc("train", str(path), "--output-dir", str(tmp_path / "specc"))
    assert run.exit_code == 0, run.stderr
    ours = json.loads((tmp_path / "specc" / "metrics.json").read_text())
    assert ours["train_samples"] == 32  # 40 training files, 0.2 validate
    assert ours["class_names"] == ["neg", "pos"]
    script = emit(compile_file(path), tmp_path / "gen")
    proc = run_script(script, "--output-dir", str(tmp_path / "script"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    theirs = json.loads((tmp_path / "script" / "metrics.json").read_text())
    for key in ("test_loss", "test_accuracy"):
        assert math.isclose(ours[key], theirs[key], rel_tol=1e-5), (key, ours[key], theirs[key])
    from tests.keras_helpers import keras

    model = keras().saving.load_model(tmp_path / "specc" / "model.keras")
    vocabulary = model.get_layer("text_vectorization").get_vocabulary()
    assert set(GOOD + BAD) <= set(vocabulary)  # adapted on the training texts


@pytest.mark.keras
def test_the_report_shows_misclassified_texts_by_their_first_words(tmp_path, specc):
    text = SPEC.read_text().replace("{type: Dense, units: 1, activation: sigmoid}",
                                    "{type: Dense, units: 2, activation: softmax}")  # fmt: skip
    text = text.replace("loss: binary_crossentropy", "loss: sparse_categorical_crossentropy")
    path = _spec(tmp_path, write_texts(tmp_path / "texts", mixed=True), text)
    run = specc("train", str(path), "--output-dir", str(tmp_path / "run"))
    assert run.exit_code == 0, run.stderr
    with np.load(tmp_path / "run" / "report.npz") as data:
        texts, index = list(data["wrong_text"]), list(data["wrong_index"])
        wrong = int((data["y_true"] != data["y_pred"]).sum())
    assert wrong > 0 and len(texts) == len(index) == min(wrong, 25)
    first = sorted((tmp_path / "texts" / "test").rglob("*.txt"))  # Keras reads test/ in order
    words = first[index[0]].read_text().split()
    assert texts[0] == " ".join(words[:12]) + (" ..." if len(words) > 12 else "")
    page = (tmp_path / "run" / "report.html").read_text()
    assert "Misclassified test texts" in page and texts[0].replace("'", "&#39;") in page


def _refused(tmp_path: Path, specc, path: Path) -> str:
    run = specc("train", str(path), "--output-dir", str(tmp_path / "run"))
    assert run.exit_code == 1, run.stderr
    assert run.stderr.count("\n") == 1, run.stderr
    return run.stderr.removeprefix("error: ").strip()


def test_a_text_folder_is_checked_before_training(tmp_path, specc):
    root = write_texts(tmp_path / "texts")
    for f in (root / "test" / "pos").iterdir():
        f.unlink()
    (root / "test" / "pos").rmdir()
    assert _refused(tmp_path, specc, _spec(tmp_path, root)) == (
        f"{root / 'test'}: one class subfolder (neg/); a classifier needs at least two"
    )
    text = (
        f"name: t\ndata: {{dataset: text_folder, path: {root}}}\n"
        "model: {input: {shape: [1]}, layers: [{type: Dense, units: 1, activation: sigmoid}]}\n"
        "compile: {optimizer: adam, loss: binary_crossentropy}\n"
    )
    assert _refused(tmp_path, specc, _spec(tmp_path, root, text)).startswith(
        f"{root}: a text folder gives one string per sample: make the model input "
        "{shape: [1], dtype: string}"
    )
