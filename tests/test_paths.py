"""Spec paths: the one syntax --set, variants and sweeps name a place in a spec with."""

from __future__ import annotations

import copy
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specc.language.paths import Insert, PathError, assign, delete, get, insert, parse, render

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


def _random_path(data: object, draw) -> tuple:
    """A path into ``data`` (existing keys and indexes, now and then one that is not there),
    for an assign, a delete or (a last step ``[+N]``) an insert."""
    path: list = []
    node = data
    while isinstance(node, dict | list) and node:
        if isinstance(node, dict):
            key = draw(st.sampled_from([*node, "new_key"]))
        else:
            key = draw(st.integers(-len(node) - 1, len(node)))
            if draw(st.integers(0, 2)) == 0:  # insert here (sometimes out of range)
                path.append(Insert(draw(st.integers(0, len(node) + 1))))
                return tuple(path)
        path.append(key)
        missing = key not in node if isinstance(node, dict) else not -len(node) <= key < len(node)
        if missing or draw(st.integers(0, 3)) == 0:
            break
        node = node[key]
    return tuple(path)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_many_edits_at_once_equal_edits_one_at_a_time(data):
    """overrides.Editor (a variant's set:, linear) makes the data and source map that
    overrides.edit makes one edit after another, and refuses the same edits alike."""
    from specc.language import overrides
    from specc.language.loader import load_file
    from tests.helpers import SPECS

    name = data.draw(
        st.sampled_from(["mnist_cnn.yaml", "two_inputs.yaml", "unet_oxford_pets.yaml"])
    )
    loaded = load_file(SPECS / name)
    one_by_one, source = loaded.data, overrides.copy_source(loaded.source)
    target = overrides.copy_source(loaded.source)
    editor = overrides.Editor(loaded.data, target)
    for step in range(data.draw(st.integers(1, 12))):
        path = _random_path(one_by_one, data.draw)
        if not path:
            continue
        value = data.draw(st.sampled_from([None, 3, "x", [1, 2], {"type": "Dense", "units": 4}]))
        where = overrides.Positions(
            {
                (): (100 + step, 1),
                **({("units",): (100 + step, 9)} if isinstance(value, dict) else {}),
            },
            {(): (100 + step, 0)},
            {(): (True, "hint")} if value == "x" else {},
        )
        try:
            one_by_one = overrides.edit(one_by_one, source, path, value, where)
        except PathError as exc:
            with pytest.raises(PathError) as caught:
                editor.edit(path, value, where)
            assert (str(caught.value), caught.value.where) == (str(exc), exc.where)
            continue
        editor.edit(path, value, where)
        assert editor.data == one_by_one
    assert editor.finish() == one_by_one
    assert (target.values, target.keys, target.yaml11) == (
        source.values,
        source.keys,
        source.yaml11,
    )
    assert loaded.data == load_file(SPECS / name).data  # the argument unchanged


EDITS = [
    ("model.layers[+1]", {"type": "Dropout", "rate": 0.1}),
    ("model.layers[3]", None),
    ("model.layers[-1].units", 12),
    ("model.layers[0]", {"type": "Dense", "units": 3}),
    ("model.layers[+13]", {"type": "Flatten"}),
    ("model.layers[2]", None),
    ("compile.optimizer", None),
    ("training.epochs", 2),
    ("data.preprocessing.x[+0]", {"cast": "float32"}),
    ("model.layers[+0]", None),  # refused: nothing to insert
    ("model.layers[40]", None),  # refused: out of range
]


@pytest.mark.parametrize("upto", range(1, len(EDITS) + 1))
def test_editor_on_a_fixed_sequence(upto):
    """The same edits as Editor and as edit one by one: inserts and deletes in lists move
    the positions of the items after them alike."""
    from specc.language import overrides
    from specc.language.loader import load_file
    from tests.helpers import SPECS

    loaded = load_file(SPECS / "mnist_cnn.yaml")
    one_by_one, source = loaded.data, overrides.copy_source(loaded.source)
    target = overrides.copy_source(loaded.source)
    editor = overrides.Editor(loaded.data, target)
    for step, (text, value) in enumerate(EDITS[:upto]):
        where = overrides.Positions({(): (100 + step, 1)}, {(): (100 + step, 0)})
        try:
            one_by_one = overrides.edit(one_by_one, source, parse(text), value, where)
        except PathError as exc:
            with pytest.raises(PathError, match=re.escape(str(exc))):
                editor.edit(parse(text), value, where)
            continue
        editor.edit(parse(text), value, where)
    assert editor.finish() == one_by_one
    assert (target.values, target.keys) == (source.values, source.keys)
