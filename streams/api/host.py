"""What the desk API needs of the worker it runs in, as a protocol: the worker passes itself in
(``install_desk_api(app, settings, pipeline)``) and the API never imports the worker (decision 0701)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from faust.types import EventT, StreamT, TopicT
from prometheus_client import CollectorRegistry

from streams.core.history import HistoryHit, LookbackProgress
from streams.core.models import Wire
from streams.infra.compacted import CompactedView, OnInvalid
from streams.infra.entities import EntityBook
from streams.infra.watches import WatchBook


class HasRegistry(Protocol):
    @property
    def registry(self) -> CollectorRegistry: ...


class WorkerHost(Protocol):
    @property
    def metrics(self) -> HasRegistry: ...

    @property
    def watchbook(self) -> WatchBook: ...

    @property
    def entities(self) -> EntityBook: ...

    @property
    def lookback_progress(self) -> CompactedView[LookbackProgress]: ...

    @property
    def history(self) -> CompactedView[HistoryHit]: ...

    @property
    def alerts(self) -> TopicT: ...

    def invalid_record(self, stage: str) -> OnInvalid:
        """A callback that dead-letters what a compacted-topic view could not read."""

    def run_stage(
        self,
        stage: str,
        stream: StreamT[bytes],
        model: type[Wire],
        handle: Callable[[EventT[bytes], Wire], Awaitable[None]],
    ) -> Awaitable[None]:
        """Decode ``stream`` as ``model`` through ``handle``, dead-lettering what fails (one stage policy)."""

    def dead_letter(
        self,
        stage: str,
        reason: str,
        error: str,
        key: bytes | None,
        value: bytes | None,
        event: EventT[bytes] | None = None,
    ) -> Awaitable[None]:
        """Send a record that cannot be processed to the dead-letter topic, counted."""
