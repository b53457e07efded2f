"""Shipping a site store's events into a central PostgreSQL store
(<eaudit/ship.h>, docs/scale-out.md).

The central store is named by a libpq URI (``postgresql://...``). A library
built without PostgreSQL raises :class:`~entryfy_audit.UnsupportedError`.
"""

from __future__ import annotations

import uuid
from ctypes import (POINTER, byref, c_char_p, c_int, c_int64, c_size_t,
                    c_uint, c_uint8)
from typing import TYPE_CHECKING, Any, Optional, Union

from . import _ffi, errors
from ._ffi import Fn, check_int, check_rc, lib
from ._pending import unwired
from .integrity import (CheckpointInfo, VerifyResult, _verify_inputs,
                        _verify_outcome, check_verify)

if TYPE_CHECKING:  # pragma: no cover
    from .store import Store

_SINCE = 1_000_000
_HEADER = "eaudit/ship.h"

#: Schema version of the central store this package's library writes.
CENTRAL_SCHEMA_VERSION = 6
#: Batch size used when :meth:`Store.ship` is given 0.
SHIP_BATCH_DEFAULT = 1000

FUNCTIONS = [
    Fn("eaudit_central_init", [c_char_p], c_int, check_rc, _SINCE),
    Fn("eaudit_store_ship",
       [_ffi.StoreP, c_char_p, c_size_t, POINTER(c_int64)], c_int,
       check_rc, _SINCE),
    Fn("eaudit_central_verify_site",
       [c_char_p, _ffi.UUID16, POINTER(c_int64)], c_int, check_rc,
       _SINCE),
    Fn("eaudit_central_verify_site_signed",
       [c_char_p, _ffi.UUID16, POINTER(c_uint8), POINTER(c_uint8), c_size_t,
        c_uint, POINTER(_ffi.VerifyResultP)], c_int, check_verify, _SINCE),
]
_ffi.declare(FUNCTIONS)


def _require(method: str, function: str) -> None:
    if not lib.has(function):
        unwired(method, _HEADER)


def _uri(uri: Any) -> bytes:
    if not isinstance(uri, str):
        raise TypeError(f"central_uri must be a str, not {type(uri).__name__}")
    return uri.encode("utf-8")


def central_init(central_uri: str) -> None:
    """Create the central schema at ``central_uri`` or migrate it; safe to
    repeat and to run from several processes at once. SchemaTooNewError
    for a newer schema, StoreIOError when the server cannot be reached."""
    _require("central_init()", "eaudit_central_init")
    lib.eaudit_central_init(_uri(central_uri))


def central_verify_site(central_uri: str,
                        site_id: Union[uuid.UUID, bytes]) -> int:
    """Verify one site's chain in the central store end to end and return
    the number of events checked. TamperError names the first bad seq;
    NotFoundError when that site never shipped there."""
    _require("central_verify_site()", "eaudit_central_verify_site")
    raw = site_id.bytes if isinstance(site_id, uuid.UUID) else bytes(site_id)
    if len(raw) != 16:
        raise ValueError("site_id must be a UUID or 16 bytes")
    n = c_int64()
    lib.eaudit_central_verify_site(_uri(central_uri),
                                   _ffi.UUID16.from_buffer_copy(raw), byref(n))
    return n.value


def central_verify_site_signed(
        central_uri: str, site_id: Union[uuid.UUID, bytes],
        public_key: Union[bytes, bytearray, memoryview, None], *,
        newest_checkpoint: Union[bytes, bytearray, memoryview,
                                 CheckpointInfo, None] = None,
        require_signed_tail: bool = False) -> VerifyResult:
    """Verify one site's chain in the central store against the site's own
    signed checkpoints, shipped with its events: their signatures by
    ``public_key`` (the site's; None checks their structure only), every
    link they sign, and that the chain starts no later than the retention
    anchor the site signed. Returns a :class:`VerifyResult`; damage raises
    TamperError or WrongKeyError with the result attached, as
    :meth:`Store.verify`. NotFoundError when that site never shipped
    there."""
    _require("central_verify_site_signed()",
             "eaudit_central_verify_site_signed")
    raw = site_id.bytes if isinstance(site_id, uuid.UUID) else bytes(site_id)
    if len(raw) != 16:
        raise ValueError("site_id must be a UUID or 16 bytes")
    fn = "eaudit_central_verify_site_signed"
    pk_buf, nb, n_newest = _verify_inputs(public_key, newest_checkpoint, fn)
    out = _ffi.VerifyResultP()
    try:
        rc = lib.eaudit_central_verify_site_signed(
            _uri(central_uri), _ffi.UUID16.from_buffer_copy(raw), pk_buf, nb,
            n_newest, 4 if require_signed_tail else 0, byref(out))
    except BaseException:
        lib.eaudit_verify_result_free(out)
        raise
    return _verify_outcome(rc, out, fn)


class ShipMixin:
    """The shipping method of :class:`Store`."""

    _lock: Any

    def ship(self, central_uri: str, batch_size: int = 0) -> int:
        """Send this site store's events that the central store at
        ``central_uri`` does not have yet, in batches of ``batch_size``
        (0: 1000), and return how many were inserted. Each batch is one
        transaction that checks the chain continues the central one and
        moves the site's cursor, so calling again after a failure resumes.

        Raises TamperError when the site's chain does not continue the
        central one (nothing of that batch is written), CursorError when
        the site purged events never shipped, StoreIOError when the server
        fails or cannot be reached. The exception's ``shipped`` attribute
        counts the events the batches before the failure inserted."""
        _require("Store.ship()", "eaudit_store_ship")
        store: "Store" = self  # type: ignore[assignment]
        batch = check_int(batch_size, "batch_size", signed=False)
        n = c_int64()
        raw = _uri(central_uri)
        with store._lock:
            try:
                lib.eaudit_store_ship(store._handle(), raw, batch, byref(n))
            except Exception as exc:
                exc.shipped = n.value  # type: ignore[attr-defined]
                raise
        return n.value


__all__ = ["FUNCTIONS", "ShipMixin", "central_init", "central_verify_site",
           "central_verify_site_signed",
           "CENTRAL_SCHEMA_VERSION", "SHIP_BATCH_DEFAULT"]
