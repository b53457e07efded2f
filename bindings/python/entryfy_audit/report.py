"""Reports, export and import (DESIGN §7, docs/formats.md).

:meth:`ReportMixin.report` and :meth:`ReportMixin.export` write through a
callback sink (``eaudit_sink_from_callback``) into a path or a binary file
object; :meth:`ReportMixin.import_jsonl` reads JSON Lines from a path, bytes
or a binary file object. A Python exception raised by ``file.write`` or by a
``progress`` callback stops the library call, which then raises its own
error (StoreIOError, CancelledError) with the Python exception as
``__cause__``.
"""

from __future__ import annotations

import dataclasses
import enum
import io
import os
import uuid
from ctypes import (POINTER, byref, c_char_p, c_int, c_int64, c_size_t,
                    c_uint64, c_void_p, string_at)
from typing import (IO, TYPE_CHECKING, Any, Callable, List,
                    NamedTuple, Optional, Tuple, Union)

from . import _ffi, errors
from ._ffi import Fn, check_int, check_rc, lib
from ._pending import unwired
from ._time import from_us
from .codes import Credential, EventType, Field, Reason, coerce
from .events import Event, NewEvent, fill_event

if TYPE_CHECKING:  # pragma: no cover
    from .query import Query, Results
    from .store import Store

_SinkP = _ffi.SinkP
_SourceP = _ffi.SourceP
_OptsP = _ffi.ReportOptionsP
_ResultP = _ffi.ImportResultP
_p_int = POINTER(c_int)
_p_i64 = POINTER(c_int64)
_p_u64 = POINTER(c_uint64)
_p_size = POINTER(c_size_t)

#: The first library version with <eaudit/report.h>.
_SINCE = 1_000_000
_HEADER = "eaudit/report.h"

#: The functions of <eaudit/report.h>. Optional (``since``): a library
#: without them still loads, and the methods raise UnsupportedError.
#: ``FILE *`` parameters are declared as ``c_void_p``; the package itself
#: uses callback sinks, descriptors and buffers.
FUNCTIONS: List[Fn] = [
    # sinks
    Fn("eaudit_sink_from_file", [POINTER(_SinkP), c_void_p], c_int, check_rc,
       _SINCE),
    Fn("eaudit_sink_from_fd", [POINTER(_SinkP), c_int], c_int, check_rc,
       _SINCE),
    Fn("eaudit_sink_from_callback", [POINTER(_SinkP), _ffi.WRITE_FN, c_void_p],
       c_int, check_rc, _SINCE),
    Fn("eaudit_sink_flush", [_SinkP], c_int, check_rc, _SINCE),
    Fn("eaudit_sink_bytes", [_SinkP], c_uint64, None, _SINCE),
    Fn("eaudit_sink_free", [_SinkP], None, None, _SINCE),
    # report options
    Fn("eaudit_report_options_new", [POINTER(_OptsP)], c_int, check_rc,
       _SINCE),
    Fn("eaudit_report_options_free", [_OptsP], None, None, _SINCE),
    Fn("eaudit_report_options_set_int", [_OptsP, c_int, c_int64], c_int,
       check_rc, _SINCE),
    Fn("eaudit_report_options_set_str", [_OptsP, c_int, c_char_p], c_int,
       check_rc, _SINCE),
    Fn("eaudit_report_options_set_progress",
       [_OptsP, _ffi.PROGRESS_FN, c_void_p], c_int, check_rc, _SINCE),
    # reports and export
    Fn("eaudit_store_report", [_ffi.StoreP, _ffi.QueryP, _OptsP, _SinkP],
       c_int, check_rc, _SINCE),
    Fn("eaudit_store_export", [_ffi.StoreP, c_int64, _OptsP, _SinkP, _p_i64],
       c_int, check_rc, _SINCE),
    # single events as JSON
    Fn("eaudit_event_to_json",
       [_ffi.StoreP, _ffi.EventP, c_int, POINTER(c_void_p)], c_int, check_rc,
       _SINCE),
    Fn("eaudit_event_from_json",
       [_ffi.StoreP, c_char_p, c_size_t, _p_size, POINTER(_ffi.EventP)],
       c_int, check_rc, _SINCE),
    Fn("eaudit_event_derive_id", [_ffi.EventP, _ffi.UUID16], c_int, check_rc,
       _SINCE),
    # import
    Fn("eaudit_source_from_file", [POINTER(_SourceP), c_void_p], c_int,
       check_rc, _SINCE),
    Fn("eaudit_source_from_fd", [POINTER(_SourceP), c_int], c_int, check_rc,
       _SINCE),
    Fn("eaudit_source_from_buffer", [POINTER(_SourceP), c_void_p, c_size_t],
       c_int, check_rc, _SINCE),
    Fn("eaudit_source_free", [_SourceP], None, None, _SINCE),
    Fn("eaudit_store_import",
       [_ffi.StoreP, _SourceP, _OptsP, POINTER(_ResultP)], c_int, check_rc,
       _SINCE),
    Fn("eaudit_import_result_counts",
       [_ResultP, _p_u64, _p_u64, _p_u64, _p_u64, _p_u64], c_int, check_rc,
       _SINCE),
    Fn("eaudit_import_result_bad_count", [_ResultP], c_size_t, None, _SINCE),
    Fn("eaudit_import_result_bad_at",
       [_ResultP, c_size_t, _p_u64, _p_int, POINTER(c_char_p)], c_int,
       check_rc, _SINCE),
    Fn("eaudit_import_result_free", [_ResultP], None, None, _SINCE),
]
_ffi.declare(FUNCTIONS)

