"""Committing a unit of work's steps: one transaction per resource, and never silently less.

The steps are grouped by the key of their transaction manager. One group is one
transaction: all of its writes or none. A commit that needs more than one transaction (two
resources, or a repository whose backend has no transaction manager) is refused before
anything is written, unless the caller opted in to a best-effort commit; then each group
commits in turn, in the order of its first step, and a failure leaves the groups before it
committed and reports exactly which.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

import attrs

from victor_core.backend.writes import Write, WriteRefused, WriteResult
from victor_core.errors import BackendError, CapabilityNotSupported
from victor_core.plugins.registry import PluginRegistry
from victor_core.unit_of_work.errors import PartialCommit
from victor_core.unit_of_work.managers import Transactional
from victor_core.unit_of_work.participants import Step


@attrs.define(eq=False)
class Group:
    """Steps that commit in one transaction (or, without a manager, one by one)."""

    key: Hashable
    manager: Transactional | None
    steps: list[Step] = attrs.field(factory=list)

    def describe(self) -> str:
        steps = ", ".join(step.describe() for step in self.steps)
        if self.manager is not None:
            return f"{self.manager.describe()} ({steps})"
        participant = self.steps[0].participant
        return (
            f"{participant.label}, whose backend provides no transaction manager, so its "
            f"writes are made one by one ({steps})"
        )


def group_steps(steps: Sequence[Step], registry: PluginRegistry | None) -> list[Group]:
    """The steps grouped by transactional resource, in the order of each group's first step."""
    groups: dict[Hashable, Group] = {}
    for step in steps:
        manager = step.participant.transactional(registry)
        if manager is not None and manager.takes_writes and step.write is None:
            manager = None  # a repository that writes through its own methods only
        key: Hashable = manager.key if manager is not None else ("alone", id(step.participant))
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(key, manager)
        group.steps.append(step)
    return list(groups.values())


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
    was committed raises :class:`PartialCommit`. With *best_effort*, a group whose ambient
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
    if manager.takes_writes:
        writes: list[Write] = [step.write for step in group.steps if step.write is not None]
        try:
            results = await manager.commit(writes)
        except CapabilityNotSupported:
            # The resource has no transactions (a standalone MongoDB server); the manager
            # says so before writing anything.
            if not best_effort:
                raise
            await _one_by_one(group, settle)
            return
        if len(results) != len(writes):
            raise BackendError(
                f"the transaction manager of {manager.describe()} (backend {manager.backend!r}) "
                f"returned {len(results)} results for {len(writes)} writes; the writes were "
                "committed, but the backend breaks the TransactionManager contract"
            )
    else:
        begun = False
        try:
            async with manager.ambient():
                begun = True
                results = [await step.run_alone() for step in group.steps]
        except CapabilityNotSupported:
            if begun or not best_effort:
                raise
            await _one_by_one(group, settle)
            return
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
