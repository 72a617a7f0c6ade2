"""``wirewatch demo``: the main job end to end on one machine.

Dev broker → a local feed server with team-written sample feeds → connector → worker → alerts printed as they
fire. Every run starts clean (its own topic prefix, ``demo`` by default, is deleted and recreated, and so is the
connector's state), so the same alerts appear every time. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from hashlib import blake2b
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from string import Template

import yaml

from streams.core.errors import WirewatchError
from streams.core.models import Alert
from streams.infra.processes import WIREWATCH, process_env
from streams.infra.settings import Settings
from streams.tools.devbroker import DevBroker

DEMO_DIR = Path(__file__).resolve().parent / "data" / "demo"


def render_feeds(feed_dir: Path, now: datetime, base_url: str) -> dict[str, bytes]:
    """Sample feeds with ``$pub_N`` replaced by the RFC 822 date N minutes before ``now``, and the article pages
    of ``feed_dir/../pages`` (``pages/NAME.html``); ``$base`` in either is the server's ``base_url``."""

    class Values(dict[str, str]):
        def __missing__(self, key: str) -> str:
            minutes = int(key.removeprefix("pub_"))
            return format_datetime(now - timedelta(minutes=minutes))

    values = Values(base=base_url)
    documents = {
        path.name: Template(path.read_text()).substitute(values).encode() for path in sorted(feed_dir.glob("*.xml"))
    }
    for page in sorted((feed_dir.parent / "pages").glob("*.html")):
        documents[f"pages/{page.name}"] = Template(page.read_text()).substitute(values).encode()
    return documents


