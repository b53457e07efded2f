"""Reports written by the library, read back with Python's standard library.

tests/report_tool (built from tests/report_tool.c) writes the fixture's
reports (tests/report_fixture.h) into a directory; these tests read them
with csv, json and xml.etree.ElementTree and compare the values.
Run by ctest with EAUDIT_REPORT_TOOL set to the tool's path.
"""
import csv
import datetime
import json
import os
import subprocess
import tempfile
import unittest
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"
XHTML = "{http://www.w3.org/1999/xhtml}"

# The fixture's names (tests/report_fixture.h).
USER1 = 'Ada, "The" Admin'
USER42_OLD = "=cmd|' /C calc'!A0"
USER42_NEW = "Zo\u00eb \u00dcn\u00efcode \u540d\u524d"
USER7 = "Line\nbreak <script>alert(1)</script>"
DOOR7 = 'North ]]> door & "hall"'
GROUP3 = "@group+plus"
DEVICE5 = "-minus device"
SITE1 = "HQ, Main"
DOOR8 = "".join(chr(ord("a") + i % 26) for i in range(1000))
NEUTRAL = "'"  # the documented prefix (docs/formats.md)
TEXT_COLUMNS = ["type_label", "subject_name", "actor_name", "door_name",
                "group_name", "device_name", "site_name", "details"]


def neutralised(value):
    if value and value[0] in "=+-@":
        return NEUTRAL + value
    return value


