"""Tamper evidence, retention and backup (docs/integrity.md): signing keys,
signed checkpoints and their export, verification, purge and backup.

Keys are bytes: an Ed25519 seed (32 bytes; it is the signing key, keep it
secret) or libsodium's 64-byte secret key, and a 32-byte public key. The
package hands key bytes to the library for the duration of one call and
keeps no reference to them (see :func:`generate_keypair` for what that can
and cannot promise in Python).

Damage found by :meth:`IntegrityMixin.verify` raises, as the library's
return code says: :class:`~entryfy_audit.errors.TamperError` (EAUDIT_ETAMPER)
or, for checkpoints signed by another key,
:class:`~entryfy_audit.errors.WrongKeyError` (EAUDIT_EKEY, also a
TamperError). Either carries the :class:`VerifyResult` as ``result``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import io
import logging
import os
import struct
import uuid
from ctypes import (POINTER, byref, c_char_p, c_int, c_int64, c_size_t,
                    c_uint, c_uint8, c_void_p, memset, string_at)
from typing import (IO, TYPE_CHECKING, Any, Callable, List, Optional, Tuple,
                    Union)

from . import _ffi, errors
from ._ffi import Fn, check_found, check_int, check_rc, lib
from ._pending import unwired
from ._time import from_us

if TYPE_CHECKING:  # pragma: no cover
    from .query import TimeBound
    from .store import Store

log = logging.getLogger("entryfy_audit")

_StoreP = _ffi.StoreP
_ResultP = _ffi.VerifyResultP
_p_u8 = POINTER(c_uint8)
_p_i64 = POINTER(c_int64)
_p_size = POINTER(c_size_t)

#: The first library version with <eaudit/integrity.h>.
_SINCE = 1_000_000
_HEADER = "eaudit/integrity.h"

#: Sizes (EAUDIT_SIGN_SEED_SIZE, EAUDIT_SIGN_SECRET_SIZE,
#: EAUDIT_PUBLIC_KEY_SIZE, EAUDIT_CHECKPOINT_SIZE).
SEED_SIZE = 32
SECRET_KEY_SIZE = 64
PUBLIC_KEY_SIZE = 32
CHECKPOINT_SIZE = 299

# eaudit_verify_flag; values are ABI.
_VERIFY_SKIP_DERIVED = 1
_VERIFY_NO_RECORD = 2
_VERIFY_REQUIRE_SIGNED_TAIL = 4

# The error class the library gives verification damage (EAUDIT_ECLASS_STORE).
_ECLASS_STORE = 5


def check_verify(result: int, func: Any, args: Tuple[Any, ...]) -> int:
    """errcheck of eaudit_store_verify(): EAUDIT_ETAMPER and EAUDIT_EKEY
    come with a result and are returned to the caller, which raises with
    the result attached; other negative codes raise here."""
    if result < 0 and result not in (errors.ETAMPER, errors.EKEY):
        _ffi.raise_code(result, func.__name__)
    return result


def _verify_inputs(public_key: Any, newest_checkpoint: Any,
                   function: str) -> Tuple[Any, Any, int]:
    """A verification's trusted key and newest checkpoint as the C call
    takes them: two c_uint8 arrays (None when not given) and the
    checkpoint's length. InvalidKeyError for a key that is not 32 bytes."""
    pk_buf = None
    if public_key is not None:
        pk = _bytes(public_key, "public_key")
        if len(pk) != PUBLIC_KEY_SIZE:
            raise errors.InvalidKeyError(
                errors.EKEY, f"a public key is {PUBLIC_KEY_SIZE} bytes, "
                f"not {len(pk)}", function=function)
        pk_buf = (c_uint8 * len(pk)).from_buffer_copy(pk)
    if newest_checkpoint is None:
        return pk_buf, None, 0
    newest = (newest_checkpoint.record
              if isinstance(newest_checkpoint, CheckpointInfo)
              else _bytes(newest_checkpoint, "newest_checkpoint"))
    return pk_buf, (c_uint8 * len(newest)).from_buffer_copy(newest), \
        len(newest)


