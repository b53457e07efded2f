"""Tamper evidence through the binding: keys, signed checkpoints and their
sink and export, verification (damage made with a raw SQLite connection,
since the library offers no way to make it), wrong and missing keys,
rotation, purge and backup."""

from __future__ import annotations

import ctypes
import datetime as dt
import io
import os
import pickle
import re

import entryfy_audit as ea
from entryfy_audit import (CheckpointInfo, CheckpointKind, Damage, EventType,
                           NewEvent, VerifyResult, _ffi)
from entryfy_audit import integrity as integ
from support import T0, Clock, TempDirTestCase

HEADER = os.path.join(os.path.dirname(__file__), "..", "..", "include",
                      "eaudit", "integrity.h")

#: Fixed keys, so that failures reproduce.
SEED = bytes(range(32))
SEED2 = bytes(range(100, 132))
SEED3 = bytes(range(200, 232))
DAY = dt.timedelta(days=1)
ACTOR = 5


class RawDB:
    """A raw connection to a store's file, to damage it as an attacker
    with write access would. The sqlite3 module when this python3 has it,
    else libsqlite3 through ctypes."""

    def __init__(self, path: str, use_ctypes: bool = False) -> None:
        try:
            import sqlite3
        except ImportError:
            sqlite3 = None  # type: ignore[assignment]
        if sqlite3 is not None and not use_ctypes:
            self._db = sqlite3.connect(path, isolation_level=None, timeout=5)
            self._c = None
            return
        self._db = None
        self._c = ctypes.CDLL("libsqlite3.so.0")
        self._c.sqlite3_open.argtypes = [ctypes.c_char_p,
                                         ctypes.POINTER(ctypes.c_void_p)]
        self._c.sqlite3_exec.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                         ctypes.c_void_p, ctypes.c_void_p,
                                         ctypes.c_void_p]
        self._c.sqlite3_close.argtypes = [ctypes.c_void_p]
        self._h = ctypes.c_void_p()
        if self._c.sqlite3_open(path.encode(), ctypes.byref(self._h)) != 0:
            raise OSError(f"sqlite3_open({path!r}) failed")

    def execute(self, sql: str) -> None:
        if self._db is not None:
            self._db.executescript(sql)
            return
        rc = self._c.sqlite3_exec(self._h, sql.encode(), None, None, None)
        if rc != 0:
            raise OSError(f"sqlite3_exec({sql!r}) returned {rc}")

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
        elif self._h:
            self._c.sqlite3_close(self._h)
            self._h = ctypes.c_void_p()


def tamper(path: str, sql: str, use_ctypes: bool = False) -> None:
    db = RawDB(path, use_ctypes)
    try:
        db.execute(sql)
    finally:
        db.close()


class IntegrityTestCase(TempDirTestCase):
    """A signed store on disk: the key SEED, a checkpoint at the first
    append and then every 10 events (no time-based ones), and 25 events,
    so checkpoints cover seqs 1, 11 and 21."""

    N = 25

    def setUp(self) -> None:
        super().setUp()
        self.clock = Clock()
        self.pk = ea.public_key_from_seed(SEED)
        self.s = self.open()
        self.s.set_signing_key(SEED)
        self.s.set_checkpoint_policy(every_events=10, every_seconds=0)
        self.fill(self.N)

    def tearDown(self) -> None:
        self.s.close()
        super().tearDown()

    def open(self, path: str = "", **kw) -> ea.Store:
        return ea.Store.open(path or self.path(), clock=self.clock, **kw)

    def fill(self, n: int, start: dt.datetime = T0 - 30 * DAY) -> None:
        for i in range(n):
            self.s.append(NewEvent("door_opened", subject=40 + i % 3,
                                   door=7 + i % 2,
                                   occurred_at=start + i * DAY))

    def damaged(self, **kw) -> ea.TamperError:
        kw.setdefault("actor", ACTOR)
        with self.assertRaises(ea.TamperError) as cm:
            self.s.verify(self.pk, **kw)
        self.assertIsInstance(cm.exception.result, VerifyResult)
        return cm.exception


