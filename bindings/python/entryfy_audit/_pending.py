"""Shared helper for API areas whose C functions are not in the library yet."""

from __future__ import annotations

from typing import NoReturn

from . import errors
from ._ffi import lib


def unwired(method: str, header: str) -> NoReturn:
    """Raise UnsupportedError for a method whose library functions the
    loaded library (or this package version) does not provide."""
    raise errors.UnsupportedError(
        errors.EUNSUPPORTED,
        f"{method} needs the functions of <{header}>, which libentryfy-audit "
        f"{lib.version} at {lib.path} does not provide to this package",
        function=None)
