"""Loading libentryfy-audit and the one table that declares its functions.

Everything that touches ctypes directly lives here: the library search, the
run-time version check, the opaque handle types, the callback prototypes and
the declaration table. Each entry of the table is (name, argtypes, restype,
errcheck, since): an entry with ``since`` set is optional, so an older library
without it still loads and the function raises :class:`UnsupportedError`
when called.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_int,
                    c_int64, c_size_t, c_uint8, c_uint64, c_void_p)
from typing import Any, Callable, List, NamedTuple, Optional, Sequence, Tuple

from . import errors

#: The environment variable naming the library file to load first.
ENV_VAR = "ENTRYFY_AUDIT_LIB"
#: The name given to ctypes.util.find_library().
FIND_NAME = "entryfy-audit"
#: The SONAME tried last.
SONAME = "libentryfy-audit.so.1"

#: Run-time versions this package supports: [MIN, MAX) as
#: MAJOR * 1000000 + MINOR * 1000 + PATCH.
VERSION_MIN = 1_000_000
VERSION_MAX = 2_000_000


# --- opaque handles ----------------------------------------------------------

class _Opaque(Structure):
    """Base of the opaque handle types; never instantiated."""


class StoreT(_Opaque):
    pass


class OptionsT(_Opaque):
    pass


class EventT(_Opaque):
    pass


class BatchT(_Opaque):
    pass


class QueryT(_Opaque):
    pass


class CursorT(_Opaque):
    pass


class CountsT(_Opaque):
    pass


class UsersT(_Opaque):
    pass


class DeviceInfoT(_Opaque):
    pass


class DeviceResultT(_Opaque):
    pass


class DevicesT(_Opaque):
    pass


class SinkT(_Opaque):
    pass


class SourceT(_Opaque):
    pass


class ReportOptionsT(_Opaque):
    pass


class ImportResultT(_Opaque):
    pass


class FindingT(_Opaque):
    pass


class FindingsT(_Opaque):
    pass


class FindingQueryT(_Opaque):
    pass


class ExpiredT(_Opaque):
    pass


class VerifyResultT(_Opaque):
    pass


StoreP = POINTER(StoreT)
OptionsP = POINTER(OptionsT)
EventP = POINTER(EventT)
BatchP = POINTER(BatchT)
QueryP = POINTER(QueryT)
CursorP = POINTER(CursorT)
CountsP = POINTER(CountsT)
UsersP = POINTER(UsersT)
DeviceInfoP = POINTER(DeviceInfoT)
DeviceResultP = POINTER(DeviceResultT)
DevicesP = POINTER(DevicesT)
SinkP = POINTER(SinkT)
SourceP = POINTER(SourceT)
ReportOptionsP = POINTER(ReportOptionsT)
ImportResultP = POINTER(ImportResultT)
FindingP = POINTER(FindingT)
FindingsP = POINTER(FindingsT)
FindingQueryP = POINTER(FindingQueryT)
ExpiredP = POINTER(ExpiredT)
VerifyResultP = POINTER(VerifyResultT)


class ErrorT(Structure):
    """struct eaudit_error; its layout is ABI."""

    _fields_ = [("code", c_int), ("klass", c_int), ("detail", c_int),
                ("message", c_char_p)]


# --- callback prototypes -----------------------------------------------------

#: eaudit_clock_fn: eaudit_time (*)(void *payload)
CLOCK_FN = CFUNCTYPE(c_int64, c_void_p)
#: eaudit_random_fn: int (*)(uint8_t *buf, size_t len, void *payload)
RANDOM_FN = CFUNCTYPE(c_int, POINTER(c_uint8), c_size_t, c_void_p)
#: eaudit_event_fn: int (*)(const eaudit_event *ev, void *payload)
EVENT_FN = CFUNCTYPE(c_int, EventP, c_void_p)
#: eaudit_log_fn: void (*)(int level, const char *message, void *payload)
LOG_FN = CFUNCTYPE(None, c_int, c_char_p, c_void_p)
#: eaudit_write_fn: int (*)(const void *buf, size_t len, void *payload)
WRITE_FN = CFUNCTYPE(c_int, c_void_p, c_size_t, c_void_p)
#: eaudit_progress_fn: int (*)(uint64_t done, uint64_t total, void *payload)
PROGRESS_FN = CFUNCTYPE(c_int, c_uint64, c_uint64, c_void_p)
#: eaudit_finding_fn: int (*)(const eaudit_finding *f, void *payload)
FINDING_FN = CFUNCTYPE(c_int, FindingP, c_void_p)
#: eaudit_checkpoint_fn: int (*)(const uint8_t *record, size_t len,
#: void *payload)
CHECKPOINT_FN = CFUNCTYPE(c_int, POINTER(c_uint8), c_size_t, c_void_p)

UUID16 = c_uint8 * 16
POSITION_MAX = 64
TIME_STRMAX = 40

# --- exceptions raised from inside callbacks ----------------------------------

_pending = threading.local()


def set_pending(exc: BaseException) -> None:
    """Remember an exception raised by a Python callback on this thread, so
    that the failing library call re-raises it as the cause."""
    _pending.exc = exc


def take_pending() -> Optional[BaseException]:
    exc = getattr(_pending, "exc", None)
    _pending.exc = None
    return exc


# --- errcheck functions ------------------------------------------------------

def raise_code(rc: int, func_name: str) -> None:
    """Raise the exception for return code ``rc`` with this thread's last
    error message from the library."""
    err = _error_last()
    message = err.message.decode("utf-8", "replace") if err.message else ""
    if err.code != rc or not message:
        text = _strerror(rc)
        message = text.decode("utf-8", "replace") if text else "unknown error"
    exc = errors.from_code(rc, message, klass=err.klass if err.code == rc else 0,
                           detail=err.detail if err.code == rc else 0,
                           function=func_name)
    cause = take_pending()
    if cause is not None:
        raise exc from cause
    raise exc


def check_rc(result: int, func: Any, args: Tuple[Any, ...]) -> int:
    """errcheck for calls returning an eaudit_code: negative raises; 0 and
    EAUDIT_DONE are returned."""
    if result < 0:
        raise_code(result, func.__name__)
    return result


def check_found(result: int, func: Any, args: Tuple[Any, ...]) -> int:
    """errcheck for calls where EAUDIT_ENOTFOUND is an ordinary answer
    (reading an absent field or id): it is returned, not raised."""
    if result < 0 and result != errors.ENOTFOUND:
        raise_code(result, func.__name__)
    return result


class Fn(NamedTuple):
    """One row of the declaration table."""

    name: str
    argtypes: Sequence[Any]
    restype: Any
    errcheck: Optional[Callable[..., Any]] = None
    #: None: required. Otherwise the first version (as eaudit_version_number())
    #: that has the function; older libraries load without it.
    since: Optional[int] = None


_p_int = POINTER(c_int)
_p_i64 = POINTER(c_int64)
_p_size = POINTER(c_size_t)
_p_u8 = POINTER(c_uint8)

#: Every function the package calls. Area modules append their rows through
#: :func:`declare` before the library is bound.
FUNCTIONS: List[Fn] = [
    # common.h
    Fn("eaudit_error_last", [], POINTER(ErrorT)),
    Fn("eaudit_error_clear", [], None),
    Fn("eaudit_strerror", [c_int], c_char_p),
    Fn("eaudit_code_name", [c_int], c_char_p),
    Fn("eaudit_version_string", [], c_char_p),
    Fn("eaudit_version_number", [], c_int),
    Fn("eaudit_set_log", [LOG_FN, c_int, c_void_p], None),
    Fn("eaudit_free", [c_void_p], None),
    # types.h
    Fn("eaudit_type_name", [c_int], c_char_p),
    Fn("eaudit_type_label", [c_int], c_char_p),
    Fn("eaudit_type_from_name", [c_char_p, _p_int], c_int, check_rc),
    Fn("eaudit_reason_name", [c_int], c_char_p),
    Fn("eaudit_reason_label", [c_int], c_char_p),
    Fn("eaudit_credential_name", [c_int], c_char_p),
    Fn("eaudit_credential_label", [c_int], c_char_p),
    Fn("eaudit_field_name", [c_int], c_char_p),
    Fn("eaudit_code_at", [c_int, c_size_t, _p_int], c_int, check_rc),
    # options.h
    Fn("eaudit_options_new", [POINTER(OptionsP)], c_int, check_rc),
    Fn("eaudit_options_free", [OptionsP], None),
    Fn("eaudit_options_set_int", [OptionsP, c_int, c_int64], c_int, check_rc),
    Fn("eaudit_options_get_int", [OptionsP, c_int, _p_i64], c_int, check_rc),
    Fn("eaudit_options_set_str", [OptionsP, c_int, c_char_p], c_int, check_rc),
    Fn("eaudit_option_bounds", [c_int, _p_i64, _p_i64], c_int, check_rc),
    Fn("eaudit_options_set_clock", [OptionsP, CLOCK_FN, c_void_p], c_int,
       check_rc),
    Fn("eaudit_options_set_random", [OptionsP, RANDOM_FN, c_void_p], c_int,
       check_rc),
    # event.h
    Fn("eaudit_event_new", [POINTER(EventP)], c_int, check_rc),
    Fn("eaudit_event_free", [EventP], None),
    Fn("eaudit_event_reset", [EventP], None),
    Fn("eaudit_event_set", [EventP, c_int, c_int64], c_int, check_rc),
    Fn("eaudit_event_get", [EventP, c_int, _p_i64], c_int, check_found),
    Fn("eaudit_event_set_details", [EventP, c_char_p, c_size_t], c_int,
       check_rc),
    Fn("eaudit_event_details", [EventP, _p_size], POINTER(c_char)),
    Fn("eaudit_event_set_id", [EventP, UUID16], c_int, check_rc),
    Fn("eaudit_event_id", [EventP, UUID16], c_int, check_found),
    Fn("eaudit_event_hash", [EventP], _p_u8),
    # store.h
    Fn("eaudit_store_open", [POINTER(StoreP), c_char_p, OptionsP], c_int,
       check_rc),
    Fn("eaudit_store_free", [StoreP], None),
    Fn("eaudit_store_append", [StoreP, EventP], c_int, check_rc),
    Fn("eaudit_batch_new", [POINTER(BatchP)], c_int, check_rc),
    Fn("eaudit_batch_free", [BatchP], None),
    Fn("eaudit_batch_add", [BatchP, EventP], c_int, check_rc),
    Fn("eaudit_batch_size", [BatchP], c_size_t),
    Fn("eaudit_batch_get", [BatchP, c_size_t], EventP),
    Fn("eaudit_batch_clear", [BatchP], None),
    Fn("eaudit_store_append_batch", [StoreP, BatchP, _p_size], c_int,
       check_rc),
    Fn("eaudit_store_id", [StoreP, UUID16], c_int, check_rc),
    Fn("eaudit_store_last_seq", [StoreP, _p_i64], c_int, check_rc),
    Fn("eaudit_store_event_count", [StoreP, _p_i64], c_int, check_rc),
    Fn("eaudit_store_now", [StoreP], c_int64),
    Fn("eaudit_store_time_zone", [StoreP], c_char_p),
    Fn("eaudit_store_set_time_zone", [StoreP, c_char_p], c_int, check_rc),
    Fn("eaudit_store_register_type", [StoreP, c_int, c_char_p, c_char_p],
       c_int, check_rc),
    Fn("eaudit_store_type_name", [StoreP, c_int], c_char_p),
    Fn("eaudit_store_type_label", [StoreP, c_int], c_char_p),
    Fn("eaudit_store_type_from_name", [StoreP, c_char_p, _p_int], c_int,
       check_rc),
    Fn("eaudit_store_set_type_label", [StoreP, c_int, c_char_p], c_int,
       check_rc),
    Fn("eaudit_store_set_name", [StoreP, c_int, c_int64, c_char_p, c_int64],
       c_int, check_rc),
    Fn("eaudit_store_set_user", [StoreP, c_int64, c_char_p, c_int, c_int64],
       c_int, check_rc),
    Fn("eaudit_store_name_at", [StoreP, c_int, c_int64, c_int64,
                                POINTER(c_void_p)], c_int, check_found),
    Fn("eaudit_store_erase_names", [StoreP, c_int, c_int64], c_int, check_rc),
    Fn("eaudit_store_subscribe", [StoreP, QueryP, EVENT_FN, c_void_p, _p_int],
       c_int, check_rc),
    Fn("eaudit_store_unsubscribe", [StoreP, c_int], c_int, check_rc),
    # query.h
    Fn("eaudit_query_new", [POINTER(QueryP)], c_int, check_rc),
    Fn("eaudit_query_free", [QueryP], None),
    Fn("eaudit_query_dup", [POINTER(QueryP), QueryP], c_int, check_rc),
    Fn("eaudit_query_set_user", [QueryP, c_int64, c_int], c_int, check_rc),
    Fn("eaudit_query_set_interval", [QueryP, c_int64, c_int64], c_int,
       check_rc),
    Fn("eaudit_query_add_type", [QueryP, c_int], c_int, check_rc),
    Fn("eaudit_query_set_entity", [QueryP, c_int, c_int64], c_int, check_rc),
    Fn("eaudit_query_set_text", [QueryP, c_char_p], c_int, check_rc),
    Fn("eaudit_query_set_order", [QueryP, c_int], c_int, check_rc),
    Fn("eaudit_query_set_limit", [QueryP, c_size_t], c_int, check_rc),
    Fn("eaudit_query_set_after", [QueryP, c_char_p], c_int, check_rc),
    Fn("eaudit_store_default_query", [StoreP, POINTER(QueryP)], c_int,
       check_rc),
    Fn("eaudit_store_query", [StoreP, QueryP, POINTER(CursorP)], c_int,
       check_rc),
    Fn("eaudit_store_tail", [StoreP, c_int64, c_size_t, POINTER(CursorP)],
       c_int, check_rc),
    Fn("eaudit_cursor_next", [CursorP, POINTER(EventP)], c_int, check_rc),
    Fn("eaudit_cursor_name", [CursorP, c_int], c_char_p),
    Fn("eaudit_cursor_position", [CursorP, c_char_p, c_size_t], c_int,
       check_rc),
    Fn("eaudit_cursor_free", [CursorP], None),
    Fn("eaudit_store_counts", [StoreP, QueryP, c_int, POINTER(CountsP)], c_int,
       check_rc),
    Fn("eaudit_counts_size", [CountsP], c_size_t),
    Fn("eaudit_counts_get", [CountsP, c_size_t, _p_i64, _p_i64], c_int,
       check_rc),
    Fn("eaudit_counts_free", [CountsP], None),
    Fn("eaudit_store_users", [StoreP, c_char_p, c_size_t, POINTER(UsersP)],
       c_int, check_rc),
    Fn("eaudit_users_size", [UsersP], c_size_t),
    Fn("eaudit_users_get", [UsersP, c_size_t, _p_i64, POINTER(c_char_p),
                            _p_int, _p_i64, _p_int], c_int, check_rc),
    Fn("eaudit_users_free", [UsersP], None),
    Fn("eaudit_store_parse_time", [StoreP, c_char_p, c_int64, _p_i64, _p_i64],
       c_int, check_rc),
    Fn("eaudit_store_format_time", [StoreP, c_int64, c_int, c_char_p,
                                    c_size_t], c_int, check_rc),
]


def declare(rows: Sequence[Fn]) -> None:
    """Add rows to the table and bind them if the library is already loaded.
    Modules for later areas (devices, rules, reports) call this."""
    FUNCTIONS.extend(rows)
    if _lib is not None:
        for row in rows:
            _bind(row)


# --- loading -----------------------------------------------------------------

def _candidates() -> List[Tuple[str, Optional[str]]]:
    """(description, name for CDLL or None when there is nothing to try)."""
    env = os.environ.get(ENV_VAR)
    found = ctypes.util.find_library(FIND_NAME)
    return [
        (f"${ENV_VAR}" + (f"={env!r}" if env else " (not set)"), env or None),
        (f"ctypes.util.find_library({FIND_NAME!r})"
         + (f" -> {found!r}" if found else " (found nothing)"), found),
        (f"the SONAME {SONAME!r}", SONAME),
    ]


def _load() -> ctypes.CDLL:
    tried = []
    for what, name in _candidates():
        if name is None:
            tried.append(what)
            continue
        try:
            return ctypes.CDLL(name)
        except OSError as exc:
            tried.append(f"{what}: {exc}")
    raise ImportError(
        "entryfy_audit could not load libentryfy-audit; tried, in order: "
        + "; ".join(f"({i}) {t}" for i, t in enumerate(tried, 1))
        + f". Set {ENV_VAR} to the library's path, or install the library.")


class _Missing:
    """Stands in for a function an older library does not have."""

    def __init__(self, row: Fn, version: str) -> None:
        self.__name__ = row.name
        self._row = row
        self._version = version

    def __call__(self, *args: Any) -> Any:
        raise errors.UnsupportedError(
            errors.EUNSUPPORTED,
            f"{self._row.name}() is not in the loaded libentryfy-audit "
            f"{self._version}" + (
                f"; it needs version {_fmt_version(self._row.since)} or later"
                if self._row.since else ""),
            function=self._row.name)


def _fmt_version(n: Optional[int]) -> str:
    n = n or 0
    return f"{n // 1000000}.{n // 1000 % 1000}.{n % 1000}"


class _Lib:
    """Attribute access to the declared functions, and nothing else."""

    def __init__(self, cdll: ctypes.CDLL) -> None:
        self._cdll = cdll
        self.path = cdll._name
        self.version = ""
        self.version_number = 0

    def has(self, name: str) -> bool:
        return not isinstance(getattr(self, name, None), (_Missing, type(None)))


_lib: Optional[_Lib] = None


def _bind(row: Fn) -> None:
    assert _lib is not None
    try:
        fn = getattr(_lib._cdll, row.name)
    except AttributeError:
        if row.since is None:
            raise ImportError(
                f"{_lib.path} has no {row.name}(), which entryfy_audit needs")
        setattr(_lib, row.name, _Missing(row, _lib.version))
        return
    fn.argtypes = list(row.argtypes)
    fn.restype = row.restype
    if row.errcheck is not None:
        fn.errcheck = row.errcheck
    setattr(_lib, row.name, fn)


def _strerror(code: int) -> Optional[bytes]:
    return lib.eaudit_strerror(code)


def _error_last() -> ErrorT:
    return lib.eaudit_error_last().contents


def _open() -> _Lib:
    global _lib
    cdll = _load()
    _lib = _Lib(cdll)
    # The version functions first: they decide whether the rest is usable.
    for row in FUNCTIONS:
        if row.name in ("eaudit_version_number", "eaudit_version_string"):
            _bind(row)
    number = _lib.eaudit_version_number()
    _lib.version = _lib.eaudit_version_string().decode()
    _lib.version_number = number
    if not VERSION_MIN <= number < VERSION_MAX:
        raise ImportError(
            f"{_lib.path} is libentryfy-audit {_lib.version}; entryfy_audit "
            f"supports {_fmt_version(VERSION_MIN)} up to, not including, "
            f"{_fmt_version(VERSION_MAX)}")
    for row in FUNCTIONS:
        _bind(row)
    return _lib


lib: Any = _open()

#: The loaded library's version string, e.g. "1.0.0".
version: str = lib.version
#: The loaded library's version number (MAJOR * 1000000 + MINOR * 1000 + PATCH).
version_number: int = lib.version_number


def check_int(value: Any, what: str, bits: int = 64,
              signed: bool = True) -> int:
    """``value`` as an int that fits the C parameter it is passed to (int64
    by default; ``bits=32`` for an int, ``signed=False`` for size_t and
    uint64). ctypes would silently keep the low bits of a larger int, so
    that subject=2**64 + 3 became 3: refuse it with OutOfRangeError, and a
    non-int (bool included) with TypeError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    lo, hi = ((-2 ** (bits - 1), 2 ** (bits - 1)) if signed
              else (0, 2 ** bits))
    if not lo <= value < hi:
        raise errors.OutOfRangeError(
            errors.ERANGE, f"{what} is {value}, which does not fit in a "
            f"{'signed' if signed else 'unsigned'} {bits}-bit integer")
    return int(value)


def out_int() -> c_int:
    return c_int()


def to_bytes(text: Optional[str]) -> Optional[bytes]:
    return None if text is None else text.encode("utf-8")


def from_bytes(raw: Optional[bytes]) -> Optional[str]:
    return None if raw is None else raw.decode("utf-8", "replace")
