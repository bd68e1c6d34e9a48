"""The plugin system: how backends and other plugins are found, loaded and opened.

An application rarely needs more than :func:`~victor_core.open_event_store` and
:func:`~victor_core.open_repository`; the registry is here for inspecting what is installed
(what ``victor backends`` prints) and for handing a bus its own set of plugins. What a
backend declares about itself lives in :mod:`victor_core.backend`.
"""

from victor_core.backend.markers import hookimpl
from victor_core.plugins.registry import (
    Backend,
    PluginEntry,
    PluginLoadWarning,
    PluginRegistry,
    default_registry,
    open_event_store,
    open_repository,
)

__all__ = [
    "Backend",
    "PluginEntry",
    "PluginLoadWarning",
    "PluginRegistry",
    "default_registry",
    "hookimpl",
    "open_event_store",
    "open_repository",
]
