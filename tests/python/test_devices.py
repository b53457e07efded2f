"""Device recognition through the binding: the login calls and what they
record, observations, the devices list, renaming, forgetting, options and
bad arguments."""

from __future__ import annotations

import ctypes
import datetime as dt
import os
import re

import entryfy_audit as ea
from entryfy_audit import (DeviceAttr, DeviceDecision, DeviceKind,
                           DeviceResult, EventType, Reason, _ffi)
from entryfy_audit import devices as devmod
from support import T0, Clock, CountingRandom, TempDirTestCase

HEADER = os.path.join(os.path.dirname(__file__), "..", "..", "include",
                      "eaudit", "device.h")

#: An administrator's laptop, every attribute but the model: the weights
#: known on both sides total 730 (docs/devices.md, worked examples).
LAPTOP = dict(platform="Windows", os_family="Windows", os_version="10.0",
              browser_family="Chrome", browser_version="120.0.6099.130",
              screen="2560x1440", time_zone="Europe/Berlin", language="de-DE",
              ip="203.0.113.24")
#: A phone with the app; weights total 900 (no IP).
PHONE = dict(key="6D1F0B7E-install-1", platform="iPhone", os_family="iOS",
             os_version="17.2.1", browser_family="Entryfy",
             browser_version="3.1.0", model="iPhone15,2", screen="1179x2556",
             time_zone="Europe/Berlin", language="de-DE")


