"""Starting the simulator: in this process (tests) or as a child process (tools, other languages)."""

from __future__ import annotations

import hmac
import ipaddress
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from fillpath.lab.exchange.config import SimConfig
from fillpath.lab.exchange.okx.venue import OkxVenue
from fillpath.lab.exchange.venue import SimVenue


def make_venue(config: SimConfig) -> SimVenue | OkxVenue:
    """The surface ``config.dialect`` names, over a fresh engine."""
    return OkxVenue(config) if config.dialect == "okx" else SimVenue(config)


class SimServer:
    """``async with SimServer(config) as sim: sim.url`` — an aiohttp server on a free loopback port."""

    def __init__(
        self, config: SimConfig | None = None, *, host: str = "127.0.0.1", port: int = 0, token: str | None = None
    ) -> None:
        self.venue = make_venue(config or SimConfig())
        self.token = token
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> str:
        app = self.venue.app()
        if self.token is not None:
            app.middlewares.insert(0, remote_token(self.token))
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = int(self._runner.addresses[0][1])
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


TOKEN_HEADER = "X-Fillpath-Sim-Token"


def remote_token(token: str) -> Any:
    """A middleware for a simulator bound beyond loopback: a caller that is not on loopback must send the token
    (``X-Fillpath-Sim-Token``); the admin routes stay loopback-only whatever it sends (``admin.py``)."""

    @web.middleware
    async def check(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            local = ipaddress.ip_address(request.remote or "").is_loopback
        except ValueError:
            local = False
        if not local and not hmac.compare_digest(request.headers.get(TOKEN_HEADER, ""), token):
            raise web.HTTPUnauthorized(text=f"send the simulator's token in {TOKEN_HEADER}")
        response: web.StreamResponse = await handler(request)
        return response

    return check


@dataclass
class SimProcess:
    """A simulator running as ``fillpath sim serve`` in a child process."""

    process: subprocess.Popen[str]
    url: str

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def spawn_sim(args: list[str] | None = None, *, timeout: float = 20.0) -> SimProcess:
    """Run ``fillpath sim serve --port 0 ARGS`` and wait for the URL it prints."""
    src = str(Path(__file__).resolve().parents[3])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "fillpath.cli.main", "sim", "serve", "--port", "0", *(args or [])]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            process.kill()
            raise RuntimeError(f"the simulator printed nothing within {timeout} s")
    line = process.stdout.readline().strip()
    if not line.startswith("http://"):
        process.kill()
        raise RuntimeError(f"the simulator did not start: {line!r}")
    return SimProcess(process, line.split()[0])
