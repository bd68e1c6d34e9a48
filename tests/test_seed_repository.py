"""The design document's repository example runs as written, in memory and on SQLite.

The block is taken verbatim from tests/seed/. Its prelude supplies ``dataclass`` only; the
epilogue then uses what the document's tables promise around it: ``&``, ``|`` and ``~`` over
custom specifications (``ActiveSpec() & NameSpec("Alice")``) and
``CachedRepository(base, ttl=300)``.
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
REPOSITORY_BLOCK = 1

EPILOGUE = """
from victor.core import BaseSpecification, CachedRepository

assert found is not user
assert (found.id, found.name, found.created_at) == (user.id, "Alice", user.created_at)
assert user.updated_at >= found.updated_at  # update() moved it
assert await repo.get(user.id) is None
assert active_users == []

class ActiveSpec(BaseSpecification):
    def is_satisfied_by(self, candidate):
        return candidate.active

class NameSpec(BaseSpecification):
    def __init__(self, name):
        self.name = name

    def is_satisfied_by(self, candidate):
        return candidate.name == self.name

await repo.add_many([
    User(name="Alice", email="a@example.com"),
    User(name="Bob", email="b@example.com", active=False),
    User(name="Alice", email="old@example.com", active=False),
])
names = lambda users: sorted((u.name, u.email) for u in users)
assert names(await repo.find(ActiveSpec() & NameSpec("Alice"))) == [("Alice", "a@example.com")]
assert names(await repo.find(~ActiveSpec() | AttributeSpecification("email", "a@example.com"))) == [
    ("Alice", "a@example.com"), ("Alice", "old@example.com"), ("Bob", "b@example.com")]
assert await repo.count(AttributeSpecification("active", True)) == 1

base = repo
cached = CachedRepository(base, ttl=300)
[alice] = await cached.find(ActiveSpec() & NameSpec("Alice"))
assert (await cached.get(alice.id)).email == "a@example.com"
alice.email = "alice@example.org"
await cached.update(alice)
assert (await cached.get(alice.id)).email == "alice@example.org"
print("seed repository example:", type(repo).__name__)
"""


def seed_block(import_path: str, backend: str) -> CodeBlock:
    block = code_blocks(SEED)[REPOSITORY_BLOCK]
    code = block.code.replace("from victor.core import", f"from {import_path} import")
    assert "repo = InMemoryRepository[User]()" in code
    if backend == "sqlite":
        code = code.replace(
            "repo = InMemoryRepository[User]()",
            "from victor_core import SQLiteRepository\n"
            'repo = SQLiteRepository[User]("app.db", indexes=["email"])',
        )
    return CodeBlock(path=block.path, line=block.line, code=code)


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
@pytest.mark.parametrize("import_path", ["victor.core", "victor_core"])
def test_repository_quick_example(import_path: str, backend: str, tmp_path: Path) -> None:
    block = seed_block(import_path, backend)

    result = run_blocks([block], tmp_path, prelude=PRELUDE, epilogue=EPILOGUE)

    expected = "InMemoryRepository[User]" if backend == "memory" else "SQLiteRepository[User]"
    assert result.stdout.strip() == f"seed repository example: {expected}"
    assert (tmp_path / "app.db").exists() == (backend == "sqlite")
