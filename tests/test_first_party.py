"""The one table of first-party backends agrees with the distributions in this repository.

The kernel must say what to install while a plugin is absent, so it cannot read the plugin's
metadata: ``FIRST_PARTY_BACKENDS`` restates it, and these tests hold the two together by
reading each ``pyproject.toml`` (no plugin needs to be installed).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from victor_core.backend.known import CHECKOUT_PATHS, FIRST_PARTY_BACKENDS, exporting_backend
from victor_core.cli import COMMANDS_GROUP, FIRST_PARTY_COMMANDS

ROOT = Path(__file__).resolve().parents[1]


def project(directory: Path) -> dict[str, Any]:
    data = tomllib.loads((directory / "pyproject.toml").read_text("utf-8"))
    return dict(data["project"])


def test_every_plugin_directory_is_one_row_of_the_table() -> None:
    directories = sorted(p.name for p in (ROOT / "plugins").glob("victor-*"))

    assert sorted(b.distribution for b in FIRST_PARTY_BACKENDS.values()) == directories


def test_each_row_names_the_backend_and_the_classes_its_distribution_registers() -> None:
    for name, backend in FIRST_PARTY_BACKENDS.items():
        declared = project(ROOT / "plugins" / backend.distribution)
        entry_points = declared["entry-points"]

        assert declared["name"] == backend.distribution
        assert list(entry_points["victor.backends"]) == [name]
        assert sorted(entry_points["victor.exports"]) == sorted(backend.exports)
        for export in backend.exports:
            assert exporting_backend(export) == name


def test_each_row_names_the_kernel_extra_that_installs_its_distribution() -> None:
    extras = project(ROOT)["optional-dependencies"]

    for backend in FIRST_PARTY_BACKENDS.values():
        requirements = [r.partition(">=")[0] for r in extras[backend.extra]]
        assert requirements == [backend.distribution]


def test_every_install_hint_path_is_that_distributions_directory() -> None:
    for distribution, relative in CHECKOUT_PATHS.items():
        assert project(ROOT / relative)["name"] == distribution


def test_each_first_party_command_is_one_its_distribution_registers() -> None:
    for name, distribution in FIRST_PARTY_COMMANDS.items():
        declared = project(ROOT / CHECKOUT_PATHS[distribution])

        assert declared["name"] == distribution
        assert name in declared["entry-points"][COMMANDS_GROUP]


def test_a_name_no_backend_exports_belongs_to_none() -> None:
    assert exporting_backend("SQLiteEventStore") == "sqlite"
    assert exporting_backend("CassandraEventStore") is None
