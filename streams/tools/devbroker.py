"""The dev broker: real Apache Kafka (KRaft, one node, 127.0.0.1) run as a JVM process.

The jars come from Maven Central once (``mvn dependency:copy-dependencies`` on ``streams/tools/data/kafka/pom.xml``)
into a cache outside the repository and are reused. Storage is formatted once per port. ``start`` returns
only when a kafka-python admin client can describe the cluster.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from string import Template

from streams.core.errors import BrokerError
from streams.infra.processes import free_port

KAFKA_VERSION = "4.1.2"
_DEPLOY_DIR = Path(__file__).resolve().parent / "data" / "kafka"
_MAIN_CLASS = "kafka.Kafka"


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    pid: int | None
    bootstrap: str
    log_file: Path
    answering: bool

    def describe(self) -> str:
        if self.running:
            state = "ready" if self.answering else "starting (not answering yet)"
            return f"running (pid {self.pid}) at {self.bootstrap}, {state}; log {self.log_file}"
        if self.answering:
            return f"a broker not started by wirewatch answers at {self.bootstrap}"
        return f"stopped ({self.bootstrap} does not answer)"


class DevBroker:
    """One dev broker, identified by its port, with its files under ``home``."""

    def __init__(self, home: Path, port: int = 9092, deploy_dir: Path = _DEPLOY_DIR) -> None:
        self.port = port
        self.deploy_dir = deploy_dir
        self.libs_dir = home / f"kafka-{KAFKA_VERSION}" / "libs"
        self.node_dir = home / f"broker-{port}"
        self.data_dir = self.node_dir / "data"
        self.log_file = self.node_dir / "server.log"
        self.stdout_file = self.node_dir / "stdout.log"
        self.pid_file = self.node_dir / "broker.pid"
        self._process: subprocess.Popen[bytes] | None = None
        """The broker this object started, reaped when it stops (a dropped Popen of a live process warns)."""

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ queries
    def pid(self) -> int | None:
        """The pid from the pid file if that process is alive and is a Kafka JVM; else None."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return pid if _MAIN_CLASS.encode() in cmdline and str(self.node_dir).encode() in cmdline else None

    def is_answering(self, timeout_s: float = 3.0) -> bool:
        return broker_answers(self.bootstrap, timeout_s)

    def status(self) -> BrokerStatus:
        pid = self.pid()
        return BrokerStatus(pid is not None, pid, self.bootstrap, self.log_file, self.is_answering())

    # ------------------------------------------------------------------ start
    def start(self, timeout_s: float = 90.0, progress: Callable[[str], None] = lambda _: None) -> str:
        """Start the broker (or find it running) and wait until it answers; return what happened."""
        if self.pid() is not None:
            if self.is_answering(timeout_s=5):
                return f"already running at {self.bootstrap}"
            self._wait_ready(self.pid(), timeout_s)
            return f"already running at {self.bootstrap}"
        java = shutil.which("java")
        if java is None:
            raise BrokerError("java not found on PATH: install a JDK (17 or newer) to run the dev broker")
        if _port_in_use(self.port):
            if self.is_answering():
                return f"a Kafka broker not started by wirewatch already answers at {self.bootstrap}; using it"
            raise BrokerError(f"port {self.port} on 127.0.0.1 is in use by another program")
        self._fetch_jars(progress)
        self.node_dir.mkdir(parents=True, exist_ok=True)
        controller_port = free_port()
        config = self._write_configs(controller_port)
        classpath = f"{self.libs_dir}/*"
        if not (self.data_dir / "meta.properties").exists():
            progress("formatting storage")
            self._format_storage(java, classpath, config)
        progress(f"starting Kafka {KAFKA_VERSION} on {self.bootstrap}")
        cmd = [
            java,
            "-Xms256m",
            "-Xmx512m",
            "-XX:+UseSerialGC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.node_dir / 'log4j2.yaml'}",
            f"-Dwirewatch.node={self.node_dir}",
            "-cp",
            classpath,
            _MAIN_CLASS,
            str(config),
        ]
        with self.stdout_file.open("ab") as out:
            process = subprocess.Popen(
                cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        self.pid_file.write_text(str(process.pid))
        self._process = process
        self._wait_ready(process.pid, timeout_s, process)
        return f"ready at {self.bootstrap} (pid {process.pid})"

    def _fetch_jars(self, progress: Callable[[str], None]) -> None:
        if (self.libs_dir / f"kafka_2.13-{KAFKA_VERSION}.jar").exists():
            return
        mvn = shutil.which("mvn")
        if mvn is None:
            raise BrokerError(
                f"mvn not found on PATH: Maven is needed once to fetch the Kafka jars into {self.libs_dir}"
            )
        pom = self.deploy_dir / "pom.xml"
        if not pom.is_file():
            raise BrokerError(f"{pom} not found: run wirewatch from a clone of the repository")
        progress(f"fetching Kafka {KAFKA_VERSION} jars with Maven into {self.libs_dir} (once)")
        self.libs_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="libs-", dir=self.libs_dir.parent))
        result = subprocess.run(
            [
                mvn,
                "-q",
                "-B",
                "-f",
                str(pom),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={staging}",
                "-DincludeScope=runtime",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            reason = _last_line(result.stdout + result.stderr) or f"exit code {result.returncode}"
            raise BrokerError(f"Maven could not fetch the Kafka jars: {reason}")
        try:
            staging.rename(self.libs_dir)
        except OSError:  # a concurrent start finished first: its copy is as good as ours
            shutil.rmtree(staging, ignore_errors=True)

    def _write_configs(self, controller_port: int) -> Path:
        values = {
            "port": str(self.port),
            "controller_port": str(controller_port),
            "data_dir": str(self.data_dir),
            "log_file": str(self.log_file),
        }
        config = self.node_dir / "server.properties"
        for template, target in (
            ("server.properties.in", config),
            ("log4j2.yaml.in", self.node_dir / "log4j2.yaml"),
        ):
            source = self.deploy_dir / template
            if not source.is_file():
                raise BrokerError(f"{source} not found: run wirewatch from a clone of the repository")
            target.write_text(Template(source.read_text()).substitute(values))
        return config

    def _format_storage(self, java: str, classpath: str, config: Path) -> None:
        base = [java, "-Xmx256m", "-cp", classpath, "kafka.tools.StorageTool"]
        cluster_id = (
            subprocess.run([*base, "random-uuid"], capture_output=True, text=True, check=False)
            .stdout.strip()
            .splitlines()
        )
        if not cluster_id:
            raise BrokerError("kafka StorageTool random-uuid printed nothing")
        result = subprocess.run(
            [*base, "format", "-t", cluster_id[-1], "-c", str(config), "--ignore-formatted"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BrokerError(f"formatting broker storage failed: {_last_line(result.stdout + result.stderr)}")

    def _wait_ready(self, pid: int | None, timeout_s: float, process: subprocess.Popen[bytes] | None = None) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                reason = self._last_log_error()
                raise BrokerError(f"broker exited with code {process.returncode}: {reason} (log {self.log_file})")
            if process is None and pid is not None and not _alive(pid):
                raise BrokerError(f"broker process {pid} died while starting (log {self.log_file})")
            if self.is_answering(timeout_s=2):
                return
            time.sleep(0.5)
        raise BrokerError(f"broker did not answer at {self.bootstrap} within {timeout_s:.0f} s (log {self.log_file})")

    def _last_log_error(self) -> str:
        lines: list[str] = []
        for path in (self.log_file, self.stdout_file):
            with contextlib.suppress(OSError):
                lines += path.read_text(errors="replace").splitlines()
        errors = [line for line in lines if " ERROR " in line or "Exception" in line]
        return (errors or lines or ["no log output"])[-1].strip()[:300]

    # ------------------------------------------------------------------ stop
    def stop(self, timeout_s: float = 30.0) -> str:
        """Stop gracefully (SIGTERM: controlled shutdown), then SIGKILL after ``timeout_s``."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return "not running"
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        how = "stopped"
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            how = f"killed (no clean shutdown within {timeout_s:.0f} s)"
            while _alive(pid):
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        self._reap()
        return f"{how} (pid {pid})"

    def kill(self) -> None:
        """SIGKILL the broker at once (crash tests)."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.05)
            self._reap()

    def _reap(self) -> None:
        if self._process is not None:
            self._process.wait()
            self._process = None


def broker_answers(bootstrap: str, timeout_s: float = 3.0) -> bool:
    """True when a kafka-python admin client can describe the cluster at ``bootstrap``."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    host, _, port = bootstrap.split(",")[0].rpartition(":")
    if not _port_in_use(int(port), host):
        return False
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            request_timeout_ms=int(timeout_s * 1000),
            bootstrap_timeout_ms=int(timeout_s * 1000),  # a listener that never speaks Kafka: 30 s by default
        )
    except (KafkaError, OSError, ValueError):
        return False
    try:
        return bool(admin.describe_cluster().get("brokers"))
    except (KafkaError, OSError, ValueError):
        return False
    finally:
        admin.close()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def _port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((host, port)) == 0


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
