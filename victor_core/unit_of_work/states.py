"""What a unit of work intends to do with each object it tracks."""

from __future__ import annotations

import enum


class EntityState(enum.StrEnum):
    """The state of a tracked object, and so what ``commit`` writes for it."""

    #: Registered with ``register_new``: inserted at commit.
    NEW = "new"
    #: Registered with ``register_modified``, or attached and changed since: updated at commit.
    MODIFIED = "modified"
    #: Registered with ``register_deleted``: deleted at commit.
    DELETED = "deleted"
    #: Attached, loaded or committed, and unchanged since: nothing to write.
    CLEAN = "clean"
