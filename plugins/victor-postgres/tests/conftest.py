"""A database of this run's own on the test server, and a fresh schema in it per test.

The fixtures are the kernel's (:mod:`tests.support.postgres`), which its tests that copy
through PostgreSQL use too; this package's tests name the schema's URL ``url``.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Registered here rather than named in pytest_plugins, which pytest refuses in a conftest
    # it finds while collecting (as `pytest plugins` does); registered once whoever asks first.
    config.pluginmanager.import_plugin("tests.support.postgres")


@pytest.fixture
def url(postgres_url: str) -> str:
    """A URL whose tables land in a schema no other test uses."""
    return postgres_url