class DeclarationTest(TempDirTestCase):
    C_TO_CTYPES = {
        "int": ctypes.c_int, "int64_t": ctypes.c_int64,
        "eaudit_time": ctypes.c_int64, "size_t": ctypes.c_size_t,
        "unsigned": ctypes.c_uint, "const char *": ctypes.c_char_p,
        "void": None, "void *": ctypes.c_void_p,
        "eaudit_store *": _ffi.StoreP,
        "uint8_t *": ctypes.POINTER(ctypes.c_uint8),
        "const uint8_t *": ctypes.POINTER(ctypes.c_uint8),
        "int64_t *": ctypes.POINTER(ctypes.c_int64),
        "eaudit_time *": ctypes.POINTER(ctypes.c_int64),
        "size_t *": ctypes.POINTER(ctypes.c_size_t),
        "eaudit_verify_result *": _ffi.VerifyResultP,
        "const eaudit_verify_result *": _ffi.VerifyResultP,
        "eaudit_verify_result **": ctypes.POINTER(_ffi.VerifyResultP),
        "eaudit_checkpoint_fn": _ffi.CHECKPOINT_FN,
    }

    def c_type(self, decl: str) -> object:
        decl = " ".join(decl.split())
        m = re.fullmatch(r"(.*?)\s*\b(\w+)\s*\[\d+\]", decl)
        if m:  # uint8_t seed_out[32] is a pointer
            return self.C_TO_CTYPES[m.group(1) + " *"]
        m = re.fullmatch(r"(.*?[\s*])(\w+)", decl)
        base = m.group(1) if m and m.group(2) not in ("int", "void") else decl
        base = re.sub(r"\s*\*", " *", base.strip()).replace("* *", "**")
        return self.C_TO_CTYPES[base]

    def test_every_header_function_is_declared_with_its_exact_types(self) -> None:
        with open(HEADER, encoding="utf-8") as f:
            text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
        protos = re.findall(
            r"EAUDIT_EXTERN\s+([^;(]*?)\s*\b(eaudit_\w+)\s*\(([^)]*)\)\s*;",
            text)
        self.assertEqual(len(protos), 24)
        rows = {row.name: row for row in integ.FUNCTIONS}
        self.assertEqual(set(rows), {name for _, name, _ in protos})
        self.assertEqual(len(integ.FUNCTIONS), 24)
        for ret, name, params in protos:
            with self.subTest(function=name):
                row = rows[name]
                self.assertEqual(row.since, 1_000_000)
                self.assertTrue(_ffi.lib.has(name))
                self.assertIs(row.restype, self.c_type(ret))
                args = [p for p in params.split(",") if p.strip() != "void"]
                self.assertEqual(len(row.argtypes), len(args))
                for want, got in zip(args, row.argtypes):
                    self.assertIs(got, self.c_type(want), want)
                bound = getattr(_ffi.lib, name)
                self.assertIs(bound.restype, row.restype)
                self.assertEqual(list(bound.argtypes), list(row.argtypes))

    def test_enums_and_sizes_match_the_header_and_the_library(self) -> None:
        with open(HEADER, encoding="utf-8") as f:
            text = f.read()
        for m in Damage:
            self.assertRegex(text, rf"\bEAUDIT_DAMAGE_{m.name} = {int(m)}\b")
            self.assertEqual(_ffi.lib.eaudit_damage_name(m).decode(),
                             m.code_name)
        self.assertIsNone(_ffi.lib.eaudit_damage_name(len(Damage)))
        for k in CheckpointKind:
            self.assertRegex(text, rf"\bEAUDIT_CHECKPOINT_{k.name} = {int(k)}\b")
        for name, value in (("SIGN_SEED_SIZE", integ.SEED_SIZE),
                            ("SIGN_SECRET_SIZE", integ.SECRET_KEY_SIZE),
                            ("PUBLIC_KEY_SIZE", integ.PUBLIC_KEY_SIZE),
                            ("CHECKPOINT_SIZE", integ.CHECKPOINT_SIZE)):
            self.assertRegex(text, rf"#define EAUDIT_{name} {value}\b")
        for flag, value in (("SKIP_DERIVED", integ._VERIFY_SKIP_DERIVED),
                            ("NO_RECORD", integ._VERIFY_NO_RECORD),
                            ("REQUIRE_SIGNED_TAIL",
                             integ._VERIFY_REQUIRE_SIGNED_TAIL)):
            self.assertRegex(text, rf"\bEAUDIT_VERIFY_{flag} = {value}\b")

    def test_a_library_without_verify_raises_unsupported(self) -> None:
        row = next(r for r in integ.FUNCTIONS
                   if r.name == "eaudit_store_verify")
        saved = _ffi.lib.eaudit_store_verify
        _ffi.lib.eaudit_store_verify = _ffi._Missing(row, _ffi.version)
        try:
            with ea.Store.memory() as s:
                with self.assertRaises(ea.UnsupportedError) as cm:
                    s.verify(None, record=False)
            self.assertIn("Store.verify() needs the functions of "
                          "<eaudit/integrity.h>", cm.exception.message)
        finally:
            _ffi.lib.eaudit_store_verify = saved


