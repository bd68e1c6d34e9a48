"""Settings for the kernel's own tests: nothing of a run is left in the working directory."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis keeps an example database and caches under ./.hypothesis by default.
_HOME = tempfile.mkdtemp(prefix="victor-tests-hypothesis-")
set_hypothesis_home_dir(_HOME)
settings.register_profile("victor-tests", database=None)
settings.load_profile("victor-tests")


@pytest.fixture(scope="session", autouse=True)
def _remove_hypothesis_home() -> Iterator[None]:
    yield
    shutil.rmtree(_HOME, ignore_errors=True)
