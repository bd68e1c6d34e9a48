"""Aggregate state in snapshots: captured only when it restores exactly, fingerprinted by shape."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime
from decimal import Decimal

import attrs
import pytest

from victor_core import Aggregate, ConfigurationError, SerializationError
from victor_core.eventsourcing.snapshot_state import SnapshotCodec

NOW = datetime(2024, 1, 1, tzinfo=UTC)


class Plain(Aggregate):
    __aggregate_type__ = "tests.Plain"

    def __init__(self) -> None:
        super().__init__()
        self.name = ""
        self.scores: dict[str, list[float]] = {}


class PlainWithMore(Aggregate):
    __aggregate_type__ = "tests.Plain"  # the same stored aggregate, grown an attribute

    def __init__(self) -> None:
        super().__init__()
        self.name = ""
        self.scores: dict[str, list[float]] = {}
        self.extra = 0


@dataclasses.dataclass
class Line:
    sku: str
    price: Decimal


@dataclasses.dataclass
class LineWithQuantity:
    sku: str
    price: Decimal
    quantity: int = 1


class Cart(Aggregate):
    lines: list[Line]
    opened: datetime | None

    def __init__(self) -> None:
        super().__init__()
        self.lines = []
        self.opened = None


def codec_for_class_named(name: str, annotations: dict[str, object]) -> SnapshotCodec[Aggregate]:
    """A codec of a fresh aggregate class with the given name and annotated attributes."""

    def init(self: Aggregate) -> None:
        Aggregate.__init__(self)
        for attribute in annotations:
            setattr(self, attribute, None)

    cls = type(name, (Aggregate,), {"__init__": init, "__annotations__": annotations})
    return SnapshotCodec(cls)


def test_a_captured_state_restores_equal_with_its_id_and_version() -> None:
    cart = Cart()
    cart.id, cart.version = "cart-1", 7
    cart.lines = [Line("a", Decimal("1.10")), Line("b", Decimal("2"))]
    cart.opened = NOW
    codec = SnapshotCodec(Cart)

    record = codec.capture(cart, NOW)
    restored = codec.restore(record)

    assert restored is not None
    assert (restored.id, restored.version) == ("cart-1", 7)
    assert restored.lines == cart.lines
    assert restored.opened == NOW
    assert restored.pending_events == []
    assert (record.stream_id, record.version, record.taken_at) == ("cart-1", 7, NOW)


def test_the_fingerprint_depends_on_the_shape_not_on_the_instance() -> None:
    assert SnapshotCodec(Plain).fingerprint == SnapshotCodec(Plain).fingerprint
    assert SnapshotCodec(Plain).fingerprint != SnapshotCodec(PlainWithMore).fingerprint


def test_the_fingerprint_changes_with_a_declared_type_or_a_nested_class_shape() -> None:
    with_lines = codec_for_class_named("Order", {"lines": list[Line]})
    with_richer_lines = codec_for_class_named("Order", {"lines": list[LineWithQuantity]})
    with_tuple = codec_for_class_named("Order", {"lines": tuple[Line, ...]})
    same_again = codec_for_class_named("Order", {"lines": list[Line]})

    fingerprints = {with_lines.fingerprint, with_richer_lines.fingerprint, with_tuple.fingerprint}
    assert len(fingerprints) == 3
    assert same_again.fingerprint == with_lines.fingerprint


def test_the_fingerprint_changes_when_undeclared_state_starts_as_another_kind() -> None:
    class Listed(Aggregate):
        __aggregate_type__ = "tests.Kinds"

        def __init__(self) -> None:
            super().__init__()
            self.items: object = []

    class Keyed(Aggregate):
        __aggregate_type__ = "tests.Kinds"

        def __init__(self) -> None:
            super().__init__()
            self.items: object = {}

    assert SnapshotCodec(Listed).fingerprint != SnapshotCodec(Keyed).fingerprint


def test_the_fingerprint_counts_annotated_state_that_only_events_set() -> None:
    class Sparse(Aggregate):
        __aggregate_type__ = "tests.Sparse"
        name: str

    class SparseWithMore(Aggregate):
        __aggregate_type__ = "tests.Sparse"
        name: str
        extra: int

    assert SnapshotCodec(Sparse).fingerprint != SnapshotCodec(SparseWithMore).fingerprint


def test_state_the_class_does_not_declare_is_refused_naming_the_fix() -> None:
    plain = Plain()
    plain.id = "p"
    plain.later = 3  # type: ignore[attr-defined]

    with pytest.raises(SerializationError, match=r"'later' is neither set by .*annotate it"):
        SnapshotCodec(Plain).capture(plain, NOW)


def test_a_snapshot_holding_undeclared_state_is_not_restored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Such snapshots cannot be taken any more, but older ones may still be stored."""
    codec = SnapshotCodec(Plain)
    plain = Plain()
    plain.id, plain.version = "p", 1
    record = codec.capture(plain, NOW)
    older = attrs.evolve(record, state='{"name": "", "scores": {}, "later": 3}')

    with caplog.at_level(logging.WARNING, logger="victor_core.eventsourcing"):
        assert codec.restore(older) is None

    assert "'later'" in caplog.text
    assert codec.restore(record) is not None


