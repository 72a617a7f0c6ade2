"""Every worker's copy of all watches, with the index the matcher uses.

Any article may match any watch, so each worker follows the whole compacted watches topic
(``streams.compacted``); after every change the entity index is rebuilt and swapped in at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from streams.compacted import CompactedView, OnInvalid
from streams.core.alerts import WatchIndex
from streams.core.models import Watch


class WatchBook(CompactedView[Watch]):
    def __init__(
        self,
        bootstrap: str,
        topic: str,
        on_invalid: OnInvalid | None = None,
        on_change: Callable[[Mapping[str, Watch]], None] = lambda _watches: None,
    ) -> None:
        self.index = WatchIndex.build(())

        def rebuild(watches: Mapping[str, Watch]) -> None:
            self.index = WatchIndex.build(watches.values())
            on_change(watches)

        super().__init__(bootstrap, topic, Watch, lambda watch: watch.watch_id, on_invalid, rebuild)

    @property
    def watches(self) -> Mapping[str, Watch]:
        return self.records
