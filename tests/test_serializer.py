"""The kernel's serializer: what every backend stores, and its errors."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from victor_core import Event, SerializationError
from victor_core.backend import EventSerializer, StoredEventRecord


@dataclasses.dataclass
class Measured(Event):
    __event_type__ = "tests.Measured"
    value: float = 0.0


def stored(record_data: str, type_name: str = "tests.Measured") -> StoredEventRecord:
    return StoredEventRecord(
        position=1,
        stream_id="s",
        version=1,
        event_id="e",
        type_name=type_name,
        schema_version=1,
        data=record_data,
        timestamp=datetime.now(UTC),
    )


def test_records_carry_the_type_name_and_utc_timestamp() -> None:
    moment = datetime(2024, 5, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    record = EventSerializer().serialize(Measured(value=1.5, timestamp=moment), "s")

    assert record.type_name == "tests.Measured"
    assert record.timestamp == moment
    assert record.timestamp.utcoffset() == timedelta(0)
    assert json.loads(record.data)["value"] == 1.5
    assert json.loads(record.data)["aggregate_id"] == "s"


def test_nan_is_refused_because_databases_disagree_about_it() -> None:
    with pytest.raises(SerializationError, match="Measured"):
        EventSerializer().serialize(Measured(value=float("nan")), "s")


def test_stored_data_that_no_longer_fits_the_class_names_the_event() -> None:
    serializer = EventSerializer()

    with pytest.raises(SerializationError) as caught:
        serializer.deserialize(stored('{"value": "not a number", "id": "e"}'))

    assert "stream 's' version 1" in str(caught.value)
    assert "tests.Measured" in str(caught.value)


def test_fields_missing_from_old_data_take_their_defaults() -> None:
    event = EventSerializer().deserialize(stored('{"id": "old-1"}'))

    assert isinstance(event, Measured)
    assert (event.id, event.value) == ("old-1", 0.0)