# Report option keys (eaudit_report_option); values are ABI.
_OPT_FORMAT = 1
_OPT_CSV_NEUTRALIZE = 2
_OPT_ACTOR = 3
_OPT_RECORD = 4
_OPT_IMPORT_BATCH = 5
_OPT_SYSLOG_HOSTNAME = 6
_OPT_SYSLOG_APPNAME = 7
_OPT_TITLE = 8
_OPT_SUMMARY = 9

# eaudit_json_flag
_JSON_STORED = 1
_JSON_NAMES = 2


class ReportFormat(enum.IntEnum):
    """Output formats (eaudit_format). The API also takes the lower-case
    names: ``format="html"``."""
    #: RFC 4180 CSV, a header row; the events only.
    CSV = 1
    #: One JSON document: report, summary, events.
    JSON = 2
    #: One event per line, the interchange shape.
    JSONL = 3
    #: One self-contained XHTML-compatible page with an SVG chart.
    HTML = 4
    #: RFC 5424 syslog lines with structured data.
    SYSLOG = 5
    #: ArcSight CEF lines.
    CEF = 6


#: Format names the library writes.
FORMATS = tuple(f.name.lower() for f in ReportFormat)

#: A destination: a path, or a file object opened for writing bytes.
Target = Union[str, "os.PathLike[str]", IO[bytes]]
#: An import source: a path, the bytes themselves, or a binary file object.
Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview,
               IO[bytes]]
#: progress(done, total): events written (reports, exports) or bytes read
#: (imports); total is 0 when unknown. Raise to stop the call.
Progress = Callable[[int, int], Any]


class BadLine(NamedTuple):
    """A rejected import line: its 1-based number, the library's error code
    (e.g. ``errors.EFORMAT``) and the reason."""

    line: int
    code: int
    message: str

    @property
    def code_name(self) -> str:
        """The code's symbolic name, e.g. ``"EAUDIT_EFORMAT"``."""
        return errors.from_code(self.code, self.message).code_name

    @property
    def exception(self) -> type:
        """The exception class the code maps to (e.g. FormatError)."""
        return type(errors.from_code(self.code, self.message))


