#!/usr/bin/env python3
"""Build a store, log a week of access-control events and print a report.

    ENTRYFY_AUDIT_LIB=build/libentryfy-audit.so PYTHONPATH=bindings/python \
        python3 bindings/python/examples/week_report.py [store.db [format]]

Without an argument the store lives in memory; the report is CSV unless a
format (json, jsonl, html, syslog, cef) is given. The clock and the random
source are fixed, so every run prints the same report.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import zoneinfo

import entryfy_audit as ea
from entryfy_audit import EventType, NewEvent

ZONE = "Europe/Berlin"
START = dt.datetime(2026, 10, 19, tzinfo=zoneinfo.ZoneInfo(ZONE))  # a Monday
NOW = START + dt.timedelta(days=7)


def week_of_events(rng: random.Random) -> list:
    """A small office: 6 staff, 3 doors, one admin, one suspicious phone."""
    events = []
    for day in range(7):
        morning = START + dt.timedelta(days=day, hours=8)
        if day >= 5:  # the weekend is quiet
            continue
        for user in range(2, 8):
            t = morning + dt.timedelta(minutes=rng.randrange(60))
            events.append(NewEvent(EventType.DOOR_OPENED, occurred_at=t, subject=user,
                                   door=1, credential="keycard", site=1))
            if rng.random() < 0.2:
                events.append(NewEvent(EventType.DOOR_OPEN_FAILED,
                                       occurred_at=t + dt.timedelta(minutes=3),
                                       subject=user, door=3, reason="no_permission",
                                       credential="keycard", site=1))
        # User 5 logs in from a "new" phone twice a day: the abuse pattern.
        for h in (9, 15):
            events.append(NewEvent(EventType.LOGIN_UNRECOGNIZED_DEVICE,
                                   occurred_at=morning + dt.timedelta(hours=h - 8),
                                   subject=5, device=500 + day * 2 + h % 2,
                                   credential="mobile", reason="new_hardware"))
    # The administrator (user 1) changes group membership.
    events.append(NewEvent(EventType.GROUP_ADDED, occurred_at=START + dt.timedelta(days=1, hours=10),
                           subject=4, actor=1, group=20))
    events.append(NewEvent(EventType.GROUP_REMOVED, occurred_at=START + dt.timedelta(days=4, hours=17),
                           subject=4, actor=1, group=20))
    events.append(NewEvent(EventType.PERMISSIONS_EXPIRED, occurred_at=START + dt.timedelta(days=6),
                           subject=7, details={"credentials": ["keycard"]}))
    return events


def main() -> None:
    path = sys.argv[1] if len(sys.argv) > 1 else ":memory:"
    fmt = sys.argv[2] if len(sys.argv) > 2 else "csv"
    rng = random.Random(7)
    with ea.Store.open(path, time_zone=ZONE, clock=lambda: NOW,
                       random=lambda n: rng.randbytes(n)) as store:
        for uid, name in [(1, "Olivia Admin"), (2, "Ada"), (3, "Grace"), (4, "Linus"),
                          (5, "Margaret"), (6, "Dennis"), (7, "Barbara")]:
            store.set_user(uid, name, role="admin" if uid == 1 else "user")
        store.set_name("door", 1, "Main entrance")
        store.set_name("door", 3, "Server room")
        store.set_name("group", 20, "Night shift")
        stored = store.append_many(week_of_events(rng))
        print(f"Logged {len(stored)} events, seq {stored[0].seq}-{stored[-1].seq}.\n")

        # The week's report as CSV on stdout, requested by the administrator
        # (recorded as an "Audit report exported" event by user 1).
        sys.stdout.flush()  # the report goes to the byte stream underneath
        with store.make_query(since=START, until=NOW) as week:
            store.report(week, format=fmt, file=sys.stdout.buffer, actor=1)
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    main()
