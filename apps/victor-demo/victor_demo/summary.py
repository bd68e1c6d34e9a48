"""What a run of the demo did, in numbers, and the lines that sum it up."""

from __future__ import annotations

import attrs

from victor_demo.narration import plural


@attrs.frozen
class DemoSummary:
    """What a run did, in numbers."""

    backend: str
    events: int
    streams: int
    members: int
    #: The board projection's saved checkpoint (a global position).
    checkpoint: int
    #: The global position of the last event in the store.
    last_position: int
    commands: int
    succeeded: int
    rejected: int
    refused: int
    retried: int
    queries: int
    cached: int
    conflicts: int
    seconds: float
    command_seconds: float
    catch_up_seconds: float

    def lines(self) -> list[str]:
        """The summary, as the demo prints it."""
        average = self.command_seconds / self.commands * 1000 if self.commands else 0.0
        return [
            f"Summary: {plural(self.events, 'event')} in {plural(self.streams, 'task stream')} "
            f"and {plural(self.members, 'member')} on {self.backend!r}; the board's "
            f"checkpoint is at position {self.checkpoint} of {self.last_position}.",
            f"   {plural(self.commands, 'command')}: {self.succeeded} succeeded, "
            f"{self.rejected} rejected by validation, {self.refused} refused by the rules, "
            f"{self.retried} retried after a transient error; "
            f"{plural(self.queries, 'query', 'queries')}, {self.cached} answered from the cache; "
            f"{plural(self.conflicts, 'stale save')} refused.",
            f"   Took {self.seconds * 1000:.0f} ms: {average:.1f} ms per command on average, "
            f"{self.catch_up_seconds * 1000:.1f} ms for the board's first catch-up.",
        ]
