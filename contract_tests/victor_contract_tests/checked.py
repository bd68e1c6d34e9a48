"""Every answer of a backend's recorder checked against its interface, during a suite run.

The kernel checks only the types of what a recorder returns, which costs nothing. Under the
contract suite each answer is also checked against what the method promises (order, bounds,
limits, the stream asked for), so a defect is reported as the method that broke its contract
(``MyRecorder.read_all broke its contract: ...``) where it happens, rather than as a wrong
value several calls later.
"""

from __future__ import annotations

import functools
import inspect
import itertools
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from victor_core.backend import (
    AppendResult,
    BackendContractError,
    EventRecorder,
    NewEventRecord,
    StoredEventRecord,
)


def _broken(recorder: EventRecorder, method: str, problem: str) -> BackendContractError:
    return BackendContractError(
        f"{type(recorder).__qualname__}.{method} broke its contract: {problem}"
    )


def _records(recorder: EventRecorder, method: str, records: object) -> list[StoredEventRecord]:
    if not isinstance(records, list | tuple):
        raise _broken(
            recorder, method, f"returned {records!r}, where a list of StoredEventRecord is due"
        )
    for record in records:
        if not isinstance(record, StoredEventRecord):
            raise _broken(
                recorder, method, f"returned {record!r} among its records, not a StoredEventRecord"
            )
    return list(records)


def _check_read_stream(
    recorder: EventRecorder,
    records: object,
    stream_id: str,
    from_version: int,
    to_version: int | None,
    limit: int | None,
) -> None:
    asked = f"read_stream({stream_id!r}, from_version={from_version}, to_version={to_version}, "
    asked += f"limit={limit})"
    found = _records(recorder, "read_stream", records)
    versions = [r.version for r in found]
    if limit is not None and len(found) > limit:
        raise _broken(recorder, "read_stream", f"{asked} returned {len(found)} records")
    others = sorted({r.stream_id for r in found if r.stream_id != stream_id})
    if others:
        raise _broken(recorder, "read_stream", f"{asked} returned records of streams {others}")
    if versions and (
        versions[0] < from_version or (to_version is not None and versions[-1] > to_version)
    ):
        raise _broken(recorder, "read_stream", f"{asked} returned versions {versions}")
    if any(later != earlier + 1 for earlier, later in itertools.pairwise(versions)):
        raise _broken(
            recorder,
            "read_stream",
            f"{asked} returned versions {versions}; they must be consecutive and in order",
        )


def _check_read_all(
    recorder: EventRecorder, records: object, from_position: int, limit: int
) -> None:
    asked = f"read_all(from_position={from_position}, limit={limit})"
    found = _records(recorder, "read_all", records)
    positions = [r.position for r in found]
    if len(found) > limit:
        raise _broken(recorder, "read_all", f"{asked} returned {len(found)} records")
    if positions and positions[0] < from_position:
        raise _broken(recorder, "read_all", f"{asked} returned positions {positions}")
    if any(later <= earlier for earlier, later in itertools.pairwise(positions)):
        raise _broken(
            recorder,
            "read_all",
            f"{asked} returned positions {positions}; they must rise strictly",
        )


def _check_append(
    recorder: EventRecorder,
    result: object,
    stream_id: str,
    records: Sequence[NewEventRecord],
    expected_version: object,
) -> None:
    if not isinstance(result, AppendResult):
        raise _broken(recorder, "append", f"returned {result!r}, where an AppendResult is due")
    positions = list(result.positions)
    problem = None
    if result.stream_id != stream_id:
        problem = f"reported stream {result.stream_id!r} for an append to {stream_id!r}"
    elif len(positions) != len(records):
        problem = f"reported {len(positions)} positions for {len(records)} records"
    elif any(later <= earlier for earlier, later in itertools.pairwise(positions)):
        problem = f"reported positions {positions}; they must rise strictly"
    elif not isinstance(result.version, int) or result.version < len(records):
        problem = f"reported version {result.version!r} after appending {len(records)} records"
    elif (
        isinstance(expected_version, int)
        and not isinstance(expected_version, bool)
        and result.version != expected_version + len(records)
    ):
        problem = (
            f"reported version {result.version} after appending {len(records)} records at "
            f"expected version {expected_version}"
        )
    if problem is not None:
        raise _broken(recorder, "append", problem)


def _checking(
    method: Callable[..., Awaitable[Any]], check: Callable[..., None]
) -> Callable[..., Awaitable[Any]]:
    signature = inspect.signature(method)

    @functools.wraps(method)
    async def checked(*args: Any, **kwargs: Any) -> Any:
        result = await method(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = bound.args
        check(method.__self__, result, *arguments)  # type: ignore[attr-defined]
        return result

    return checked


def watch(recorder: EventRecorder) -> None:
    """Check every answer of *recorder* from now on (its own instance only)."""
    checks: dict[str, Callable[..., None]] = {
        "append": _check_append,
        "read_stream": _check_read_stream,
        "read_all": _check_read_all,
    }
    for name, check in checks.items():
        try:
            setattr(recorder, name, _checking(getattr(recorder, name), check))
        except AttributeError:  # a recorder with __slots__: the kernel's own checks remain
            return
