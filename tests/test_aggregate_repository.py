"""The aggregate repository's own behaviour: configuration and what happens around saves.

Loading, saving, conflicts, snapshots and temporal loads on real storage are in the contract
suite, checked on every backend.
"""

from __future__ import annotations

import dataclasses
import logging

import pytest

from tests.support.backend import Database, ListRecorder, list_event_store
from victor_core import (
    Aggregate,
    AggregateRepository,
    CapabilityNotSupported,
    ConfigurationError,
    Event,
    EventStore,
)
from victor_core.backend import SnapshotRecord, SnapshotRecorder

pytestmark = pytest.mark.asyncio


@dataclasses.dataclass
class Stepped(Event):
    __event_type__ = "tests.repository.Stepped"


class Walker(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.steps = 0

    def _apply_Stepped(self, event: Stepped) -> None:
        self.id = event.aggregate_id or self.id
        self.steps += 1


def walker(steps: int, walker_id: str = "w-1") -> Walker:
    aggregate = Walker()
    aggregate.id = walker_id
    for _ in range(steps):
        aggregate.apply(Stepped())
    return aggregate


class BrokenShelf(SnapshotRecorder):
    async def save_snapshot(self, record: SnapshotRecord) -> None:
        raise OSError("disk full")

    async def latest_snapshot(self, stream_id: str, max_version: int | None) -> None:
        return None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"snapshot_every": 0}, "snapshot_every"),
        ({"snapshot_every": True}, "snapshot_every"),
        ({"snapshot_every": 5, "snapshots": False}, "drop one"),
    ],
)
async def test_nonsense_snapshot_options_are_refused(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        AggregateRepository(list_event_store(), Walker, **options)  # type: ignore[arg-type]


async def test_only_aggregate_classes_can_be_stored() -> None:
    with pytest.raises(ConfigurationError, match=r"subclass of victor_core\.Aggregate"):
        AggregateRepository(list_event_store(), dict)  # type: ignore[type-var]


async def test_snapshots_need_a_backend_that_keeps_them() -> None:
    bare = EventStore(ListRecorder(Database()))

    with pytest.raises(CapabilityNotSupported, match="SNAPSHOTS"):
        AggregateRepository(bare, Walker, snapshot_every=10)
    plain = AggregateRepository(bare, Walker)
    assert not plain.uses_snapshots
    with pytest.raises(ConfigurationError, match="snapshots=True"):
        await plain.take_snapshot(await _saved(plain))


async def test_a_lost_snapshot_does_not_fail_a_save_whose_events_were_stored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = EventStore(ListRecorder(Database()), snapshots=BrokenShelf())
    repository = AggregateRepository(store, Walker, snapshot_every=2)

    with caplog.at_level(logging.WARNING, logger="victor_core.eventsourcing"):
        result = await repository.save(walker(3))

    assert result is not None
    assert result.version == 3
    assert "its snapshot at version 3 was not" in caplog.text
    assert (await repository.load("w-1")).steps == 3


async def test_the_loaded_id_is_the_stream_id_when_the_events_do_not_set_it() -> None:
    class Anonymous(Walker):
        def _apply_Stepped(self, event: Stepped) -> None:
            self.steps += 1

    repository = AggregateRepository(list_event_store(), Anonymous)
    aggregate = Anonymous()
    aggregate.id = "w-7"
    aggregate.apply(Stepped())
    await repository.save(aggregate)

    loaded = await repository.load("w-7")

    assert (loaded.id, loaded.steps) == ("w-7", 1)


async def _saved(repository: AggregateRepository[Walker]) -> Walker:
    aggregate = walker(1)
    await repository.save(aggregate)
    return aggregate
