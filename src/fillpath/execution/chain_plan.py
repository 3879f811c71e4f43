"""A plan's legs on one EVM location → one ``FillpathExecutor`` call, so they run atomically in one transaction.

Legs keep the plan's order (it is executable: a leg's input exists before it runs), except that an aggregator leg
spending what we hold runs first (``calls_first``): its quote was computed on the chain as it is, not as our own
earlier legs would leave it. A leg whose input an earlier leg of the same chain produces spends ``ALL`` of that
token when it is that token's last consumer, so a realized output a unit different from the plan's still flows
through; every other amount is the plan's exact integer — always so for an aggregator leg, whose calldata sells
exactly the quoted amount. Each leg keeps its own min-out; the whole call has the sum of the min-outs of the legs
that deliver the output.

Leg kinds: Uniswap V2 pairs, V3 pools, wrap/unwrap, StableSwap pools (a pool, or one direction of an n-coin pool)
and aggregator quotes (a CALL leg: the quote's transaction, vetted in ``aggregator_leg.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fillpath.chains.executor import ALL, NATIVE, AmountIn, ExecLeg, ExecPlan
from fillpath.execution.aggregator_leg import VettedQuote
from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput
from fillpath.router.plan import PlanLeg
from fillpath.router.venues.aggregator import Aggregator
from fillpath.router.venues.stableswap import StableSwapPair, StableSwapPool
from fillpath.router.venues.uniswap_v2 import UniswapV2Pair
from fillpath.router.venues.uniswap_v3 import UniswapV3Pool
from fillpath.router.venues.wrap import Wrap


def calls_first(legs: Sequence[PlanLeg], venues: Mapping[str, object]) -> list[PlanLeg]:
    """``legs`` with the aggregator legs that spend an input no other leg produces moved to the front (stable)."""
    produced = {leg.asset_out for leg in legs}
    first = [leg for leg in legs if isinstance(venues.get(leg.venue), Aggregator) and leg.asset_in not in produced]
    return first + [leg for leg in legs if leg not in first]


def chain_exec_plan(
    legs: Sequence[PlanLeg],
    venues: Mapping[str, object],
    addresses: Mapping[AssetId, str | None],
    *,
    recipient: str,
    deadline: int,
    quotes: Mapping[int, VettedQuote] | None = None,
) -> ExecPlan:
    """``addresses``: token address per asset (None for the native currency); ``quotes``: the vetted quote of each
    aggregator leg, by index in ``legs``."""
    if not legs:
        raise InvalidInput("legs", "no leg on this chain")
    location = legs[0].asset_in.location
    consumers: dict[AssetId, list[int]] = {}
    produced: set[AssetId] = set()
    for i, leg in enumerate(legs):
        if leg.asset_in.location != location or leg.asset_out.location != location:
            raise InvalidInput(f"legs[{i}]", f"leaves {location}", "give the legs of one chain only")
        if leg.asset_in in produced:
            consumers.setdefault(leg.asset_in, []).append(i)
        produced.add(leg.asset_out)
    consumed = {a for a, idx in consumers.items() if idx}
    finals = [a for a in dict.fromkeys(leg.asset_out for leg in legs) if a not in consumed]
    if len(finals) != 1:
        raise InvalidInput("legs", f"the chain's legs end in {len(finals)} assets", "an executor call delivers one")
    token_out = finals[0]

    def addr(asset: AssetId) -> str:
        try:
            found = addresses[asset]
        except KeyError:
            raise InvalidInput("asset", f"no address for {asset}", "the snapshot must list it") from None
        return NATIVE if found is None else found

    out: list[ExecLeg] = []
    for i, leg in enumerate(legs):
        amount: AmountIn = leg.amount_in
        venue = venues.get(leg.venue)
        if leg.asset_in in consumers and consumers[leg.asset_in][-1] == i and not isinstance(venue, Aggregator):
            amount = ALL
        if isinstance(venue, UniswapV2Pair):
            out.append(
                ExecLeg.v2(venue.address, addr(leg.asset_in), addr(leg.asset_out), amount, leg.min_out, venue.fee_ppm)
            )
        elif isinstance(venue, UniswapV3Pool):
            out.append(
                ExecLeg.v3(venue.address, addr(leg.asset_in), addr(leg.asset_out), venue.fee_ppm, amount, leg.min_out)
            )
        elif isinstance(venue, Wrap):
            weth = addr(venue.wrapped)
            out.append(ExecLeg.wrap(weth, amount) if leg.asset_in == venue.native else ExecLeg.unwrap(weth, amount))
        elif isinstance(venue, StableSwapPool | StableSwapPair):
            pool = venue if isinstance(venue, StableSwapPool) else venue.pool
            i_in, i_out = pool.coins.index(leg.asset_in), pool.coins.index(leg.asset_out)
            out.append(ExecLeg.stableswap(pool.address, addr(leg.asset_in), addr(leg.asset_out), i_in, i_out, amount,
                                          leg.min_out))  # fmt: skip
        elif isinstance(venue, Aggregator) and quotes is not None and i in quotes:
            q = quotes[i].quote
            out.append(ExecLeg.external(q.to, addr(leg.asset_in), addr(leg.asset_out), leg.amount_in, leg.min_out,
                                        q.data, quotes[i].spender))  # fmt: skip
        else:
            raise InvalidInput(f"legs[{i}].venue", f"{leg.venue} is not a venue the executor runs",
                               "V2, V3, StableSwap, wrap, and aggregators with a vetted quote")  # fmt: skip
    min_total = sum(leg.min_out for leg in legs if leg.asset_out == token_out)
    return ExecPlan.build(out, addr(token_out), min_total, recipient, deadline)
