"""The examples of the design document run as written, with either import path.

The document is kept verbatim in tests/seed/. Its blocks are excerpts: where one uses a
name defined elsewhere (``dataclass``, a repository), the test supplies only that name in a
prelude, and checks the outcome in an epilogue.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip(
    "victor_memory", reason="the design's examples use the memory backend (victor-memory)"
)
pytest.importorskip(
    "victor_sqlite", reason="the design's examples use the SQLite backend (victor-sqlite)"
)

from tests.support.markdown import CodeBlock, code_blocks, run_blocks

SEED = Path(__file__).parent / "seed" / "core-design-patterns.md"
PRELUDE = "from dataclasses import dataclass\n"
IMPORT_PATHS = ["victor.core", "victor_core"]


def seed_block(index: int, import_path: str) -> CodeBlock:
    block = code_blocks(SEED)[index]
    code = block.code.replace("from victor.core import", f"from {import_path} import")
    return CodeBlock(path=block.path, line=block.line, code=code)


@pytest.mark.parametrize("import_path", IMPORT_PATHS)
def test_event_sourcing_quick_example(import_path: str, tmp_path: Path) -> None:
    epilogue = """
[recorded] = await store.read_stream("task-1")
assert recorded.event.title == "Build feature", recorded
assert recorded.version == 1
assert task.pending_events == [] and task.version == 1
print("read back:", type(recorded.event).__name__, recorded.event.title)
"""
    result = run_blocks([seed_block(0, import_path)], tmp_path, prelude=PRELUDE, epilogue=epilogue)

    assert result.stdout.strip() == "read back: TaskCreated Build feature"


def test_both_import_paths_give_the_same_objects() -> None:
    import victor.core
    import victor_core
    from victor.core import Aggregate, Event, InMemoryEventStore

    assert victor.core is victor_core
    assert Event is victor_core.Event
    assert Aggregate is victor_core.Aggregate
    assert InMemoryEventStore is victor_core.InMemoryEventStore
