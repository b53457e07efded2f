"""Reports, export and import through the binding: every format to a path
and to a file object, the recorded report_exported event, progress,
exceptions raised by file.write and progress, export -> import round trips,
re-import, bad lines, single events as JSON, and ints beyond 64 bits."""

from __future__ import annotations

import csv
import datetime as dt
import io
import ctypes
import json
import os
import re
import xml.etree.ElementTree as ET

import entryfy_audit as ea
from entryfy_audit import (EventType, ImportResult, NewEvent, ReportFormat,
                           _ffi)
from entryfy_audit import report as repmod
from support import T0, Clock, CountingRandom, TempDirTestCase

HEADER = os.path.join(os.path.dirname(__file__), "..", "..", "include",
                      "eaudit", "report.h")

XHTML = "{http://www.w3.org/1999/xhtml}"
SVG = "{http://www.w3.org/2000/svg}"
CSV_HEADER = ["seq", "id", "occurred_at", "type", "type_label", "subject",
              "subject_name", "actor", "actor_name", "door", "door_name",
              "group", "group_name", "device", "device_name", "site",
              "site_name", "credential", "reason", "details"]
H = dt.timedelta(hours=1)


class ReportTestCase(TempDirTestCase):
    """A store holding five events of users 42 and 7 on 2026-11-01..03."""

    def setUp(self) -> None:
        super().setUp()
        self.clock = Clock()
        # The system's random source: reports under a fixed clock append
        # many events, whose ids must differ.
        self.s = ea.Store.memory(clock=self.clock, time_zone="Europe/Berlin")
        self.s.set_user(1, "Olivia Admin", role="admin")
        self.s.set_user(42, "=Ada")  # a formula, neutralised in CSV
        self.s.set_user(7, "Grace")
        self.s.set_name("door", 7, "North, main")
        base = T0 - dt.timedelta(days=2)
        self.events = self.s.append_many([
            NewEvent("door_opened", occurred_at=base, subject=42, door=7,
                     credential="keycard", details={"reader": "n"}),
            NewEvent("door_open_failed", occurred_at=base + H, subject=42,
                     door=7, credential="keycard", reason="no_permission"),
            NewEvent("door_opened", occurred_at=base + 25 * H, subject=7,
                     door=7, credential="pin"),
            NewEvent("group_added", occurred_at=base + 26 * H, subject=7,
                     actor=1, group=3),
            NewEvent("permissions_expired", occurred_at=base + 47 * H,
                     subject=42),
        ])
        self.week = self.s.make_query(since=T0 - dt.timedelta(days=7),
                                      until=T0)

    def tearDown(self) -> None:
        self.week.close()
        self.s.close()
        super().tearDown()

    def report_bytes(self, fmt: str, **kw: object) -> bytes:
        buf = io.BytesIO()
        n = self.s.report(self.week, format=fmt, file=buf,
                          actor=kw.pop("actor", 1), **kw)
        self.assertEqual(n, len(buf.getvalue()))
        return buf.getvalue()

    def recorded(self) -> ea.Event:
        ev = list(self.s.tail(self.s.last_seq - 1))[-1]
        self.assertIs(ev.type, EventType.REPORT_EXPORTED)
        return ev


