"""In-process stand-ins for a MongoDB server, for tests that cannot start one.

``fake_client()`` returns a client of PyMongo's async API backed by mongomock
(``pymongo-async-mock``); ``fake_client("motor")`` one shaped like Motor's
``AsyncIOMotorClient`` (``mongomock-motor``). Install them with
``pip install 'victor-mongodb[fake]'``. They hold their data in the process, support no
sessions or transactions, and run each operation without yielding to the event loop, so
they prove what victor does with a server's answers, not how a real server interleaves
concurrent writers: for that, run the contract suite against a server (docs/mongodb.md).
"""

from __future__ import annotations

import importlib
from typing import Any

from victor_core.backend import ConfigurationError, install_command
from victor_mongodb.client import Flavour

#: flavour -> (module, client class, distribution)
_FAKES = {
    Flavour.PYMONGO: ("pymongo_async_mock", "AsyncMongoMockClient", "pymongo-async-mock"),
    Flavour.MOTOR: ("mongomock_motor", "AsyncMongoMockClient", "mongomock-motor"),
}


def fake_client(flavour: Flavour | str = Flavour.PYMONGO) -> Any:
    """A new, empty in-process MongoDB client speaking *flavour* (``"pymongo"``/``"motor"``)."""
    try:
        chosen = Flavour(str(flavour).strip().lower())
    except ValueError:
        raise ConfigurationError(
            f"no in-process MongoDB speaks {flavour!r}; choose 'pymongo' (PyMongo's async "
            "API) or 'motor'"
        ) from None
    module_name, class_name, distribution = _FAKES[chosen]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(
            f"the in-process MongoDB for {chosen.value!r} clients needs {distribution}: "
            f"{install_command('victor-mongodb', 'fake')} (or point VICTOR_MONGODB_URL at a "
            "server)"
        ) from exc
    return getattr(module, class_name)()


def is_stand_in(client: object) -> bool:
    """True for a client of an in-process stand-in, made here or by the application."""
    return any(
        klass.__module__.partition(".")[0] in _STAND_IN_MODULES for klass in type(client).__mro__
    )


#: The top-level modules of the stand-ins' client classes.
_STAND_IN_MODULES = frozenset({"pymongo_async_mock", "mongomock_motor", "mongomock"})
