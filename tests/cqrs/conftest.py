from __future__ import annotations

import pytest

from victor_core import HandlerRegistry, Mediator, PluginRegistry


@pytest.fixture
def registry() -> HandlerRegistry:
    """A handler registry of the test's own, so decorated handlers do not leak."""
    return HandlerRegistry()


@pytest.fixture
def plugins() -> PluginRegistry:
    return PluginRegistry()


@pytest.fixture
def mediator(registry: HandlerRegistry, plugins: PluginRegistry) -> Mediator:
    return Mediator(registry=registry, plugins=plugins)