@dataclasses.dataclass(frozen=True)
class ImportResult:
    """The outcome of :meth:`ReportMixin.import_jsonl`.

    Attributes:
        lines: lines read, blank ones included.
        appended: events appended.
        skipped: lines whose id was already stored (or came earlier in the
            input): importing the same data again only skips.
        rejected: bad lines, listed in ``bad_lines``.
        unknown_fields: unknown members ignored in the accepted lines.
        bad_lines: ``(line, code, message)`` per rejected line, in order.
    """

    lines: int
    appended: int
    skipped: int
    rejected: int
    unknown_fields: int
    bad_lines: Tuple[BadLine, ...] = ()


def check_target(file: Target) -> None:
    """A path, or a file object opened for writing bytes."""
    if isinstance(file, (str, os.PathLike)):
        return
    write = getattr(file, "write", None)
    if write is None:
        raise TypeError("file must be a path or a binary file object")
    if isinstance(file, io.TextIOBase):
        raise TypeError("file must be opened in binary mode ('wb')")
    try:
        write(b"")
    except TypeError:
        raise TypeError("file must be opened in binary mode ('wb')") from None


def _require(method: str, function: str) -> None:
    if not lib.has(function):
        unwired(method, _HEADER)


def _call(fn: Callable[[], Any]) -> Any:
    """Run a library call whose callbacks may record a pending exception;
    a call that succeeds anyway leaves none behind for a later error."""
    try:
        return fn()
    finally:
        _ffi.take_pending()


def _write_bridge(write: Callable[[Any], Any]) -> Any:
    def bridge(buf: Any, n: int, payload: Any) -> int:
        try:
            view = memoryview(string_at(buf, n))
            while view:
                w = write(view)
                if w is None:  # a non-blocking raw file that took nothing
                    raise BlockingIOError("file.write() accepted no bytes")
                view = view[w:]
            return 0
        except BaseException as exc:  # the library must not see it
            _ffi.set_pending(exc)
            return 1
    return _ffi.WRITE_FN(bridge)


def _progress_bridge(progress: Progress) -> Any:
    def bridge(done: int, total: int, payload: Any) -> int:
        try:
            progress(done, total)
            return 0
        except BaseException as exc:
            _ffi.set_pending(exc)
            return 1
    return _ffi.PROGRESS_FN(bridge)


class _Options:
    """eaudit_report_options and the callbacks it holds; a context
    manager that frees it."""

    def __init__(self) -> None:
        self.ptr = _OptsP()
        self._keep: List[Any] = []
        lib.eaudit_report_options_new(byref(self.ptr))

    def set_int(self, key: int, value: Any, what: str) -> None:
        lib.eaudit_report_options_set_int(self.ptr, key,
                                          check_int(value, what))

    def set_str(self, key: int, value: Optional[str], what: str) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            raise TypeError(f"{what} must be a str, not "
                            f"{type(value).__name__}")
        if "\0" in value:
            raise ValueError(f"{what} contains a NUL character")
        lib.eaudit_report_options_set_str(self.ptr, key,
                                          value.encode("utf-8"))

    def progress(self, progress: Optional[Progress]) -> None:
        if progress is None:
            return
        if not callable(progress):
            raise TypeError("progress must be callable")
        fn = _progress_bridge(progress)
        self._keep.append(fn)  # alive as long as the options
        lib.eaudit_report_options_set_progress(self.ptr, fn, None)

    def close(self) -> None:
        lib.eaudit_report_options_free(self.ptr)
        self.ptr = _OptsP()

    def __enter__(self) -> "_Options":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class _Sink:
    """A callback sink writing to a path (opened here) or a file object."""

    def __init__(self, file: Target) -> None:
        self._own: Optional[IO[bytes]] = None
        if isinstance(file, (str, os.PathLike)):
            self._own = open(file, "wb")
            write = self._own.write
        else:
            write = file.write
        self._fn = _write_bridge(write)  # alive until close()
        self.ptr = _SinkP()
        try:
            lib.eaudit_sink_from_callback(byref(self.ptr), self._fn, None)
        except BaseException:
            self.close()
            raise

    @property
    def written(self) -> int:
        return int(lib.eaudit_sink_bytes(self.ptr))

    def close(self) -> None:
        lib.eaudit_sink_free(self.ptr)
        self.ptr = _SinkP()
        if self._own is not None:
            self._own.close()
            self._own = None

    def __enter__(self) -> "_Sink":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _format(value: Union[ReportFormat, int, str]) -> int:
    if isinstance(value, str):
        return int(coerce(ReportFormat, value, "report format"))
    # Other ints reach the library, which refuses them (ERANGE).
    return check_int(value, "format")