def test_the_fingerprint_changes_with_the_snapshot_version() -> None:
    class Reinterpreted(Plain):
        __snapshot_version__ = 2

    assert SnapshotCodec(Reinterpreted).fingerprint != SnapshotCodec(Plain).fingerprint


def test_a_snapshot_of_another_shape_is_not_restored(caplog: pytest.LogCaptureFixture) -> None:
    plain = Plain()
    plain.id, plain.version = "p", 1
    record = SnapshotCodec(Plain).capture(plain, NOW)

    with caplog.at_level(logging.DEBUG, logger="victor_core.eventsourcing"):
        assert SnapshotCodec(PlainWithMore).restore(record) is None
    assert SnapshotCodec(Cart).restore(attrs.evolve(record, aggregate_type="Cart")) is None

    assert "replaying the events" in caplog.text


def test_a_snapshot_that_fails_to_restore_is_ignored_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    codec = SnapshotCodec(Cart)
    cart = Cart()
    cart.id, cart.version = "c", 1
    broken = attrs.evolve(codec.capture(cart, NOW), state='{"lines": [{"sku": "a"}]}')

    with caplog.at_level(logging.WARNING, logger="victor_core.eventsourcing"):
        assert codec.restore(broken) is None

    assert "cannot be restored" in caplog.text


@pytest.mark.parametrize(
    ("value", "kind"),
    [({"a", "b"}, "set"), ((1, 2), "tuple"), (NOW, "datetime"), (Decimal("1"), "Decimal")],
)
def test_undeclared_state_that_json_cannot_carry_is_refused_naming_the_fix(
    value: object, kind: str
) -> None:
    plain = Plain()
    plain.id = "p"
    plain.name = value  # type: ignore[assignment]

    with pytest.raises(SerializationError, match=rf"'name' holds a {kind}.*annotate it"):
        SnapshotCodec(Plain).capture(plain, NOW)


def test_floats_json_cannot_carry_are_refused() -> None:
    plain = Plain()
    plain.scores = {"x": [float("nan")]}

    with pytest.raises(SerializationError, match="'scores'"):
        SnapshotCodec(Plain).capture(plain, NOW)


def test_a_value_that_does_not_match_its_declared_type_is_refused() -> None:
    cart = Cart()
    cart.opened = "yesterday"  # type: ignore[assignment]

    with pytest.raises(SerializationError, match="'opened'"):
        SnapshotCodec(Cart).capture(cart, NOW)


def test_an_aggregate_that_needs_constructor_arguments_is_refused() -> None:
    class Needy(Aggregate):
        def __init__(self, owner: str) -> None:
            super().__init__()
            self.owner = owner

    with pytest.raises(ConfigurationError, match="without arguments"):
        SnapshotCodec(Needy)
