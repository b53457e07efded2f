"""Store, events, queries, counts, directory, subscribers and time."""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import sqlite3
import uuid
import zoneinfo

import entryfy_audit as ea
from entryfy_audit import EventType, NewEvent
from support import T0, UTC, Clock, CountingRandom, TempDirTestCase

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


class OpenCloseTest(TempDirTestCase):
    def test_open_creates_a_file_store_that_reopens_with_its_zone(self) -> None:
        with ea.Store.open(self.path(), time_zone="Europe/Berlin",
                           synchronous="normal") as s:
            self.assertFalse(s.closed)
            sid = s.id
            s.append("door_opened", subject=1, occurred_at=T0)
        self.assertTrue(s.closed)
        self.assertEqual(os.stat(self.path()).st_mode & 0o777, 0o600)
        with ea.Store.open(self.path(), time_zone="UTC") as s:
            self.assertEqual(s.id, sid)
            self.assertEqual(s.time_zone, "Europe/Berlin")
            self.assertEqual(len(s), 1)
            self.assertEqual(s.last_seq, 1)

    def test_memory_store_and_repr(self) -> None:
        s = ea.Store.memory()
        self.assertEqual(repr(s), "<entryfy_audit.Store ':memory:' time zone UTC>")
        s.close()
        s.close()  # twice is fine
        self.assertEqual(repr(s), "<entryfy_audit.Store ':memory:' closed>")

    def test_closed_store_raises_misuse(self) -> None:
        s = ea.Store.memory()
        s.close()
        with self.assertRaises(ea.MisuseError) as cm:
            s.append("door_opened", subject=1)
        self.assertEqual(cm.exception.message, "the store is closed")
        with self.assertRaises(ea.MisuseError):
            len(s)

    def test_missing_store_without_create_is_not_found(self) -> None:
        with self.assertRaises(ea.NotFoundError) as cm:
            ea.Store.open(self.path("none.db"), create=False)
        self.assertIsInstance(cm.exception, LookupError)
        self.assertIn("none.db", cm.exception.message)
        self.assertFalse(os.path.exists(self.path("none.db")))

    def test_read_only_store_refuses_appends(self) -> None:
        ea.Store.open(self.path()).close()
        with ea.Store.open(self.path(), read_only=True) as s:
            with self.assertRaises(ea.ReadOnlyError):
                s.append("door_opened", subject=1)

    def test_newer_schema_and_non_store_files(self) -> None:
        ea.Store.open(self.path()).close()
        db = sqlite3.connect(self.path())
        db.execute("PRAGMA user_version = 99")
        db.commit()
        db.close()
        with self.assertRaises(ea.SchemaTooNewError):
            ea.Store.open(self.path())
        with open(self.path("junk.db"), "wb") as f:
            f.write(b"this is not a database" * 100)
        with self.assertRaises(ea.CorruptStoreError):
            ea.Store.open(self.path("junk.db"))

    def test_bad_options(self) -> None:
        with self.assertRaises(ea.TimeZoneError):
            ea.Store.memory(time_zone="Nowhere/Land")
        with self.assertRaises(ea.OutOfRangeError):
            ea.Store.memory(busy_timeout_ms=-1)
        with self.assertRaises(ea.OutOfRangeError):
            ea.Store.memory(cache_size_kib=63)
        with self.assertRaises(ValueError):
            ea.Store.memory(synchronous="sometimes")

    def test_injected_clock_and_random_source(self) -> None:
        clock = Clock()
        rnd = CountingRandom()
        with ea.Store.memory(clock=clock, random=rnd,
                             lateness=dt.timedelta(hours=1),
                             details_max_bytes=64, journal_size_limit=1 << 20,
                             cache_size_kib=256,
                             busy_timeout_ms=100) as s:
            self.assertEqual(s.now(), T0)
            ev = s.append("door_opened", subject=5)
            self.assertEqual(ev.occurred_at, T0)
            self.assertEqual(ev.recorded_at, T0)
            # v7 layout: 48-bit ms time, version 7, variant, random bytes;
            # the store id took bytes 0x00-0x0f, the event id gets 0x10-0x1f.
            ms = int(T0.timestamp() * 1000)
            hexms = f"{ms:012x}"
            self.assertEqual(str(ev.id), f"{hexms[:8]}-{hexms[8:]}-7617-9819-"
                             "1a1b1c1d1e1f")
            clock.advance(seconds=2)
            self.assertEqual(s.now(), T0 + dt.timedelta(seconds=2))

    def test_failing_random_source_raises_with_its_exception_as_cause(self) -> None:
        def broken(n: int) -> bytes:
            raise RuntimeError("entropy pool empty")
        with self.assertRaises(ea.GenericError) as cm:
            ea.Store.memory(random=broken)
        self.assertIsInstance(cm.exception.__cause__, RuntimeError)
        self.assertEqual(cm.exception.klass, 6)  # EAUDIT_ECLASS_CALLBACK

    def test_failing_clock_falls_back_and_logs(self) -> None:
        def broken() -> dt.datetime:
            raise RuntimeError("no time")
        with self.assertLogs("entryfy_audit", logging.ERROR) as logs:
            with ea.Store.memory(clock=broken) as s:
                now = s.now()
            self.assertLess(abs(now - dt.datetime.now(UTC)), dt.timedelta(minutes=5))
        self.assertIn("using the system clock", logs.output[0])

    def test_unclosed_store_warns(self) -> None:
        s = ea.Store.memory()
        with self.assertWarns(ResourceWarning):
            s.__del__()
        self.assertTrue(s.closed)