def _verify_outcome(rc: int, out: Any, function: str) -> "VerifyResult":
    """What a verification call gave: its result when ``rc`` is OK, else
    TamperError or WrongKeyError with the result attached as ``.result``.
    Frees ``out``."""
    try:
        if not out:  # damage codes always come with a result
            if rc != errors.OK:
                _ffi.raise_code(rc, function)
            raise errors.GenericError(errors.ERROR,
                                      "verification gave no result",
                                      function=function)
        result = _read_result(out)
    finally:
        lib.eaudit_verify_result_free(out)
    if rc == errors.OK:
        return result
    damage = result.damage
    name = damage.code_name if isinstance(damage, Damage) else str(damage)
    cls = errors.WrongKeyError if rc == errors.EKEY else errors.TamperError
    exc = cls(rc, f"{name}: {result.message}", klass=_ECLASS_STORE,
              function=function)
    exc.result = result  # type: ignore[attr-defined]
    raise exc


#: The functions of <eaudit/integrity.h>. Optional (``since``): a library
#: without them still loads, and the methods raise UnsupportedError.
#: ``uint8_t *`` parameters are ``POINTER(c_uint8)``; the package passes
#: ``c_uint8`` arrays of the right length.
FUNCTIONS: List[Fn] = [
    # keys
    Fn("eaudit_keypair_generate", [_p_u8, _p_u8], c_int, check_rc, _SINCE),
    Fn("eaudit_signing_public_key", [_p_u8, c_size_t, _p_u8], c_int,
       check_rc, _SINCE),
    Fn("eaudit_store_set_signing_key", [_StoreP, _p_u8, c_size_t], c_int,
       check_rc, _SINCE),
    Fn("eaudit_store_set_checkpoint_policy", [_StoreP, c_int64, c_int64],
       c_int, check_rc, _SINCE),
    Fn("eaudit_store_checkpoint", [_StoreP, _p_i64], c_int, check_rc,
       _SINCE),
    Fn("eaudit_store_checkpoint_tick", [_StoreP], c_int, check_rc, _SINCE),
    Fn("eaudit_store_rotate_key", [_StoreP, _p_u8, c_size_t], c_int,
       check_rc, _SINCE),
    # exporting checkpoints
    Fn("eaudit_store_set_checkpoint_sink",
       [_StoreP, _ffi.CHECKPOINT_FN, c_void_p], c_int, check_rc, _SINCE),
    Fn("eaudit_store_checkpoint_get",
       [_StoreP, c_int64, _p_u8, c_size_t, _p_size], c_int, check_found,
       _SINCE),
    Fn("eaudit_store_export_checkpoints", [_StoreP, c_char_p], c_int,
       check_rc, _SINCE),
    Fn("eaudit_checkpoint_info", [_p_u8, c_size_t, _p_i64, _p_i64, _p_i64],
       c_int, check_rc, _SINCE),
    # verification
    Fn("eaudit_store_verify",
       [_StoreP, c_int64, _p_u8, _p_u8, c_size_t, c_uint, POINTER(_ResultP)],
       c_int, check_verify, _SINCE),
    Fn("eaudit_verify_result_ok", [_ResultP], c_int, None, _SINCE),
    Fn("eaudit_verify_result_damage", [_ResultP], c_int, None, _SINCE),
    Fn("eaudit_verify_result_first_bad_seq", [_ResultP], c_int64, None,
       _SINCE),
    Fn("eaudit_verify_result_events", [_ResultP], c_int64, None, _SINCE),
    Fn("eaudit_verify_result_checkpoints", [_ResultP], c_int64, None, _SINCE),
    Fn("eaudit_verify_result_signed_through", [_ResultP], c_int64, None,
       _SINCE),
    Fn("eaudit_verify_result_message", [_ResultP], c_char_p, None, _SINCE),
    Fn("eaudit_verify_result_free", [_ResultP], None, None, _SINCE),
    Fn("eaudit_damage_name", [c_int], c_char_p, None, _SINCE),
    # retention and backup
    Fn("eaudit_store_purge", [_StoreP, c_int64, c_int64, c_size_t, _p_i64],
       c_int, check_rc, _SINCE),
    Fn("eaudit_store_purge_plan", [_StoreP, c_int64, _p_i64, _p_i64, _p_i64],
       c_int, check_rc, _SINCE),
    Fn("eaudit_store_backup", [_StoreP, c_char_p], c_int, check_rc, _SINCE),
]
_ffi.declare(FUNCTIONS)


