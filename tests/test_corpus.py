"""The corpus of published Keras models: each still builds to what ``expected/`` records.

This protects the corpus itself from drift (a Keras upgrade, an edited model file). The
default run checks the four smallest models and the corpus layout; ``-m slow`` checks all.
Regenerate with ``.venv/bin/python -m tests.corpus.make_expected`` (see tests/corpus/README.md).
"""

from __future__ import annotations

import importlib
import json
from collections import Counter
from typing import Any

import pytest

from tests.corpus import make_expected
from tests.corpus.make_expected import CORPUS, EXPECTED, expected_paths, model_ids

ALL = model_ids()


def _total_params(model_id: str) -> int:
    return json.loads(expected_paths(model_id)[0].read_text(encoding="utf-8"))["total_params"]


# The cheapest to build, by parameter count: what the default suite can afford.
SMALLEST = sorted(ALL, key=_total_params)[:4]


def _check(model_id: str) -> None:
    json_path, summary_path = expected_paths(model_id)
    model = make_expected.build(model_id)
    description = make_expected.describe(model)
    assert make_expected.dumps(description) == json_path.read_text(encoding="utf-8")
    assert make_expected.summary_text(model) == summary_path.read_text(encoding="utf-8")
    # A chain in the chain folder, a branching model in graphs/ (what each consumer expects).
    assert make_expected.is_chain(description) != model_id.startswith("graphs/")


@pytest.mark.parametrize("model_id", SMALLEST)
def test_small_corpus_models_equal_expected(model_id):
    _check(model_id)


@pytest.mark.slow
@pytest.mark.parametrize("model_id", ALL)
def test_every_corpus_model_equals_expected(model_id):
    _check(model_id)


MODERN = [
    "graphs/convmixer_256_8",
    "graphs/efficientnetb0_fine_tuning",
    "graphs/functional_api_ensemble",
    "graphs/functional_api_ticket_classifier",
    "graphs/keypoint_detection_mobilenetv2",
    "graphs/mobilenetv3small_classifier",
    "graphs/mobilevit_xxs",
    "graphs/siamese_contrastive",
    "graphs/tf_segmentation_unet",
    "graphs/tf_transfer_learning_mobilenetv2",
    "graphs/timeseries_transformer_forda",
    "graphs/video_feature_extractor_inceptionv3",
    "keras_transfer_learning_xception",
    "learnable_resizer_densenet121",
    "supervised_contrastive_classifier",
]
"""The published modern models issue 19 added (tests/corpus/README.md, "Modern models")."""


def _modern_kinds(description: dict[str, Any]) -> set[str]:
    """What of issue 19 a model's Keras description shows: operation rows, models used as
    layers, a loss given by output name."""
    kinds = set()
    for row in description["layers"]:
        if "operation" in row:
            kinds.add("operation")
        if row["type"] in ("Functional", "Sequential"):
            kinds.add("nested model")
    if isinstance((description["compile"] or {}).get("loss"), dict):
        kinds.add("loss by output")
    return kinds


def test_corpus_is_large_enough_and_each_model_has_expected_files():
    chains = [m for m in ALL if not m.startswith("graphs/")]
    assert len(chains) >= 24
    assert len(ALL) - len(chains) >= 17
    for model_id in ALL:
        json_path, summary_path = expected_paths(model_id)
        assert json_path.is_file(), f"{model_id}: run python -m tests.corpus.make_expected"
        assert summary_path.is_file(), f"{model_id}: run python -m tests.corpus.make_expected"
    written = {str(p.relative_to(EXPECTED)).removesuffix(".json") for p in EXPECTED.rglob("*.json")}
    assert written == set(ALL), "expected/ holds files of models that are gone"


def test_corpus_has_ten_modern_models_of_the_kinds_issue_19_opens():
    """Issue 19 item 6: >= 10 published models with operations on tensors, sub-models or
    losses by output name (each kind at least twice), read from what Keras says of them."""
    assert set(MODERN) <= set(ALL)
    kinds = {
        m: _modern_kinds(json.loads(expected_paths(m)[0].read_text(encoding="utf-8")))
        for m in MODERN
    }
    assert len([m for m, k in kinds.items() if k]) >= 10, kinds
    counts = Counter(kind for k in kinds.values() for kind in k)
    assert min(counts[k] for k in ("operation", "nested model")) >= 2, counts
    assert counts["loss by output"] >= 1, counts


@pytest.mark.parametrize("model_id", ALL)
def test_corpus_file_names_its_source_and_builds_with_build(model_id):
    module = importlib.import_module(make_expected.module_name(model_id))
    doc = module.__doc__ or ""
    assert "Source: " in doc, f"{model_id}: the header must name the source (repo and path)"
    assert "adaptations" in doc.lower() or "Copied: the call" in doc, model_id
    assert callable(module.build)
    assert (CORPUS / f"{model_id}.py").is_file()
