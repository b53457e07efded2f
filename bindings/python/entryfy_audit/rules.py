"""Anomaly rules and findings (DESIGN §5, docs/rules.md): the rule set,
re-evaluation, findings and their workflow, finding subscribers and the
"expired now" list.

Rule sets are JSON documents (text, bytes or a mapping). The library checks
them whole and names the failing field (``rules[2].window: ...``) in the
:class:`RulesError` it raises. Findings come back as frozen
:class:`Finding` dataclasses copied out of the library's lists, so they stay
valid after the store closes.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import json
import logging
import uuid
from ctypes import (POINTER, byref, c_char_p, c_int, c_int64, c_size_t,
                    c_void_p, string_at)
from typing import (TYPE_CHECKING, Any, Callable, Dict, Iterator, List,
                    Mapping, Optional, Tuple, Union)

from . import _ffi, errors
from ._ffi import Fn, check_found, check_int, check_rc, lib
from ._pending import unwired
from ._time import TIME_NONE, from_us
from .codes import Kind, coerce

if TYPE_CHECKING:  # pragma: no cover
    from .query import TimeBound
    from .store import Store

log = logging.getLogger("entryfy_audit")

_StoreP = _ffi.StoreP
_FP = _ffi.FindingP
_ListP = _ffi.FindingsP
_QP = _ffi.FindingQueryP
_ExpP = _ffi.ExpiredP
_p_int = POINTER(c_int)
_p_i64 = POINTER(c_int64)

#: The first library version with <eaudit/rules.h>.
_SINCE = 1_000_000
_HEADER = "eaudit/rules.h"

#: The functions of <eaudit/rules.h>. Optional (``since``): a library
#: without them still loads, and the methods raise UnsupportedError.
#: ``char **`` outputs are declared as ``POINTER(c_void_p)`` so that the
#: pointer can be handed back to eaudit_free().
FUNCTIONS: List[Fn] = [
    Fn("eaudit_severity_name", [c_int], c_char_p, None, _SINCE),
    Fn("eaudit_finding_state_name", [c_int], c_char_p, None, _SINCE),
    # the rule set
    Fn("eaudit_store_set_rules", [_StoreP, c_char_p, c_size_t, c_int64],
       c_int, check_rc, _SINCE),
    Fn("eaudit_store_rules", [_StoreP, POINTER(c_void_p)], c_int, check_rc,
       _SINCE),
    Fn("eaudit_store_rules_version", [_StoreP, _p_i64], c_int, check_rc,
       _SINCE),
    Fn("eaudit_store_check_rules", [_StoreP, c_char_p, c_size_t], c_int,
       check_rc, _SINCE),
    Fn("eaudit_store_reevaluate", [_StoreP, c_int64, _p_i64], c_int,
       check_rc, _SINCE),
    # finding queries
    Fn("eaudit_finding_query_new", [POINTER(_QP)], c_int, check_rc, _SINCE),
    Fn("eaudit_finding_query_free", [_QP], None, None, _SINCE),
    Fn("eaudit_finding_query_set_interval", [_QP, c_int64, c_int64], c_int,
       check_rc, _SINCE),
    Fn("eaudit_finding_query_set_min_severity", [_QP, c_int], c_int,
       check_rc, _SINCE),
    Fn("eaudit_finding_query_set_rule", [_QP, c_char_p], c_int, check_rc,
       _SINCE),
    Fn("eaudit_finding_query_set_key", [_QP, c_char_p], c_int, check_rc,
       _SINCE),
    Fn("eaudit_finding_query_set_user", [_QP, c_int64], c_int, check_rc,
       _SINCE),
    Fn("eaudit_finding_query_set_state", [_QP, c_int], c_int, check_rc,
       _SINCE),
    Fn("eaudit_finding_query_set_limit", [_QP, c_size_t], c_int, check_rc,
       _SINCE),
    # findings
    Fn("eaudit_store_findings", [_StoreP, _QP, POINTER(_ListP)], c_int,
       check_rc, _SINCE),
    Fn("eaudit_findings_size", [_ListP], c_size_t, None, _SINCE),
    Fn("eaudit_findings_get", [_ListP, c_size_t], _FP, None, _SINCE),
    Fn("eaudit_findings_free", [_ListP], None, None, _SINCE),
    Fn("eaudit_store_finding", [_StoreP, _ffi.UUID16, POINTER(_FP)], c_int,
       check_rc, _SINCE),
    Fn("eaudit_finding_free", [_FP], None, None, _SINCE),
    Fn("eaudit_finding_id", [_FP, _ffi.UUID16], c_int, check_rc, _SINCE),
    Fn("eaudit_finding_rule", [_FP], c_char_p, None, _SINCE),
    Fn("eaudit_finding_severity", [_FP], c_int, None, _SINCE),
    Fn("eaudit_finding_key", [_FP], c_char_p, None, _SINCE),
    Fn("eaudit_finding_subject", [_FP, _p_i64], c_int, check_found, _SINCE),
    Fn("eaudit_finding_first_at", [_FP], c_int64, None, _SINCE),
    Fn("eaudit_finding_last_at", [_FP], c_int64, None, _SINCE),
    Fn("eaudit_finding_quiet_until", [_FP], c_int64, None, _SINCE),
    Fn("eaudit_finding_late", [_FP], c_int, None, _SINCE),
    Fn("eaudit_finding_state", [_FP], c_int, None, _SINCE),
    Fn("eaudit_finding_state_change", [_FP, _p_i64, _p_i64], c_int,
       check_found, _SINCE),
    Fn("eaudit_finding_event_count", [_FP], c_size_t, None, _SINCE),
    Fn("eaudit_finding_event", [_FP, c_size_t, _ffi.UUID16, _p_i64], c_int,
       check_rc, _SINCE),
    Fn("eaudit_finding_to_json", [_FP, POINTER(c_void_p)], c_int, check_rc,
       _SINCE),
    Fn("eaudit_store_finding_set_state", [_StoreP, _ffi.UUID16, c_int,
                                          c_int64], c_int, check_rc, _SINCE),
    # finding subscribers
    Fn("eaudit_store_subscribe_findings",
       [_StoreP, _QP, _ffi.FINDING_FN, c_void_p, _p_int], c_int, check_rc,
       _SINCE),
    Fn("eaudit_store_unsubscribe_findings", [_StoreP, c_int], c_int,
       check_rc, _SINCE),
    # expired now
    Fn("eaudit_store_expired", [_StoreP, POINTER(_ExpP)], c_int, check_rc,
       _SINCE),
    Fn("eaudit_expired_size", [_ExpP], c_size_t, None, _SINCE),
    Fn("eaudit_expired_get", [_ExpP, c_size_t, _p_int, _p_i64, _p_i64],
       c_int, check_rc, _SINCE),
    Fn("eaudit_expired_free", [_ExpP], None, None, _SINCE),
]
_ffi.declare(FUNCTIONS)


class Severity(enum.IntEnum):
    """Severity of a rule and its findings (eaudit_severity)."""
    INFO = 0
    WARNING = 1
    CRITICAL = 2

    @property
    def code_name(self) -> str:
        """The library's name: ``"warning"``."""
        return self.name.lower()


