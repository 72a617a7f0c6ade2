"""The connector's branch of the wirewatch exception tree.

Per-feed problems (a refused URL, a timeout, a body that is not a feed) are *data*: they travel as a
``FeedFailure`` with a bounded ``reason`` that becomes a metric label and a scheduling input. These
exceptions exist for the places where raising is clearer than returning, and every one carries the
same bounded reason so that the two paths never disagree.
"""

from __future__ import annotations

from streams.core.errors import ConfigError, WirewatchError


class ConnectorError(WirewatchError):
    """Base of connector failures."""


class FeedListError(ConfigError):
    """The feed list is invalid; the message names the file, line and field."""


class FeedFailure(ConnectorError):
    """One feed could not be fetched or parsed; ``reason`` is one of ``FAILURE_REASONS``."""

    def __init__(self, reason: str, detail: str, *, retriable: bool = False) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.retriable = retriable
