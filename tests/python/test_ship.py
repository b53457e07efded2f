"""Shipping through the binding (<eaudit/ship.h>). The argument checks run
everywhere; shipping itself needs the server of EAUDIT_TEST_PG
(scripts/pg-cluster.sh) and is skipped without it. Each test ships a fresh
site store into a database of its own on that server (created and dropped
with psql), so that runs side by side, and branches with other central
schema versions, do not meet."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import unittest
from urllib.parse import urlsplit, urlunsplit

import entryfy_audit as ea
from entryfy_audit import ship as shipmod
from support import T0, TempDirTestCase

PG = os.environ.get("EAUDIT_TEST_PG") or None
UNREACHABLE = "postgresql:///x?host=/nonexistent-eaudit-dir"


class ShipArguments(TempDirTestCase):
    def test_declared_functions(self) -> None:
        self.assertEqual({row.name for row in shipmod.FUNCTIONS},
                         {"eaudit_central_init", "eaudit_store_ship",
                          "eaudit_central_verify_site",
                          "eaudit_central_verify_site_signed"})

    def test_bad_uri_and_unreachable_server(self) -> None:
        with ea.Store.open(self.path()) as s:
            try:
                s.ship(UNREACHABLE)
            except ea.UnsupportedError:
                self.skipTest("the library was built without PostgreSQL")
            except ea.StoreIOError:
                pass
            with self.assertRaises(ea.InvalidArgumentError):
                s.ship("mysql://localhost/x")
            with self.assertRaises(TypeError):
                s.ship(b"postgresql:///x")  # type: ignore[arg-type]
            with self.assertRaises(ea.StoreIOError) as cm:
                s.ship(UNREACHABLE)
            self.assertIn("cannot connect", str(cm.exception))
            self.assertEqual(cm.exception.shipped, 0)  # type: ignore
        with self.assertRaises(ea.StoreIOError):
            ea.central_init(UNREACHABLE)
        with self.assertRaises(ValueError):
            ea.central_verify_site(UNREACHABLE, b"short")


def psql(uri: str, *statements: str) -> None:
    args = ["psql", uri, "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    for st in statements:
        args += ["-c", st]
    # psql is not instrumented: keep the sanitizer runtime out of it.
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_PRELOAD", "ASAN_OPTIONS")}
    p = subprocess.run(args, capture_output=True, text=True, timeout=120,
                       env=env)
    if p.returncode != 0:
        raise AssertionError(p.stderr)


@unittest.skipUnless(PG and shutil.which("psql"),
                     "EAUDIT_TEST_PG is not set (scripts/pg-cluster.sh) or "
                     "psql is missing")
class ShipToServer(TempDirTestCase):
    def setUp(self) -> None:
        super().setUp()
        assert PG is not None
        self.db = "py_ship_%d" % os.getpid()
        psql(PG, "DROP DATABASE IF EXISTS %s" % self.db,
             "CREATE DATABASE %s" % self.db)
        u = urlsplit(PG)
        self.uri = urlunsplit((u.scheme, u.netloc, "/" + self.db, u.query,
                               u.fragment))

    def tearDown(self) -> None:
        assert PG is not None
        psql(PG, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.db)
        super().tearDown()

    def test_signed_site_verifies_with_its_key(self) -> None:
        PG = self.uri
        seed, pub = ea.generate_keypair()
        _, other = ea.generate_keypair()
        with ea.Store.open(self.path()) as s:
            s.set_signing_key(seed)
            s.append_many({"type": "door_opened", "subject": 7, "door": 2,
                           "occurred_at": T0 + dt.timedelta(minutes=i)}
                          for i in range(10))
            self.assertEqual(s.ship(PG), 10)
            r = ea.central_verify_site_signed(PG, s.id, pub)
            self.assertTrue(r.ok)
            self.assertEqual((r.events, r.checkpoints, r.signed_through),
                             (10, 1, 10))
            with self.assertRaises(ea.WrongKeyError) as cm:
                ea.central_verify_site_signed(PG, s.id, other)
            self.assertEqual(cm.exception.result.damage, ea.Damage.WRONG_KEY)
            with self.assertRaises(ea.InvalidKeyError):
                ea.central_verify_site_signed(PG, s.id, b"short")

    def test_ship_twice_and_verify(self) -> None:
        PG = self.uri
        ea.central_init(PG)
        with ea.Store.open(self.path()) as s:
            s.append_many({"type": "door_opened", "subject": 7, "door": 2,
                           "occurred_at": T0 + dt.timedelta(minutes=i)}
                          for i in range(40))
            self.assertEqual(s.ship(PG, batch_size=16), 40)
            self.assertEqual(s.ship(PG), 0)
            self.assertEqual(ea.central_verify_site(PG, s.id), 40)
            s.append("door_opened", subject=8, door=3)
            self.assertEqual(s.ship(PG), 1)
            self.assertEqual(ea.central_verify_site(PG, s.id), 41)

    def test_unknown_site(self) -> None:
        PG = self.uri
        ea.central_init(PG)
        with self.assertRaises(ea.NotFoundError):
            ea.central_verify_site(PG, bytes(16))
        with self.assertRaises(ea.NotFoundError):
            ea.central_verify_site_signed(PG, bytes(16), None)


if __name__ == "__main__":
    unittest.main()
