"""Device recognition (DESIGN §4, docs/devices.md): observations, the login
calls, the devices list and its maintenance.

A browser or phone is described by keyword attributes (``key=``,
``platform=``, ``os_family=``, ...); the library compares it with the
user's known devices of the same kind and answers with a
:class:`DeviceResult`. The login calls also append *Admin area login* or
*Login from unrecognized device* when the decision table says so, in the
same transaction that updates the device state.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
from ctypes import (POINTER, byref, c_char_p, c_double, c_int, c_int64,
                    c_size_t)
from typing import (TYPE_CHECKING, Any, Dict, List, Mapping, Optional,
                    Tuple, Union)

from . import _ffi, errors
from ._ffi import Fn, check_int, check_rc, lib
from ._pending import unwired
from ._time import Instant, from_us, to_us
from .codes import Reason, coerce

if TYPE_CHECKING:  # pragma: no cover
    from .store import Store

_p_int = POINTER(c_int)
_p_i64 = POINTER(c_int64)
_InfoP = _ffi.DeviceInfoP
_ResultP = _ffi.DeviceResultP
_ListP = _ffi.DevicesP

#: The first library version with <eaudit/device.h>.
_SINCE = 1_000_000

#: The functions of <eaudit/device.h>. Optional (``since``): a library
#: without them still loads, and the methods raise UnsupportedError.
FUNCTIONS: List[Fn] = [
    Fn("eaudit_device_info_new", [POINTER(_InfoP)], c_int, check_rc, _SINCE),
    Fn("eaudit_device_info_free", [_InfoP], None, None, _SINCE),
    Fn("eaudit_device_info_clear", [_InfoP], None, None, _SINCE),
    Fn("eaudit_device_info_set_str", [_InfoP, c_int, c_char_p], c_int,
       check_rc, _SINCE),
    Fn("eaudit_device_info_get_str", [_InfoP, c_int], c_char_p, None, _SINCE),
    Fn("eaudit_device_info_set_site", [_InfoP, c_int64], c_int, check_rc,
       _SINCE),
    Fn("eaudit_store_observe_device",
       [_ffi.StoreP, _InfoP, c_int64, c_int, c_int64, POINTER(_ResultP)],
       c_int, check_rc, _SINCE),
    Fn("eaudit_store_admin_login",
       [_ffi.StoreP, _InfoP, c_int64, c_int64, POINTER(_ResultP)], c_int,
       check_rc, _SINCE),
    Fn("eaudit_store_mobile_login",
       [_ffi.StoreP, _InfoP, c_int64, c_int64, POINTER(_ResultP)], c_int,
       check_rc, _SINCE),
    Fn("eaudit_device_result_free", [_ResultP], None, None, _SINCE),
    Fn("eaudit_device_result_decision", [_ResultP], c_int, None, _SINCE),
    Fn("eaudit_device_result_reason", [_ResultP], c_int, None, _SINCE),
    Fn("eaudit_device_result_score", [_ResultP], c_double, None, _SINCE),
    Fn("eaudit_device_result_device", [_ResultP], c_int64, None, _SINCE),
    Fn("eaudit_device_result_record", [_ResultP], c_int, None, _SINCE),
    Fn("eaudit_device_result_seq", [_ResultP], c_int64, None, _SINCE),
    Fn("eaudit_store_devices",
       [_ffi.StoreP, c_int64, c_int, POINTER(_ListP)], c_int, check_rc,
       _SINCE),
    Fn("eaudit_devices_size", [_ListP], c_size_t, None, _SINCE),
    Fn("eaudit_devices_get",
       [_ListP, c_size_t, _p_i64, _p_int, POINTER(c_char_p), _p_i64, _p_i64,
        _p_i64], c_int, check_rc, _SINCE),
    Fn("eaudit_devices_attr", [_ListP, c_size_t, c_int], c_char_p, None,
       _SINCE),
    Fn("eaudit_devices_free", [_ListP], None, None, _SINCE),
    Fn("eaudit_store_rename_device", [_ffi.StoreP, c_int64, c_char_p], c_int,
       check_rc, _SINCE),
    Fn("eaudit_store_forget_device", [_ffi.StoreP, c_int64], c_int, check_rc,
       _SINCE),
    Fn("eaudit_store_forget_unseen_devices", [_ffi.StoreP, c_int, _p_i64],
       c_int, check_rc, _SINCE),
]
_ffi.declare(FUNCTIONS)

_HEADER = "eaudit/device.h"

#: Largest attribute value in bytes (EAUDIT_DEVATTR_MAX_BYTES).
ATTR_MAX_BYTES = 512
#: The product's default age, in days, for
#: :meth:`DevicesMixin.forget_unseen_devices` (EAUDIT_DEVICE_FORGET_DAYS_DEFAULT).
FORGET_DAYS_DEFAULT = 90

# Option keys: EAUDIT_OPT_DEVICE_THRESHOLD, and the weight of attribute A
# is key 8 + A (EAUDIT_OPT_DEVICE_WEIGHT_*).
_OPT_DEVICE_THRESHOLD = 9
_OPT_DEVICE_WEIGHT_BASE = 8


class DeviceKind(enum.IntEnum):
    """Device kinds (eaudit_device_kind)."""
    #: A browser on a PC or laptop entering the console.
    ADMIN_WEB = 1
    #: An installation of the mobile app.
    MOBILE = 2


class DeviceDecision(enum.IntEnum):
    """What an observation decided (eaudit_device_decision)."""
    #: A known device, possibly updated.
    KNOWN = 1
    #: A device the user never used before.
    NEW = 2
    #: A known mobile device, reset or with an updated OS.
    CHANGED = 3


class DeviceAttr(enum.IntEnum):
    """Device attributes (eaudit_devattr). The lower-case member names are
    the keyword arguments of the observation methods and the keys of
    :attr:`Device.attributes`."""
    KEY = 1
    PLATFORM = 2
    OS_FAMILY = 3
    OS_VERSION = 4
    BROWSER_FAMILY = 5
    BROWSER_VERSION = 6
    MODEL = 7
    SCREEN = 8
    TIME_ZONE = 9
    LANGUAGE = 10
    IP = 11


#: The attributes that take part in the score (all but the key).
SCORED_ATTRS: Tuple[DeviceAttr, ...] = tuple(a for a in DeviceAttr
                                             if a is not DeviceAttr.KEY)


@dataclasses.dataclass(frozen=True)
class DeviceResult:
    """The outcome of one observation.

    Attributes:
        decision: known, new or changed.
        reason: ``Reason.NONE`` or one of the device reasons
            (``FIRST_SEEN``, ``NEW_BROWSER``, ``NEW_OS``, ``NEW_HARDWARE``,
            ``OS_UPDATED``, ``BROWSER_UPDATED``, ``DEVICE_RESET``).
        score: attribute similarity in [0, 1] with the matched device, or
            for a new device with the nearest one scored (0.0 when none was).
        device: the matched or created device id.
        record: whether the decision table says to record an event (also
            true for :meth:`DevicesMixin.observe_device`, which records
            none).
        seq: the seq of the event a login call appended, or None.
    """

    decision: DeviceDecision
    reason: Reason
    score: float
    device: int
    record: bool
    seq: Optional[int]

    @property
    def recorded(self) -> bool:
        """True when a login call appended an event."""
        return self.seq is not None


@dataclasses.dataclass(frozen=True)
class Device:
    """One known device of a user (see :meth:`DevicesMixin.devices`).

    ``attributes`` maps attribute names (``"os_family"``, ``"model"``, ...)
    to their last observed values; absent attributes are left out and the
    key is never returned. ``label`` is the name given with
    :meth:`DevicesMixin.rename_device`, or the default one
    (``"Chrome on Windows"``), or None.
    """

    id: int
    user: int
    kind: DeviceKind
    label: Optional[str]
    first_seen: _dt.datetime
    last_seen: _dt.datetime
    times_seen: int
    attributes: Mapping[str, str] = dataclasses.field(default_factory=dict,
                                                      hash=False)


def _text(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if "\0" in value:
        raise ValueError(f"{what} contains a NUL character")
    return value.encode("utf-8")


def _kind(value: Union[DeviceKind, int, str]) -> int:
    # Names go through the enum; other ints reach the library, which
    # refuses them with InvalidArgumentError.
    if isinstance(value, str):
        return int(coerce(DeviceKind, value, "device kind"))
    return check_int(value, "kind", bits=32)


def _attr(value: Union[DeviceAttr, int, str], what: str) -> DeviceAttr:
    if isinstance(value, str):
        return coerce(DeviceAttr, value, what)
    return DeviceAttr(check_int(value, what))


def option_values(threshold: Optional[float],
                  weights: Optional[Mapping[Union[DeviceAttr, int, str], int]]
                  ) -> List[Tuple[int, int]]:
    """(option key, value) pairs for Store.open(device_threshold=...,
    device_weights=...)."""
    out: List[Tuple[int, int]] = []
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            raise TypeError("device_threshold must be a number in (0, 1], not "
                            f"{type(threshold).__name__}")
        per_mille = round(threshold * 1000)
        if not 1 <= per_mille <= 1000:
            raise errors.OutOfRangeError(
                errors.ERANGE, f"device_threshold is {threshold!r}; it must be "
                "a similarity from 0.001 to 1.0")
        out.append((_OPT_DEVICE_THRESHOLD, per_mille))
    for name, weight in (weights or {}).items():
        attr = _attr(name, "device attribute")
        if attr is DeviceAttr.KEY:
            raise ValueError("the key is not scored; it has no weight")
        out.append((_OPT_DEVICE_WEIGHT_BASE + attr,
                    check_int(weight, f"the weight of {attr.name.lower()}")))
    return out


class _Info:
    """An eaudit_device_info filled from keyword attributes; a context
    manager that frees it."""

    def __init__(self, attrs: Mapping[str, Optional[str]],
                 site: Optional[int]) -> None:
        self.ptr = _InfoP()
        lib.eaudit_device_info_new(byref(self.ptr))
        try:
            for name, value in attrs.items():
                if value is not None:
                    lib.eaudit_device_info_set_str(
                        self.ptr, DeviceAttr[name.upper()], _text(value, name))
            if site is not None:
                lib.eaudit_device_info_set_site(self.ptr,
                                                check_int(site, "site"))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        lib.eaudit_device_info_free(self.ptr)
        self.ptr = _InfoP()

    def __enter__(self) -> "_Info":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _read_result(r: Any) -> DeviceResult:
    reason_code = lib.eaudit_device_result_reason(r)
    try:
        reason = Reason(reason_code)
    except ValueError:
        reason = reason_code
    seq = lib.eaudit_device_result_seq(r)
    return DeviceResult(
        decision=DeviceDecision(lib.eaudit_device_result_decision(r)),
        reason=reason, score=lib.eaudit_device_result_score(r),
        device=lib.eaudit_device_result_device(r),
        record=bool(lib.eaudit_device_result_record(r)),
        seq=seq or None)


def _require(method: str, function: str) -> None:
    if not lib.has(function):
        unwired(method, _HEADER)


class DevicesMixin:
    """Device methods of :class:`Store`."""

    # Provided by Store.
    _lock: Any

    def _observe(self, call: Any, info_attrs: Dict[str, Optional[str]],
                 site: Optional[int], user: int, at: Optional[Instant],
                 kind: Optional[int], notify: bool) -> DeviceResult:
        store: "Store" = self  # type: ignore[assignment]
        user = check_int(user, "user")
        with _Info(info_attrs, site) as info, store._lock:
            sp = store._handle()
            t = store._now_us() if at is None else check_int(to_us(at, "at"), "at")
            out = _ResultP()
            args = (sp, info.ptr, user) + (() if kind is None else (kind,)) \
                + (t, byref(out))
            try:
                if notify:
                    store._run_notifying(lambda: call(*args))
                else:
                    call(*args)
                return _read_result(out)
            finally:
                lib.eaudit_device_result_free(out)

    def observe_device(self, user: int, kind: Union[DeviceKind, int, str], *,
                       at: Optional[Instant] = None,
                       key: Optional[str] = None,
                       platform: Optional[str] = None,
                       os_family: Optional[str] = None,
                       os_version: Optional[str] = None,
                       browser_family: Optional[str] = None,
                       browser_version: Optional[str] = None,
                       model: Optional[str] = None,
                       screen: Optional[str] = None,
                       time_zone: Optional[str] = None,
                       language: Optional[str] = None,
                       ip: Optional[str] = None) -> DeviceResult:
        """Observe a device of ``kind`` (``"admin_web"`` or ``"mobile"``)
        for ``user`` and return the decision, without appending an event.

        The device is matched against the user's known devices of that
        kind and learned (a new device, updated attributes, a re-learned
        key); its last-seen time and counter are updated and, for the admin
        kind, the user's login-hour histogram, in one transaction. Use it
        when you write your own event, or none; the login methods append
        the standard events.

        Args:
            user: the user's id.
            kind: a :class:`DeviceKind`, its int or its lower-case name.
            at: when it was seen (aware datetime or int microseconds);
                None means the store's clock.
            key: a stable key (the console's device cookie, the app's
                install id); a matching key dominates the attributes.
            platform, os_family, os_version, browser_family,
            browser_version, model, screen, time_zone, language, ip: what
                the client reports, as described in docs/devices.md. None
                (or blank text) leaves an attribute out.
        Raises:
            InvalidArgumentError (an unknown kind), TooBigError (a value
            over 512 bytes), TimeError (``at`` outside years 1-9999),
            TypeError (a value that is not a str), ...
        """
        _require("Store.observe_device()", "eaudit_store_observe_device")
        attrs = dict(key=key, platform=platform, os_family=os_family,
                     os_version=os_version, browser_family=browser_family,
                     browser_version=browser_version, model=model,
                     screen=screen, time_zone=time_zone, language=language,
                     ip=ip)
        return self._observe(lib.eaudit_store_observe_device, attrs, None,
                             user, at, _kind(kind), notify=False)

    def admin_login(self, user: int, *, at: Optional[Instant] = None,
                    site: Optional[int] = None,
                    key: Optional[str] = None,
                    platform: Optional[str] = None,
                    os_family: Optional[str] = None,
                    os_version: Optional[str] = None,
                    browser_family: Optional[str] = None,
                    browser_version: Optional[str] = None,
                    model: Optional[str] = None,
                    screen: Optional[str] = None,
                    time_zone: Optional[str] = None,
                    language: Optional[str] = None,
                    ip: Optional[str] = None) -> DeviceResult:
        """An administrator entered the console: observe the browser
        (:attr:`DeviceKind.ADMIN_WEB`) and, when the decision table says so
        (a first, new-browser, new-OS or new-hardware device), append an
        *Admin area login* event (subject = actor = ``user``, ``device``,
        ``reason``, ``site``) in the same transaction. ``result.seq`` is
        that event's seq, or None when nothing was recorded.

        Attributes and ``at`` as for :meth:`observe_device`; ``site`` is
        written on the event and not used for recognition. Subscribers see
        the event, as for :meth:`append`.
        """
        _require("Store.admin_login()", "eaudit_store_admin_login")
        attrs = dict(key=key, platform=platform, os_family=os_family,
                     os_version=os_version, browser_family=browser_family,
                     browser_version=browser_version, model=model,
                     screen=screen, time_zone=time_zone, language=language,
                     ip=ip)
        return self._observe(lib.eaudit_store_admin_login, attrs, site, user,
                             at, None, notify=True)

    def mobile_login(self, user: int, *, at: Optional[Instant] = None,
                     site: Optional[int] = None,
                     key: Optional[str] = None,
                     platform: Optional[str] = None,
                     os_family: Optional[str] = None,
                     os_version: Optional[str] = None,
                     browser_family: Optional[str] = None,
                     browser_version: Optional[str] = None,
                     model: Optional[str] = None,
                     screen: Optional[str] = None,
                     time_zone: Optional[str] = None,
                     language: Optional[str] = None,
                     ip: Optional[str] = None) -> DeviceResult:
        """A user logged into the mobile app: observe the device
        (:attr:`DeviceKind.MOBILE`; ``key`` is the install id,
        ``browser_family``/``browser_version`` the app's name and version)
        and, when the decision table says so (a new device, an OS update, a
        reset), append a *Login from unrecognized device* event (subject =
        actor = ``user``, ``device``, ``reason``, credential ``mobile``,
        ``site``) in the same transaction. ``result.seq`` is that event's
        seq, or None when nothing was recorded.

        Attributes and ``at`` as for :meth:`observe_device`.
        """
        _require("Store.mobile_login()", "eaudit_store_mobile_login")
        attrs = dict(key=key, platform=platform, os_family=os_family,
                     os_version=os_version, browser_family=browser_family,
                     browser_version=browser_version, model=model,
                     screen=screen, time_zone=time_zone, language=language,
                     ip=ip)
        return self._observe(lib.eaudit_store_mobile_login, attrs, site, user,
                             at, None, notify=True)

    def devices(self, user: int,
                kind: Union[DeviceKind, int, str, None] = None) -> List[Device]:
        """The known devices of ``user``, of ``kind`` (None: both), by id:
        id, kind, label, first and last seen, times seen and the last
        observed attributes (never the key)."""
        _require("Store.devices()", "eaudit_store_devices")
        store: "Store" = self  # type: ignore[assignment]
        user = check_int(user, "user")
        k = 0 if kind is None else _kind(kind)
        lst = _ListP()
        out: List[Device] = []
        try:
            with store._lock:
                lib.eaudit_store_devices(store._handle(), user, k, byref(lst))
            did, dkind, label = c_int64(), c_int(), c_char_p()
            first, last, times = c_int64(), c_int64(), c_int64()
            for i in range(lib.eaudit_devices_size(lst)):
                lib.eaudit_devices_get(lst, i, byref(did), byref(dkind),
                                       byref(label), byref(first),
                                       byref(last), byref(times))
                attrs: Dict[str, str] = {}
                for a in SCORED_ATTRS:
                    raw = lib.eaudit_devices_attr(lst, i, a)
                    if raw is not None:
                        attrs[a.name.lower()] = raw.decode("utf-8", "replace")
                out.append(Device(
                    id=did.value, user=user, kind=DeviceKind(dkind.value),
                    label=_ffi.from_bytes(label.value),
                    first_seen=from_us(first.value),
                    last_seen=from_us(last.value), times_seen=times.value,
                    attributes=attrs))
        finally:
            lib.eaudit_devices_free(lst)
        return out

    def rename_device(self, device: int, label: str) -> None:
        """Give a device a label (1-1024 bytes of UTF-8). The label is also
        recorded in the directory of names (``Kind.DEVICE``) from now on
        (the device's first name holds from the beginning of time), so
        reports show it. NotFoundError for an unknown device."""
        _require("Store.rename_device()", "eaudit_store_rename_device")
        store: "Store" = self  # type: ignore[assignment]
        raw = _text(label, "label")
        with store._lock:
            lib.eaudit_store_rename_device(store._handle(),
                                           check_int(device, "device"), raw)

    def forget_device(self, device: int) -> None:
        """Forget a device: its next observation is a new device with a new
        id. Events that name it keep its id, which is never reused.
        NotFoundError for an unknown device."""
        _require("Store.forget_device()", "eaudit_store_forget_device")
        store: "Store" = self  # type: ignore[assignment]
        with store._lock:
            lib.eaudit_store_forget_device(store._handle(),
                                           check_int(device, "device"))

    def forget_unseen_devices(self, days: int = FORGET_DAYS_DEFAULT) -> int:
        """Forget every device not seen for ``days`` days (1-365000) before
        the store's clock; returns how many were forgotten. Run it daily
        (the product's default age is 90 days). OutOfRangeError for a bad
        ``days``."""
        _require("Store.forget_unseen_devices()",
                 "eaudit_store_forget_unseen_devices")
        store: "Store" = self  # type: ignore[assignment]
        days = check_int(days, "days", bits=32)
        n = c_int64()
        with store._lock:
            lib.eaudit_store_forget_unseen_devices(store._handle(), days,
                                                   byref(n))
        return n.value


__all__ = ["DeviceKind", "DeviceDecision", "DeviceAttr", "DeviceResult",
           "Device", "DevicesMixin", "FUNCTIONS", "ATTR_MAX_BYTES",
           "FORGET_DAYS_DEFAULT", "SCORED_ATTRS", "option_values"]
