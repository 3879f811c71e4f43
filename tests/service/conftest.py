"""Helpers for the service's tests: the session lab's configuration with a data directory of the test's own, and
``fillpath run`` in a child process (its URL read from its first line)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fillpath.config import lab_config_path
from fillpath.lab.manager import Lab


def lab_dir() -> Path:
    return Path(os.environ["FILLPATH_TEST_LAB_DIR"])


def service_config(tmp: Path, **service: Any) -> Path:
    """The running lab's fillpath.toml, with ``tmp/data`` as data directory and a ``[service]`` table."""
    text = lab_config_path(lab_dir()).read_text()
    data = tmp / "data"
    data.mkdir(parents=True, exist_ok=True)
    text = re.sub(r"^data_dir = .*$", f'data_dir = "{data}"', text, count=1, flags=re.M)
    lines = ["", "[service]"]
    for k, v in {"reconcile_interval_s": 1.0, "snapshot_interval_s": 1.0, **service}.items():
        lines.append(f"{k} = {json.dumps(v)}")
    path = tmp / "fillpath.toml"
    path.write_text(text + "\n".join(lines) + "\n")
    return path


def admin(path: str, body: dict[str, Any] | None = None) -> Any:
    url = Lab(lab_dir()).exchange_status().url
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{url}{path}", data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def call(url: str, path: str, body: dict[str, Any] | None = None, *, timeout: float = 120) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{url}{path}", data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


class ServiceProcess:
    """``python -m fillpath --config FILE run --port 0`` in a child process."""

    def __init__(self, config: Path, env: dict[str, str] | None = None) -> None:
        self.config = config
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fillpath", "--config", str(config), "run", "--port", "0"],
            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        found = re.search(r"http://[0-9.:]+", line)
        if not found:
            self.proc.kill()
            raise AssertionError(f"no URL from the service: {line!r} {self.proc.stderr.read()[-3000:]}")  # type: ignore[union-attr]
        self.url = found.group(0)

    def wait_ready(self, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                status = call(self.url, "/api/status", timeout=5)
                if status["ready"]:
                    return dict(status)
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.1)
        raise AssertionError("the service did not become ready")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)


@pytest.fixture
def service_proc(anvil_lab: Any, tmp_path: Path) -> Iterator[list[ServiceProcess]]:
    """Services started by a test (stopped at the end however the test went)."""
    started: list[ServiceProcess] = []
    yield started
    for s in started:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait(10)
