"""The blog's layer table, row by row, through the CLI's JSON and through the API."""

from __future__ import annotations

import json

import pytest

import specc
from tests.helpers import SPECS

BLOG = [
    ("conv2d", "Conv2D", [None, 28, 28, 32], 320),
    ("max_pooling2d", "MaxPooling2D", [None, 14, 14, 32], 0),
    ("conv2d_1", "Conv2D", [None, 14, 14, 32], 9248),
    ("max_pooling2d_1", "MaxPooling2D", [None, 7, 7, 32], 0),
    ("conv2d_2", "Conv2D", [None, 7, 7, 32], 9248),
    ("max_pooling2d_2", "MaxPooling2D", [None, 3, 3, 32], 0),
    ("conv2d_3", "Conv2D", [None, 3, 3, 16], 4624),
    ("dropout", "Dropout", [None, 3, 3, 16], 0),
    ("flatten", "Flatten", [None, 144], 0),
    ("dropout_1", "Dropout", [None, 144], 0),
    ("dense", "Dense", [None, 128], 18560),
    ("dropout_2", "Dropout", [None, 128], 0),
    ("dense_1", "Dense", [None, 10], 1290),
]
SPEC = SPECS / "mnist_cnn.yaml"


def _assert_blog(table: dict) -> None:
    assert table["name"] == "mnist_cnn"
    rows = [(r["name"], r["type"], r["output_shape"], r["params"]) for r in table["layers"]]
    assert len(rows) == len(BLOG)
    for got, want in zip(rows, BLOG, strict=True):
        assert got == want
    assert all(r["trainable_params"] == r["params"] for r in table["layers"])
    assert table["total_params"] == 43290
    assert table["trainable_params"] == 43290
    assert table["non_trainable_params"] == 0


def test_blog_table_through_cli_json(specc):
    run = specc("summary", str(SPEC), "--format", "json")
    assert run.exit_code == 0, run.stderr
    _assert_blog(json.loads(run.stdout))


def test_blog_table_through_api():
    _assert_blog(specc.summary(specc.load_spec(SPEC)))
    _assert_blog(specc.summary(SPEC))


def test_text_summary_is_keras_layout(specc):
    run = specc("summary", str(SPEC))
    assert run.exit_code == 0
    lines = run.stdout.splitlines()
    assert lines[0] == 'Model: "mnist_cnn"'
    assert "│ conv2d_3 (Conv2D)" in run.stdout and "(None, 3, 3, 16)" in run.stdout
    assert lines[-3:] == [
        " Total params: 43,290 (169.10 KB)",
        " Trainable params: 43,290 (169.10 KB)",
        " Non-trainable params: 0 (0.00 B)",
    ]


@pytest.mark.parametrize("row", range(len(BLOG)))
def test_each_row_resolves(row):
    graph = specc.resolve(SPEC)
    layer = graph.layers[row]
    name, type_, shape, params = BLOG[row]
    assert (layer.name, layer.type, list(layer.output_shape), layer.params) == (
        name,
        type_,
        shape,
        params,
    )
