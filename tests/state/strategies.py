"""Hypothesis strategies for event streams over a small key space, so that events collide: one order is
submitted, filled twice by one trade, canceled; one tx is mined, reorged, replaced; one asset moves often."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from fillpath.model.amounts import UINT256_MAX
from fillpath.model.assets import AssetId
from fillpath.model.events import (
    BalanceAdjusted,
    ClockDivergence,
    ClockProblem,
    DriftDetected,
    Event,
    IntentCreated,
    IntentOutcome,
    IntentResolved,
    NonceAllocated,
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderPartiallyFilled,
    OrderRejected,
    OrderSubmitted,
    OrderUnknown,
    TransferAccepted,
    TransferCompleted,
    TransferExpired,
    TransferKind,
    TransferRefunded,
    TransferRejected,
    TransferRequested,
    TransferUnknown,
    TxBroadcast,
    TxConfirmed,
    TxDropped,
    TxMined,
    TxReorged,
    TxReplaced,
    TxReverted,
    VenueDegraded,
    VenueHalted,
    VenueResumed,
)
from fillpath.model.sides import Side

CEX = st.sampled_from(["binance", "kraken"])
CHAIN = st.just("lab1")
COID = st.sampled_from(["c1", "c2", "c3"])
TRADE = st.sampled_from(["t1", "t2", "t3", "t4"])
TX = st.sampled_from(["0xaa", "0xbb", "0xcc"])
INTENT = st.sampled_from(["i1", "i2", "i3"])
ADDRESS = st.sampled_from(["0x01", "0x02"])
REASON = st.sampled_from(["timeout", "no funds", "ok", "é ünïcode"])
CHAIN_ASSET = st.sampled_from([AssetId("WETH", "lab1"), AssetId("USDC", "lab1")])
CEX_ASSET = st.sampled_from([AssetId("USDT", "binance"), AssetId("ETH", "binance")])

positive_decimals = st.builds(lambda n, e: Decimal(n).scaleb(-e), st.integers(1, 10**30), st.integers(-3, 18))
signed_decimals = st.builds(lambda n, e: Decimal(n).scaleb(-e), st.integers(-(10**30), 10**30), st.integers(-3, 18))
base_units = st.one_of(st.integers(0, 10**30), st.just(UINT256_MAX))
signed_units = st.one_of(st.integers(-(10**30), 10**30), st.just(UINT256_MAX), st.just(-UINT256_MAX))
amounts = st.one_of(base_units, positive_decimals)
opt = st.none


def _fill(cls: type[OrderFilled] | type[OrderPartiallyFilled]) -> st.SearchStrategy[Event]:
    return st.builds(
        cls,
        venue=CEX,
        client_order_id=COID,
        trade_id=TRADE,
        qty=positive_decimals,
        price=positive_decimals,
        fee=st.one_of(st.just(Decimal(0)), positive_decimals),
        fee_asset=st.one_of(opt(), st.just("USDT")),
    )


order_events: st.SearchStrategy[Event] = st.one_of(
    st.builds(
        OrderSubmitted,
        venue=CEX,
        client_order_id=COID,
        symbol=st.just("ETH/USDT"),
        side=st.sampled_from(Side),
        qty=positive_decimals,
        limit_price=st.one_of(opt(), positive_decimals),
        intent_id=st.one_of(opt(), INTENT),
    ),
    st.builds(OrderAccepted, venue=CEX, client_order_id=COID, venue_order_id=st.sampled_from(["v1", "v2"])),
    _fill(OrderPartiallyFilled),
    _fill(OrderFilled),
    st.builds(OrderCanceled, venue=CEX, client_order_id=COID, reason=st.one_of(opt(), REASON)),
    st.builds(OrderRejected, venue=CEX, client_order_id=COID, reason=REASON),
    st.builds(OrderExpired, venue=CEX, client_order_id=COID),
    st.builds(OrderUnknown, venue=CEX, client_order_id=COID, reason=REASON),
)

block = st.integers(0, 2**40)
tx_events: st.SearchStrategy[Event] = st.one_of(
    st.builds(
        TxBroadcast,
        venue=CHAIN,
        tx_hash=TX,
        sender=ADDRESS,
        nonce=st.integers(0, 9),
        intent_id=opt() | INTENT,
    ),
    st.builds(TxMined, venue=CHAIN, tx_hash=TX, block_number=block, block_hash=st.sampled_from(["0xb1", "0xb2"])),
    st.builds(TxConfirmed, venue=CHAIN, tx_hash=TX, block_number=block, confirmations=st.integers(1, 64)),
    st.builds(TxReverted, venue=CHAIN, tx_hash=TX, block_number=block, reason=opt() | REASON),
    st.builds(TxReorged, venue=CHAIN, tx_hash=TX, block_number=block),
    st.builds(TxDropped, venue=CHAIN, tx_hash=TX, reason=opt() | REASON),
    st.builds(TxReplaced, venue=CHAIN, tx_hash=TX, replacement_hash=TX),
    st.builds(NonceAllocated, venue=CHAIN, address=ADDRESS, nonce=st.integers(0, 2**40)),
)

other_events: st.SearchStrategy[Event] = st.one_of(
    st.builds(
        IntentCreated,
        venue=CEX | CHAIN,
        intent_id=INTENT,
        action=st.sampled_from(["swap", "submit_order"]),
        ref=opt() | COID,
        asset_in=opt() | CHAIN_ASSET,
        amount_in=opt() | amounts,
        asset_out=opt() | CEX_ASSET,
        min_out=opt() | amounts,
        deadline_ns=opt() | st.integers(0, 2**63 - 1),
    ),
    st.builds(IntentResolved, venue=CEX | CHAIN, intent_id=INTENT, outcome=st.sampled_from(IntentOutcome)),
    CHAIN_ASSET.flatmap(lambda a: st.builds(BalanceAdjusted, st.just(a.location), st.just(a), signed_units, REASON)),
    CEX_ASSET.flatmap(lambda a: st.builds(BalanceAdjusted, st.just(a.location), st.just(a), signed_decimals, REASON)),
    st.builds(DriftDetected, venue=CEX, asset=CEX_ASSET, expected=amounts, observed=amounts, source=REASON),
    st.builds(VenueDegraded, venue=CEX | CHAIN, reason=REASON),
    st.builds(VenueHalted, venue=CEX | CHAIN, reason=REASON),
    st.builds(VenueResumed, venue=CEX | CHAIN, reason=opt() | REASON),
    st.builds(
        ClockDivergence,
        venue=CEX,
        problem=st.sampled_from(ClockProblem),
        venue_ts=st.integers(0, 2**62),
        recv_ns=st.integers(0, 2**62),
        offset_ns=st.integers(-(2**62), 2**62),
        bound_ns=st.integers(1, 10**10),
    ),
)

TRANSFER = st.sampled_from(["x1", "x2"])
transfer_events: st.SearchStrategy[Event] = st.one_of(
    CHAIN_ASSET.flatmap(
        lambda a: st.builds(
            TransferRequested,
            venue=st.just(a.location),
            transfer_id=TRANSFER,
            transfer_kind=st.sampled_from(TransferKind),
            route=st.just("bridge:USDC"),
            source=st.just(a),
            target=CEX_ASSET,
            amount=st.integers(1, 10**30),
            expected_out=positive_decimals,
            expected_arrival_ns=opt() | st.integers(0, 2**62),
            deadline_ns=opt() | st.integers(0, 2**62),
        )
    ),
    st.builds(TransferAccepted, venue=CHAIN, transfer_id=TRANSFER, ref=TX, detail=opt() | REASON),
    st.builds(TransferRejected, venue=CHAIN, transfer_id=TRANSFER, reason=REASON),
    st.builds(TransferCompleted, venue=CEX, transfer_id=TRANSFER, received=amounts, ref=opt() | TX),
    st.builds(TransferExpired, venue=CHAIN, transfer_id=TRANSFER, reason=REASON),
    st.builds(TransferRefunded, venue=CHAIN, transfer_id=TRANSFER, refunded=base_units, ref=opt() | TX),
    st.builds(TransferUnknown, venue=CHAIN | CEX, transfer_id=TRANSFER, reason=REASON),
)

events: st.SearchStrategy[Event] = st.one_of(order_events, tx_events, other_events, transfer_events)
batches = st.lists(st.lists(events, min_size=1, max_size=6), max_size=10)
