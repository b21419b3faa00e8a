"""Fixtures only; the plain helpers they use live in ``tests/helpers.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import MNIST_FOUND, MNIST_MISSING, run_specc


@pytest.fixture
def mnist() -> Path:
    """The path of the real MNIST; skips the test, saying where it looked, when absent."""
    if MNIST_FOUND is None:
        pytest.skip(MNIST_MISSING)
    return MNIST_FOUND


@pytest.fixture
def specc():
    return run_specc
