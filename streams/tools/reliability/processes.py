"""The processes the scenarios start, crash and restart: workers and connectors as real subprocesses.

Each ``Slot`` is one logical process (a worker named "a", the connector) whose incarnations are started,
``kill -9``-ed and restarted; every incarnation writes its own log, so a traceback is never lost to a restart.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from streams.infra.processes import WIREWATCH, answers_healthy, free_port, process_env
from streams.infra.settings import Settings


class Process:
    """One subprocess in its own session (so a kill reaches its children), output to a log file."""

    def __init__(self, argv: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("wb") as log:
            self.popen = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def is_running(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """``kill -9``: no shutdown handler runs, nothing is flushed."""
        if self.is_running():
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def stop(self, timeout_s: float = 60.0) -> int:
        """SIGTERM (a clean shutdown), SIGKILL when it takes longer than ``timeout_s``."""
        if self.is_running():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.popen.returncode

    def rss_bytes(self) -> int:
        """Resident set size from /proc (0 once the process is gone)."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return 0
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass
class Slot:
    """A process role that is started again after every crash; ``runs`` keeps every incarnation."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_dir: Path
    runs: list[Process] = field(default_factory=list)
    stopped: bool = False
    """Ended on purpose by the scenario (SIGTERM or ``kill -9``), as opposed to exited by itself."""

    @property
    def current(self) -> Process:
        return self.runs[-1]

    def is_running(self) -> bool:
        return bool(self.runs) and self.current.is_running()

    def start(self) -> Process:
        if self.is_running():
            raise RuntimeError(f"{self.name} is already running")
        process = Process(self.argv, self.log_dir / f"{self.name}-{len(self.runs) + 1}.log", self.env)
        self.runs.append(process)
        self.stopped = False
        return process

    def kill(self) -> None:
        self.stopped = True
        self.current.kill()

    def stop(self, timeout_s: float = 60.0) -> int:
        self.stopped = True
        return self.current.stop(timeout_s)

    def exited_by_itself(self) -> bool:
        return bool(self.runs) and not self.stopped and not self.current.is_running()

    def logs(self) -> list[str]:
        return [run.log() for run in self.runs]

    def tracebacks(self) -> int:
        return sum(text.count("Traceback (most recent call last)") for text in self.logs())


class WorkerSlot(Slot):
    """``wirewatch worker`` on its own web port, with its slot name as its stable worker id (both kept across
    restarts, as a StatefulSet keeps a pod's name): the shipped membership settings, nothing tuned for tests.
    ``static=False`` runs it as a dynamic member (no worker id), the baseline a restart is compared with."""

    def __init__(self, name: str, settings: Settings, log_dir: Path, static: bool = True) -> None:
        self.port = free_port()
        identity = {"WIREWATCH_WORKER_ID": name} if static else {}
        super().__init__(
            name,
            [*WIREWATCH, "worker", "--loglevel", "info"],
            process_env(settings, WIREWATCH_WEB_PORT=str(self.port), **identity),
            log_dir,
        )

    def wait_healthy(self, timeout_s: float = 120.0) -> None:
        """Until /health answers 200 (watches loaded): the worker is about to join the group."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.is_running():
                raise RuntimeError(f"worker {self.name} exited:\n{self.current.log()[-3000:]}")
            if answers_healthy(self.port):
                return
            time.sleep(0.3)
        raise TimeoutError(f"worker {self.name} not healthy within {timeout_s:.0f} s")


class ConnectorSlot(Slot):
    """``wirewatch connect`` polling ``feeds`` every second, loopback allowed, no metrics port."""

    def __init__(self, settings: Settings, feeds: Path | None, log_dir: Path, name: str = "connector") -> None:
        """``feeds``: a feed list file; ``None``: the feeds topic, as a member of the connector group."""
        source = ["--feeds", str(feeds)] if feeds is not None else ["--state", str(log_dir / f"{name}.sqlite3")]
        argv = [*WIREWATCH, "connect", *source, "--allow-private-networks"]
        env = process_env(settings, WIREWATCH_CONNECTOR_METRICS_PORT="0")
        super().__init__(name, [*argv, "--min-interval", "1", "--metrics-port", "0"], env, log_dir)
