"""An aggregator leg: a fresh firm quote for the leg's exact amount, vetted, run as the executor's CALL leg.

The quote's transaction is built by someone else, so nothing it says is taken on trust (docs/venues.md):

1. **Fresh** — asked on the cold path, in the step's ``prepare``, for exactly the leg's input, with our executor as
   the taker (it is the one that calls). The snapshot's sampled price only chose the leg.
2. **Vetted** — the tokens and amount it echoes are the ones asked (``chains/aggregator.py``), its
   ``transaction.to`` is one of the location's ``allowed_targets`` and its allowance target one of
   ``allowed_spenders``, it asks for no ETH, and its ``buyAmount`` covers the leg's min-out.
3. **Bounded on our side** — the executor approves the allowance target exactly the leg's input and resets it to
   zero, refuses targets that are a token or pool of the plan, and checks the leg's min-out (the plan's, not the
   quote's ``minBuyAmount``) on its *own balance* of the output token.
4. **Simulated** — the whole step is run with ``eth_call`` before anything is approved or signed; a CALL leg whose
   simulated output falls short of the quote's ``buyAmount`` (beyond ``max_shortfall_bps``) is refused, naming
   both numbers: calldata that pays less than its quote says (a skim, a stale route) never goes on the wire.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from eth_abi.abi import decode
from eth_utils.crypto import keccak

from fillpath.chains.aggregator import Quote, ZeroExClient
from fillpath.chains.executor import ExecutorError
from fillpath.collect.aggregators import aggregator_name
from fillpath.model.assets import AssetId
from fillpath.model.errors import FillpathError, Rejected
from fillpath.router.plan import PlanLeg
from fillpath.router.venues.aggregator import Aggregator


@dataclass(frozen=True, slots=True)
class AggregatorRoute:
    """One configured aggregator at one location, as a runner uses it."""

    name: str
    client: ZeroExClient
    allowed_targets: frozenset[str]
    """Lower-case addresses a quote's ``transaction.to`` may be."""
    allowed_spenders: frozenset[str]
    max_shortfall_bps: int = 0


@dataclass(frozen=True, slots=True)
class VettedQuote:
    """A quote that passed every check, for one leg of a step (``index`` in the step's legs)."""

    index: int
    venue: str
    quote: Quote
    max_shortfall_bps: int

    @property
    def spender(self) -> str:
        assert self.quote.allowance_target is not None  # vetted
        return self.quote.allowance_target


def route_for(venue: object, routes: Mapping[str, AggregatorRoute]) -> AggregatorRoute | None:
    """The configured aggregator behind an ``Aggregator`` venue (by its id), if any."""
    if not isinstance(venue, Aggregator):
        return None
    name = aggregator_name(venue.id)
    return routes.get(name) if name is not None else None


def _refuse(venue: str, why: str) -> Rejected:
    return Rejected(f"aggregator leg {venue}: {why}", reason="aggregator", venue=venue)


def vet(route: AggregatorRoute, leg: PlanLeg, quote: Quote | None) -> Quote:
    """``quote`` if it may run as this leg; else ``Rejected`` naming the check it failed."""
    if quote is None:
        raise _refuse(leg.venue, f"no liquidity for {leg.amount_in} now")
    if quote.to not in route.allowed_targets:
        raise _refuse(leg.venue, f"transaction.to {quote.to} is not an allowed target of aggregator {route.name}")
    if quote.allowance_target is None:
        raise _refuse(leg.venue, "the quote names no allowance target")
    if quote.allowance_target not in route.allowed_spenders:
        raise _refuse(leg.venue, f"allowance target {quote.allowance_target} is not an allowed spender of "
                      f"aggregator {route.name}")  # fmt: skip
    if quote.value != 0:
        raise _refuse(leg.venue, f"the quote asks for {quote.value} wei of ETH with a token input")
    if quote.buy_amount < leg.min_out:
        raise _refuse(leg.venue, f"quotes {quote.buy_amount} now, below the leg's min-out {leg.min_out}")
    return quote


async def fresh_quotes(
    legs: Sequence[PlanLeg],
    venues: Mapping[str, object],
    routes: Mapping[str, AggregatorRoute],
    addresses: Mapping[AssetId, str | None],
    taker: str,
) -> dict[int, VettedQuote]:
    """A vetted firm quote for every aggregator leg of ``legs`` (asked at once), by leg index. Any failure —
    slow, failing (5xx), malformed, refused, or a check — is ``Rejected`` for the whole step: nothing was sent."""
    asks: list[tuple[int, PlanLeg, AggregatorRoute]] = []
    for i, leg in enumerate(legs):
        route = route_for(venues.get(leg.venue), routes)
        if route is not None:
            asks.append((i, leg, route))

    async def one(i: int, leg: PlanLeg, route: AggregatorRoute) -> VettedQuote:
        sell, buy = addresses.get(leg.asset_in), addresses.get(leg.asset_out)
        if sell is None or buy is None:
            raise _refuse(leg.venue, "an aggregator leg trades tokens only (wrap ETH first)")
        try:
            got = await route.client.quote(sell, buy, leg.amount_in, taker)
        except Rejected as exc:
            raise _refuse(leg.venue, str(exc)) from exc
        except FillpathError as exc:  # Retryable: slow or failing; a quote is not worth waiting for
            raise _refuse(leg.venue, f"no fresh quote: {exc}") from exc
        return VettedQuote(i, leg.venue, vet(route, leg, got), route.max_shortfall_bps)

    vetted = await asyncio.gather(*(one(*a) for a in asks))
    return {v.index: v for v in vetted}


CALL_ERRORS: Mapping[bytes, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    keccak(text=f"{name}({','.join(types)})")[:4]: (name, types, names)
    for name, types, names in (
        ("TooMuchSlippage", ("address", "uint256", "uint256"), ("token", "expected", "actual")),
        ("Error", ("string",), ("message",)),
    )
}
"""What an aggregator's settlement says when it refuses: 0x Settler's (and the lab's) slippage error and a plain
``Error(string)``; anything else is shown as its selector."""


def explain(err: ExecutorError) -> str:
    """The executor's error in words; a ``CallFailed`` also says why the target refused, where it is known."""
    if err.name != "CallFailed":
        return str(err)
    raw = bytes(err.arg("reason"))
    known = CALL_ERRORS.get(raw[:4])
    if known is None:
        return f"CallFailed(index={err.arg('index')}): the target reverted with 0x{raw[:36].hex()}"
    name, types, names = known
    try:
        values = decode(list(types), raw[4:])
    except Exception:
        return f"CallFailed(index={err.arg('index')}): the target reverted with {name}"
    args = ", ".join(f"{k}={v}" for k, v in zip(names, values, strict=True))
    hint = " (a stale quote: the market moved since it was computed)" if name == "TooMuchSlippage" else ""
    return f"CallFailed(index={err.arg('index')}): the target reverted with {name}({args}){hint}"


def check_simulated(quotes: Mapping[int, VettedQuote], simulated: Sequence[int]) -> None:
    """Refuse a step whose simulation pays an aggregator leg less than its quote said (``simulated`` in the step's
    leg order)."""
    for i, v in quotes.items():
        got, promised = simulated[i], v.quote.buy_amount
        floor = promised - promised * v.max_shortfall_bps // 10_000
        if got < floor:
            raise _refuse(v.venue, f"the simulation pays {got}, {promised - got} short of the {promised} quoted: "
                          "its calldata pays less than its quote says")  # fmt: skip
