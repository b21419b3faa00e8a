"""Spec paths: the one syntax --set, variants and sweeps name a place in a spec with."""

from __future__ import annotations

import copy
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from specc.language.paths import PathError, assign, delete, get, insert, parse, render

keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_\-]{0,8}", fullmatch=True)


@given(head=keys, tail=st.lists(keys | st.integers(-50, 50), max_size=6))
def test_render_parse_round_trip(head, tail):
    path = (head, *tail)
    assert parse(render(path)) == path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty path"),
        ("[0].a", "a path starts with a key"),
        (".a", "expected a key or [index] at column 1"),
        ("a..b", "at column 2"),
        ("a[x]", "at column 2"),
        ("a b", "at column 2"),
        ("a[+1].b", "[+N] (insert before index N, N >= 0) is only a path's last step"),
        ("a[+-1]", "[+N] inserts before index N, N >= 0 (not negative)"),
    ],
)
def test_malformed_paths_say_where(text, message):
    with pytest.raises(PathError, match=re.escape(message)):
        parse(text)


BLOG = {"model": {"layers": [{"type": "Conv2D", "filters": 32}, {"type": "Dense", "units": 10}]}}


def test_edits_never_change_their_argument():
    before = copy.deepcopy(BLOG)
    assign(BLOG, parse("model.layers[1].units"), 5)
    delete(BLOG, parse("model.layers[0]"))
    insert(BLOG, parse("model.layers[1]"), {"type": "Dropout", "rate": 0.5})
    assert before == BLOG


def test_edits():
    assert (
        get(assign(BLOG, parse("model.layers[-1].units"), 5), parse("model.layers[1].units")) == 5
    )
    assert [e["type"] for e in delete(BLOG, parse("model.layers[0]"))["model"]["layers"]] == [
        "Dense"
    ]
    inserted = insert(BLOG, parse("model.layers[1]"), {"type": "Dropout"})
    assert [e["type"] for e in inserted["model"]["layers"]] == ["Conv2D", "Dropout", "Dense"]
    assert (
        assign(BLOG, parse("model.layers[0].padding"), "same")["model"]["layers"][0]["padding"]
        == "same"
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda: get(BLOG, parse("model.layers[2]")), r"model.layers has 2 item\(s\): index 2"),
        (lambda: get(BLOG, parse("model.input.shape")), "model.input: no such key"),
        (
            lambda: assign(BLOG, parse("model.layers.units"), 1),
            "model.layers is a list, not a mapping",
        ),
        (lambda: assign(BLOG, parse("model[0]"), 1), "model is a mapping, not a list"),
        (
            lambda: assign(BLOG, parse("model.layers[0].filters.x"), 1),
            "the value 32, not a mapping",
        ),
        (lambda: insert(BLOG, parse("model.layers[3]"), {}), "cannot insert at 3"),
        (lambda: insert(BLOG, parse("model.layers"), {}), "needs a list index"),
        (lambda: delete(BLOG, parse("model.nothing")), "model.nothing: no such key"),
    ],
)
def test_edits_that_do_not_fit_say_why(edit, message):
    with pytest.raises(PathError, match=message):
        edit()