class ReportFormats(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tool = os.environ.get("EAUDIT_REPORT_TOOL")
        if not tool:
            raise unittest.SkipTest("EAUDIT_REPORT_TOOL is not set")
        base = os.environ.get("EAUDIT_TEST_TMP") or None
        cls.tmp = tempfile.TemporaryDirectory(dir=base)
        subprocess.run([tool, cls.tmp.name], check=True)
        cls.dir = cls.tmp.name
        with open(os.path.join(cls.dir, "report.json"), encoding="utf-8") as f:
            cls.doc = json.load(f)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def read_csv(self, name):
        with open(os.path.join(self.dir, name), encoding="utf-8",
                  newline="") as f:
            return list(csv.DictReader(f))

    def expected_row(self, ev):
        """The CSV row the JSON event should give, before neutralising."""
        def s(v):
            return "" if v is None else str(v)
        at = datetime.datetime.fromisoformat(ev["occurred_at"])
        details = ev.get("details")
        return {
            "seq": s(ev["seq"]), "id": ev["id"],
            "occurred_at": at.replace(microsecond=0).isoformat(),
            "type": ev["type"], "subject": s(ev["subject"]),
            "subject_name": ev.get("subject_name", ""),
            "actor": s(ev["actor"]), "actor_name": ev.get("actor_name", ""),
            "door": s(ev["door"]), "door_name": ev.get("door_name", ""),
            "group": s(ev["group"]), "group_name": ev.get("group_name", ""),
            "device": s(ev["device"]), "device_name": ev.get("device_name", ""),
            "site": s(ev["site"]), "site_name": ev.get("site_name", ""),
            "credential": s(ev["credential"]), "reason": s(ev["reason"]),
            "details": details,
        }

    def check_csv(self, name, neutral):
        rows = self.read_csv(name)
        events = self.doc["events"]
        self.assertEqual(len(rows), len(events))
        self.assertEqual(len(rows), 9)
        for row, ev in zip(rows, events):
            want = self.expected_row(ev)
            for key, value in want.items():
                if key == "details":
                    got = row["details"]
                    if neutral:
                        got = got  # details start with "{": never prefixed
                    if value is None:
                        self.assertEqual(got, "")
                    else:
                        self.assertEqual(json.loads(got), value)
                    continue
                if neutral and key in TEXT_COLUMNS:
                    value = neutralised(value)
                self.assertEqual(row[key], value, (key, ev["seq"]))

    def test_csv_reads_back_with_the_neutralising_prefix(self):
        self.check_csv("report.csv", True)
        rows = self.read_csv("report.csv")
        by_seq = {r["seq"]: r for r in rows}
        self.assertEqual(by_seq["3"]["subject_name"], NEUTRAL + USER42_OLD)
        self.assertEqual(by_seq["9"]["subject_name"], USER42_NEW)
        self.assertEqual(by_seq["2"]["device_name"], NEUTRAL + DEVICE5)
        self.assertEqual(by_seq["5"]["group_name"], NEUTRAL + GROUP3)

    def test_csv_reads_back_unchanged_without_the_prefix(self):
        self.check_csv("report-raw.csv", False)
        by_seq = {r["seq"]: r for r in self.read_csv("report-raw.csv")}
        self.assertEqual(by_seq["3"]["subject_name"], USER42_OLD)
        self.assertEqual(by_seq["3"]["door_name"], DOOR7)
        self.assertEqual(by_seq["3"]["site_name"], SITE1)
        self.assertEqual(by_seq["4"]["door_name"], DOOR8)
        self.assertEqual(by_seq["6"]["subject_name"], USER7)
        self.assertEqual(by_seq["2"]["subject_name"], USER1)
        self.assertEqual(by_seq["2"]["device_name"], DEVICE5)
        self.assertEqual(by_seq["5"]["group_name"], GROUP3)
        self.assertEqual(json.loads(by_seq["3"]["details"]),
                         {"reader": 'north, "main"\n<b>]]>'})
        self.assertEqual(len(json.loads(by_seq["10"]["details"])["note"]),
                         12000)

    def test_csv_uses_crlf_and_a_header_row(self):
        with open(os.path.join(self.dir, "report.csv"), "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b"seq,id,occurred_at,type,"))
        self.assertTrue(data.endswith(b"\r\n"))

    def test_json_report_holds_summary_and_events(self):
        doc = self.doc
        self.assertEqual(doc["report"]["time_zone"], "Europe/Berlin")
        self.assertEqual(doc["report"]["actor"], 1)
        summary = doc["summary"]
        self.assertEqual(summary["total"], 9)
        by_type = {t["type"]: t["count"] for t in summary["by_type"]}
        self.assertEqual(by_type, {"admin_area_login": 1, "door_opened": 2,
                                   "group_added": 1, "door_open_failed": 1,
                                   "keycard_add_failed": 1,
                                   "permissions_expired": 2,
                                   "user_updated": 1})
        self.assertEqual(sum(d["count"] for d in summary["by_day"]), 9)
        self.assertEqual({u["user"]: (u["name"], u["count"])
                          for u in summary["by_user"]},
                         {1: (USER1, 2), 7: (USER7, 2), 42: (USER42_NEW, 4)})
        self.assertEqual([(u["id"], u["name"]) for u in
                          summary["expired"]["users"]], [(7, USER7)])
        self.assertEqual([(g["id"], g["name"]) for g in
                          summary["expired"]["groups"]], [(3, GROUP3)])
        seqs = [e["seq"] for e in doc["events"]]
        self.assertEqual(seqs, [10, 9, 8, 7, 6, 5, 4, 3, 2])
        ev3 = next(e for e in doc["events"] if e["seq"] == 3)
        self.assertEqual(ev3["occurred_at"], "2026-11-02T08:30:15.123456+01:00")
        self.assertEqual(ev3["subject_name"], USER42_OLD)
        self.assertEqual(ev3["door_name"], DOOR7)
        self.assertEqual(ev3["details"], {"reader": 'north, "main"\n<b>]]>'})

    def test_html_is_well_formed_with_one_bar_group_per_day(self):
        tree = ET.parse(os.path.join(self.dir, "report.html"))
        root = tree.getroot()
        self.assertEqual(root.tag, XHTML + "html")
        svgs = list(root.iter(SVG + "svg"))
        self.assertEqual(len(svgs), 1)
        days = [g.get("data-day") for g in svgs[0].iter(SVG + "g")
                if g.get("class") == "day"]
        self.assertEqual(days, ["2026-11-0%d" % d for d in range(1, 8)])
        legend = [g for g in svgs[0].iter(SVG + "g")
                  if g.get("class") == "legend"]
        self.assertEqual(len(legend), 1)
        self.assertEqual(len(list(legend[0].iter(SVG + "rect"))), 7)
        # No scripts, no external assets.
        self.assertEqual(list(root.iter(XHTML + "script")), [])
        for el in root.iter():
            for attr in ("src", "href"):
                self.assertIsNone(el.get(attr))
        # Escaped text comes back as it was.
        text = "".join(root.itertext())
        self.assertIn(USER7, text)
        self.assertIn(DOOR7, text)
        self.assertIn(USER42_OLD, text)
        # Findings and expired permissions are shown in red.
        tables = [t for t in root.iter(XHTML + "table")
                  if "expired" in (t.get("class") or "")]
        self.assertEqual(len(tables), 1)
        self.assertIn("red", tables[0].get("class"))

    def test_report_jsonl_lines_parse(self):
        with open(os.path.join(self.dir, "report.jsonl"),
                  encoding="utf-8") as f:
            lines = [json.loads(line) for line in f]
        self.assertEqual([e["seq"] for e in lines],
                         [10, 9, 8, 7, 6, 5, 4, 3, 2])
        self.assertTrue(all(e["occurred_at"].endswith("Z") for e in lines))


if __name__ == "__main__":
    unittest.main()
