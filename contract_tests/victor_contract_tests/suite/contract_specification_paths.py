"""A specification's path reads stored data and nothing else, on every backend.

Applications build specifications from what a request asks for (a generic filter endpoint),
so a path is input from outside. It may name the entity's declared fields and, below them,
mapping keys and fields of nested records; a name starting with ``_``, a method, a property
or a class attribute is refused before anything is read, so no path can walk from an entity
into its module's globals and compare ``os.environ`` character by character.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import attrs
import pytest
import pytest_asyncio

from victor_contract_tests.plugin import OpenRepository, requires
from victor_core import AttributeSpecification, Entity, Repository
from victor_core.backend import PATH_RULE, BaseSpecification, Capability, ConfigurationError

pytestmark = [pytest.mark.asyncio, requires(Capability.REPOSITORY)]

A = AttributeSpecification
SECRET = "s3cr3t-of-the-process"


@attrs.frozen
class Badge:
    label: str = ""

    def shout(self) -> str:
        return self.label.upper()

    @property
    def loud(self) -> str:
        return self.label.upper()


@dataclasses.dataclass
class Vault(Entity):
    """An entity with data worth reading and code, properties and class state that is not."""

    __entity_name__ = "victor_contract_vault"
    kind: ClassVar[str] = "vault"
    owner: str = ""
    badge: Badge | None = None
    labels: dict[str, str] = dataclasses.field(default_factory=dict)
    extra: Any = None

    def describe(self) -> str:
        return f"{self.kind} of {self.owner}"

    @property
    def loud_owner(self) -> str:
        return self.owner.upper()


def vaults() -> list[Vault]:
    return [
        Vault(id="v1", owner="ann", badge=Badge("gold"), labels={"k": "a"}, extra={"n": "x"}),
        Vault(id="v2", owner="bob", badge=Badge("iron"), labels={"k": "b"}, extra={"n": "y"}),
        Vault(id="v3", owner="cy", badge=None, labels={}, extra=None),
    ]


@pytest_asyncio.fixture
async def stored(open_repository: OpenRepository) -> Repository[Vault]:
    repo: Repository[Vault] = await open_repository(Vault)
    await repo.add_many(vaults())
    return repo


class Watched(BaseSpecification[Any]):
    """Holds for every entity, and remembers whether any entity was ever read."""

    def __init__(self) -> None:
        self.read: list[str] = []

    def is_satisfied_by(self, candidate: Any) -> bool:
        self.read.append(candidate.id)
        return True


#: Every way a repository reads a specification or an ordering.
READS: dict[str, Callable[[Repository[Vault], BaseSpecification[Any]], Awaitable[object]]] = {
    "find": lambda repo, spec: repo.find(spec),
    "find_ordered": lambda repo, spec: repo.find(spec, order_by="owner", limit=1),
    "count": lambda repo, spec: repo.count(spec),
    "iterate": lambda repo, spec: _first(repo, spec),
}


async def _first(repo: Repository[Vault], spec: BaseSpecification[Any]) -> object:
    async for entity in repo.iterate(spec):
        return entity
    return None


def _says_the_rule(error: pytest.ExceptionInfo[ConfigurationError], path: str) -> None:
    message = str(error.value)
    assert repr(path) in message
    assert PATH_RULE in message
    assert SECRET not in message


UNDERSCORED = [
    "__init__.__globals__.os.environ.SECRET",
    "__class__",
    "_private",
    "owner.__class__.__mro__",
    "badge.__init__.__globals__",
    "badge.label.__class__",
    "labels.__len__",
    "labels.k.__doc__",
    "extra.n._x",
    "extra.__dict__",
]


@pytest.mark.parametrize("path", UNDERSCORED)
async def test_a_part_starting_with_an_underscore_is_refused_when_the_specification_is_made(
    path: str,
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        A(path, "s3", op=">=")
    _says_the_rule(refused, path)


@pytest.mark.parametrize("path", UNDERSCORED)
async def test_an_underscored_order_by_is_refused(stored: Repository[Vault], path: str) -> None:
    for order_by in (path, "-" + path, ["owner", path]):
        with pytest.raises(ConfigurationError) as refused:
            await stored.find(order_by=order_by)
        _says_the_rule(refused, path)


async def test_the_environment_cannot_be_read_through_a_path(
    stored: Repository[Vault], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SECRET", SECRET)
    path = "__init__.__globals__.os.environ.SECRET"
    for prefix in ("", "badge.", "labels.", "extra."):
        with pytest.raises(ConfigurationError) as refused:
            A(prefix + path, "s3", op=">=")
        _says_the_rule(refused, prefix + path)
    # The same walk, spelled without the dunders, stops at the first name that is not data.
    with pytest.raises(ConfigurationError) as refused:
        await stored.find(A("describe.globals.os.environ.SECRET", "s3", op=">="))
    _says_the_rule(refused, "describe.globals.os.environ.SECRET")


NOT_DATA = [
    ("describe", "a method"),
    ("loud_owner", "a property"),
    ("kind", "a class attribute"),
    ("owner_name", "no field"),
    ("owner.upper", "holds a str"),
    ("badge.shout", "a method"),
    ("badge.loud", "a property"),
    ("badge.label.upper", "holds a str"),
    ("labels.k.upper", "holds a str"),
    ("created_at.year", "datetime"),
    ("id.join", "holds a str"),
]


@pytest.mark.parametrize("read", list(READS))
@pytest.mark.parametrize(("path", "said"), NOT_DATA, ids=[p for p, _ in NOT_DATA])
async def test_a_path_through_code_is_refused_before_any_entity_is_read(
    stored: Repository[Vault], read: str, path: str, said: str
) -> None:
    watched = Watched()
    spec = watched & A(path, "s", op=">=")

    with pytest.raises(ConfigurationError, match=said) as refused:
        await READS[read](stored, spec)

    _says_the_rule(refused, path)
    assert watched.read == [], "a path must be refused before any entity is read"


@pytest.mark.parametrize(("path", "said"), NOT_DATA, ids=[p for p, _ in NOT_DATA])
async def test_ordering_by_code_is_refused(stored: Repository[Vault], path: str, said: str) -> None:
    for order_by in (path, "-" + path):
        with pytest.raises(ConfigurationError, match=said) as refused:
            await stored.find(order_by=order_by)
        _says_the_rule(refused, path)


@pytest.mark.parametrize(("path", "said"), NOT_DATA, ids=[p for p, _ in NOT_DATA])
async def test_python_evaluation_holds_to_the_same_rule(path: str, said: str) -> None:
    with pytest.raises(ConfigurationError, match=said) as refused:
        A(path, "s", op=">=").is_satisfied_by(vaults()[0])
    _says_the_rule(refused, path)


async def test_below_an_undeclared_type_the_values_themselves_are_checked(
    stored: Repository[Vault],
) -> None:
    # ``extra`` is declared as Any: its keys are data, but a str's methods are not.
    assert [v.id for v in await stored.find(A("extra.n", "x"))] == ["v1"]
    with pytest.raises(ConfigurationError, match="holds a str") as refused:
        await stored.find(A("extra.n.upper", "X"))
    _says_the_rule(refused, "extra.n.upper")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (A("badge.label", "gold"), ["v1"]),
        (A("badge.label", "h", op=">="), ["v2"]),
        (A("badge", None), ["v3"]),
        (A("labels.k", "b"), ["v2"]),
        (A("labels.missing", None), ["v1", "v2", "v3"]),
        (A("extra.n", ["x", "y"], op="in"), ["v1", "v2"]),
        (A("extra.n", None), ["v3"]),
        (A("owner", "b", op="contains") | A("labels.k", "a"), ["v1", "v2"]),
    ],
    ids=repr,
)
async def test_fields_mapping_keys_and_nested_record_fields_are_still_read(
    stored: Repository[Vault], spec: BaseSpecification[Vault], expected: list[str]
) -> None:
    assert [v.id for v in await stored.find(spec)] == expected
    assert await stored.count(spec) == len(expected)
    assert [v.id async for v in stored.iterate(spec, page_size=2)] == expected
    assert [v.id for v in vaults() if spec.is_satisfied_by(v)] == expected


async def test_ordering_by_nested_data_still_works(stored: Repository[Vault]) -> None:
    assert [v.id for v in await stored.find(order_by="-badge.label")] == ["v2", "v1", "v3"]
    assert [v.id for v in await stored.find(order_by=["labels.k", "owner"])] == ["v3", "v1", "v2"]
