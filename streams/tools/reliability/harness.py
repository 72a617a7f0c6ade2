"""What every scenario shares: its own topic prefix and directory, the watches, the processes it started,
and the end of a run (drain, read the alerts and dead letters, compare with the oracle, clean up)."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kafka.errors import KafkaError

from streams.core.errors import WirewatchError
from streams.core.models import Alert, Article, DeadLetter, Watch
from streams.infra.kafka_topics import ensure_topics
from streams.infra.registry_files import Tag
from streams.infra.settings import Settings, load_settings
from streams.tools.reliability.oracle import AlertCheck, check_alerts, default_tag, pair_watches
from streams.tools.reliability.processes import ConnectorSlot, Slot, WorkerSlot
from streams.tools.reliability.traffic import delete_scenario_topics, read_topic, wait_drained

Say = Callable[[str], None]


@dataclass
class Bench:
    """Where a scenario runs: the broker, a directory for its files and process logs, and progress output."""

    bootstrap: str
    workdir: Path
    say: Say
    keep_topics: bool = False
    """Leave each scenario's topics on the broker for a post-mortem (``--keep-topics``) instead of deleting them."""

    @property
    def tag(self) -> Tag:
        """The shipped tagger, for the oracle."""
        return default_tag()


@dataclass
class Scenario:
    """One run: settings with a fresh prefix (own topics, own consumer group), its workdir and processes."""

    settings: Settings
    workdir: Path
    say: Say
    slots: list[Slot] = field(default_factory=list)

    def worker(self, name: str, static: bool = True) -> WorkerSlot:
        slot = WorkerSlot(name, self.settings, self.workdir / "logs", static)
        self.slots.append(slot)
        return slot

    def connector(self, feeds: Path) -> ConnectorSlot:
        slot = ConnectorSlot(self.settings, feeds, self.workdir / "logs")
        self.slots.append(slot)
        return slot

    def group_connector(self, name: str) -> ConnectorSlot:
        """A connector of the group over the feeds topic, with a state file of its own."""
        slot = ConnectorSlot(self.settings, None, self.workdir / "logs", name)
        self.slots.append(slot)
        return slot

    @contextlib.contextmanager
    def starting(self, *slots: WorkerSlot) -> Iterator[None]:
        """Start the workers, let the caller work while they boot, then wait until each is healthy."""
        for slot in slots:
            slot.start()
        yield
        for slot in slots:
            slot.wait_healthy()

    def start_workers(self, *slots: WorkerSlot) -> None:
        with self.starting(*slots):
            pass

    def tracebacks(self) -> int:
        return sum(slot.tracebacks() for slot in self.slots)

    def crashed(self) -> list[str]:
        """Slots whose last incarnation exited by itself (a worker that gave up instead of recovering)."""
        return [slot.name for slot in self.slots if slot.exited_by_itself()]

    def alerts(self) -> list[Alert]:
        records = read_topic(self.settings.kafka_bootstrap, self.settings.topics.alerts)
        return [Alert.from_wire(r.value) for r in records]

    def dead_letters(self) -> list[DeadLetter]:
        records = read_topic(self.settings.kafka_bootstrap, self.settings.topics.deadletter)
        return [DeadLetter.from_wire(r.value) for r in records]

    def raw_articles(self) -> list[Article]:
        """Each article in ``articles.raw`` once (the first record of an id that was sent more than once)."""
        records = read_topic(self.settings.kafka_bootstrap, self.settings.topics.articles_raw)
        first: dict[str, Article] = {}
        for record in records:
            article = Article.from_wire(record.value)
            first.setdefault(article.id, article)
        return list(first.values())

    def wait_for_articles(self, expected: set[str], timeout_s: float) -> Counter[str]:
        """Records per article id in ``articles.raw`` once every ``expected`` id is there (or the time is up)."""
        deadline = time.monotonic() + timeout_s
        while True:
            records = read_topic(self.settings.kafka_bootstrap, self.settings.topics.articles_raw)
            found = Counter(r.key.decode() for r in records if r.key is not None)
            if expected <= found.keys() or time.monotonic() > deadline:
                return found
            time.sleep(1.0)

    def finish(self, expected: frozenset[str], drain_timeout_s: float) -> Outcome:
        """Wait until the group drained, then compare its alerts with ``expected``."""
        drain_s = wait_drained(self.settings, drain_timeout_s, self.say)
        letters = self.dead_letters()
        return Outcome(
            check=check_alerts(expected, self.alerts()),
            drain_s=drain_s,
            processing_errors=sum(1 for letter in letters if letter.reason == "processing_error"),
            tracebacks=self.tracebacks(),
            crashed=tuple(self.crashed()),
        )


@dataclass(frozen=True)
class Outcome:
    """The end of a pipeline run: the alerts against the oracle, and the signs of trouble."""

    check: AlertCheck
    drain_s: float
    processing_errors: int
    tracebacks: int
    crashed: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return self.check.passed and not self.crashed and self.processing_errors == 0

    def lines(self) -> list[str]:
        return [
            *self.check.lines(),
            f"drained after the last input in  {self.drain_s:7.1f} s",
            f"processing-error dead letters   {self.processing_errors:8d}",
            f"tracebacks in process logs      {self.tracebacks:8d}",
            f"processes that exited by itself {len(self.crashed):8d} {' '.join(self.crashed)}".rstrip(),
        ]


@contextlib.contextmanager
def scenario(
    bootstrap: str, kind: str, workdir: Path, say: Say, partitions: int = 4, keep_topics: bool = False
) -> Iterator[Scenario]:
    """A scenario with its own prefix ``rel<kind><hex>``; stops its processes and deletes its topics after.

    Settings are built afresh rather than with ``model_copy``: a copy would keep the cached topic names.
    """
    prefix = f"rel{kind}{uuid.uuid4().hex[:8]}"
    run_dir = workdir / prefix
    settings = load_settings(kafka_bootstrap=bootstrap, topic_prefix=prefix, topic_partitions=partitions, home=run_dir)
    run = Scenario(settings, run_dir, say)
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        yield run
    finally:
        for slot in run.slots:  # the run is over: nothing is left to shut down cleanly, the topics go next
            if slot.is_running():
                slot.kill()
        if keep_topics:
            say(f"topics kept under the prefix {prefix}")
        else:
            with contextlib.suppress(KafkaError, WirewatchError):  # a failed clean-up must not hide the result
                delete_scenario_topics(settings)


def publish_watches(run: Scenario) -> tuple[Watch, ...]:
    """Create the scenario's topics and publish one watch per pair the synthetic corpus names."""
    from streams.infra.watches import publish

    ensure_topics(run.settings)
    watches = pair_watches()
    for watch in watches:
        publish(run.settings, watch.watch_id, watch)
    return watches
