"""The conformance suite every exchange connector runs (in the spirit of web3.py's module tests).

Subclass :class:`ExchangeConformance` and provide the ``dialect`` fixture (the ccxt id of the simulated exchange;
the ``sim``, ``connector``, ``make_connector`` and ``store`` fixtures follow from it). Each test says what a
connector must do, whatever venue is behind it. Where a venue's API does less, its dialect declares the gap
(``fillpath.cex.dialect.Gap``) and the test checks the declared behaviour instead: ``test_declared_gaps_hold``
proves each declaration against the venue, so a gap can be neither hidden nor invented.

A new dialect is added by passing this suite (and the fault suite, ``connector/test_connector_faults.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from connector_fixtures import FAST
from simkit import TIME_PATH, Sim

from fillpath.cex.balance_check import disagreements
from fillpath.cex.client_ids import CLIENT_ID, client_order_id
from fillpath.cex.connector import CcxtConnector
from fillpath.cex.dialect import Endpoint, Gap
from fillpath.cex.order_driver import OrderDriver, ResolvePolicy
from fillpath.cex.orders import VenueStatus
from fillpath.cex.user_stream import UserStream
from fillpath.model.assets import AssetId
from fillpath.model.commands import SubmitOrder
from fillpath.model.errors import InvalidInput, Rejected
from fillpath.model.events import (
    FillEvent,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderPartiallyFilled,
    OrderSubmitted,
    OrderUnknown,
)
from fillpath.model.orders import OrderState, TimeInForce
from fillpath.model.reports import BalanceReport, FillReport, OrderStatusReport
from fillpath.model.sides import Side
from fillpath.router.snapshot import loads_snapshot
from fillpath.state.reconciler import Reconciler
from fillpath.state.store import Store

MakeConnector = Callable[..., Awaitable[CcxtConnector]]
BOOK = "ETHUSDT"
"""The simulator's own name of the market (its admin API speaks the engine's names, whatever the dialect)."""


async def settled(drv: OrderDriver, cmd: SubmitOrder) -> OrderState:
    """Submit, then poll to a final state (a venue that only acknowledges needs the poll)."""
    o = await drv.submit(cmd)
    if not o.state.terminal:
        o = await drv.settle(cmd.client_order_id)
    return o.state


class ExchangeConformance:
    symbol = "ETH/USDT"

    def cmd(
        self, c: CcxtConnector, intent: str, qty: str, price: str | None = None, side: Side = Side.BUY,
        tif: TimeInForce = TimeInForce.GTC,
    ) -> SubmitOrder:  # fmt: skip
        return SubmitOrder(
            c.location, client_order_id(intent), self.symbol, side, Decimal(qty),
            Decimal(price) if price else None, intent, tif,
        )  # fmt: skip

    async def passive_price(self, c: CcxtConnector) -> Decimal:
        """A buy price well under the book (rests, never fills), on the tick."""
        book = await c.order_book(self.symbol, 5)
        tick = c.market(self.symbol).tick
        return (Decimal(book["bids"][0][0]) * Decimal("0.9")) // tick * tick

    # --- markets and books ----------------------------------------------------------------------------

    async def test_markets_have_exact_filters(self, sim: Sim, dialect: str, connector: CcxtConnector) -> None:
        assert connector.dialect.name == connector.exchange.id == sim.dialect == dialect  # this dialect, this venue
        m = connector.market(self.symbol)
        assert m.symbol == self.symbol
        assert connector.market(m.venue_symbol) is m
        for value in (m.tick, m.lot, m.min_qty, m.min_notional):
            assert type(value) is Decimal
        assert m.tick > 0 and m.lot > 0
        assert (Decimal(1) / m.lot) == (Decimal(1) / m.lot).to_integral_value()  # a power-of-ten step
        with pytest.raises(InvalidInput, match="symbol"):
            connector.market("NOPE/USDT")

    async def test_rate_limits_are_the_venues_and_ccxts_throttle_is_off(self, connector: CcxtConnector) -> None:
        kinds = {r.kind.value for r in connector.limiter.rules}
        assert {"REQUEST_WEIGHT", "ORDERS"} <= kinds
        assert connector.exchange.enableRateLimit is False
        if Gap.RATE_LIMITS_NOT_PUBLISHED in connector.dialect.gaps:
            assert connector.limiter.rules == connector.dialect.rules  # the published figures
        else:  # read from the venue: the simulator publishes 6000 per minute
            assert any(r.kind.value == "REQUEST_WEIGHT" and r.limit == 6000 for r in connector.limiter.rules)

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
        assert Decimal(v["taker_fee"]) == Decimal("0.001")  # the account's fee, read from the venue
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
        assert next(r for r in reports if r.asset == quote).amount == Decimal(1_000_000)

    async def test_balances_move_by_exactly_what_the_fills_say(self, connector: CcxtConnector) -> None:
        m = connector.market(self.symbol)
        before = {r.asset.symbol: r.amount for r in await connector.balances()}
        cmd = self.cmd(connector, "conf-balance", "0.7")
        reply = await connector.submit(cmd)
        fills = await connector.fetch_fills(self.symbol, cmd.client_order_id, reply.report.venue_order_id)
        assert sum(f.qty for f in fills) == Decimal("0.7")
        after = {r.asset.symbol: r.amount for r in await connector.balances()}
        base_fee = sum((f.fee for f in fills if f.fee_asset == m.base), Decimal(0))
        quote_fee = sum((f.fee for f in fills if f.fee_asset == m.quote), Decimal(0))
        assert after[m.base] - before[m.base] == Decimal("0.7") - base_fee
        assert before[m.quote] - after[m.quote] == sum((f.qty * f.price for f in fills), Decimal(0)) + quote_fee

    async def test_connector_is_a_balance_source(self, connector: CcxtConnector, store: Store) -> None:
        result = await Reconciler(store, [connector]).run_once()
        assert result[0].venue == connector.location
        assert len(result[0].reports) == len(await connector.balances())

    # --- orders ---------------------------------------------------------------------------------------

    async def test_limit_order_with_our_client_id_fetch_and_cancel(self, connector: CcxtConnector) -> None:
        cmd = self.cmd(connector, "conf-limit", "0.01", str(await self.passive_price(connector)))
        assert CLIENT_ID.match(cmd.client_order_id) and connector.dialect.client_id.match(cmd.client_order_id)
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
        assert await connector.cancel(self.symbol, cmd.client_order_id) is None  # no longer worked: none to cancel

    async def test_market_order_and_its_fills(self, connector: CcxtConnector) -> None:
        cmd = self.cmd(connector, "conf-market", "0.5")
        reply = await connector.submit(cmd)
        if Gap.ACK_ONLY in connector.dialect.gaps:  # the reply names the order; its state is asked for
            assert (reply.report.status, reply.report.filled_qty, reply.fills) == (VenueStatus.OPEN, 0, ())
            report = await connector.fetch_order(self.symbol, cmd.client_order_id)
            assert report is not None
        else:
            report = reply.report
            assert sum(f.qty for f in reply.fills) == Decimal("0.5")
        assert report.status == VenueStatus.FILLED and report.venue_order_id == reply.report.venue_order_id
        assert report.filled_qty == Decimal("0.5")
        fills = await connector.fetch_fills(self.symbol, cmd.client_order_id, report.venue_order_id)
        if reply.fills:
            assert {f.trade_id for f in fills} == {f.trade_id for f in reply.fills}
        assert sum(f.qty for f in fills) == Decimal("0.5")
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

    async def test_filters_and_the_id_alphabet_are_checked_before_sending(
        self, sim: Sim, connector: CcxtConnector
    ) -> None:
        lot = connector.market(self.symbol).lot
        with pytest.raises(InvalidInput, match="lot"):
            connector.validate(self.cmd(connector, "conf-bad", str(lot * Decimal("1.5"))))
        too_long = SubmitOrder(connector.location, "x" * 37, self.symbol, Side.BUY, Decimal("0.01"))
        with pytest.raises(InvalidInput, match="client_order_id"):
            await connector.submit(too_long)
        assert await sim.requests() == []  # refused here: nothing reached the venue

    async def test_driver_journals_the_life_of_an_order(self, connector: CcxtConnector, store: Store) -> None:
        drv = OrderDriver(connector, store, policy=ResolvePolicy(grace_s=0.2, first_delay_s=0.01))
        cmd = self.cmd(connector, "conf-driver", "0.3")
        assert await settled(drv, cmd) is OrderState.FILLED
        kinds = [type(r.event) for r in store.events()]
        assert kinds[:2] == [OrderSubmitted, OrderAccepted] and kinds[-1] is OrderFilled
        record = store.order(connector.location, cmd.client_order_id)
        assert record is not None and record.filled_qty == Decimal("0.3")

    # --- states, partial fills, races ----------------------------------------------------------------

    async def test_unified_order_states(self, sim: Sim, connector: CcxtConnector) -> None:
        """Whatever the venue's words, an order reads OPEN, PARTIALLY_FILLED, and a final state; an IOC's
        unfilled rest ends it (an expiry on one venue, a cancel on another: both final, the fill exact)."""
        await sim.admin("POST", "/admin/book", {"symbol": BOOK, "bids": [["2900", "10"]],
                                                "asks": [["3000", "0.2"], ["3100", "10"]]})  # fmt: skip
        gtc = self.cmd(connector, "conf-states-gtc", "0.5", "3000")
        await connector.submit(gtc)
        partial = await connector.fetch_order(self.symbol, gtc.client_order_id)
        assert partial is not None
        assert (partial.status, partial.filled_qty) == (VenueStatus.PARTIALLY_FILLED, Decimal("0.2"))
        canceled = await connector.cancel(self.symbol, gtc.client_order_id)
        assert canceled is not None
        assert (canceled.status, canceled.filled_qty) == (VenueStatus.CANCELED, Decimal("0.2"))
        await sim.admin("POST", "/admin/book", {"symbol": BOOK, "bids": [["2900", "10"]],
                                                "asks": [["3000", "0.2"], ["3100", "10"]]})  # fmt: skip
        ioc = self.cmd(connector, "conf-states-ioc", "0.5", "3000", tif=TimeInForce.IOC)
        await connector.submit(ioc)
        ended = await connector.fetch_order(self.symbol, ioc.client_order_id)
        assert ended is not None
        assert ended.status in (VenueStatus.EXPIRED, VenueStatus.CANCELED) and ended.filled_qty == Decimal("0.2")
        filled = self.cmd(connector, "conf-states-filled", "0.1", "3100")
        await connector.submit(filled)
        done = await connector.fetch_order(self.symbol, filled.client_order_id)
        assert done is not None and (done.status, done.filled_qty) == (VenueStatus.FILLED, Decimal("0.1"))

    async def test_partial_fills_are_booked_once_each(self, sim: Sim, connector: CcxtConnector, store: Store) -> None:
        connector.journal = store
        drv = OrderDriver(connector, store, policy=FAST)
        await sim.admin("POST", "/admin/book", {"symbol": BOOK, "bids": [["2900", "10"]],
                                                "asks": [["3000", "0.2"], ["3100", "10"]]})  # fmt: skip
        cmd = self.cmd(connector, "conf-partial", "0.5", "3000")
        await drv.submit(cmd)
        o = await drv.poll(cmd.client_order_id)
        assert (o.state, o.filled_qty) == (OrderState.PARTIALLY_FILLED, Decimal("0.2"))
        # the market comes down through the rest of the bid: it fills as a maker, at its own price
        await sim.admin("POST", "/admin/book", {"symbol": BOOK, "bids": [["2800", "10"]],
                                                "asks": [["2990", "5"]]})  # fmt: skip
        done = await drv.settle(cmd.client_order_id)
        assert (done.state, done.filled_qty) == (OrderState.FILLED, Decimal("0.5"))
        kinds = [type(r.event) for r in store.events() if isinstance(r.event, FillEvent)]
        assert kinds == [OrderPartiallyFilled, OrderFilled]
        venue = await connector.fetch_fills(self.symbol, cmd.client_order_id, done.venue_order_id)
        assert {f.trade_id for f in venue} == set(done.trade_ids) and len(venue) == 2
        assert {f.price for f in venue} == {Decimal(3000)}

    async def test_a_cancel_racing_fills_ends_where_the_venue_says(
        self, sim: Sim, connector: CcxtConnector, store: Store
    ) -> None:
        """The cancel and the market crossing the order race; whichever wins, the driver's final state and
        filled quantity are the venue's and every trade is booked once."""
        connector.journal = store
        drv = OrderDriver(connector, store, policy=FAST)
        outcomes = set()
        for i in range(4):
            await sim.admin("POST", "/admin/book", {"symbol": BOOK, "bids": [["2900", "10"]],
                                                    "asks": [["3000", "10"]]})  # fmt: skip
            cmd = self.cmd(connector, f"conf-race-{i}", "0.5", "2950")
            await drv.submit(cmd)
            cross = sim.admin("POST", "/admin/book", {"symbol": BOOK, "bids": [["2800", "10"]],
                                                      "asks": [["2940", "0.3"], ["3100", "10"]]})  # fmt: skip
            cancel = drv.cancel(cmd.client_order_id)
            await asyncio.gather(*((cancel, cross) if i % 2 else (cross, cancel)))
            done = await drv.settle(cmd.client_order_id)
            venue = await connector.fetch_order(self.symbol, cmd.client_order_id)
            assert venue is not None and done.state.terminal
            assert (done.state.value, done.filled_qty) == (venue.status.value, venue.filled_qty)
            fills = await connector.fetch_fills(self.symbol, cmd.client_order_id, done.venue_order_id)
            assert set(done.trade_ids) == {f.trade_id for f in fills}
            outcomes.add(done.filled_qty)
        assert outcomes <= {Decimal(0), Decimal("0.3")}
        assert [type(r.event) for r in store.events()].count(OrderCanceled) == 4

    # --- unknown outcomes and idempotent ids ---------------------------------------------------------

    async def test_unknown_is_resolved_only_by_venue_evidence(
        self, sim: Sim, make_connector: MakeConnector, store: Store
    ) -> None:
        conn = await make_connector(journal=store, timeout=300)
        drv = OrderDriver(conn, store, policy=FAST)
        await sim.faults(drop_response={"hang": "3"})
        cmd = self.cmd(conn, "conf-unknown", "0.4")
        assert (await drv.submit(cmd)).state is OrderState.UNKNOWN  # the reply timed out
        await sim.faults(rate_limit={"limit": "0", "retry_after": "0.05", "ban_after": "1000", "ban": "1"})
        still = await drv.poll(cmd.client_order_id)  # a read that fails is no evidence either way
        assert still.state is OrderState.UNKNOWN
        await sim.faults()
        done = await drv.resolve(cmd.client_order_id)
        assert (done.state, done.filled_qty) == (OrderState.FILLED, Decimal("0.4"))
        kinds = [
            type(r.event) for r in store.events() if getattr(r.event, "client_order_id", None) == cmd.client_order_id
        ]
        assert kinds == [OrderSubmitted, OrderUnknown, OrderAccepted, OrderFilled]

    async def test_client_ids_are_idempotent_across_restarts(
        self, sim: Sim, make_connector: MakeConnector, store: Store
    ) -> None:
        """Sent, no reply, the process restarts: the new driver adopts the order from the journal and sends it
        again under the same id; the venue refuses the duplicate and the first is found. One order, once."""
        await sim.faults(drop_response={"hang": "3"})
        before = await make_connector(journal=store, timeout=300)
        first = OrderDriver(before, store, policy=FAST)
        cmd = self.cmd(before, "conf-restart", "0.6")
        assert (await first.submit(cmd)).state is OrderState.UNKNOWN
        await sim.faults()
        second = OrderDriver(await make_connector(journal=store), store, policy=FAST)
        assert second.adopt(store.events()) == [cmd.client_order_id]
        assert cmd.client_order_id == client_order_id("conf-restart")  # derived again, the same
        done = await second.resubmit(cmd.client_order_id)
        assert (done.state, done.filled_qty) == (OrderState.FILLED, Decimal("0.6"))
        placed = [r for r in await sim.requests() if r["kind"] == "new" and r["client_order_id"] == cmd.client_order_id]
        assert [r["outcome"] for r in placed] == ["accepted_response_dropped", "rejected"]

    # --- streams and throttling -----------------------------------------------------------------------

    async def test_user_stream_reports_orders_fills_and_balances(self, sim: Sim, make_connector: MakeConnector) -> None:
        conn = await make_connector(pro=True)
        stream = UserStream(conn.exchange, location=conn.location, dialect=conn.dialect)
        orders: list[OrderStatusReport] = []
        fills: list[FillReport] = []
        balances: list[list[BalanceReport]] = []

        async def on_order(report: OrderStatusReport, fill: FillReport | None) -> None:
            orders.append(report)
            if fill is not None:
                fills.append(fill)

        async def on_balances(reports: list[BalanceReport]) -> None:
            balances.append(reports)

        async def no_gap() -> None:
            return None

        stop = asyncio.Event()
        task = asyncio.ensure_future(
            stream.run(self.symbol, stop, on_order=on_order, on_balances=on_balances, on_gap=no_gap)
        )
        try:
            await sim.user_streams()
            cmd = self.cmd(conn, "conf-stream", "0.8")
            reply = await conn.submit(cmd)
            now = {r.asset: r.amount for r in await conn.balances()}
            base = AssetId(conn.market(self.symbol).base, conn.location)

            def told() -> bool:  # the stream has said what REST says of the base asset after the fill
                return any(r.asset == base and r.amount == now[base] for b in balances for r in b)

            for _ in range(300):
                if sum(f.qty for f in fills) == Decimal("0.8") and told():
                    break
                await asyncio.sleep(0.01)
            assert {f.client_order_id for f in fills} == {cmd.client_order_id}
            rest = await conn.fetch_fills(self.symbol, cmd.client_order_id, reply.report.venue_order_id)
            assert {f.trade_id for f in fills} == {f.trade_id for f in rest}  # the same trades, by the same ids
            assert orders[-1].status == VenueStatus.FILLED and orders[-1].filled_qty == Decimal("0.8")
            assert told()
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 5)

    async def test_stream_disagreeing_with_rest_is_detected(self, sim: Sim, make_connector: MakeConnector) -> None:
        conn = await make_connector(pro=True)
        stream = UserStream(conn.exchange, location=conn.location, dialect=conn.dialect)
        heard: list[list[BalanceReport]] = []

        async def on_balances(reports: list[BalanceReport]) -> None:
            heard.append(reports)

        async def no_gap() -> None:
            return None

        stop = asyncio.Event()
        task = asyncio.ensure_future(stream.watch_balances(stop, on_balances=on_balances, on_gap=no_gap))
        try:
            await sim.user_streams(1)
            await sim.faults(ws_rest_disagree={"window": "30", "offset": "2.5"})
            eth = AssetId("ETH", conn.location)
            before = next(r.amount for r in await conn.balances() if r.asset == eth)
            await conn.submit(self.cmd(conn, "conf-disagree", "1"))

            def moved() -> list[BalanceReport] | None:  # the update the order caused (not an earlier snapshot)
                return next((b for b in reversed(heard) for r in b if r.asset == eth and r.amount > before + 1), None)

            for _ in range(300):
                if moved():
                    break
                await asyncio.sleep(0.01)
            update = moved()
            assert update is not None
            drifts = disagreements(await conn.balances(), update, source="stream vs REST")
            assert {d.asset.symbol for d in drifts} == {"ETH", "USDT"}
            assert all(d.observed - d.expected == Decimal("2.5") for d in drifts)
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 5)

    async def test_a_throttled_read_backs_off_then_succeeds(self, sim: Sim, connector: CcxtConnector) -> None:
        await sim.faults(rate_limit={"limit": "1", "retry_after": "1", "ban_after": "50", "ban": "1"})
        await connector.order_book(self.symbol, 5)
        started = time.perf_counter()
        assert (await connector.order_book(self.symbol, 5))["bids"]  # a read is safe to repeat
        pause = connector.dialect.default_backoff_s if Gap.NO_RETRY_AFTER in connector.dialect.gaps else 1.0
        assert time.perf_counter() - started >= 0.9 * pause  # the venue's Retry-After, or the dialect's back-off
        assert [r for r in await sim.requests() if r["kind"] == "new"] == []

    # --- what a venue does not do -----------------------------------------------------------------------

    async def test_declared_gaps_hold(self, sim: Sim, connector: CcxtConnector) -> None:
        """Each declared gap is true of the venue, and each undeclared one is not."""
        gaps = connector.dialect.gaps
        market = connector.market(self.symbol)
        # ACK_ONLY: a market order that filled at once, as the raw reply tells it
        cmd = self.cmd(connector, "conf-gap-ack", "0.1")
        raw = await _raw(connector, Endpoint.NEW_ORDER, connector.dialect.new_order_params(cmd, market))
        report, fills = connector.dialect.placed(raw, cmd, connector.location)
        assert (Gap.ACK_ONLY in gaps) == (report.status == VenueStatus.OPEN and not fills)
        # CANCEL_ACK_ONLY: the raw cancel reply of a resting order
        rest = self.cmd(connector, "conf-gap-cancel", "0.01", str(await self.passive_price(connector)))
        await connector.submit(rest)
        raw = await _raw(connector, Endpoint.CANCEL_ORDER, connector.dialect.order_ref(market, rest.client_order_id))
        assert (Gap.CANCEL_ACK_ONLY in gaps) == (connector.dialect.canceled(raw, connector.location) is None)
        # NO_RETRY_AFTER, NO_BAN: what the venue answers a client that keeps going past its limit
        await sim.faults(rate_limit={"limit": "1", "retry_after": "1", "ban_after": "2", "ban": "0.5"})
        answers = []
        for _ in range(8):
            async with sim.http.get(sim.url + TIME_PATH[sim.dialect]) as resp:
                answers.append((resp.status, resp.headers.get("Retry-After")))
        await sim.faults()
        refused = [a for a in answers if a[0] != 200]
        assert refused and all(status in (418, 429) for status, _ in refused)
        assert (Gap.NO_RETRY_AFTER in gaps) == all(after is None for _, after in refused)
        assert (Gap.NO_BAN in gaps) == all(status == 429 for status, _ in refused)


async def _raw(connector: CcxtConnector, endpoint: Endpoint, params: dict[str, Any]) -> Any:
    """The venue's own reply, through ccxt's raw method (what the dialect parses)."""
    return await getattr(connector.exchange, connector.dialect.method(endpoint))(params)