class KeyTest(TempDirTestCase):
    def test_generated_pairs_are_fresh_and_consistent(self) -> None:
        seed, pk = ea.generate_keypair()
        seed2, pk2 = ea.generate_keypair()
        self.assertIsInstance(seed, bytes)
        self.assertEqual((len(seed), len(pk)), (32, 32))
        self.assertNotEqual(seed, seed2)
        self.assertNotEqual(pk, pk2)
        self.assertEqual(ea.public_key_from_seed(seed), pk)
        self.assertEqual(ea.public_key_from_seed(seed2), pk2)

    def test_the_public_key_of_a_seed_and_of_a_secret_key(self) -> None:
        pk = ea.public_key_from_seed(SEED)
        self.assertEqual(len(pk), 32)
        self.assertEqual(ea.public_key_from_seed(bytearray(SEED)), pk)
        self.assertEqual(ea.public_key_from_seed(memoryview(SEED)), pk)
        # libsodium's secret key is seed || public key.
        self.assertEqual(ea.public_key_from_seed(SEED + pk), pk)
        with self.assertRaises(ea.InvalidKeyError) as cm:
            ea.public_key_from_seed(SEED + bytes(32))  # halves disagree
        self.assertEqual(cm.exception.code, ea.errors.EKEY)
        for bad in (SEED[:31], SEED + b"x", b""):
            with self.subTest(size=len(bad)):
                with self.assertRaises(ea.InvalidKeyError):
                    ea.public_key_from_seed(bad)
        with self.assertRaises(TypeError):
            ea.public_key_from_seed(SEED.hex())  # type: ignore[arg-type]

    def test_key_bytes_are_not_kept_after_the_call(self) -> None:
        key = bytearray(SEED)
        with ea.Store.open(self.path(), clock=Clock()) as s:
            s.set_signing_key(key)
            # No buffer of the binding still holds it: it can be resized
            # and wiped, and the library signs with its own copy.
            key.extend(b"!")
            key[:] = bytes(len(key))
            s.append("door_opened", subject=1)
            self.assertEqual(s.verify(ea.public_key_from_seed(SEED),
                                      record=False).checkpoints, 1)
            self.assertEqual(s.checkpoints()[0].signer,
                             ea.public_key_from_seed(SEED))

    def test_set_signing_key_refuses_bad_keys_and_none_forgets(self) -> None:
        with ea.Store.memory(clock=Clock()) as s:
            with self.assertRaises(ea.InvalidKeyError):
                s.set_signing_key(SEED[:16])
            with self.assertRaises(TypeError):
                s.set_signing_key("secret")  # type: ignore[arg-type]
            with self.assertRaises(ea.InvalidKeyError):
                s.checkpoint()  # no key
            s.set_signing_key(SEED)
            self.assertEqual(s.checkpoint(), 1)
            s.set_signing_key(None)
            with self.assertRaises(ea.InvalidKeyError):
                s.checkpoint()
            s.close()
            with self.assertRaises(ea.MisuseError):
                s.set_signing_key(SEED)


