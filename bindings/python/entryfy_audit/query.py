"""Queries, lazily paged results with resumable positions, and the tail."""

from __future__ import annotations

import datetime as _dt
from ctypes import byref, create_string_buffer
from typing import (TYPE_CHECKING, Any, Dict, Iterable, Iterator, List,
                    Optional, Tuple, Union)

from . import _ffi, errors
from ._ffi import lib
from ._time import TIME_NONE
from .codes import EventType, Field, Order, Role, coerce
from .events import Event, read_event

if TYPE_CHECKING:
    from .store import Store

#: A time bound: an aware datetime, int microseconds, or a time expression
#: the store resolves in its time zone ("yesterday", "-7d", "2026-11-03").
TimeBound = Union[_dt.datetime, int, str]

#: Names of the id fields whose historical names a query can return.
NAME_FIELDS = ("subject", "actor", "door", "group", "device", "site")


class Query:
    """Compiled filters: owns a C ``eaudit_query``. Build one with
    :meth:`Store.make_query` or :meth:`Store.default_query`; pass it to
    :meth:`Store.query`, :meth:`Store.counts` or :meth:`Store.report`. A
    query does not depend on the store that built it and may be reused."""

    __slots__ = ("_ptr", "description")

    def __init__(self, ptr: Any, description: str = "") -> None:
        self._ptr = ptr
        self.description = description

    @property
    def handle(self) -> Any:
        if self._ptr is None:
            raise errors.MisuseError(errors.EMISUSE, "query is closed")
        return self._ptr

    def dup(self) -> "Query":
        """An independent copy."""
        out = _ffi.QueryP()
        lib.eaudit_query_dup(byref(out), self.handle)
        return Query(out, self.description)

    def close(self) -> None:
        if self._ptr is not None:
            lib.eaudit_query_free(self._ptr)
            self._ptr = None

    def __enter__(self) -> "Query":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown may have torn down ctypes
            pass

    def __repr__(self) -> str:
        return f"<Query {self.description or 'all events'}>"


_ENTITY = {"door": Field.DOOR, "group": Field.GROUP, "device": Field.DEVICE,
           "site": Field.SITE}


def build(store: "Store", *, user: Optional[int] = None,
          role: Union[Role, int, str] = Role.ANY,
          since: Optional[TimeBound] = None,
          until: Optional[TimeBound] = None,
          during: Optional[str] = None,
          types: Optional[Iterable[Union[EventType, int, str]]] = None,
          door: Optional[int] = None, group: Optional[int] = None,
          device: Optional[int] = None, site: Optional[int] = None,
          text: Optional[str] = None,
          order: Union[Order, int, str] = Order.NEWEST_FIRST) -> Query:
    """Compile keyword filters into a :class:`Query` (see Store.query)."""
    role = coerce(Role, role, "role")
    order = coerce(Order, order, "order")
    lo = TIME_NONE if since is None else store._bound(since, "since")
    hi = TIME_NONE if until is None else store._bound(until, "until")
    if during is not None:
        if since is not None or until is not None:
            raise ValueError("give during, or since/until, not both")
        lo, hi = store._period(during)
    q = _ffi.QueryP()
    lib.eaudit_query_new(byref(q))
    desc: List[str] = []
    try:
        if user is not None:
            lib.eaudit_query_set_user(q, _id(user, "user"), role)
            desc.append(f"user={user} as {role.name.lower()}")
        if lo != TIME_NONE or hi != TIME_NONE:
            lib.eaudit_query_set_interval(q, lo, hi)
            desc.append(f"[{since or during or ''}, {until or during or ''})")
        for t in types or ():
            lib.eaudit_query_add_type(q, store._type_code(t))
        if types:
            desc.append("types=" + ",".join(str(t) for t in types))
        for name, value in (("door", door), ("group", group),
                            ("device", device), ("site", site)):
            if value is not None:
                lib.eaudit_query_set_entity(q, _ENTITY[name], _id(value, name))
                desc.append(f"{name}={value}")
        if text:
            lib.eaudit_query_set_text(q, text.encode("utf-8"))
            desc.append(f"text={text!r}")
        lib.eaudit_query_set_order(q, order)
        if order != Order.NEWEST_FIRST:
            desc.append("oldest first")
    except BaseException:
        lib.eaudit_query_free(q)
        raise
    return Query(q, " ".join(desc))


