"""Run wirewatch processes (and helper apps) as real subprocesses, with logs kept for failures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def child_env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(overrides)
    return env


class Child:
    """A subprocess whose combined output goes to a log file shown when a test fails."""

    def __init__(self, argv: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            argv, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=REPO, start_new_session=True
        )

    @classmethod
    def python(cls, args: list[str], log_path: Path, **env: str) -> Child:
        return cls([sys.executable, *args], log_path, child_env(**env))

    @classmethod
    def wirewatch(cls, args: list[str], log_path: Path, **env: str) -> Child:
        return cls.python(["-m", "streams.cli.main", *args], log_path, **env)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def is_running(self) -> bool:
        return self.process.poll() is None

    def wait(self, timeout_s: float = 120.0) -> int:
        """Wait for a process that ends by itself (a ``--once`` run, a CLI call) and close its log."""
        try:
            self.process.wait(timeout_s)
        finally:
            self.stop()
        return self.process.returncode

    def stop(self, timeout_s: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if not self._log.closed:
            self._log.close()
        return self.process.returncode

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._log.close()
