"""Settings for the kernel's own tests: nothing of a run is left in the working directory.

The kernel's tests need no plugin installed: the ``lists`` backend of
:mod:`tests.support.backend` (a small recorder and document store) is installed for the run,
as a distribution with an entry point in ``victor.backends`` on ``sys.path``, so that the
registry finds it exactly as it finds a real plugin. Test modules that exercise a plugin
itself start with ``pytest.importorskip`` of that plugin, and are skipped, saying so, where
it is absent (``nox -s tests-kernel`` runs them that way).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

from tests.support import backend
from tests.support.distributions import install_distribution

# Hypothesis keeps an example database and caches under ./.hypothesis by default.
_HOME = tempfile.mkdtemp(prefix="victor-tests-hypothesis-")
set_hypothesis_home_dir(_HOME)
settings.register_profile("victor-tests", database=None)
settings.load_profile("victor-tests")

_SITE = tempfile.mkdtemp(prefix="victor-tests-site-")
install_distribution(
    Path(_SITE),
    "victor-kernel-tests",
    "0",
    entry_points={"victor.backends": {backend.NAME: backend.__name__}},
    modules={},
)
sys.path.append(_SITE)


@pytest.fixture(scope="session", autouse=True)
def _remove_hypothesis_home() -> Iterator[None]:
    yield
    shutil.rmtree(_HOME, ignore_errors=True)
    shutil.rmtree(_SITE, ignore_errors=True)
