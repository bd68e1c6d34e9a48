"""Skipping a kernel test that needs a first-party distribution where it is not installed."""

from __future__ import annotations

import importlib.util

import pytest


def installed(module: str) -> bool:
    """True when *module* can be imported here (without importing it)."""
    return importlib.util.find_spec(module) is not None


def needs(module: str, distribution: str) -> pytest.MarkDecorator:
    """Skip the test, saying why, unless *distribution* (which provides *module*) is installed."""
    return pytest.mark.skipif(
        not installed(module), reason=f"needs {distribution}, which is not installed"
    )
