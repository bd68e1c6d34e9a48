"""Writer processes for the durability and multi-process contracts, and how to kill them.

The parent test starts children with ``sys.executable processes.py JOB BACKEND URL OPTIONS
WRITER COUNT``; each opens the contract instance's storage by its URL
and options (so a backend's instance must be reachable from a fresh process to provide
``durability`` or ``multi_process``), does its job and prints, one per line, the number of
every unit of work the backend has acknowledged. Jobs:

- ``append``: append numbered batches (batch ``n`` has ``1 + n % 5`` events) to shared
  streams; COUNT batches, or forever when COUNT is 0.
- ``race-stream``: win COUNT versions of one stream by appending at the version just read,
  retrying after each conflict; prints the versions won.
- ``race-entity``: win COUNT updates of one versioned entity the same way; prints the
  versions written.
- ``units``: commit units of work forever: unit ``n`` inserts ``1 + n % 4`` items, adds
  their number to the writer's tally (a versioned entity every unit updates) and records
  the unit as an aggregate with one event per item, all in one commit.
- ``project``: run a projection of the log forever, its read model (``Applied``) in the same
  storage, each batch's read-model writes and checkpoint in one commit; it prints
  ``handled BATCH`` for every event handed to it and ``committed POSITION`` after every
  batch committed, so a parent can kill it at a point of its progress.

The children import nothing of the suite (nor pytest), only ``victor_core``, so they start
quickly and the kills land while they work.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import os
import random
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from victor_core import (
    Aggregate,
    AggregateRepository,
    Backend,
    CheckpointConflict,
    Entity,
    Event,
    EventStore,
    Projection,
    ProjectionProgress,
    ProjectionRunner,
    Repository,
    UnitOfWork,
    default_registry,
)
from victor_core.backend import BackendURL, ConcurrencyError, ContractInstance, parse_url

#: The stream and the entity the racing writers contend for.
HOT = "hot"
#: The streams the ``append`` job spreads its batches over.
APPEND_STREAMS = tuple(f"stream-{n}" for n in range(7))
#: The projection the ``project`` job runs, and the id of its read model's one entity.
PROJECTION = "victor-contract-applied"
READ_MODEL = "applied"
#: Events per batch of the ``project`` job, and how long it takes over each one: long
#: enough that a kill following its progress lands inside a batch rather than after it.
PROJECT_BATCH = 4
HANDLING = 0.003


@dataclasses.dataclass
class BatchEvent(Event):
    """One event of a numbered batch; a reader tells a whole batch from part of one."""

    __event_type__ = "victor.contract.BatchEvent"
    writer: str = ""
    batch: int = 0
    index: int = 0
    size: int = 0


@dataclasses.dataclass
class Tally(Entity):
    """A versioned entity the racing writers all update."""

    __entity_name__ = "victor_contract_tally"
    total: int = 0
    version: int = 0


@dataclasses.dataclass
class Item(Entity):
    """One of the items a unit of work inserts."""

    __entity_name__ = "victor_contract_unit_item"
    writer: str = ""
    unit: int = 0
    index: int = 0


@dataclasses.dataclass
class UnitStarted(Event):
    __event_type__ = "victor.contract.UnitStarted"
    size: int = 0


@dataclasses.dataclass
class ItemCounted(Event):
    __event_type__ = "victor.contract.ItemCounted"
    index: int = 0


class UnitRecord(Aggregate):
    """A unit of work recorded as an aggregate: one event to start, one per item."""

    def __init__(self) -> None:
        super().__init__()
        self.size = 0

    def start(self, unit_id: str, size: int) -> None:
        self.apply(UnitStarted(aggregate_id=unit_id, size=size))
        for index in range(size):
            self.apply(ItemCounted(index=index))

    def _apply_UnitStarted(self, event: UnitStarted) -> None:
        self.id = event.aggregate_id
        self.size = event.size

    def _apply_ItemCounted(self, event: ItemCounted) -> None:
        pass


@dataclasses.dataclass
class Applied(Entity):
    """The ``project`` job's read model: the batch number of every event applied, in order."""

    __entity_name__ = "victor_contract_applied"
    batches: list[int] = dataclasses.field(default_factory=list)


class Applying(Projection):
    """Appends each event's batch number to the read model, in the batch's unit of work."""

    __projection_name__ = PROJECTION

    async def handle_BatchEvent(self, event: BatchEvent) -> None:
        uow = self.unit_of_work
        assert uow is not None, "the runner is given unit_of_work="
        applied = await uow.get(Applied, READ_MODEL)
        if applied is None:
            applied = Applied(id=READ_MODEL)
            uow.register_new(applied)
        applied.batches.append(event.batch)
        _say("handled", event.batch)
        await asyncio.sleep(HANDLING)


