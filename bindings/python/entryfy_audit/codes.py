"""Code tables as ``enum.IntEnum``.

:class:`EventType`, :class:`Reason`, :class:`Credential` and :class:`Field`
are built when the package loads, from the library's own tables
(``eaudit_code_at()`` and the ``*_name()``/``*_label()`` functions), so they
always match the library in use. Member names are the library's names in
upper case (``EventType.DOOR_OPENED``); ``.label`` is the English label and
``.code_name`` the library's name (``"door_opened"``).

The small fixed enums (roles, order, ...) mirror header enums whose values
are ABI.
"""

from __future__ import annotations

import enum
from ctypes import byref, c_int
from typing import Callable, Dict, List, Optional, Tuple, Type, TypeVar, Union

from ._ffi import lib
from . import errors


class CodeEnum(enum.IntEnum):
    """Base of the enums generated from the library's tables."""

    @property
    def code_name(self) -> str:
        """The library's name for this code, e.g. ``"door_opened"``."""
        return _TABLES[type(self).__name__][1][int(self)][0]

    @property
    def label(self) -> str:
        """The English label, e.g. ``"Door opened"``."""
        return _TABLES[type(self).__name__][1][int(self)][1]

    @classmethod
    def from_name(cls: Type[_E], name: str) -> _E:
        """The member for a library name (``"door_opened"``)."""
        for code, (n, _) in _TABLES[cls.__name__][1].items():
            if n == name:
                return cls(code)
        raise errors.NotFoundError(errors.ENOTFOUND,
                                   f"no {cls.__name__} named {name!r}")


_E = TypeVar("_E", bound=CodeEnum)

# enum name -> (table letter, {code: (name, label)})
_TABLES: Dict[str, Tuple[str, Dict[int, Tuple[str, str]]]] = {}


def _build(enum_name: str, table: str,
           name_fn: Callable[[int], Optional[bytes]],
           label_fn: Optional[Callable[[int], Optional[bytes]]]) -> Type[CodeEnum]:
    entries: Dict[int, Tuple[str, str]] = {}
    members: List[Tuple[str, int]] = []
    out = c_int()
    index = 0
    while lib.eaudit_code_at(ord(table), index, byref(out)) == errors.OK:
        code = out.value
        name = (name_fn(code) or b"").decode()
        label = (label_fn(code) or b"").decode() if label_fn else name
        entries[code] = (name, label)
        members.append((name.upper(), code))
        index += 1
    _TABLES[enum_name] = (table, entries)
    cls = CodeEnum(enum_name, members, module=__name__,  # type: ignore[call-overload]
                   qualname=enum_name)
    return cls  # type: ignore[no-any-return]


#: Event types: the built-in ones (codes 1-999). Vendor types registered in
#: a store are plain ints (see Store.register_type()).
EventType = _build("EventType", "t", lib.eaudit_type_name,
                   lib.eaudit_type_label)
#: Reason codes (failures, updates, device decisions).
Reason = _build("Reason", "r", lib.eaudit_reason_name,
                lib.eaudit_reason_label)
#: Credential codes.
Credential = _build("Credential", "c", lib.eaudit_credential_name,
                    lib.eaudit_credential_label)
#: Integer fields of an event.
Field = _build("Field", "f", lib.eaudit_field_name, None)


class Role(enum.IntEnum):
    """Which role a user filter matches (eaudit_role)."""
    ANY = 0
    SUBJECT = 1
    ACTOR = 2


class Order(enum.IntEnum):
    """Result order (eaudit_order)."""
    NEWEST_FIRST = 0
    OLDEST_FIRST = 1


class CountBy(enum.IntEnum):
    """What counts are grouped by (eaudit_count_by)."""
    TYPE = 1
    DAY = 2
    USER = 3


class Kind(enum.IntEnum):
    """Directory entity kinds (eaudit_kind)."""
    USER = 1
    DOOR = 2
    GROUP = 3
    DEVICE = 4
    SITE = 5


class UserRole(enum.IntEnum):
    """A user's role in the directory (eaudit_user_role)."""
    USER = 0
    ADMIN = 1


class Sync(enum.IntEnum):
    """Durability (EAUDIT_OPT_SYNCHRONOUS)."""
    NORMAL = 1
    FULL = 2


class TimeFormat(enum.IntEnum):
    """Formats of Store.format_time() (eaudit_time_format)."""
    RFC3339_UTC = 0
    LOCAL = 1
    LOCAL_OFFSET = 2


class LogLevel(enum.IntEnum):
    """Library log levels (eaudit_log_level)."""
    ERROR = 1
    WARN = 2
    INFO = 3
    DEBUG = 4


_EnumT = TypeVar("_EnumT", bound=enum.IntEnum)


def coerce(cls: Type[_EnumT], value: Union[int, str, _EnumT], what: str) -> _EnumT:
    """Accept a member, its int value, or a name (``"subject"``,
    ``"door_opened"``, ``"DOOR_OPENED"``)."""
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        key = value.strip().replace("-", "_").upper()
        try:
            return cls[key]
        except KeyError:
            raise ValueError(f"{value!r} is not a {what}; expected one of "
                             + ", ".join(m.name.lower() for m in cls)) from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, a str or a {cls.__name__}, "
                        f"not {type(value).__name__}")
    return cls(value)
