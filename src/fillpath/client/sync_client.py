"""``fillpath.Client``: the same API as :class:`~fillpath.client.async_client.AsyncClient`, for scripts without an
event loop. Each call runs the async one to completion on a fresh loop (``asyncio.run``); calling it from inside a
running loop is refused with the way out (use ``AsyncClient``)."""

from __future__ import annotations

from collections.abc import Coroutine, Iterable
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from fillpath.client.async_client import AsyncClient

if TYPE_CHECKING:
    from fillpath.client.values import Balances, Reconciliation
    from fillpath.config import Config
    from fillpath.execution.result import ExecutionResult
    from fillpath.rebalance.policy import Policy
    from fillpath.rebalance.run import RebalanceRun
    from fillpath.router.plan import Plan
    from fillpath.router.snapshot import Snapshot

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    import asyncio  # here, not at the top: routing on a snapshot file never needs an event loop

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    from fillpath.model.errors import FillpathError

    raise FillpathError("fillpath.Client is synchronous and an event loop is running here: use fillpath.AsyncClient")


class Client:
    """The operations of the ``fillpath`` command as methods returning frozen values (docs/api.md).

    ``config``: a loaded :class:`fillpath.config.Config`; None resolves it as the CLI does."""

    def __init__(self, config: Config | None = None) -> None:
        self._async = AsyncClient(config)

    @classmethod
    def from_path(cls, path: str | Path) -> Client:
        """A client on the configuration file at ``path``."""
        from fillpath.config import load_config

        return cls(load_config(path))

    @property
    def config(self) -> Config:
        return self._async.config

    @property
    def aio(self) -> AsyncClient:
        """The asynchronous client on the same configuration."""
        return self._async

    def close(self) -> None:
        self._async.mark_closed()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def balances(self, *, refresh: bool = False) -> Balances:
        return _run(self._async.balances(refresh=refresh))

    def snapshot(self) -> Snapshot:
        return _run(self._async.snapshot())

    def route(
        self,
        amount: str | int | Decimal,
        sell: str,
        buy: str,
        *,
        snapshot: Snapshot | str | Path | None = None,
        max_hops: int = 4,
        slippage_bps: int = 50,
        gas: bool = True,
        exclude: Iterable[str] = (),
    ) -> Plan:
        if snapshot is not None:  # pure: no event loop (``route --snapshot`` stays light)
            return self._async.route_on(snapshot, amount, sell, buy, max_hops=max_hops, slippage_bps=slippage_bps,
                                        gas=gas, exclude=exclude)  # fmt: skip
        return _run(self._async.route(amount, sell, buy, max_hops=max_hops, slippage_bps=slippage_bps, gas=gas,
                                      exclude=exclude))  # fmt: skip

    def swap(
        self,
        amount: str | int | Decimal,
        sell: str,
        buy: str,
        *,
        execute: bool = False,
        max_hops: int = 4,
        slippage_bps: int = 50,
    ) -> ExecutionResult:
        return _run(self._async.swap(amount, sell, buy, execute=execute, max_hops=max_hops,
                                     slippage_bps=slippage_bps))  # fmt: skip

    def reconcile(self, *, listen_s: float = 0.0) -> Reconciliation:
        return _run(self._async.reconcile(listen_s=listen_s))

    def rebalance(
        self, policy: Policy | str | Path, *, execute: bool = False, snapshot: Snapshot | None = None
    ) -> RebalanceRun:
        return _run(self._async.rebalance(policy, execute=execute, snapshot=snapshot))

    def policy(self, path: str | Path) -> Policy:
        return self._async.policy(path)
