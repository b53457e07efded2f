#!/usr/bin/env python3
"""Tests of the entryfy-audit command: every subcommand and flag family,
time words against a fixed now (month ends, DST), bad flags, missing and
corrupt stores, and the exact events --search finds in a fixture.

Run by ctest with ENTRYFY_AUDIT_BIN set to the built program. Standard
library only.
"""
import csv
import io
import json
import os
import pty
import shutil
import subprocess
import tempfile
import time
import unittest

BIN = os.environ.get("ENTRYFY_AUDIT_BIN", "entryfy-audit")
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "fixture.jsonl")
NOW = "2026-11-20T16:30:00Z"
EVENT_KEYS = ["id", "type", "occurred_at", "subject", "actor", "door",
              "group", "device", "credential", "reason", "site", "details"]


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
        p = self.ok(run("export", "--db", self.db))
        evs = jsonl(p.stdout)
        self.assertEqual([e["seq"] for e in evs], list(range(1, 9)))
        self.assertEqual([e["id"] for e in evs],
                         [fixture_id(i) for i in range(1, 9)])
        self.assertIn("last seq 8", p.stderr)
        p = self.ok(run("export", "--db", self.db, "--after-seq", "6"))
        self.assertEqual([e["seq"] for e in jsonl(p.stdout)], [7, 8])
        p = self.ok(run("export", "--db", self.db, "--after-seq", "8"))
        self.assertEqual(p.stdout, "")

    def test_import_twice_adds_nothing(self):
        p = self.ok(run("import", "--db", self.db, FIXTURE))
        self.assertEqual(p.stdout.strip(),
                         "appended 0, skipped 8, rejected 0, unknown fields 0")

    def test_export_import_round_trip(self):
        exp = self.ok(run("export", "--db", self.db)).stdout
        db2 = self.path("copy.db")
        p = self.ok(run("import", "--db", db2, "--tz", "Europe/Berlin", "-",
                        stdin=exp))
        self.assertIn("appended 8, skipped 0, rejected 0", p.stdout)
        again = jsonl(self.ok(run("export", "--db", db2)).stdout)
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
        self.assertEqual(rejected, ["line 2", "line 3", "line 5", "line 7",
                                    "line 9", "line 6"])
        self.assertIn("no subject", p.stderr.lower())
        # Lines without an id get one from their content: again adds none.
        p = self.ok(run("import", "--db", db, "-", stdin=text), 1)
        self.assertTrue(p.stdout.startswith("appended 0, skipped 2, rejected 6"))

    def test_now_override_never_touches_recorded_at(self):
        db = self.path("rec.db")
        line = '{"type": "door_opened", "occurred_at": "2026-11-03T10:00:00Z", "subject": 5}\n'
        self.ok(run("import", "--db", db, stdin=line,
                    now="2001-01-01T00:00:00Z"))
        (e,) = jsonl(self.ok(run("export", "--db", db)).stdout)
        rec = time.mktime(time.strptime(e["recorded_at"][:19],
                                        "%Y-%m-%dT%H:%M:%S")) - time.timezone
        self.assertLess(abs(rec - time.time()), 300)

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
        q = subprocess.run([BIN, "export", "--db", db, "-o", os.devnull],
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
            last = run("export", "--db", db, "--after-seq", "0", "-n", "1")
            rows = run("stats", "--db", db, "--since", "2000-01-01",
                       "--by", "type", "--format", "csv").stdout.splitlines()
            n = sum(int(r.split(",")[-1]) for r in rows[1:])
            return n, last.stdout, run("export", "--db", db, "--after-seq",
                                       str(n - 200)).stdout
        a, b = tail(self.db), tail(other)
        self.assertEqual(a, b)
        self.assertEqual(len(jsonl(a[2])), 200)
        self.assertEqual(jsonl(a[2])[-1]["seq"], a[0])

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


class Failures(Base):
    COMMANDS = ["search", "log", "report", "export", "findings", "devices",
                "rules", "verify", "purge", "stats", "users"]

    def test_version_and_help(self):
        p = self.ok(run("--version"))
        self.assertRegex(p.stdout, r"^entryfy-audit \d+\.\d+\.\d+ ")
        p = self.ok(run("--help"))
        for c in ["demo", "search", "report", "import", "export", "findings",
                  "devices", "rules", "verify", "purge", "stats"]:
            self.assertIn("  " + c, p.stdout)
        for c in self.COMMANDS + ["demo", "import", "name", "time"]:
            p = self.ok(run(c, "--help"))
            self.assertTrue(p.stdout.startswith("usage: entryfy-audit"), c)
            self.assertEqual(p.stderr, "")
        self.assertEqual(self.ok(run("help", "search")).stdout,
                         run("search", "-h").stdout)

    def test_man_page_agrees_with_help(self):
        import re
        man_path = os.path.join(HERE, "..", "..", "docs", "entryfy-audit.1")
        with open(man_path, encoding="utf-8") as f:
            man = f.read().replace("\\-", "-").replace("\\fB", "") \
                .replace("\\fR", "").replace("\\fI", "")
        for c in self.COMMANDS + ["demo", "import", "name", "time"]:
            text = run(c, "--help").stdout
            for flag in set(re.findall(r"--[a-z][a-z-]+", text)):
                self.assertIn(flag, man, "%s %s" % (c, flag))
        for code in ["0", "1", "2", "3"]:
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
            ("devices", "--kind", "toaster"), ("devices", "forget"),
            ("rules", "load", "x.json"), ("rules", "evaluate"),
            ("rules", "explode"), ("verify", "extra"),
            ("purge",), ("purge", "--older-than", "-90d"),
        ]
        for args in cases:
            full = list(args)
            if args and args[0] in ("search", "stats", "export", "import",
                                    "users", "name", "report", "findings",
                                    "devices", "rules", "verify", "purge"):
                full[1:1] = ["--db", db]
            if args and args[0] == "demo":
                full[1:1] = ["--db", self.path("never.db")]
            p = run(*full)
            self.assertEqual(p.returncode, 2, "%r: %s" % (args, p.stderr))
            self.assertTrue(p.stderr.startswith("entryfy-audit") or
                            p.stderr.startswith("usage"), (args, p.stderr))
            self.assertEqual(p.stdout, "", args)
        self.assertFalse(os.path.exists(self.path("never.db")))

    def test_modules_not_in_this_build(self):
        db = self.path("n.db")
        self.ok(run("import", "--db", db, FIXTURE))
        for args in [("report",), ("report", "--format", "html", "-o", "r.html"),
                     ("findings",), ("devices",), ("rules", "show"),
                     ("verify",), ("purge", "--older-than", "-1y", "--actor", "1")]:
            p = run(args[0], "--db", db, *args[1:])
            self.assertEqual(p.returncode, 2, args)
            self.assertIn("not available in this build", p.stderr)

    def test_missing_store_is_an_error_and_is_not_created(self):
        missing = self.path("typo.db")
        for c in self.COMMANDS:
            extra = ["--older-than", "-1y", "--actor", "1"] if c == "purge" else []
            p = run(c, "--db", missing, *extra)
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
            args = [c, "--db", bad]
            if c == "purge":
                args += ["--older-than", "-1y", "--actor", "1"]
            p = run(*args, stdin="" if c == "import" else None)
            self.assertEqual(p.returncode, 3, (c, p.stderr))
            self.assertIn("corrupt.db", p.stderr)
        with open(bad, "rb") as f:
            self.assertEqual(f.read(), content)
        self.assertFalse(os.path.exists(bad + "-wal"))


if __name__ == "__main__":
    unittest.main(verbosity=1)