class Damage(enum.IntEnum):
    """Kinds of damage verification reports (eaudit_damage)."""
    NONE = 0
    #: An event, its hash or a checkpoint changed.
    MODIFIED = 1
    #: An event or checkpoint is missing.
    DELETED = 2
    #: An event that was never appended.
    INSERTED = 3
    #: Genuine events at the wrong seq.
    REORDERED = 4
    #: The newest events are missing.
    TRUNCATED = 5
    #: Checkpoints not signed by the trusted key.
    WRONG_KEY = 6
    #: A signed store was expected; it is not (or its tail is not).
    UNSIGNED = 7
    #: The search index or the rollups disagree with the events.
    DERIVED = 8

    @property
    def code_name(self) -> str:
        """The library's name: ``"wrong_key"``."""
        return self.name.lower()


class CheckpointKind(enum.IntEnum):
    """Kinds of checkpoint (eaudit_checkpoint_kind, byte 18 of a record)."""
    #: Written by the policy, on demand or by the timer call.
    REGULAR = 1
    #: Signed by the old key; names the new one.
    ROTATION = 2
    #: Written by a purge: the new start of the chain.
    ANCHOR = 3


def _enum(cls: Any, value: int) -> Any:
    try:
        return cls(value)
    except ValueError:  # a newer library's value
        return value


@dataclasses.dataclass(frozen=True)
class VerifyResult:
    """The outcome of :meth:`IntegrityMixin.verify`.

    Attributes:
        ok: True when nothing was found.
        damage: the kind of the first damage found (:class:`Damage`;
            ``Damage.NONE`` when ok).
        first_bad_seq: the first damaged seq (for damage only a signature
            reveals, the first seq no longer covered by a good
            checkpoint); None when ok or when the damage concerns no event
            (a search-index row).
        events: number of events whose chain link was checked.
        checkpoints: number of checkpoint signatures checked.
        signed_through: the highest seq covered by a good checkpoint signed
            by the trusted key (or a key it rotated to); 0 when none.
        message: the library's sentence describing the outcome.
    """

    ok: bool
    damage: Union[Damage, int]
    first_bad_seq: Optional[int]
    events: int
    checkpoints: int
    signed_through: int
    message: str


def _read_result(r: Any) -> VerifyResult:
    first = lib.eaudit_verify_result_first_bad_seq(r)
    return VerifyResult(
        ok=bool(lib.eaudit_verify_result_ok(r)),
        damage=_enum(Damage, lib.eaudit_verify_result_damage(r)),
        first_bad_seq=first or None,
        events=lib.eaudit_verify_result_events(r),
        checkpoints=lib.eaudit_verify_result_checkpoints(r),
        signed_through=lib.eaudit_verify_result_signed_through(r),
        message=lib.eaudit_verify_result_message(r).decode("utf-8",
                                                           "replace"))


