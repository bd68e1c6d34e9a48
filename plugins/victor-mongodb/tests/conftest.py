"""Fixtures of the MongoDB backend's own tests: the scripted wire-protocol servers.

mockupdb comes with ``pip install 'victor-mongodb[fake]'``; without it the tests that need
it are skipped (``pytest.importorskip`` in each of them), and the others still run.
"""

import importlib.util

if importlib.util.find_spec("mockupdb") is not None:
    from scripted_server import (
        _replica_set_server,
        _standalone_server,
        scripted,
        scripted_standalone,
    )

    __all__ = ["_replica_set_server", "_standalone_server", "scripted", "scripted_standalone"]