class DeviceTestCase(TempDirTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.clock = Clock()
        self.s = ea.Store.memory(clock=self.clock, random=CountingRandom(),
                                 time_zone="Europe/Berlin")

    def tearDown(self) -> None:
        self.s.close()
        super().tearDown()


class LoginTest(DeviceTestCase):
    def test_first_admin_login_records_admin_area_login(self) -> None:
        r = self.s.admin_login(42, site=3, key="cookie-1", **LAPTOP)
        self.assertIsInstance(r, DeviceResult)
        self.assertIs(r.decision, DeviceDecision.NEW)
        self.assertIs(r.reason, Reason.FIRST_SEEN)
        self.assertEqual(r.score, 0.0)
        self.assertTrue(r.record)
        self.assertEqual(r.seq, 1)
        self.assertTrue(r.recorded)
        self.assertGreater(r.device, 0)
        with self.assertRaises(AttributeError):
            r.seq = 2  # type: ignore[misc]  # frozen
        [ev] = list(self.s.query(user=42))
        self.assertIs(ev.type, EventType.ADMIN_AREA_LOGIN)
        self.assertEqual((ev.seq, ev.subject, ev.actor, ev.device, ev.site),
                         (1, 42, 42, r.device, 3))
        self.assertIs(ev.reason, Reason.FIRST_SEEN)
        self.assertEqual(ev.occurred_at, T0)  # `at` defaults to the store's clock

    def test_same_browser_on_a_new_network_is_known_and_not_recorded(self) -> None:
        first = self.s.admin_login(42, **LAPTOP)
        self.clock.advance(hours=3)
        moved = dict(LAPTOP, ip="198.51.100.7", time_zone="America/New_York")
        r = self.s.admin_login(42, **moved)
        self.assertEqual(r, DeviceResult(DeviceDecision.KNOWN, Reason.NONE,
                                         r.score, first.device, False, None))
        self.assertAlmostEqual(r.score, 650 / 730, places=9)
        self.assertFalse(r.recorded)
        self.assertEqual(len(self.s), 1)
        self.assertEqual(self.s.last_seq, 1)

    def test_browser_update_is_known_and_new_browser_is_recorded(self) -> None:
        first = self.s.admin_login(42, **LAPTOP)
        upd = self.s.admin_login(42, **dict(LAPTOP, browser_version="121.0.1"))
        self.assertEqual((upd.decision, upd.reason, upd.device, upd.seq),
                         (DeviceDecision.KNOWN, Reason.BROWSER_UPDATED,
                          first.device, None))
        self.assertAlmostEqual(upd.score, 705 / 730, places=9)
        ff = self.s.admin_login(42, **dict(LAPTOP, browser_family="Firefox",
                                           browser_version="121.0"))
        self.assertEqual((ff.decision, ff.reason, ff.record, ff.seq),
                         (DeviceDecision.NEW, Reason.NEW_BROWSER, True, 2))
        self.assertNotEqual(ff.device, first.device)

    def test_mobile_os_update_is_changed_and_recorded_as_os_updated(self) -> None:
        first = self.s.mobile_login(7, **PHONE)
        self.assertEqual((first.decision, first.reason, first.seq),
                         (DeviceDecision.NEW, Reason.FIRST_SEEN, 1))
        self.clock.advance(days=2)
        at = T0 + dt.timedelta(days=1)
        r = self.s.mobile_login(7, at=at, **dict(PHONE, os_version="17.3"))
        self.assertIs(r.decision, DeviceDecision.CHANGED)
        self.assertIs(r.reason, Reason.OS_UPDATED)
        self.assertEqual((r.device, r.record, r.seq), (first.device, True, 2))
        self.assertAlmostEqual(r.score, 875 / 900, places=9)
        evs = list(self.s.query(user=7, order="oldest_first"))
        self.assertEqual([e.type for e in evs],
                         [EventType.LOGIN_UNRECOGNIZED_DEVICE] * 2)
        self.assertEqual([e.reason for e in evs],
                         [Reason.FIRST_SEEN, Reason.OS_UPDATED])
        self.assertEqual([e.credential for e in evs], [ea.Credential.MOBILE] * 2)
        self.assertEqual(evs[1].occurred_at, at)
        self.assertEqual(evs[1].device, first.device)
        # The same phone again: known, nothing recorded.
        again = self.s.mobile_login(7, **dict(PHONE, os_version="17.3"))
        self.assertEqual((again.decision, again.reason, again.seq),
                         (DeviceDecision.KNOWN, Reason.NONE, None))
        self.assertEqual(again.score, 1.0)

    def test_subscribers_see_login_events(self) -> None:
        seen = []
        with self.s.subscribe(lambda ev: seen.append((ev.seq, ev.type))):
            self.s.admin_login(1, **LAPTOP)
            self.s.admin_login(1, **LAPTOP)  # known: no event
            self.s.mobile_login(1, **PHONE)
        self.assertEqual(seen, [(1, EventType.ADMIN_AREA_LOGIN),
                                (2, EventType.LOGIN_UNRECOGNIZED_DEVICE)])


class ObserveTest(DeviceTestCase):
    def test_observe_learns_without_appending(self) -> None:
        r = self.s.observe_device(5, "admin_web", **LAPTOP)
        self.assertEqual((r.decision, r.reason, r.record, r.seq),
                         (DeviceDecision.NEW, Reason.FIRST_SEEN, True, None))
        self.assertEqual(len(self.s), 0)
        again = self.s.observe_device(5, DeviceKind.ADMIN_WEB, **LAPTOP)
        self.assertEqual((again.decision, again.device, again.record),
                         (DeviceDecision.KNOWN, r.device, False))
        # Kinds are separate: the same attributes as a phone are new there.
        phone = self.s.observe_device(5, 2, **LAPTOP)
        self.assertEqual((phone.decision, phone.reason),
                         (DeviceDecision.NEW, Reason.FIRST_SEEN))
        self.assertEqual(len(self.s), 0)

    def test_a_matching_key_dominates_the_attributes(self) -> None:
        r = self.s.observe_device(5, "mobile", **PHONE)
        moved = dict(PHONE, time_zone="Asia/Tokyo", language="ja-JP",
                     screen=None, browser_version="3.2.0")
        again = self.s.observe_device(5, "mobile", **moved)
        self.assertEqual((again.decision, again.reason, again.device),
                         (DeviceDecision.KNOWN, Reason.BROWSER_UPDATED, r.device))
        # A new install id on the same model is a reset.
        reset = self.s.observe_device(5, "mobile", **dict(moved, key="install-2"))
        self.assertEqual((reset.decision, reset.reason, reset.device),
                         (DeviceDecision.CHANGED, Reason.DEVICE_RESET, r.device))


class DevicesListTest(DeviceTestCase):
    def test_list_rename_forget_and_forget_unseen(self) -> None:
        laptop = self.s.admin_login(42, key="cookie-1", **LAPTOP)
        self.clock.advance(minutes=10)
        phone = self.s.mobile_login(42, **PHONE)
        self.clock.advance(minutes=10)
        self.s.mobile_login(42, **PHONE)
        self.s.mobile_login(43, **PHONE)  # another user's phone

        devs = self.s.devices(42)
        self.assertEqual([d.id for d in devs], sorted([laptop.device, phone.device]))
        by_id = {d.id: d for d in devs}
        lap, ph = by_id[laptop.device], by_id[phone.device]
        self.assertEqual((lap.user, lap.kind, lap.label, lap.times_seen),
                         (42, DeviceKind.ADMIN_WEB, "Chrome on Windows", 1))
        self.assertEqual((lap.first_seen, lap.last_seen), (T0, T0))
        self.assertEqual(lap.attributes, LAPTOP)  # never the key
        self.assertEqual((ph.kind, ph.label, ph.times_seen),
                         (DeviceKind.MOBILE, "iPhone15,2 (iOS)", 2))
        self.assertEqual(ph.first_seen, T0 + dt.timedelta(minutes=10))
        self.assertEqual(ph.last_seen, T0 + dt.timedelta(minutes=20))
        self.assertEqual(ph.attributes,
                         {k: v for k, v in PHONE.items() if k != "key"})
        with self.assertRaises(AttributeError):
            lap.label = "x"  # type: ignore[misc]  # frozen
        self.assertEqual([d.id for d in self.s.devices(42, "mobile")], [phone.device])
        self.assertEqual([d.id for d in self.s.devices(42, DeviceKind.ADMIN_WEB)],
                         [laptop.device])
        self.assertEqual([d.user for d in self.s.devices(43)], [43])
        self.assertEqual(self.s.devices(44), [])

        # Rename: the list shows it, and the directory names the device
        # from the beginning of time, so earlier events are named too.
        self.s.rename_device(laptop.device, "Ada's ThinkPad ü")
        self.assertEqual(self.s.devices(42, "admin_web")[0].label, "Ada's ThinkPad ü")
        self.assertEqual(self.s.name_at("device", laptop.device), "Ada's ThinkPad ü")
        self.assertEqual(self.s.name_at(ea.Kind.DEVICE, laptop.device,
                                        at=T0 - dt.timedelta(days=365)),
                         "Ada's ThinkPad ü")
        [ev] = list(self.s.query(user=42, types=["admin_area_login"], names=True))
        self.assertEqual(ev.names.get("device"), "Ada's ThinkPad ü")

        # Forget: gone from the list; the next login is a new device with a
        # new id, and its event is recorded again.
        self.s.forget_device(laptop.device)
        self.assertEqual([d.id for d in self.s.devices(42)], [phone.device])
        with self.assertRaises(ea.NotFoundError) as cm:
            self.s.forget_device(laptop.device)
        self.assertIn(str(laptop.device), cm.exception.message)
        back = self.s.admin_login(42, key="cookie-1", **LAPTOP)
        self.assertEqual((back.decision, back.reason), (DeviceDecision.NEW,
                                                        Reason.FIRST_SEEN))
        self.assertNotEqual(back.device, laptop.device)
        self.assertIsNotNone(back.seq)

        # Forget unseen: 100 days on, only what was seen since stays.
        self.clock.advance(days=100)
        recent = self.s.mobile_login(42, **dict(PHONE, key="install-9",
                                                model="SM-S911B",
                                                os_family="Android",
                                                platform="Android"))
        self.assertEqual(self.s.forget_unseen_devices(), 3)  # 42: 2, 43: 1
        self.assertEqual([d.id for d in self.s.devices(42)], [recent.device])
        self.assertEqual(self.s.devices(43), [])
        self.assertEqual(self.s.forget_unseen_devices(1), 0)
        self.clock.advance(days=2)
        self.assertEqual(self.s.forget_unseen_devices(days=1), 1)
        self.assertEqual(self.s.devices(42), [])


class OptionsTest(TempDirTestCase):
    def test_weights_and_threshold_change_the_decision(self) -> None:
        moved = dict(LAPTOP, ip="198.51.100.7", time_zone="America/New_York")
        with ea.Store.memory(device_weights={"ip": 0, DeviceAttr.TIME_ZONE: 0}) as s:
            s.admin_login(1, **LAPTOP)
            r = s.admin_login(1, **moved)
            self.assertEqual((r.decision, r.score), (DeviceDecision.KNOWN, 1.0))
        # 650/730 = 0.89 is below a 0.95 threshold: other hardware.
        with ea.Store.memory(device_threshold=0.95) as s:
            first = s.admin_login(1, **LAPTOP)
            r = s.admin_login(1, **moved)
            self.assertEqual((r.decision, r.reason, r.seq),
                             (DeviceDecision.NEW, Reason.NEW_HARDWARE, 2))
            self.assertNotEqual(r.device, first.device)

    def test_bad_device_options(self) -> None:
        for bad in (0, 0.0004, 1.5, -1):
            with self.subTest(threshold=bad):
                with self.assertRaises(ea.OutOfRangeError):
                    ea.Store.memory(device_threshold=bad)
        with self.assertRaises(TypeError):
            ea.Store.memory(device_threshold="high")
        with self.assertRaises(ea.OutOfRangeError) as cm:
            ea.Store.memory(device_weights={"model": 1001})
        self.assertEqual(cm.exception.function, "eaudit_options_set_int")
        with self.assertRaises(ea.OutOfRangeError):
            ea.Store.memory(device_weights={"ip": -1})
        with self.assertRaises(ValueError):
            ea.Store.memory(device_weights={"key": 10})
        with self.assertRaises(ValueError):
            ea.Store.memory(device_weights={"colour": 10})
        with self.assertRaises(TypeError):
            ea.Store.memory(device_weights={"model": 1.5})


class BadArgumentsTest(DeviceTestCase):
    def test_bad_arguments_raise_the_mapped_exception_and_write_nothing(self) -> None:
        cases = [
            (lambda: self.s.observe_device(1, 7, **LAPTOP), ea.InvalidArgumentError),
            (lambda: self.s.admin_login(1, model="x" * 513), ea.TooBigError),
            (lambda: self.s.mobile_login(1, os_family="\udcff"), UnicodeEncodeError),
            (lambda: self.s.admin_login(1, at=-62135596800000001, **LAPTOP),
             ea.TimeError),  # year 0
            (lambda: self.s.devices(1, 9), ea.InvalidArgumentError),
            (lambda: self.s.forget_unseen_devices(0), ea.OutOfRangeError),
            (lambda: self.s.forget_unseen_devices(365001), ea.OutOfRangeError),
            (lambda: self.s.forget_unseen_devices(2 ** 40), ea.OutOfRangeError),
            # ctypes would keep the low bits: refused before the call.
            (lambda: self.s.admin_login(2 ** 64 + 1, **LAPTOP), ea.OutOfRangeError),
            (lambda: self.s.admin_login(1, at=2 ** 64, **LAPTOP), ea.OutOfRangeError),
            (lambda: self.s.observe_device(1, 2 ** 32 + 1), ea.OutOfRangeError),
            (lambda: self.s.observe_device(1, "laptop"), ValueError),
            (lambda: self.s.admin_login(1, at=dt.datetime(2026, 1, 1)), ValueError),
            (lambda: self.s.admin_login(1, screen="a\0b"), ValueError),
            (lambda: self.s.admin_login(1, os_family=10), TypeError),  # type: ignore[arg-type]
            (lambda: self.s.admin_login("1"), TypeError),  # type: ignore[arg-type]
            (lambda: self.s.admin_login(1, site="3"), TypeError),  # type: ignore[arg-type]
        ]
        for i, (call, exc) in enumerate(cases):
            with self.subTest(case=i, exc=exc.__name__):
                with self.assertRaises(exc) as cm:
                    call()
                self.assertIsInstance(cm.exception, ValueError if exc is not TypeError
                                      else TypeError)
        self.assertEqual(len(self.s), 0)
        self.assertEqual(self.s.devices(1), [])
        too_big = self.s.admin_login
        with self.assertRaises(ea.TooBigError) as cm:
            too_big(1, model="x" * 513)
        self.assertEqual(cm.exception.function, "eaudit_device_info_set_str")
        self.assertIn("513 bytes", cm.exception.message)

    def test_rename_and_forget_refuse_bad_input(self) -> None:
        r = self.s.admin_login(1, **LAPTOP)
        with self.assertRaises(ea.InvalidArgumentError):
            self.s.rename_device(r.device, "")
        with self.assertRaises(ea.TooBigError):
            self.s.rename_device(r.device, "x" * 1025)
        with self.assertRaises(ea.NotFoundError) as cm:
            self.s.rename_device(r.device + 1000, "Desk")
        self.assertEqual(cm.exception.function, "eaudit_store_rename_device")
        with self.assertRaises(TypeError):
            self.s.rename_device(r.device, None)  # type: ignore[arg-type]
        with self.assertRaises(TypeError):
            self.s.forget_device(str(r.device))  # type: ignore[arg-type]
        with self.assertRaises(ea.OutOfRangeError):
            self.s.forget_device(r.device + 2 ** 64)  # not device r.device
        self.assertEqual(self.s.devices(1)[0].label, "Chrome on Windows")
        self.assertIsNone(self.s.name_at("device", r.device))

    def test_closed_store_raises_misuse(self) -> None:
        self.s.close()
        with self.assertRaises(ea.MisuseError):
            self.s.admin_login(1, **LAPTOP)
        with self.assertRaises(ea.MisuseError):
            self.s.devices(1)
        with self.assertRaises(ea.MisuseError):
            self.s.forget_unseen_devices()


class DeclarationTest(TempDirTestCase):
    def test_every_function_of_the_header_is_declared(self) -> None:
        with open(HEADER, encoding="utf-8") as f:
            text = f.read()
        names = set(re.findall(r"EAUDIT_EXTERN[^;(]*?\b(eaudit_\w+)\s*\(", text))
        self.assertEqual(len(names), 24)
        self.assertEqual({row.name for row in devmod.FUNCTIONS}, names)
        for row in devmod.FUNCTIONS:
            self.assertEqual(row.since, 1_000_000, row.name)
            self.assertTrue(_ffi.lib.has(row.name), row.name)
        self.assertIs(_ffi.lib.eaudit_device_result_score.restype, ctypes.c_double)

    def test_enums_match_the_header(self) -> None:
        with open(HEADER, encoding="utf-8") as f:
            text = f.read()
        for cls, prefix in ((DeviceKind, "EAUDIT_DEVICE_"),
                            (DeviceDecision, "EAUDIT_DEVICE_"),
                            (DeviceAttr, "EAUDIT_DEVATTR_")):
            for m in cls:
                with self.subTest(member=f"{prefix}{m.name}"):
                    self.assertRegex(text, rf"\b{prefix}{m.name} = {int(m)}\b")
        self.assertRegex(text, rf"EAUDIT_DEVATTR_MAX_BYTES {devmod.ATTR_MAX_BYTES}\b")
        self.assertRegex(text, rf"EAUDIT_DEVICE_FORGET_DAYS_DEFAULT "
                               rf"{devmod.FORGET_DAYS_DEFAULT}\b")

    def test_a_library_without_device_functions_raises_unsupported(self) -> None:
        row = next(r for r in devmod.FUNCTIONS
                   if r.name == "eaudit_store_admin_login")
        saved = _ffi.lib.eaudit_store_admin_login
        _ffi.lib.eaudit_store_admin_login = _ffi._Missing(row, _ffi.version)
        try:
            with ea.Store.memory() as s:
                with self.assertRaises(ea.UnsupportedError) as cm:
                    s.admin_login(1, **LAPTOP)
                self.assertIn("Store.admin_login() needs the functions of "
                              "<eaudit/device.h>", cm.exception.message)
                self.assertEqual(len(s), 0)
        finally:
            _ffi.lib.eaudit_store_admin_login = saved
