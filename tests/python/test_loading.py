"""Loading the library, the version check, the declaration table and the
mapping of every error code to an exception class."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import pickle
import subprocess
import sys
import unittest

import entryfy_audit as ea
from entryfy_audit import _ffi, errors


class LoadingTest(unittest.TestCase):
    def test_loads_the_library_named_by_the_environment(self) -> None:
        self.assertEqual(ea.library_path, os.environ["ENTRYFY_AUDIT_LIB"])
        self.assertEqual(ea.library_version, "1.0.0")
        self.assertTrue(_ffi.VERSION_MIN <= _ffi.version_number < _ffi.VERSION_MAX)

    def test_unavailable_library_gives_one_import_error_naming_every_place(self) -> None:
        if ctypes.util.find_library("entryfy-audit"):
            self.skipTest("libentryfy-audit is installed system-wide; "
                          "it cannot be made unavailable here")
        env = dict(os.environ)
        env["ENTRYFY_AUDIT_LIB"] = "/nonexistent/libentryfy-audit.so"
        env.pop("LD_LIBRARY_PATH", None)
        code = "import entryfy_audit\n"
        proc = subprocess.run([sys.executable, "-c", code], env=env,
                              capture_output=True, text=True, timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        err = proc.stderr
        # One ImportError, and it is the last line of the traceback.
        last = err.strip().splitlines()[-1]
        self.assertTrue(last.startswith("ImportError: "), err)
        self.assertEqual(sum(line.startswith("ImportError")
                             for line in err.splitlines()), 1, err)
        self.assertNotIn("During handling", err)
        self.assertIn("$ENTRYFY_AUDIT_LIB='/nonexistent/libentryfy-audit.so'", last)
        self.assertIn("ctypes.util.find_library('entryfy-audit') (found nothing)", last)
        self.assertIn("the SONAME 'libentryfy-audit.so.1'", last)
        self.assertIn("(1)", last)
        self.assertIn("(3)", last)

    def test_unset_variable_is_named_as_not_set(self) -> None:
        saved = os.environ.pop("ENTRYFY_AUDIT_LIB")
        try:
            what = _ffi._candidates()[0]
        finally:
            os.environ["ENTRYFY_AUDIT_LIB"] = saved
        self.assertEqual(what, ("$ENTRYFY_AUDIT_LIB (not set)", None))

    def test_library_outside_the_supported_range_is_refused(self) -> None:
        # Pretend the supported range starts after the loaded version.
        env = dict(os.environ)
        proc = subprocess.run(
            [sys.executable, "-c",
             "import ctypes, sys\n"
             "import entryfy_audit._ffi as f\n"  # loads fine first
             "f.VERSION_MIN = f.version_number + 1\n"
             "try:\n"
             "    f._open()\n"
             "except ImportError as e:\n"
             "    print(e)\n"], env=env, capture_output=True, text=True,
            timeout=60)
        self.assertIn("supports 1.0.1 up to, not including, 2.0.0", proc.stdout,
                      proc.stderr)
        self.assertIn("is libentryfy-audit 1.0.0", proc.stdout)


class DeclarationTableTest(unittest.TestCase):
    def test_every_required_function_is_bound_with_its_declaration(self) -> None:
        for row in _ffi.FUNCTIONS:
            fn = getattr(_ffi.lib, row.name)
            self.assertIsInstance(fn, ctypes._CFuncPtr, row.name)
            self.assertEqual(fn.restype, row.restype, row.name)
            self.assertEqual(list(fn.argtypes), list(row.argtypes), row.name)

    def test_optional_function_missing_from_the_library_raises_unsupported(self) -> None:
        row = _ffi.Fn("eaudit_not_yet_written", [ctypes.c_int], ctypes.c_int,
                      _ffi.check_rc, since=1_001_000)
        _ffi.declare([row])
        try:
            self.assertFalse(_ffi.lib.has("eaudit_not_yet_written"))
            with self.assertRaises(ea.UnsupportedError) as cm:
                _ffi.lib.eaudit_not_yet_written(1)
            self.assertIsInstance(cm.exception, NotImplementedError)
            self.assertEqual(cm.exception.code, errors.EUNSUPPORTED)
            self.assertIn("eaudit_not_yet_written() is not in the loaded "
                          "libentryfy-audit 1.0.0; it needs version 1.1.0",
                          str(cm.exception))
        finally:
            _ffi.FUNCTIONS.remove(row)

    def test_required_function_missing_from_the_library_fails_the_import(self) -> None:
        row = _ffi.Fn("eaudit_never_existed", [], ctypes.c_int)
        with self.assertRaises(ImportError) as cm:
            _ffi.declare([row])
        _ffi.FUNCTIONS.remove(row)
        self.assertIn("has no eaudit_never_existed()", str(cm.exception))


class ExceptionMappingTest(unittest.TestCase):
    def test_every_library_code_has_its_own_subclass(self) -> None:
        seen = set()
        code = -1
        while _ffi.lib.eaudit_code_name(code) is not None:
            name = _ffi.lib.eaudit_code_name(code).decode()
            cls = ea.EXCEPTIONS[code]
            self.assertTrue(issubclass(cls, ea.EntryfyAuditError), name)
            self.assertIsNot(cls, ea.EntryfyAuditError)
            self.assertNotIn(cls, seen)
            seen.add(cls)
            exc = errors.from_code(code, "m")
            self.assertEqual(exc.code_name, name)
            self.assertEqual(exc.code, code)
            code -= 1
        self.assertEqual(code, -31)  # EAUDIT_EFORMAT = -30 is the last today
        self.assertEqual(len(ea.EXCEPTIONS), 30)

    def test_error_carries_code_class_detail_and_the_library_message(self) -> None:
        with ea.Store.memory() as s:
            with self.assertRaises(ea.TimeZoneError) as cm:
                s.time_zone = "Mars/Olympus_Mons"
        e = cm.exception
        self.assertIsInstance(e, ValueError)
        self.assertEqual(e.code, -20)
        self.assertEqual(e.code_name, "EAUDIT_ETZ")
        self.assertEqual(e.klass, 1)
        self.assertIn("Mars/Olympus_Mons", e.message)
        self.assertEqual(e.function, "eaudit_store_set_time_zone")
        self.assertEqual(str(e), e.message + " [EAUDIT_ETZ]")

    def test_unknown_future_code_gets_the_base_class(self) -> None:
        exc = errors.from_code(-99, "new")
        self.assertIs(type(exc), ea.EntryfyAuditError)
        self.assertEqual(exc.code_name, "EAUDIT_-99")

    def test_exceptions_pickle(self) -> None:
        exc = errors.from_code(errors.ETYPE, "unknown event type 77",
                               klass=1, function="eaudit_store_append")
        back = pickle.loads(pickle.dumps(exc))
        self.assertIs(type(back), ea.EventTypeError)
        self.assertEqual((back.code, back.message, back.klass, back.function),
                         (-13, "unknown event type 77", 1, "eaudit_store_append"))


if __name__ == "__main__":
    unittest.main()
