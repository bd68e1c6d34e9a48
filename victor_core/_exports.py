"""Backend classes importable from the kernel namespace, resolved from installed plugins.

``from victor_core import SQLiteEventStore`` works when victor-sqlite is installed: the
plugin lists the class under the entry point group ``victor.exports``, and the kernel imports
it only when the name is asked for. When no installed plugin exports the name of a first-party
backend's class (``FIRST_PARTY_BACKENDS`` in :mod:`victor_core.backend.known`), the ImportError
says which distribution to install.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from victor_core.backend.known import exporting_backend, install_hint
from victor_core.errors import BackendNotFound, PluginLoadError

EXPORTS_GROUP = "victor.exports"


class MissingBackend(BackendNotFound, ImportError):
    """A backend class was imported from the kernel but its plugin is not installed."""


class PluginExportError(PluginLoadError, ImportError):
    """A backend class is installed but its module fails to import."""


def resolve_export(module: str, name: str) -> Any:
    """The object a plugin exports as *name*, or an error saying what to install."""
    for ep in entry_points(group=EXPORTS_GROUP, name=name):
        try:
            return ep.load()
        except Exception as exc:
            dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else "unknown"
            raise PluginExportError(
                f"{name} could not be imported from {ep.value} (distribution {dist}): "
                f"{type(exc).__name__}: {exc}. Reinstall that distribution"
            ) from exc
    backend = exporting_backend(name)
    if backend is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    raise MissingBackend(
        f"{name} comes from the {backend!r} backend plugin, which is not installed: "
        f"{install_hint(backend)}"
    )
