#!/usr/bin/env python3
"""Tests of the entryfy-audit command: every subcommand and flag family,
time words against a fixed now (month ends, DST), bad flags, missing and
corrupt stores, the exact events --search finds in a fixture, the exact
findings the rules open, reports in every format, devices, rule sets, tamper
evidence (keys, checkpoints, verify against edited and truncated stores,
purge, backup), and the demo's month with every planted incident found and
its signature verified.

Run by ctest with ENTRYFY_AUDIT_BIN set to the built program. Standard
library only.
"""
import csv
import io
import json
import os
import pty
import re
import shutil
import subprocess
import tempfile
import time
import unittest
from xml.etree import ElementTree

BIN = os.environ.get("ENTRYFY_AUDIT_BIN", "entryfy-audit")
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "fixture.jsonl")
NOW = "2026-11-20T16:30:00Z"
# The interchange shape as the library writes it (docs/formats.md).
EVENT_KEYS = ["id", "type", "occurred_at", "subject", "actor", "door",
              "group", "device", "site", "credential", "reason", "details"]
BUILTIN_RULES = ["unrecognized_device_abuse", "door_failure_burst",
                 "keycard_add_failures", "admin_new_device_off_hours",
                 "expired_while_inside", "temporary_privilege",
                 "credential_churn"]


def run(*args, now=NOW, stdin=None, env_extra=None, db_env=None):
    env = dict(os.environ)
    env.pop("ENTRYFY_AUDIT_DB", None)
    env.pop("ENTRYFY_AUDIT_NOW", None)
    env["ENTRYFY_AUDIT_NO_PROGRESS"] = "1"
    if now is not None:
        env["ENTRYFY_AUDIT_NOW"] = now
    if db_env is not None:
        env["ENTRYFY_AUDIT_DB"] = db_env
    if env_extra:
        env.update(env_extra)
    p = subprocess.run([BIN, *args], input=stdin, capture_output=True,
                       text=True, env=env, timeout=120)
    return p


def jsonl(text):
    return [json.loads(l) for l in text.splitlines() if l.strip()]


def fixture_id(n):
    return "0193f1d2-0000-7000-8000-%012d" % n


def utc_seconds(rfc3339):
    return time.mktime(time.strptime(rfc3339[:19], "%Y-%m-%dT%H:%M:%S")) \
        - time.timezone


def sql(db, statement):
    """Change a store behind the library's back, as an attacker with write
    access to the file would: Python's sqlite3 module when this Python has
    it, else the sqlite3 program (Debian package sqlite3)."""
    try:
        import sqlite3
    except ImportError:
        sqlite3 = None
    if sqlite3 is not None:
        con = sqlite3.connect(db)
        con.executescript(statement)
        con.close()
        return
    prog = shutil.which("sqlite3")
    if prog is None:
        raise unittest.SkipTest("neither Python's sqlite3 nor the sqlite3 "
                                "program is available")
    subprocess.run([prog, db, statement], check=True, timeout=60)


def copy_store(src, dst):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(src + suffix):
            shutil.copy(src + suffix, dst + suffix)


class Base(unittest.TestCase):
    tmp = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="eaudit-cli-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def ok(self, p, code=0):
        self.assertEqual(p.returncode, code,
                         "exit %d, stderr: %s" % (p.returncode, p.stderr))
        return p


