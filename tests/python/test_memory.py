"""100,000 appends and queries through the binding: no growth in memory,
no crash. The figures are printed to stderr for the record."""

from __future__ import annotations

import datetime as dt
import gc
import os
import sys
import time

import entryfy_audit as ea
from entryfy_audit import NewEvent
from support import T0, TempDirTestCase

TOTAL = 100_000
BATCH = 1_000
SANITIZED = bool(os.environ.get("EAUDIT_TEST_SANITIZED"))


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class MemoryTest(TempDirTestCase):
    def test_100000_appends_and_queries_do_not_grow_memory(self) -> None:
        started = time.monotonic()
        # SQLite's page cache fills up to its bound (cache_size_kib) as the
        # store grows: memory that stops growing, not a leak. A 2 MiB
        # bound is full within the warm-up, so what is measured after it
        # is the library's own.
        with ea.Store.open(self.path(), synchronous="normal",
                           time_zone="Europe/Berlin",
                           cache_size_kib=2048) as store:
            seen = []
            sub = store.subscribe(lambda ev: seen.append(ev.seq) if ev.seq % BATCH == 0 else None)

            def round_(i: int) -> None:
                base = T0 + dt.timedelta(seconds=i * BATCH)
                evs = store.append_many(
                    NewEvent("door_opened" if k % 4 else "door_open_failed",
                             occurred_at=base + dt.timedelta(seconds=k),
                             subject=1 + k % 50, door=k % 7, reason=2 if k % 4 == 0 else 0,
                             details={"k": k})
                    for k in range(BATCH))
                assert evs[-1].seq == (i + 1) * BATCH
                page = list(store.query(user=1 + i % 50, since=base, limit=20, page_size=10))
                assert len(page) == 20, len(page)
                store.counts("type", since=base)
                next(store.query(text="door opened", limit=1))

            warmup = 10
            for i in range(warmup):
                round_(i)
            gc.collect()
            before = rss_bytes()
            for i in range(warmup, TOTAL // BATCH + warmup):
                round_(i)
            gc.collect()
            after = rss_bytes()
            sub.cancel()
            self.assertEqual(len(store), TOTAL + warmup * BATCH)
            self.assertEqual(len(seen), TOTAL // BATCH + warmup)
        growth = after - before
        sys.stderr.write(
            f"\n[memory] {TOTAL} appends in batches of {BATCH}, "
            f"{TOTAL // BATCH} x (page query + counts + search): RSS "
            f"{before / 2**20:.1f} MiB -> {after / 2**20:.1f} MiB "
            f"(growth {growth / 2**20:+.2f} MiB) in "
            f"{time.monotonic() - started:.1f} s{' (sanitized build)' if SANITIZED else ''}\n")
        # A leak of even 100 bytes per event would be 10 MB; the bound leaves
        # room for SQLite's page cache and allocator noise, and more for
        # ASan's quarantine.
        self.assertLess(growth, (48 if SANITIZED else 8) * 2**20)
