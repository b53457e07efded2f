"""A store opened on a postgresql:// URI through the binding: the URI goes
to the library unchanged, appends go to the central store's own chain,
and the length, last seq, id and verification answer as on SQLite. Needs
the server of EAUDIT_TEST_PG (scripts/pg-cluster.sh) and psql to make a
fresh database; skipped without them unless EAUDIT_REQUIRE_PG=1."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import subprocess
import unittest
from urllib.parse import urlsplit, urlunsplit

import entryfy_audit as ea
from support import T0

PG = os.environ.get("EAUDIT_TEST_PG") or None
WHY = ("EAUDIT_TEST_PG is not set (scripts/pg-cluster.sh)" if not PG else
       "psql is not installed" if not shutil.which("psql") else None)
if WHY and os.environ.get("EAUDIT_REQUIRE_PG") == "1":
    raise RuntimeError("EAUDIT_REQUIRE_PG=1 but " + WHY)


def psql(uri: str, *statements: str) -> str:
    args = ["psql", uri, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
    for st in statements:
        args += ["-c", st]
    # psql is not instrumented: keep the sanitizer runtime out of it.
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_PRELOAD", "ASAN_OPTIONS")}
    p = subprocess.run(args, capture_output=True, text=True, timeout=120,
                       env=env)
    if p.returncode != 0:
        raise AssertionError(p.stderr)
    return p.stdout.strip()


@unittest.skipIf(WHY, WHY or "")
class PostgresStore(unittest.TestCase):
    def setUp(self) -> None:
        assert PG is not None
        self.db = "py_pg_store_%d" % os.getpid()
        psql(PG, "DROP DATABASE IF EXISTS %s" % self.db,
             "CREATE DATABASE %s" % self.db)
        u = urlsplit(PG)
        self.uri = urlunsplit((u.scheme, u.netloc, "/" + self.db, u.query,
                               u.fragment))

    def tearDown(self) -> None:
        assert PG is not None
        psql(PG, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.db)

    def test_append_count_and_verify_through_a_uri(self) -> None:
        with ea.Store.open(self.uri, time_zone="Europe/Berlin") as s:
            self.assertEqual(s.path, self.uri)
            self.assertEqual(len(s), 0)
            e = s.append("door_opened", subject=7, door=2, occurred_at=T0)
            self.assertEqual(e.seq, 1)
            s.append_many({"type": "door_opened", "subject": 7, "door": 3,
                           "occurred_at": T0 + dt.timedelta(minutes=i)}
                          for i in range(9))
            self.assertEqual(len(s), 10)
            self.assertEqual(s.last_seq, 10)
            self.assertEqual(s.time_zone, "Europe/Berlin")
            own = s.id
            r = s.verify(None, record=False)
            self.assertTrue(r.ok)
            self.assertEqual(r.events, 10)
        # The own chain verifies like a shipped site's.
        self.assertEqual(ea.central_verify_site(self.uri, own), 10)
        with ea.Store.open(self.uri, read_only=True) as s:
            self.assertEqual((len(s), s.last_seq, s.id), (10, 10, own))
            with self.assertRaises(ea.ReadOnlyError):
                s.append("door_opened", subject=7, door=2, occurred_at=T0)
            with self.assertRaises(ea.ReadOnlyError):
                s.register_type(1000, "lift_called", "Lift called")

    def test_report_and_export_through_a_uri(self) -> None:
        with ea.Store.open(self.uri, time_zone="Europe/Berlin") as s:
            s.set_name("door", 2, "Lobby")
            s.append_many({"type": "door_opened", "subject": 7, "door": 2,
                           "occurred_at": T0 + dt.timedelta(minutes=i)}
                          for i in range(3))
            buf = io.BytesIO()
            s.report(s.query(user=7), format="json", file=buf, actor=5)
            doc = json.loads(buf.getvalue())
            self.assertEqual(doc["summary"]["total"], 3)
            self.assertEqual([e["seq"] for e in doc["events"]], [3, 2, 1])
            self.assertEqual(doc["events"][0]["door_name"], "Lobby")
            self.assertEqual(s.last_seq, 4)  # the report_exported event
            buf = io.BytesIO()
            self.assertEqual(s.export(buf, after_seq=2, record=False), 4)
            lines = [json.loads(x) for x in buf.getvalue().splitlines()]
            self.assertEqual([e["seq"] for e in lines], [3, 4])
            self.assertEqual((lines[1]["type"], lines[1]["actor"]),
                             ("report_exported", 5))
            with self.assertRaises(ea.UnsupportedError):
                s.export(io.BytesIO(), format="html", record=False)
            self.assertEqual(s.last_seq, 4)

    def test_missing_store_without_create(self) -> None:
        with self.assertRaises(ea.NotFoundError):
            ea.Store.open(self.uri, create=False)


if __name__ == "__main__":
    unittest.main()
