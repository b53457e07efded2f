"""Anomaly rules and findings (DESIGN §5). The Python surface is fixed
here; the C functions of <eaudit/rules.h> are declared in this module's table
rows once that header is published, and until then every method raises
UnsupportedError."""

from __future__ import annotations

from typing import Any, Callable, Iterator, List, Mapping, Union

from ._pending import unwired

#: Rows for _ffi.declare() once <eaudit/rules.h> exists.
FUNCTIONS: List[Any] = []


class RulesMixin:
    """Rule and finding methods of :class:`Store`."""

    def load_rules(self, rules: Union[str, bytes, Mapping[str, Any]], *,
                   actor: int) -> None:
        """Replace the active rule set (JSON text or a mapping); records
        *Anomaly rules changed* by ``actor``. Raises RulesError."""
        unwired("Store.load_rules()", "eaudit/rules.h")

    def findings(self, **filters: Any) -> Iterator[Any]:
        """Findings (rule, severity, key, subject, first/last time, events,
        state), lazily."""
        unwired("Store.findings()", "eaudit/rules.h")

    def subscribe_findings(self, callback: Callable[[Any], Any]) -> Any:
        """Call ``callback(finding)`` when a finding opens, after commit, on
        the appending thread (same rules as Store.subscribe())."""
        unwired("Store.subscribe_findings()", "eaudit/rules.h")