class FindingState(enum.IntEnum):
    """Workflow state of a finding (eaudit_finding_status)."""
    OPEN = 0
    ACKNOWLEDGED = 1
    RESOLVED = 2

    @property
    def code_name(self) -> str:
        """The library's name: ``"acknowledged"``."""
        return self.name.lower()


class RuleSet(Dict[str, Any]):
    """The effective rule set as a dict (the JSON document with every
    built-in and default written out), with :attr:`rules_version`: 0 for
    the built-ins of a new store, one more at each
    :meth:`RulesMixin.load_rules`. (The document's own ``"version"`` key is
    the format version, 1.)"""

    def __init__(self, document: Mapping[str, Any], rules_version: int) -> None:
        super().__init__(document)
        self.rules_version = rules_version

    def __repr__(self) -> str:
        return f"RuleSet(rules_version={self.rules_version}, {dict.__repr__(self)})"


@dataclasses.dataclass(frozen=True)
class Finding:
    """One finding: an episode of a rule for one key (docs/rules.md).

    Attributes:
        id: the finding's id; stable across re-evaluation.
        rule: the id of the rule that found it.
        severity: the rule's severity when the finding opened.
        key: ``"subject:42"``, ``"door:7"``, ...
        subject: the user concerned, or None (door and site keys).
        first_at, last_at: occurred_at of the earliest and latest event
            behind it (aware datetimes in UTC).
        quiet_until: the end of the episode's quiet window; the condition
            holding again at or after it opens a new finding.
        late: whether an event behind it arrived late.
        events: the ids of the events behind it, in seq order.
        event_seqs: their seqs, in the same order.
        state: open, acknowledged or resolved.
        state_by, state_at: who moved it to its state and when (None
            while it is open). The library keeps the latest change only:
            a resolved finding no longer says who acknowledged it.
    """

    id: uuid.UUID
    rule: str
    severity: Union[Severity, int]
    key: str
    subject: Optional[int]
    first_at: _dt.datetime
    last_at: _dt.datetime
    quiet_until: _dt.datetime
    late: bool
    events: Tuple[uuid.UUID, ...]
    event_seqs: Tuple[int, ...]
    state: Union[FindingState, int]
    state_by: Optional[int]
    state_at: Optional[_dt.datetime]
    _json: str = dataclasses.field(repr=False, compare=False, default="")

    @property
    def acknowledged_by(self) -> Optional[int]:
        """Who acknowledged it, while it is acknowledged; else None."""
        return self.state_by if self.state == FindingState.ACKNOWLEDGED else None

    @property
    def acknowledged_at(self) -> Optional[_dt.datetime]:
        """When it was acknowledged, while it is acknowledged; else None."""
        return self.state_at if self.state == FindingState.ACKNOWLEDGED else None

    @property
    def resolved_by(self) -> Optional[int]:
        """Who resolved it, or None."""
        return self.state_by if self.state == FindingState.RESOLVED else None

    @property
    def resolved_at(self) -> Optional[_dt.datetime]:
        """When it was resolved, or None."""
        return self.state_at if self.state == FindingState.RESOLVED else None

    def to_json(self) -> str:
        """The finding as one line of JSON, as the library writes it
        (``eaudit_finding_to_json``, the shape of ``findings --format
        jsonl``), at the time it was read."""
        return self._json