class Fixture(Base):
    """A small store from fixture.jsonl, named through `name`."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db = os.path.join(cls.tmp, "fixture.db")
        p = run("import", "--db", cls.db, "--tz", "Europe/Berlin", FIXTURE)
        assert p.returncode == 0, p.stderr
        names = [("user", 42, "Zoë Quinn"), ("user", 43, "Zoran Petrov"),
                 ("user", 44, "Quincy Adams"), ("user", 45, "Anna Zorn"),
                 ("user", 1, "Alex Morgan"), ("door", 7, "Warehouse gate"),
                 ("door", 2, "Lobby"), ("door", 3, "Zone B"),
                 ("group", 3, "Night shift")]
        for kind, i, name in names:
            p = run("name", "--db", cls.db, kind, str(i), name)
            assert p.returncode == 0, p.stderr

    def search_ids(self, *args, code=0):
        p = self.ok(run("search", "--db", self.db, "--format", "jsonl",
                        *args), code)
        return [int(e["id"][-12:]) for e in jsonl(p.stdout)]

    # ---- --search: the exact events ----

    def test_search_type_label_door_opened(self):
        # "door opened" spells Door opened, not Door open attempt failed.
        self.assertEqual(self.search_ids("--search", "door opened"),
                         [4, 6, 3, 1, 8])

    def test_search_iso_date_is_the_local_day(self):
        # 8 is 2026-11-02T23:10Z = 00:10 on 3 November in Berlin; 7 is
        # 23:30 on 2 November there.
        self.assertEqual(self.search_ids("--search", "2026-11-03"),
                         [3, 2, 1, 5, 8])

    def test_search_month_day_never_matches_the_13th(self):
        self.assertEqual(self.search_ids("--search", "Nov 3"),
                         [3, 2, 1, 5, 8])
        self.assertEqual(self.search_ids("--search", "3 Nov"),
                         [3, 2, 1, 5, 8])

    def test_search_minute(self):
        self.assertEqual(self.search_ids("--search", "14:05"), [4, 6, 2, 1])

    def test_search_hour(self):
        # 3 is 14:40 on 3 November, newer than 2 (14:05:40).
        self.assertEqual(self.search_ids("--search", "14:"),
                         [4, 6, 3, 2, 1])

    def test_search_name_prefix(self):
        # Zoë Quinn (42), Zoran (43), Anna Zorn (45), door Zone B (3).
        self.assertEqual(self.search_ids("--search", "zo"),
                         [4, 6, 2, 1, 5, 8])
        self.assertEqual(self.search_ids("--search", "quinn"), [4, 1, 5])

    def test_search_parts_are_anded(self):
        self.assertEqual(self.search_ids("--search", "Nov 3 14:05"), [2, 1])
        self.assertEqual(self.search_ids("--search", "door opened zo"),
                         [4, 6, 1, 8])

    def test_search_nothing_found_exits_1(self):
        self.assertEqual(self.search_ids("--search", "Nov 5", code=1), [])
        p = self.ok(run("search", "--db", self.db, "--search", "Nov 5"), 1)
        self.assertIn("no events", p.stderr)

    # ---- filters ----

    def test_user_roles(self):
        self.assertEqual(self.search_ids("--user", "1", "--as", "actor"), [7])
        self.assertEqual(self.search_ids("--user", "1", "--as", "subject",
                                         code=1), [])
        self.assertEqual(self.search_ids("--user", "44"), [3, 7])
        self.assertEqual(self.search_ids("--user", "Zoran"), [2])

    def test_user_name_naming_several_is_a_usage_error(self):
        p = self.ok(run("search", "--db", self.db, "--user", "Zo"), 2)
        self.assertIn("several users", p.stderr)

    def test_type_repeatable_and_comma_separated(self):
        a = self.search_ids("--type", "keycard_added,group_added")
        b = self.search_ids("--type", "keycard_added", "-t", "group_added")
        self.assertEqual(a, [5, 7])
        self.assertEqual(a, b)
        self.assertEqual(self.search_ids("--type", "6"), [2])

    def test_entities(self):
        self.assertEqual(self.search_ids("--door", "7"), [4, 2, 1])
        self.assertEqual(self.search_ids("--group", "3"), [7])
        self.assertEqual(self.search_ids("--site", "1"), [1])
        self.assertEqual(self.search_ids("--device", "9", code=1), [])

    def test_since_until_time_words(self):
        # now is 2026-11-20 17:30 in Berlin.
        self.assertEqual(self.search_ids("--since", "2026-11-03",
                                         "--until", "2026-11-04"),
                         [3, 2, 1, 5, 8])
        self.assertEqual(self.search_ids("--since", "2026-11-03T14:05",
                                         "--until", "2026-11-03T14:06"),
                         [2, 1])
        self.assertEqual(self.search_ids("--since", "last-week",
                                         "--until", "this-week"), [4])
        self.assertEqual(self.search_ids("--since", "-1mo", "--until",
                                         "2026-11-03"), [7])
        self.assertEqual(self.search_ids("--since", "today", code=1), [])

    def test_default_view_is_user_1_past_month(self):
        self.assertEqual(self.search_ids(), [7])
        # A month later the same store's default view is empty.
        p = run("search", "--db", self.db, now="2026-12-20T16:30:00Z")
        self.assertEqual(p.returncode, 1, p.stderr)

    def test_order_limit_and_after_pages(self):
        # Paging flags are not filters: without a filter the default view
        # (user 1) would apply, so ask for everything since 2026.
        all_ids = self.search_ids("--since", "2026-01-01", "--order", "oldest")
        self.assertEqual(all_ids, [7, 8, 5, 1, 2, 3, 6, 4])
        p = self.ok(run("search", "--db", self.db, "--format", "jsonl",
                        "--since", "2026-01-01", "--order", "oldest",
                        "--limit", "3"))
        first = [int(e["id"][-12:]) for e in jsonl(p.stdout)]
        self.assertEqual(first, all_ids[:3])
        cursor = p.stderr.split("--after ")[1].split()[0]
        rest = self.search_ids("--since", "2026-01-01", "--order", "oldest",
                               "--after", cursor)
        self.assertEqual(first + rest, all_ids)

    # ---- formats ----

    def test_jsonl_is_the_interchange_shape(self):
        p = self.ok(run("search", "--db", self.db, "--format", "jsonl",
                        "--search", "Nov 13"))
        (e,) = jsonl(p.stdout)
        self.assertEqual(list(e)[:len(EVENT_KEYS)], EVENT_KEYS)
        self.assertEqual(e["id"], fixture_id(4))
        self.assertEqual(e["type"], "door_opened")
        self.assertEqual(e["occurred_at"], "2026-11-13T13:05:00.000000Z")
        self.assertEqual((e["subject"], e["actor"], e["door"]), (42, 42, 7))
        self.assertIsNone(e["group"])
        self.assertIsNone(e["credential"])
        self.assertEqual(e["details"], {"reader": "north"})
        self.assertEqual(e["subject_name"], "Zoë Quinn")
        self.assertEqual(e["door_name"], "Warehouse gate")

    def test_json_is_one_array(self):
        p = self.ok(run("search", "--db", self.db, "--format", "json",
                        "--door", "7"))
        arr = json.loads(p.stdout)
        self.assertEqual([e["id"][-1] for e in arr], ["4", "2", "1"])
        self.assertEqual(arr[1]["reason"], "outside_schedule")
        self.assertEqual(arr[1]["credential"], "pin")

    def test_csv(self):
        p = self.ok(run("search", "--db", self.db, "--format", "csv",
                        "--door", "7"))
        rows = list(csv.DictReader(io.StringIO(p.stdout, newline="")))
        self.assertEqual(len(rows), 3)
        self.assertEqual(rows[0]["subject_name"], "Zoë Quinn")
        self.assertEqual(rows[0]["local_time"], "2026-11-13 14:05:00")
        self.assertEqual(rows[0]["label"], "Door opened")
        self.assertEqual(rows[0]["details"], '{"reader": "north"}')

    def test_table_shows_names_and_fits_the_width(self):
        p = self.ok(run("search", "--db", self.db, "--door", "7",
                        env_extra={"COLUMNS": "100"}))
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 4)
        self.assertTrue(lines[0].startswith("TIME"))
        self.assertIn("Zoë Quinn (42)", p.stdout)
        self.assertIn("Warehouse gate", p.stdout)
        # Cut to fit, with an ellipsis.
        self.assertIn("Door open attempt…", p.stdout)
        for l in lines:
            self.assertLessEqual(len(l), 100, l)

    def test_output_file(self):
        out = self.path("out.jsonl")
        self.ok(run("search", "--db", self.db, "--format", "jsonl",
                    "--door", "7", "-o", out))
        with open(out, encoding="utf-8") as f:
            self.assertEqual(len(jsonl(f.read())), 3)

    def test_db_from_environment(self):
        p = self.ok(run("search", "--format", "jsonl", "--door", "3",
                        db_env=self.db))
        self.assertEqual(len(jsonl(p.stdout)), 1)

    # ---- stats, users, name, export ----

    def test_stats(self):
        p = self.ok(run("stats", "--db", self.db, "--by", "all",
                        "--format", "csv"))
        rows = list(csv.reader(io.StringIO(p.stdout, newline="")))
        by_type = {r[2]: int(r[3]) for r in rows[1:] if r[0] == "type"}
        self.assertEqual(by_type, {"Door opened": 5, "Door open attempt failed": 1,
                                   "Keycard added": 1, "Added to a group": 1})
        days = {r[2]: int(r[3]) for r in rows[1:] if r[0] == "day"}
        self.assertEqual(days, {"2026-11-02": 1, "2026-11-03": 5,
                                "2026-11-04": 1, "2026-11-13": 1})
        p = self.ok(run("stats", "--db", self.db))
        self.assertIn("Door opened", p.stdout)
        self.ok(run("stats", "--db", self.db, "--door", "9"), 1)

    def test_users_and_renames(self):
        db = self.path("names.db")
        shutil.copy(self.db, db)
        self.ok(run("name", "--db", db, "user", "43", "Zoran Kovač",
                    "--from", "2026-11-10"))
        p = self.ok(run("users", "--db", db, "--prefix", "petrov"))
        self.assertIn("Zoran Kovač", p.stdout)
        # The report shows the name of the time.
        p = self.ok(run("search", "--db", db, "--format", "jsonl",
                        "--user", "43"))
        self.assertEqual(jsonl(p.stdout)[0]["subject_name"], "Zoran Petrov")
        self.ok(run("name", "--db", db, "user", "2", "Root", "--role",
                    "admin"))
        p = self.ok(run("users", "--db", db, "--format", "csv"))
        self.assertIn('2,"Root",admin,,0', p.stdout)
        self.ok(run("users", "--db", db, "--prefix", "nobody"), 1)

    def test_export_order_and_after_seq(self):
        p = self.ok(run("export", "--db", self.db, "--no-record"))
        evs = jsonl(p.stdout)
        self.assertEqual([e["seq"] for e in evs], list(range(1, 9)))
        self.assertEqual([e["id"] for e in evs],
                         [fixture_id(i) for i in range(1, 9)])
        self.assertEqual(list(evs[0])[:4], ["id", "seq", "type", "occurred_at"])
        self.assertEqual(evs[3]["door_name"], "Warehouse gate")
        self.assertEqual(p.stderr.strip(),
                         "entryfy-audit export: 8 events, last seq 8")
        p = self.ok(run("export", "--db", self.db, "--after-seq", "6",
                        "--no-record"))
        self.assertEqual([e["seq"] for e in jsonl(p.stdout)], [7, 8])
        p = self.ok(run("export", "--db", self.db, "--after-seq", "8",
                        "--no-record"))
        self.assertEqual(p.stdout, "")
        p = self.ok(run("export", "--db", self.db, "-n", "2", "--no-record"))
        self.assertEqual([e["seq"] for e in jsonl(p.stdout)], [1, 2])
        self.assertIn("2 events, last seq 2", p.stderr)

    def test_export_is_recorded_with_the_actor_and_the_real_clock(self):
        db = self.path("exp-rec.db")
        copy_store(self.db, db)
        p = self.ok(run("export", "--db", db, "--actor", "44",
                        now="2001-01-01T00:00:00Z"))
        self.assertEqual(len(jsonl(p.stdout)), 8)
        p = self.ok(run("export", "--db", db, "--after-seq", "8", "-n", "5",
                        "--no-record"))
        (rec,) = jsonl(p.stdout)
        self.assertEqual((rec["seq"], rec["type"], rec["actor"],
                          rec["subject"]), (9, "report_exported", 44, 44))
        self.assertEqual(rec["details"]["events"], 8)
        self.assertEqual(rec["details"]["last_seq"], 8)
        self.assertLess(abs(utc_seconds(rec["recorded_at"]) - time.time()), 300)
        # A limited export is recorded too, with the same details.
        self.ok(run("export", "--db", db, "--after-seq", "2", "-n", "3"))
        p = self.ok(run("export", "--db", db, "--after-seq", "9",
                        "--no-record"))
        (rec,) = jsonl(p.stdout)
        self.assertEqual(rec["type"], "report_exported")
        self.assertEqual((rec["details"]["events"], rec["details"]["after_seq"],
                          rec["details"]["last_seq"]), (3, 2, 5))

    def test_search_jsonl_is_what_export_writes(self):
        exp = {e["id"]: e for e in jsonl(self.ok(run(
            "export", "--db", self.db, "--no-record")).stdout)}
        for e in jsonl(self.ok(run("search", "--db", self.db, "--format",
                                   "jsonl", "--since", "2026-01-01")).stdout):
            x = exp[e["id"]]
            for k in ("seq", "recorded_at", "hash"):
                del x[k]
            self.assertEqual(e, x)

    def test_import_twice_adds_nothing(self):
        p = self.ok(run("import", "--db", self.db, FIXTURE))
        self.assertEqual(p.stdout.strip(),
                         "appended 0, skipped 8, rejected 0, unknown fields 0")

    def test_export_import_round_trip(self):
        exp = self.ok(run("export", "--db", self.db, "--no-record")).stdout
        db2 = self.path("copy.db")
        p = self.ok(run("import", "--db", db2, "--tz", "Europe/Berlin", "-",
                        stdin=exp))
        self.assertIn("appended 8, skipped 0, rejected 0", p.stdout)
        again = jsonl(self.ok(run("export", "--db", db2,
                                  "--no-record")).stdout)
        strip = lambda e: {k: e[k] for k in EVENT_KEYS}
        self.assertEqual([strip(e) for e in again],
                         [strip(e) for e in jsonl(exp)])


class Import(Base):
    def test_bad_lines_are_rejected_by_number(self):
        db = self.path("imp.db")
        lines = [
            '{"type": "door_opened", "occurred_at": "2026-11-03T10:00:00Z", "subject": 5}',
            'not json',
            '{"type": "no_such_type", "occurred_at": "2026-11-03T10:00:00Z", "subject": 5}',
            '',
            '{"type": "door_opened", "occurred_at": "2026-11-03 10:00", "subject": 5}',
            '{"type": "door_opened", "occurred_at": "2026-11-03T10:00:00Z"}',
            '[1, 2]',
            '{"type": "door_opened", "occurred_at": "2026-11-03T11:00:00Z", "subject": 6, "colour": "red", "extra": 1}',
            '{"type": "door_opened", "occurred_at": "2026-11-03T12:00:00Z", "subject": 7, "details": [1]}',
        ]
        text = "\n".join(lines) + "\n"
        p = self.ok(run("import", "--db", db, "-", stdin=text), 1)
        self.assertEqual(p.stdout.strip(),
                         "appended 2, skipped 0, rejected 6, unknown fields 2")
        rejected = [l.split(":")[0] for l in p.stderr.splitlines()]
        self.assertEqual(rejected, ["line 2", "line 3", "line 5", "line 6",
                                    "line 7", "line 9"])
        self.assertIn("no subject", p.stderr.lower())
        # Lines without an id get one from their content: again adds none.
        p = self.ok(run("import", "--db", db, "-", stdin=text), 1)
        self.assertTrue(p.stdout.startswith("appended 0, skipped 2, rejected 6"))

    def test_now_override_never_touches_recorded_at(self):
        db = self.path("rec.db")
        line = '{"type": "door_opened", "occurred_at": "2026-11-03T10:00:00Z", "subject": 5}\n'
        self.ok(run("import", "--db", db, stdin=line,
                    now="2001-01-01T00:00:00Z"))
        (e,) = jsonl(self.ok(run("export", "--db", db,
                                 "--no-record")).stdout)
        self.assertLess(abs(utc_seconds(e["recorded_at"]) - time.time()), 300)

    def test_missing_input_file(self):
        p = self.ok(run("import", "--db", self.path("x.db"),
                        self.path("nope.jsonl")), 3)
        self.assertIn("cannot read", p.stderr)
        self.assertFalse(os.path.exists(self.path("x.db")))

    def test_progress_only_on_a_terminal(self):
        db = self.path("prog.db")
        lines = "".join(
            '{"type": "door_opened", "occurred_at": "2026-11-03T10:%02d:00Z", "subject": %d}\n'
            % (i % 60, i + 1) for i in range(300))
        src = self.path("prog.jsonl")
        with open(src, "w") as f:
            f.write(lines)
        p = run("import", "--db", db, src, env_extra={"ENTRYFY_AUDIT_NO_PROGRESS": ""})
        self.assertNotIn("\r", p.stderr)
        env = dict(os.environ, ENTRYFY_AUDIT_NOW=NOW)
        env.pop("ENTRYFY_AUDIT_NO_PROGRESS", None)
        master, slave = pty.openpty()
        q = subprocess.run([BIN, "export", "--db", db, "-o", os.devnull,
                            "--no-record"],
                           stderr=slave, env=env, timeout=60)
        os.close(slave)
        out = b""
        try:
            while True:
                chunk = os.read(master, 4096)
                if not chunk:
                    break
                out += chunk
        except OSError:
            pass
        os.close(master)
        self.assertEqual(q.returncode, 0)
        self.assertIn(b"export [", out)
        self.assertIn(b"300/300", out)


class TimeWords(Base):
    """Every time word against a fixed now, in Berlin, through `time`."""

    def words(self, now, *exprs):
        p = self.ok(run("time", "--tz", "Europe/Berlin", "--utc", *exprs,
                        now=now))
        return {l.split("\t")[0]: tuple(l.split("\t")[1:])
                for l in p.stdout.splitlines()}

    def test_words_at_a_month_end_after_the_spring_change(self):
        # 2026-03-31 12:00 CEST, a Tuesday; DST began on Sunday 29 March.
        w = self.words("2026-03-31T10:00:00Z", "now", "today", "yesterday",
                       "this-week", "last-week", "this-month", "last-month",
                       "-2h", "-30m", "+1h", "-7d", "-2w", "-1mo", "-1y")
        Z = lambda s: "2026-" + s + "Z"
        self.assertEqual(w["now"], (Z("03-31T10:00:00.000000"),) * 2)
        self.assertEqual(w["today"], (Z("03-30T22:00:00.000000"),
                                      Z("03-31T22:00:00.000000")))
        self.assertEqual(w["yesterday"], (Z("03-29T22:00:00.000000"),
                                          Z("03-30T22:00:00.000000")))
        self.assertEqual(w["this-week"], (Z("03-29T22:00:00.000000"),
                                          Z("04-05T22:00:00.000000")))
        # Last week holds the change: 167 hours.
        self.assertEqual(w["last-week"], (Z("03-22T23:00:00.000000"),
                                          Z("03-29T22:00:00.000000")))
        self.assertEqual(w["this-month"], (Z("02-28T23:00:00.000000"),
                                           Z("03-31T22:00:00.000000")))
        self.assertEqual(w["last-month"], (Z("01-31T23:00:00.000000"),
                                           Z("02-28T23:00:00.000000")))
        self.assertEqual(w["-2h"][0], Z("03-31T08:00:00.000000"))
        self.assertEqual(w["-30m"][0], Z("03-31T09:30:00.000000"))
        self.assertEqual(w["+1h"][0], Z("03-31T11:00:00.000000"))
        # Calendar steps keep 12:00 on the wall clock across the change.
        self.assertEqual(w["-7d"][0], Z("03-24T11:00:00.000000"))
        self.assertEqual(w["-2w"][0], Z("03-17T11:00:00.000000"))
        # 31 March minus a month is clamped to 28 February.
        self.assertEqual(w["-1mo"][0], Z("02-28T11:00:00.000000"))
        self.assertEqual(w["-1y"][0], "2025-03-31T10:00:00.000000Z")

    def test_leap_year_month_end(self):
        w = self.words("2028-03-31T10:00:00Z", "-1mo", "last-month")
        self.assertEqual(w["-1mo"][0], "2028-02-29T11:00:00.000000Z")
        self.assertEqual(w["last-month"], ("2028-01-31T23:00:00.000000Z",
                                           "2028-02-29T23:00:00.000000Z"))

    def test_dates_and_wall_clock_times_around_dst(self):
        w = self.words("2026-11-20T16:30:00Z", "2026-03-29", "2026-10-25",
                       "2026-03-29T02:30", "2026-10-25T02:30",
                       "2026-11-03T14:05", "2026-11-03T14:05:09.5+01:00")
        # The spring day has 23 hours, the autumn day 25.
        self.assertEqual(w["2026-03-29"], ("2026-03-28T23:00:00.000000Z",
                                           "2026-03-29T22:00:00.000000Z"))
        self.assertEqual(w["2026-10-25"], ("2026-10-24T22:00:00.000000Z",
                                           "2026-10-25T23:00:00.000000Z"))
        # In the gap: moved forward by the gap (03:30 CEST).
        self.assertEqual(w["2026-03-29T02:30"][0], "2026-03-29T01:30:00.000000Z")
        # Ambiguous: the earlier instant (02:30 CEST).
        self.assertEqual(w["2026-10-25T02:30"][0], "2026-10-25T00:30:00.000000Z")
        self.assertEqual(w["2026-11-03T14:05"][0], "2026-11-03T13:05:00.000000Z")
        self.assertEqual(w["2026-11-03T14:05:09.5+01:00"][0],
                         "2026-11-03T13:05:09.500000Z")

    def test_this_month_on_the_first_and_last_week_over_the_year_end(self):
        w = self.words("2027-01-01T00:30:00Z", "this-month", "last-week",
                       "yesterday")
        self.assertEqual(w["this-month"], ("2026-12-31T23:00:00.000000Z",
                                           "2027-01-31T23:00:00.000000Z"))
        self.assertEqual(w["last-week"], ("2026-12-20T23:00:00.000000Z",
                                          "2026-12-27T23:00:00.000000Z"))
        self.assertEqual(w["yesterday"], ("2026-12-30T23:00:00.000000Z",
                                          "2026-12-31T23:00:00.000000Z"))

    def test_not_a_time(self):
        p = self.ok(run("time", "--tz", "UTC", "soon"), 2)
        self.assertIn("'soon' is not a time", p.stderr)
        p = self.ok(run("time", "--tz", "Mars/Olympus", "now"), 2)
        self.assertIn("Mars/Olympus", p.stderr)

    def test_bad_now_override(self):
        p = self.ok(run("time", "--tz", "UTC", "now", now="2026-11-03 14:05"), 2)
        self.assertIn("ENTRYFY_AUDIT_NOW", p.stderr)


class Demo(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db = os.path.join(cls.tmp, "demo.db")
        cls.demo = run("demo", "--db", cls.db, "--seed", "7")

    def test_demo_prints_the_default_view(self):
        p = self.ok(self.demo)
        self.assertIn("Default view: Alex Morgan (user 1)", p.stdout)
        self.assertIn("TIME", p.stdout)
        self.assertIn("Alex Morgan (1)", p.stdout)
        self.assertIn("Findings", p.stdout)

    def test_demo_month_is_realistic(self):
        p = self.ok(run("stats", "--db", self.db, "--by", "type",
                        "--format", "csv"))
        counts = {r[2]: int(r[3]) for r in
                  csv.reader(io.StringIO(p.stdout, newline="")) if r[0] == "type"}
        self.assertGreater(counts["Door opened"], 20000)
        self.assertLess(sum(counts.values()), 60000)
        for label in ["Admin area login", "Login from unrecognized device",
                      "Door open attempt failed", "Added to a group",
                      "Removed from a group", "Keycard added",
                      "Keycard failed to add", "Permissions expired",
                      "User updated", "Permissions prolonged"]:
            self.assertIn(label, counts)
        # The abuser: unrecognized-device logins twice a day.
        p = self.ok(run("search", "--db", self.db, "--user", "137",
                        "--type", "login_unrecognized_device",
                        "--since", "-7d", "--format", "jsonl"))
        self.assertGreaterEqual(len(jsonl(p.stdout)), 12)
        # Expired while inside the cleanroom (door 12, check-in to exit).
        p = self.ok(run("search", "--db", self.db, "--user", "121",
                        "--since", "-3d", "--order", "oldest",
                        "--format", "jsonl"))
        evs = jsonl(p.stdout)
        self.assertEqual([e["type"] for e in evs[-2:]],
                         ["door_opened", "permissions_expired"])
        self.assertEqual(evs[-2]["door"], 12)
        self.assertTrue(evs[-2]["details"]["check_in_to_exit"])
        # The failure burst at the warehouse gate.
        p = self.ok(run("search", "--db", self.db, "--door", "7",
                        "--type", "door_open_failed", "--since", "-4d",
                        "--format", "jsonl"))
        self.assertGreaterEqual(len(jsonl(p.stdout)), 9)
        # A rename: found by old and new name.
        for name in ["schmidt", "weber"]:
            p = self.ok(run("users", "--db", self.db, "--prefix", name))
            self.assertIn("Hannah Weber", p.stdout)

    def test_demo_is_deterministic_with_a_seed(self):
        other = self.path("demo2.db")
        self.ok(run("demo", "--db", other, "--seed", "7", "--show", "0"))
        # Each hash links every earlier event, so equal newest events with
        # equal hashes (and equal counts) mean equal months; the ids come
        # from the seeded random source.
        def tail(db):
            last = run("export", "--db", db, "--after-seq", "0", "-n", "1",
                       "--no-record")
            rows = run("stats", "--db", db, "--since", "2000-01-01",
                       "--by", "type", "--format", "csv").stdout.splitlines()
            n = sum(int(r.split(",")[-1]) for r in rows[1:])
            return n, last.stdout, run("export", "--db", db, "--after-seq",
                                       str(n - 200), "--no-record").stdout
        a, b = tail(self.db), tail(other)
        self.assertEqual(a, b)
        # The demo key comes from the seed too.
        with open(self.path("demo.key")) as f, \
                open(self.path("demo2.key")) as g:
            self.assertEqual(f.read(), g.read())
        self.assertEqual(len(jsonl(a[2])), 200)
        self.assertEqual(jsonl(a[2])[-1]["seq"], a[0])

    def test_demo_rules_find_every_planted_incident(self):
        p = self.ok(run("findings", "--db", self.db, "--format", "jsonl"))
        found = sorted((f["rule"], f["key"], f["severity"])
                       for f in jsonl(p.stdout))
        self.assertEqual(found, sorted([
            ("unrecognized_device_abuse", "subject:137", "warning"),
            ("door_failure_burst", "subject:88", "warning"),
            ("door_failure_burst", "door:7", "warning"),
            ("keycard_add_failures", "subject:77", "info"),
            ("admin_new_device_off_hours", "subject:3", "warning"),
            ("expired_while_inside", "subject:121", "critical"),
            ("temporary_privilege", "subject:58", "warning"),
            ("credential_churn", "subject:149", "warning")]))
        # The demo printed them after the default view.
        out = self.demo.stdout
        self.assertLess(out.index("Default view:"), out.index("Findings of"))
        for rule in BUILTIN_RULES:
            self.assertIn(rule, out[out.index("Findings of"):])
        # The trapped user: into the cleanroom, then expired.
        (f,) = jsonl(self.ok(run("findings", "--db", self.db, "--format",
                                 "jsonl", "--severity", "critical")).stdout)
        evs = [e for e in jsonl(self.ok(run(
            "search", "--db", self.db, "--user", "121", "--since", "-3d",
            "--order", "oldest", "--format", "jsonl")).stdout)
            if e["id"] in f["events"]]
        self.assertEqual([(e["type"], e["door"]) for e in evs],
                         [("door_opened", 12), ("permissions_expired", None)])

    def test_demo_writes_both_reports_beside_the_store(self):
        html = os.path.join(self.tmp, "report.html")
        root = ElementTree.parse(html).getroot()
        self.assertIn("Harbour Street HQ", "".join(root.itertext()))
        with open(os.path.join(self.tmp, "report.csv"), newline="",
                  encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        self.assertGreater(len(rows), 20000)
        self.assertIn("report.html", self.demo.stdout)
        self.assertIn("report.csv", self.demo.stdout)
        for name in ("report.html", "report.csv"):
            mode = os.stat(os.path.join(self.tmp, name)).st_mode & 0o777
            self.assertEqual(mode, 0o600, name)
        p = self.ok(run("search", "--db", self.db, "--format", "jsonl",
                        "--type", "report_exported", "--since", "-1mo",
                        "--until", "+1d"))
        self.assertEqual(sorted(e["details"]["format"]
                                for e in jsonl(p.stdout)), ["csv", "html"])

    def test_demo_logins_go_through_device_recognition(self):
        p = self.ok(run("devices", "--db", self.db, "--user", "2",
                        "--format", "jsonl"))
        devs = jsonl(p.stdout)
        self.assertEqual([(d["kind"], d["label"]) for d in devs
                          if d["kind"] == "web"],
                         [("web", "Priya's MacBook (Safari)"),
                          ("web", "Priya's MacBook (Firefox)")])
        self.assertEqual(sum(d["kind"] == "mobile" for d in devs), 1)
        self.assertGreater(devs[1]["times_seen"], 10)
        # Only the unusual console logins are recorded: first entries, the
        # second browser, the new laptop, the 03:10 one.
        p = self.ok(run("search", "--db", self.db, "--type",
                        "admin_area_login", "--since", "-2mo", "--format",
                        "jsonl"))
        got = sorted((e["subject"], e["reason"], e.get("device_name"))
                     for e in jsonl(p.stdout))
        self.assertEqual(got, sorted([
            (1, "first_seen", "Alex's ThinkPad (Firefox)"),
            (2, "first_seen", "Priya's MacBook (Safari)"),
            (3, "first_seen", "Jonas's desktop (Chrome)"),
            (4, "first_seen", "Marta's Surface (Edge)"),
            (2, "new_browser", "Priya's MacBook (Firefox)"),
            (1, "new_hardware", "Alex's new Dell XPS (Chrome)"),
            (3, "new_hardware", "Unknown Windows laptop (Chrome)")]))
        # The abuser's fresh phones are all recorded.
        p = self.ok(run("devices", "--db", self.db, "--user", "137",
                        "--kind", "mobile"))
        self.assertGreaterEqual(p.stdout.count("(unrecognized)"), 2)

    def test_devices_rename_and_forget(self):
        db = self.path("devices.db")
        copy_store(self.db, db)
        devs = jsonl(self.ok(run("devices", "--db", db, "--user", "2",
                                 "--kind", "web", "--format", "jsonl")).stdout)
        first = devs[0]["id"]
        p = self.ok(run("devices", "--db", db, "rename", str(first),
                        "Priya's work MacBook"))
        self.assertEqual(p.stdout, "device %d is now 'Priya's work MacBook'\n"
                         % first)
        p = self.ok(run("devices", "--db", db, "--user", "2", "--kind", "web"))
        self.assertIn("Priya's work MacBook", p.stdout)
        self.assertEqual(len(p.stdout.splitlines()), 3)
        p = self.ok(run("devices", "--db", db, "forget", str(first)))
        self.assertEqual(p.stdout, "forgot device %d\n" % first)
        ids = [d["id"] for d in jsonl(self.ok(run(
            "devices", "--db", db, "--user", "2", "--format",
            "jsonl")).stdout)]
        self.assertNotIn(first, ids)
        self.ok(run("devices", "--db", db, "forget", str(first)), 1)
        # Phones set up before the month and not seen since: gone after 30
        # days; nothing is unseen for 1000.
        p = self.ok(run("devices", "--db", db, "forget-unseen", "--days",
                        "1000"))
        self.assertEqual(p.stdout, "forgot 0 devices unseen for 1000 days\n")
        p = self.ok(run("devices", "--db", db, "forget-unseen", "--days", "30"))
        n = int(p.stdout.split()[1])
        self.assertGreater(n, 150)
        self.ok(run("devices", "--db", db, "--user", "5", "--kind",
                    "mobile"), 1)

    def test_demo_store_is_signed_and_verifies(self):
        key = os.path.join(self.tmp, "demo.key")
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
        with open(key) as f:
            secret = f.read()
        self.assertRegex(secret, r"^[0-9a-f]{64}\n$")
        out = self.demo.stdout
        self.assertNotIn(secret.strip(), out)
        self.assertNotIn(secret.strip(), self.demo.stderr)
        # The last line is the verify command; the key is printed above it.
        last = out.splitlines()[-1].split()
        self.assertEqual(last[:4], ["entryfy-audit", "verify", "--db",
                                    self.db])
        self.assertEqual(last[4], "--public-key")
        pub = last[5]
        self.assertRegex(pub, r"^[0-9a-f]{64}$")
        self.assertIn("  %s\n" % pub, out)
        self.assertIn("The demo key is %s" % key, out)
        p = self.ok(run(*last[1:], "--require-signed-tail"))
        self.assertTrue(p.stdout.startswith("ok: "), p.stdout)
        n = int(re.search(r"Tamper evidence: (\d+) signed checkpoints",
                          out).group(1))
        self.assertGreater(n, 30)
        self.assertIn("checkpoints checked: %d\n" % n, p.stdout)
        # A demo key is not replaced without --fresh, even when the store
        # is gone.
        lone = self.path("lone.key")
        with open(lone, "w") as f:
            f.write("mine\n")
        p = self.ok(run("demo", "--db", self.path("lone.db")), 2)
        self.assertIn("lone.key", p.stderr)
        self.assertFalse(os.path.exists(self.path("lone.db")))
        with open(lone) as f:
            self.assertEqual(f.read(), "mine\n")

    def test_demo_refuses_an_existing_store_without_fresh(self):
        p = self.ok(run("demo", "--db", self.db), 2)
        self.assertIn("--fresh", p.stderr)

    def test_fresh_replaces_only_a_store(self):
        junk = self.path("junk.db")
        with open(junk, "wb") as f:
            f.write(b"precious data, not a store" * 100)
        p = self.ok(run("demo", "--db", junk, "--fresh"), 3)
        self.assertIn("left unchanged", p.stderr)
        with open(junk, "rb") as f:
            self.assertEqual(f.read(), b"precious data, not a store" * 100)

    def test_default_search_equals_user_1_past_month(self):
        a = run("search", "--db", self.db, "--format", "jsonl").stdout
        b = run("search", "--db", self.db, "--format", "jsonl", "--user", "1",
                "--as", "any", "--since", "-1mo", "--until", "now").stdout
        self.assertEqual(a, b)
        self.assertGreater(len(jsonl(a)), 50)
        self.assertEqual(run("log", "--db", self.db, "--format",
                             "jsonl").stdout, a)


def door_failures(subject, door, start_minute, n, step_s=60, first=1,
                  reason="wrong_credential"):
    """n failed attempts, one per step, with ids numbered from first."""
    return ['{"id": "0193f1d2-0000-7000-8000-%012d", "type": "door_open_failed",'
            ' "occurred_at": "2026-11-10T09:%02d:%02dZ", "subject": %d,'
            ' "door": %d, "reason": "%s"}'
            % (first + i, start_minute + (i * step_s) // 60, (i * step_s) % 60,
               subject, door, reason) for i in range(n)]


class Findings(Base):
    """Exact findings the rules open on appended events."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db = os.path.join(cls.tmp, "findings.db")
        lines = (
            # Five failures by user 50 at door 7 in four minutes: a burst.
            door_failures(50, 7, 0, 5, first=1)
            # Four by user 51 at door 8 in ten minutes: not one.
            + door_failures(51, 8, 20, 4, step_s=150, first=11)
            # Two users at door 9: not three distinct.
            + door_failures(52, 9, 40, 1, first=21)
            + door_failures(53, 9, 41, 1, first=22))
        lines.append('{"id": "0193f1d2-0000-7000-8000-000000000031", '
                     '"type": "door_opened", "occurred_at": '
                     '"2026-11-10T10:00:00Z", "subject": 50, "door": 2}')
        p = run("import", "--db", cls.db, "--tz", "Europe/Berlin", "-",
                stdin="\n".join(lines) + "\n")
        assert p.returncode == 0, p.stderr
        p = run("name", "--db", cls.db, "user", "50", "Dana Frost")
        assert p.returncode == 0, p.stderr

    def findings(self, *args, code=0, db=None):
        p = self.ok(run("findings", "--db", db or self.db, "--format",
                        "jsonl", *args), code)
        return jsonl(p.stdout)

    def test_exactly_one_door_failure_burst(self):
        (f,) = self.findings()
        self.assertEqual(list(f), ["id", "rule", "severity", "subject", "key",
                                   "first_at", "last_at", "events", "state"])
        self.assertEqual((f["rule"], f["severity"], f["subject"], f["key"],
                          f["state"]),
                         ("door_failure_burst", "warning", 50, "subject:50",
                          "open"))
        self.assertEqual(f["first_at"], "2026-11-10T09:00:00.000000Z")
        self.assertEqual(f["last_at"], "2026-11-10T09:04:00.000000Z")
        self.assertEqual(f["events"], [fixture_id(i) for i in range(1, 6)])

    def test_table(self):
        p = self.ok(run("findings", "--db", self.db))
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 2)
        self.assertEqual(lines[0].split(), ["ID", "RULE", "SEVERITY", "STATE",
                                            "KEY", "FIRST", "LAST", "EVENTS",
                                            "SUBJECT"])
        self.assertEqual(lines[1].split()[1:5],
                         ["door_failure_burst", "warning", "open",
                          "subject:50"])
        self.assertIn("2026-11-10 10:00:00  2026-11-10 10:04:00", lines[1])
        self.assertTrue(lines[1].endswith("5  Dana Frost (50)"), lines[1])

    def test_filters(self):
        self.assertEqual(len(self.findings("--rule", "door_failure_burst")), 1)
        self.assertEqual(len(self.findings(
            "--rule", "credential_churn,door_failure_burst")), 1)
        self.assertEqual(self.findings("--rule", "credential_churn", code=1), [])
        self.assertEqual(len(self.findings("--severity", "warning")), 1)
        self.assertEqual(self.findings("--severity", "info,critical",
                                       code=1), [])
        self.assertEqual(len(self.findings("--state", "open")), 1)
        self.assertEqual(self.findings("--state", "resolved", code=1), [])
        self.assertEqual(len(self.findings("--user", "Dana")), 1)
        self.assertEqual(self.findings("--user", "51", code=1), [])
        self.assertEqual(len(self.findings("--since", "2026-11-10T10:04",
                                           "--until", "2026-11-11")), 1)
        self.assertEqual(self.findings("--since", "2026-11-10T10:05", code=1),
                         [])
        self.assertEqual(self.findings("--until", "2026-11-10", code=1), [])
        p = self.ok(run("findings", "--db", self.db, "--rule", "nope"), 1)
        self.assertIn("no findings matched", p.stderr)

    def test_ack_then_resolve(self):
        db = self.path("workflow.db")
        copy_store(self.db, db)
        (f,) = self.findings(db=db)
        p = self.ok(run("findings", "--db", db, "ack", f["id"], "--actor", "2"))
        self.assertEqual(p.stdout, "acknowledged %s\n" % f["id"])
        self.assertEqual(self.findings(db=db)[0]["state"], "acknowledged")
        self.assertEqual(len(self.findings("--state", "acknowledged",
                                           db=db)), 1)
        self.ok(run("findings", "--db", db, "resolve", f["id"], "--actor",
                    "2"))
        self.assertEqual(self.findings(db=db)[0]["state"], "resolved")
        # A resolved finding is not acknowledged again.
        p = self.ok(run("findings", "--db", db, "ack", f["id"], "--actor",
                        "2"), 2)
        self.assertIn(f["id"], p.stderr)
        p = self.ok(run("findings", "--db", db, "ack",
                        "0193f1d2-0000-7000-8000-0000000000ff", "--actor",
                        "2"), 1)
        self.assertIn("no finding has the id", p.stderr)

    def test_re_evaluation_finds_the_same(self):
        db = self.path("reeval.db")
        copy_store(self.db, db)
        before = self.findings(db=db)
        p = self.ok(run("rules", "--db", db, "evaluate", "--since-seq", "0"))
        self.assertEqual(p.stdout.split(":")[0],
                         "re-evaluated the events from seq 0")
        self.assertEqual(self.findings(db=db), before)