async def _project(backend: Backend, url: BackendURL, options: Mapping[str, Any]) -> None:
    store = backend.create_event_store(url, options)
    read_model = backend.create_repository(url, Applied, options)

    def unit_of_work() -> UnitOfWork:
        uow = UnitOfWork()
        uow.register_repository(read_model, Applied)
        return uow

    def committed(progress: ProjectionProgress) -> None:
        _say("committed", progress.position)

    while True:
        runner = ProjectionRunner(
            store,
            Applying(),
            unit_of_work=unit_of_work,
            batch_size=PROJECT_BATCH,
            poll_interval=0.05,
            on_progress=committed,
        )
        try:
            await runner.run_forever()
        except CheckpointConflict:
            # A server may finish the commit a killed predecessor had already sent after
            # this runner loaded the checkpoint: its batch was taken back with the refused
            # checkpoint, so start again from the checkpoint as it now is.
            continue
        return


def unit_size(unit: int) -> int:
    return 1 + unit % 4


async def _units(
    backend: Backend, url: BackendURL, options: Mapping[str, Any], writer: str
) -> None:
    items = backend.create_repository(url, Item, options)
    tallies = backend.create_repository(url, Tally, options)
    store = backend.create_event_store(url, options)
    records = AggregateRepository(store, UnitRecord)
    for unit in itertools.count():
        size = unit_size(unit)
        uow = UnitOfWork()
        uow.register_repository(items, Item)
        uow.register_repository(tallies, Tally)
        uow.register_repository(records, UnitRecord)
        tally = await uow.get(Tally, writer)
        if tally is None:
            uow.register_new(Tally(id=writer, total=size))
        else:
            tally.total += size
        for index in range(size):
            uow.register_new(
                Item(id=f"{writer}-{unit}-{index}", writer=writer, unit=unit, index=index)
            )
        record = UnitRecord()
        record.start(f"{writer}-{unit}", size)
        uow.register_new(record)
        await uow.commit()
        _report(unit)


def batch_events(writer: str, batch: int) -> list[BatchEvent]:
    size = 1 + batch % 5
    return [BatchEvent(writer=writer, batch=batch, index=i, size=size) for i in range(size)]


def arguments(
    job: str, backend: Backend, instance: ContractInstance, writer: str, count: int
) -> list[str]:
    """The command line of a child doing *job* on *instance*."""
    try:
        options = json.dumps(dict(instance.options))
    except TypeError as exc:
        raise AssertionError(
            f"the {backend.name} contract instance provides durability or multi_process, so "
            f"another process must reach it from its URL and options; its options are not "
            f"plain values ({exc})"
        ) from exc
    script = str(Path(__file__).resolve())
    return [
        sys.executable,
        script,
        job,
        backend.name,
        instance.url,
        options,
        writer,
        str(count),
    ]


def spawn(command: Sequence[str]) -> subprocess.Popen[str]:
    """Start a child Python that sees the same packages as this one."""
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def finished(child: subprocess.Popen[str], timeout: float = 120) -> list[int]:
    """What a child that ends by itself reported; its errors if it failed."""
    output, errors = child.communicate(timeout=timeout)
    assert child.returncode == 0, f"a writer process failed: {errors}"
    return [int(line) for line in output.split()]


async def kill_writers_in_rounds(
    *,
    command: Callable[[str], Sequence[str]],
    rounds: int,
    writers_per_round: int,
    wait: tuple[float, float],
    read_back: Callable[[], Awaitable[dict[str, set[int]]]],
) -> dict[str, set[int]]:
    """Start writers, SIGKILL them at a random moment, check what storage kept; repeat.

    *command* gives a writer's command line; *read_back* checks that every unit stored is
    whole and returns the units found, by writer. Nothing acknowledged may be lost, nothing
    skipped, and nothing from an earlier round may change. Every other round kills as soon
    as the *wait* has passed, which may be while the writers still connect; the others kill
    once the first writer has acknowledged a random number of units (one to four), so the
    kill lands in the middle of the writing however slow the machine is.
    """
    seed = random.randrange(2**32)
    chooser = random.Random(seed)
    kept: dict[str, set[int]] = {}
    for round_number in range(rounds):
        writers = [f"r{round_number}w{n}" for n in range(writers_per_round)]
        children = [spawn(command(writer)) for writer in writers]
        first = ""
        if round_number % 2:
            count = chooser.randint(1, 4)
            first = await asyncio.wait_for(asyncio.to_thread(_lines, children[0], count), 120)
        else:
            await asyncio.sleep(chooser.uniform(*wait))
        for child in children:
            child.send_signal(signal.SIGKILL)
        reported = {}
        for number, (writer, child) in enumerate(zip(writers, children, strict=True)):
            output, errors = child.communicate()
            assert child.returncode == -signal.SIGKILL, f"the writer failed by itself: {errors}"
            if number == 0:
                output = first + output
            reported[writer] = {int(line) for line in output.split()}

        found = await read_back()

        context = f"(random seed {seed}, round {round_number})"
        for writer in writers:
            present = found.get(writer, set())
            lost = sorted(reported[writer] - present)
            assert not lost, f"batches acknowledged before SIGKILL were lost: {lost} {context}"
            assert present == set(range(len(present))), f"batches were skipped {context}"
        for writer, units in kept.items():
            assert found.get(writer, set()) == units, f"an earlier round changed {context}"
        kept.update({writer: found.get(writer, set()) for writer in writers})
    return kept