@dataclasses.dataclass(frozen=True)
class Expired:
    """One entry of :meth:`RulesMixin.expired`: a user or group whose
    latest *Permissions expired* is not followed by a *Permissions
    prolonged*."""

    kind: Kind
    id: int
    expired_at: _dt.datetime


def _enum(cls: Any, value: int) -> Any:
    try:
        return cls(value)
    except ValueError:  # a newer library's value
        return value


def _take_text(ptr: c_void_p) -> str:
    """Decode and free a string the library allocated."""
    try:
        return string_at(ptr.value).decode("utf-8") if ptr.value else ""
    finally:
        lib.eaudit_free(ptr)


def read_finding(f: Any) -> Finding:
    """Copy a (borrowed or owned) eaudit_finding into a :class:`Finding`."""
    raw = _ffi.UUID16()
    lib.eaudit_finding_id(f, raw)
    subject = c_int64()
    has_subject = lib.eaudit_finding_subject(f, byref(subject)) == errors.OK
    by, at = c_int64(), c_int64()
    changed = lib.eaudit_finding_state_change(f, byref(by), byref(at)) \
        == errors.OK
    ids: List[uuid.UUID] = []
    seqs: List[int] = []
    eid, seq = _ffi.UUID16(), c_int64()
    for i in range(lib.eaudit_finding_event_count(f)):
        lib.eaudit_finding_event(f, i, eid, byref(seq))
        ids.append(uuid.UUID(bytes=bytes(eid)))
        seqs.append(seq.value)
    text = c_void_p()
    lib.eaudit_finding_to_json(f, byref(text))
    return Finding(
        id=uuid.UUID(bytes=bytes(raw)),
        rule=lib.eaudit_finding_rule(f).decode("utf-8", "replace"),
        severity=_enum(Severity, lib.eaudit_finding_severity(f)),
        key=lib.eaudit_finding_key(f).decode("utf-8", "replace"),
        subject=subject.value if has_subject else None,
        first_at=from_us(lib.eaudit_finding_first_at(f)),
        last_at=from_us(lib.eaudit_finding_last_at(f)),
        quiet_until=from_us(lib.eaudit_finding_quiet_until(f)),
        late=bool(lib.eaudit_finding_late(f)),
        events=tuple(ids), event_seqs=tuple(seqs),
        state=_enum(FindingState, lib.eaudit_finding_state(f)),
        state_by=by.value if changed else None,
        state_at=from_us(at.value) if changed and at.value != TIME_NONE
        else None,
        _json=_take_text(text))


