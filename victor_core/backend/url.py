"""Backend URLs, in the manner of SQLAlchemy's ``create_engine``.

``"memory"`` and ``"memory://"`` name the in-memory backend; ``"sqlite:///events.db"`` is a
file relative to the working directory and ``"sqlite:////var/lib/app/events.db"`` an absolute
one; ``"sqlite+aiosqlite://..."`` names a driver; ``"mongodb+srv://..."`` is one of the URL
schemes the ``mongodb`` backend declares. Only the part before ``://`` is interpreted here:
the rest belongs to the backend, which knows its own syntax (several hosts, options...).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote

import attrs

from victor_core.errors import ConfigurationError

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*(\+[A-Za-z0-9_.-]+)?$")


@attrs.frozen
class BackendURL:
    """A parsed backend name or URL."""

    #: Exactly what the user wrote.
    raw: str = attrs.field(repr=False)
    #: ``"sqlite+aiosqlite"``, ``"mongodb+srv"``, ``"memory"``.
    scheme: str
    #: Everything between ``://`` and the path: ``"user:pw@host:27017"``; empty for files.
    authority: str = ""
    #: The path after the authority, with its leading ``/``.
    path: str = ""
    query: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        """The scheme without its driver suffix: ``"sqlite"`` for ``"sqlite+aiosqlite"``."""
        return self.scheme.split("+", 1)[0]

    @property
    def driver(self) -> str | None:
        """The part after ``+`` in the scheme, if any."""
        _, _, driver = self.scheme.partition("+")
        return driver or None

    @property
    def database(self) -> str:
        """The path without the slash that separates it from the authority.

        ``sqlite:///events.db`` gives ``events.db``; ``sqlite:////tmp/e.db`` gives
        ``/tmp/e.db``; ``mongodb://host/app`` gives ``app``.
        """
        return unquote(self.path[1:] if self.path.startswith("/") else self.path)

    @property
    def options(self) -> dict[str, str]:
        """The query string as a dict (last value wins)."""
        return dict(self.query)

    def redacted(self) -> str:
        """The URL with any password replaced, safe for error messages and logs."""
        if "@" not in self.authority:
            return self.raw
        credentials, _, hosts = self.authority.rpartition("@")
        user, sep, _ = credentials.partition(":")
        shown = f"{user}:***" if sep else user
        rest = self.raw.split("://", 1)[1][len(self.authority) :]
        return f"{self.scheme}://{shown}@{hosts}{rest}"


def parse_url(name_or_url: str) -> BackendURL:
    """Parse a backend name (``"memory"``) or URL (``"sqlite:///events.db"``)."""
    if not isinstance(name_or_url, str) or not name_or_url.strip():
        raise ConfigurationError(
            f"expected a backend name or URL such as 'memory://' or 'sqlite:///events.db', "
            f"got {name_or_url!r}"
        )
    text = name_or_url.strip()
    scheme, sep, rest = text.partition("://")
    if not _SCHEME.match(scheme):
        raise ConfigurationError(
            f"{text!r} is not a backend name or URL: write a name such as 'memory', or a URL "
            "such as 'sqlite:///events.db' (scheme, '://', then what the backend needs)"
        )
    if not sep:
        return BackendURL(raw=text, scheme=scheme.lower())
    locator, _, query = rest.partition("?")
    authority, slash, path = locator.partition("/")
    return BackendURL(
        raw=text,
        scheme=scheme.lower(),
        authority=authority,
        path=slash + path,
        query=tuple(parse_qsl(query, keep_blank_values=True)),
    )
