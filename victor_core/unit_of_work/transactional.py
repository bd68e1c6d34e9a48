"""``transactional``: a unit of work with its repositories, as an async context manager."""

from __future__ import annotations

from victor_core.backend.transactions import Dispatcher
from victor_core.errors import ConfigurationError
from victor_core.plugins.registry import PluginRegistry
from victor_core.unit_of_work.unit_of_work import UnitOfWork


def transactional(
    *repositories: tuple[object, type],
    best_effort: bool = False,
    dispatcher: Dispatcher | None = None,
    plugins: PluginRegistry | None = None,
) -> UnitOfWork:
    """A :class:`UnitOfWork` with each ``(repository, EntityType)`` pair registered.

    Use it with ``async with``: the block's changes are committed when it ends normally,
    and rolled back when it raises (the error propagates)::

        async with transactional((user_repo, User), (order_repo, Order)) as uow:
            uow.register_new(User(name="Charlie"))
    """
    uow = UnitOfWork(best_effort=best_effort, dispatcher=dispatcher, plugins=plugins)
    for pair in repositories:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ConfigurationError(
                f"transactional takes (repository, EntityType) pairs, e.g. "
                f"transactional((user_repo, User)); got {pair!r}"
            )
        uow.register_repository(*pair)
    return uow