class VerifyTest(IntegrityTestCase):
    def test_a_signed_store_verifies(self) -> None:
        r = self.s.verify(self.pk, actor=ACTOR)
        self.assertEqual(r, VerifyResult(
            ok=True, damage=Damage.NONE, first_bad_seq=None, events=25,
            checkpoints=3, signed_through=21,
            message="25 events and 3 checkpoint signatures verified"))
        self.assertEqual([c.last_seq for c in self.s.checkpoints()],
                         [1, 11, 21])
        self.assertEqual(self.s.last_seq, 25)  # nothing recorded
        with self.assertRaises(dataclasses_frozen()):
            r.ok = False  # type: ignore[misc]
        # The chain alone, without a key.
        r = self.s.verify(None, record=False, skip_derived=True)
        self.assertEqual((r.ok, r.events, r.checkpoints), (True, 25, 0))

    def test_a_changed_door_is_found_at_its_seq_and_recorded(self) -> None:
        tamper(self.path(), "UPDATE events SET door = 99 WHERE seq = 12")
        exc = self.damaged()
        self.assertNotIsInstance(exc, ea.WrongKeyError)
        self.assertEqual(exc.code, ea.errors.ETAMPER)
        self.assertEqual(exc.code_name, "EAUDIT_ETAMPER")
        self.assertEqual(exc.function, "eaudit_store_verify")
        r = exc.result
        self.assertFalse(r.ok)
        self.assertIs(r.damage, Damage.MODIFIED)
        self.assertEqual(r.first_bad_seq, 12)
        # The checkpoints' signatures are good; the chain is not.
        self.assertEqual(r.signed_through, 21)
        self.assertTrue(exc.message.startswith("modified: "), exc.message)
        self.assertEqual(exc.message, "modified: " + r.message)
        back = pickle.loads(pickle.dumps(exc))
        self.assertIs(type(back), ea.TamperError)
        self.assertEqual((back.code, back.message, back.result),
                         (exc.code, exc.message, r))
        # The failure is recorded as an event by the actor.
        self.assertEqual(self.s.last_seq, 26)
        ev = next(iter(self.s.tail(25)))
        self.assertEqual(ev.type, EventType.VERIFICATION_FAILED)
        self.assertEqual((ev.subject, ev.actor), (ACTOR, ACTOR))
        self.assertEqual(ev.details, {"damage": "modified",
                                      "first_bad_seq": 12})
        # record=False records nothing; the chain alone finds it too.
        exc = self.damaged(record=False)
        self.assertEqual(exc.result.first_bad_seq, 12)
        with self.assertRaises(ea.TamperError) as cm:
            self.s.verify(None, record=False)
        self.assertIs(cm.exception.result.damage, Damage.MODIFIED)
        self.assertEqual(cm.exception.result.first_bad_seq, 12)
        self.assertEqual(self.s.last_seq, 26)
        # Put back, it verifies (the recorded event is chained too).
        tamper(self.path(), "UPDATE events SET door = 8 WHERE seq = 12")
        self.assertTrue(self.s.verify(self.pk, actor=ACTOR).ok)

    def test_damage_made_through_libsqlite3_directly(self) -> None:
        # The path taken when this python3 has no sqlite3 module.
        tamper(self.path(), "UPDATE events SET door = NULL WHERE seq = 17",
               use_ctypes=True)
        exc = self.damaged(record=False)
        self.assertIs(exc.result.damage, Damage.MODIFIED)
        self.assertEqual(exc.result.first_bad_seq, 17)

    def test_subscribers_see_the_recorded_failure(self) -> None:
        seen = []
        self.s.subscribe(lambda e: seen.append((e.seq, e.type)))
        tamper(self.path(), "DELETE FROM events WHERE seq = 5")
        exc = self.damaged()
        self.assertIs(exc.result.damage, Damage.DELETED)
        self.assertEqual(exc.result.first_bad_seq, 5)
        self.assertEqual(seen, [(26, EventType.VERIFICATION_FAILED)])

    def test_the_wrong_key_raises_wrong_key_error(self) -> None:
        other = ea.public_key_from_seed(SEED2)
        with self.assertRaises(ea.WrongKeyError) as cm:
            self.s.verify(other, record=False)
        exc = cm.exception
        self.assertIsInstance(exc, ea.TamperError)
        self.assertIsInstance(exc, ea.InvalidKeyError)
        self.assertEqual(exc.code, ea.errors.EKEY)
        self.assertIs(exc.result.damage, Damage.WRONG_KEY)
        self.assertEqual(exc.result.first_bad_seq, 1)
        self.assertEqual(exc.result.signed_through, 0)
        self.assertEqual(self.s.last_seq, 25)

    def test_an_unsigned_store_fails_with_a_key_and_the_tail_flag(self) -> None:
        with ea.Store.open(self.path("plain.db"), clock=self.clock) as s:
            for i in range(4):
                s.append("door_opened", subject=1, door=i + 1)
            self.assertTrue(s.verify(None, record=False).ok)
            with self.assertRaises(ea.TamperError) as cm:
                s.verify(self.pk, record=False)
            self.assertIs(cm.exception.result.damage, Damage.UNSIGNED)
            self.assertEqual(cm.exception.result.first_bad_seq, 1)
            with self.assertRaises(ea.NotFoundError):
                s.checkpoint_record()
            self.assertEqual(s.checkpoints(), [])
        # A signed store whose newest events are after its newest
        # checkpoint: fine, unless a signed tail is required.
        self.assertTrue(self.s.verify(self.pk, record=False).ok)
        exc = self.damaged(require_signed_tail=True, record=False)
        self.assertIs(exc.result.damage, Damage.UNSIGNED)
        self.assertEqual(exc.result.first_bad_seq, 22)
        self.s.checkpoint()
        self.assertEqual(self.s.verify(self.pk, require_signed_tail=True,
                                       record=False).signed_through, 25)

    def test_truncation_is_found_against_the_off_device_checkpoint(self) -> None:
        self.s.checkpoint()
        newest = self.s.checkpoint_record()
        self.assertEqual(CheckpointInfo.parse(newest).last_seq, 25)
        tamper(self.path(),
               "BEGIN; DELETE FROM events WHERE seq > 20;"
               "DELETE FROM checkpoints WHERE last_seq > 20;"
               "UPDATE head SET seq = 20, hash = (SELECT hash FROM events "
               "WHERE seq = 20); COMMIT")
        # Consistent on its own: only the kept record tells.
        self.assertTrue(self.s.verify(self.pk, skip_derived=True,
                                      record=False).ok)
        exc = self.damaged(newest_checkpoint=newest, skip_derived=True,
                           record=False)
        self.assertIs(exc.result.damage, Damage.TRUNCATED)
        self.assertEqual(exc.result.first_bad_seq, 21)
        exc = self.damaged(newest_checkpoint=CheckpointInfo.parse(newest),
                           skip_derived=True, record=False)
        self.assertIs(exc.result.damage, Damage.TRUNCATED)

    def test_bad_arguments_are_refused_before_anything_is_checked(self) -> None:
        with self.assertRaises(ea.InvalidKeyError) as cm:
            self.s.verify(self.pk[:31], record=False)
        self.assertNotIsInstance(cm.exception, ea.TamperError)
        with self.assertRaises(TypeError):
            self.s.verify(self.pk.hex(), record=False)  # type: ignore[arg-type]
        with self.assertRaises(ea.InvalidArgumentError):
            self.s.verify(self.pk)  # recorded, but by whom?
        with self.assertRaises(ea.OutOfRangeError):
            self.s.verify(self.pk, actor=2 ** 63)
        with self.assertRaises(ea.FormatError):
            self.s.verify(self.pk, newest_checkpoint=b"x" * 299, record=False)
        with self.assertRaises(ea.InvalidArgumentError):
            self.s.verify(None, newest_checkpoint=self.s.checkpoint_record(),
                          record=False)
        self.assertEqual(self.s.last_seq, 25)

    def test_a_read_only_handle_verifies_and_records_nothing(self) -> None:
        tamper(self.path(), "UPDATE events SET door = 99 WHERE seq = 3")
        with self.open(read_only=True) as ro:
            with self.assertRaises(ea.TamperError) as cm:
                ro.verify(self.pk, actor=ACTOR)
            self.assertEqual(cm.exception.result.first_bad_seq, 3)
            self.assertEqual(ro.last_seq, 25)


