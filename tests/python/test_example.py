"""The example script runs and prints the same report every time."""

from __future__ import annotations

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
        self.assertTrue(out.startswith("Logged 53 events, seq 1-53.\n"), out)
        self.assertIn("Expired users:\n     7  Barbara\n", out)
        self.assertIn("    10  Login from unrecognized device\n", out)
        self.assertIn("  2026-10-25 00:00:00  #53   Permissions expired: Barbara\n", out)