def _id(v: Any, what: str) -> int:
    return _ffi.check_int(v, what)


class Results(Iterator[Event]):
    """A lazy iterator over the events a query matches.

    Events are fetched a page at a time (``page_size``); no C cursor stays
    open between pages, so iterating slowly holds no lock and blocks no
    writer. :attr:`position` is a token for the point after the last event
    returned: give it to ``Store.query(..., after=token)`` (even in another
    process) to resume, and pages stay stable while events are appended.
    """

    def __init__(self, store: "Store", query: Query, *, after: Optional[str],
                 limit: Optional[int], page_size: int, names: bool,
                 tail_after: Optional[int] = None) -> None:
        if _ffi.check_int(page_size, "page_size") < 1:
            raise ValueError("page_size must be at least 1")
        if limit is not None and _ffi.check_int(limit, "limit") < 0:
            raise ValueError("limit must not be negative")
        if tail_after is not None:
            _ffi.check_int(tail_after, "after_seq")
        self._store = store
        self._query = query
        self._position: Optional[str] = after or None
        self._tail = tail_after
        self._remaining = limit
        self.page_size = page_size
        self._names = names
        self._page: List[Event] = []
        self._index = 0
        self._exhausted = False
        self.pages_fetched = 0
        if after:
            # Check the token now, not at the first next().
            probe = _ffi.QueryP()
            lib.eaudit_query_new(byref(probe))
            try:
                lib.eaudit_query_set_after(probe, after.encode())
            finally:
                lib.eaudit_query_free(probe)

    @property
    def position(self) -> Optional[str]:
        """Resume token after the last event returned (None before the first
        one, when resuming from nothing). For the tail it is the seq, as
        text."""
        return self._position

    @property
    def query(self) -> Query:
        return self._query

    def __iter__(self) -> "Results":
        return self

    def __next__(self) -> Event:
        if self._index >= len(self._page):
            if self._exhausted:
                raise StopIteration
            self._fetch()
            if not self._page:
                raise StopIteration
        ev = self._page[self._index]
        self._index += 1
        if self._tail is not None:
            self._position = str(ev.seq)
            self._tail = ev.seq
        else:
            self._position = self._positions[self._index - 1]
        return ev

    def _fetch(self) -> None:
        want = self.page_size
        if self._remaining is not None:
            want = min(want, self._remaining)
        self._page, self._index, self._positions = [], 0, []
        if want == 0:
            self._exhausted = True
            return
        store = self._store
        with store._lock:
            sp = store._handle()
            cur = _ffi.CursorP()
            if self._tail is not None:
                lib.eaudit_store_tail(sp, self._tail, want, byref(cur))
                q = None
            else:
                q = _ffi.QueryP()
                lib.eaudit_query_dup(byref(q), self._query.handle)
            try:
                if q is not None:
                    lib.eaudit_query_set_after(
                        q, self._position.encode() if self._position else None)
                    lib.eaudit_query_set_limit(q, want)
                    lib.eaudit_store_query(sp, q, byref(cur))
                ev = _ffi.EventP()
                buf = create_string_buffer(_ffi.POSITION_MAX)
                while lib.eaudit_cursor_next(cur, byref(ev)) == errors.OK:
                    names: Optional[Dict[str, str]] = None
                    if self._names:
                        names = {}
                        for f in NAME_FIELDS:
                            n = lib.eaudit_cursor_name(cur, Field[f.upper()])
                            if n is not None:
                                names[f] = n.decode("utf-8", "replace")
                    self._page.append(read_event(ev, names))
                    if self._tail is None:
                        lib.eaudit_cursor_position(cur, buf, len(buf))
                        self._positions.append(buf.value.decode())
            finally:
                lib.eaudit_cursor_free(cur)
                if q is not None:
                    lib.eaudit_query_free(q)
        self.pages_fetched += 1
        if self._remaining is not None:
            self._remaining -= len(self._page)
        if len(self._page) < want:
            self._exhausted = True

    def close(self) -> None:
        """Stop iterating: later next() calls raise StopIteration."""
        self._exhausted = True
        self._page = []

    def __enter__(self) -> "Results":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def parse_period(store: "Store", expr: str) -> Tuple[int, int]:
    begin, end = store._parse_us(expr)
    if begin == end:
        raise errors.TimeError(errors.ETIME,
                               f"{expr!r} is an instant, not a period")
    return begin, end
