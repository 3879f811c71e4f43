"""``fillpath.AsyncClient``: the public Python API on asyncio. Each call opens what it needs (the store, the
venues' connections) and closes it before returning, so a client holds no socket between calls and works from any
event loop; the configuration is resolved once (lazily: routing on a snapshot file never reads it)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fillpath.client.values import Balances, Reconciliation, Swap
    from fillpath.config import Config
    from fillpath.execution.interrupt import Interrupt
    from fillpath.execution.result import ExecutionResult
    from fillpath.rebalance.policy import Policy
    from fillpath.rebalance.run import RebalanceRun
    from fillpath.router.plan import Plan
    from fillpath.router.snapshot import Snapshot

MAX_LISTEN_S = 300.0
"""A reconciliation pass listens for minutes at most: a longer wait is a service (``fillpath run``), not a pass."""


def _amount_text(amount: str | int | Decimal, field: str) -> str:
    from fillpath.model.errors import InvalidInput

    if isinstance(amount, bool) or not isinstance(amount, str | int | Decimal):
        raise InvalidInput(field, f"{amount!r} is not an amount", "give a string, an int or a Decimal (never a float)")
    return str(amount)


class AsyncClient:
    """The operations of the ``fillpath`` command as methods returning frozen values (see docs/api.md).

    ``config``: a loaded :class:`fillpath.config.Config`; None resolves it as the CLI does (``$FILLPATH_CONFIG``,
    ``./fillpath.toml``, the running lab's)."""

    def __init__(self, config: Config | None = None) -> None:
        self._config = config
        self._closed = False

    @classmethod
    def from_path(cls, path: str | Path) -> AsyncClient:
        """A client on the configuration file at ``path``."""
        from fillpath.config import load_config

        return cls(load_config(path))

    @property
    def config(self) -> Config:
        if self._config is None:
            from fillpath.config import load_config

            self._config = load_config()
        return self._config

    async def close(self) -> None:
        self.mark_closed()

    def mark_closed(self) -> None:
        """Refuse every later call (a client holds no connection between calls: nothing else to release)."""
        self._closed = True

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def _open(self) -> Config:
        if self._closed:
            from fillpath.model.errors import FillpathError

            raise FillpathError("this fillpath client is closed: open a new one")
        return self.config

    # --- reading -------------------------------------------------------------------------------------------

    async def balances(self, *, refresh: bool = False) -> Balances:
        """Per asset@location and per symbol: ledger, venue-reported, in flight, drift, value. ``refresh``: read
        every venue now (otherwise the last reading, read now if there is none)."""
        from fillpath.client.balances import unified_balances

        return await unified_balances(self._open(), fresh=refresh)

    async def snapshot(self) -> Snapshot:
        """A consistent ``fillpath.snapshot/1`` of every configured venue, read now."""
        from fillpath.app import live_snapshot

        return await live_snapshot(self._open())

    async def route(
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
        """The optimal plan (``fillpath.plan/1``) selling ``amount`` of ``sell`` (its human unit) for ``buy``, on
        ``snapshot`` (a Snapshot or a file) or on the venues read now. Pure routing: nothing is sent."""
        if snapshot is None:
            snapshot = await self.snapshot()
        return self.route_on(snapshot, amount, sell, buy, max_hops=max_hops, slippage_bps=slippage_bps, gas=gas,
                             exclude=exclude)  # fmt: skip

    def route_on(
        self,
        snapshot: Snapshot | str | Path,
        amount: str | int | Decimal,
        sell: str,
        buy: str,
        *,
        max_hops: int = 4,
        slippage_bps: int = 50,
        gas: bool = True,
        exclude: Iterable[str] = (),
    ) -> Plan:
        """:meth:`route` on a given snapshot (a Snapshot or a file), synchronously: pure, no event loop needed."""
        from fillpath.client.routing import plan_on
        from fillpath.router.snapshot import Snapshot as Snap

        text = _amount_text(amount, "amount")
        if isinstance(snapshot, Snap):
            snap = snapshot
        else:
            from fillpath.client.files import read_snapshot_file

            snap = read_snapshot_file(Path(snapshot))[0]
        return plan_on(snap, text, sell, buy, max_hops=max_hops, slippage_bps=slippage_bps, gas=gas, exclude=exclude)

    # --- trading -------------------------------------------------------------------------------------------

    async def swap(
        self,
        amount: str | int | Decimal,
        sell: str,
        buy: str,
        *,
        execute: bool = False,
        max_hops: int = 4,
        slippage_bps: int = 50,
    ) -> ExecutionResult:
        """Route and execute (``execute=True``) or dry-run a swap: ``fillpath swap``. With ``execute``, open intents
        are recovered and the ledger reconciled first, then the engine runs with its guards."""
        return (await self.swap_detailed(amount, sell, buy, execute=execute, max_hops=max_hops,
                                         slippage_bps=slippage_bps)).result  # fmt: skip

    async def swap_detailed(
        self,
        amount: str | int | Decimal,
        sell: str,
        buy: str,
        *,
        execute: bool = False,
        max_hops: int = 4,
        slippage_bps: int = 50,
        interrupt: Interrupt | None = None,
    ) -> Swap:
        """:meth:`swap`, plus what recovery settled before it; ``interrupt`` stops it at a step boundary."""
        from fillpath.app import sell_decimals
        from fillpath.client.trading import run_swap
        from fillpath.execution.engine import SwapRequest
        from fillpath.model.amounts import to_base_units
        from fillpath.model.errors import InvalidInput
        from fillpath.router.request import RouteRequest

        if not isinstance(execute, bool):
            raise InvalidInput("execute", f"{execute!r} is not True or False", "trade only with execute=True")
        cfg = self._open()
        decimals = sell_decimals(cfg, sell)
        units = to_base_units(_amount_text(amount, "amount"), decimals, field="AMOUNT")
        route = RouteRequest(sell, units, buy, max_hops=max_hops, slippage_bps=slippage_bps)
        return await run_swap(cfg, SwapRequest(route, sell_decimals=decimals), dry_run=not execute,
                              interrupt=interrupt)  # fmt: skip

    async def reconcile(self, *, listen_s: float = 0.0) -> Reconciliation:
        """One reconciliation pass over every venue (``fillpath reconcile``): what each reports against the ledger;
        differences are recorded as the reconciler decides. ``listen_s``: listen to each exchange's user stream
        first, to compare its balances with the REST read."""
        from fillpath.client.trading import reconcile_once
        from fillpath.model.validate import bounded_number

        listen = bounded_number(listen_s, "listen_s", low=0, high=MAX_LISTEN_S, unit=" seconds")
        return await reconcile_once(self._open(), listen)

    async def rebalance(
        self, policy: Policy | str | Path, *, execute: bool = False, snapshot: Snapshot | None = None
    ) -> RebalanceRun:
        """Bring holdings inside a policy's bands (``fillpath rebalance``): the cheapest set of moves over the whole
        graph, planned on ``snapshot`` or on the venues read now; a dry run (nothing claimed, written or sent)
        unless ``execute``, which recovers and reconciles first and then runs each move through the engine."""
        from fillpath.model.errors import InvalidInput
        from fillpath.rebalance.policy import Policy as Pol
        from fillpath.rebalance.policy import load_policy
        from fillpath.rebalance.run import rebalance

        if not isinstance(execute, bool):
            raise InvalidInput("execute", f"{execute!r} is not True or False", "trade only with execute=True")
        cfg = self._open()
        pol = policy if isinstance(policy, Pol) else load_policy(Path(policy), cfg)
        return await rebalance(cfg, pol, execute=execute, snapshot=snapshot)

    def policy(self, path: str | Path) -> Policy:
        """A policy file, validated against this client's configuration (every problem named at once)."""
        from fillpath.rebalance.policy import load_policy

        return load_policy(Path(path), self._open())
