"""First-party distributions, so that an error can say exactly what to install.

This is a table of install hints, not a registry: nothing here is imported or loaded.
:data:`FIRST_PARTY_BACKENDS` is the one list of the backends this repository ships: the
install hints, the backend classes importable from ``victor_core`` (``_exports``) and the
tests that compare it with ``plugins/*/pyproject.toml`` all read it.

A hint must name something that installs where the user is. The first-party distributions
live side by side in one source repository; when the kernel was installed from a checkout of
it (pip records where from, PEP 610), ``pip install victor-sqlite`` would look for a
distribution on an index instead, so the hint names the plugin's directory in that checkout.
Otherwise it names the distribution on an index and, for readers who have a checkout, the
path inside it.
"""

from __future__ import annotations

import functools
import json
import shlex
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from urllib.parse import unquote, urlparse

import attrs


@attrs.frozen
class FirstPartyBackend:
    """A backend this repository ships, as the kernel needs to know it while it is absent."""

    #: The distribution that provides it, a directory ``plugins/<distribution>`` in a checkout.
    distribution: str
    #: The victor-core extra that pulls it in (``pip install 'victor-core[sqlite]'``).
    extra: str
    #: The classes it lists under ``victor.exports``: ``from victor_core import NAME`` without
    #: the plugin says to install it, instead of that there is no such name.
    exports: tuple[str, ...]


#: backend name -> what installs it and what it exports.
FIRST_PARTY_BACKENDS: dict[str, FirstPartyBackend] = {
    "memory": FirstPartyBackend(
        "victor-memory", "memory", ("InMemoryEventStore", "InMemoryRepository")
    ),
    "sqlite": FirstPartyBackend(
        "victor-sqlite", "sqlite", ("SQLiteEventStore", "SQLiteRepository", "SQLiteUnitOfWork")
    ),
    "mongodb": FirstPartyBackend(
        "victor-mongodb", "mongodb", ("MongoEventStore", "MongoRepository")
    ),
    "postgres": FirstPartyBackend(
        "victor-postgres",
        "postgres",
        ("PostgresEventStore", "PostgresRepository", "PostgresUnitOfWork"),
    ),
}

#: First-party distributions -> their directory in the source repository.
CHECKOUT_PATHS: dict[str, str] = {
    **{b.distribution: f"plugins/{b.distribution}" for b in FIRST_PARTY_BACKENDS.values()},
    "victor-contract-tests": "contract_tests",
    "victor-demo": "apps/victor-demo",
}


@functools.cache
def source_checkout() -> Path | None:
    """The victor-core source checkout the kernel was installed from, if it still exists."""
    try:
        recorded = distribution("victor-core").read_text("direct_url.json")
    except PackageNotFoundError:
        recorded = None
    candidates = []
    if recorded:
        try:
            url = urlparse(str(json.loads(recorded).get("url", "")))
        except (ValueError, AttributeError):
            url = urlparse("")
        if url.scheme == "file":
            candidates.append(Path(unquote(url.path)))
    # An editable install, or a checkout on sys.path: the kernel's own files are in it.
    candidates.append(Path(__file__).resolve().parents[2])
    for path in candidates:
        if (path / "plugins").is_dir() and (path / "pyproject.toml").is_file():
            return path
    return None


def install_command(distribution_name: str, extra: str = "") -> str:
    """The ``pip install`` command for a first-party *distribution_name* (``[extra]`` optional).

    From a source checkout it is the distribution's directory there; otherwise the name on an
    index, followed by the checkout path for readers installing from source.
    """
    suffix = f"[{extra}]" if extra else ""
    relative = CHECKOUT_PATHS.get(distribution_name)
    checkout = source_checkout()
    if relative is not None and checkout is not None and (checkout / relative).is_dir():
        return f"pip install {shlex.quote(str(checkout / relative) + suffix)}"
    from_index = f"pip install {shlex.quote(distribution_name + suffix)}"
    if relative is None:
        return from_index
    return (
        f"{from_index} (from a source checkout of victor-core: "
        f"pip install {shlex.quote('./' + relative + suffix)})"
    )


def install_hint(backend: str) -> str:
    """How to install *backend*, as a sentence fragment."""
    known = FIRST_PARTY_BACKENDS.get(backend)
    if known is None:
        return (
            f"install the distribution that provides the {backend!r} backend (it registers an "
            f"entry point named {backend!r} in the group 'victor.backends')"
        )
    return install_command(known.distribution)


def exporting_backend(name: str) -> str | None:
    """The first-party backend whose classes include *name*, if any."""
    for backend, known in FIRST_PARTY_BACKENDS.items():
        if name in known.exports:
            return backend
    return None


def scheme_hint(scheme: str) -> str:
    """How to install a backend for URLs starting with ``scheme://``, as a sentence fragment."""
    name = scheme.split("+", 1)[0]
    if name in FIRST_PARTY_BACKENDS:
        return install_hint(name)
    return (
        f"install the distribution of a backend that lists {scheme!r} in the url_schemes of "
        "its BackendInfo (`victor backends` shows each backend's schemes)"
    )
