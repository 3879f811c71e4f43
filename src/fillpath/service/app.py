"""The service's one aiohttp ``Application``, which owns the whole process: every resource is a cleanup context,
set up in order and torn down in reverse (aiohttp's "complex applications" pattern; no singletons, typed keys).

    instance lock → store (ServiceStarted … ServiceStopped) → adapters → start-up gate → background tasks

Shutdown: the site stops taking connections, ``on_shutdown`` stops taking swaps, gives the one in flight its grace,
and ends the dashboards' event streams; then the background tasks are cancelled and awaited, the adapters closed,
and the stop journaled last — after everything that could still write.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import weakref
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace

from aiohttp import web

from fillpath._version import __version__
from fillpath.app import (
    ExecutionParts,
    chain_sources,
    close_all,
    exchange_connectors,
    execution_parts,
    open_store,
    trading_signers,
)
from fillpath.config import LOOPBACK_HOSTS, Config
from fillpath.execution import failpoints
from fillpath.model.errors import InvalidInput
from fillpath.model.events import ServiceStarted, ServiceStopped
from fillpath.service import api
from fillpath.service.hub import EventHub
from fillpath.service.instance import InstanceLock
from fillpath.service.metrics import ServiceMetrics
from fillpath.service.operations import Operations
from fillpath.service.scheduler import Job, Scheduler
from fillpath.service.watch import Watcher
from fillpath.state.store import Store

log = logging.getLogger(__name__)
SERVICE = "fillpath"
"""The ``venue`` of the service's own journal entries."""

CONFIG = web.AppKey("config", Config)
URL = web.AppKey("url", str)
LOCK = web.AppKey("lock", InstanceLock)
STORE = web.AppKey("store", Store)
PARTS = web.AppKey("parts", ExecutionParts)
WATCHER = web.AppKey("watcher", Watcher)
SCHEDULER = web.AppKey("scheduler", Scheduler)
STOP_REASON = web.AppKey("stop_reason", list[str])
"""Why the service stops (the runner records the signal); the last entry is journaled."""


def api_token(cfg: Config, host: str) -> str:
    """The token the API requires: the configured one, and one is mandatory beyond loopback."""
    env = cfg.service.token_env
    token = os.environ.get(env, "") if env else ""
    if env and not token:
        raise InvalidInput(f"${env}", "is not set", "export the API token, or drop [service] token_env")
    if host not in LOOPBACK_HOSTS and not token:
        raise InvalidInput("service.host", f"{host} is beyond loopback and the API has no token",
                           'set [service] token_env = "VAR" and export VAR, or bind 127.0.0.1')  # fmt: skip
    return token


async def _instance(app: web.Application) -> AsyncIterator[None]:
    lock = app[LOCK]
    if not lock.held:
        lock.acquire()
    yield
    lock.release()


async def _store(app: web.Application) -> AsyncIterator[None]:
    store = open_store(app[CONFIG], trading="fillpath run")
    started = time.time_ns()
    store.append(ServiceStarted(SERVICE, os.getpid(), app[URL], __version__))
    app[STORE] = store
    yield
    reasons = app[STOP_REASON]
    store.append(ServiceStopped(SERVICE, os.getpid(), reasons[-1] if reasons else "stopped",
                                (time.time_ns() - started) // 1_000_000))  # fmt: skip
    store.close()


async def _adapters(app: web.Application) -> AsyncIterator[None]:
    cfg, store = app[CONFIG], app[STORE]
    signers = trading_signers(cfg)
    parts = await execution_parts(cfg, store, signers=signers, crash=failpoints.from_env())
    chains = [
        (rpc, replace(src, holder=signers[src.location].address) if src.location in signers else src)
        for rpc, src in chain_sources(cfg)
    ]
    streams = exchange_connectors(cfg, pro=True)
    try:
        metrics, hub = app[api.METRICS], app[api.HUB]
        watcher = Watcher(cfg, store, parts, metrics, hub, chains=chains, streams={c.location: c for c in streams})
        app[PARTS], app[WATCHER] = parts, watcher
        app[api.OPS] = Operations(cfg, store, parts, watcher, app[SCHEDULER], url=app[URL])
        yield
    finally:
        await parts.close()
        await close_all(rpc for rpc, _ in chains)
        await close_all(streams)


async def _gate(app: web.Application) -> AsyncIterator[None]:
    """Recovery, then one pass everywhere, then ready — in the background, so the API can say 503 meanwhile."""
    watcher = app[WATCHER]
    watcher.load_journal()
    task = asyncio.create_task(watcher.startup(), name="startup")
    yield
    await _end([task])


async def _background(app: web.Application) -> AsyncIterator[None]:
    watcher, stop = app[WATCHER], asyncio.Event()
    tasks: list[asyncio.Task[None]] = [asyncio.create_task(make()) for make in watcher.tasks(stop)]

    async def jobs() -> None:
        await watcher.ready.wait()
        await app[SCHEDULER].run(app[api.OPS], stop)

    tasks.append(asyncio.create_task(jobs(), name="scheduler"))
    yield
    stop.set()
    await _end(tasks)
    watcher.tail_once()  # the feed and the metrics see what the loops journaled last


async def _end(tasks: Sequence[asyncio.Task[None]]) -> None:
    """Cancel, then await, so an exception a task died of is logged instead of lost."""
    for t in tasks:
        t.cancel()
    for t, result in zip(tasks, await asyncio.gather(*tasks, return_exceptions=True), strict=True):
        if isinstance(result, Exception):
            log.error("background task %s ended with %r", t.get_name(), result)


async def _on_shutdown(app: web.Application) -> None:
    if api.OPS in app:
        await app[api.OPS].drain(app[CONFIG].service.shutdown_grace_s)
    app[api.HUB].close()
    streams: weakref.WeakSet[web.StreamResponse] = app[api.STREAMS]
    for resp in list(streams):
        resp.force_close()


def build_app(
    cfg: Config,
    *,
    url: str = "",
    host: str = "127.0.0.1",
    lock: InstanceLock | None = None,
    jobs: Sequence[Job] = (),
) -> web.Application:
    """The service for ``cfg``. ``jobs``: scheduled work (the rebalancing jobs of issue 21 plug in here)."""
    app = web.Application(middlewares=api.MIDDLEWARES)
    app[CONFIG], app[URL] = cfg, url
    app[api.TOKEN] = api_token(cfg, host)
    app[LOCK] = lock or InstanceLock(cfg.data_dir)
    app[STOP_REASON] = []
    app[api.HUB] = EventHub()
    app[api.STREAMS] = weakref.WeakSet[web.StreamResponse]()
    app[SCHEDULER] = Scheduler(list(jobs))
    app[api.METRICS] = ServiceMetrics(lambda: app.get(WATCHER))
    app.cleanup_ctx.extend([_instance, _store, _adapters, _gate, _background])
    app.on_shutdown.append(_on_shutdown)
    api.add_routes(app)
    return app