def dataclasses_frozen() -> type:
    import dataclasses
    return dataclasses.FrozenInstanceError


class CheckpointTest(IntegrityTestCase):
    N = 0

    def test_the_sink_receives_every_record_after_commit(self) -> None:
        got = []
        sink = got.append
        self.assertIs(self.s.on_checkpoint(sink), sink)
        self.fill(25)
        self.assertEqual([type(r) for r in got], [bytes] * 3)
        self.assertEqual([len(r) for r in got], [299] * 3)
        infos = [CheckpointInfo.parse(r) for r in got]
        self.assertEqual([(c.cseq, c.last_seq) for c in infos],
                         [(1, 1), (2, 11), (3, 21)])
        for c in infos:
            self.assertIs(c.kind, CheckpointKind.REGULAR)
            self.assertEqual(c.store_id, self.s.id)
            self.assertEqual(c.signer, self.pk)
            self.assertIsNone(c.next_key)
            self.assertEqual((c.base_seq, c.event_count), (0, c.last_seq))
            self.assertEqual(c.time, T0)
            self.assertEqual(self.s.checkpoint_record(c.cseq), c.record)
        self.assertEqual(infos[0].previous_digest, bytes(32))
        self.assertNotEqual(infos[1].previous_digest, bytes(32))
        self.assertEqual(self.s.checkpoint(), 4)
        self.assertEqual(CheckpointInfo.parse(got[-1]).cseq, 4)
        # A refused append writes and delivers nothing.
        with self.assertRaises(ea.MissingSubjectError):
            self.s.append_many([NewEvent("door_opened", subject=1)] * 9
                               + [NewEvent("door_opened")])
        self.assertEqual(len(got), 4)
        self.s.on_checkpoint(None)
        self.s.checkpoint()
        self.assertEqual(len(got), 4)

    def test_a_raising_sink_is_logged_and_the_checkpoint_stands(self) -> None:
        def sink(record: bytes) -> None:
            raise RuntimeError("the remote log is down")

        self.s.on_checkpoint(sink)
        with self.assertLogs("entryfy_audit", "ERROR") as logs:
            self.assertEqual(self.s.checkpoint(), 1)
        self.assertIn("the remote log is down", "\n".join(logs.output))
        self.assertEqual(self.s.checkpoint_record(1)[35:43],
                         (1).to_bytes(8, "big"))

    def test_replacing_the_sink_from_inside_it_waits_for_the_call(self) -> None:
        first, second = [], []

        def sink(record: bytes) -> None:
            first.append(record)
            self.s.on_checkpoint(second.append)

        self.s.on_checkpoint(sink)
        self.s.set_checkpoint_policy(every_events=1, every_seconds=0)
        # One append of three events writes one checkpoint; two appends,
        # two checkpoints, and the second goes to the new sink.
        self.s.append_many([NewEvent("door_opened", subject=1)] * 3)
        self.s.append("door_opened", subject=1)
        self.assertEqual(len(first), 1)
        self.assertEqual(len(second), 1)
        self.assertEqual(CheckpointInfo.parse(second[0]).last_seq, 4)

    def test_tick_writes_only_when_due(self) -> None:
        self.s.set_checkpoint_policy(every_events=0,
                                     every_seconds=dt.timedelta(hours=1))
        self.assertTrue(self.s.checkpoint_tick())  # none yet
        self.assertFalse(self.s.checkpoint_tick())
        self.clock.advance(minutes=59)
        self.assertFalse(self.s.checkpoint_tick())
        self.clock.advance(minutes=1)
        self.assertTrue(self.s.checkpoint_tick())  # a quiet hour, signed
        self.assertEqual([c.time for c in self.s.checkpoints()],
                         [T0, T0 + dt.timedelta(hours=1)])
        self.s.set_signing_key(None)
        with self.assertRaises(ea.InvalidKeyError):
            self.s.checkpoint_tick()

    def test_the_policy_checks_its_values(self) -> None:
        with self.assertRaises(ea.OutOfRangeError):
            self.s.set_checkpoint_policy(every_events=-1)
        with self.assertRaises(ea.OutOfRangeError):
            self.s.set_checkpoint_policy(every_seconds=-0.5)
        with self.assertRaises(ea.OutOfRangeError):
            self.s.set_checkpoint_policy(every_events=2 ** 63)
        with self.assertRaises(TypeError):
            self.s.set_checkpoint_policy(every_events=True)
        with self.assertRaises(TypeError):
            self.s.set_checkpoint_policy(every_seconds="1h")  # type: ignore
        self.s.set_checkpoint_policy(every_events=3, every_seconds=0.25)
        self.fill(7)
        self.assertEqual([c.last_seq for c in self.s.checkpoints()],
                         [1, 4, 7])

    def test_export_to_a_path_and_to_a_file_object(self) -> None:
        got = []
        self.s.on_checkpoint(got.append)
        self.fill(25)
        path = self.path("checkpoints.bin")
        self.assertEqual(self.s.export_checkpoints(path), 3)
        with open(path, "rb") as f:
            data = f.read()
        self.assertEqual(data, b"".join(got))
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        with self.assertRaises(ea.AlreadyExistsError):
            self.s.export_checkpoints(path)
        buf = io.BytesIO()
        self.assertEqual(self.s.export_checkpoints(buf), 3)
        self.assertEqual(buf.getvalue(), data)
        self.assertEqual([c.cseq for c in CheckpointInfo.parse_many(data)],
                         [1, 2, 3])
        with self.assertRaises(ea.FormatError):
            CheckpointInfo.parse_many(data[:-1])
        with self.assertRaises(ea.FormatError):
            CheckpointInfo.parse(b"eaudit-checkpoinX" + data[17:299])
        with self.assertRaises(TypeError):
            self.s.export_checkpoints(io.StringIO())


