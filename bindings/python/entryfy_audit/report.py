"""Reports (DESIGN §7). The file handling is here; the C call of
<eaudit/report.h> is declared once that header is published, and until then
Store.report() raises UnsupportedError before touching the file."""

from __future__ import annotations

import os
from typing import IO, Any, List, Optional, Union

from ._pending import unwired

#: Rows for _ffi.declare() once <eaudit/report.h> exists.
FUNCTIONS: List[Any] = []

#: Formats the library writes.
FORMATS = ("csv", "json", "jsonl", "html", "syslog", "cef")


def check_target(file: Union[str, os.PathLike, IO[bytes]]) -> None:
    """A path, or a file object opened for writing bytes."""
    if isinstance(file, (str, os.PathLike)):
        return
    write = getattr(file, "write", None)
    if write is None:
        raise TypeError("file must be a path or a binary file object")
    try:
        write(b"")
    except TypeError:
        raise TypeError("file must be opened in binary mode ('wb')") from None


class ReportMixin:
    """Report methods of :class:`Store`."""

    def report(self, query: Optional[Any] = None, *, format: str = "csv",
               file: Union[str, os.PathLike, IO[bytes]], actor: int,
               **options: Any) -> None:
        """Write a report for ``query`` (a Query or Results; None: the
        default view) in ``format`` to ``file``, a path or a binary file
        object; records *Audit report exported* by ``actor``."""
        if format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        check_target(file)
        unwired("Store.report()", "eaudit/report.h")