def _enum_or_int(cls: Any, value: int) -> Any:
    try:
        return cls(value)
    except ValueError:
        return value


def _new_event(ev: Any) -> NewEvent:
    """A NewEvent from an unstored C event (decoded from JSON)."""
    out = c_int64()
    vals = {}
    for f in (Field.TYPE, Field.OCCURRED_AT, Field.SUBJECT, Field.ACTOR,
              Field.DOOR, Field.GROUP, Field.DEVICE, Field.SITE,
              Field.CREDENTIAL, Field.REASON):
        rc = lib.eaudit_event_get(ev, f, byref(out))
        vals[f.code_name] = out.value if rc == errors.OK else None
    raw = _ffi.UUID16()
    ev_id = (uuid.UUID(bytes=bytes(raw))
             if lib.eaudit_event_id(ev, raw) == errors.OK else None)
    n = c_size_t()
    p = lib.eaudit_event_details(ev, byref(n))
    details = string_at(p, n.value).decode("utf-8") if p and n.value else None
    occ = vals["occurred_at"]
    return NewEvent(
        type=_enum_or_int(EventType, vals["type"] or 0),
        occurred_at=None if occ is None else from_us(occ),
        subject=vals["subject"], actor=vals["actor"], door=vals["door"],
        group=vals["group"], device=vals["device"], site=vals["site"],
        credential=_enum_or_int(Credential, vals["credential"] or 0),
        reason=_enum_or_int(Reason, vals["reason"] or 0),
        details=details, id=ev_id)


