"""What the contract suite asks of a backend: a fresh, isolated storage and its cleanup."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs


async def _nothing_to_clean() -> None:
    return None


@attrs.frozen
class ContractInstance:
    """Where one contract test may store data without seeing any other test's data.

    The suite opens stores and repositories on ``url`` with ``options`` as many times as a
    test needs (opening twice must reach the same data), and awaits ``cleanup`` afterwards.
    """

    url: str
    options: Mapping[str, Any] = attrs.field(factory=dict)
    cleanup: Callable[[], Awaitable[None]] = _nothing_to_clean
