"""Where projection runners remember how far they got: one position per projection name.

A checkpoint is the global position of the last event a projection has handled (0 before
the first). Backends implement two methods; this class checks the arguments, so every
backend refuses the same bad input with the same message.
"""

from __future__ import annotations

import abc

from victor_core.errors import ConfigurationError

#: Databases store 64-bit integers: no global position is larger.
_LARGEST_POSITION = 2**63 - 1


class CheckpointStore(abc.ABC):
    """Positions of projections, by name; a backend implements the two ``*_checkpoint`` methods.

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
        if (
            isinstance(position, bool)
            or not isinstance(position, int)
            or not 0 <= position <= _LARGEST_POSITION
        ):
            raise ConfigurationError(
                f"a checkpoint is a global position (an int from 0 to 2**63 - 1), got "
                f"{position!r} for projection {name!r}"
            )
        await self.write_checkpoint(name, position)

    @abc.abstractmethod
    async def read_checkpoint(self, name: str) -> int | None:
        """The stored position of *name*, or ``None`` when none was ever written."""

    @abc.abstractmethod
    async def write_checkpoint(self, name: str, position: int) -> None:
        """Store *position* for *name*, replacing what was there, durably if the backend is."""

    async def close(self) -> None:  # noqa: B027 - optional for stores holding nothing
        """Release connections; the store is not used afterwards."""


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not name:
        raise ConfigurationError(
            f"projection names are non-empty strings, got {name!r}; give the projection a "
            "`name` or pass `name=` to the ProjectionRunner"
        )