def _document(rules: Union[str, bytes, Mapping[str, Any]]) -> bytes:
    if isinstance(rules, (bytes, bytearray, memoryview)):
        return bytes(rules)
    if isinstance(rules, str):
        return rules.encode("utf-8")
    if isinstance(rules, Mapping):
        return json.dumps(dict(rules), separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")
    raise TypeError("a rule set is JSON text, bytes or a mapping, not "
                    f"{type(rules).__name__}")


def _text(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if "\0" in value:
        raise ValueError(f"{what} contains a NUL character")
    return value.encode("utf-8")


def _finding_id(value: Any) -> Any:
    """A UUID16 for a Finding, a uuid.UUID, its text or its 16 bytes."""
    if isinstance(value, Finding):
        value = value.id
    if isinstance(value, str):
        value = uuid.UUID(value)
    if isinstance(value, (bytes, bytearray)):
        if len(value) != 16:
            raise ValueError(f"a finding id is 16 bytes, not {len(value)}")
        value = uuid.UUID(bytes=bytes(value))
    if not isinstance(value, uuid.UUID):
        raise TypeError("a finding id is a Finding, a uuid.UUID, its text or "
                        f"its 16 bytes, not {type(value).__name__}")
    return _ffi.UUID16.from_buffer_copy(value.bytes)


class _FilterQuery:
    """An eaudit_finding_query built from keyword filters; a context
    manager that frees it."""

    def __init__(self, *, lo: int = TIME_NONE, hi: int = TIME_NONE,
                 severity: Union[Severity, int, str, None] = None,
                 rule: Optional[str] = None, key: Optional[str] = None,
                 user: Optional[int] = None,
                 state: Union[FindingState, int, str, None] = None,
                 limit: Optional[int] = None) -> None:
        # Python-side checks first: nothing is allocated for a bad call.
        sev = None if severity is None else coerce(Severity, severity,
                                                   "severity")
        st = None if state is None else coerce(FindingState, state,
                                               "finding state")
        raw_rule = None if rule is None else _text(rule, "rule")
        raw_key = None if key is None else _text(key, "key")
        uid = None if user is None else check_int(user, "user")
        lim = None if limit is None else check_int(limit, "limit",
                                                   signed=False)
        self.ptr = _QP()
        lib.eaudit_finding_query_new(byref(self.ptr))
        try:
            q = self.ptr
            if lo != TIME_NONE or hi != TIME_NONE:
                lib.eaudit_finding_query_set_interval(q, lo, hi)
            if sev is not None:
                lib.eaudit_finding_query_set_min_severity(q, sev)
            if raw_rule is not None:
                lib.eaudit_finding_query_set_rule(q, raw_rule)
            if raw_key is not None:
                lib.eaudit_finding_query_set_key(q, raw_key)
            if uid is not None:
                lib.eaudit_finding_query_set_user(q, uid)
            if st is not None:
                lib.eaudit_finding_query_set_state(q, st)
            if lim is not None:
                lib.eaudit_finding_query_set_limit(q, lim)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.ptr:
            lib.eaudit_finding_query_free(self.ptr)
        self.ptr = _QP()

    def __enter__(self) -> "_FilterQuery":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown may have torn down ctypes
            pass


class Findings(Iterator[Finding]):
    """A lazy iterator over the findings a query matches, newest first
    (by first_at, then id). The query runs at the first ``next()``; the
    library's list is freed when the iterator is exhausted, closed (also as
    a context manager) or collected."""

    def __init__(self, store: "Store", query: _FilterQuery) -> None:
        self._store = store
        self._query: Optional[_FilterQuery] = query
        self._list = _ListP()
        self._n = 0
        self._i = 0

    def __iter__(self) -> "Findings":
        return self

    def __next__(self) -> Finding:
        if self._query is not None:
            q, self._query = self._query, None
            try:
                with self._store._lock:
                    lib.eaudit_store_findings(self._store._handle(), q.ptr,
                                              byref(self._list))
            finally:
                q.close()
            self._n = lib.eaudit_findings_size(self._list)
        if self._i < self._n:
            f = read_finding(lib.eaudit_findings_get(self._list, self._i))
            self._i += 1
            return f
        self.close()
        raise StopIteration

    def close(self) -> None:
        """Free the library's list (and the query, if it never ran)."""
        if self._query is not None:
            self._query.close()
            self._query = None
        if self._list:
            lib.eaudit_findings_free(self._list)
            self._list = _ListP()
        self._i = self._n = 0

    def __enter__(self) -> "Findings":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown may have torn down ctypes
            pass


def _require(method: str, function: str) -> None:
    if not lib.has(function):
        unwired(method, _HEADER)


#: A finding subscriber: called with each finding opened.
FindingSubscriber = Callable[[Finding], Any]


class RulesMixin:
    """Rule and finding methods of :class:`Store`."""

    # Provided by Store.
    _lock: Any
    _finding_subs: Dict[int, Tuple[Any, Any]]
    _notifying: int
    _deferred: List[Callable[[], None]]

    # --- the rule set -----------------------------------------------------------

    def load_rules(self, rules: Union[str, bytes, Mapping[str, Any]], *,
                   actor: int) -> int:
        """Replace the active rule set with ``rules`` (JSON text, bytes or a
        mapping; the language is in docs/rules.md) and return the new rules
        version.

        The document is checked whole first: an invalid one raises
        :class:`RulesError` whose message names the field path and the
        reason (``"rules[0].window: '10y' is not a duration ..."``) and
        changes nothing. On success an *Anomaly rules changed* event with
        ``actor`` as subject and actor (details ``{"rules_version": N}``) is
        appended in the same transaction; subscribers see it as for
        :meth:`append`. Stored findings are kept and past events are not
        re-evaluated (see :meth:`reevaluate`).
        """
        _require("Store.load_rules()", "eaudit_store_set_rules")
        store: "Store" = self  # type: ignore[assignment]
        doc = _document(rules)
        actor = check_int(actor, "actor")
        with store._lock:
            sp = store._handle()
            store._run_notifying(
                lambda: lib.eaudit_store_set_rules(sp, doc, len(doc), actor))
            return self.rules_version

    def check_rules(self, rules: Union[str, bytes, Mapping[str, Any]]) -> None:
        """Check a rule set without installing it: RulesError with the
        field path and reason when it is invalid, else nothing."""
        _require("Store.check_rules()", "eaudit_store_check_rules")
        store: "Store" = self  # type: ignore[assignment]
        doc = _document(rules)
        with store._lock:
            lib.eaudit_store_check_rules(store._handle(), doc, len(doc))

    def rules(self) -> RuleSet:
        """The active rule set with every built-in and every default
        written out, as a :class:`RuleSet` (a dict with
        ``rules_version``)."""
        _require("Store.rules()", "eaudit_store_rules")
        store: "Store" = self  # type: ignore[assignment]
        out = c_void_p()
        version = c_int64()
        with store._lock:
            sp = store._handle()
            lib.eaudit_store_rules(sp, byref(out))
            text = _take_text(out)
            lib.eaudit_store_rules_version(sp, byref(version))
        return RuleSet(json.loads(text), version.value)

    @property
    def rules_version(self) -> int:
        """The active rule set's version: 0 for the built-ins of a new
        store, one more at each :meth:`load_rules`."""
        _require("Store.rules_version", "eaudit_store_rules_version")
        store: "Store" = self  # type: ignore[assignment]
        out = c_int64()
        with store._lock:
            lib.eaudit_store_rules_version(store._handle(), byref(out))
        return out.value

    def reevaluate(self, since_seq: int = 0) -> int:
        """Replay every stored event with seq >= ``since_seq`` through the
        active rule set, from empty rule state, in one transaction, and
        replace the findings whose first event has seq >= ``since_seq``
        with what the replay finds. Findings found again keep their id and
        state; only new ones reach finding subscribers. Returns the number
        of findings the replay opened. With ``since_seq`` 0 the result is
        what appending the events under this rule set would have stored."""
        _require("Store.reevaluate()", "eaudit_store_reevaluate")
        store: "Store" = self  # type: ignore[assignment]
        since_seq = check_int(since_seq, "since_seq")
        n = c_int64()
        with store._lock:
            sp = store._handle()
            store._run_notifying(
                lambda: lib.eaudit_store_reevaluate(sp, since_seq, byref(n)))
        return n.value

    # --- findings -------------------------------------------------------------------

    def findings(self, *, since: Optional["TimeBound"] = None,
                 until: Optional["TimeBound"] = None,
                 during: Optional[str] = None,
                 severity: Union[Severity, int, str, None] = None,
                 rule: Optional[str] = None, key: Optional[str] = None,
                 user: Optional[int] = None,
                 state: Union[FindingState, int, str, None] = None,
                 limit: Optional[int] = None) -> Findings:
        """Findings matching every filter given, newest first (by first_at,
        then id), as a lazy :class:`Findings` iterator of :class:`Finding`.

        Args:
            since, until: findings whose episode overlaps [since, until)
                (first_at < until and last_at >= since); aware datetimes,
                int microseconds or time expressions in the store's zone.
            during: a period word instead (``"yesterday"``).
            severity: the minimum severity (``"warning"`` includes critical).
            rule: one rule's id.
            key: one key, ``"subject:42"`` or ``"door:7"``.
            user: findings whose subject is this user.
            state: ``"open"``, ``"acknowledged"`` or ``"resolved"``.
            limit: at most this many.
        Raises:
            TimeError (since >= until, a bad expression), ValueError (an
            unknown severity or state name), TypeError, OutOfRangeError.
        """
        _require("Store.findings()", "eaudit_store_findings")
        store: "Store" = self  # type: ignore[assignment]
        lo = TIME_NONE if since is None else store._bound(since, "since")
        hi = TIME_NONE if until is None else store._bound(until, "until")
        if during is not None:
            if since is not None or until is not None:
                raise ValueError("give during, or since/until, not both")
            lo, hi = store._period(during)
        store._handle()
        q = _FilterQuery(lo=lo, hi=hi, severity=severity, rule=rule, key=key,
                         user=user, state=state, limit=limit)
        return Findings(store, q)

    def finding(self, id: Union[Finding, uuid.UUID, str, bytes]) -> Finding:
        """Read one finding by id (a Finding, uuid.UUID, its text or 16
        bytes). NotFoundError when the store has no such finding."""
        _require("Store.finding()", "eaudit_store_finding")
        store: "Store" = self  # type: ignore[assignment]
        raw = _finding_id(id)
        f = _FP()
        with store._lock:
            lib.eaudit_store_finding(store._handle(), raw, byref(f))
        try:
            return read_finding(f)
        finally:
            lib.eaudit_finding_free(f)

    def _set_state(self, method: str, id: Any, state: FindingState,
                   actor: int) -> Finding:
        _require(method, "eaudit_store_finding_set_state")
        store: "Store" = self  # type: ignore[assignment]
        raw = _finding_id(id)
        actor = check_int(actor, "actor")
        with store._lock:
            lib.eaudit_store_finding_set_state(store._handle(), raw, state,
                                               actor)
            return self.finding(uuid.UUID(bytes=bytes(raw)))

    def acknowledge_finding(self, id: Union[Finding, uuid.UUID, str, bytes],
                            *, actor: int) -> Finding:
        """Acknowledge a finding, recording ``actor`` and the store's now;
        returns it as stored now. NotFoundError for an unknown id,
        InvalidArgumentError for a resolved finding."""
        return self._set_state("Store.acknowledge_finding()", id,
                               FindingState.ACKNOWLEDGED, actor)

    def resolve_finding(self, id: Union[Finding, uuid.UUID, str, bytes], *,
                        actor: int) -> Finding:
        """Resolve a finding, recording ``actor`` and the store's now;
        returns it as stored now. NotFoundError for an unknown id."""
        return self._set_state("Store.resolve_finding()", id,
                               FindingState.RESOLVED, actor)

    # --- finding subscribers ----------------------------------------------------------

    def subscribe_findings(self, callback: FindingSubscriber, *,
                           severity: Union[Severity, int, str, None] = None,
                           rule: Optional[str] = None,
                           key: Optional[str] = None,
                           user: Optional[int] = None,
                           state: Union[FindingState, int, str, None] = None
                           ) -> Any:
        """Call ``callback(finding)`` once for each finding opened by a
        transaction of this Store, after that transaction committed (never
        for rolled-back work), after the event subscribers. Filters:
        minimum ``severity``, ``rule``, ``key``, ``user`` and ``state``.
        Returns a :class:`Subscription` (``cancel()``, a context manager).

        The callback runs on the thread whose call opened the finding
        (append, append_many, the login calls, import, report and export
        records, load_rules, reevaluate), inside that call, with this
        Store's lock held. It may read the store and acknowledge the
        finding; an exception it raises is logged (logger
        ``"entryfy_audit"``) and does not undo anything. Subscribing or
        cancelling from inside any subscriber takes effect when the call
        returns. Extensions of an open finding are not delivered, and
        findings opened through other handles or processes are not seen:
        poll :meth:`findings` for those.
        """
        _require("Store.subscribe_findings()", "eaudit_store_subscribe_findings")
        if not callable(callback):
            raise TypeError("callback must be callable")
        store: "Store" = self  # type: ignore[assignment]
        filters = dict(severity=severity, rule=rule, key=key, user=user,
                       state=state)
        q = (_FilterQuery(**filters)  # type: ignore[arg-type]
             if any(v is not None for v in filters.values()) else None)

        def bridge(f: Any, payload: Any) -> int:
            try:
                callback(read_finding(f))
                return 0
            except BaseException:  # the library must not see an exception
                log.exception("finding subscriber %r raised; ignored",
                              callback)
                return 1

        from .store import FindingSubscription  # store.py imports this module

        fn = _ffi.FINDING_FN(bridge)
        sid = c_int()
        deferred = False
        try:
            with store._lock:
                sp = store._handle()
                sub = FindingSubscription(store, 0, callback)

                def add() -> None:
                    # The library copies the filter; free it whatever happens.
                    try:
                        lib.eaudit_store_subscribe_findings(
                            sp, q.ptr if q else None, fn, None, byref(sid))
                    finally:
                        if q is not None:
                            q.close()
                    sub.id = sid.value
                    # The library calls fn until unsubscribed: keep it alive.
                    store._finding_subs[sid.value] = (fn, sub)

                if store._notifying:
                    store._deferred.append(add)
                    deferred = True
                else:
                    add()
                return sub
        finally:
            if q is not None and not deferred:
                q.close()

    def _unsubscribe_findings(self, sub_id: int) -> None:
        store: "Store" = self  # type: ignore[assignment]
        with store._lock:
            if sub_id not in store._finding_subs or store._ptr is None:
                return

            def remove() -> None:
                if store._ptr is not None and sub_id in store._finding_subs:
                    lib.eaudit_store_unsubscribe_findings(store._ptr, sub_id)
                    del store._finding_subs[sub_id]

            if store._notifying:
                store._deferred.append(remove)
            else:
                remove()

    # --- expired now --------------------------------------------------------------------

    def expired(self) -> List[Expired]:
        """The users and groups expired now: those whose latest
        *Permissions expired* (by occurred_at) is not followed by a
        *Permissions prolonged* at the same time or later (the ones the
        console shows in red). Users first, then groups, each by id."""
        _require("Store.expired()", "eaudit_store_expired")
        store: "Store" = self  # type: ignore[assignment]
        lst = _ExpP()
        out: List[Expired] = []
        try:
            with store._lock:
                lib.eaudit_store_expired(store._handle(), byref(lst))
            kind, eid, at = c_int(), c_int64(), c_int64()
            for i in range(lib.eaudit_expired_size(lst)):
                lib.eaudit_expired_get(lst, i, byref(kind), byref(eid),
                                       byref(at))
                out.append(Expired(kind=Kind(kind.value), id=eid.value,
                                   expired_at=from_us(at.value)))
        finally:
            lib.eaudit_expired_free(lst)
        return out


__all__ = ["Severity", "FindingState", "RuleSet", "Finding", "Findings",
           "Expired", "RulesMixin", "FUNCTIONS", "read_finding"]