class AppendTest(TempDirTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.clock = Clock()
        self.s = ea.Store.memory(clock=self.clock, time_zone="Europe/Berlin")

    def tearDown(self) -> None:
        self.s.close()
        super().tearDown()

    def test_append_returns_the_stored_event(self) -> None:
        eid = uuid.UUID("0193f1d2-7c4e-7a10-9b3e-5f2c8d0e4a11")
        ev = self.s.append(EventType.DOOR_OPEN_FAILED, subject=42, actor=7,
                           door=3, group=4, device=5, site=6,
                           credential="keycard", reason=ea.Reason.OUTSIDE_SCHEDULE,
                           occurred_at=T0 - dt.timedelta(minutes=1),
                           details={"reader": "north", "ü": 1}, id=eid)
        self.assertEqual(ev.seq, 1)
        self.assertEqual(ev.id, eid)
        self.assertIs(ev.type, EventType.DOOR_OPEN_FAILED)
        self.assertEqual((ev.subject, ev.actor, ev.door, ev.group, ev.device,
                          ev.site), (42, 7, 3, 4, 5, 6))
        self.assertIs(ev.credential, ea.Credential.KEYCARD)
        self.assertIs(ev.reason, ea.Reason.OUTSIDE_SCHEDULE)
        self.assertEqual(ev.details_json, '{"reader":"north","ü":1}')
        self.assertEqual(ev.details, {"reader": "north", "ü": 1})
        self.assertEqual(ev.occurred_at, T0 - dt.timedelta(minutes=1))
        self.assertEqual(ev.recorded_at, T0)
        self.assertEqual(len(ev.hash or b""), 32)
        self.assertEqual(ev.label, "Door open attempt failed")
        with self.assertRaises(AttributeError):
            ev.seq = 5  # type: ignore[misc]  # frozen
        [back] = list(self.s.query(user=42))
        self.assertEqual(back, ev)

    def test_append_takes_a_new_event_and_raw_json_details(self) -> None:
        ne = NewEvent("keycard_add_failed", occurred_at=T0, subject=9,
                      reason="card_read_error", details='{ "raw" : true }')
        ev = self.s.append(ne)
        self.assertEqual(ev.details_json, '{ "raw" : true }')  # bytes as given
        self.assertEqual(ev.actor, 9)  # the subject acts for themselves
        ev2 = self.s.append(ne, subject=10)
        self.assertEqual((ev2.subject, ev2.seq), (10, 2))

    def test_group_expiry_may_omit_the_subject(self) -> None:
        ev = self.s.append("permissions_expired", group=12, occurred_at=T0)
        self.assertIsNone(ev.subject)
        self.assertEqual(ev.group, 12)

    def test_bad_events_raise_specific_errors_and_write_nothing(self) -> None:
        cases = [
            (dict(event=77, subject=1), ea.EventTypeError),
            (dict(event="door_opened"), ea.MissingSubjectError),
            (dict(event="door_opened", subject=1, details="[1, 2]"), ea.DetailsError),
            (dict(event="door_opened", subject=1, details=b"{\"a\": \"\xff\"}"), ea.Utf8Error),
            (dict(event="door_opened", subject=1, reason=999), ea.OutOfRangeError),
            (dict(event="door_opened", subject=1,
                  occurred_at=-62135596800000001), ea.TimeError),  # year 0
        ]
        for kwargs, exc in cases:
            event = kwargs.pop("event")
            with self.subTest(exc=exc.__name__):
                with self.assertRaises(exc) as cm:
                    self.s.append(event, **kwargs)
                self.assertIsInstance(cm.exception, ValueError)
        with self.assertRaises(ValueError):
            self.s.append("door_opened", subject=1,
                          occurred_at=dt.datetime(2026, 1, 1))  # naive
        with self.assertRaises(TypeError):
            self.s.append("door_opened", subject="42")
        with self.assertRaises(ea.NotFoundError):
            self.s.append("no_such_type", subject=1)
        self.assertEqual(len(self.s), 0)
        self.assertEqual(self.s.last_seq, 0)

    def test_details_larger_than_the_limit(self) -> None:
        with ea.Store.memory(details_max_bytes=16) as s:
            with self.assertRaises(ea.TooBigError):
                s.append("door_opened", subject=1, details={"x": "y" * 20})

    def test_duplicate_id_is_already_exists(self) -> None:
        ev = self.s.append("door_opened", subject=1)
        with self.assertRaises(ea.AlreadyExistsError):
            self.s.append("door_opened", subject=1, id=str(ev.id))

    def test_append_many_is_all_or_nothing_and_names_the_bad_index(self) -> None:
        evs = self.s.append_many(
            [NewEvent("door_opened", subject=i, occurred_at=T0) for i in range(3)]
            + [{"type": "user_updated", "subject": 9, "reason": "pin_changed"}])
        self.assertEqual([e.seq for e in evs], [1, 2, 3, 4])
        self.assertEqual(evs[3].occurred_at, T0)  # the store's clock
        with self.assertRaises(ea.MissingSubjectError) as cm:
            self.s.append_many([{"type": "door_opened", "subject": 1},
                                {"type": "door_opened"},
                                {"type": "door_opened", "subject": 2}])
        self.assertEqual(cm.exception.index, 1)
        self.assertIn("event 1:", cm.exception.message)
        with self.assertRaises(TypeError) as cm2:
            self.s.append_many([{"type": "door_opened", "subject": 1},
                                {"type": "door_opened", "subject": None, "door": "x"}])
        self.assertEqual(cm2.exception.index, 1)
        self.assertEqual(len(self.s), 4)
        self.assertEqual(self.s.append_many([]), [])

    def test_vendor_types_and_labels(self) -> None:
        self.s.register_type(1000, "elevator_called", "Elevator called")
        self.s.register_type(1000, "elevator_called", "Elevator called")  # no-op
        with self.assertRaises(ea.AlreadyExistsError):
            self.s.register_type(1000, "lift_called", "Lift called")
        with self.assertRaises(ea.InvalidArgumentError):
            self.s.register_type(1001, "Bad Name", "x")
        self.assertEqual(self.s.type_name(1000), "elevator_called")
        self.assertEqual(self.s.type_label(1000), "Elevator called")
        self.assertEqual(self.s.type_code("elevator_called"), 1000)
        self.assertIs(self.s.type_code("door_opened"), EventType.DOOR_OPENED)
        self.assertIsNone(self.s.type_name(1002))
        ev = self.s.append("elevator_called", subject=3)
        self.assertEqual(ev.type, 1000)
        self.assertNotIsInstance(ev.type, EventType)
        self.assertEqual(ev.label, "1000")
        self.s.set_type_label(EventType.DOOR_OPENED, "Tür geöffnet")
        self.assertEqual(self.s.type_label(3), "Tür geöffnet")
        self.s.set_type_label(EventType.DOOR_OPENED, None)
        self.assertEqual(self.s.type_label(3), "Door opened")
        self.assertEqual(self.s.counts(types=[1000]), {1000: 1})


class DirectoryTest(TempDirTestCase):
    def test_names_history_users_and_erasure(self) -> None:
        clock = Clock()
        with ea.Store.memory(clock=clock) as s:
            s.set_user(42, "Ada", role="admin", valid_from=T0 - dt.timedelta(days=10))
            s.set_user(42, "Ada Lovelace", valid_from=T0 - dt.timedelta(days=1),
                       role=ea.UserRole.ADMIN)
            s.set_name("door", 7, "North entrance")
            s.set_name(ea.Kind.GROUP, 4, "Staff")
            s.append("door_opened", subject=42, door=7, group=4,
                     occurred_at=T0 - dt.timedelta(days=5))
            s.append("permissions_expired", subject=43, occurred_at=T0 - dt.timedelta(hours=1))
            self.assertEqual(s.name_at("user", 42), "Ada Lovelace")
            self.assertEqual(s.name_at("user", 42, T0 - dt.timedelta(days=5)), "Ada")
            self.assertIsNone(s.name_at("user", 42, T0 - dt.timedelta(days=20)))
            self.assertIsNone(s.name_at("door", 8))
            [ev] = list(s.query(user=42, names=True))
            self.assertEqual(dict(ev.names), {"subject": "Ada", "actor": "Ada",
                                              "door": "North entrance", "group": "Staff"})
            users = s.users()
            self.assertEqual([(u.id, u.name, u.role, u.expired) for u in users],
                             [(42, "Ada Lovelace", ea.UserRole.ADMIN, False),
                              (43, None, ea.UserRole.USER, True)])
            self.assertEqual(users[0].last_activity, T0 - dt.timedelta(days=5))
            self.assertEqual([u.id for u in s.users("ada")], [42])  # past names too
            self.assertEqual([u.id for u in s.users(limit=1)], [42])
            s.erase_names("user", 42)
            self.assertIsNone(s.name_at("user", 42))
            self.assertEqual(s.users("ada"), [])


class QueryTest(TempDirTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.clock = Clock()
        self.s = ea.Store.open(self.path(), clock=self.clock,
                               time_zone="Europe/Berlin", synchronous="normal")
        # 250 events, one a minute, ending at T0, for users 1..5.
        self.events = self.s.append_many(
            NewEvent(EventType.DOOR_OPENED if i % 5 else EventType.DOOR_OPEN_FAILED,
                     occurred_at=T0 - dt.timedelta(minutes=249 - i),
                     subject=1 + i % 5, actor=1 if i % 7 == 0 else 1 + i % 5,
                     door=10 + i % 3, site=1)
            for i in range(250))

    def tearDown(self) -> None:
        self.s.close()
        super().tearDown()

    def test_iteration_across_several_pages_is_lazy_and_complete(self) -> None:
        res = self.s.query(page_size=40)
        self.assertEqual(res.pages_fetched, 0)  # nothing fetched yet
        first = next(res)
        self.assertEqual(res.pages_fetched, 1)
        rest = list(res)
        seqs = [first.seq] + [e.seq for e in rest]
        self.assertEqual(seqs, list(range(250, 0, -1)))  # newest first
        self.assertEqual(res.pages_fetched, 7)  # 6 full pages and 10 more
        self.assertEqual(list(res), [])

    def test_position_resumes_where_iteration_stopped(self) -> None:
        res = self.s.query(order="oldest_first", page_size=33)
        head = [next(res).seq for _ in range(70)]
        token = res.position
        self.assertRegex(token, r"^p1:-?\d+:70$")
        # Events appended meanwhile (newer) do not disturb the remaining pages.
        self.s.append("door_opened", subject=1, occurred_at=T0 + dt.timedelta(hours=1))
        tail = [e.seq for e in self.s.query(order="oldest_first", after=token)]
        self.assertEqual(head + tail, list(range(1, 252)))
        with self.assertRaises(ea.CursorError):
            self.s.query(after="garbage")

    def test_limit_spans_pages(self) -> None:
        self.assertEqual([e.seq for e in self.s.query(limit=45, page_size=20)],
                         list(range(250, 205, -1)))
        self.assertEqual(list(self.s.query(limit=0)), [])
        with self.assertRaises(ValueError):
            self.s.query(page_size=0)

    def test_user_roles_and_filters(self) -> None:
        subj = [e.seq for e in self.s.query(user=1, role="subject")]
        self.assertEqual(subj, [e.seq for e in reversed(self.events) if e.subject == 1])
        act = [e.seq for e in self.s.query(user=1, role=ea.Role.ACTOR)]
        self.assertEqual(act, [e.seq for e in reversed(self.events) if e.actor == 1])
        anyr = {e.seq for e in self.s.query(user=1)}
        self.assertEqual(anyr, set(subj) | set(act))
        failed = list(self.s.query(types=["door_open_failed"]))
        self.assertEqual(len(failed), 50)
        self.assertTrue(all(e.type is EventType.DOOR_OPEN_FAILED for e in failed))
        door = list(self.s.query(door=11, types=[EventType.DOOR_OPENED, 6]))
        self.assertEqual(len(door), sum(1 for e in self.events if e.door == 11))
        self.assertEqual(list(self.s.query(site=2)), [])
        self.assertEqual(len(list(self.s.query(group=1))), 0)
        self.assertEqual(len(list(self.s.query(device=1))), 0)
        with self.assertRaises(ValueError):
            self.s.query(role="owner")

    def test_intervals_from_datetimes_ints_and_expressions(self) -> None:
        since = T0 - dt.timedelta(minutes=10)
        a = [e.seq for e in self.s.query(since=since, until=T0)]
        self.assertEqual(a, list(range(250, 240, -1))[1:] + [240])
        us = (since - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1)
        self.assertEqual([e.seq for e in self.s.query(since=us, until=T0)], a)
        # The last hour, both ends included: 61 events a minute apart.
        self.assertEqual(len(list(self.s.query(since="-1h"))), 61)
        self.assertEqual(len(list(self.s.query(during="2026-11-03"))), 250)
        self.assertEqual(list(self.s.query(during="yesterday")), [])
        with self.assertRaises(ea.TimeError):
            self.s.query(since=T0, until=T0)
        with self.assertRaises(ea.TimeError):
            self.s.query(during="now")
        with self.assertRaises(ValueError):
            self.s.query(during="today", since=T0)

    def test_free_text_search(self) -> None:
        self.s.set_user(3, "Grace Hopper")
        hits = list(self.s.query(text="grace door opened"))
        self.assertEqual(len(hits), sum(1 for e in self.events
                                        if e.subject == 3 and e.type is EventType.DOOR_OPENED))
        at = list(self.s.query(text="15:05"))  # 14:05 UTC is 15:05 in Berlin
        self.assertEqual([e.occurred_at for e in at], [T0])

    def test_prebuilt_queries_are_reusable(self) -> None:
        with self.s.make_query(user=2, types=["door_opened"]) as q:
            self.assertIn("user=2", repr(q))
            n1 = len(list(self.s.query(q)))
            n2 = len(list(self.s.query(q, page_size=7)))
            self.assertEqual(n1, n2)
            self.assertEqual(self.s.counts("user", q), {2: n1})
        with self.assertRaises(ea.MisuseError):
            q.handle

    def test_default_view_is_user_1_over_the_past_month(self) -> None:
        self.s.append("door_opened", subject=1, occurred_at=T0 - dt.timedelta(days=40))
        view = list(self.s.default_view())
        expect = [e.seq for e in reversed(self.events) if 1 in (e.subject, e.actor)]
        self.assertEqual([e.seq for e in view], expect)
        self.assertIn("default view", repr(self.s.default_query()))

    def test_tail_follows_seq_order(self) -> None:
        t = self.s.tail(240, page_size=3)
        self.assertEqual([e.seq for e in t], list(range(241, 251)))
        self.assertEqual(t.position, "250")
        self.assertEqual([e.seq for e in self.s.tail(0, limit=4)], [1, 2, 3, 4])

    def test_counts_by_type_day_and_user(self) -> None:
        self.assertEqual(self.s.counts(), {EventType.DOOR_OPENED: 200,
                                           EventType.DOOR_OPEN_FAILED: 50})
        self.assertEqual(self.s.counts("day"), {dt.date(2026, 11, 3): 250})
        self.assertEqual(self.s.counts(ea.CountBy.USER, since=T0 - dt.timedelta(minutes=4)),
                         {1: 1, 2: 1, 3: 1, 4: 1, 5: 1})
        self.assertEqual(self.s.counts("type", door=10, types=[6]),
                         {EventType.DOOR_OPEN_FAILED: sum(
                             1 for e in self.events
                             if e.door == 10 and e.type is EventType.DOOR_OPEN_FAILED)})

    def test_names_of_results(self) -> None:
        self.s.set_name("door", 10, "Lobby")
        ev = next(self.s.query(door=10, names=True))
        self.assertEqual(ev.names["door"], "Lobby")
        self.assertNotIn("group", ev.names)
        self.assertEqual(next(self.s.query(door=10)).names, {})


class TimeTest(TempDirTestCase):
    """Datetime round trips across the autumn DST change in Berlin:
    2026-10-25 03:00 CEST becomes 02:00 CET, at 01:00 UTC."""

    def test_aware_datetimes_round_trip_across_the_dst_change(self) -> None:
        with ea.Store.open(self.path(), time_zone="Europe/Berlin") as s:
            local = [dt.datetime(2026, 10, 25, 1, 30, tzinfo=BERLIN),
                     dt.datetime(2026, 10, 25, 2, 30, fold=0, tzinfo=BERLIN),
                     dt.datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN),
                     dt.datetime(2026, 10, 25, 3, 30, 0, 999999, tzinfo=BERLIN)]
            for t in local:
                s.append("door_opened", subject=1, occurred_at=t)
        with ea.Store.open(self.path()) as s:
            back = [e.occurred_at for e in s.query(order="oldest_first")]
            # The same instants. (Compared in UTC: Python never calls an
            # ambiguous local time equal to a time in another zone.)
            self.assertEqual(back, [t.astimezone(UTC) for t in local])
            self.assertEqual([b.tzinfo for b in back], [UTC] * 4)
            self.assertEqual([b.astimezone(BERLIN).utcoffset() for b in back],
                             [dt.timedelta(hours=h) for h in (2, 2, 1, 1)])
            self.assertEqual(back[2] - back[1], dt.timedelta(hours=1))
            self.assertEqual([s.format_time(b, "local_offset") for b in back[:3]],
                             ["2026-10-25T01:30:00+02:00", "2026-10-25T02:30:00+02:00",
                              "2026-10-25T02:30:00+01:00"])
            self.assertEqual([b.astimezone(BERLIN).fold for b in back], [0, 0, 1, 0])
            # The 25-hour day counts as one local day.
            self.assertEqual(s.counts("day"), {dt.date(2026, 10, 25): 4})
            begin, end = s.parse_time("2026-10-25")
            self.assertEqual(end - begin, dt.timedelta(hours=25))
            self.assertEqual(begin, dt.datetime(2026, 10, 24, 22, 0, tzinfo=UTC))
            # An ambiguous wall-clock time takes the earlier instant.
            amb, amb_end = s.parse_time("2026-10-25T02:30")
            self.assertEqual(amb, local[1].astimezone(UTC))
            self.assertEqual(amb, amb_end)
            self.assertEqual([e.seq for e in s.query(during="2026-10-25")], [4, 3, 2, 1])

    def test_spring_gap_moves_forward(self) -> None:
        with ea.Store.memory(time_zone="Europe/Berlin") as s:
            t, _ = s.parse_time("2026-03-29T02:30")
            self.assertEqual(t, dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC))
            b, e = s.parse_time("2026-03-29")
            self.assertEqual(e - b, dt.timedelta(hours=23))

    def test_relative_expressions_use_the_given_now(self) -> None:
        with ea.Store.memory(clock=Clock()) as s:
            b, e = s.parse_time("-2h")
            self.assertEqual((b, e), (T0 - dt.timedelta(hours=2),) * 2)
            b, e = s.parse_time("today", now=dt.datetime(2026, 1, 2, 3, tzinfo=UTC))
            self.assertEqual((b, e), (dt.datetime(2026, 1, 2, tzinfo=UTC),
                                      dt.datetime(2026, 1, 3, tzinfo=UTC)))
            with self.assertRaises(ea.TimeError):
                s.parse_time("the day after tomorrow-ish")
            with self.assertRaises(TypeError):
                s.format_time("2026")  # type: ignore[arg-type]

    def test_time_zone_change_rebuilds_day_counts(self) -> None:
        with ea.Store.memory(time_zone="UTC") as s:
            s.append("door_opened", subject=1,
                     occurred_at=dt.datetime(2026, 11, 3, 23, 30, tzinfo=UTC))
            self.assertEqual(s.counts("day"), {dt.date(2026, 11, 3): 1})
            s.time_zone = "Europe/Berlin"
            self.assertEqual(s.time_zone, "Europe/Berlin")
            self.assertEqual(s.counts("day"), {dt.date(2026, 11, 4): 1})