class FeedServer:
    """A small local feed server (127.0.0.1, a free port) with ETag/304 support, in a background thread.

    ``documents`` (path → RSS bytes, or HTML bytes for a path ending in ``.html``) is read on every request, so
    its owner can publish by replacing entries; ``delay_s`` makes every answer slow (a connector then spends
    that long inside its cycle).
    """

    def __init__(self, documents: dict[str, bytes] | None = None, delay_s: float = 0.0) -> None:
        self.documents = documents or {}
        self.delay_s = delay_s
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                body = server.documents.get(self.path.split("?")[0].strip("/"))
                if body is None:
                    self.send_error(404)
                    return
                time.sleep(server.delay_s)
                etag = '"' + blake2b(body, digest_size=8).hexdigest() + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                html = self.path.split("?")[0].endswith(".html")
                self.send_header("Content-Type", f"{'text/html' if html else 'application/rss+xml'}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.end_headers()
                with contextlib.suppress(ConnectionError):  # the client went away (a killed connector)
                    self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the connector reports its fetches."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="feed-server", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> FeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class DemoOptions:
    exit_after_alerts: int | None = None
    timeout_s: float | None = None
    json_output: bool = False


def run_demo(settings: Settings, options: DemoOptions, say: Callable[[str], None]) -> int:
    broker = DevBroker(settings.home, port=settings.bootstrap_port)
    started_broker = broker.pid() is None and not broker.is_answering()
    say(broker.start(progress=say))
    workdir = settings.home / "demo" / settings.topic_prefix
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        reset_prefix(settings, workdir)
        say(f"topics ready under prefix {settings.topic_prefix!r}")
        with FeedServer() as feeds:
            feeds.documents = render_feeds(DEMO_DIR / "feeds", datetime.now(UTC), feeds.base_url)
            feed_list = workdir / "feeds.yaml"
            feed_list.write_text(Template((DEMO_DIR / "feeds.yaml.in").read_text()).substitute(base=feeds.base_url))
            pages = sum(1 for name in feeds.documents if name.startswith("pages/"))
            say(f"serving {len(feeds.documents) - pages} sample feeds and {pages} article pages at {feeds.base_url}")
            for line in add_default_watches(settings):
                say(line)
            with _children(settings, workdir, feed_list) as children:
                say(f"connector and worker started (logs: {workdir})")
                say("waiting for alerts — Ctrl-C to stop")
                return _print_alerts(settings, options, say, children)
    finally:
        if started_broker:
            say(f"dev broker {broker.stop()}")


def reset_prefix(settings: Settings, workdir: Path) -> None:
    """Delete this prefix's topics (ours and Faust's) and connector state, then create the topics afresh."""
    from kafka.errors import KafkaError

    from streams.infra.kafka_topics import delete_prefix_topics, ensure_topics

    try:
        delete_prefix_topics(settings, wait_s=30)
    except KafkaError as err:
        raise WirewatchError(f"could not reset the demo topics: {err}") from err
    for state in workdir.glob("connector-state*"):
        state.unlink()
    for attempt in range(20):  # a deleted topic name can be briefly unavailable for re-creation
        try:
            ensure_topics(settings)
            return
        except KafkaError:
            time.sleep(0.5 * (attempt + 1))
    ensure_topics(settings)


def add_default_watches(settings: Settings) -> list[str]:
    from streams.infra.watches import build_watch, publish

    spec = yaml.safe_load((DEMO_DIR / "watches.yaml").read_text())
    lines = []
    for entry in spec["watches"]:
        watch = build_watch(entry["desk"], entry["entities"], scope=entry.get("scope", "article"))
        publish(settings, watch.watch_id, watch)
        lines.append(f"watch {watch.watch_id}: desk {watch.desk}, {' + '.join(entry['entities'])} ({watch.scope})")
    return lines


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def ended(self) -> str | None:
        """Why this child is no longer running (its exit code and its log's first error line, else its last
        lines), or None while it runs."""
        code = self.process.poll()
        if code is None:
            return None
        lines = self.log.read_text(errors="replace").strip().splitlines()
        errors = [line for line in lines if "ERROR" in line or "error:" in line]
        shown = errors[:1] or lines[-5:]
        return f"the {self.name} exited with code {code} ({self.log}):\n  " + "\n  ".join(shown)


@contextlib.contextmanager
def _children(settings: Settings, workdir: Path, feed_list: Path) -> Iterator[list[Child]]:
    env = process_env(settings)
    commands = {
        "worker": [*WIREWATCH, "worker"],
        "connector": [
            *WIREWATCH, "connect", "--feeds", str(feed_list), "--allow-private-networks",
            "--state", str(workdir / "connector-state.sqlite3"),
        ],
    }  # fmt: skip
    children: list[Child] = []
    with contextlib.ExitStack() as logs:
        for name, argv in commands.items():
            path = workdir / f"{name}.log"
            log = logs.enter_context(path.open("wb"))
            process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
            children.append(Child(name, process, path))
        try:
            yield children
        finally:
            _stop([child.process for child in children])


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _print_alerts(settings: Settings, options: DemoOptions, say: Callable[[str], None], children: list[Child]) -> int:
    """Print alerts as they come; stop at the count, the timeout, Ctrl-C, or as soon as a child process ends
    (the worker and the connector run until stopped, so an exit is a failure: a taken port, a bad setting)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False, group_id=None)
    try:
        partitions = consumer.partitions_for_topic(settings.topics.alerts) or set()
        assigned = [TopicPartition(settings.topics.alerts, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        deadline = None if options.timeout_s is None else time.monotonic() + options.timeout_s
        seen: set[str] = set()
        while options.exit_after_alerts is None or len(seen) < options.exit_after_alerts:
            if deadline is not None and time.monotonic() > deadline:
                say(f"timed out with {len(seen)} alerts")
                return 1
            if ended := next(filter(None, (child.ended() for child in children)), None):
                say(ended)
                return 1
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    alert = Alert.from_wire(record.value)
                    if alert.alert_id in seen:
                        continue
                    seen.add(alert.alert_id)
                    print(alert.to_json().decode() if options.json_output else describe_alert(alert), flush=True)
        return 0
    except KeyboardInterrupt:
        say("stopping")
        return 0
    finally:
        consumer.close()


def describe_alert(alert: Alert) -> str:
    """One readable block per alert for people watching the demo."""
    pair = " + ".join(entity.name for entity in alert.entities)
    sourcing = ", ".join(f"{c.name} ({c.role})" for c in alert.state_media.cited) or "none"
    publisher = alert.state_media.publisher.name if alert.state_media.publisher else alert.article.source.name
    lines = [
        f"ALERT [{alert.desk}] {pair} — {alert.article.title}",
        f"  {publisher} · {alert.article.url}",
        f"  state media: {'YES' if alert.state_media.state_sourced else 'no'} · cited: {sourcing}",
        *(f"  » {sentence}" for sentence in alert.evidence),
        f"  alert {alert.alert_id} · story {alert.story_id} · {alert.latency_s:.2f} s after fetch",
    ]
    return "\n".join(lines)
