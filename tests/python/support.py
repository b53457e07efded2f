"""Helpers shared by the Python binding tests."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import unittest

UTC = dt.timezone.utc
#: A fixed instant every test clock starts from: 2026-11-03T14:05:09.123456Z.
T0 = dt.datetime(2026, 11, 3, 14, 5, 9, 123456, tzinfo=UTC)


class Clock:
    """A settable clock for Store.open(clock=...)."""

    def __init__(self, start: dt.datetime = T0) -> None:
        self.now = start
        self.calls = 0

    def __call__(self) -> dt.datetime:
        self.calls += 1
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += dt.timedelta(**kw)


class CountingRandom:
    """A deterministic random source: bytes 0, 1, 2, ... modulo 256."""

    def __init__(self) -> None:
        self.next = 0

    def __call__(self, n: int) -> bytes:
        out = bytes((self.next + i) % 256 for i in range(n))
        self.next += n
        return out


class TempDirTestCase(unittest.TestCase):
    """Gives each test a fresh directory under $EAUDIT_TEST_TMP (or /tmp)."""

    def setUp(self) -> None:
        base = os.environ.get("EAUDIT_TEST_TMP") or None
        self._tmp = tempfile.TemporaryDirectory(prefix="eaudit-py-", dir=base)
        self.tmp = self._tmp.name

    def tearDown(self) -> None:
        self._tmp.cleanup()

    def path(self, name: str = "audit.db") -> str:
        return os.path.join(self.tmp, name)