class RotationTest(IntegrityTestCase):
    def test_rotation_names_the_new_key_and_both_keys_verify(self) -> None:
        got = []
        self.s.on_checkpoint(got.append)
        pk2 = ea.public_key_from_seed(SEED2)
        with self.assertRaises(ea.InvalidKeyError):
            self.s.rotate_key(SEED)  # the current key
        self.s.rotate_key(SEED2)
        rot = CheckpointInfo.parse(got[-1])
        self.assertEqual((rot.cseq, rot.last_seq), (4, 25))
        self.assertIs(rot.kind, CheckpointKind.ROTATION)
        self.assertEqual(rot.signer, self.pk)
        self.assertEqual(rot.next_key, pk2)
        self.fill(10)
        after = CheckpointInfo.parse(got[-1])
        self.assertEqual(after.signer, pk2)
        for key in (self.pk, pk2):
            r = self.s.verify(key, record=False)
            self.assertEqual((r.ok, r.checkpoints, r.signed_through),
                             (True, 5, 35))
        with self.assertRaises(ea.WrongKeyError):
            self.s.verify(ea.public_key_from_seed(SEED3), record=False)
        # Another handle still holding the old key is refused.
        with self.open() as other:
            with self.assertRaises(ea.InvalidKeyError):
                other.set_signing_key(SEED)
            other.set_signing_key(SEED2)
            self.assertEqual(other.checkpoint(), 6)
        with self.open() as nokey:
            with self.assertRaises(ea.InvalidKeyError):
                nokey.rotate_key(SEED3)


