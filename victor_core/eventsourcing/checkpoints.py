"""Where projection runners remember how far they got: one position per projection name.

A checkpoint is the global position of the last event a projection has handled (0 before
the first). Runners advance it by compare-and-set, so two runners of one projection cannot
both move it, and take turns through a *lease*: a claim on the projection, kept in the
backend, that its holder renews and that lapses when it dies. Backends implement five small
methods; this class checks the arguments, so every backend refuses the same bad input with
the same message.
"""

from __future__ import annotations

import abc
import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from victor_core.errors import CheckpointConflict, ConfigurationError
from victor_core.serialization.text import is_unicode

if TYPE_CHECKING:
    from victor_core.backend.transactions import TransactionManager

#: Databases store 64-bit integers: no global position is larger.
_LARGEST_POSITION = 2**63 - 1


class CheckpointStore(abc.ABC):
    """Positions of projections, by name; a backend implements the ``*_checkpoint`` and
    ``*_lease`` methods.

    Obtain one from an event store (``store.checkpoints``) to keep checkpoints next to the
    events, or construct a backend's checkpoint store to keep them with the read model.
    """

    async def load(self, name: str) -> int:
        """The saved position of projection *name*; 0 when it has none."""
        _check_name(name)
        position = await self.read_checkpoint(name)
        return 0 if position is None else position

    async def save(self, name: str, position: int) -> None:
        """Remember that projection *name* has handled every event up to *position*."""
        _check_name(name)
        _check_position(name, position)
        await self.write_checkpoint(name, position)

    async def load_all(self) -> dict[str, int]:
        """Every saved checkpoint, by projection name (what ``victor projections`` lists)."""
        return dict(await self.read_checkpoints())

    async def compare_and_set(self, name: str, expected: int, position: int) -> None:
        """Move *name*'s checkpoint from *expected* to *position*, or raise if it is elsewhere.

        Of two runners that read the same checkpoint, only the first to save moves it; the
        other gets :class:`~victor_core.errors.CheckpointConflict` and nothing is written.
        A checkpoint never saved is at 0.
        """
        check_advance(name, expected, position)
        found = await self.swap_checkpoint(name, expected, position)
        if found is not None:
            raise CheckpointConflict(name, expected, found)

    async def acquire_lease(self, name: str, owner: str, seconds: float) -> bool:
        """Claim projection *name* for *owner* for *seconds*; True when *owner* holds it now.

        Succeeds when nobody holds the lease, its holder let it lapse, or *owner* already
        holds it (which renews it). Times are this machine's clock, so every runner of one
        projection should run on machines whose clocks agree to well within *seconds*.
        """
        _check_name(name)
        _check_owner(owner)
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not 0 < seconds < math.inf
        ):
            raise ConfigurationError(
                f"a lease lasts a positive number of seconds, got {seconds!r} for {name!r}"
            )
        now = time.time()
        return await self.take_lease(name, owner, now, now + seconds)

    async def release_lease(self, name: str, owner: str) -> None:
        """Give up *owner*'s lease on *name* so another runner can take over at once."""
        _check_name(name)
        _check_owner(owner)
        await self.drop_lease(name, owner)

    @abc.abstractmethod
    async def read_checkpoint(self, name: str) -> int | None:
        """The stored position of *name*, or ``None`` when none was ever written."""

    @abc.abstractmethod
    async def write_checkpoint(self, name: str, position: int) -> None:
        """Store *position* for *name*, replacing what was there, durably if the backend is."""

    @abc.abstractmethod
    async def read_checkpoints(self) -> Mapping[str, int]:
        """Every stored checkpoint: projection name -> position."""

    @abc.abstractmethod
    async def swap_checkpoint(self, name: str, expected: int, position: int) -> int | None:
        """In one atomic step: if *name* is at *expected* (0 when absent), store *position*
        and return ``None``; otherwise change nothing and return the position found."""

    @abc.abstractmethod
    async def take_lease(self, name: str, owner: str, now: float, until: float) -> bool:
        """In one atomic step: if nobody holds *name*'s lease, its holder is *owner*, or it
        ran out at or before *now*, make *owner* its holder until *until* and return True;
        otherwise change nothing and return False. Times are seconds since the epoch."""

    @abc.abstractmethod
    async def drop_lease(self, name: str, owner: str) -> None:
        """End *name*'s lease if *owner* holds it; otherwise change nothing."""

    def transaction_manager(self) -> TransactionManager | None:
        """The manager committing a unit of work's checkpoint moves in this store, or None.

        A unit of work asks each store its writes name, and commits the writes whose
        managers share a key in one transaction; None (the default) means the writes are
        made one by one, each through the store's own methods.
        """
        return None

    async def close(self) -> None:  # noqa: B027 - optional for stores holding nothing
        """Release connections; the store is not used afterwards."""


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not name:
        raise ConfigurationError(
            f"projection names are non-empty strings, got {name!r}; give the projection a "
            "`name` or pass `name=` to the ProjectionRunner"
        )
    if not name.isascii() and not is_unicode(name):
        raise ConfigurationError(
            f"projection names are non-empty strings of Unicode text, got {name!r}, which "
            "holds a lone surrogate that no database stores; remove it"
        )


def check_advance(name: str, expected: int, position: int) -> None:
    """Refuse a compare-and-set of checkpoints that cannot be stored."""
    _check_name(name)
    _check_position(name, expected)
    _check_position(name, position)


def _check_owner(owner: object) -> None:
    if not isinstance(owner, str) or not owner:
        raise ConfigurationError(
            f"a lease owner is a non-empty string naming the runner, got {owner!r}"
        )
    if not owner.isascii() and not is_unicode(owner):
        raise ConfigurationError(
            f"a lease owner is a non-empty string of Unicode text naming the runner, got "
            f"{owner!r}, which holds a lone surrogate that no database stores; remove it"
        )


def _check_position(name: str, position: object) -> None:
    if (
        isinstance(position, bool)
        or not isinstance(position, int)
        or not 0 <= position <= _LARGEST_POSITION
    ):
        raise ConfigurationError(
            f"a checkpoint is a global position (an int from 0 to 2**63 - 1), got "
            f"{position!r} for projection {name!r}"
        )
