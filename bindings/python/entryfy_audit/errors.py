"""Exceptions: one subclass of :class:`EntryfyAuditError` per library code.

Each exception carries the library's return code (``code``), its symbolic
name (``code_name``), the error class and detail of the library's per-thread
error, and the library's message. Where a Python built-in exception says the
same thing, the class also derives from it (``TimeError`` is a
``ValueError``, ``NotFoundError`` a ``LookupError``), so generic handlers
work too.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Type

# Return codes, as in EAUDIT_ERROR_CODES (include/eaudit/common.h). They are
# ABI; the binding checks at load time that the library names them alike.
OK = 0
DONE = 1
ERROR = -1
EINVAL = -2
ENOMEM = -3
ENOTFOUND = -4
EEXISTS = -5
EBUSY = -6
EIO = -7
EFULL = -8
ECORRUPT = -9
ESCHEMA = -10
EREADONLY = -11
EFORK = -12
ETYPE = -13
ESUBJECT = -14
EDETAILS = -15
ETOOBIG = -16
EUTF8 = -17
ERANGE = -18
ETIME = -19
ETZ = -20
EOPTION = -21
ETAMPER = -22
ERULES = -23
EKEY = -24
ECANCELLED = -25
EUNSUPPORTED = -26
ECURSOR = -27
EMISUSE = -28
EFIELD = -29
EFORMAT = -30


class EntryfyAuditError(Exception):
    """Base of every error the library reports.

    Attributes:
        code: the library's return code (negative).
        code_name: its symbolic name, e.g. ``"EAUDIT_ETYPE"``.
        klass: the error class (``eaudit_error_class``): 1 invalid input,
            2 memory, 3 OS (detail is errno), 4 SQLite (detail is the
            extended result code), 5 store content, 6 a callback.
        detail: errno, SQLite extended code or 0.
        message: the library's message for this failure.
        function: the C function that failed, when known.
    """

    code: int = ERROR

    def __init__(self, code: Optional[int] = None, message: str = "", *,
                 klass: int = 0, detail: int = 0,
                 function: Optional[str] = None) -> None:
        if code is not None:
            self.code = code
        self.message = message
        self.klass = klass
        self.detail = detail
        self.function = function
        super().__init__(message)

    @property
    def code_name(self) -> str:
        return _NAMES.get(self.code, f"EAUDIT_{self.code}")

    def __str__(self) -> str:
        return f"{self.message} [{self.code_name}]"

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # The instance dict carries what a call added (``index``,
        # ``purged``, a TamperError's ``result``).
        return (_rebuild, (type(self), self.code, self.message, self.klass,
                           self.detail, self.function), dict(self.__dict__))


def _rebuild(cls, code, message, klass, detail, function):  # type: ignore
    return cls(code, message, klass=klass, detail=detail, function=function)


class GenericError(EntryfyAuditError):
    """EAUDIT_ERROR: a failure with no more specific code."""
    code = ERROR


class InvalidArgumentError(EntryfyAuditError, ValueError):
    """EAUDIT_EINVAL: an argument was invalid."""
    code = EINVAL


class OutOfMemoryError(EntryfyAuditError, MemoryError):
    """EAUDIT_ENOMEM."""
    code = ENOMEM


class NotFoundError(EntryfyAuditError, LookupError):
    """EAUDIT_ENOTFOUND: no such store, name, subscriber, ..."""
    code = ENOTFOUND


class AlreadyExistsError(EntryfyAuditError):
    """EAUDIT_EEXISTS: an event with this id is stored, a type name clashes."""
    code = EEXISTS


class BusyError(EntryfyAuditError):
    """EAUDIT_EBUSY: another writer holds the lock past the busy timeout."""
    code = EBUSY


class StoreIOError(EntryfyAuditError):
    """EAUDIT_EIO: reading or writing the store failed."""
    code = EIO


class StoreFullError(EntryfyAuditError):
    """EAUDIT_EFULL: the disk or database is full."""
    code = EFULL


class CorruptStoreError(EntryfyAuditError):
    """EAUDIT_ECORRUPT: not a store, or the store is damaged."""
    code = ECORRUPT


class SchemaTooNewError(EntryfyAuditError):
    """EAUDIT_ESCHEMA: the store was written by a newer library."""
    code = ESCHEMA


class ReadOnlyError(EntryfyAuditError):
    """EAUDIT_EREADONLY: the store was opened read-only."""
    code = EREADONLY


class ForkError(EntryfyAuditError):
    """EAUDIT_EFORK: a handle was used in a child process after fork()."""
    code = EFORK


class EventTypeError(EntryfyAuditError, ValueError):
    """EAUDIT_ETYPE: unknown or unregistered event type."""
    code = ETYPE


class MissingSubjectError(EntryfyAuditError, ValueError):
    """EAUDIT_ESUBJECT: the event needs a subject."""
    code = ESUBJECT


class DetailsError(EntryfyAuditError, ValueError):
    """EAUDIT_EDETAILS: the details are not a JSON object."""
    code = EDETAILS


class TooBigError(EntryfyAuditError, ValueError):
    """EAUDIT_ETOOBIG: a value is too large."""
    code = ETOOBIG


class Utf8Error(EntryfyAuditError, ValueError):
    """EAUDIT_EUTF8: text is not valid UTF-8."""
    code = EUTF8


class OutOfRangeError(EntryfyAuditError, ValueError):
    """EAUDIT_ERANGE: a value is out of range (an unknown reason code, ...)."""
    code = ERANGE


class TimeError(EntryfyAuditError, ValueError):
    """EAUDIT_ETIME: an invalid time, interval or time expression."""
    code = ETIME


class TimeZoneError(EntryfyAuditError, ValueError):
    """EAUDIT_ETZ: unknown time zone."""
    code = ETZ


class OptionError(EntryfyAuditError, ValueError):
    """EAUDIT_EOPTION: unknown option."""
    code = EOPTION


class TamperError(EntryfyAuditError):
    """EAUDIT_ETAMPER: verification found damage, or a purge refused to
    erase damaged evidence. When :meth:`Store.verify` raises it,
    ``result`` is the :class:`VerifyResult` (damage kind, first bad seq);
    otherwise ``result`` is None."""
    code = ETAMPER
    #: The verification's result (Store.verify() only).
    result: Optional[Any] = None


class RulesError(EntryfyAuditError, ValueError):
    """EAUDIT_ERULES: an invalid rule set."""
    code = ERULES


class InvalidKeyError(EntryfyAuditError, ValueError):
    """EAUDIT_EKEY: an invalid or wrong key."""
    code = EKEY


class WrongKeyError(TamperError, InvalidKeyError):
    """Verification found checkpoints not signed by the trusted key (damage
    ``wrong_key``). The library returns EAUDIT_EKEY for it, so this is both
    a :class:`TamperError` (carrying ``result``) and an
    :class:`InvalidKeyError`; ``code`` is EAUDIT_EKEY. Only
    :meth:`Store.verify` raises it: every other EAUDIT_EKEY is an
    :class:`InvalidKeyError`."""
    code = EKEY


class CancelledError(EntryfyAuditError):
    """EAUDIT_ECANCELLED: a callback cancelled the operation."""
    code = ECANCELLED


class UnsupportedError(EntryfyAuditError, NotImplementedError):
    """EAUDIT_EUNSUPPORTED: not supported, or not in the loaded library."""
    code = EUNSUPPORTED


class CursorError(EntryfyAuditError, ValueError):
    """EAUDIT_ECURSOR: a malformed cursor position."""
    code = ECURSOR


class MisuseError(EntryfyAuditError):
    """EAUDIT_EMISUSE: the library (or a closed Store) used the wrong way."""
    code = EMISUSE


class FieldError(EntryfyAuditError, ValueError):
    """EAUDIT_EFIELD: an invalid event field."""
    code = EFIELD


class FormatError(EntryfyAuditError, ValueError):
    """EAUDIT_EFORMAT: malformed input (an id, a file)."""
    code = EFORMAT


#: Return code -> exception class.
EXCEPTIONS: Dict[int, Type[EntryfyAuditError]] = {
    cls.code: cls for cls in (
        GenericError, InvalidArgumentError, OutOfMemoryError, NotFoundError,
        AlreadyExistsError, BusyError, StoreIOError, StoreFullError,
        CorruptStoreError, SchemaTooNewError, ReadOnlyError, ForkError,
        EventTypeError, MissingSubjectError, DetailsError, TooBigError,
        Utf8Error, OutOfRangeError, TimeError, TimeZoneError, OptionError,
        TamperError, RulesError, InvalidKeyError, CancelledError,
        UnsupportedError, CursorError, MisuseError, FieldError, FormatError)
}

_NAMES: Dict[int, str] = {
    value: "EAUDIT_" + name for name, value in globals().items()
    if name.isupper() and isinstance(value, int) and not name.startswith("_")
}


def from_code(code: int, message: str, *, klass: int = 0, detail: int = 0,
              function: Optional[str] = None) -> EntryfyAuditError:
    """The exception for a return code. A code newer than this package gets
    the base class, still carrying the code and the message."""
    cls = EXCEPTIONS.get(code, EntryfyAuditError)
    return cls(code, message, klass=klass, detail=detail, function=function)
