"""Conversions between datetime and the library's int64 microseconds (UTC)."""

from __future__ import annotations

import datetime as _dt
from typing import Optional, Union

from ._ffi import check_int

#: INT64_MIN: "no time" (EAUDIT_TIME_NONE).
TIME_NONE = -(2 ** 63)

EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_US = _dt.timedelta(microseconds=1)

#: What the API accepts as an instant: an aware datetime, or int microseconds
#: since the epoch (UTC).
Instant = Union[_dt.datetime, int]


def to_us(value: Instant, what: str = "time") -> int:
    """Microseconds since the epoch for an aware datetime (any zone) or an
    int. Naive datetimes are refused: their instant is ambiguous."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"{what} is a naive datetime; give it a time zone "
                "(datetime.timezone.utc, zoneinfo.ZoneInfo(...))")
        return (value - EPOCH) // _US
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an aware datetime or int "
                        f"microseconds, not {type(value).__name__}")
    return check_int(value, what)


def from_us(us: int) -> _dt.datetime:
    """An aware datetime in UTC for microseconds since the epoch."""
    return EPOCH + _dt.timedelta(microseconds=us)


def opt_from_us(us: Optional[int]) -> Optional[_dt.datetime]:
    return None if us is None or us == TIME_NONE else from_us(us)