@dataclasses.dataclass(frozen=True)
class CheckpointInfo:
    """A version-1 checkpoint record (299 bytes) read field by field, as
    docs/integrity.md lays it out. :meth:`parse` checks the format through
    the library (``eaudit_checkpoint_info``); the signature is **not**
    checked: that is what :meth:`IntegrityMixin.verify` is for.

    Attributes:
        record: the 299 bytes themselves (keep these off the device).
        kind: regular, rotation or anchor (:class:`CheckpointKind`).
        store_id: the store it belongs to.
        cseq: its checkpoint seq (1, 2, 3, ...; never reused).
        last_seq: the last event seq it covers (0 for an empty store).
        head: the chain link at ``last_seq`` (32 bytes).
        base_seq: events up to it were purged (0 when none).
        base_hash: the chain link at ``base_seq`` (32 bytes).
        event_count: ``last_seq - base_seq``.
        time: when it was made, by the store's clock (aware, UTC).
        previous_digest: BLAKE2b-256 of the previous record (zeros for
            the first).
        signer: the public key that signed it.
        next_key: for a rotation, the new public key; else None.
        signature: the Ed25519 signature of bytes 0-234.
    """

    record: bytes = dataclasses.field(repr=False)
    kind: Union[CheckpointKind, int]
    store_id: uuid.UUID
    cseq: int
    last_seq: int
    head: bytes = dataclasses.field(repr=False)
    base_seq: int
    base_hash: bytes = dataclasses.field(repr=False)
    event_count: int
    time: _dt.datetime
    previous_digest: bytes = dataclasses.field(repr=False)
    signer: bytes = dataclasses.field(repr=False)
    next_key: Optional[bytes] = dataclasses.field(repr=False)
    signature: bytes = dataclasses.field(repr=False)

    @classmethod
    def parse(cls, record: Union[bytes, bytearray, memoryview]
              ) -> "CheckpointInfo":
        """Read one record. FormatError when it is not a version-1
        checkpoint (wrong length, tag or version)."""
        _require("CheckpointInfo.parse()", "eaudit_checkpoint_info")
        raw = _bytes(record, "a checkpoint record")
        buf = (c_uint8 * len(raw)).from_buffer_copy(raw)
        cseq, last, at = c_int64(), c_int64(), c_int64()
        lib.eaudit_checkpoint_info(buf, len(raw), byref(cseq), byref(last),
                                   byref(at))
        base_seq, = struct.unpack_from(">q", raw, 83)
        count, = struct.unpack_from(">q", raw, 123)
        next_key = raw[203:235]
        return cls(record=raw, kind=_enum(CheckpointKind, raw[18]),
                   store_id=uuid.UUID(bytes=raw[19:35]), cseq=cseq.value,
                   last_seq=last.value, head=raw[51:83], base_seq=base_seq,
                   base_hash=raw[91:123], event_count=count,
                   time=from_us(at.value), previous_digest=raw[139:171],
                   signer=raw[171:203],
                   next_key=None if next_key == bytes(32) else next_key,
                   signature=raw[235:299])

    @classmethod
    def parse_many(cls, data: Union[bytes, bytearray, memoryview]
                   ) -> List["CheckpointInfo"]:
        """Read concatenated records, as :meth:`IntegrityMixin.export_checkpoints`
        writes them. FormatError when the length is not a multiple of 299
        or a record is malformed."""
        raw = _bytes(data, "checkpoint records")
        if len(raw) % CHECKPOINT_SIZE:
            raise errors.FormatError(
                errors.EFORMAT, f"{len(raw)} bytes are not whole checkpoint "
                f"records of {CHECKPOINT_SIZE} bytes")
        return [cls.parse(raw[i:i + CHECKPOINT_SIZE])
                for i in range(0, len(raw), CHECKPOINT_SIZE)]


def _bytes(value: Any, what: str) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"{what} must be bytes, not {type(value).__name__}")


class _KeyArg:
    """Key bytes as a ``c_uint8`` array for one library call; a context
    manager. A writable buffer (a bytearray) is lent to the library
    without a copy; other bytes are copied into a ctypes buffer that is
    zeroed on exit. No reference is kept afterwards."""

    def __init__(self, key: Any, what: str) -> None:
        if not isinstance(key, (bytes, bytearray, memoryview)):
            raise TypeError(f"{what} must be bytes, not {type(key).__name__}")
        view = memoryview(key)
        if not view.c_contiguous:
            raise ValueError(f"{what} must be a contiguous buffer")
        view = view.cast("B")
        self.size = view.nbytes
        self._copy = view.readonly
        arr = c_uint8 * self.size
        self.buf: Any = (arr.from_buffer_copy(view) if self._copy
                         else arr.from_buffer(view))
        view.release()

    def __enter__(self) -> "_KeyArg":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._copy:
            memset(self.buf, 0, self.size)
        self.buf = None  # releases a lent bytearray


def _require(method: str, function: str) -> None:
    if not lib.has(function):
        unwired(method, _HEADER)


def generate_keypair() -> Tuple[bytes, bytes]:
    """A new Ed25519 key pair from libsodium's random source:
    ``(seed, public_key)``, 32 bytes each. The seed is the signing key:
    keep it secret, for example in a file only the service can read, and
    give it to :meth:`IntegrityMixin.set_signing_key`. Give the public key
    to whoever verifies.

    Python cannot wipe a ``bytes`` object: the returned seed stays in the
    process's memory until the interpreter reuses it. The package zeroes
    its own ctypes copy. Where that matters, generate and keep the key
    outside this process, or load it into a ``bytearray`` that you
    overwrite after use.
    """
    _require("generate_keypair()", "eaudit_keypair_generate")
    seed = (c_uint8 * SEED_SIZE)()
    pub = (c_uint8 * PUBLIC_KEY_SIZE)()
    try:
        lib.eaudit_keypair_generate(seed, pub)
        return bytes(seed), bytes(pub)
    finally:
        memset(seed, 0, SEED_SIZE)