class FormatTest(ReportTestCase):
    def test_csv_to_a_file_object_reads_back(self) -> None:
        data = self.report_bytes("csv")
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"),
                                           newline="")))
        self.assertEqual(rows[0], CSV_HEADER)
        body = [dict(zip(CSV_HEADER, r)) for r in rows[1:]]
        self.assertEqual([r["seq"] for r in body], ["5", "4", "3", "2", "1"])
        first = body[-1]
        self.assertEqual(first["id"], str(self.events[0].id))
        self.assertEqual(first["occurred_at"], "2026-11-01T15:05:09+01:00")
        self.assertEqual(first["type"], "door_opened")
        self.assertEqual(first["subject_name"], "'=Ada")  # neutralised
        self.assertEqual(first["door_name"], "North, main")
        self.assertEqual(first["credential"], "keycard")
        self.assertEqual(json.loads(first["details"]), {"reader": "n"})
        self.assertEqual(body[3]["reason"], "no_permission")
        self.assertTrue(data.endswith(b"\r\n"))

    def test_csv_without_neutralising(self) -> None:
        data = self.report_bytes("csv", neutralize=False)
        rows = list(csv.DictReader(io.StringIO(data.decode(), newline="")))
        self.assertEqual(rows[-1]["subject_name"], "=Ada")

    def test_every_format_to_a_path_equals_the_file_object_output(self) -> None:
        for fmt in ("csv", "json", "jsonl", "html", "syslog", "cef"):
            with self.subTest(fmt=fmt):
                path = self.path(f"report.{fmt}")
                n = self.s.report(self.week, format=fmt, file=path, actor=1,
                                  summary=True)
                with open(path, "rb") as f:
                    on_disk = f.read()
                self.assertEqual(n, len(on_disk))
                again = self.report_bytes(fmt)
                if fmt in ("csv", "jsonl", "syslog", "cef"):
                    # Only the events: the same bytes both times.
                    self.assertEqual(on_disk, again)
                self.assertGreater(len(on_disk), 100)

    def test_json_parses_with_summary_and_events(self) -> None:
        doc = json.loads(self.report_bytes("json"))
        self.assertEqual(doc["report"]["actor"], 1)
        self.assertEqual(doc["report"]["time_zone"], "Europe/Berlin")
        self.assertEqual(doc["summary"]["total"], 5)
        self.assertEqual({t["type"]: t["count"]
                          for t in doc["summary"]["by_type"]},
                         {"door_opened": 2, "door_open_failed": 1,
                          "group_added": 1, "permissions_expired": 1})
        self.assertEqual([e["seq"] for e in doc["events"]], [5, 4, 3, 2, 1])
        self.assertEqual(doc["events"][-1]["subject_name"], "=Ada")
        no_summary = json.loads(self.report_bytes("json", summary=False))
        self.assertNotIn("summary", no_summary)

    def test_html_parses_as_xml_with_the_title(self) -> None:
        root = ET.fromstring(self.report_bytes("html",
                                               title="Week <45> & more"))
        self.assertEqual(root.tag, XHTML + "html")
        self.assertEqual(root.find(f"{XHTML}head/{XHTML}title").text,
                         "Week <45> & more")
        days = [g.get("data-day") for g in root.iter(SVG + "g")
                if g.get("class") == "day"]
        self.assertEqual(days[-3:], ["2026-11-01", "2026-11-02",
                                     "2026-11-03"])
        self.assertEqual(list(root.iter(XHTML + "script")), [])
        self.assertIn("Grace", "".join(root.itertext()))

    def test_jsonl_syslog_and_cef_write_one_line_per_event(self) -> None:
        lines = self.report_bytes("jsonl").decode().splitlines()
        self.assertEqual([json.loads(x)["seq"] for x in lines],
                         [5, 4, 3, 2, 1])
        syslog = self.report_bytes("syslog", syslog_hostname="door-ctl-1",
                                   syslog_appname="audit").decode()
        self.assertEqual(len(syslog.splitlines()), 5)
        self.assertTrue(syslog.endswith("\n"))
        for line in syslog.splitlines():
            self.assertRegex(line, r"^<1\d\d>1 \S+Z door-ctl-1 audit - ")
        cef = self.report_bytes("cef").decode().splitlines()
        self.assertEqual(len(cef), 5)
        self.assertTrue(all(x.startswith("CEF:0|Entryfy|entryfy-audit|")
                            for x in cef))

    def test_format_takes_the_enum_and_refuses_unknown_names(self) -> None:
        self.assertEqual(self.report_bytes(ReportFormat.CSV),
                         self.report_bytes("csv"))
        with self.assertRaises(ValueError):
            self.report_bytes("pdf")
        with self.assertRaises(ea.OutOfRangeError):
            self.report_bytes(99)

    def test_default_query_is_the_default_view(self) -> None:
        buf = io.BytesIO()
        self.s.report(format="jsonl", file=buf, actor=1)
        # The default view is user 1 over the past month: only the group
        # change has user 1 (as actor).
        self.assertEqual([json.loads(x)["seq"]
                          for x in buf.getvalue().splitlines()], [4])

    def test_results_are_accepted_as_the_query(self) -> None:
        buf = io.BytesIO()
        self.s.report(self.s.query(user=7), format="jsonl", file=buf,
                      actor=1)
        self.assertEqual([json.loads(x)["seq"]
                          for x in buf.getvalue().splitlines()], [4, 3])


