"""The conformance suite every exchange connector runs (in the spirit of web3.py's module tests).

Subclass :class:`ExchangeConformance` and provide the fixtures ``connector`` (markets loaded, funded
account), ``symbol`` (a liquid spot market), and ``store`` (an empty journal). Each test says what a
connector must do, whatever venue is behind it.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from fillpath.cex.client_ids import CLIENT_ID, client_order_id
from fillpath.cex.connector import CcxtConnector
from fillpath.cex.order_driver import OrderDriver, ResolvePolicy
from fillpath.cex.orders import VenueStatus
from fillpath.model.assets import AssetId
from fillpath.model.commands import SubmitOrder
from fillpath.model.errors import InvalidInput, Rejected
from fillpath.model.events import OrderAccepted, OrderFilled, OrderSubmitted
from fillpath.model.orders import OrderState
from fillpath.model.reports import BalanceReport
from fillpath.model.sides import Side
from fillpath.router.snapshot import loads_snapshot
from fillpath.state.reconciler import Reconciler
from fillpath.state.store import Store


class ExchangeConformance:
    symbol = "ETH/USDT"

    def cmd(self, c: CcxtConnector, intent: str, qty: str, price: str | None = None, side: Side = Side.BUY) -> Any:
        return SubmitOrder(
            c.location, client_order_id(intent), self.symbol, side, Decimal(qty),
            Decimal(price) if price else None, intent,
        )  # fmt: skip

    async def passive_price(self, c: CcxtConnector) -> Decimal:
        """A buy price well under the book (rests, never fills), on the tick."""
        book = await c.order_book(self.symbol, 5)
        tick = c.market(self.symbol).tick
        return (Decimal(book["bids"][0][0]) * Decimal("0.9")) // tick * tick

    # --- markets and books ----------------------------------------------------------------------------

    async def test_markets_have_exact_filters(self, connector: CcxtConnector) -> None:
        m = connector.market(self.symbol)
        assert m.symbol == self.symbol
        assert connector.market(m.venue_symbol) is m
        for value in (m.tick, m.lot, m.min_qty, m.min_notional):
            assert type(value) is Decimal
        assert m.tick > 0 and m.lot > 0
        assert (Decimal(1) / m.lot) == (Decimal(1) / m.lot).to_integral_value()  # a power-of-ten step
        with pytest.raises(InvalidInput, match="symbol"):
            connector.market("NOPE/USDT")

    async def test_rate_limits_come_from_the_venue(self, connector: CcxtConnector) -> None:
        kinds = {r.kind.value for r in connector.limiter.rules}
        assert {"REQUEST_WEIGHT", "ORDERS"} <= kinds
        assert connector.exchange.enableRateLimit is False

    async def test_book_is_a_snapshot_venue(self, connector: CcxtConnector) -> None:
        v = await connector.order_book(self.symbol, 20)
        m = connector.market(self.symbol)
        assert v["kind"] == "order_book"
        assert v["id"] == f"{connector.location}:{m.base}/{m.quote}"
        assert (v["base"], v["quote"]) == (f"{m.base}@{connector.location}", f"{m.quote}@{connector.location}")
        assert set(v) == {"kind", "id", "location", "base", "quote", "taker_fee", "lot", "tick", "min_notional",
                          "bids", "asks"}  # fmt: skip
        bids = [Decimal(p) for p, _ in v["bids"]]
        asks = [Decimal(p) for p, _ in v["asks"]]
        assert 0 < len(bids) <= 20 and 0 < len(asks) <= 20
        assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
        assert bids[0] < asks[0]
        assert all(isinstance(x, str) for level in v["bids"] + v["asks"] for x in level)
        assert Decimal(v["lot"]) == m.lot and Decimal(v["tick"]) == m.tick
        # and the router's snapshot reader takes it as it is
        snap = {
            "format": "fillpath.snapshot/1",
            "taken_at": "2026-11-24T00:00:00Z",
            "assets": [{"id": v["base"], "symbol": m.base, "decimals": 18, "address": None},
                       {"id": v["quote"], "symbol": m.quote, "decimals": 6, "address": None}],
            "locations": [{"id": connector.location, "kind": "cex"}],
            "venues": [v],
        }  # fmt: skip
        assert len(loads_snapshot(json.dumps(snap)).venues) == 1

    # --- balances -------------------------------------------------------------------------------------

    async def test_balances_are_decimal_reports(self, connector: CcxtConnector) -> None:
        reports = await connector.balances()
        assert reports and all(isinstance(r, BalanceReport) for r in reports)
        assert all(type(r.amount) is Decimal and r.asset.location == connector.location for r in reports)
        quote = AssetId(connector.market(self.symbol).quote, connector.location)
        assert next(r for r in reports if r.asset == quote).amount > 0

    async def test_connector_is_a_balance_source(self, connector: CcxtConnector, store: Store) -> None:
        result = await Reconciler(store, [connector]).run_once()
        assert result[0].venue == connector.location
        assert len(result[0].reports) == len(await connector.balances())

    # --- orders ---------------------------------------------------------------------------------------

    async def test_limit_order_with_our_client_id_fetch_and_cancel(self, connector: CcxtConnector) -> None:
        cmd = self.cmd(connector, "conf-limit", "0.01", str(await self.passive_price(connector)))
        assert CLIENT_ID.match(cmd.client_order_id)
        reply = await connector.submit(cmd)
        assert reply.report.client_order_id == cmd.client_order_id
        assert reply.report.status == VenueStatus.OPEN and reply.fills == ()
        fetched = await connector.fetch_order(self.symbol, cmd.client_order_id)
        assert fetched is not None
        assert (fetched.venue_order_id, fetched.status) == (reply.report.venue_order_id, VenueStatus.OPEN)
        canceled = await connector.cancel(self.symbol, cmd.client_order_id)
        assert canceled is not None and canceled.status == VenueStatus.CANCELED
        assert canceled.client_order_id == cmd.client_order_id
        again = await connector.fetch_order(self.symbol, cmd.client_order_id)
        assert again is not None and again.status == VenueStatus.CANCELED

    async def test_market_order_and_its_fills(self, connector: CcxtConnector) -> None:
        cmd = self.cmd(connector, "conf-market", "0.5")
        reply = await connector.submit(cmd)
        assert reply.report.status == VenueStatus.FILLED
        assert reply.report.filled_qty == Decimal("0.5")
        assert sum(f.qty for f in reply.fills) == Decimal("0.5")
        fills = await connector.fetch_fills(self.symbol, cmd.client_order_id, reply.report.venue_order_id)
        assert {f.trade_id for f in fills} == {f.trade_id for f in reply.fills}
        assert all(type(f.price) is Decimal and f.fee >= 0 and f.venue_ts for f in fills)
        # without the venue order id (what a lost reply leaves us): found through the trade list
        since = min(f.venue_ts or 0 for f in fills) // 1_000_000 - 1000
        assert {f.trade_id for f in await connector.fetch_fills(self.symbol, cmd.client_order_id, None, since)} == {
            f.trade_id for f in fills
        }

    async def test_same_client_id_is_refused(self, connector: CcxtConnector) -> None:
        cmd = self.cmd(connector, "conf-dup", "0.01", str(await self.passive_price(connector)))
        await connector.submit(cmd)
        with pytest.raises(Rejected) as caught:
            await connector.submit(cmd)
        assert caught.value.reason == "duplicate"

    async def test_unknown_orders_are_none(self, connector: CcxtConnector) -> None:
        assert await connector.fetch_order(self.symbol, client_order_id("never-sent")) is None
        assert await connector.cancel(self.symbol, client_order_id("never-sent")) is None

    async def test_filters_are_checked_before_sending(self, connector: CcxtConnector) -> None:
        lot = connector.market(self.symbol).lot
        with pytest.raises(InvalidInput, match="lot"):
            connector.validate(self.cmd(connector, "conf-bad", str(lot * Decimal("1.5"))))

    async def test_driver_journals_the_life_of_an_order(self, connector: CcxtConnector, store: Store) -> None:
        drv = OrderDriver(connector, store, policy=ResolvePolicy(grace_s=0.2, first_delay_s=0.01))
        cmd = self.cmd(connector, "conf-driver", "0.3")
        done = await drv.submit(cmd)
        assert done.state is OrderState.FILLED
        kinds = [type(r.event) for r in store.events()]
        assert kinds[:2] == [OrderSubmitted, OrderAccepted] and kinds[-1] is OrderFilled
        record = store.order(connector.location, cmd.client_order_id)
        assert record is not None and record.filled_qty == Decimal("0.3")
