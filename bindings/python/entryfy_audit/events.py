"""Events: :class:`NewEvent` (what you append) and :class:`Event` (what the
store returns), both frozen dataclasses."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import uuid
from ctypes import byref, c_int64, c_size_t, string_at
from typing import Any, Dict, Mapping, Optional, Union

from . import _ffi, errors
from ._ffi import lib
from ._time import Instant, from_us, to_us
from .codes import Credential, EventType, Field, Reason

#: Details as given to append(): a mapping (serialised with json.dumps), or
#: JSON text/bytes stored exactly as given.
DetailsIn = Union[Mapping[str, Any], str, bytes, None]

_ID_FIELDS = ("subject", "actor", "door", "group", "device", "site")


@dataclasses.dataclass(frozen=True)
class NewEvent:
    """An event to append.

    ``type`` is an :class:`EventType`, a vendor code (int) or a type name
    (``"door_opened"``, or a vendor name registered in the store).
    ``occurred_at`` is an aware datetime or int microseconds; None means the
    store's clock at append time. ``credential`` and ``reason`` take members,
    ints or names. ``details`` is a mapping or JSON text. ``id`` is a UUID
    (or its text); without one the store assigns a time-ordered id.
    """

    type: Union[EventType, int, str]
    occurred_at: Optional[Instant] = None
    subject: Optional[int] = None
    actor: Optional[int] = None
    door: Optional[int] = None
    group: Optional[int] = None
    device: Optional[int] = None
    site: Optional[int] = None
    credential: Union[Credential, int, str] = 0
    reason: Union[Reason, int, str] = 0
    details: DetailsIn = None
    id: Union[uuid.UUID, str, None] = None


@dataclasses.dataclass(frozen=True)
class Event:
    """An event as stored. Times are aware datetimes in UTC
    (``event.occurred_at.astimezone(zone)`` for local time).

    ``type`` is an :class:`EventType` for built-in types and a plain int for
    vendor types. ``details_json`` holds the details exactly as stored;
    :attr:`details` parses them. ``names`` maps the id fields (``"subject"``,
    ``"door"``, ...) to the names they had when the event happened, when the
    query asked for names.
    """

    seq: int
    id: uuid.UUID
    occurred_at: _dt.datetime
    recorded_at: _dt.datetime
    type: Union[EventType, int]
    subject: Optional[int] = None
    actor: Optional[int] = None
    door: Optional[int] = None
    group: Optional[int] = None
    device: Optional[int] = None
    site: Optional[int] = None
    credential: Union[Credential, int] = 0
    reason: Union[Reason, int] = 0
    details_json: Optional[str] = None
    hash: Optional[bytes] = dataclasses.field(default=None, repr=False)
    names: Mapping[str, str] = dataclasses.field(default_factory=dict,
                                                 compare=False)

    @property
    def details(self) -> Optional[Dict[str, Any]]:
        """The details parsed from JSON, or None."""
        return None if self.details_json is None else json.loads(self.details_json)

    @property
    def label(self) -> str:
        """The English label of a built-in type; the code for vendor types
        (see Store.type_label())."""
        return self.type.label if isinstance(self.type, EventType) else str(int(self.type))


def _enum_or_int(cls: Any, value: int) -> Any:
    try:
        return cls(value)
    except ValueError:
        return value


def read_event(ev: Any, names: Optional[Dict[str, str]] = None) -> Event:
    """Copy a C event (borrowed pointer) into an :class:`Event`."""
    out = c_int64()
    vals: Dict[str, Optional[int]] = {}
    for f in (Field.SEQ, Field.OCCURRED_AT, Field.RECORDED_AT, Field.TYPE,
              Field.SUBJECT, Field.ACTOR, Field.DOOR, Field.GROUP,
              Field.DEVICE, Field.SITE, Field.CREDENTIAL, Field.REASON):
        rc = lib.eaudit_event_get(ev, f, byref(out))
        vals[f.code_name] = out.value if rc == errors.OK else None
    raw = _ffi.UUID16()
    ev_id = (uuid.UUID(bytes=bytes(raw))
             if lib.eaudit_event_id(ev, raw) == errors.OK else None)
    n = c_size_t()
    p = lib.eaudit_event_details(ev, byref(n))
    details = string_at(p, n.value).decode("utf-8") if p and n.value else None
    h = lib.eaudit_event_hash(ev)
    digest = string_at(h, 32) if h else None
    seq, occ, rec = vals["seq"], vals["occurred_at"], vals["recorded_at"]
    if seq is None or occ is None or rec is None or ev_id is None:
        raise errors.MisuseError(errors.EMISUSE,
                                 "event has not been stored yet")
    return Event(
        seq=seq, id=ev_id, occurred_at=from_us(occ), recorded_at=from_us(rec),
        type=_enum_or_int(EventType, vals["type"] or 0),
        subject=vals["subject"], actor=vals["actor"], door=vals["door"],
        group=vals["group"], device=vals["device"], site=vals["site"],
        credential=_enum_or_int(Credential, vals["credential"] or 0),
        reason=_enum_or_int(Reason, vals["reason"] or 0),
        details_json=details, hash=digest, names=names or {})


def details_bytes(details: DetailsIn) -> Optional[bytes]:
    if details is None:
        return None
    if isinstance(details, bytes):
        return details
    if isinstance(details, str):
        return details.encode("utf-8")
    if isinstance(details, Mapping):
        return json.dumps(dict(details), separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")
    raise TypeError("details must be a mapping, JSON text or bytes, not "
                    f"{type(details).__name__}")


def fill_event(ev: Any, e: NewEvent, type_code: int, now_us: int) -> None:
    """Set a C event (owned pointer, freshly reset) from a NewEvent."""
    lib.eaudit_event_set(ev, Field.TYPE, type_code)
    at = now_us if e.occurred_at is None else to_us(e.occurred_at, "occurred_at")
    lib.eaudit_event_set(ev, Field.OCCURRED_AT, at)
    for name in _ID_FIELDS:
        v = getattr(e, name)
        if v is not None:
            lib.eaudit_event_set(ev, Field[name.upper()],
                                 _ffi.check_int(v, name))
    cred = _code(Credential, e.credential, "credential")
    if cred:
        lib.eaudit_event_set(ev, Field.CREDENTIAL, cred)
    reason = _code(Reason, e.reason, "reason")
    if reason:
        lib.eaudit_event_set(ev, Field.REASON, reason)
    data = details_bytes(e.details)
    if data:
        lib.eaudit_event_set_details(ev, data, len(data))
    if e.id is not None:
        u = e.id if isinstance(e.id, uuid.UUID) else uuid.UUID(str(e.id))
        lib.eaudit_event_set_id(ev, _ffi.UUID16(*u.bytes))


def _code(cls: Any, value: Union[int, str], what: str) -> int:
    if isinstance(value, str):
        return int(cls.from_name(value.strip().lower()))
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, a name or a "
                        f"{cls.__name__}, not {type(value).__name__}")
    # Unknown codes are the library's to refuse (ERANGE).
    return _ffi.check_int(value, what)