class RecordTest(ReportTestCase):
    def test_report_exported_event_names_the_actor(self) -> None:
        self.report_bytes("csv", actor=9)
        ev = self.recorded()
        self.assertEqual(ev.seq, 6)
        self.assertEqual((ev.subject, ev.actor), (9, 9))
        self.assertEqual(ev.details["format"], "csv")
        self.assertEqual(ev.details["events"], 5)
        self.assertIs(ev.details["complete"], True)

    def test_report_for_a_user_records_that_user_as_subject(self) -> None:
        with self.s.make_query(user=42, role="subject") as q:
            self.s.report(q, format="json", file=io.BytesIO(), actor=1)
        ev = self.recorded()
        self.assertEqual((ev.subject, ev.actor), (42, 1))
        self.assertEqual(ev.details["events"], 3)

    def test_record_false_appends_nothing_and_needs_no_actor(self) -> None:
        buf = io.BytesIO()
        self.s.report(self.week, file=buf, record=False)
        self.assertEqual(self.s.last_seq, 5)
        self.assertGreater(len(buf.getvalue()), 0)

    def test_missing_actor_is_refused_before_the_file_is_created(self) -> None:
        path = self.path("r.csv")
        with self.assertRaises(ea.InvalidArgumentError):
            self.s.report(self.week, file=path)
        self.assertFalse(os.path.exists(path))
        self.assertEqual(self.s.last_seq, 5)

    def test_subscribers_see_the_recorded_event(self) -> None:
        seen = []
        with self.s.subscribe(lambda ev: seen.append(ev.type)):
            self.report_bytes("csv")
        self.assertEqual(seen, [EventType.REPORT_EXPORTED])

    def test_text_mode_files_are_refused(self) -> None:
        with self.assertRaises(TypeError):
            self.s.report(self.week, file=io.StringIO(), actor=1)
        with open(self.path("t.csv"), "w") as f, self.assertRaises(TypeError):
            self.s.report(self.week, file=f, actor=1)
        self.assertEqual(self.s.last_seq, 5)