class Integrity(Base):
    """keygen, checkpoint, verify, purge and backup on the fixture."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db = os.path.join(cls.tmp, "plain.db")
        p = run("import", "--db", cls.db, "--tz", "Europe/Berlin", FIXTURE)
        assert p.returncode == 0, p.stderr
        cls.key = os.path.join(cls.tmp, "audit.key")
        p = run("keygen", "--out", cls.key)
        assert p.returncode == 0, p.stderr
        cls.pub = p.stdout.strip()

    def signed(self, name):
        """A copy of the fixture store with a checkpoint through seq 8."""
        db = self.path(name)
        copy_store(self.db, db)
        p = self.ok(run("checkpoint", "--db", db, "--signing-key", self.key))
        self.assertEqual(p.stdout,
                         "checkpoint 1 signs the events through seq 8\n")
        return db

    def verify(self, db, *args, code=0):
        return self.ok(run("verify", "--db", db, "--public-key", self.pub,
                           *args), code)

    def test_keygen_writes_the_key_files_and_never_prints_the_secret(self):
        self.assertRegex(self.pub, r"^[0-9a-f]{64}$")
        with open(self.key) as f:
            secret = f.read()
        self.assertRegex(secret, r"^[0-9a-f]{64}\n$")
        self.assertNotEqual(secret.strip(), self.pub)
        self.assertEqual(os.stat(self.key).st_mode & 0o777, 0o600)
        with open(self.key + ".pub") as f:
            self.assertEqual(f.read(), self.pub + "\n")
        self.assertEqual(os.stat(self.key + ".pub").st_mode & 0o777, 0o644)
        # Never overwritten.
        p = self.ok(run("keygen", "--out", self.key), 2)
        self.assertIn("already exists", p.stderr)
        self.assertEqual(p.stdout, "")
        with open(self.key) as f:
            self.assertEqual(f.read(), secret)
        # Every new key differs; the secret is on neither output.
        other = self.path("other.key")
        p = self.ok(run("keygen", "--out", other))
        with open(other) as f:
            s2 = f.read().strip()
        self.assertNotEqual(p.stdout.strip(), self.pub)
        self.assertNotIn(s2, p.stdout + p.stderr)

    def test_checkpoint_then_verify(self):
        db = self.path("unsigned.db")
        copy_store(self.db, db)
        # A trusted key and no checkpoint: unsigned, not ok.
        p = self.verify(db, code=4)
        self.assertTrue(p.stdout.startswith("DAMAGE: unsigned at seq 1: "),
                        p.stdout)
        db = self.signed("signed.db")
        p = self.verify(db)
        self.assertEqual(p.stdout.splitlines(), [
            "ok: 8 events and 1 checkpoint signatures verified",
            "events checked:      8",
            "checkpoints checked: 1",
            "signed through seq:  8"])
        self.assertEqual(p.stderr, "")
        # The key from its file; the JSON shape; the flags.
        p = self.ok(run("verify", "--db", db, "--public-key",
                        self.key + ".pub", "--format", "json",
                        "--require-signed-tail", "--skip-derived"))
        self.assertEqual(json.loads(p.stdout), {
            "ok": True, "damage": "none", "first_bad_seq": 0,
            "message": "8 events and 1 checkpoint signatures verified",
            "events": 8, "checkpoints": 1, "signed_through": 8,
            "last_seq": 8, "recorded": False})
        # A new event is not signed yet: a note, or damage on request.
        self.ok(run("import", "--db", db, "-", stdin='{"type": "door_opened", '
                    '"occurred_at": "2026-11-14T10:00:00Z", "subject": 5}\n'))
        p = self.verify(db)
        self.assertIn("not signed yet:      seq 9..9", p.stdout)
        p = self.verify(db, "--require-signed-tail", code=4)
        self.assertTrue(p.stdout.startswith("DAMAGE: unsigned at seq 9: "),
                        p.stdout)
        self.ok(run("checkpoint", "--db", db, "--signing-key", self.key))
        self.verify(db, "--require-signed-tail")

    def test_an_edited_event_is_found_at_its_seq(self):
        db = self.signed("edited.db")
        sql(db, "UPDATE events SET door = 9 WHERE seq = 4")
        p = self.verify(db, code=4)
        self.assertTrue(p.stdout.startswith("DAMAGE: modified at seq 4: "),
                        p.stdout)
        p = self.verify(db, "--format", "json", code=4)
        r = json.loads(p.stdout)
        self.assertEqual((r["ok"], r["damage"], r["first_bad_seq"],
                          r["recorded"]), (False, "modified", 4, False))
        # Without --actor nothing was written; with it, the failure is
        # recorded (chained like any event).
        p = self.ok(run("export", "--db", db, "--after-seq", "8",
                        "--no-record"))
        self.assertEqual(p.stdout, "")
        p = self.verify(db, "--actor", "2", code=4)
        self.assertIn("recorded as a 'verification failed' event", p.stdout)
        (e,) = jsonl(self.ok(run("export", "--db", db, "--after-seq", "8",
                                 "--no-record")).stdout)
        self.assertEqual((e["seq"], e["type"], e["actor"], e["details"]),
                         (9, "verification_failed", 2,
                          {"damage": "modified", "first_bad_seq": 4}))
        # A purge refuses to erase the damaged evidence.
        p = self.ok(run("purge", "--db", db, "--older-than", "2026-12-01",
                        "--actor", "1", "--signing-key", self.key), 4)
        self.assertIn("event 4 does not verify", p.stderr)

    def test_a_wrong_public_key_fails(self):
        db = self.signed("wrongkey.db")
        other = self.path("wrong.key")
        pub = self.ok(run("keygen", "--out", other)).stdout.strip()
        p = self.ok(run("verify", "--db", db, "--public-key", pub), 4)
        self.assertTrue(p.stdout.startswith("DAMAGE: wrong_key at seq 1: "),
                        p.stdout)
        self.assertEqual(p.stderr, "")
        # The signing key given where the public key belongs: told so.
        p = self.ok(run("verify", "--db", db, "--public-key", self.key), 4)
        self.assertIn("was given the signing key", p.stderr)
        with open(self.key) as f:
            self.assertNotIn(f.read().strip(), p.stdout + p.stderr)
        # Another key cannot sign this store.
        p = self.ok(run("checkpoint", "--db", db, "--signing-key", other), 2)
        self.assertIn("not the store's current key", p.stderr)
        self.verify(db)

    def test_truncation_is_found_against_the_exported_checkpoints(self):
        db = self.path("trunc.db")
        with open(FIXTURE, encoding="utf-8") as f:
            lines = f.read().splitlines(True)
        self.ok(run("import", "--db", db, "--tz", "Europe/Berlin", "-",
                    stdin="".join(lines[:6])))
        self.ok(run("checkpoint", "--db", db, "--signing-key", self.key))
        self.ok(run("import", "--db", db, "-", stdin="".join(lines[6:])))
        cp = self.path("trunc.cp")
        p = self.ok(run("checkpoint", "--db", db, "--signing-key", self.key,
                        "--export", cp))
        self.assertEqual(p.stdout.splitlines(), [
            "checkpoint 2 signs the events through seq 8",
            "exported 2 checkpoints to %s (the newest, checkpoint 2, signs "
            "the events through seq 8)" % cp])
        self.assertEqual(os.path.getsize(cp), 2 * 299)
        self.assertEqual(os.stat(cp).st_mode & 0o777, 0o600)
        self.verify(db, "--checkpoint", cp)
        p = self.ok(run("checkpoint", "--db", db, "--export", cp), 2)
        self.assertIn("already exists", p.stderr)
        # Cut the last two events and the checkpoint covering them, and fix
        # the head: the store alone cannot tell.
        sql(db, "DELETE FROM events WHERE seq > 6; UPDATE head SET seq = 6, "
                "hash = (SELECT hash FROM events WHERE seq = 6); "
                "DELETE FROM checkpoints WHERE cseq = 2")
        self.verify(db, "--skip-derived")
        p = self.verify(db, "--skip-derived", "--checkpoint", cp, code=4)
        self.assertTrue(p.stdout.startswith("DAMAGE: truncated at seq 7: "),
                        p.stdout)
        # Not a checkpoint file.
        bad = self.path("bad.cp")
        with open(bad, "wb") as f:
            f.write(b"x" * 300)
        p = self.verify(db, "--checkpoint", bad, code=2)
        self.assertIn("not a checkpoint file", p.stderr)
        p = self.verify(db, "--checkpoint", self.path("none.cp"), code=3)
        self.assertIn("cannot read", p.stderr)

    def test_purge_removes_the_old_prefix_and_the_rest_verifies(self):
        db = self.signed("purge.db")
        # Seqs 1-3 happened on 3 November; seq 4 on the 13th holds back the
        # older 5, 7 and 8 (a purge removes a prefix of seq).
        with open(db, "rb") as f:
            before = f.read()
        p = self.ok(run("purge", "--db", db, "--older-than", "-17d",
                        "--actor", "3", "--dry-run"))
        self.assertEqual(p.stdout, "would purge 3 events (through seq 3), all "
                         "before 2026-11-03 17:30:00; nothing was changed\n")
        p = self.ok(run("purge", "--db", db, "--older-than", "-1y",
                        "--actor", "3", "--dry-run"), 1)
        self.assertEqual(p.stdout, "nothing to purge: seq 1, the oldest event "
                         "left, did not happen before 2025-11-20 17:30:00\n")
        with open(db, "rb") as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(os.path.getsize(db + "-wal")
                         if os.path.exists(db + "-wal") else 0, 0)
        # A signed store needs its key.
        p = self.ok(run("purge", "--db", db, "--older-than", "2026-11-04",
                        "--actor", "3"), 2)
        self.assertIn("--signing-key", p.stderr)
        self.assertEqual(len(jsonl(self.ok(run(
            "export", "--db", db, "--no-record")).stdout)), 8)
        p = self.ok(run("purge", "--db", db, "--older-than", "2026-11-04",
                        "--actor", "3", "--signing-key", self.key,
                        "--batch", "2"))
        self.assertEqual(p.stdout, "purged 3 events (through seq 3), all "
                         "before 2026-11-04 00:00:00; recorded as 'Audit log "
                         "purged' by user 3\n")
        evs = jsonl(self.ok(run("export", "--db", db, "--no-record")).stdout)
        self.assertEqual([e["seq"] for e in evs], [4, 5, 6, 7, 8, 9])
        rec = evs[-1]
        self.assertEqual((rec["type"], rec["actor"], rec["details"]["purged"],
                          rec["details"]["through_seq"]),
                         ("retention_purged", 3, 3, 3))
        # The rest of the chain, the purge record included, is signed.
        p = self.verify(db, "--require-signed-tail")
        self.assertTrue(p.stdout.startswith("ok: 6 events"), p.stdout)
        p = self.ok(run("purge", "--db", db, "--older-than", "2026-11-04",
                        "--actor", "3", "--signing-key", self.key), 1)
        self.assertEqual(p.stdout, "nothing to purge: seq 4, the oldest event "
                         "left, did not happen before 2026-11-04 00:00:00\n")
        self.ok(run("stats", "--db", db, "--since", "2026-11-03", "--until",
                    "2026-11-04"))

    def test_purge_of_an_unsigned_store_needs_no_key(self):
        db = self.path("purge-plain.db")
        copy_store(self.db, db)
        # Everything before December is asked for; the events the rules'
        # longest window (7 days) and the lateness bound (1 day) still read,
        # behind the newest (2026-11-13 14:05), stay.
        p = self.ok(run("purge", "--db", db, "--older-than", "2026-12-01",
                        "--actor", "1"))
        self.assertTrue(p.stdout.startswith(
            "purged 3 events (through seq 3), all before 2026-11-05 14:05:00"),
            p.stdout)
        self.assertIn("limit moved back to 2026-11-05 14:05:00", p.stderr)
        evs = jsonl(self.ok(run("export", "--db", db, "--no-record")).stdout)
        self.assertEqual([e["seq"] for e in evs], [4, 5, 6, 7, 8, 9])
        self.assertEqual(evs[-1]["type"], "retention_purged")

    def test_backup_verifies_on_its_own(self):
        db = self.signed("live.db")
        copy = self.path("backup.db")
        p = self.ok(run("backup", "--db", db, "--to", copy))
        self.assertEqual(p.stdout, "backed up %s to %s\n" % (db, copy))
        self.assertEqual(os.stat(copy).st_mode & 0o777, 0o600)
        p = self.verify(copy, "--require-signed-tail")
        self.assertTrue(p.stdout.startswith("ok: 8 events"), p.stdout)
        self.assertEqual(
            self.ok(run("export", "--db", copy, "--no-record")).stdout,
            self.ok(run("export", "--db", db, "--no-record")).stdout)
        p = self.ok(run("backup", "--db", db, "--to", copy), 2)
        self.assertIn("already exists", p.stderr)


class Reports(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db = os.path.join(cls.tmp, "report.db")
        p = run("import", "--db", cls.db, "--tz", "Europe/Berlin", FIXTURE)
        assert p.returncode == 0, p.stderr
        for kind, i, name in [("user", 42, "=Zoë Quinn"),
                              ("door", 7, "Warehouse gate")]:
            p = run("name", "--db", cls.db, kind, str(i), name)
            assert p.returncode == 0, p.stderr

    def report(self, *args, db=None):
        out = self.path("r.out")
        p = self.ok(run("report", "--db", db or self.db, "-o", out, *args))
        with open(out, encoding="utf-8") as f:
            return f.read(), p

    def test_every_format_parses(self):
        text, p = self.report("--format", "csv", "--user", "42")
        self.assertEqual(p.stderr,
                         "entryfy-audit report: 3 events written to %s\n"
                         % self.path("r.out"))
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        self.assertEqual([r["id"][-1] for r in rows], ["4", "1", "5"])
        # Formula-like cells are neutralised by default.
        self.assertEqual(rows[0]["subject_name"], "'=Zoë Quinn")
        text, _ = self.report("--format", "csv", "--user", "42",
                              "--no-neutralise")
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        self.assertEqual(rows[0]["subject_name"], "=Zoë Quinn")
        text, _ = self.report("--format", "json", "--user", "42")
        doc = json.loads(text)
        # The earlier reports for user 42 are in it too (subject 42).
        self.assertEqual([e["id"][-1] for e in doc["events"]
                          if e["type"] != "report_exported"], ["4", "1", "5"])
        self.assertEqual(sum(e["type"] == "report_exported"
                             for e in doc["events"]), 2)
        text, _ = self.report("--format", "jsonl", "--door", "7")
        self.assertEqual([e["id"] for e in jsonl(text)],
                         [fixture_id(4), fixture_id(2), fixture_id(1)])
        text, _ = self.report("--format", "html", "--since", "2026-11-01")
        ElementTree.fromstring(text.encode("utf-8"))
        self.assertNotIn("<script", text)
        text, _ = self.report("--format", "syslog", "--door", "7")
        self.assertEqual(len(text.splitlines()), 3)
        self.assertTrue(text.startswith("<"))
        text, _ = self.report("--format", "cef", "--door", "7")
        self.assertEqual(len(text.splitlines()), 3)
        self.assertTrue(all(l.startswith("CEF:0|") for l in text.splitlines()))

    def test_default_view_against_now_and_recorded_with_the_real_clock(self):
        db = self.path("rec.db")
        copy_store(self.db, db)
        # NOW is 20 November: the default view (user 1, past month) holds 7.
        text, _ = self.report("--format", "jsonl", "--actor", "43", db=db)
        self.assertEqual([e["id"] for e in jsonl(text)], [fixture_id(7)])
        exp = jsonl(self.ok(run("export", "--db", db, "--after-seq", "8",
                                "--no-record")).stdout)
        self.assertEqual([(e["type"], e["actor"], e["subject"]) for e in exp],
                         [("report_exported", 43, 1)])
        self.assertEqual(exp[0]["details"]["events"], 1)
        self.assertEqual(exp[0]["details"]["format"], "jsonl")
        self.assertLess(abs(utc_seconds(exp[0]["recorded_at"]) - time.time()),
                        300)
        self.assertLess(abs(utc_seconds(exp[0]["occurred_at"]) - time.time()),
                        300)

    def test_progress_bar_only_on_a_terminal(self):
        env = dict(os.environ, ENTRYFY_AUDIT_NOW=NOW)
        env.pop("ENTRYFY_AUDIT_NO_PROGRESS", None)
        master, slave = pty.openpty()
        q = subprocess.run([BIN, "report", "--db", self.db, "--since",
                            "2026-11-01", "-o", os.devnull], stderr=slave,
                           env=env, timeout=60)
        os.close(slave)
        out = b""
        try:
            while True:
                chunk = os.read(master, 4096)
                if not chunk:
                    break
                out += chunk
        except OSError:
            pass
        os.close(master)
        self.assertEqual(q.returncode, 0)
        self.assertIn(b"report [", out)
        p = run("report", "--db", self.db, "-o", os.devnull,
                env_extra={"ENTRYFY_AUDIT_NO_PROGRESS": ""})
        self.assertNotIn("\r", p.stderr)

    def test_to_standard_output(self):
        p = self.ok(run("report", "--db", self.db, "--format", "jsonl",
                        "--door", "3"))
        self.assertEqual([e["id"] for e in jsonl(p.stdout)], [fixture_id(6)])
        self.assertEqual(p.stderr, "entryfy-audit report: 1 events\n")


class Rules(Base):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db = os.path.join(cls.tmp, "rules.db")
        p = run("import", "--db", cls.db, "--tz", "Europe/Berlin", FIXTURE)
        assert p.returncode == 0, p.stderr

    def test_show_defaults_and_active(self):
        p = self.ok(run("rules", "show", "--defaults"))
        doc = json.loads(p.stdout)
        self.assertEqual([r["id"] for r in doc["rules"]], BUILTIN_RULES)
        self.assertEqual(p.stderr, "")
        q = self.ok(run("rules", "--db", self.db))
        self.assertEqual(json.loads(q.stdout), doc)
        self.assertEqual(q.stderr, "entryfy-audit rules: rule set version 0\n")

    def test_load_a_bad_file_prints_the_path_and_changes_nothing(self):
        bad = self.path("bad.json")
        with open(bad, "w") as f:
            f.write('{"rules": [{"id": "credential_churn", "window": "10y"}]}')
        p = self.ok(run("rules", "--db", self.db, "load", bad, "--actor", "1"),
                    2)
        self.assertEqual(p.stderr,
                         "entryfy-audit rules: %s: invalid rule set: "
                         "rules[0].window: '10y' is not a duration (use 90s, "
                         "10m, 24h, 7d or seconds)\n" % bad)
        self.assertEqual(p.stdout, "")
        p = self.ok(run("rules", "--db", self.db, "check", "-",
                        stdin='{"rules": [{"id": "x"'), 2)
        self.assertIn("invalid rule set: rule set: not valid JSON", p.stderr)
        p = self.ok(run("rules", "--db", self.db, "load",
                        self.path("missing.json"), "--actor", "1"), 3)
        self.assertIn("cannot read", p.stderr)
        q = self.ok(run("rules", "--db", self.db))
        self.assertIn("version 0", q.stderr)

    def test_load_records_the_change_and_evaluate_applies_it(self):
        db = self.path("load.db")
        copy_store(self.db, db)
        good = self.path("good.json")
        with open(good, "w") as f:
            f.write('{"rules": [{"id": "acme.door_7_twice", "types": '
                    '["door_opened", "door_open_failed"], "key": "door", '
                    '"window": "1h", "threshold": 2}]}')
        p = self.ok(run("rules", "--db", db, "check", good))
        self.assertEqual(p.stdout, "%s: valid\n" % good)
        p = self.ok(run("rules", "--db", db, "load", good, "--actor", "1"))
        self.assertTrue(p.stdout.startswith(
            "loaded %s: rule set version 1" % good), p.stdout)
        shown = json.loads(self.ok(run("rules", "--db", db)).stdout)
        self.assertEqual(shown["rules"][-1]["id"], "acme.door_7_twice")
        p = self.ok(run("search", "--db", db, "--format", "jsonl",
                        "--type", "rules_changed", "--since", "2000-01-01"))
        (e,) = jsonl(p.stdout)
        self.assertEqual((e["subject"], e["actor"], e["details"]),
                         (1, 1, {"rules_version": 1}))
        # Past events are judged only on request: 1 and 2 at door 7 are
        # 31 s apart (4 is ten days later).
        self.ok(run("findings", "--db", db, "--rule", "acme.door_7_twice"), 1)
        p = self.ok(run("rules", "--db", db, "evaluate", "--since-seq", "0"))
        self.assertIn(": 1 findings", p.stdout)
        p = self.ok(run("findings", "--db", db, "--format", "jsonl",
                        "--rule", "acme.door_7_twice"))
        (f,) = jsonl(p.stdout)
        self.assertEqual((f["key"], f["subject"], f["events"]),
                         ("door:7", None, [fixture_id(1), fixture_id(2)]))


# A server that cannot be there: a socket directory that does not exist.
UNREACHABLE_PG = "postgresql:///x?host=/nonexistent-eaudit-dir"


class Failures(Base):
    COMMANDS = ["search", "log", "report", "export", "findings", "devices",
                "rules", "verify", "purge", "checkpoint", "backup", "stats",
                "users", "ship"]

    def needs(self, c):
        """What a store command needs besides --db to reach the store."""
        return {"verify": ["--public-key", "ab" * 32],
                "purge": ["--older-than", "-1y", "--actor", "1"],
                "checkpoint": ["--export", self.path("never.cp")],
                "backup": ["--to", self.path("never-backup.db")],
                "ship": ["--to", UNREACHABLE_PG]}.get(c, [])

    def test_version_and_help(self):
        p = self.ok(run("--version"))
        self.assertRegex(p.stdout, r"^entryfy-audit \d+\.\d+\.\d+ ")
        p = self.ok(run("--help"))
        for c in ["demo", "search", "report", "import", "export", "findings",
                  "devices", "rules", "verify", "purge", "keygen",
                  "checkpoint", "backup", "stats"]:
            self.assertIn("  " + c, p.stdout)
        for c in self.COMMANDS + ["demo", "import", "name", "time", "keygen"]:
            p = self.ok(run(c, "--help"))
            self.assertTrue(p.stdout.startswith("usage: entryfy-audit"), c)
            self.assertEqual(p.stderr, "")
        self.assertEqual(self.ok(run("help", "search")).stdout,
                         run("search", "-h").stdout)

    def test_man_page_agrees_with_help(self):
        man_path = os.path.join(HERE, "..", "..", "docs", "entryfy-audit.1")
        with open(man_path, encoding="utf-8") as f:
            man = f.read().replace("\\-", "-").replace("\\fB", "") \
                .replace("\\fR", "").replace("\\fI", "")
        for c in self.COMMANDS + ["demo", "import", "name", "time", "keygen"]:
            text = run(c, "--help").stdout
            for flag in set(re.findall(r"--[a-z][a-z-]+", text)):
                self.assertIn(flag, man, "%s %s" % (c, flag))
        for code in ["0", "1", "2", "3", "4"]:
            self.assertIn(".B " + code + "\n", man)

    def test_usage_errors_exit_2_with_a_message(self):
        db = self.path("u.db")
        self.ok(run("import", "--db", db, FIXTURE))
        cases = [
            (), ("frobnicate",), ("search", "--bogus"), ("search", "--user"),
            ("search", "--as", "actor"), ("search", "--user", "1", "--as", "boss"),
            ("search", "--format", "xml"), ("search", "--type", "door_slammed"),
            ("search", "--limit", "-3"), ("search", "--limit", "many"),
            ("search", "--since", "soonish"), ("search", "--until", "2026-13-45"),
            ("search", "--since", "today", "--until", "yesterday"),
            ("search", "--after", "nonsense"), ("search", "--door", "x"),
            ("search", "--order", "random"), ("search", "stray"),
            ("search", "--help=yes"),
            ("stats", "--by", "colour"), ("stats", "--format", "json"),
            ("export", "--after-seq", "-1"), ("export", "--order", "oldest"),
            ("import", "--batch", "0"), ("import", "a", "b"),
            ("users", "--format", "jsonl"),
            ("name", "planet", "1", "Mars"), ("name", "user", "x", "A"),
            ("name", "door", "1", "A", "--role", "admin"), ("name", "user", "1"),
            ("time",),
            ("demo", "--seed", "abc"), ("demo", "--tz", "Nowhere/City"),
            ("report", "--format", "pdf"), ("report", "--actor", "0"),
            ("findings", "--severity", "huge"), ("findings", "--state", "x"),
            ("findings", "--format", "csv"), ("findings", "ack"),
            ("findings", "ack", "0193f1d2-0000-7000-8000-000000000001"),
            ("findings", "resolve", "not-a-uuid", "--actor", "1"),
            ("findings", "--door", "7"), ("findings", "--since", "soon"),
            ("devices", "--kind", "toaster"), ("devices", "forget"),
            ("devices", "forget", "x"), ("devices", "forget-unseen"),
            ("devices", "forget-unseen", "--days", "0"),
            ("devices", "rename", "1", ""), ("devices", "--since", "-1d"),
            ("rules", "load", "x.json"), ("rules", "evaluate"),
            ("rules", "evaluate", "--since-seq", "-1"),
            ("rules", "show", "--actor", "1"),
            ("rules", "explode"), ("verify", "extra"),
            ("report", "--no-neutralise=1"), ("export", "--actor", "0"),
            ("purge",), ("purge", "--older-than", "-90d"),
            ("verify",), ("verify", "--public-key", "abc"),
            ("verify", "--public-key", "ab" * 32, "--format", "csv"),
            ("verify", "--public-key", "ab" * 32, "--actor", "0"),
            ("purge", "--older-than", "-90d", "--actor", "1", "--batch", "0"),
            ("purge", "--older-than", "soonish", "--actor", "1"),
            ("purge", "--older-than", "-90d", "--actor", "1",
             "--signing-key", FIXTURE),
            ("keygen",), ("keygen", "--out", ""), ("keygen", "x", "y"),
            ("checkpoint",), ("checkpoint", "--signing-key", FIXTURE),
            ("backup",), ("backup", "--to", FIXTURE),
            ("ship",), ("ship", "--to", "mysql://localhost/x"),
            ("ship", "--to", UNREACHABLE_PG, "--batch", "0"),
            ("ship", "--to", UNREACHABLE_PG, "stray"),
        ]
        for args in cases:
            full = list(args)
            if args and args[0] in ("search", "stats", "export", "import",
                                    "users", "name", "report", "findings",
                                    "devices", "rules", "verify", "purge",
                                    "checkpoint", "backup", "ship"):
                full[1:1] = ["--db", db]
            if args and args[0] == "demo":
                full[1:1] = ["--db", self.path("never.db")]
            p = run(*full)
            self.assertEqual(p.returncode, 2, "%r: %s" % (args, p.stderr))
            self.assertTrue(p.stderr.startswith("entryfy-audit") or
                            p.stderr.startswith("usage"), (args, p.stderr))
            self.assertEqual(p.stdout, "", args)
        self.assertFalse(os.path.exists(self.path("never.db")))

    def test_ship_to_an_unreachable_server_exits_3(self):
        db = self.path("ship.db")
        self.ok(run("import", "--db", db, FIXTURE))
        p = run("ship", "--from", db, "--to", UNREACHABLE_PG)
        self.assertEqual(p.returncode, 3, p.stderr)
        if "no PostgreSQL support" in p.stderr:
            self.skipTest("the library was built without PostgreSQL")
        self.assertIn("cannot connect", p.stderr)
        self.assertIn("/nonexistent-eaudit-dir", p.stderr)
        self.assertEqual(p.stdout, "")

    def test_missing_store_is_an_error_and_is_not_created(self):
        missing = self.path("typo.db")
        for c in self.COMMANDS:
            p = run(c, "--db", missing, *self.needs(c))
            self.assertEqual(p.returncode, 3, (c, p.stderr))
            self.assertIn("no store at", p.stderr)
        p = run("name", "--db", missing, "user", "1", "A")
        self.assertEqual(p.returncode, 3)
        p = run("search", db_env=missing)
        self.assertEqual(p.returncode, 3)
        self.assertFalse(os.path.exists(missing))

    def test_corrupt_store_is_reported_and_left_unchanged(self):
        bad = self.path("corrupt.db")
        content = b"SQLite format 3\x00" + bytes(range(256)) * 64
        with open(bad, "wb") as f:
            f.write(content)
        for c in self.COMMANDS + ["import"]:
            args = [c, "--db", bad] + self.needs(c)
            p = run(*args, stdin="" if c == "import" else None)
            self.assertEqual(p.returncode, 3, (c, p.stderr))
            self.assertIn("corrupt.db", p.stderr)
        with open(bad, "rb") as f:
            self.assertEqual(f.read(), content)
        self.assertFalse(os.path.exists(bad + "-wal"))
        self.assertFalse(os.path.exists(self.path("never.cp")))
        self.assertFalse(os.path.exists(self.path("never-backup.db")))


class Central(Base):
    """A postgresql:// URI as --db: import appends to the central store's
    own chain and verify counts and checks it. Needs the server of
    EAUDIT_TEST_PG (scripts/pg-cluster.sh) and psql; skipped without them
    unless EAUDIT_REQUIRE_PG=1."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        base = os.environ.get("EAUDIT_TEST_PG")
        why = None
        if not base:
            why = "EAUDIT_TEST_PG is not set"
        elif not shutil.which("psql"):
            why = "psql is not installed"
        if why:
            if os.environ.get("EAUDIT_REQUIRE_PG") == "1":
                raise AssertionError("EAUDIT_REQUIRE_PG=1 but " + why)
            raise unittest.SkipTest(why)
        from urllib.parse import urlsplit, urlunsplit
        cls.base = base
        cls.dbname = "cli_central_%d" % os.getpid()
        cls.psql("DROP DATABASE IF EXISTS %s" % cls.dbname,
                 "CREATE DATABASE %s" % cls.dbname)
        u = urlsplit(base)
        cls.uri = urlunsplit((u.scheme, u.netloc, "/" + cls.dbname, u.query,
                              u.fragment))
        # An empty import creates the central store.
        p = run("import", "--db", cls.uri, "-", stdin="")
        assert p.returncode == 0, p.stderr

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "dbname", None):
            cls.psql("DROP DATABASE IF EXISTS %s WITH (FORCE)" % cls.dbname)
        super().tearDownClass()

    @classmethod
    def psql(cls, *statements, uri=None):
        args = ["psql", uri or cls.base, "-X", "-q", "-A", "-t",
                "-v", "ON_ERROR_STOP=1"]
        for st in statements:
            args += ["-c", st]
        p = subprocess.run(args, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()

    def test_import_appends_and_verify_counts_through_the_uri(self):
        lines = "".join(
            '{"type": "door_opened", "occurred_at": "2026-11-03T1%d:00:00Z",'
            ' "subject": 5, "door": 2}\n' % i for i in range(3))
        p = self.ok(run("import", "--db", self.uri, "-", stdin=lines))
        self.assertEqual(p.stdout.strip(),
                         "appended 3, skipped 0, rejected 0, unknown fields 0")
        # The same lines again: their content ids are stored.
        p = self.ok(run("import", "--db", self.uri, "-", stdin=lines))
        self.assertEqual(p.stdout.strip(),
                         "appended 0, skipped 3, rejected 0, unknown fields 0")
        self.assertEqual(self.psql("SELECT count(*) FROM eaudit.events",
                                   uri=self.uri), "3")
        key = self.path("central.key")
        pub = self.ok(run("keygen", "--out", key)).stdout.strip()
        # A trusted key and no checkpoint: unsigned, as on SQLite.
        p = self.ok(run("verify", "--db", self.uri, "--public-key", pub,
                        "--format", "json"), 4)
        self.assertEqual(json.loads(p.stdout)["damage"], "unsigned")
        p = self.ok(run("checkpoint", "--db", self.uri, "--signing-key", key))
        self.assertEqual(p.stdout,
                         "checkpoint 1 signs the events through seq 3\n")
        p = self.ok(run("verify", "--db", self.uri, "--public-key", pub,
                        "--format", "json"))
        v = json.loads(p.stdout)
        self.assertEqual((v["events"], v["last_seq"], v["checkpoints"],
                          v["signed_through"]), (3, 3, 1, 3))
        # A changed row is found, by seq.
        self.psql("UPDATE eaudit.events SET door = 9 WHERE seq = 2",
                  uri=self.uri)
        p = self.ok(run("verify", "--db", self.uri, "--public-key", pub,
                        "--format", "json"), 4)
        v = json.loads(p.stdout)
        self.assertEqual(v["first_bad_seq"], 2)

    def test_report_and_export_through_the_uri(self):
        lines = "".join(
            '{"type": "door_opened", "occurred_at": "2026-10-0%dT10:00:00Z",'
            ' "subject": 905, "door": 4}\n' % i for i in range(1, 4))
        self.ok(run("import", "--db", self.uri, "-", stdin=lines))
        self.ok(run("name", "--db", self.uri, "door", "4", "=Side door"))
        out = self.path("central-report.csv")
        p = self.ok(run("report", "--db", self.uri, "-o", out, "--format",
                        "csv", "--user", "905", "--actor", "3"))
        self.assertIn("3 events written", p.stderr)
        with open(out, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual([r["occurred_at"][:10] for r in rows],
                         ["2026-10-03", "2026-10-02", "2026-10-01"])
        self.assertEqual(rows[0]["door_name"], "'=Side door")
        # The export is the own chain by seq, from --after-seq on; the
        # report is recorded once, last, on that chain.
        p = self.ok(run("export", "--db", self.uri, "--no-record"))
        evs = jsonl(p.stdout)
        seqs = [e["seq"] for e in evs]
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        (rec,) = [e for e in evs if e["type"] == "report_exported"
                  and e["subject"] == 905]
        self.assertEqual(rec["seq"], seqs[-1])
        self.assertEqual((rec["actor"], rec["details"]["events"]), (3, 3))
        p = self.ok(run("export", "--db", self.uri, "--no-record",
                        "--after-seq", str(seqs[-2])))
        self.assertEqual([e["seq"] for e in jsonl(p.stdout)], [seqs[-1]])
        p = self.ok(run("export", "--db", self.uri, "--no-record",
                        "--after-seq", str(seqs[-4]), "-n", "2"))
        got = jsonl(p.stdout)
        self.assertEqual([e["seq"] for e in got], seqs[-3:-1])
        self.assertEqual(got[0]["door_name"], "=Side door")

    def test_rules_and_findings_work_on_the_central_store(self):
        p = self.ok(run("rules", "--db", self.uri))
        self.assertIn("door_failure_burst", p.stdout)

    def test_name_sets_users_and_roles_through_the_uri(self):
        self.ok(run("name", "--db", self.uri, "user", "77", "Nina Central",
                    "--role", "admin"))
        self.ok(run("name", "--db", self.uri, "door", "5", "Lobby"))
        self.assertEqual(self.psql("SELECT role FROM eaudit.users"
                                   " WHERE id = 77", uri=self.uri), "1")
        p = self.ok(run("users", "--db", self.uri, "--prefix", "nina"))
        self.assertIn("Nina Central", p.stdout)
        self.assertIn("admin", p.stdout)

    def test_devices_through_the_uri(self):
        own = self.psql("SELECT encode(site_id, 'hex') FROM eaudit.sites"
                        " WHERE own", uri=self.uri)
        self.psql("INSERT INTO eaudit.devices(origin, user_id, kind,"
                  " platform, os_family, label, first_seen, last_seen,"
                  " times_seen, seen_day) VALUES (decode('%s', 'hex'), 88, 2,"
                  " 'iPhone', 'iOS', 'Phone', 0, 0, 1, 0)" % own,
                  uri=self.uri)
        dev = self.psql("SELECT id FROM eaudit.devices WHERE user_id = 88",
                        uri=self.uri)
        p = self.ok(run("devices", "--db", self.uri, "--user", "88"))
        self.assertIn("Phone", p.stdout)
        self.ok(run("devices", "--db", self.uri, "rename", dev, "Anna's"))
        self.assertEqual(self.psql("SELECT label FROM eaudit.devices"
                                   " WHERE id = " + dev, uri=self.uri),
                         "Anna's")
        p = self.ok(run("devices", "--db", self.uri, "forget-unseen",
                        "--days", "30"))
        self.assertIn("forgot 1 devices", p.stdout)
        self.ok(run("devices", "--db", self.uri, "forget", dev), 1)

    def test_calls_the_central_store_lacks_say_so(self):
        p = run("backup", "--db", self.uri, "--to", self.path("b.db"))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("PostgreSQL", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=1)