class PurgeAndBackupTest(IntegrityTestCase):
    N = 30

    def test_purge_then_verify(self) -> None:
        got = []
        self.s.on_checkpoint(got.append)
        seen = []
        self.s.subscribe(lambda e: seen.append(e.type))
        # Events occurred on days -30 .. -1: 20 of them before day -10.
        # The plan says so and writes nothing; asking for everything stops
        # where the rules still read (7-day window + 1 day behind day -1).
        self.assertEqual(self.s.purge_plan(T0 - 10 * DAY)[:2], (20, 20))
        n, through, eff = self.s.purge_plan(T0)
        self.assertEqual(eff, T0 - 9 * DAY)
        self.assertEqual((n, through), (21, 21))
        self.assertEqual(len(self.s), 30)
        self.assertEqual(self.s.purge(T0 - 10 * DAY, actor=ACTOR,
                                      batch_size=7), 20)
        self.assertEqual(len(self.s), 11)
        self.assertEqual(self.s.last_seq, 31)
        ev = next(iter(self.s.tail(30)))
        self.assertEqual(ev.type, EventType.RETENTION_PURGED)
        self.assertEqual((ev.subject, ev.actor), (ACTOR, ACTOR))
        self.assertEqual(ev.details["through_seq"], 20)
        self.assertEqual(ev.details["purged"], 20)
        self.assertEqual(seen, [EventType.RETENTION_PURGED])
        # Three batches, three signed anchors; the checkpoints at 1 and 11
        # covered purged events only and are gone.
        anchors = [CheckpointInfo.parse(r) for r in got]
        self.assertEqual([(c.kind, c.base_seq, c.last_seq) for c in anchors],
                         [(CheckpointKind.ANCHOR, 7, 30),
                          (CheckpointKind.ANCHOR, 14, 30),
                          (CheckpointKind.ANCHOR, 20, 30)])
        self.assertEqual([c.cseq for c in self.s.checkpoints()],
                         [3, 4, 5, 6])
        r = self.s.verify(self.pk, actor=ACTOR)
        self.assertEqual((r.ok, r.events, r.signed_through), (True, 11, 30))
        # Nothing more is old enough.
        self.assertEqual(self.s.purge("2026-10-01", actor=ACTOR), 0)
        self.assertEqual(self.s.last_seq, 31)

    def test_purge_refuses_damage_and_keyless_handles(self) -> None:
        with self.open() as nokey:
            with self.assertRaises(ea.InvalidKeyError):
                nokey.purge(T0, actor=ACTOR)
        self.assertEqual(len(self.s), 30)
        tamper(self.path(), "UPDATE events SET door = 99 WHERE seq = 10")
        with self.assertRaises(ea.TamperError) as cm:
            self.s.purge(T0, actor=ACTOR, batch_size=7)
        self.assertEqual(cm.exception.purged, 7)  # the first batch
        self.assertIsNone(cm.exception.result)
        # The batch that did go is recorded: 30 - 7 + retention_purged.
        self.assertEqual(len(self.s), 24)
        ev = next(iter(self.s.tail(30)))
        self.assertEqual(ev.type, EventType.RETENTION_PURGED)
        self.assertEqual(ev.details["purged"], 7)
        with self.assertRaises(ea.OutOfRangeError):
            self.s.purge(T0, actor=ACTOR, batch_size=-1)
        with self.assertRaises(ea.OutOfRangeError):
            self.s.purge(T0, actor=ACTOR, batch_size=1_000_001)
        with self.assertRaises(ea.OutOfRangeError):
            self.s.purge(T0, actor=2 ** 64)
        with self.assertRaises(ea.TimeError):
            self.s.purge("not a time", actor=ACTOR)

    def test_a_backup_verifies_on_its_own(self) -> None:
        copy = self.path("copy.db")
        self.s.backup(copy)
        self.assertEqual(os.stat(copy).st_mode & 0o777, 0o600)
        with self.assertRaises(ea.AlreadyExistsError):
            self.s.backup(copy)
        with self.assertRaises(ea.InvalidArgumentError):
            self.s.backup(":memory:")
        newest = self.s.checkpoint_record()
        self.fill(3)  # the copy does not have these
        with ea.Store.open(copy, read_only=True, create=False) as b:
            self.assertEqual(b.id, self.s.id)
            self.assertEqual(len(b), 30)
            r = b.verify(self.pk, newest_checkpoint=newest, actor=ACTOR)
            # Three stored signatures and the kept record's.
            self.assertEqual((r.ok, r.events, r.checkpoints,
                              r.signed_through), (True, 30, 4, 21))
        # Damage in the copy is the copy's alone.
        tamper(copy, "UPDATE events SET subject = 1 WHERE seq = 2")
        with ea.Store.open(copy, read_only=True, create=False) as b:
            with self.assertRaises(ea.TamperError) as cm:
                b.verify(self.pk, actor=ACTOR)
            self.assertEqual(cm.exception.result.first_bad_seq, 2)
        self.assertTrue(self.s.verify(self.pk, actor=ACTOR).ok)


if __name__ == "__main__":  # pragma: no cover
    import unittest
    unittest.main()
