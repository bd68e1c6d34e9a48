"""First-party distributions, so that an error can say exactly what to install.

This is a table of install hints, not a registry: nothing here is imported or loaded.
"""

from __future__ import annotations

#: backend name -> (distribution, the victor-core extra that pulls it in)
FIRST_PARTY_BACKENDS: dict[str, tuple[str, str]] = {
    "memory": ("victor-memory", "memory"),
    "sqlite": ("victor-sqlite", "sqlite"),
    "mongodb": ("victor-mongodb", "mongodb"),
}


def install_hint(backend: str) -> str:
    """How to install *backend*, as a sentence fragment."""
    known = FIRST_PARTY_BACKENDS.get(backend)
    if known is None:
        return (
            f"install the distribution that provides the {backend!r} backend (it registers an "
            f"entry point named {backend!r} in the group 'victor.backends')"
        )
    distribution, extra = known
    return f"pip install 'victor-core[{extra}]' (or: pip install {distribution})"


def scheme_hint(scheme: str) -> str:
    """How to install a backend for URLs starting with ``scheme://``, as a sentence fragment."""
    name = scheme.split("+", 1)[0]
    if name in FIRST_PARTY_BACKENDS:
        return install_hint(name)
    return (
        f"install the distribution of a backend that lists {scheme!r} in the url_schemes of "
        "its BackendInfo (`victor backends` shows each backend's schemes)"
    )
