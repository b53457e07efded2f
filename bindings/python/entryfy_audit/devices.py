"""Device recognition (DESIGN §4): observations, the login calls and the
devices list. The Python surface is fixed here; the C functions of
<eaudit/device.h> are declared in this module's table rows once that header
is published, and until then every method raises UnsupportedError."""

from __future__ import annotations

from typing import Any, List, Optional

from ._pending import unwired
from ._time import Instant

#: Rows for _ffi.declare() once <eaudit/device.h> exists.
FUNCTIONS: List[Any] = []


class DevicesMixin:
    """Device methods of :class:`Store`."""

    def observe_device(self, user: int, kind: str, *, key: Optional[str] = None,
                       at: Optional[Instant] = None, **attributes: Any) -> Any:
        """Record an observation of a user's device (``kind`` "admin_web" or
        "mobile"; attributes: platform, os_family, os_version,
        browser_family, browser_version, model, screen, time_zone,
        language, ip) and return the decision (known/new/changed, reason,
        the event recorded if any)."""
        unwired("Store.observe_device()", "eaudit/device.h")

    def admin_login(self, user: int, *, at: Optional[Instant] = None,
                    **attributes: Any) -> Any:
        """An administrator's console login: observes the browser session
        and records *Admin area login* when it is unusual."""
        unwired("Store.admin_login()", "eaudit/device.h")

    def mobile_login(self, user: int, *, at: Optional[Instant] = None,
                     **attributes: Any) -> Any:
        """A mobile app login: records *Login from unrecognized device* for
        a device new to the system."""
        unwired("Store.mobile_login()", "eaudit/device.h")

    def devices(self, user: Optional[int] = None) -> List[Any]:
        """The known devices, optionally of one user."""
        unwired("Store.devices()", "eaudit/device.h")
