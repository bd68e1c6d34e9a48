"""Committing what a unit of work tracks: one transaction per resource, and never silently less.

A commit goes in three moves, each a function here:

1. :func:`plan` turns the tracked objects into steps, in registration order: one write each.
2. :func:`group_steps` asks the store each write names for its transaction manager
   (:func:`~victor_core.backend.find_transaction_manager`) and groups the steps by the
   manager's key. One group is one transaction: all of its writes or none.
3. :func:`commit_groups` hands each group's writes to its manager's ``commit``.

A commit that needs more than one transaction (two resources, or a repository whose backend
has no transaction manager) is refused before anything is written, unless the caller opted
in to a best-effort commit; then each group commits in turn, in the order of its first step,
and a failure leaves the groups before it committed and reports exactly which.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence

import attrs

from victor_core.backend.transactions import TransactionManager, find_transaction_manager
from victor_core.backend.writes import (
    AdvanceCheckpoint,
    AppendEvents,
    Write,
    WriteRefused,
    WriteResult,
)
from victor_core.errors import BackendError, CapabilityNotSupported
from victor_core.unit_of_work.errors import PartialCommit
from victor_core.unit_of_work.participants import AggregateParticipant, EntityParticipant, Step
from victor_core.unit_of_work.tracking import EntityState, Tracked


def plan(tracked_objects: Iterable[Tracked]) -> list[Step]:
    """Every write to make for *tracked_objects*, in their order.

    New entities of one class that follow one another are inserted as one batch; clean
    entities are updated only when they changed since they were loaded; aggregates append
    their pending events. Staging serializes everything, so a value that cannot be stored
    fails here, before anything is written.
    """
    steps: list[Step] = []
    inserts: list[Tracked] = []

    def flush_inserts() -> None:
        if inserts:
            participant = inserts[0].participant
            assert isinstance(participant, EntityParticipant)
            steps.append(participant.stage_insert(list(inserts)))
            inserts.clear()

    for tracked in tracked_objects:
        participant = tracked.participant
        if isinstance(participant, AggregateParticipant):
            flush_inserts()
            step = participant.stage_save(tracked)
            if step is not None:
                steps.append(step)
            continue
        assert isinstance(participant, EntityParticipant)
        state = tracked.state
        if state is EntityState.NEW:
            if inserts and inserts[0].participant is not participant:
                flush_inserts()
            inserts.append(tracked)
            continue
        flush_inserts()
        if state is EntityState.DELETED:
            steps.append(participant.stage_delete(tracked))
        elif state is EntityState.MODIFIED or participant.is_dirty(tracked):
            steps.append(participant.stage_update(tracked))
    flush_inserts()
    return steps


@attrs.define(eq=False)
class Group:
    """Steps that commit in one transaction (or, without a manager, one by one)."""

    key: Hashable
    manager: TransactionManager | None
    steps: list[Step] = attrs.field(factory=list)

    def describe(self) -> str:
        steps = ", ".join(step.describe() for step in self.steps)
        if self.manager is not None:
            return f"{self.key} ({steps})"
        participant = self.steps[0].participant
        return (
            f"{participant.label}, whose backend provides no transaction manager, so its "
            f"writes are made one by one ({steps})"
        )


def group_steps(steps: Sequence[Step]) -> list[Group]:
    """The steps grouped by transactional resource, in the order of each group's first step.

    A step without a write (a repository that writes through its own methods only) or whose
    store offers no manager is a group of its own, written without a transaction.
    """
    groups: dict[Hashable, Group] = {}
    managers: dict[int, TransactionManager | None] = {}
    for step in steps:
        manager = None
        if step.write is not None:
            store = written_to(step.write)
            if id(store) not in managers:
                managers[id(store)] = find_transaction_manager(store)
            manager = managers[id(store)]
        key: Hashable = manager.key if manager is not None else ("alone", id(step.participant))
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(key, manager)
        group.steps.append(step)
    return list(groups.values())


def written_to(write: Write) -> object:
    """The store, recorder or checkpoint store *write* names."""
    if isinstance(write, AppendEvents):
        return write.recorder
    if isinstance(write, AdvanceCheckpoint):
        return write.checkpoints
    return write.store


def is_atomic(groups: Sequence[Group]) -> bool:
    """True when the groups commit in one transaction."""
    return len(groups) <= 1 and all(group.manager is not None for group in groups)


async def commit_groups(
    groups: Sequence[Group],
    on_committed: Callable[[Step, WriteResult], None],
    *,
    best_effort: bool = False,
) -> None:
    """Commit each group in turn; *on_committed* is told of each step once it is stored.

    A failure before anything was stored raises the error itself; a failure after something
    was committed raises :class:`PartialCommit`. With *best_effort*, a group whose
    transaction cannot even begin (a MongoDB server without transactions) is written step
    by step instead, like a repository without a transaction manager.
    """
    done: list[Step] = []

    def settle(step: Step, result: WriteResult) -> None:
        on_committed(step, result)
        done.append(step)

    for index, group in enumerate(groups):
        try:
            await _commit(group, settle, best_effort)
        except Exception as exc:
            error = await _explained(exc, group.steps)
            if not done:
                if error is exc:
                    raise
                raise error from exc
            remaining = [s for g in groups[index:] for s in g.steps if s not in done]
            raise PartialCommit(
                [step.describe() for step in done],
                [step.describe() for step in remaining],
                error,
            ) from error


async def _commit(
    group: Group, settle: Callable[[Step, WriteResult], None], best_effort: bool
) -> None:
    manager = group.manager
    if manager is None:
        await _one_by_one(group, settle)
        return
    writes: list[Write] = [step.write for step in group.steps if step.write is not None]
    try:
        results = await manager.commit(writes)
    except CapabilityNotSupported:
        # The resource has no transactions (a standalone MongoDB server); the manager says
        # so before writing anything.
        if not best_effort:
            raise
        await _one_by_one(group, settle)
        return
    if len(results) != len(writes):
        raise BackendError(
            f"the transaction manager of {group.key} ({type(manager).__qualname__}) returned "
            f"{len(results)} results for {len(writes)} writes; the writes were committed, "
            "but the backend breaks the TransactionManager contract"
        )
    for step, result in zip(group.steps, results, strict=True):
        settle(step, result)


async def _one_by_one(group: Group, settle: Callable[[Step, WriteResult], None]) -> None:
    # No transaction: each step is stored by itself, and reported as soon as it is.
    for step in group.steps:
        settle(step, await step.run_alone())


async def _explained(exc: Exception, steps: Sequence[Step]) -> Exception:
    if isinstance(exc, WriteRefused):
        for step in steps:
            if step.write is exc.write:
                explained = await step.participant.explain(exc)
                return explained if isinstance(explained, Exception) else exc
    return exc