class ReportMixin:
    """Report, export and import methods of :class:`Store`."""

    # Provided by Store.
    _lock: Any

    def report(self, query: Union["Query", "Results", None] = None, *,
               format: Union[ReportFormat, int, str] = "csv",
               file: Target, actor: Optional[int] = None,
               neutralize: bool = True, title: Optional[str] = None,
               summary: bool = True, record: bool = True,
               syslog_hostname: Optional[str] = None,
               syslog_appname: Optional[str] = None,
               progress: Optional[Progress] = None) -> int:
        """Write a report of the events ``query`` matches (a Query or
        Results; None: the default view) to ``file``, a path (created or
        truncated) or a binary file object, and return the bytes written.

        Events come newest first, with the names they had at the time and
        times in the store's zone; JSON and HTML add a summary
        (docs/formats.md). Then an *Audit report exported* event by
        ``actor`` is appended (also when writing failed part-way, with
        ``"complete": false``), unless ``record`` is False.

        Args:
            format: ``"csv"`` (default), ``"json"``, ``"jsonl"``, ``"html"``,
                ``"syslog"`` or ``"cef"`` (or a :class:`ReportFormat`).
            actor: the user id asking for the report; required when
                ``record`` is true.
            neutralize: prefix CSV text cells starting with = + - @ with an
                apostrophe (spreadsheet formula neutralising).
            title: the HTML report's title.
            summary: write the summary in JSON and HTML.
            syslog_hostname, syslog_appname: HOSTNAME and APP-NAME of
                syslog lines.
            progress: ``progress(done, total)`` per event written; raise to
                stop (CancelledError, your exception as ``__cause__``).
        Raises:
            StoreIOError when ``file.write`` raises (it is the
            ``__cause__``), CancelledError, InvalidArgumentError (no actor),
            OutOfRangeError, TypeError, ...
        """
        _require("Store.report()", "eaudit_store_report")
        store: "Store" = self  # type: ignore[assignment]
        fmt = _format(format)
        check_target(file)
        if record and actor is None:
            raise errors.InvalidArgumentError(
                errors.EINVAL, "a recorded report needs an actor (the user "
                "asking for it), or record=False")
        own = query is None
        q = store.default_query() if own else getattr(query, "query", query)
        try:
            with _Options() as opts:
                self._set_options(opts, fmt, actor, record, neutralize,
                                  progress, syslog_hostname, syslog_appname)
                opts.set_str(_OPT_TITLE, title, "title")
                opts.set_int(_OPT_SUMMARY, int(bool(summary)), "summary")
                with store._lock:
                    sp = store._handle()
                    with _Sink(file) as sink:
                        _call(lambda: store._run_notifying(
                            lambda: lib.eaudit_store_report(
                                sp, q.handle, opts.ptr, sink.ptr)))
                        return sink.written
        finally:
            if own:
                q.close()

    def export(self, file: Target, *, after_seq: int = 0,
               format: Union[ReportFormat, int, str] = "jsonl",
               actor: Optional[int] = None, record: bool = True,
               neutralize: bool = True,
               syslog_hostname: Optional[str] = None,
               syslog_appname: Optional[str] = None,
               progress: Optional[Progress] = None) -> int:
        """Export the events with seq greater than ``after_seq`` in seq
        order to ``file`` (a path or a binary file object) as JSON Lines
        (default), CSV, syslog or CEF lines, and return the seq of the last
        event written (``after_seq`` if none): give it back as
        ``after_seq`` to resume. Records an *Audit report exported* event
        by ``actor`` unless ``record`` is False (for shippers exporting
        continuously). Other arguments as for :meth:`report`; JSON and HTML
        are report formats (UnsupportedError here)."""
        _require("Store.export()", "eaudit_store_export")
        store: "Store" = self  # type: ignore[assignment]
        fmt = _format(format)
        after = check_int(after_seq, "after_seq")
        check_target(file)
        if record and actor is None:
            raise errors.InvalidArgumentError(
                errors.EINVAL, "a recorded export needs an actor (the user "
                "asking for it), or record=False")
        last = c_int64(after)
        with _Options() as opts:
            self._set_options(opts, fmt, actor, record, neutralize, progress,
                              syslog_hostname, syslog_appname)
            with store._lock:
                sp = store._handle()
                with _Sink(file) as sink:
                    _call(lambda: store._run_notifying(
                        lambda: lib.eaudit_store_export(
                            sp, after, opts.ptr, sink.ptr, byref(last))))
        return last.value

    @staticmethod
    def _set_options(opts: _Options, fmt: int, actor: Optional[int],
                     record: bool, neutralize: bool,
                     progress: Optional[Progress],
                     hostname: Optional[str], appname: Optional[str]) -> None:
        opts.set_int(_OPT_FORMAT, fmt, "format")
        if actor is not None:
            opts.set_int(_OPT_ACTOR, actor, "actor")
        opts.set_int(_OPT_RECORD, int(bool(record)), "record")
        opts.set_int(_OPT_CSV_NEUTRALIZE, int(bool(neutralize)), "neutralize")
        opts.set_str(_OPT_SYSLOG_HOSTNAME, hostname, "syslog_hostname")
        opts.set_str(_OPT_SYSLOG_APPNAME, appname, "syslog_appname")
        opts.progress(progress)

    def import_jsonl(self, source: Source, *, batch: Optional[int] = None,
                     progress: Optional[Progress] = None) -> ImportResult:
        """Import JSON Lines (the interchange shape export writes) from a
        path, bytes, or a binary file object (read to its end).

        Each valid line is appended through the ordinary append path, in
        transactions of ``batch`` lines (default 1000); a line whose id is
        already stored is skipped; a line without an id gets an id derived
        from its content, so importing the same data again adds nothing.
        Bad lines do not fail the import: they are counted and listed in
        :attr:`ImportResult.bad_lines`. ``progress(done, total)`` gets bytes
        read (total 0 when unknown); raise in it to stop.

        Raises only when the source or the store fails (or progress
        stops the import); the exception's ``result`` attribute then holds
        the ImportResult of what was committed, and importing again finishes
        the job without duplicates.
        """
        _require("Store.import_jsonl()", "eaudit_store_import")
        store: "Store" = self  # type: ignore[assignment]
        with _Options() as opts:
            if batch is not None:
                opts.set_int(_OPT_IMPORT_BATCH, batch, "batch")
            opts.progress(progress)
            with _open_source(source) as src, store._lock:
                sp = store._handle()
                res = _ResultP()
                try:
                    try:
                        _call(lambda: store._run_notifying(
                            lambda: lib.eaudit_store_import(
                                sp, src, opts.ptr, byref(res))))
                    except errors.EntryfyAuditError as exc:
                        exc.result = (  # type: ignore[attr-defined]
                            _read_result(res) if res else None)
                        raise
                    return _read_result(res)
                finally:
                    lib.eaudit_import_result_free(res)

    def event_to_json(self, event: Union[Event, NewEvent], *,
                      names: bool = False) -> str:
        """One event as a line of JSON in the interchange shape (no
        newline), as export writes it. A stored :class:`Event` is read back
        from this store by seq (with ``seq``, ``recorded_at`` and ``hash``;
        NotFoundError when this store holds no such event); a
        :class:`NewEvent` is encoded as given. ``names`` adds the names the
        ids had at the time (``subject_name``, ...)."""
        _require("Store.event_to_json()", "eaudit_event_to_json")
        store: "Store" = self  # type: ignore[assignment]
        flags = _JSON_NAMES if names else 0
        out = c_void_p()
        with store._lock:
            sp = store._handle()
            if isinstance(event, Event):
                cur = _ffi.CursorP()
                lib.eaudit_store_tail(sp, check_int(event.seq - 1, "seq"), 1,
                                      byref(cur))
                try:
                    ev = _ffi.EventP()
                    raw = _ffi.UUID16()
                    if (lib.eaudit_cursor_next(cur, byref(ev)) != errors.OK
                            or lib.eaudit_event_id(ev, raw) != errors.OK
                            or bytes(raw) != event.id.bytes):
                        raise errors.NotFoundError(
                            errors.ENOTFOUND, f"this store holds no event "
                            f"{event.id} at seq {event.seq}")
                    lib.eaudit_event_to_json(sp, ev, flags | _JSON_STORED,
                                             byref(out))
                finally:
                    lib.eaudit_cursor_free(cur)
            elif isinstance(event, NewEvent):
                ev = _ffi.EventP()
                lib.eaudit_event_new(byref(ev))
                try:
                    fill_event(ev, event, store._type_code(event.type),
                               store._now_us() if event.occurred_at is None
                               else 0)
                    lib.eaudit_event_to_json(sp, ev, flags, byref(out))
                finally:
                    lib.eaudit_event_free(ev)
            else:
                raise TypeError("event must be an Event or a NewEvent, not "
                                f"{type(event).__name__}")
        try:
            return string_at(out.value).decode("utf-8")
        finally:
            lib.eaudit_free(out)

    def event_from_json(self, text: Union[str, bytes], *,
                        derive_id: bool = False) -> NewEvent:
        """Decode one JSON object in the interchange shape into a
        :class:`NewEvent` (ready for :meth:`append`). Members export adds
        (seq, recorded_at, hash, names) and unknown members are ignored.
        With ``derive_id`` an event without an id gets the one import would
        give it. FormatError (malformed JSON), FieldError (a member of the
        wrong kind), EventTypeError, OutOfRangeError, TimeError."""
        _require("Store.event_from_json()", "eaudit_event_from_json")
        store: "Store" = self  # type: ignore[assignment]
        if isinstance(text, str):
            data = text.encode("utf-8")
        elif isinstance(text, (bytes, bytearray)):
            data = bytes(text)
        else:
            raise TypeError("text must be a str or bytes, not "
                            f"{type(text).__name__}")
        ev = _ffi.EventP()
        unknown = c_size_t()
        with store._lock:
            lib.eaudit_event_from_json(store._handle(), data, len(data),
                                       byref(unknown), byref(ev))
        try:
            if derive_id:
                raw = _ffi.UUID16()
                if lib.eaudit_event_id(ev, raw) != errors.OK:
                    lib.eaudit_event_derive_id(ev, raw)
                    lib.eaudit_event_set_id(ev, raw)
            return _new_event(ev)
        finally:
            lib.eaudit_event_free(ev)


