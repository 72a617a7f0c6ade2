"""The local WebSub hub the connector's integration tests subscribe through (shipped beside the latency bench,
which uses the same hub: ``streams.tools.reliability.hub``)."""

from __future__ import annotations

from streams.tools.reliability.hub import HubEvent, HubSubscriber, LocalHub, with_hub

__all__ = ["HubEvent", "HubSubscriber", "LocalHub", "with_hub"]
