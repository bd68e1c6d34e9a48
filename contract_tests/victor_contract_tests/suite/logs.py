"""Reading the log the way a backend without ``immediate_read_all`` allows.

An append is in its stream as soon as it returns, but a backend that does not declare
``immediate_read_all`` may show it in ``read_all`` only later: PostgreSQL's ``read_all``
stops below every transaction still open on the server and waits only so long for them.
Once ``read_all`` shows a position it shows every position before it, from then on (global
order: no reader skips an event). A test that reads the log right after appending waits for
its last appended position first.
"""

from __future__ import annotations

import asyncio

import pytest

from victor_core import EventStore

#: Seconds an append may take to show in ``read_all`` before a test calls it lost.
READ_ALL_LAG = 60


async def shown_by_read_all(store: EventStore, position: int) -> None:
    """Return once ``read_all`` shows *position*, and so every position before it."""
    try:
        async with asyncio.timeout(READ_ALL_LAG):
            while True:
                if [r async for r in store.read_all(from_position=position, limit=1)]:
                    return
                await asyncio.sleep(0.01)
    except TimeoutError:
        pytest.fail(f"read_all did not show the appended position {position} in {READ_ALL_LAG} s")
