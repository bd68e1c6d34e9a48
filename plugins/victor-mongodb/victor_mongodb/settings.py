"""Which server, which database and which client, from a URL and keyword options.

``mongodb://localhost:27017/app`` and ``mongodb+srv://cluster.example.net/app`` name the
server and the database (``?database=app`` or ``database="app"`` name it too); every other
query parameter or keyword option goes to :class:`pymongo.AsyncMongoClient` unchanged, so
``?replicaSet=rs0&w=majority`` or ``serverSelectionTimeoutMS=2000`` work as in PyMongo.

An application that already holds a client passes it instead of a server:
``open_event_store("mongodb://", client=client, database="app")``. That client is used as
it is (its options are its creator's business) and is not closed by victor.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

import attrs

from victor_core.backend import BackendURL, ConfigurationError, parse_url

#: The schemes of MongoDB connection strings.
SCHEMES = ("mongodb", "mongodb+srv")
#: Options these settings read.
OWN_OPTIONS = ("client", "database")
#: Options stores and repositories read (``?indexes=email`` in a repository's URL).
COMPONENT_OPTIONS = ("serializer", "indexes", "collection", "converter")
#: Everything victor reads, which the driver never sees.
VICTOR_OPTIONS = OWN_OPTIONS + COMPONENT_OPTIONS
#: Characters MongoDB does not allow in a database name.
_BAD_DATABASE_CHARACTERS = re.compile(r'[/\\. "$*<>:|?\x00]')
_MAX_DATABASE_BYTES = 63


@attrs.frozen
class MongoSettings:
    """How to reach one database: a connection string, or a client passed in."""

    #: The database name.
    database: str
    #: The connection string for :class:`pymongo.AsyncMongoClient`, without victor's options.
    uri: str | None = attrs.field(default=None, repr=False)
    #: Keyword options for :class:`pymongo.AsyncMongoClient`.
    driver_options: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    #: A client the application passed in (``uri`` is then None).
    client: Any = attrs.field(default=None, repr=False)
    #: The URL as it may be shown in messages, password hidden.
    shown: str = "mongodb://"

    @classmethod
    def from_url(cls, url: str | BackendURL, options: Mapping[str, Any]) -> MongoSettings:
        """Settings for *url*; keyword *options* override the URL's query parameters."""
        parsed = parse_url(url) if isinstance(url, str) else url
        if parsed.scheme not in SCHEMES:
            raise ConfigurationError(
                f"{parsed.redacted()!r} is not a MongoDB URL; write "
                "mongodb://host:27017/database or mongodb+srv://cluster.example.net/database"
            )
        from_query = parsed.options
        given = {**from_query, **options}
        client = given.get("client")
        database = _database(parsed, given)
        if client is not None:
            return cls._with_client(parsed, client, database, given)
        if not parsed.authority:
            raise ConfigurationError(
                f"{parsed.redacted()!r} names no server; write mongodb://localhost:27017/"
                f"{database or 'app'} (or mongodb+srv://...), or pass an open client with "
                "client=..."
            )
        if not database:
            raise ConfigurationError(
                f"{parsed.redacted()!r} names no database; put it in the path "
                "(mongodb://localhost:27017/app) or pass database='app'"
            )
        # Options typed as keywords go to the driver as keywords; those from the query
        # string stay in the connection string, where the driver reads them itself.
        driver_options = {
            name: value
            for name, value in given.items()
            if name not in VICTOR_OPTIONS and not (name in from_query and from_query[name] == value)
        }
        return cls(
            database=database,
            uri=_driver_uri(parsed),
            driver_options=driver_options,
            shown=parsed.redacted(),
        )

    @classmethod
    def _with_client(
        cls,
        parsed: BackendURL,
        client: Any,
        database: str | None,
        given: Mapping[str, Any],
    ) -> MongoSettings:
        if parsed.authority:
            raise ConfigurationError(
                f"{parsed.redacted()!r} names a server and client= was passed too; pass one: "
                "the URL (victor opens and closes the client) or client= with 'mongodb://'"
            )
        extra = sorted(name for name in given if name not in VICTOR_OPTIONS)
        if extra:
            raise ConfigurationError(
                f"client= was passed together with the connection option(s) "
                f"{', '.join(extra)}; configure the client you pass instead"
            )
        if not database:
            default = _client_default_database(client)
            if default is None:
                raise ConfigurationError(
                    "name the database: pass database='app' with client=, or put it in the "
                    "URL ('mongodb:///app')"
                )
            database = default
        return cls(database=database, client=client, shown=parsed.redacted())

    def describe(self) -> str:
        """The database as messages name it."""
        return f"MongoDB database {self.database!r} at {self.shown}"


def check_database_name(name: object) -> str:
    """*name* if MongoDB accepts it as a database name."""
    if (
        not isinstance(name, str)
        or not name
        or _BAD_DATABASE_CHARACTERS.search(name)
        or len(name.encode()) > _MAX_DATABASE_BYTES
    ):
        raise ConfigurationError(
            f"{name!r} is not a MongoDB database name: use 1 to {_MAX_DATABASE_BYTES} bytes "
            'without spaces, dots or any of / \\ " $ * < > : | ?'
        )
    return name


def _database(parsed: BackendURL, given: Mapping[str, Any]) -> str | None:
    named = given.get("database")
    if named is not None:
        return check_database_name(named)
    path = unquote(parsed.path.lstrip("/"))
    if not path:
        return None
    return check_database_name(path)


def _client_default_database(client: Any) -> str | None:
    getter = getattr(client, "get_default_database", None)
    if getter is None:
        return None
    try:
        default = getter()
    except Exception:  # the driver's ConfigurationError: the client has no default
        return None
    name = getattr(default, "name", None)
    return name if isinstance(name, str) and name else None


def _driver_uri(parsed: BackendURL) -> str:
    """The URL the driver gets: the user's text, less the query parameters victor reads."""
    rest = parsed.raw.split("://", 1)[1]
    locator, _, query = rest.partition("?")
    kept = [
        pair
        for pair in query.split("&")
        if pair and unquote(pair.partition("=")[0]) not in VICTOR_OPTIONS
    ]
    if "/" not in locator:
        locator += "/"
    return f"{parsed.scheme}://{locator}" + (f"?{'&'.join(kept)}" if kept else "")