def _read_result(res: Any) -> ImportResult:
    n = [c_uint64() for _ in range(5)]
    lib.eaudit_import_result_counts(res, *(byref(x) for x in n))
    bad: List[BadLine] = []
    line, code, reason = c_uint64(), c_int(), c_char_p()
    for i in range(lib.eaudit_import_result_bad_count(res)):
        lib.eaudit_import_result_bad_at(res, i, byref(line), byref(code),
                                        byref(reason))
        bad.append(BadLine(line.value, code.value,
                           _ffi.from_bytes(reason.value) or ""))
    return ImportResult(lines=n[0].value, appended=n[1].value,
                        skipped=n[2].value, rejected=n[3].value,
                        unknown_fields=n[4].value, bad_lines=tuple(bad))


class _open_source:
    """An eaudit_source for a path (read through its descriptor), bytes
    (borrowed for the call) or a binary file object: a seekable one with a
    descriptor is read from its position to the end through the descriptor
    and left at the end; any other is read() into memory first."""

    def __init__(self, source: Source) -> None:
        self.ptr = _SourceP()
        self._fd: Optional[int] = None
        self._file: Optional[Any] = None
        self._data: Optional[bytes] = None
        if isinstance(source, (str, os.PathLike)):
            self._fd = os.open(source,
                               os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            self._close_fd = True
        elif isinstance(source, (bytes, bytearray, memoryview)):
            self._data = bytes(source)
        elif isinstance(source, io.TextIOBase):
            raise TypeError("source must be opened in binary mode ('rb')")
        elif hasattr(source, "read"):
            fd = self._descriptor(source)
            if fd is not None:
                self._fd, self._file, self._close_fd = fd, source, False
            else:
                data = source.read()
                if not isinstance(data, (bytes, bytearray)):
                    raise TypeError("source must be opened in binary mode "
                                    "('rb')")
                self._data = bytes(data)
        else:
            raise TypeError("source must be a path, bytes or a binary file "
                            f"object, not {type(source).__name__}")
        try:
            if self._fd is not None:
                lib.eaudit_source_from_fd(byref(self.ptr), self._fd)
            else:
                assert self._data is not None
                lib.eaudit_source_from_buffer(byref(self.ptr), self._data,
                                              len(self._data))
        except BaseException:
            self.__exit__()
            raise

    @staticmethod
    def _descriptor(f: Any) -> Optional[int]:
        try:
            if not f.seekable():
                return None
            fd = f.fileno()
            os.lseek(fd, f.tell(), os.SEEK_SET)  # past what f buffered
            return fd
        except (AttributeError, OSError, ValueError):
            return None

    def __enter__(self) -> Any:
        return self.ptr

    def __exit__(self, *exc: Any) -> None:
        lib.eaudit_source_free(self.ptr)
        self.ptr = _SourceP()
        if self._fd is not None:
            if self._file is not None:
                self._file.seek(os.lseek(self._fd, 0, os.SEEK_CUR))
            elif self._close_fd:
                os.close(self._fd)
            self._fd = None
        self._data = None


__all__ = ["ReportFormat", "ImportResult", "BadLine", "ReportMixin",
           "FUNCTIONS", "FORMATS"]
