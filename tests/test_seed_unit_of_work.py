"""The design document's unit-of-work examples run as written, in memory and on SQLite.

The blocks are taken verbatim from tests/seed/: the quick example (explicit ``commit``),
the context manager pattern, and the "Repository + Unit of Work" integration example. Their
prelude supplies what the document leaves to the reader: ``dataclass``, the ``User`` and
``Order`` entities, ``user_repo`` and ``order_repo`` (two repositories on one storage: two
private in-memory repositories, or two SQLite repositories on one file) and, for the blocks
that use it without importing it, ``transactional``. The epilogue checks what was stored.
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
QUICK_EXAMPLE, CONTEXT_MANAGER, INTEGRATION = 2, 3, 6

PRELUDE = """
from dataclasses import dataclass
from {import_path} import Entity, transactional


@dataclass
class User(Entity):
    name: str = ""


@dataclass
class Order(Entity):
    user_id: str = ""
    total: float = 0.0


{repositories}
"""

REPOSITORIES = {
    "memory": """
from {import_path} import InMemoryRepository

user_repo = InMemoryRepository[User]()
order_repo = InMemoryRepository[Order]()
""",
    "sqlite": """
from {import_path} import SQLiteRepository

user_repo = SQLiteRepository(User, "app.db")
order_repo = SQLiteRepository(Order, "app.db")
""",
}

EPILOGUE = """
users = await user_repo.find()
orders = await order_repo.find()
assert [u.name for u in users] == [{name!r}], users
assert [(o.user_id, o.total) for o in orders] == [(users[0].id, {total!r})], orders
assert user.id == users[0].id and order.id == orders[0].id
assert not uow.has_changes()

# Auto-rollback: an error in the block leaves storage as it was and reaches the caller.
try:
    async with transactional((user_repo, User), (order_repo, Order)) as uow:
        uow.register_new(User(name="Never stored"))
        uow.register_new(Order(user_id="nobody", total=1.0))
        raise RuntimeError("payment declined")
except RuntimeError as exc:
    assert str(exc) == "payment declined"
else:
    raise AssertionError("the error did not propagate")
assert await user_repo.count() == 1 and await order_repo.count() == 1
print("stored:", users[0].name, orders[0].total, type(user_repo).__name__)
"""


def seed_block(index: int, import_path: str) -> CodeBlock:
    block = code_blocks(SEED)[index]
    code = block.code.replace("from victor.core import", f"from {import_path} import")
    return CodeBlock(path=block.path, line=block.line, code=code)


CASES = [
    (QUICK_EXAMPLE, "Bob", 99.99),
    (CONTEXT_MANAGER, "Charlie", 50.0),
    (INTEGRATION, "Helen", 100.0),
]


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
@pytest.mark.parametrize("import_path", ["victor.core", "victor_core"])
@pytest.mark.parametrize(("index", "name", "total"), CASES, ids=["quick", "context", "integration"])
def test_unit_of_work_examples(
    index: int, name: str, total: float, import_path: str, backend: str, tmp_path: Path
) -> None:
    repositories = REPOSITORIES[backend].format(import_path=import_path)
    prelude = PRELUDE.format(import_path=import_path, repositories=repositories)
    epilogue = EPILOGUE.format(name=name, total=total)

    result = run_blocks(
        [seed_block(index, import_path)], tmp_path, prelude=prelude, epilogue=epilogue
    )

    expected_type = "InMemoryRepository[User]" if backend == "memory" else "SQLiteRepository"
    assert result.stdout.strip() == f"stored: {name} {total} {expected_type}"
    assert (tmp_path / "app.db").exists() == (backend == "sqlite")


def test_the_blocks_are_the_unit_of_work_examples() -> None:
    blocks = code_blocks(SEED)
    assert "uow.register_repository(user_repo, User)" in blocks[QUICK_EXAMPLE].code
    assert "await uow.commit()" in blocks[QUICK_EXAMPLE].code
    for index in (CONTEXT_MANAGER, INTEGRATION):
        assert "async with transactional((user_repo, User), (order_repo, Order))" in (
            blocks[index].code
        )