class _FailingWriter(io.RawIOBase):
    """Accepts ``budget`` bytes, then raises."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.got = b""

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        if len(self.got) + len(b) > self.budget:
            raise OSError(28, "No space left on device")
        self.got += bytes(b)
        return len(b)


class _ShortWriter(io.RawIOBase):
    """Takes at most 7 bytes per write(), as raw files may."""

    def __init__(self) -> None:
        self.got = bytearray()
        self.calls = 0

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.calls += 1
        self.got += bytes(b[:7])
        return min(7, len(b))


class CallbackTest(ReportTestCase):
    def many(self, n: int) -> None:
        self.s.append_many(NewEvent("door_opened", subject=i % 50 + 100,
                                    occurred_at=T0 - dt.timedelta(seconds=i + 1))
                           for i in range(n))

    def test_progress_counts_events(self) -> None:
        self.many(2095)  # 2100 in the week with the fixture's five
        calls = []
        self.s.report(self.week, file=io.BytesIO(), actor=1,
                      progress=lambda done, total: calls.append(
                          (done, total)))
        # Every 1024 events and once at the end.
        self.assertEqual(calls, [(1024, 2100), (2048, 2100), (2100, 2100)])
        calls.clear()
        self.s.export(io.BytesIO(), after_seq=100, actor=1,
                      progress=lambda done, total: calls.append(
                          (done, total)))
        self.assertEqual(calls, [(1024, 2001), (2001, 2001)])

    def test_exception_in_write_is_the_cause(self) -> None:
        sink = _FailingWriter(0)
        with self.assertRaises(ea.StoreIOError) as cm:
            self.s.report(self.week, format="html", file=sink, actor=1)
        cause = cm.exception.__cause__
        self.assertIsInstance(cause, OSError)
        self.assertEqual(cause.errno, 28)
        self.assertEqual(cm.exception.klass, 6)  # a callback failed
        # The attempt is still recorded, as incomplete.
        ev = self.recorded()
        self.assertIs(ev.details["complete"], False)
        # Nothing is left pending: the store works and a later unrelated
        # error has no stale cause.
        self.assertEqual(len(self.report_bytes("csv")),
                         len(self.report_bytes("csv")))
        with self.assertRaises(ea.OutOfRangeError) as cm2:
            self.s.append("door_opened", subject=1, reason=999)
        self.assertIsNone(cm2.exception.__cause__)

    def test_exception_in_write_during_export(self) -> None:
        class Boom(Exception):
            pass

        class W:
            def write(self, b: bytes) -> int:
                if b:
                    raise Boom("stop")
                return 0

        with self.assertRaises(ea.StoreIOError) as cm:
            self.s.export(W(), actor=1)
        self.assertIsInstance(cm.exception.__cause__, Boom)

    def test_exception_in_progress_cancels(self) -> None:
        self.many(2095)

        def progress(done: int, total: int) -> None:
            if done == 2048:
                raise KeyError("enough")

        with self.assertRaises(ea.CancelledError) as cm:
            self.s.report(self.week, file=io.BytesIO(), actor=1,
                          progress=progress)
        self.assertIsInstance(cm.exception.__cause__, KeyError)
        ev = self.recorded()
        self.assertEqual(ev.details["events"], 2048)
        self.assertIs(ev.details["complete"], False)

    def test_short_writes_are_completed(self) -> None:
        w = _ShortWriter()
        self.s.report(self.week, format="jsonl", file=w, actor=1,
                      record=False)
        self.assertEqual(bytes(w.got), self.report_bytes("jsonl"))
        self.assertGreater(w.calls, 10)


class ExportImportTest(ReportTestCase):
    def new_store(self) -> ea.Store:
        return ea.Store.memory(clock=Clock(T0 + 30 * H),
                               random=CountingRandom(), time_zone="UTC")

    def test_export_import_round_trips_ids_and_fields(self) -> None:
        path = self.path("export.jsonl")
        last = self.s.export(path, actor=1, record=False)
        self.assertEqual(last, 5)
        with self.new_store() as t:
            res = t.import_jsonl(path)
            self.assertIsInstance(res, ImportResult)
            self.assertEqual(res, ImportResult(lines=5, appended=5, skipped=0,
                                               rejected=0, unknown_fields=0,
                                               bad_lines=()))
            got = list(t.tail())
            self.assertEqual(len(got), 5)
            for a, b in zip(self.events, got):
                self.assertEqual(
                    (a.id, a.occurred_at, a.type, a.subject, a.actor, a.door,
                     a.group, a.credential, a.reason, a.details),
                    (b.id, b.occurred_at, b.type, b.subject, b.actor, b.door,
                     b.group, b.credential, b.reason, b.details))
            # Importing again adds nothing.
            again = t.import_jsonl(path)
            self.assertEqual((again.appended, again.skipped, again.rejected),
                             (0, 5, 0))
            self.assertEqual(len(t), 5)
            with self.assertRaises(AttributeError):
                again.appended = 1  # type: ignore[misc]  # frozen

    def test_export_resumes_from_the_last_seq(self) -> None:
        first = io.BytesIO()
        self.assertEqual(self.s.export(first, actor=1), 5)
        # The export itself was recorded as seq 6.
        ev = self.recorded()
        self.assertEqual(ev.details["last_seq"], 5)
        self.assertIs(ev.details["export"], True)
        rest = io.BytesIO()
        self.assertEqual(self.s.export(rest, after_seq=5, record=False), 6)
        [line] = rest.getvalue().splitlines()
        self.assertEqual(json.loads(line)["type"], "report_exported")
        none = io.BytesIO()
        self.assertEqual(self.s.export(none, after_seq=6, record=False), 6)
        self.assertEqual(none.getvalue(), b"")
        with self.assertRaises(ea.UnsupportedError):
            self.s.export(io.BytesIO(), format="html", actor=1)

    def test_import_from_bytes_and_file_objects(self) -> None:
        buf = io.BytesIO()
        self.s.export(buf, record=False)
        data = buf.getvalue()
        with self.new_store() as t:
            self.assertEqual(t.import_jsonl(data[:0]).lines, 0)
            first_two = b"".join(data.splitlines(keepends=True)[:2])
            self.assertEqual(t.import_jsonl(first_two).appended, 2)
            self.assertEqual(t.import_jsonl(io.BytesIO(data)).appended, 3)
            self.assertEqual(len(t), 5)
        path = self.path("x.jsonl")
        with open(path, "wb") as f:
            f.write(b"# not an event\n" + data)
        with self.new_store() as t, open(path, "rb") as f:
            f.readline()  # a buffered reader past its first line
            calls = []
            res = t.import_jsonl(f, batch=2,
                                 progress=lambda d, n: calls.append((d, n)))
            self.assertEqual((res.lines, res.appended, res.rejected),
                             (5, 5, 0))
            self.assertEqual(f.read(), b"")  # left at the end
            self.assertEqual(calls[-1], (len(data), len(data)))

    def test_bad_lines_are_listed_with_their_numbers(self) -> None:
        good = self.s.event_to_json(self.events[0])
        lines = [
            good,                                               # 1
            "",                                                 # 2 blank
            "{not json",                                        # 3
            '{"type":"no_such_type","occurred_at":"2026-11-01T00:00:00Z",'
            '"subject":1}',                                     # 4
            '{"type":"door_opened","subject":1}',               # 5
            '{"type":"door_opened","occurred_at":"2026-11-01T00:00:00Z",'
            '"subject":1,"colour":"red"}',                      # 6
            good,                                               # 7 dup
            '{"type":"door_opened","occurred_at":"2026-11-01T00:00:00Z",'
            '"subject":"x"}',                                   # 8
        ]
        with self.new_store() as t:
            res = t.import_jsonl(("\n".join(lines) + "\n").encode())
            self.assertEqual((res.lines, res.appended, res.skipped,
                              res.rejected, res.unknown_fields),
                             (8, 2, 1, 4, 1))
            self.assertEqual([(b.line, b.code) for b in res.bad_lines],
                             [(3, ea.errors.EFORMAT), (4, ea.errors.ETYPE),
                              (5, ea.errors.ETIME), (8, ea.errors.EFIELD)])
            self.assertEqual(res.bad_lines[0].code_name, "EAUDIT_EFORMAT")
            self.assertIs(res.bad_lines[1].exception, ea.EventTypeError)
            self.assertTrue(all(b.message for b in res.bad_lines))
            line, code, message = res.bad_lines[0]  # a plain tuple too
            self.assertEqual(line, 3)

    def test_progress_exception_stops_the_import_with_the_result(self) -> None:
        buf = io.BytesIO()
        self.s.export(buf, record=False)

        def progress(done: int, total: int) -> None:
            raise RuntimeError("stop")

        with self.new_store() as t:
            with self.assertRaises(ea.CancelledError) as cm:
                t.import_jsonl(buf.getvalue(), batch=2, progress=progress)
            self.assertIsInstance(cm.exception.__cause__, RuntimeError)
            partial = cm.exception.result  # type: ignore[attr-defined]
            self.assertEqual(partial.appended, 2)
            self.assertEqual(len(t), 2)
            self.assertEqual(t.import_jsonl(buf.getvalue()).appended, 3)

    def test_import_sources_of_the_wrong_kind(self) -> None:
        with self.assertRaises(TypeError):
            self.s.import_jsonl(io.StringIO("{}"))
        with self.assertRaises(TypeError):
            self.s.import_jsonl(42)  # type: ignore[arg-type]
        with self.assertRaises(FileNotFoundError):
            self.s.import_jsonl(self.path("missing.jsonl"))


class JsonEventTest(ReportTestCase):
    def test_stored_event_to_json_and_back(self) -> None:
        ev = self.events[0]
        doc = json.loads(self.s.event_to_json(ev, names=True))
        self.assertEqual(doc["id"], str(ev.id))
        self.assertEqual(doc["seq"], 1)
        self.assertEqual(doc["occurred_at"], "2026-11-01T14:05:09.123456Z")
        self.assertEqual(doc["subject_name"], "=Ada")
        self.assertEqual(doc["hash"], ev.hash.hex())
        new = self.s.event_from_json(json.dumps(doc))
        self.assertEqual((new.id, new.type, new.occurred_at, new.subject,
                          new.door, new.credential, json.loads(new.details)),
                         (ev.id, EventType.DOOR_OPENED, ev.occurred_at, 42, 7,
                          ea.Credential.KEYCARD, {"reader": "n"}))

    def test_new_event_to_json_and_derived_ids(self) -> None:
        draft = NewEvent("door_opened", occurred_at=T0, subject=5)
        doc = json.loads(self.s.event_to_json(draft))
        self.assertNotIn("seq", doc)
        self.assertNotIn("id", doc)
        plain = self.s.event_from_json(json.dumps(doc))
        self.assertIsNone(plain.id)
        a = self.s.event_from_json(json.dumps(doc), derive_id=True)
        b = self.s.event_from_json(json.dumps(dict(doc, actor=5)),
                                   derive_id=True)
        self.assertEqual(a.id, b.id)  # an absent actor is the subject
        self.assertEqual(a.id.version, 7)
        stored = self.s.append(a)
        self.assertEqual(stored.id, a.id)

    def test_unknown_or_foreign_events(self) -> None:
        with ea.Store.memory() as other:
            foreign = other.append("door_opened", subject=1)
        with self.assertRaises(ea.NotFoundError):
            self.s.event_to_json(foreign)
        with self.assertRaises(ea.FormatError):
            self.s.event_from_json("{")
        with self.assertRaises(TypeError):
            self.s.event_to_json({"type": "door_opened"})  # type: ignore


class IntRangeTest(ReportTestCase):
    """ctypes keeps the low 64 bits of a larger int: such ints must be
    refused, not stored truncated (subject=2**64+3 used to store 3)."""

    def test_append_refuses_ids_beyond_int64(self) -> None:
        for field in ("subject", "actor", "door", "group", "device", "site"):
            for value in (2 ** 64 + 3, 2 ** 63, -2 ** 63 - 1):
                with self.subTest(field=field, value=value):
                    fields = {"subject": 1, field: value}
                    with self.assertRaises(ea.OutOfRangeError) as cm:
                        self.s.append("door_opened", **fields)
                    self.assertEqual(cm.exception.code, ea.errors.ERANGE)
        with self.assertRaises(ea.OutOfRangeError) as cm:
            self.s.append_many([{"type": "door_opened", "subject": 1},
                                {"type": "door_opened", "subject": 2 ** 64}])
        self.assertEqual(cm.exception.index, 1)  # type: ignore[attr-defined]
        self.assertEqual(self.s.last_seq, 5)
        # The largest int64 still goes through.
        ev = self.s.append("door_opened", subject=2 ** 63 - 1, door=-2 ** 63)
        self.assertEqual((ev.subject, ev.door), (2 ** 63 - 1, -2 ** 63))

    def test_times_codes_and_other_ids(self) -> None:
        calls = [
            lambda: self.s.append("door_opened", subject=1,
                                  occurred_at=2 ** 64),
            lambda: self.s.append("door_opened", subject=1, reason=2 ** 64),
            lambda: self.s.append(2 ** 32 + 3, subject=1),
            lambda: self.s.set_name("door", 2 ** 64 + 7, "x"),
            lambda: self.s.set_user(2 ** 64 + 1, "x"),
            lambda: self.s.name_at("door", 2 ** 64 + 7),
            lambda: self.s.erase_names("door", 2 ** 64 + 7),
            lambda: self.s.register_type(2 ** 32 + 1000, "x", "X"),
            lambda: self.s.type_name(2 ** 32 + 3),
            lambda: self.s.format_time(2 ** 70),
            lambda: list(self.s.query(user=2 ** 64 + 42)),
            lambda: list(self.s.query(door=2 ** 64 + 7)),
            lambda: list(self.s.tail(2 ** 64)),
            lambda: list(self.s.query(limit=2 ** 64 + 1)),
            lambda: self.s.export(io.BytesIO(), after_seq=2 ** 64, actor=1),
            lambda: self.s.report(self.week, file=io.BytesIO(),
                                  actor=2 ** 64 + 1),
            lambda: ea.Store.memory(busy_timeout_ms=2 ** 64),
        ]
        for i, call in enumerate(calls):
            with self.subTest(i=i), self.assertRaises(ea.OutOfRangeError):
                call()
        self.assertEqual(self.s.last_seq, 5)
        self.assertIsNone(self.s.name_at("door", 8))
        with self.assertRaises(TypeError):
            self.s.append("door_opened", subject=True)
        with self.assertRaises(TypeError):
            self.s.append("door_opened", subject=1.0)


class DeclarationTest(TempDirTestCase):
    RESTYPES = {"int": ctypes.c_int, "void": None,
                "uint64_t": ctypes.c_uint64, "size_t": ctypes.c_size_t}

    def test_every_function_of_the_header_is_declared(self) -> None:
        with open(HEADER, encoding="utf-8") as f:
            text = f.read()
        protos = {m.group(2): (m.group(1).strip(), m.group(3)) for m in
                  re.finditer(r"EAUDIT_EXTERN\s+([\w ]+?)\s*\**\s*"
                              r"\b(eaudit_\w+)\s*\(([^)]*)\)", text)}
        self.assertEqual(len(protos), 25)
        rows = {row.name: row for row in repmod.FUNCTIONS}
        self.assertEqual(set(rows), set(protos))
        for name, (ret, params) in protos.items():
            with self.subTest(name=name):
                row = rows[name]
                self.assertEqual(row.since, 1_000_000)
                self.assertTrue(_ffi.lib.has(name))
                self.assertEqual(len(row.argtypes), params.count(",") + 1)
                self.assertIs(row.restype, self.RESTYPES[ret.split()[-1]])

    def test_enums_and_option_keys_match_the_header(self) -> None:
        with open(HEADER, encoding="utf-8") as f:
            text = f.read()
        for m in ReportFormat:
            self.assertRegex(text, rf"\bEAUDIT_FORMAT_{m.name} = {int(m)}\b")
        for name, value in vars(repmod).items():
            if name.startswith("_OPT_"):
                self.assertRegex(
                    text, rf"\bEAUDIT_REPORT_OPT_{name[5:]} = {value}\b")

    def test_a_library_without_report_functions_raises_unsupported(
            self) -> None:
        names = ("eaudit_store_report", "eaudit_store_export",
                 "eaudit_store_import")
        saved = {n: getattr(_ffi.lib, n) for n in names}
        for row in repmod.FUNCTIONS:
            if row.name in names:
                setattr(_ffi.lib, row.name, _ffi._Missing(row, _ffi.version))
        try:
            with ea.Store.memory() as s:
                path = self.path("r.csv")
                for call in (lambda: s.report(file=path, actor=1),
                             lambda: s.export(path, actor=1),
                             lambda: s.import_jsonl(b"")):
                    with self.assertRaises(ea.UnsupportedError) as cm:
                        call()
                    self.assertIn("<eaudit/report.h>", cm.exception.message)
                self.assertFalse(os.path.exists(path))
                self.assertEqual(len(s), 0)
        finally:
            for n, fn in saved.items():
                setattr(_ffi.lib, n, fn)
