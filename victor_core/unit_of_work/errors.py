"""What can go wrong when a unit of work commits, and what to do about it.

A refused write (:class:`~victor_core.backend.WriteRefused`) is the backend's side of it.
"""

from __future__ import annotations

from collections.abc import Sequence

from victor_core.errors import ConfigurationError, VictorError


class NotAtomic(ConfigurationError):
    """A commit would write to resources that cannot share one transaction; nothing was written.

    Each resource (one SQLite file, the in-process memory, one MongoDB client) commits in one
    transaction of its own. Put the repositories on one resource, or opt in to committing
    each resource separately with ``best_effort=True``.
    """

    def __init__(self, resources: Sequence[str]) -> None:
        #: Each resource the commit would write to, with what it would write there.
        self.resources = tuple(resources)
        listed = "; ".join(self.resources)
        super().__init__(
            f"this unit of work would write to {len(self.resources)} places that cannot "
            f"commit in one transaction: {listed}. Nothing was written. Open these "
            "repositories and event stores on one resource (one database) to commit them "
            "atomically, or pass best_effort=True (to UnitOfWork or commit) to commit each "
            "resource in its own transaction, accepting that a failure may leave the "
            "resources committed before it as they are"
        )


class PartialCommit(VictorError):
    """A best-effort commit failed after some resources had already committed.

    What was committed stays committed (and is clean in the unit of work); what was not is
    still registered, so fixing the cause and calling ``commit`` again writes the rest.
    """

    def __init__(
        self, committed: Sequence[str], not_committed: Sequence[str], error: BaseException
    ) -> None:
        #: What was written, per resource.
        self.committed = tuple(committed)
        #: What was not written and is still pending in the unit of work.
        self.not_committed = tuple(not_committed)
        #: The failure that stopped the commit (also the ``__cause__``).
        self.error = error
        super().__init__(
            f"the best-effort commit failed with {type(error).__name__}: {error} -- after "
            f"committing {'; '.join(self.committed)}. Not written: "
            f"{'; '.join(self.not_committed)}. The unit of work still holds what was not "
            "written: fix the cause and commit again, or roll back"
        )
