"""Shipping through the binding (<eaudit/ship.h>). The argument checks run
everywhere; shipping itself needs the server of EAUDIT_TEST_PG
(scripts/pg-cluster.sh) and is skipped without it. Each test ships a fresh
site store (a new random store id) into that server's default database,
so runs side by side do not meet."""

from __future__ import annotations

import datetime as dt
import os
import unittest

import entryfy_audit as ea
from entryfy_audit import ship as shipmod
from support import T0, TempDirTestCase

PG = os.environ.get("EAUDIT_TEST_PG") or None
UNREACHABLE = "postgresql:///x?host=/nonexistent-eaudit-dir"


class ShipArguments(TempDirTestCase):
    def test_declared_functions(self) -> None:
        self.assertEqual({row.name for row in shipmod.FUNCTIONS},
                         {"eaudit_central_init", "eaudit_store_ship",
                          "eaudit_central_verify_site"})

    def test_bad_uri_and_unreachable_server(self) -> None:
        with ea.Store.open(self.path()) as s:
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


@unittest.skipUnless(PG, "EAUDIT_TEST_PG is not set (scripts/pg-cluster.sh)")
class ShipToServer(TempDirTestCase):
    def test_ship_twice_and_verify(self) -> None:
        assert PG is not None
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
        assert PG is not None
        ea.central_init(PG)
        with self.assertRaises(ea.NotFoundError):
            ea.central_verify_site(PG, bytes(16))


if __name__ == "__main__":
    unittest.main()
