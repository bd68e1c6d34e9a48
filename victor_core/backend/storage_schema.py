"""What a backend creates in its storage, for teams that manage their DDL themselves."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import attrs


@attrs.frozen
class StorageSchema:
    """The schema a backend creates at a URL on first use, as text and as an action.

    ``script`` is what ``victor schema URL`` prints (SQL for an SQL engine), complete and in
    the order it must run; ``apply`` creates it now (what first use would do), leaving what
    already exists as it is.
    """

    #: The statements, as the engine's own language, ready to review or to run.
    script: str
    #: Creates the schema now; safe to run when some or all of it exists.
    apply: Callable[[], Coroutine[Any, Any, None]] = attrs.field(repr=False)
