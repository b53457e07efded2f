"""The store: opening, appending, querying, the directory and subscribers."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import logging
import os
import threading
import uuid
import warnings
from ctypes import (byref, c_char_p, c_int, c_int64, c_size_t,
                    c_void_p, create_string_buffer, memmove, string_at)
from typing import (Any, Callable, Dict, Iterable, List, Mapping, Optional,
                    Tuple, Union)

from . import _ffi, errors
from ._ffi import lib
from ._time import TIME_NONE, Instant, from_us, to_us
from .codes import (CountBy, EventType, Kind, Order, Role, Sync, TimeFormat,
                    UserRole, coerce)
from .events import Event, NewEvent, fill_event, read_event
from .query import Query, Results, TimeBound, build, parse_period
from . import (devices as _devices, integrity as _integrity,
               report as _report, rules as _rules, ship as _ship)

log = logging.getLogger("entryfy_audit")

# Option keys (eaudit_option); values are ABI.
_OPT_SYNCHRONOUS = 1
_OPT_BUSY_TIMEOUT_MS = 2
_OPT_TIME_ZONE = 3
_OPT_READ_ONLY = 4
_OPT_CREATE = 5
_OPT_DETAILS_MAX_BYTES = 6
_OPT_LATENESS_US = 7
_OPT_JOURNAL_SIZE_LIMIT = 8
_OPT_CACHE_SIZE_KIB = 20

#: A clock: returns the current time as an aware datetime or int microseconds.
Clock = Callable[[], Instant]
#: A random source: returns exactly n random bytes.
RandomSource = Callable[[int], bytes]
#: A subscriber: called with each committed event.
Subscriber = Callable[[Event], Any]


@dataclasses.dataclass(frozen=True)
class User:
    """One entry of the users list."""

    id: int
    name: Optional[str]
    role: UserRole
    last_activity: Optional[_dt.datetime]
    expired: bool


class Subscription:
    """A live subscriber. :meth:`cancel` (or leaving the ``with`` block)
    removes it; it is also removed when the store closes."""

    def __init__(self, store: "Store", sub_id: int, fn: Subscriber) -> None:
        self._store = store
        self.id = sub_id
        self.callback = fn

    @property
    def active(self) -> bool:
        return self.id in self._store._subs

    def cancel(self) -> None:
        self._store._unsubscribe(self.id)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cancel()


class FindingSubscription(Subscription):
    """A live finding subscriber (:meth:`Store.subscribe_findings`)."""

    @property
    def active(self) -> bool:
        return self.id in self._store._finding_subs

    def cancel(self) -> None:
        self._store._unsubscribe_findings(self.id)


class Store(_devices.DevicesMixin, _rules.RulesMixin, _report.ReportMixin,
            _integrity.IntegrityMixin, _ship.ShipMixin):
    """An open audit store. Use :meth:`open` or :meth:`memory`, preferably as
    a context manager::

        with Store.open("audit.db", time_zone="Europe/Berlin") as store:
            store.append("door_opened", subject=42, door=7)

    Threads: one Store per thread is the library's model. A Store may still
    be shared; its calls are serialised by a lock (held while callbacks
    run), so sharing gives safety, not parallelism. Do not use a Store in a
    child process after ``fork()``: the library refuses (ForkError).
    """

    def __init__(self, _ptr: Any, path: str, _keep: List[Any]) -> None:
        # Use Store.open() or Store.memory().
        self._ptr = _ptr
        self.path = path
        self._keep = _keep  # ctypes callbacks the library holds (clock, random)
        self._lock = threading.RLock()
        self._subs: Dict[int, Tuple[Any, Subscription]] = {}
        self._finding_subs: Dict[int, Tuple[Any, Subscription]] = {}
        self._checkpoint_fn: Any = None  # the checkpoint sink's callback
        self._notifying = 0
        self._deferred: List[Callable[[], None]] = []
        self._pid = os.getpid()

    # --- opening and closing ------------------------------------------------

    @classmethod
    def open(cls, path: Union[str, os.PathLike], *,
             time_zone: Optional[str] = None,
             synchronous: Union[Sync, int, str, None] = None,
             clock: Optional[Clock] = None,
             random: Optional[RandomSource] = None,
             busy_timeout_ms: Optional[int] = None,
             read_only: bool = False, create: bool = True,
             details_max_bytes: Optional[int] = None,
             lateness: Union[_dt.timedelta, int, None] = None,
             journal_size_limit: Optional[int] = None,
             cache_size_kib: Optional[int] = None,
             device_threshold: Optional[float] = None,
             device_weights: Optional[Mapping[
                 Union[_devices.DeviceAttr, int, str], int]] = None,
             ) -> "Store":
        """Open (or create) the store at ``path`` (or ``":memory:"``).

        Args:
            time_zone: IANA zone of a new store (default "UTC"); an
                existing store keeps its own (see :attr:`time_zone`).
            synchronous: ``"full"`` (default: an append that returned
                survives power loss) or ``"normal"`` (faster; the last
                commits may be lost on power loss).
            clock: the store's clock, for tests and demos; returns an aware
                datetime or int microseconds. It is called from inside
                library calls, on the calling thread.
            random: the random source for ids, ``random(n) -> bytes``.
            busy_timeout_ms: how long a writer waits for the lock.
            read_only: open read-only.
            create: create a missing store (default) or raise NotFoundError.
            details_max_bytes: largest accepted details object.
            lateness: how far behind the newest event an event counts as
                late for the rules engine (timedelta or microseconds).
            journal_size_limit: bound on the WAL kept after checkpoints.
            cache_size_kib: most memory SQLite's page cache may hold, KiB
                (default 8192, at least 64).
            device_threshold: the attribute similarity (0.001-1.0, kept to
                the per mille; default 0.75) at which an observed device
                matches a known one (docs/devices.md).
            device_weights: weights (0-1000) of device attributes in the
                similarity score, by :class:`DeviceAttr` or name:
                ``{"model": 300, "ip": 0}``; the others keep their
                defaults. Use the same device options in every process
                that writes the store.
        Raises:
            NotFoundError, SchemaTooNewError, CorruptStoreError,
            TimeZoneError, OutOfRangeError, ...
        """
        path = os.fspath(path)
        opts = _ffi.OptionsP()
        lib.eaudit_options_new(byref(opts))
        keep: List[Any] = []
        try:
            if time_zone is not None:
                lib.eaudit_options_set_str(opts, _OPT_TIME_ZONE,
                                           time_zone.encode())
            if synchronous is not None:
                lib.eaudit_options_set_int(opts, _OPT_SYNCHRONOUS,
                                           coerce(Sync, synchronous,
                                                  "synchronous"))
            ints = ((_OPT_BUSY_TIMEOUT_MS, busy_timeout_ms),
                    (_OPT_READ_ONLY, int(bool(read_only))),
                    (_OPT_CREATE, int(bool(create))),
                    (_OPT_DETAILS_MAX_BYTES, details_max_bytes),
                    (_OPT_LATENESS_US,
                     lateness // _dt.timedelta(microseconds=1)
                     if isinstance(lateness, _dt.timedelta) else lateness),
                    (_OPT_JOURNAL_SIZE_LIMIT, journal_size_limit),
                    (_OPT_CACHE_SIZE_KIB, cache_size_kib),
                    *_devices.option_values(device_threshold, device_weights))
            for key, value in ints:
                if value is not None:
                    lib.eaudit_options_set_int(
                        opts, key, _ffi.check_int(value, f"option {key}"))
            if clock is not None:
                fn = _clock_bridge(clock)
                keep.append(fn)
                lib.eaudit_options_set_clock(opts, fn, None)
            if random is not None:
                rfn = _random_bridge(random)
                keep.append(rfn)
                lib.eaudit_options_set_random(opts, rfn, None)
            ptr = _ffi.StoreP()
            lib.eaudit_store_open(byref(ptr), path.encode(), opts)
        finally:
            lib.eaudit_options_free(opts)
        return cls(ptr, path, keep)

    @classmethod
    def memory(cls, **options: Any) -> "Store":
        """An in-memory store (for tests); takes the options of :meth:`open`."""
        return cls.open(":memory:", **options)

    def close(self) -> None:
        """Close the store. Safe to call twice. Subscriptions end."""
        with self._lock:
            if self._ptr is not None:
                lib.eaudit_store_free(self._ptr)
                self._ptr = None
                self._subs.clear()
                self._finding_subs.clear()
                self._checkpoint_fn = None

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_ptr", None) is not None:
            warnings.warn(f"unclosed entryfy_audit store {self.path!r}",
                          ResourceWarning, stacklevel=2)
            self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"time zone {self.time_zone}"
        return f"<entryfy_audit.Store {self.path!r} {state}>"

    def _handle(self) -> Any:
        if self._ptr is None:
            raise errors.MisuseError(errors.EMISUSE, "the store is closed")
        return self._ptr

    # --- identity and clock ---------------------------------------------------

    @property
    def id(self) -> uuid.UUID:
        """The store's id, fixed at creation."""
        raw = _ffi.UUID16()
        with self._lock:
            lib.eaudit_store_id(self._handle(), raw)
        return uuid.UUID(bytes=bytes(raw))

    @property
    def time_zone(self) -> str:
        """The store's IANA time zone. Assigning changes it (and rebuilds
        the per-day counts under the new zone)."""
        with self._lock:
            return lib.eaudit_store_time_zone(self._handle()).decode()

    @time_zone.setter
    def time_zone(self, zone: str) -> None:
        with self._lock:
            lib.eaudit_store_set_time_zone(self._handle(), zone.encode())

    def now(self) -> _dt.datetime:
        """The store's clock (the injected one, if any)."""
        with self._lock:
            return from_us(lib.eaudit_store_now(self._handle()))

    def _now_us(self) -> int:
        return int(lib.eaudit_store_now(self._handle()))

    @property
    def last_seq(self) -> int:
        """Highest seq ever assigned (0 for a new store)."""
        out = c_int64()
        with self._lock:
            lib.eaudit_store_last_seq(self._handle(), byref(out))
        return out.value

    def __len__(self) -> int:
        """Number of events stored."""
        out = c_int64()
        with self._lock:
            lib.eaudit_store_event_count(self._handle(), byref(out))
        return out.value

    # --- time ------------------------------------------------------------------

    def _parse_us(self, expr: str, now: Optional[Instant] = None) -> Tuple[int, int]:
        b, e = c_int64(), c_int64()
        with self._lock:
            lib.eaudit_store_parse_time(
                self._handle(), expr.encode("utf-8"),
                TIME_NONE if now is None else to_us(now, "now"), byref(b),
                byref(e))
        return b.value, e.value

    def parse_time(self, expr: str, *, now: Optional[Instant] = None
                   ) -> Tuple[_dt.datetime, _dt.datetime]:
        """Resolve a time expression in the store's zone: ``(begin, end)``.
        Periods (``"yesterday"``, ``"last-month"``, ``"2026-11-03"``) give
        [begin, end); instants (``"now"``, ``"-2h"``, RFC 3339) give
        begin == end. Raises TimeError."""
        b, e = self._parse_us(expr, now)
        return from_us(b), from_us(e)

    def format_time(self, t: Instant,
                    format: Union[TimeFormat, int, str] = TimeFormat.RFC3339_UTC
                    ) -> str:
        """Format an instant as the library does (``"rfc3339_utc"``,
        ``"local"`` or ``"local_offset"`` in the store's zone)."""
        buf = create_string_buffer(_ffi.TIME_STRMAX)
        with self._lock:
            lib.eaudit_store_format_time(
                self._handle(), to_us(t), coerce(TimeFormat, format, "format"),
                buf, len(buf))
        return buf.value.decode()

    def _bound(self, value: TimeBound, what: str) -> int:
        if isinstance(value, str):
            return self._parse_us(value)[0]
        return to_us(value, what)

    def _period(self, expr: str) -> Tuple[int, int]:
        return parse_period(self, expr)

    # --- event types -------------------------------------------------------------

    def register_type(self, code: int, name: str, label: str) -> None:
        """Register a vendor event type (code 1000-65535, a unique lower-case
        name). Registering the same triple again does nothing; a clash
        raises AlreadyExistsError."""
        with self._lock:
            lib.eaudit_store_register_type(
                self._handle(), _ffi.check_int(code, "code", bits=32),
                name.encode(), label.encode())

    def type_name(self, code: int) -> Optional[str]:
        """Name of a built-in or registered type, or None."""
        with self._lock:
            return _ffi.from_bytes(lib.eaudit_store_type_name(
                self._handle(), _ffi.check_int(int(code), "code", bits=32)))

    def type_label(self, code: int) -> Optional[str]:
        """Label of a type (a translated one when installed), or None."""
        with self._lock:
            return _ffi.from_bytes(lib.eaudit_store_type_label(
                self._handle(), _ffi.check_int(int(code), "code", bits=32)))

    def type_code(self, name: str) -> Union[EventType, int]:
        """Code of a built-in or registered type name (NotFoundError)."""
        out = c_int()
        with self._lock:
            lib.eaudit_store_type_from_name(self._handle(), name.encode(),
                                            byref(out))
        try:
            return EventType(out.value)
        except ValueError:
            return out.value

    def set_type_label(self, code: int, label: Optional[str]) -> None:
        """Install a translated label for a type (None restores English)."""
        with self._lock:
            lib.eaudit_store_set_type_label(
                self._handle(), _ffi.check_int(int(code), "code", bits=32),
                _ffi.to_bytes(label))

    def _type_code(self, t: Union[EventType, int, str]) -> int:
        if isinstance(t, str):
            return int(self.type_code(t.strip().lower()))
        if isinstance(t, bool) or not isinstance(t, int):
            raise TypeError("an event type is an EventType, an int code or a "
                            f"name, not {type(t).__name__}")
        return _ffi.check_int(t, "event type", bits=32)

    # --- the directory ----------------------------------------------------------

    def set_name(self, kind: Union[Kind, int, str], id: int, name: str, *,
                 valid_from: Optional[Instant] = None) -> None:
        """Name entity ``id`` of ``kind`` (``"door"``, ``Kind.GROUP``...)
        from ``valid_from`` on (None: since the beginning of time). Earlier
        names are kept as history."""
        with self._lock:
            lib.eaudit_store_set_name(
                self._handle(), coerce(Kind, kind, "kind"),
                _ffi.check_int(id, "id"), name.encode("utf-8"),
                TIME_NONE if valid_from is None
                else to_us(valid_from, "valid_from"))

    def set_user(self, id: int, name: str, *,
                 role: Union[UserRole, int, str] = UserRole.USER,
                 valid_from: Optional[Instant] = None) -> None:
        """Name a user and set their role (``"user"`` or ``"admin"``)."""
        with self._lock:
            lib.eaudit_store_set_user(
                self._handle(), _ffi.check_int(id, "id"),
                name.encode("utf-8"), coerce(UserRole, role, "user role"),
                TIME_NONE if valid_from is None
                else to_us(valid_from, "valid_from"))

    def name_at(self, kind: Union[Kind, int, str], id: int,
                at: Optional[Instant] = None) -> Optional[str]:
        """The name the entity had at ``at`` (None: its current name), or
        None when it had none."""
        out = c_void_p()
        with self._lock:
            rc = lib.eaudit_store_name_at(
                self._handle(), coerce(Kind, kind, "kind"),
                _ffi.check_int(id, "id"),
                TIME_NONE if at is None else to_us(at, "at"), byref(out))
        if rc == errors.ENOTFOUND or not out.value:
            return None
        try:
            return string_at(out.value).decode("utf-8", "replace")
        finally:
            lib.eaudit_free(out)

    def erase_names(self, kind: Union[Kind, int, str], id: int) -> None:
        """Erase every name the entity ever had (a GDPR request)."""
        with self._lock:
            lib.eaudit_store_erase_names(self._handle(),
                                         coerce(Kind, kind, "kind"),
                                         _ffi.check_int(id, "id"))

    # --- appending ----------------------------------------------------------------

    def append(self, event: Union[NewEvent, EventType, int, str],
               **fields: Any) -> Event:
        """Append one event and return it as stored (with seq, id,
        recorded_at and hash).

        ``store.append("door_opened", subject=42, door=7,
        occurred_at=datetime.now(timezone.utc))`` or
        ``store.append(NewEvent(...))``; the keywords are NewEvent's fields.
        A bad event raises (EventTypeError, MissingSubjectError,
        DetailsError, OutOfRangeError, TimeError, ...) and writes nothing.
        """
        draft = event if isinstance(event, NewEvent) else NewEvent(event, **fields)
        if isinstance(event, NewEvent) and fields:
            draft = dataclasses.replace(event, **fields)
        ev = _ffi.EventP()
        lib.eaudit_event_new(byref(ev))
        try:
            with self._lock:
                sp = self._handle()
                fill_event(ev, draft, self._type_code(draft.type),
                           self._now_us() if draft.occurred_at is None else 0)
                self._run_notifying(lambda: lib.eaudit_store_append(sp, ev))
                return read_event(ev)
        finally:
            lib.eaudit_event_free(ev)

    def append_many(self, events: Iterable[Union[NewEvent, Mapping[str, Any]]]
                    ) -> List[Event]:
        """Append events in one transaction: all or nothing. Items are
        NewEvents or mappings of NewEvent's fields. When one is invalid,
        nothing is written and the exception's ``index`` attribute names it.
        Returns the stored events, in order."""
        batch = _ffi.BatchP()
        lib.eaudit_batch_new(byref(batch))
        ev = _ffi.EventP()
        lib.eaudit_event_new(byref(ev))
        try:
            with self._lock:
                sp = self._handle()
                now = None
                for i, item in enumerate(events):
                    draft = item if isinstance(item, NewEvent) else NewEvent(**item)
                    if draft.occurred_at is None and now is None:
                        now = self._now_us()
                    lib.eaudit_event_reset(ev)
                    try:
                        fill_event(ev, draft, self._type_code(draft.type),
                                   now or 0)
                    except Exception as exc:
                        exc.index = i  # type: ignore[attr-defined]
                        raise
                    lib.eaudit_batch_add(batch, ev)
                failed = c_size_t()
                try:
                    self._run_notifying(lambda: lib.eaudit_store_append_batch(
                        sp, batch, byref(failed)))
                except errors.EntryfyAuditError as exc:
                    exc.index = failed.value  # type: ignore[attr-defined]
                    raise
                return [read_event(lib.eaudit_batch_get(batch, i))
                        for i in range(lib.eaudit_batch_size(batch))]
        finally:
            lib.eaudit_event_free(ev)
            lib.eaudit_batch_free(batch)

    def _run_notifying(self, call: Callable[[], Any]) -> Any:
        # Subscribers run inside the library's notify loop; changing the
        # subscriber list there would move it under the loop's feet, so
        # (un)subscribing from a callback waits until the call returns.
        self._notifying += 1
        try:
            return call()
        finally:
            self._notifying -= 1
            if self._notifying == 0 and self._deferred:
                todo, self._deferred = self._deferred, []
                for fn in todo:
                    fn()

    # --- queries ------------------------------------------------------------------

    def make_query(self, **filters: Any) -> Query:
        """Compile filters (the keywords of :meth:`query`, without paging)
        into a reusable :class:`Query`."""
        return build(self, **filters)

    def default_query(self) -> Query:
        """The console's default view: user 1 in any role over the past
        month (same wall-clock time one calendar month ago, in the store's
        zone), newest first."""
        q = _ffi.QueryP()
        with self._lock:
            lib.eaudit_store_default_query(self._handle(), byref(q))
        return Query(q, "default view: user 1, past month")

    def query(self, query: Optional[Query] = None, *,
              user: Optional[int] = None,
              role: Union[Role, int, str] = Role.ANY,
              since: Optional[TimeBound] = None,
              until: Optional[TimeBound] = None,
              during: Optional[str] = None,
              types: Optional[Iterable[Union[EventType, int, str]]] = None,
              door: Optional[int] = None, group: Optional[int] = None,
              device: Optional[int] = None, site: Optional[int] = None,
              text: Optional[str] = None,
              order: Union[Order, int, str] = Order.NEWEST_FIRST,
              limit: Optional[int] = None, after: Optional[str] = None,
              page_size: int = 500, names: bool = False) -> Results:
        """Events matching every filter given, as a lazy iterator.

        Args:
            query: a prebuilt :class:`Query` instead of the filters.
            user, role: a user as ``"subject"``, ``"actor"`` or ``"any"``.
            since, until: [since, until) on occurred_at; aware datetimes,
                int microseconds, or time expressions resolved in the
                store's zone (``"2026-11-03"``, ``"-7d"``, ``"yesterday"``).
            during: a period word instead (``"last-month"``).
            types: event types (members, codes or names).
            door, group, device, site: entity ids.
            text: free text as a person types it (dates, times of day,
                type labels, name prefixes).
            order: ``"newest_first"`` (default) or ``"oldest_first"``.
            limit: at most this many events in all.
            after: a position token from :attr:`Results.position` to resume.
            page_size: events fetched per library call.
            names: also fetch each event's names as they were at the time.
        """
        if query is None:
            query = build(self, user=user, role=role, since=since,
                          until=until, during=during, types=types, door=door,
                          group=group, device=device, site=site, text=text,
                          order=order)
        else:
            query = query.dup()
        return Results(self, query, after=after, limit=limit,
                       page_size=page_size, names=names)

    def default_view(self, *, page_size: int = 500,
                     names: bool = False) -> Results:
        """The events of :meth:`default_query`."""
        return Results(self, self.default_query(), after=None, limit=None,
                       page_size=page_size, names=names)

    def tail(self, after_seq: int = 0, *, limit: Optional[int] = None,
             page_size: int = 500) -> Results:
        """Events with seq greater than ``after_seq``, in seq order: how
        other processes follow a store. ``position`` is the last seq seen."""
        return Results(self, Query(None, "tail"), after=None, limit=limit,
                       page_size=page_size, names=False, tail_after=after_seq)

    def counts(self, by: Union[CountBy, int, str] = CountBy.TYPE,
               query: Optional[Query] = None, **filters: Any
               ) -> Dict[Any, int]:
        """Counts of matching events grouped ``by`` ``"type"`` (keys are
        EventType or vendor int codes), ``"day"`` (keys are
        ``datetime.date`` in the store's zone) or ``"user"`` (subject ids).
        Keys ascend. Filters as for :meth:`query`."""
        by = coerce(CountBy, by, "count grouping")
        own = query is None
        q = build(self, **filters) if own else query
        assert q is not None
        c = _ffi.CountsP()
        result: Dict[Any, int] = {}
        try:
            with self._lock:
                lib.eaudit_store_counts(self._handle(), q.handle, by, byref(c))
                key, n = c_int64(), c_int64()
                for i in range(lib.eaudit_counts_size(c)):
                    lib.eaudit_counts_get(c, i, byref(key), byref(n))
                    result[self._count_key(by, key.value)] = n.value
        finally:
            lib.eaudit_counts_free(c)
            if own:
                q.close()
        return result

    def _count_key(self, by: CountBy, key: int) -> Any:
        if by == CountBy.TYPE:
            try:
                return EventType(key)
            except ValueError:
                return key
        if by == CountBy.DAY:
            return _dt.date.fromisoformat(
                self.format_time(key, TimeFormat.LOCAL)[:10])
        return key

    def users(self, prefix: Optional[str] = None, *,
              limit: Optional[int] = None) -> List[User]:
        """The users list for a picker: users in the directory or seen in
        events whose current or past name starts with ``prefix``, by id."""
        u = _ffi.UsersP()
        out: List[User] = []
        try:
            with self._lock:
                lib.eaudit_store_users(
                    self._handle(), _ffi.to_bytes(prefix),
                    _ffi.check_int(limit or 0, "limit", signed=False),
                    byref(u))
                uid, name, role = c_int64(), c_char_p(), c_int()
                last, expired = c_int64(), c_int()
                for i in range(lib.eaudit_users_size(u)):
                    lib.eaudit_users_get(u, i, byref(uid), byref(name),
                                         byref(role), byref(last),
                                         byref(expired))
                    out.append(User(
                        id=uid.value, name=_ffi.from_bytes(name.value),
                        role=coerce(UserRole, role.value, "user role"),
                        last_activity=None if last.value == TIME_NONE
                        else from_us(last.value),
                        expired=bool(expired.value)))
        finally:
            lib.eaudit_users_free(u)
        return out

    # --- subscribers -------------------------------------------------------------

    def subscribe(self, callback: Subscriber, **filters: Any) -> Subscription:
        """Call ``callback(event)`` for each event committed through this
        Store, after commit, in seq order. Filters (user, role, types, door,
        group, device, site) select events; intervals and text are ignored.

        The callback runs on the thread that appended, inside the append
        call, with this Store's lock held. It may read the store; an
        exception it raises is logged (logger ``"entryfy_audit"``) and does
        not undo the append, which has already succeeded. Subscribing or
        cancelling from inside a callback takes effect when the append
        returns. Events appended by other handles or processes are not
        seen: follow them with :meth:`tail`.
        """
        if not callable(callback):
            raise TypeError("callback must be callable")
        q = build(self, **filters) if filters else None

        def bridge(ev: Any, payload: Any) -> int:
            try:
                callback(read_event(ev))
                return 0
            except BaseException:  # the library must not see an exception
                log.exception("subscriber %r raised; the append stands",
                              callback)
                return 1

        fn = _ffi.EVENT_FN(bridge)
        sid = c_int()
        deferred = False
        try:
            with self._lock:
                sp = self._handle()
                sub = Subscription(self, 0, callback)

                def add() -> None:
                    # The library copies the filter; a deferred add() runs
                    # after this method returned, so it frees the query.
                    try:
                        lib.eaudit_store_subscribe(sp, q.handle if q else None,
                                                   fn, None, byref(sid))
                    finally:
                        if q is not None:
                            q.close()
                    sub.id = sid.value
                    # The library calls fn until unsubscribed: keep it alive.
                    self._subs[sid.value] = (fn, sub)

                if self._notifying:
                    self._deferred.append(add)
                    deferred = True
                else:
                    add()
                return sub
        finally:
            if q is not None and not deferred:
                q.close()

    def _unsubscribe(self, sub_id: int) -> None:
        with self._lock:
            if sub_id not in self._subs or self._ptr is None:
                return

            def remove() -> None:
                if self._ptr is not None and sub_id in self._subs:
                    lib.eaudit_store_unsubscribe(self._ptr, sub_id)
                    del self._subs[sub_id]

            if self._notifying:
                self._deferred.append(remove)
            else:
                remove()


def _clock_bridge(clock: Clock) -> Any:
    def bridge(payload: Any) -> int:
        try:
            return to_us(clock(), "clock()")
        except BaseException:
            # The library cannot fail a clock read; fall back to the system
            # clock so that nothing is recorded at a wrong time silently.
            log.exception("clock %r raised; using the system clock", clock)
            return to_us(_dt.datetime.now(_dt.timezone.utc))
    return _ffi.CLOCK_FN(bridge)


def _random_bridge(random: RandomSource) -> Any:
    def bridge(buf: Any, n: int, payload: Any) -> int:
        try:
            data = random(n)
            if not isinstance(data, (bytes, bytearray)) or len(data) != n:
                raise ValueError(f"random({n}) must return {n} bytes")
            memmove(buf, bytes(data), n)
            return 0
        except BaseException as exc:
            _ffi.set_pending(exc)
            return 1
    return _ffi.RANDOM_FN(bridge)
