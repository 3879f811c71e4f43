"""What ``fillpath reconcile`` prints: per venue its balances and, on an exchange, its orders, trades and stream."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from fillpath.state.reconcile_orders import OrderAction
from fillpath.state.reconcile_stream import StreamAction
from fillpath.state.reconciler import ExchangeResult, PassResult


def _state(s: object) -> str | None:
    return None if s is None else str(s)


def print_results(out: Console, results: Sequence[PassResult], listen_s: float) -> None:
    t = Table(title="reconciliation: balances")
    for col in ("venue", "asset", "ledger", "venue says", "drift", "action"):
        t.add_column(col)
    for r in results:
        for f in r.findings:
            t.add_row(r.venue, str(f.asset), str(f.ledger), str(f.observed), str(f.drift), f.action.value)
    out.print(t)
    for r in results:
        for tr in r.in_flight:
            out.print(f"{r.venue}: in flight towards {tr.target}: {tr.expected_out} from {tr.source} "
                      f"({tr.transfer_kind}, {tr.transfer_id}, {tr.state}): counted, not drift")  # fmt: skip
    for r in results:
        for fl in r.flows:
            out.print(f"{r.venue}: external flow {fl.delta:+} {fl.asset.symbol} booked: {fl.evidence}")
        if r.identity_changed:
            out.print(f"{r.venue}: {r.identity_changed}")
    for r in results:
        if r.exchange is not None:
            _print_exchange(out, r.venue, r.exchange, listen_s)
    out.print(summary(results))


def summary(results: Sequence[PassResult]) -> str:
    """The pass's last line: what it recorded and what is still wrong. "Agrees" only when every row is ok or newly
    opened (a row marked halt once printed "the ledger agrees with every venue" because the halt was recorded in an
    earlier pass)."""
    booked = sum(len(r.events) for r in results)
    counts: dict[str, int] = {}
    for r in results:
        for f in r.findings:
            counts[f.action.value] = counts.get(f.action.value, 0) + 1
        if r.exchange is not None:
            counts["order"] = counts.get("order", 0) + sum(f.action is not OrderAction.OK for f in r.exchange.orders)
            counts["trade"] = counts.get("trade", 0) + len(r.exchange.trades)
    parts = [f"{booked} event(s) recorded"] if booked else []
    if changed := [r.venue for r in results if r.identity_changed and not r.findings]:
        parts.append(
            f"{', '.join(changed)}: another venue than the ledger follows, halted "
            f"(`fillpath reconcile --accept {changed[0]} --reason ...` takes its figures)"
        )
    if counts.get("halt"):
        parts.append(
            f"{counts['halt']} balance(s) differ beyond tolerance: their venues are halted (`fillpath venues`)"
        )
    if counts.get("wait"):
        parts.append(f"{counts['wait']} balance(s) wait for transfers in flight")
    if counts.get("order") or counts.get("trade"):
        parts.append(f"{counts.get('order', 0)} order(s) and {counts.get('trade', 0)} trade(s) to look at (above)")
    if not parts:
        return "nothing to record: the ledger agrees with every venue"
    if parts == [f"{booked} event(s) recorded"]:  # adjustments booked, nothing left over
        return f"{booked} event(s) recorded; the ledger now agrees with every venue"
    return "; ".join(parts)


def _print_exchange(out: Console, venue: str, x: ExchangeResult, listen_s: float) -> None:
    notable = [f for f in x.orders if f.action is not OrderAction.OK]
    agree = "all as our journal has them" if not notable else f"{len(notable)} to look at"
    out.print(f"{venue} orders: {x.open_listed} open at the venue; {agree}")
    if notable:
        t = Table(title=f"{venue} orders")
        for col in ("client order id", "symbol", "action", "ours before", "ours after", "venue says"):
            t.add_column(col)
        for f in notable:
            o = f.listed
            says = "-" if o is None else f"open {o.side.value} {o.qty} @ {o.price or 'market'}, {o.filled_qty} filled"
            t.add_row(f.client_order_id, f.symbol or "-", f.action.value, _state(f.recorded) or "never placed",
                      _state(f.after) or "-", says)  # fmt: skip
        out.print(t)
    held = "every one of ours booked" if not x.trades else f"{len(x.trades)} we did not hold"
    out.print(f"{venue} trades: {x.trades_listed} listed on the symbols of our recent orders; {held}")
    if x.trades:
        t = Table(title=f"{venue} trades")
        for col in ("trade id", "order (venue id)", "client order id", "qty", "price", "action"):
            t.add_column(col)
        for tf in x.trades:
            tr = tf.trade
            t.add_row(tr.trade_id, tr.venue_order_id, tf.client_order_id or "not ours", str(tr.qty), str(tr.price),
                      tf.action.value)  # fmt: skip
        out.print(t)
    if x.stream is None:
        out.print(f"{venue} stream: not listened to (--listen 0)")
        return
    if not x.stream:
        out.print(f"{venue} stream: no balance update in the {listen_s:g} s listened (nothing to compare)")
        return
    t = Table(title=f"{venue} stream vs rest ({x.stream_updates} update(s) heard)")
    for col in ("asset", "rest", "stream", "action"):
        t.add_column(col)
    for sf in x.stream:
        t.add_row(str(sf.asset), str(sf.rest), str(sf.stream), sf.action.value)
    out.print(t)
    if any(sf.action is StreamAction.DRIFT for sf in x.stream):
        out.print("the REST figure is authoritative: stream disagreements are recorded as drift, not booked")
