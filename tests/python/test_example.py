"""The example script runs and prints the same report every time."""

from __future__ import annotations

import collections
import csv
import io
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "bindings", "python", "examples",
                       "week_report.py")


class ExampleTest(unittest.TestCase):
    def test_week_report_example(self) -> None:
        runs = [subprocess.run([sys.executable, EXAMPLE], capture_output=True,
                               text=True, timeout=60) for _ in range(2)]
        for r in runs:
            self.assertEqual(r.returncode, 0, r.stderr)
        out = runs[0].stdout
        self.assertEqual(out, runs[1].stdout)  # fixed clock and randomness
        head, sep, report = out.partition("\n\n")
        self.assertEqual(head, "Logged 53 events, seq 1-53.")
        # The library's CSV report of the week, newest first.
        rows = list(csv.DictReader(io.StringIO(report, newline="")))
        self.assertEqual(sorted(int(r["seq"]) for r in rows),
                         list(range(1, 54)))
        times = [r["occurred_at"] for r in rows]
        self.assertEqual(times, sorted(times, reverse=True))
        last = rows[0]
        self.assertEqual(
            (last["occurred_at"], last["type"], last["subject_name"],
             json.loads(last["details"])),
            ("2026-10-25T00:00:00+02:00", "permissions_expired", "Barbara",
             {"credentials": ["keycard"]}))
        kinds = collections.Counter(r["type"] for r in rows)
        self.assertEqual(kinds["login_unrecognized_device"], 10)
        self.assertEqual(kinds["door_opened"], 30)
        removed = rows[1]
        self.assertEqual((removed["actor_name"], removed["group_name"]),
                         ("Olivia Admin", "Night shift"))
