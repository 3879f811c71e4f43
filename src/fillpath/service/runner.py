"""``fillpath run``: bind, start the application, publish the discovery file, wait for SIGTERM/SIGINT, stop cleanly.

The instance lock is taken before the port is bound, so a second start on the same data directory is told which
service already runs there (not "address in use"). The socket is bound before the application starts, so the URL
(a real port even for ``--port 0``) is known to the journal's ``ServiceStarted`` and to the discovery file.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Sequence

from aiohttp import web

from fillpath.config import Config
from fillpath.service.app import STOP_REASON, api_token, build_app
from fillpath.service.instance import InstanceLock, ServiceInfo
from fillpath.service.scheduler import Job

SHUTDOWN_TIMEOUT_S = 1.0
"""How long the server waits for requests still running after the swaps' grace (dashboards' streams end first)."""


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    info = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)[0]
    sock = socket.socket(info[0], socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(info[4])
    except OSError as exc:
        sock.close()
        from fillpath.model.errors import InvalidInput

        raise InvalidInput("--port", f"cannot listen on {host}:{port}: {exc.strerror}", "pick another port") from None
    sock.listen(128)
    return sock


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def serve(
    cfg: Config,
    host: str,
    port: int,
    *,
    announce: Callable[[str], None] = print,
    jobs: Sequence[Job] = (),
    on_locked: Callable[[], None] | None = None,
) -> str:
    """Run until SIGTERM or SIGINT; return why it stopped. ``on_locked``: called once this process owns the data
    directory (before that, another service may own it)."""
    token = api_token(cfg, host)  # before anything else: a bad bind is refused with nothing started
    lock = InstanceLock(cfg.data_dir)
    lock.acquire()
    if on_locked is not None:
        on_locked()
    sock: socket.socket | None = None
    try:
        sock = _bind(host, port)
        url = _url(host, sock.getsockname()[1])
        app = build_app(cfg, url=url, host=host, lock=lock, jobs=jobs)
        runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_TIMEOUT_S, access_log=None)
        stop, why = asyncio.Event(), ["stopped"]
        loop = asyncio.get_running_loop()

        def on_signal(sig: signal.Signals) -> None:
            why.append(sig.name)
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, on_signal, sig)
        await runner.setup()
        try:
            await web.SockSite(runner, sock).start()
            lock.publish(ServiceInfo(url, os.getpid(), time.time_ns(), bool(token)))
            announce(f"fillpath service on {url}  (dashboard {url}/, API {url}/api/status, metrics {url}/metrics)")
            await stop.wait()
            app[STOP_REASON].append(why[-1])
        finally:
            await runner.cleanup()
        return why[-1]
    finally:
        if sock is not None:
            sock.close()
        lock.release()


def run(
    cfg: Config,
    host: str | None,
    port: int | None,
    *,
    announce: Callable[[str], None] = print,
    jobs: Sequence[Job] = (),
    on_locked: Callable[[], None] | None = None,
) -> str:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    port = cfg.service.port if port is None else port
    return asyncio.run(serve(cfg, host or cfg.service.host, port, announce=announce, jobs=jobs, on_locked=on_locked))
