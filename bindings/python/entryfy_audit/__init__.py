"""entryfy_audit: the Python binding of libentryfy-audit.

    >>> from entryfy_audit import Store
    >>> with Store.memory(time_zone="Europe/Berlin") as store:
    ...     ev = store.append("door_opened", subject=42, door=7)
    ...     [e.seq for e in store.query(user=42)]
    [1]

The library is found through $ENTRYFY_AUDIT_LIB, then
ctypes.util.find_library("entryfy-audit"), then the SONAME
libentryfy-audit.so.1. See docs/python.md.
"""

from __future__ import annotations

import logging as _logging
from typing import Optional

from . import _ffi
from .codes import (CodeEnum, CountBy, Credential, EventType, Field, Kind,
                    LogLevel, Order, Reason, Role, Sync, TimeFormat, UserRole)
from .devices import (Device, DeviceAttr, DeviceDecision, DeviceKind,
                      DeviceResult)
from .errors import *  # noqa: F401,F403  (the exception classes)
from .errors import EXCEPTIONS, EntryfyAuditError
from .events import Event, NewEvent
from .integrity import (CheckpointInfo, CheckpointKind, Damage, VerifyResult,
                        generate_keypair, public_key_from_seed)
from .query import Query, Results
from .report import BadLine, ImportResult, ReportFormat
from .rules import (Expired, Finding, Findings, FindingState, RuleSet,
                    Severity)
from .ship import central_init, central_verify_site, central_verify_site_signed
from .store import FindingSubscription, Store, Subscription, User

__version__ = "1.0.0"

#: Version of the loaded library, e.g. "1.0.0".
library_version: str = _ffi.version
#: Path or name the library was loaded from.
library_path: str = _ffi.lib.path

_log_bridge: Optional[object] = None


def enable_library_logging(level: int = _logging.WARNING) -> None:
    """Forward the library's log messages to the ``logging`` logger
    ``"entryfy_audit.lib"``. The library's log callback is process-wide and
    read without a lock: call this before opening stores, from one thread.
    It replaces any log callback set through the C API in this process."""
    global _log_bridge
    logger = _logging.getLogger("entryfy_audit.lib")
    to_py = {1: _logging.ERROR, 2: _logging.WARNING, 3: _logging.INFO,
             4: _logging.DEBUG}
    max_level = max((lv for lv, py in to_py.items() if py >= level), default=1)

    def bridge(lvl: int, message: bytes, payload: object) -> None:
        logger.log(to_py.get(lvl, _logging.DEBUG),
                   message.decode("utf-8", "replace"))

    fn = _ffi.LOG_FN(bridge)
    _ffi.lib.eaudit_set_log(fn, max_level, None)
    _log_bridge = fn  # the library keeps calling it: keep it alive


def disable_library_logging() -> None:
    """Stop forwarding the library's log messages."""
    global _log_bridge
    _ffi.lib.eaudit_set_log(_ffi.LOG_FN(), 0, None)
    _log_bridge = None


__all__ = [
    "Store", "Subscription", "User", "Event", "NewEvent", "Query", "Results",
    "EventType", "Reason", "Credential", "Field", "Role", "Order", "CountBy",
    "Kind", "UserRole", "Sync", "TimeFormat", "LogLevel", "CodeEnum",
    "Device", "DeviceAttr", "DeviceDecision", "DeviceKind", "DeviceResult",
    "ReportFormat", "ImportResult", "BadLine",
    "Severity", "FindingState", "Finding", "Findings", "RuleSet", "Expired",
    "FindingSubscription",
    "Damage", "CheckpointKind", "VerifyResult", "CheckpointInfo",
    "generate_keypair", "public_key_from_seed", "WrongKeyError",
    "central_init", "central_verify_site", "central_verify_site_signed",
    "EntryfyAuditError", "EXCEPTIONS", "library_version", "library_path",
    "enable_library_logging", "disable_library_logging",
] + [cls.__name__ for cls in EXCEPTIONS.values()]