class SubscriberTest(TempDirTestCase):
    def test_callback_sees_each_committed_event_in_seq_order(self) -> None:
        with ea.Store.memory(clock=Clock()) as s:
            seen: list = []
            sub = s.subscribe(seen.append)
            failed_only: list = []
            sub2 = s.subscribe(failed_only.append, types=["door_open_failed"], user=2)
            s.append("door_opened", subject=1)
            s.append_many([{"type": "door_open_failed", "subject": 2},
                           {"type": "door_open_failed", "subject": 3}])
            self.assertEqual([e.seq for e in seen], [1, 2, 3])
            self.assertEqual([e.seq for e in failed_only], [2])
            self.assertIsInstance(seen[0], ea.Event)
            self.assertTrue(sub.active)
            sub.cancel()
            sub.cancel()  # twice is fine
            self.assertFalse(sub.active)
            s.append("door_opened", subject=1)
            self.assertEqual(len(seen), 3)
            # A failed append calls nobody.
            with self.assertRaises(ea.MissingSubjectError):
                s.append("door_open_failed")
            self.assertEqual([e.seq for e in failed_only], [2])
            sub2.cancel()

    def test_callback_may_read_the_store_and_cancel_itself(self) -> None:
        with ea.Store.memory() as s:
            counts: list = []

            def cb(ev: ea.Event) -> None:
                counts.append(len(s))
                if ev.seq == 2:
                    handle.cancel()

            handle = s.subscribe(cb)
            s.append_many([{"type": "door_opened", "subject": 1}] * 3)
            # Cancelling inside the loop takes effect after the append.
            self.assertEqual(counts, [3, 3, 3])
            self.assertFalse(handle.active)
            s.append("door_opened", subject=1)
            self.assertEqual(counts, [3, 3, 3])

    def test_exception_in_callback_is_logged_and_the_append_stands(self) -> None:
        with ea.Store.memory() as s:
            def cb(ev: ea.Event) -> None:
                raise KeyError("boom")
            with s.subscribe(cb):
                with self.assertLogs("entryfy_audit", logging.ERROR) as logs:
                    ev = s.append("door_opened", subject=1)
            self.assertEqual(ev.seq, 1)
            self.assertEqual(len(s), 1)
            self.assertIn("the append stands", logs.output[0])
            self.assertIn("KeyError", logs.output[0])
        with ea.Store.memory() as s, self.assertRaises(TypeError):
            s.subscribe(42)  # type: ignore[arg-type]

    def test_library_log_messages_reach_logging(self) -> None:
        ea.enable_library_logging(logging.WARNING)
        try:
            with ea.Store.memory() as s:
                s.subscribe(lambda ev: 1 / 0)
                with self.assertLogs("entryfy_audit.lib", logging.WARNING) as logs:
                    with self.assertLogs("entryfy_audit", logging.ERROR):
                        s.append("door_opened", subject=1)
            self.assertTrue(any("subscriber 1 returned 1 for seq 1; ignored" in o
                                for o in logs.output), logs.output)
        finally:
            ea.disable_library_logging()


