"""One exception tree for wirewatch.

Every error the user can cause or the environment can raise is a ``WirewatchError``: the CLI prints its
message as one line and exits non-zero. ``retriable`` tells callers (pollers, agents) whether trying
again later can help. Anything else is a bug and is allowed to crash loudly.
"""

from __future__ import annotations


class WirewatchError(Exception):
    """Base of all expected failures; ``str(err)`` is a one-line reason for a person."""

    retriable: bool = False


class ConfigError(WirewatchError):
    """Settings or a data file are invalid."""


class BrokerError(WirewatchError):
    """The dev broker could not be started, stopped or reached."""


class BrokerUnavailable(BrokerError):
    """The broker does not answer (yet); retrying later may help."""

    retriable = True
