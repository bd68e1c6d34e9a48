"""The one table of first-party backends agrees with the distributions in this repository.

The kernel must say what to install while a plugin is absent, so it cannot read the plugin's
metadata: ``FIRST_PARTY_BACKENDS`` restates it, and these tests hold the two together by
reading each ``pyproject.toml`` (no plugin needs to be installed). The table of backends in
docs/backends.md restates it for readers, and is held to it here too.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from victor_core.backend.known import CHECKOUT_PATHS, FIRST_PARTY_BACKENDS, exporting_backend
from victor_core.backend.url import parse_url
from victor_core.cli import COMMANDS_GROUP, FIRST_PARTY_COMMANDS
from victor_core.plugins.registry import default_registry

ROOT = Path(__file__).resolve().parents[1]


def project(directory: Path) -> dict[str, Any]:
    data = tomllib.loads((directory / "pyproject.toml").read_text("utf-8"))
    return dict(data["project"])


def requirement_names(requirements: list[str]) -> list[str]:
    return [r.partition(">=")[0] for r in requirements]


BACKENDS_PAGE = ROOT / "docs" / "backends.md"
_PAGE_HEADER = "| backend | distribution | from a source checkout | once published | URLs |"


def backends_page_table() -> dict[str, list[str]]:
    """docs/backends.md's table: backend name -> the other cells of its row, as written."""
    lines = BACKENDS_PAGE.read_text("utf-8").splitlines()
    rows: dict[str, list[str]] = {}
    for line in lines[lines.index(_PAGE_HEADER) + 2 :]:
        if not line.startswith("|"):
            break
        name, *cells = (cell.strip() for cell in line.strip("|").split("|"))
        rows[name.strip("`")] = cells
    return rows


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


def test_the_backends_page_gives_each_backend_its_distribution_and_install_commands() -> None:
    table = backends_page_table()
    comes_with_the_kernel = requirement_names(project(ROOT)["dependencies"])

    assert sorted(table) == sorted(FIRST_PARTY_BACKENDS)
    for name, (distribution, checkout, published, _) in table.items():
        backend = FIRST_PARTY_BACKENDS[name]
        assert distribution == f"`{backend.distribution}`", name
        assert checkout == f"`pip install ./{CHECKOUT_PATHS[backend.distribution]}`", name
        if backend.distribution in comes_with_the_kernel:
            assert published == "comes with `victor-core`", name
        else:
            assert published == f"`pip install 'victor-core[{backend.extra}]'`", name


def test_the_all_extra_the_backends_page_names_installs_every_first_party_backend() -> None:
    declared = project(ROOT)
    installed = requirement_names(
        [*declared["dependencies"], *declared["optional-dependencies"]["all"]]
    )

    assert "pip install 'victor-core[all]'" in BACKENDS_PAGE.read_text("utf-8")
    for backend in FIRST_PARTY_BACKENDS.values():
        assert backend.distribution in installed


@pytest.mark.parametrize("name", sorted(FIRST_PARTY_BACKENDS))
def test_each_url_on_the_backends_page_opens_the_backend_of_its_row(name: str) -> None:
    registry = default_registry()
    if name not in registry.installed_backends():
        pytest.skip(f"reads the URL schemes {FIRST_PARTY_BACKENDS[name].distribution} declares")
    urls = re.findall(r"`([a-z][a-z0-9+]*://[^`]*)`", backends_page_table()[name][3])

    assert urls, f"the {name} row gives no URL"
    for url in urls:
        assert registry.backend_for(parse_url(url)).name == name, url


def test_each_first_party_command_is_one_its_distribution_registers() -> None:
    for name, distribution in FIRST_PARTY_COMMANDS.items():
        declared = project(ROOT / CHECKOUT_PATHS[distribution])

        assert declared["name"] == distribution
        assert name in declared["entry-points"][COMMANDS_GROUP]


def test_a_name_no_backend_exports_belongs_to_none() -> None:
    assert exporting_backend("SQLiteEventStore") == "sqlite"
    assert exporting_backend("CassandraEventStore") is None