class EnumTest(TempDirTestCase):
    def test_enums_come_from_the_library_tables(self) -> None:
        self.assertEqual(len(EventType), 15)
        self.assertEqual(EventType.DOOR_OPENED, 3)
        self.assertEqual(EventType.LOGIN_UNRECOGNIZED_DEVICE.label,
                         "Login from unrecognized device")
        self.assertEqual(EventType.VERIFICATION_FAILED.code_name, "verification_failed")
        self.assertEqual([int(r) for r in ea.Reason][:6], [0, 1, 2, 3, 4, 5])
        self.assertEqual(ea.Reason.DEVICE_RESET, 36)
        self.assertEqual(ea.Credential.MOBILE.label, "Mobile app")
        self.assertEqual(ea.Field.REASON, 12)
        self.assertIs(ea.Credential.from_name("qr"), ea.Credential.QR)
        with self.assertRaises(ea.NotFoundError):
            ea.Reason.from_name("nope")
        self.assertEqual(EventType.__module__, "entryfy_audit.codes")


class ReportArgumentsTest(TempDirTestCase):
    """Report arguments of the wrong kind are refused before any output."""

    def test_a_text_file_or_unknown_format_is_refused(self) -> None:
        with ea.Store.memory() as s:
            self.assertFalse(os.path.exists(self.path("r.csv")))
            with self.assertRaises(TypeError):
                s.report(file=io.StringIO(), actor=1)
            with self.assertRaises(ValueError):
                s.report(format="pdf", file=io.BytesIO(), actor=1)
