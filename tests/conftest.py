"""Fixtures and hooks only; the plain helpers they use live in ``tests/helpers.py``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import KERAS_MISSING, MNIST_FOUND, MNIST_MISSING, run_specc


def _for_want_of_keras(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) is Keras or its backend failing to import."""
    from specc.errors import KerasMissingError

    seen = 0
    while exc is not None and seen < 20:
        if isinstance(exc, KerasMissingError):
            return True
        if isinstance(exc, ModuleNotFoundError) and (exc.name or "").split(".")[0] in {
            "keras", "tensorflow", "jax", "torch"
        }:  # fmt: skip
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


collect_ignore_glob = ["corpus/*.py", "corpus/*/*.py"] if KERAS_MISSING else []
"""The corpus is Keras programs (no doctests) that the importer tests save and read back:
without Keras, --doctest-modules would only fail to import them."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``keras`` skip, saying why, where Keras cannot be loaded."""
    if KERAS_MISSING:
        for item in items:
            if item.get_closest_marker("keras"):
                item.add_marker(pytest.mark.skip(reason=KERAS_MISSING))


@contextlib.contextmanager
def _skipped_for_want_of_keras() -> Iterator[None]:
    """Keras (through specc's one door, kerasenv, or an import) failing to load where Keras
    or its backend is not installed becomes a skip with the reason; with Keras installed
    nothing changes, so no failure of a real test is ever hidden."""
    try:
        yield
    except Exception as exc:
        if KERAS_MISSING and _for_want_of_keras(exc):
            pytest.skip(KERAS_MISSING)
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):  # type: ignore[no-untyped-def]
    """A fixture that loads Keras where there is none: skip."""
    with _skipped_for_want_of_keras():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):  # type: ignore[no-untyped-def]
    """A test that loads Keras where there is none: skip."""
    with _skipped_for_want_of_keras():
        return (yield)


@pytest.fixture
def mnist() -> Path:
    """The path of the real MNIST; skips the test, saying where it looked, when absent."""
    if MNIST_FOUND is None:
        pytest.skip(MNIST_MISSING)
    return MNIST_FOUND


@pytest.fixture
def specc():
    return run_specc
