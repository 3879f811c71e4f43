"""The matching engine: accounts, orders and trades against the seeded books.

Everything here is synchronous, so one call is one atomic step of the venue. Changes leave as events through
two callbacks (user events per API key, depth diffs per symbol); the server routes them to streams.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import ROUND_UP, Decimal

from fillpath.lab.exchange import errors
from fillpath.lab.exchange.accounts import Account
from fillpath.lab.exchange.book import DepthDiff, Level, SyntheticBook
from fillpath.lab.exchange.config import MarketSpec, SimConfig
from fillpath.lab.exchange.errors import BinanceError
from fillpath.lab.exchange.orders import BalanceUpdate, Order, OrderUpdate, Trade, UserEvent
from fillpath.lab.exchange.params import NewOrder

UserSink = Callable[[str, UserEvent], None]
DepthSink = Callable[[DepthDiff, int], None]

_COMMISSION_PLACES = Decimal("1e-8")


class Engine:
    def __init__(self, config: SimConfig, clock: Callable[[], int]) -> None:
        self.config = config
        self.clock = clock
        self.markets: dict[str, MarketSpec] = {m.symbol: m for m in config.markets}
        self.books: dict[str, SyntheticBook] = {m.symbol: SyntheticBook(m, config.seed) for m in config.markets}
        self.accounts: dict[str, Account] = {}
        for spec in config.accounts:
            account = self.add_account(spec.api_key, spec.secret, spec.passphrase)
            account.set_balances(spec.balances)
            account.take_changes()  # the opening balances are not an update
        self.orders: dict[int, Order] = {}
        self._open: dict[str, dict[int, Order]] = {m.symbol: {} for m in config.markets}
        """Open orders per symbol, in id (time) order: what the walk can cross and openOrders lists."""
        self._by_client: dict[tuple[str, str], int] = {}
        self._trades: dict[str, list[Trade]] = {}
        self._deferred: set[int] = set()
        self._next_order_id = 1000
        self._next_trade_id = 5000
        self.on_user_event: UserSink | None = None
        self.on_depth: DepthSink | None = None

    # -- accounts ---------------------------------------------------------------------------------

    def add_account(self, api_key: str, secret: str, passphrase: str = "") -> Account:
        account = self.accounts.get(api_key)
        if account is None:
            account = self.accounts[api_key] = Account(api_key, secret, passphrase)
        else:
            account.secret = secret
            account.passphrase = passphrase or account.passphrase
        return account

    def account(self, api_key: str) -> Account:
        account = self.accounts.get(api_key)
        if account is None:
            raise errors.invalid_api_key()
        return account

    def set_balances(
        self, api_key: str, balances: dict[str, Decimal], secret: str | None = None, passphrase: str | None = None
    ) -> None:
        account = self.accounts.get(api_key) or self.add_account(api_key, secret or "", passphrase or "")
        if secret is not None:
            account.secret = secret
        if passphrase is not None:
            account.passphrase = passphrase
        account.set_balances(balances)
        self._flush_balances(account)

    # -- ids --------------------------------------------------------------------------------------

    def allocate_order_id(self) -> int:
        self._next_order_id += 1
        return self._next_order_id

    def _trade_id(self) -> int:
        self._next_trade_id += 1
        return self._next_trade_id

    # -- placing ----------------------------------------------------------------------------------

    def market(self, symbol: str) -> MarketSpec:
        spec = self.markets.get(symbol)
        if spec is None:
            raise errors.bad_symbol()
        return spec

    def check_filters(self, req: NewOrder) -> None:
        spec = self.market(req.symbol)
        price, qty = req.price, req.quantity
        if price is not None and not (spec.min_price <= price <= spec.max_price and price % spec.tick == 0):
            raise errors.filter_failure("PRICE_FILTER")
        if qty is not None and not (spec.min_qty <= qty <= spec.max_qty and qty % spec.step == 0):
            raise errors.filter_failure("LOT_SIZE")
        if req.quote_qty is not None:
            notional = req.quote_qty
        else:
            assert req.quantity is not None
            notional = req.quantity * (req.price if req.price is not None else self.books[req.symbol].mid)
        if notional < spec.min_notional:
            raise errors.filter_failure("NOTIONAL")

    def place(self, api_key: str, req: NewOrder, *, defer: bool = False) -> tuple[Order, list[Trade]]:
        """Validate, reserve, and (unless ``defer``) match at once. Raises :class:`BinanceError`."""
        account = self.account(api_key)
        spec = self.market(req.symbol)
        self.check_filters(req)
        if req.client_order_id is not None and (api_key, req.client_order_id) in self._by_client:
            raise errors.duplicate_order()
        book = self.books[req.symbol]
        if req.type == "LIMIT_MAKER" and book.plan(req.side, limit_price=req.price, max_qty=req.quantity):
            raise BinanceError(-2010, "Order would immediately match and take.")
        opposite = "SELL" if req.side == "BUY" else "BUY"
        own = self._resting_by_price(req.symbol, opposite, api_key=api_key)
        self._check_funds(account, spec, book, req, own)
        now = self.clock()
        order_id = self.allocate_order_id()
        order = Order(
            order_id=order_id,
            client_order_id=req.client_order_id or f"sim{order_id}",
            api_key=api_key,
            symbol=req.symbol,
            side=req.side,
            type=req.type,
            time_in_force=req.time_in_force,
            price=req.price or Decimal(0),
            orig_qty=req.quantity or Decimal(0),
            orig_quote_qty=req.quote_qty or Decimal(0),
            time=now,
            update_time=now,
        )
        if req.type != "MARKET":
            assert req.price is not None
            assert req.quantity is not None
            reserve = req.quantity * req.price if req.side == "BUY" else req.quantity
            account.lock(spec.quote if req.side == "BUY" else spec.base, reserve)
            order.locked = reserve
        self.orders[order_id] = order
        self._open[order.symbol][order_id] = order
        self._by_client[(api_key, order.client_order_id)] = order_id
        self._emit_order(order, "NEW", None)
        if defer:
            self._deferred.add(order_id)
            self._flush_balances(account)
            return order, []
        fills = self._take(order)
        self._settle_after_take(order)
        self._flush_balances(account)
        self._publish(req.symbol)
        return order, fills

    def _check_funds(
        self,
        account: Account,
        spec: MarketSpec,
        book: SyntheticBook,
        req: NewOrder,
        own: dict[Decimal, Decimal],
    ) -> None:
        if req.side == "BUY":
            if req.type != "MARKET":
                assert req.price is not None
                assert req.quantity is not None
                need = req.price * req.quantity
            elif req.quote_qty is not None:
                need = req.quote_qty
            else:
                plan = book.plan("BUY", max_qty=req.quantity, exclude=own)
                need = sum((p * q for p, q in plan), Decimal(0))
            if account.free.get(spec.quote, Decimal(0)) < need:
                raise errors.insufficient_balance()
        else:
            if req.quantity is not None:
                need = req.quantity
            else:
                need = sum((q for _, q in book.plan("SELL", max_quote=req.quote_qty, exclude=own)), Decimal(0))
            if account.free.get(spec.base, Decimal(0)) < need:
                raise errors.insufficient_balance()

    def match_deferred(self, order_id: int) -> list[Trade]:
        """Run the match that ``place(defer=True)`` postponed (the ``delayed_fills`` fault)."""
        if order_id not in self._deferred:
            return []
        self._deferred.discard(order_id)
        order = self.orders[order_id]
        if not order.is_open:
            return []
        fills = self._take(order)
        self._settle_after_take(order)
        self._flush_balances(self.accounts[order.api_key])
        self._publish(order.symbol)
        return fills

    def _take(self, order: Order) -> list[Trade]:
        spec, book = self.markets[order.symbol], self.books[order.symbol]
        account = self.accounts[order.api_key]
        limit = order.price if order.type != "MARKET" else None
        max_qty = order.remaining if order.orig_qty > 0 else None
        max_quote: Decimal | None = None
        if order.orig_quote_qty > 0:
            max_quote = order.orig_quote_qty - order.cum_quote
        if order.type == "MARKET" and order.side == "BUY":  # never spend what is not there
            free = account.free.get(spec.quote, Decimal(0))
            max_quote = free if max_quote is None else min(max_quote, free)
        if order.type == "MARKET" and order.side == "SELL" and max_qty is None:
            max_qty = account.free.get(spec.base, Decimal(0))
        opposite = "SELL" if order.side == "BUY" else "BUY"
        own = self._resting_by_price(order.symbol, opposite, api_key=order.api_key)
        plan = book.plan(order.side, limit_price=limit, max_qty=max_qty, max_quote=max_quote, exclude=own)
        if order.time_in_force == "FOK" and sum((q for _, q in plan), Decimal(0)) < order.remaining:
            return []
        if own:
            self._prevent_self_trade(order, plan)
        complete = False
        if order.orig_quote_qty > 0 and max_quote is not None and plan:
            # a quote-sized order is done when one more step would not fit
            spent = sum((p * q for p, q in plan), Decimal(0))
            complete = max_quote - spent < plan[-1][0] * spec.step
        fills = []
        makers: set[str] = set()
        for i, (price, qty) in enumerate(plan):
            last = complete and i == len(plan) - 1
            left = qty
            for maker in self._makers_at(order.symbol, opposite, price, skip_key=order.api_key):
                take = min(left, maker.remaining)
                self._fill(maker, price, take, maker=True)
                makers.add(maker.api_key)
                left -= take
                fills.append(self._fill(order, price, take, maker=False, final=last and left == 0))
                if left == 0:
                    break
            if left > 0:
                book.consume(order.side, price, left)
                fills.append(self._fill(order, price, left, maker=False, final=last))
        for api_key in sorted(makers):
            self._flush_balances(self.accounts[api_key])
        return fills

    def _prevent_self_trade(self, order: Order, plan: list[tuple[Decimal, Decimal]]) -> None:
        """EXPIRE_MAKER, Binance's default: own resting orders the taker would meet expire instead of trading.

        The taker would meet them up to its last fill price, or up to its limit if its remainder will rest.
        """
        rests = order.type in ("LIMIT", "LIMIT_MAKER") and order.time_in_force == "GTC"
        bound = order.price if rests else (plan[-1][0] if plan else None)
        if bound is None:
            return
        opposite = "SELL" if order.side == "BUY" else "BUY"
        for maker in list(self._open[order.symbol].values()):
            mine = maker.on_book and maker.side == opposite and maker.api_key == order.api_key
            met = maker.price <= bound if order.side == "BUY" else maker.price >= bound
            if mine and met:
                self._close(maker, "EXPIRED_IN_MATCH", exec_type="TRADE_PREVENTION")

    def _makers_at(self, symbol: str, side: str, price: Decimal, *, skip_key: str) -> list[Order]:
        """Other users' resting orders at ``price`` on ``side``, oldest first (price-time priority)."""
        return [
            o
            for o in self._open[symbol].values()
            if o.on_book and o.side == side and o.price == price and o.api_key != skip_key
        ]

    def _resting_by_price(self, symbol: str, side: str, *, api_key: str) -> dict[Decimal, Decimal]:
        """One key's resting quantity per price: a taker never trades with itself, it skips these."""
        out: dict[Decimal, Decimal] = {}
        for o in self._open[symbol].values():
            if o.on_book and o.side == side and o.api_key == api_key:
                out[o.price] = out.get(o.price, Decimal(0)) + o.remaining
        return out

    def _settle_after_take(self, order: Order) -> None:
        """After the taking pass: rest a GTC remainder, or expire what cannot rest."""
        if not order.is_open:
            return
        if order.type == "MARKET" and order.orig_qty == 0:  # quoteOrderQty: origQty is what it bought
            order.orig_qty = order.executed_qty
        if order.type in ("LIMIT", "LIMIT_MAKER") and order.time_in_force == "GTC":
            order.on_book = True
            self.books[order.symbol].add_user(order.side, order.price, order.remaining)
            return
        if order.status == "FILLED":
            return
        self._close(order, "EXPIRED")

    def _fill(self, order: Order, price: Decimal, qty: Decimal, *, maker: bool, final: bool = False) -> Trade:
        spec = self.markets[order.symbol]
        account = self.accounts[order.api_key]
        fee = self.config.maker_fee if maker else self.config.taker_fee
        quote = price * qty
        if order.side == "BUY":
            if order.type == "MARKET":
                account.debit(spec.quote, quote)
            else:
                reserved = order.price * qty
                account.spend_locked(spec.quote, reserved)
                order.locked -= reserved
                if reserved > quote:
                    account.credit(spec.quote, reserved - quote)
            commission = (qty * fee).quantize(_COMMISSION_PLACES, rounding=ROUND_UP)
            account.credit(spec.base, qty - commission)
            commission_asset = spec.base
        else:
            if order.type == "MARKET":
                account.debit(spec.base, qty)
            else:
                account.spend_locked(spec.base, qty)
                order.locked -= qty
            commission = (quote * fee).quantize(_COMMISSION_PLACES, rounding=ROUND_UP)
            account.credit(spec.quote, quote - commission)
            commission_asset = spec.quote
        now = self.clock()
        trade = Trade(
            self._trade_id(),
            order.order_id,
            order.symbol,
            order.side,
            price,
            qty,
            quote,
            commission,
            commission_asset,
            now,
            maker,
        )
        self._trades.setdefault(order.api_key, []).append(trade)
        if order.on_book:
            self.books[order.symbol].add_user(order.side, order.price, -qty)
        order.executed_qty += qty
        order.cum_quote += quote
        order.update_time = now
        filled = order.executed_qty >= order.orig_qty if order.orig_qty > 0 else False
        if order.orig_quote_qty > 0:
            filled = order.cum_quote >= order.orig_quote_qty
        if filled or final:
            order.orig_qty = order.orig_qty or order.executed_qty
            filled = True
        order.status = "FILLED" if filled else "PARTIALLY_FILLED"
        if filled:
            self._open[order.symbol].pop(order.order_id, None)
            order.on_book = False
        if order.status == "FILLED" and order.locked > 0:  # a buy filled below its limit keeps nothing back
            self._release(order)
        self._emit_order(order, "TRADE", trade)
        return trade

    def _release(self, order: Order) -> None:
        if order.locked <= 0:
            return
        spec = self.markets[order.symbol]
        self.accounts[order.api_key].unlock(spec.quote if order.side == "BUY" else spec.base, order.locked)
        order.locked = Decimal(0)

    def _close(self, order: Order, status: str, *, exec_type: str | None = None) -> None:
        if order.on_book:
            self.books[order.symbol].add_user(order.side, order.price, -order.remaining)
            order.on_book = False
        self._release(order)
        order.status = status
        self._open[order.symbol].pop(order.order_id, None)
        order.update_time = self.clock()
        self._deferred.discard(order.order_id)
        self._emit_order(order, exec_type or status, None)

    # -- cancelling and asking --------------------------------------------------------------------

    def find(self, api_key: str, symbol: str, order_id: int | None, client_order_id: str | None) -> Order:
        """The order, by id or by client id; -2013 when this key has no such order on this symbol."""
        self.market(symbol)
        if order_id is None and client_order_id is None:
            raise BinanceError(-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        if order_id is None:
            assert client_order_id is not None
            order_id = self._by_client.get((api_key, client_order_id))
        order = self.orders.get(order_id) if order_id is not None else None
        if order is None or order.api_key != api_key or order.symbol != symbol:
            raise errors.order_does_not_exist()
        if client_order_id is not None and order.client_order_id != client_order_id:
            raise errors.order_does_not_exist()
        return order

    def cancel(self, api_key: str, symbol: str, order_id: int | None, client_order_id: str | None) -> Order:
        try:
            order = self.find(api_key, symbol, order_id, client_order_id)
        except BinanceError as exc:
            if exc.code == -2013:
                raise errors.unknown_order() from None
            raise
        if not order.is_open:
            raise errors.unknown_order()
        self._close(order, "CANCELED")
        self._flush_balances(self.accounts[api_key])
        self._publish(order.symbol)
        return order

    def open_orders(self, api_key: str, symbol: str | None) -> list[Order]:
        if symbol is not None:
            self.market(symbol)
        return [
            o
            for book in ([self._open[symbol]] if symbol is not None else self._open.values())
            for o in book.values()
            if o.api_key == api_key and o.is_open and symbol in (None, o.symbol)
        ]

    def all_orders(self, api_key: str, symbol: str) -> list[Order]:
        self.market(symbol)
        return [o for o in self.orders.values() if o.api_key == api_key and o.symbol == symbol]

    def order_trades(self, api_key: str, order_id: int) -> list[Trade]:
        """One order's trades, oldest first."""
        return [t for t in self._trades.get(api_key, []) if t.order_id == order_id]

    def my_trades(self, api_key: str, symbol: str) -> list[Trade]:
        self.market(symbol)
        return [t for t in self._trades.get(api_key, []) if t.symbol == symbol]

    # -- the market moving ------------------------------------------------------------------------

    def walk(self, steps: int = 1, *, multiplier: int = 1, symbols: Iterable[str] | None = None) -> None:
        """Advance the seeded random walk; resting orders the new book crosses fill as makers."""
        for symbol in list(symbols) if symbols is not None else list(self.books):
            book = self.books[self.market(symbol).symbol]
            for _ in range(steps):
                book.step(multiplier)
                self._cross_resting(symbol)
                self._publish(symbol)

    def set_book(self, symbol: str, bids: list[Level], asks: list[Level]) -> None:
        self.books[self.market(symbol).symbol].set_levels(bids, asks)
        self._cross_resting(symbol)
        self._publish(symbol)

    def set_mid(self, symbol: str, mid: Decimal) -> None:
        self.books[self.market(symbol).symbol].set_mid(mid)
        self._cross_resting(symbol)
        self._publish(symbol)

    def _cross_resting(self, symbol: str) -> None:
        book = self.books[symbol]
        touched: set[str] = set()
        for order in sorted((o for o in self._open[symbol].values() if o.on_book), key=lambda o: o.order_id):
            plan = book.plan(order.side, limit_price=order.price, max_qty=order.remaining, synthetic_only=True)
            for level_price, qty in plan:
                book.consume(order.side, level_price, qty)
                self._fill(order, order.price, qty, maker=True)
                touched.add(order.api_key)
        for api_key in sorted(touched):
            self._flush_balances(self.accounts[api_key])

    # -- events -----------------------------------------------------------------------------------

    def _emit_order(self, order: Order, exec_type: str, trade: Trade | None) -> None:
        if self.on_user_event is not None:
            self.on_user_event(order.api_key, OrderUpdate.of(order, exec_type, trade, self.clock()))

    def _flush_balances(self, account: Account) -> None:
        lines = account.take_changes()
        if lines and self.on_user_event is not None:
            self.on_user_event(account.api_key, BalanceUpdate(tuple(lines), self.clock()))

    def _publish(self, symbol: str) -> None:
        diff = self.books[symbol].commit()
        if diff is not None and self.on_depth is not None:
            self.on_depth(diff, self.clock())
