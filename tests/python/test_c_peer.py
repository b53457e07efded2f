"""The same store opened from Python and from C in one process.

The C side is tests/python/c_peer.c, a shared object compiled against
<eaudit.h> and linked to libentryfy-audit by SONAME, as any C program is.
ctest passes its path in $ENTRYFY_AUDIT_TEST_PEER. It is loaded into this
process, so the dynamic linker binds it to the libentryfy-audit the binding
already loaded (the test checks they are the very same functions); both
sides then open their own handles on one store file and each reads what the
other wrote. The binding is not used to drive the C side: the peer's
functions do their own opening, appending and querying in C.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import os
import unittest
import uuid

import entryfy_audit as ea
from entryfy_audit import _ffi
from support import T0, UTC, TempDirTestCase

PEER = os.environ.get("ENTRYFY_AUDIT_TEST_PEER")


def us(t: dt.datetime) -> int:
    return (t - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1)


@unittest.skipUnless(PEER, "ENTRYFY_AUDIT_TEST_PEER is not set (run through ctest)")
class CPeerTest(TempDirTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        peer = ctypes.CDLL(PEER)
        peer.peer_library_symbol.restype = ctypes.c_void_p
        peer.peer_append.restype = ctypes.c_int64
        peer.peer_append.argtypes = [ctypes.c_char_p, ctypes.c_int64,
                                     ctypes.c_int64, ctypes.c_int64, ctypes.c_int]
        peer.peer_read.restype = ctypes.c_int
        peer.peer_read.argtypes = [ctypes.c_char_p, ctypes.c_int64,
                                   ctypes.POINTER(ctypes.c_int64),
                                   ctypes.POINTER(ctypes.c_int64),
                                   ctypes.POINTER(ctypes.c_uint8), ctypes.c_size_t]
        cls.peer = peer

    def test_peer_uses_the_library_the_binding_loaded(self) -> None:
        ours = ctypes.cast(_ffi.lib.eaudit_store_open, ctypes.c_void_p).value
        self.assertEqual(self.peer.peer_library_symbol(), ours)

    def c_read(self, path: str, user: int):  # type: ignore[no-untyped-def]
        cap = 64
        seqs = (ctypes.c_int64 * cap)()
        types = (ctypes.c_int64 * cap)()
        ids = (ctypes.c_uint8 * (16 * cap))()
        n = self.peer.peer_read(path.encode(), user, seqs, types, ids, cap)
        self.assertGreaterEqual(n, 0)
        raw = bytes(ids)
        return [(seqs[i], types[i], uuid.UUID(bytes=raw[16 * i:16 * i + 16]))
                for i in range(n)]

    def test_python_and_c_see_the_same_events(self) -> None:
        path = self.path()
        with ea.Store.open(path, time_zone="Europe/Berlin") as store:
            mine = store.append_many(
                [{"type": "door_opened", "subject": 42, "door": 7, "occurred_at": T0},
                 {"type": "door_open_failed", "subject": 42, "door": 8,
                  "reason": "outside_schedule", "occurred_at": T0 + dt.timedelta(seconds=5)}])
            # C writes through its own handle while the Python one is open.
            last = self.peer.peer_append(path.encode(), 42, 9,
                                         us(T0 + dt.timedelta(minutes=1)), 3)
            self.assertEqual(last, 5)
            # Python sees what C wrote.
            evs = list(store.query(user=42, order="oldest_first"))
            self.assertEqual([e.seq for e in evs], [1, 2, 3, 4, 5])
            self.assertEqual([e.door for e in evs], [7, 8, 9, 9, 9])
            self.assertEqual(evs[2].occurred_at, T0 + dt.timedelta(minutes=1))
            self.assertEqual(evs[4].occurred_at, T0 + dt.timedelta(minutes=1, seconds=2))
            self.assertEqual(len(store), 5)
            self.assertEqual(store.last_seq, 5)
            self.assertEqual([e.seq for e in store.tail(2)], [3, 4, 5])
            # C sees what Python wrote, with the same ids.
            c_side = self.c_read(path, 42)
            self.assertEqual([(s, t, i) for s, t, i in c_side],
                             [(e.seq, int(e.type), e.id) for e in evs])
            self.assertEqual(c_side[0][2], mine[0].id)
            # And Python's next append follows C's seq.
            self.assertEqual(store.append("door_opened", subject=42).seq, 6)
        self.assertEqual(len(self.c_read(path, 42)), 6)

    def test_c_errors_are_codes_python_knows(self) -> None:
        rc = self.peer.peer_append(self.path("missing-dir/x.db").encode(), 1, 1, 0, 1)
        self.assertEqual(rc, ea.StoreIOError.code)