def _lines(child: subprocess.Popen[str], count: int) -> str:
    """The first *count* lines the child prints (fewer if it ends first), as it prints them."""
    assert child.stdout is not None
    return "".join(child.stdout.readline() for _ in range(count))


def progress(child: subprocess.Popen[str], count: int | None, until: str) -> str:
    """The next *count* lines the child prints (all when None), as it prints them.

    Fewer when the child prints the line *until* (the end of the work) or ends first.
    """
    assert child.stdout is not None
    lines: list[str] = []
    while count is None or len(lines) < count:
        line = child.stdout.readline()
        lines.append(line)
        if not line or line == until:
            break
    return "".join(lines)


async def batches_found(store: EventStore) -> dict[str, set[int]]:
    """Check that the log holds whole batches only; return the batches found, by writer.

    The log is read with ``read_all`` once it shows the last event of every stream the
    writers append to: a backend without ``immediate_read_all`` may show an append there
    only after its stream does.
    """
    # Imported here: the package imports pytest, which the children do without.
    from victor_contract_tests.suite.logs import shown_by_read_all

    heads = [
        r.position for stream in APPEND_STREAMS for r in (await store.read_stream(stream))[-1:]
    ]
    if heads:
        await shown_by_read_all(store, max(heads))
    recorded = [r async for r in store.read_all(page_size=333)]
    positions = [r.position for r in recorded]
    assert positions == sorted(set(positions)), "global positions are unique and increasing"
    versions: dict[str, list[int]] = defaultdict(list)
    batches: dict[tuple[str, int], list[BatchEvent]] = defaultdict(list)
    for r in recorded:
        versions[r.stream_id].append(r.version)
        event = r.event
        assert isinstance(event, BatchEvent)
        batches[(event.writer, event.batch)].append(event)
    for stream, found in versions.items():
        assert found == list(range(1, len(found) + 1)), f"{stream} versions are contiguous"
    by_writer: dict[str, set[int]] = defaultdict(set)
    for (writer, batch), events in batches.items():
        assert [e.index for e in events] == list(range(events[0].size)), (
            f"an append is atomic: batch {batch} of writer {writer} must be whole, in order"
        )
        by_writer[writer].add(batch)
    return dict(by_writer)


def _report(number: int) -> None:
    sys.stdout.write(f"{number}\n")
    sys.stdout.flush()


def _say(what: str, number: int) -> None:
    sys.stdout.write(f"{what} {number}\n")
    sys.stdout.flush()


async def _append(store: EventStore, writer: str, count: int) -> None:
    for batch in itertools.count() if count == 0 else range(count):
        await store.append(APPEND_STREAMS[batch % len(APPEND_STREAMS)], batch_events(writer, batch))
        _report(batch)


async def _race_stream(store: EventStore, writer: str, count: int) -> None:
    won = 0
    while won < count:
        version = await store.stream_version(HOT)
        try:
            await store.append(HOT, BatchEvent(writer=writer, batch=won), expected_version=version)
        except ConcurrencyError:
            continue
        won += 1
        _report(version + 1)


async def _race_entity(repository: Repository[Tally], writer: str, count: int) -> None:
    won = 0
    while won < count:
        tally = await repository.get(HOT)
        assert tally is not None, "the parent adds the entity before the race"
        tally.total += 1
        try:
            await repository.update(tally)
        except ConcurrencyError:
            continue
        won += 1
        _report(tally.version)


async def _main(
    job: str, name: str, url_text: str, options: Mapping[str, Any], writer: str, count: int
) -> None:
    backend = default_registry().backend(name)
    url = parse_url(url_text)
    merged = {**url.options, **options}
    if job == "units":
        await _units(backend, url, merged, writer)
        return
    if job == "project":
        await _project(backend, url, merged)
        return
    if job == "race-entity":
        repository = backend.create_repository(url, Tally, merged)
        try:
            await _race_entity(repository, writer, count)
        finally:
            await repository.close()
        return
    store = backend.create_event_store(url, merged)
    try:
        await (_append if job == "append" else _race_stream)(store, writer, count)
    finally:
        await store.close()


if __name__ == "__main__":
    job, name, url_text, options, writer, count = sys.argv[1:]
    asyncio.run(_main(job, name, url_text, json.loads(options), writer, int(count)))
