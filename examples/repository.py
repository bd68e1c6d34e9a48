"""Repository: store entities behind one interface and query them with specifications.

The design document's quick example, completed into a program: CRUD on an in-memory
repository of users, then queries built from specifications combined with ``&``, ``|`` and
``~``. Run it with ``python examples/repository.py``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from victor_core import AttributeSpecification, BaseSpecification, Entity, InMemoryRepository


@dataclass
class User(Entity):
    name: str = ""
    email: str = ""
    active: bool = True


class HasCompanyEmail(BaseSpecification[User]):
    """A specification written in Python, combined like the built-in ones."""

    def is_satisfied_by(self, candidate: User) -> bool:
        return candidate.email.endswith("@example.com")


async def main() -> None:
    repo = InMemoryRepository[User]()

    # CRUD
    user = User(name="Alice", email="alice@example.com")
    await repo.add(user)
    found = await repo.get(user.id)
    assert found is not None
    print(f"added and read back: {found.name} <{found.email}>")

    user.email = "alice@work.example.com"
    await repo.update(user)
    updated = await repo.get(user.id)
    assert updated is not None
    print(f"updated: {updated.name} <{updated.email}>")

    await repo.delete(user.id)
    print(f"deleted: get returns {await repo.get(user.id)}")

    # Query with specifications
    await repo.add_many(
        [
            User(name="Bob", email="bob@example.com"),
            User(name="Carol", email="carol@elsewhere.org"),
            User(name="Dan", email="dan@example.com", active=False),
        ]
    )
    active = AttributeSpecification("active", True)
    active_users = await repo.find(active)
    print("active:", [u.name for u in active_users])
    print(
        "active with a company email:",
        [u.name for u in await repo.find(active & HasCompanyEmail())],
    )
    print("inactive or elsewhere:", [u.name for u in await repo.find(~active | ~HasCompanyEmail())])
    print(f"{await repo.count()} users stored")


if __name__ == "__main__":
    asyncio.run(main())