def public_key_from_seed(seed: Union[bytes, bytearray, memoryview]) -> bytes:
    """The 32-byte public key of a signing key: a 32-byte seed or a 64-byte
    libsodium secret key. InvalidKeyError for another length, or a 64-byte
    key whose halves disagree."""
    _require("public_key_from_seed()", "eaudit_signing_public_key")
    out = (c_uint8 * PUBLIC_KEY_SIZE)()
    with _KeyArg(seed, "seed") as k:
        lib.eaudit_signing_public_key(k.buf, k.size, out)
    return bytes(out)


def _micros(value: Any, what: str) -> int:
    if isinstance(value, _dt.timedelta):
        return value // _dt.timedelta(microseconds=1)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be seconds (int or float) or a "
                        f"timedelta, not {type(value).__name__}")
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise errors.OutOfRangeError(errors.ERANGE,
                                         f"{what} is {value!r}")
        return round(value * 1_000_000)
    return value * 1_000_000


Target = Union[str, "os.PathLike[str]", IO[bytes]]
#: A checkpoint sink: called with each record (bytes) this Store writes.
CheckpointSink = Callable[[bytes], Any]


class IntegrityMixin:
    """Tamper-evidence, retention and backup methods of :class:`Store`."""

    # Provided by Store.
    _lock: Any
    _notifying: int
    _deferred: List[Callable[[], None]]
    _checkpoint_fn: Any = None

    # --- keys and checkpoints ------------------------------------------------

    def set_signing_key(self, seed: Union[bytes, bytearray, memoryview, None]
                        ) -> None:
        """Give this Store the signing key (a 32-byte seed or a 64-byte
        secret key); None forgets it. From now on checkpoints are written
        by the policy (:meth:`set_checkpoint_policy`), inside appends.

        The library copies the key into its own locked memory, never writes
        it to the store, and wipes it when it is replaced or the Store
        closes. The package lends ``seed`` to the library for this call
        only and keeps no reference: a ``bytearray`` is passed without a
        copy (overwrite it yourself afterwards), ``bytes`` are copied into
        a temporary buffer that is zeroed when the call returns. The
        ``bytes`` object itself cannot be wiped by Python.

        InvalidKeyError for a key of another length, or when the store's
        newest checkpoint names another current key (the key was rotated).
        """
        _require("Store.set_signing_key()", "eaudit_store_set_signing_key")
        store: "Store" = self  # type: ignore[assignment]
        with store._lock:
            sp = store._handle()
            if seed is None:
                lib.eaudit_store_set_signing_key(sp, None, 0)
                return
            with _KeyArg(seed, "seed") as k:
                lib.eaudit_store_set_signing_key(sp, k.buf, k.size)

    def rotate_key(self, new_seed: Union[bytes, bytearray, memoryview]
                   ) -> None:
        """Rotate the signing key: write a *rotation* checkpoint, signed
        with the current key, that names the public key of ``new_seed``,
        then sign with ``new_seed`` from now on. Other handles must switch
        to the new key (theirs is refused with InvalidKeyError). A verifier
        may hold either public key. The key bytes are handled as for
        :meth:`set_signing_key`. InvalidKeyError without a current key or
        when ``new_seed`` is the current key."""
        _require("Store.rotate_key()", "eaudit_store_rotate_key")
        store: "Store" = self  # type: ignore[assignment]
        with store._lock:
            sp = store._handle()
            with _KeyArg(new_seed, "new_seed") as k:
                store._run_notifying(
                    lambda: lib.eaudit_store_rotate_key(sp, k.buf, k.size))

    def set_checkpoint_policy(self, *, every_events: int = 1000,
                              every_seconds: Union[int, float,
                                                   _dt.timedelta] = 3600
                              ) -> None:
        """When this Store writes a checkpoint inside an append: when the
        events since the newest checkpoint reach ``every_events``, or when
        the append comes ``every_seconds`` (seconds or a timedelta) or more
        after it. 0 turns either off. Both are set at once: the one not
        given goes back to its default (1000 events, 3600 s).
        OutOfRangeError for negative values."""
        _require("Store.set_checkpoint_policy()",
                 "eaudit_store_set_checkpoint_policy")
        store: "Store" = self  # type: ignore[assignment]
        n = check_int(every_events, "every_events")
        us = check_int(_micros(every_seconds, "every_seconds"),
                       "every_seconds in microseconds")
        with store._lock:
            lib.eaudit_store_set_checkpoint_policy(store._handle(), n, us)

    def checkpoint(self) -> int:
        """Write a checkpoint now, signed with this Store's key, and return
        its checkpoint seq. InvalidKeyError without a key, or when the key
        is not the store's current one."""
        _require("Store.checkpoint()", "eaudit_store_checkpoint")
        store: "Store" = self  # type: ignore[assignment]
        cseq = c_int64()
        with store._lock:
            sp = store._handle()
            store._run_notifying(
                lambda: lib.eaudit_store_checkpoint(sp, byref(cseq)))
        return cseq.value

    def checkpoint_tick(self) -> bool:
        """The timer call: write a checkpoint when the newest one is at
        least the policy's interval old (or there is none), whether or not
        events came in, so that quiet periods are signed too. True when it
        wrote one, False when none was due. Call it from a timer."""
        _require("Store.checkpoint_tick()", "eaudit_store_checkpoint_tick")
        store: "Store" = self  # type: ignore[assignment]
        with store._lock:
            sp = store._handle()
            rc = store._run_notifying(
                lambda: lib.eaudit_store_checkpoint_tick(sp))
        return rc == errors.OK

    def on_checkpoint(self, callback: Optional[CheckpointSink]
                      ) -> Optional[CheckpointSink]:
        """Call ``callback(record)`` with each checkpoint this Store writes
        (299 bytes; :meth:`CheckpointInfo.parse` reads it), after its
        transaction committed, so it can be shipped off the device. None
        stops it. One sink per Store: a new one replaces the old. Returns
        ``callback``, so it also works as a decorator.

        The callback runs on the thread whose call wrote the checkpoint
        (an append, :meth:`checkpoint`, :meth:`checkpoint_tick`,
        :meth:`rotate_key`, :meth:`purge`, ...), inside that call, with the
        Store's lock held. An exception it raises is logged (logger
        ``"entryfy_audit"``) and changes nothing: the checkpoint is stored.
        Calling on_checkpoint() from inside a callback takes effect when
        the call returns. The package keeps the ctypes callback alive until
        it is replaced or the Store closes.
        """
        _require("Store.on_checkpoint()", "eaudit_store_set_checkpoint_sink")
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable or None")
        store: "Store" = self  # type: ignore[assignment]

        fn: Any = None
        if callback is not None:
            cb = callback

            def bridge(record: Any, n: int, payload: Any) -> int:
                try:
                    cb(string_at(record, n))
                    return 0
                except BaseException:  # the library must not see it
                    log.exception("checkpoint sink %r raised; the checkpoint "
                                  "stands", cb)
                    return 1

            fn = _ffi.CHECKPOINT_FN(bridge)

        with store._lock:
            sp = store._handle()

            def install() -> None:
                if store._ptr is None:
                    return
                lib.eaudit_store_set_checkpoint_sink(
                    sp, fn if fn is not None else _ffi.CHECKPOINT_FN(), None)
                # The library calls fn until replaced: keep it alive.
                store._checkpoint_fn = fn

            if store._notifying:
                store._deferred.append(install)
            else:
                install()
        return callback

    def checkpoint_record(self, cseq: int = 0) -> bytes:
        """The stored checkpoint ``cseq`` (0: the newest) as its 299
        bytes: keep the newest off the device and pass it to
        :meth:`verify` as ``newest_checkpoint``. NotFoundError when there
        is no such checkpoint."""
        _require("Store.checkpoint_record()", "eaudit_store_checkpoint_get")
        store: "Store" = self  # type: ignore[assignment]
        cseq = check_int(cseq, "cseq")
        with store._lock:
            rec = self._checkpoint_get(store._handle(), cseq)
        if rec is None:
            raise errors.NotFoundError(
                errors.ENOTFOUND, "the store has no checkpoint" if cseq == 0
                else f"the store has no checkpoint {cseq}",
                function="eaudit_store_checkpoint_get")
        return rec

    @staticmethod
    def _checkpoint_get(sp: Any, cseq: int) -> Optional[bytes]:
        buf = (c_uint8 * CHECKPOINT_SIZE)()
        n = c_size_t()
        rc = lib.eaudit_store_checkpoint_get(sp, cseq, buf, len(buf),
                                             byref(n))
        if rc == errors.ENOTFOUND:
            return None
        return bytes(buf)[:n.value]

    def checkpoints(self) -> List[CheckpointInfo]:
        """Every stored checkpoint, oldest first, parsed (signatures not
        checked)."""
        _require("Store.checkpoints()", "eaudit_store_checkpoint_get")
        store: "Store" = self  # type: ignore[assignment]
        with store._lock:
            return [CheckpointInfo.parse(r)
                    for r in self._records(store._handle())]

    def _records(self, sp: Any) -> List[bytes]:
        newest = self._checkpoint_get(sp, 0)
        if newest is None:
            return []
        out = [newest]
        cseq = CheckpointInfo.parse(newest).cseq - 1
        # Purges drop the oldest checkpoints, so the stored ones are
        # consecutive: walk down to the first missing one.
        while cseq > 0:
            rec = self._checkpoint_get(sp, cseq)
            if rec is None:
                break
            out.append(rec)
            cseq -= 1
        out.reverse()
        return out

    def export_checkpoints(self, file: Target) -> int:
        """Write every stored checkpoint, oldest first, as concatenated
        299-byte records, and return how many. ``file`` is a path (a new
        file, mode 0600, written by the library from one snapshot;
        AlreadyExistsError when it exists) or a binary file object
        (the records are read one by one under this Store's lock).
        :meth:`CheckpointInfo.parse_many` reads them back."""
        _require("Store.export_checkpoints()",
                 "eaudit_store_export_checkpoints")
        store: "Store" = self  # type: ignore[assignment]
        if isinstance(file, (str, os.PathLike)):
            path = os.fsencode(file)
            with store._lock:
                lib.eaudit_store_export_checkpoints(store._handle(), path)
            return os.path.getsize(path) // CHECKPOINT_SIZE
        write = getattr(file, "write", None)
        if write is None:
            raise TypeError("file must be a path or a binary file object")
        if isinstance(file, io.TextIOBase):
            raise TypeError("file must be opened in binary mode ('wb')")
        with store._lock:
            records = self._records(store._handle())
        for rec in records:
            write(rec)
        return len(records)

    # --- verification ------------------------------------------------------------

    def verify(self, public_key: Union[bytes, bytearray, memoryview, None],
               *, newest_checkpoint: Union[bytes, bytearray, memoryview,
                                           CheckpointInfo, None] = None,
               require_signed_tail: bool = False, skip_derived: bool = False,
               record: bool = True, actor: Optional[int] = None
               ) -> VerifyResult:
        """Verify the store from one consistent snapshot: the checkpoints
        and their signatures, the hash chain, and (unless
        ``skip_derived``) the search index and rollups (docs/integrity.md).

        Returns a :class:`VerifyResult` with ``ok`` True when nothing was
        found. **Damage raises**, as the library's return code says:
        :class:`~entryfy_audit.errors.TamperError`, or
        :class:`~entryfy_audit.errors.WrongKeyError` (a TamperError and an
        InvalidKeyError, code EAUDIT_EKEY) when the checkpoints are not
        signed by ``public_key``. The exception's ``result`` is the
        VerifyResult (``damage``, ``first_bad_seq``, ``message``). A
        damaged store is never reported by a return value a caller could
        forget to look at.

        Args:
            public_key: the trusted 32-byte public key, from the caller and
                never from the store. With it, a store without checkpoints
                is ``Damage.UNSIGNED``. None checks the chain alone.
            newest_checkpoint: the newest checkpoint record kept off the
                device (bytes or a CheckpointInfo); with it, truncation
                and a rewritten tail are found. Needs ``public_key``.
            require_signed_tail: events after the newest checkpoint are
                ``Damage.UNSIGNED``.
            skip_derived: skip the rollup and search-index checks.
            record: on damage, append a *Verification failed* event by
                ``actor`` (not on a read-only store). Subscribers see it.
            actor: the user running the verification; required when
                ``record`` is True.
        Raises:
            TamperError, WrongKeyError (damage); InvalidKeyError (a public
            key that is not 32 bytes); FormatError (a malformed
            ``newest_checkpoint``); InvalidArgumentError (``record``
            without an actor, a checkpoint without a key); StoreIOError...
        """
        _require("Store.verify()", "eaudit_store_verify")
        store: "Store" = self  # type: ignore[assignment]
        if record and actor is None:
            raise errors.InvalidArgumentError(
                errors.EINVAL, "a recorded verification needs an actor (the "
                "user running it), or record=False")
        who = check_int(0 if actor is None else actor, "actor")
        pk_buf, nb, n_newest = _verify_inputs(
            public_key, newest_checkpoint, "eaudit_store_verify")
        flags = ((_VERIFY_SKIP_DERIVED if skip_derived else 0)
                 | (0 if record else _VERIFY_NO_RECORD)
                 | (_VERIFY_REQUIRE_SIGNED_TAIL if require_signed_tail else 0))
        out = _ResultP()
        try:
            with store._lock:
                sp = store._handle()
                rc = store._run_notifying(lambda: lib.eaudit_store_verify(
                    sp, who, pk_buf, nb, n_newest, flags, byref(out)))
        except BaseException:
            lib.eaudit_verify_result_free(out)
            raise
        return _verify_outcome(rc, out, "eaudit_store_verify")

    # --- retention and backup -------------------------------------------------------

    def purge(self, before: "TimeBound", *, actor: int,
              batch_size: int = 0) -> int:
        """Purge old events and return how many were removed: every event
        up to the highest seq S such that all events up to S occurred
        before ``before`` (an aware datetime, int microseconds or a time
        expression such as ``"-90d"``); a late old event waits until the
        prefix reaches it. Seq numbers are never reused.

        Works in transactions of ``batch_size`` events (0: as many as
        hold the write lock about 20 ms), pausing between them so
        appenders get in; each batch re-checks the
        links it removes and moves the signed retention anchor. Then a
        *Audit log purged* event by ``actor`` is appended (subscribers see
        it). A signed store needs this Store's signing key.

        Raises TamperError rather than erase damaged evidence (run
        :meth:`verify` first), InvalidKeyError without the key on a signed
        store, OutOfRangeError for a batch size over 1000000. When a later
        batch fails, the batches before it stay purged: the exception's
        ``purged`` attribute says how many events they removed.
        """
        _require("Store.purge()", "eaudit_store_purge")
        store: "Store" = self  # type: ignore[assignment]
        actor = check_int(actor, "actor")
        batch = check_int(batch_size, "batch_size", signed=False)
        n = c_int64()
        with store._lock:
            sp = store._handle()
            t = check_int(store._bound(before, "before"), "before")
            try:
                store._run_notifying(lambda: lib.eaudit_store_purge(
                    sp, t, actor, batch, byref(n)))
            except errors.EntryfyAuditError as exc:
                exc.purged = n.value  # type: ignore[attr-defined]
                raise
        return n.value

    def purge_plan(self, before: Any) -> Tuple[int, int, _dt.datetime]:
        """What :meth:`purge` would remove now for ``before``, without
        writing: ``(events, through_seq, effective_before)``. The limit
        moves back when the anomaly rules still read newer events (the
        longest rule window plus the lateness bound behind the newest
        event); ``effective_before`` says where it ended up."""
        _require("Store.purge_plan()", "eaudit_store_purge_plan")
        store: "Store" = self  # type: ignore[assignment]
        eff, through, n = c_int64(), c_int64(), c_int64()
        with store._lock:
            sp = store._handle()
            t = check_int(store._bound(before, "before"), "before")
            lib.eaudit_store_purge_plan(sp, t, byref(eff), byref(through),
                                        byref(n))
        return n.value, through.value, from_us(eff.value)

    def backup(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Copy the store, while it is in use, into a new file at ``path``
        (mode 0600) with SQLite's online backup, from one consistent
        snapshot. The copy keeps the store id, events, checkpoints and
        anchor, so it verifies on its own with the same public key.
        AlreadyExistsError when the file exists."""
        _require("Store.backup()", "eaudit_store_backup")
        store: "Store" = self  # type: ignore[assignment]
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, not "
                            f"{type(path).__name__}")
        raw = os.fsencode(path)
        with store._lock:
            lib.eaudit_store_backup(store._handle(), raw)


__all__ = ["Damage", "CheckpointKind", "VerifyResult", "CheckpointInfo",
           "IntegrityMixin", "FUNCTIONS", "generate_keypair",
           "public_key_from_seed", "SEED_SIZE", "SECRET_KEY_SIZE",
           "PUBLIC_KEY_SIZE", "CHECKPOINT_SIZE"]
