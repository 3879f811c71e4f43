"""The composition root: turns a ``Config`` into the adapters the commands use. Nothing else wires objects.

It knows nothing of the lab: ``fillpath lab up`` writes the lab's configuration (``<data dir>/lab/fillpath.toml``)
like any user's, and the lab is wired from it as a real deployment would be. Adapters are imported where they are
built, so a command loads only the ones it uses.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from fillpath.config import AccountConfig, Config, DiscoveryConfig, EvmLocationConfig
from fillpath.execution.killswitch import KillSwitch
from fillpath.model.amounts import to_base_units
from fillpath.model.assets import AssetId
from fillpath.model.codec import Amount
from fillpath.model.errors import InvalidInput, LabNotRunning
from fillpath.model.validate import did_you_mean, resolve_name
from fillpath.paths import ensure_private_dir, read_private_file
from fillpath.state.identity import JournalHome, read_marker, sqlite_path
from fillpath.state.store import Store

if TYPE_CHECKING:  # the adapters are imported where they are built: a journal-only command loads none of them
    from fillpath.cex.connector import CcxtConnector
    from fillpath.cex.order_driver import OrderDriver
    from fillpath.chains.accounts import Signer
    from fillpath.chains.aggregator import ZeroExClient
    from fillpath.chains.balances import ChainBalances
    from fillpath.chains.discovery import PoolDiscovery
    from fillpath.chains.readers import ChainSource, TokenRef
    from fillpath.chains.replacer import ReplacePolicy
    from fillpath.chains.rpc import RpcClient
    from fillpath.collect.aggregators import AggregatorSource
    from fillpath.collect.movers import MoverSpec
    from fillpath.execution.aggregator_leg import AggregatorRoute
    from fillpath.execution.engine import Wiring
    from fillpath.execution.evm import EvmVenue
    from fillpath.execution.recovery import Resolution
    from fillpath.execution.runners import TransferRunner
    from fillpath.model.ports import Journal
    from fillpath.router.snapshot import Snapshot
    from fillpath.state.reconcile_stream import StreamBalances
    from fillpath.state.reconciler import ExchangeChecks, FlowEvidence, OrderResolver, PassResult, Reconciler

HEALTH_REPLAY_EVENTS = 20_000
"""How much of the journal a new process replays to score venue health (the penalties decay in minutes)."""
CANONICAL_MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"


def chain_sources(cfg: Config) -> list[tuple[RpcClient, ChainSource]]:
    """One RPC client and one read plan per configured EVM location."""
    from fillpath.chains.readers import ChainSource, PoolRef, TokenRef
    from fillpath.chains.rpc import RpcClient

    out = []
    for name, loc in cfg.locations.items():
        tokens = tuple(TokenRef(t.symbol, t.address, t.decimals) for t in cfg.tokens if t.location == name)
        pools = tuple(PoolRef(p.kind, p.address) for p in cfg.pools if p.location == name)
        holder = next(
            (a.address for a in cfg.accounts.values() if a.address and (a.locations is None or name in a.locations)),
            None,
        )
        multicall = loc.multicall or CANONICAL_MULTICALL3
        src = ChainSource(
            location=name,
            chain_id=loc.chain_id,
            multicall=multicall,
            tokens=tokens,
            pools=pools,
            native=loc.native,
            holder=holder,
            discovery=pool_discovery(name, loc.discovery, tokens, multicall),
        )
        out.append((RpcClient(name, loc.rpc), src))
    if not out:
        _nothing_configured(cfg, "locations", "no EVM location is configured", "add a [locations.NAME] table")
    return out


def pool_discovery(
    location: str, cfg: DiscoveryConfig | None, tokens: Sequence[TokenRef], multicall: str
) -> PoolDiscovery | None:
    """A location's ``discovery`` table as the reader's ``PoolDiscovery`` (a described network's factories first)."""
    from fillpath.chains import networks
    from fillpath.chains.discovery import Factory, PoolDiscovery

    if cfg is None:
        return None
    factories: list[Factory] = []
    if cfg.network is not None:
        try:
            net = networks.network(cfg.network)
        except KeyError as exc:
            raise InvalidInput(f"locations.{location}.discovery.network", str(exc.args[0])) from None
        v2, v3 = net.uniswap_v2, net.uniswap_v3
        factories += [Factory("uniswap_v2", v2.factory, v2.start_block),
                      Factory("uniswap_v3", v3.factory, v3.start_block, v3.fee_tiers)]  # fmt: skip
    factories += [Factory("uniswap_v2", f.address, f.start_block) for f in cfg.uniswap_v2]
    factories += [Factory("uniswap_v3", f.address, f.start_block, f.fee_tiers) for f in cfg.uniswap_v3]
    return PoolDiscovery(tuple(factories), tuple(t.address for t in tokens), multicall, events=cfg.events,
                         max_log_range=cfg.max_log_range)  # fmt: skip


def mover_specs(cfg: Config) -> list[MoverSpec]:
    """Every configured bridge route, exchange deposit and withdrawal, as the snapshot's ``bridge`` and ``transfer``
    venues (``collect/movers.py``): from the configuration alone."""
    from fillpath.collect.movers import MoverSpec

    out = []
    places = set(cfg.locations) | set(cfg.exchanges)  # a configuration narrowed by model_copy skips validation
    for name, b in cfg.bridges.items():
        for r in b.routes:
            if not {r.source.partition("@")[2], r.target.partition("@")[2]} <= places:
                continue
            out.append(MoverSpec("bridge", bridge_venue_id(name, r.source, r.target), r.source, r.target, r.fee_ppm,
                                 r.fee_fixed, r.latency_s, r.max_amount, r.gas))  # fmt: skip
    for t in cfg.transfers:
        if t.chain not in cfg.locations or t.exchange not in cfg.exchanges:
            continue
        native = t.chain_symbol == cfg.locations[t.chain].native
        chain_asset, cex_asset = f"{t.chain_symbol}@{t.chain}", f"{t.coin}@{t.exchange}"
        if t.direction == "deposit":
            source, target = chain_asset, cex_asset
            gas = t.gas if t.gas is not None else (21_000 if native else 65_000)
        else:
            source, target, gas = cex_asset, chain_asset, 0
        out.append(MoverSpec("transfer", transfer_venue_id(t.exchange, t.direction, source, target), source, target,
                             0, t.fee, t.latency_s, t.max_amount, gas))  # fmt: skip
    return out


def bridge_venue_id(bridge: str, source: str, target: str) -> str:
    return f"{bridge}:{source}>{target}"


def transfer_venue_id(exchange: str, direction: str, source: str, target: str) -> str:
    return f"{exchange}:{direction}:{source}>{target}"


@dataclass(frozen=True, slots=True)
class AggregatorParts:
    """Every configured aggregator API: what the collector samples, what the chain runners quote and vet with."""

    sources: list[AggregatorSource]
    routes: dict[str, dict[str, AggregatorRoute]]
    """Location → aggregator name → route."""
    clients: list[ZeroExClient]


def aggregator_parts(cfg: Config) -> AggregatorParts:
    """One API client per ``[aggregators.NAME]`` (its key from the named variable), shared by sampling and quoting;
    the taker is the location's executor, which is what calls the quote's transaction."""
    from fillpath.chains.aggregator import ZeroExClient
    from fillpath.collect.aggregators import AggregatorSource, SampledPair, TokenSide
    from fillpath.execution.aggregator_leg import AggregatorRoute

    sources: list[AggregatorSource] = []
    routes: dict[str, dict[str, AggregatorRoute]] = {}
    clients: list[ZeroExClient] = []
    tokens = {(t.location, t.symbol): t for t in cfg.tokens}
    for name, agg in cfg.aggregators.items():
        loc = cfg.locations[agg.location]
        key = os.environ.get(agg.api_key_env) if agg.api_key_env else None
        if agg.api_key_env and not key:
            raise InvalidInput(f"${agg.api_key_env}", "is not set", f"export aggregator {name}'s API key")
        client = ZeroExClient(name, agg.url, loc.chain_id, agg.timeout_s, key, agg.excluded_sources, agg.slippage_bps)
        clients.append(client)
        pairs = []
        for k, p in enumerate(agg.pairs):
            sell, buy = tokens[(agg.location, p.sell)], tokens[(agg.location, p.buy)]
            field = f"aggregators.{name}.pairs[{k}].sizes"
            sizes = tuple(to_base_units(x, sell.decimals, field=field) for x in p.sizes)
            pairs.append(SampledPair(TokenSide(sell.symbol, sell.address), TokenSide(buy.symbol, buy.address), sizes))
        sources.append(AggregatorSource(name, agg.location, client, loc.executor, tuple(pairs)))
        routes.setdefault(agg.location, {})[name] = AggregatorRoute(
            name, client, frozenset(a.lower() for a in agg.allowed_targets),
            frozenset(a.lower() for a in agg.allowed_spenders), agg.max_shortfall_bps,
        )  # fmt: skip
    return AggregatorParts(sources, routes, clients)


def _nothing_configured(cfg: Config, field: str, problem: str, fix: str) -> None:
    if cfg.lab:  # the lab's default with no lab written: nothing is running
        raise LabNotRunning("the lab is not running; start it with `fillpath lab up`")
    raise InvalidInput(f"{cfg.source}: {field}", problem, fix)


def trading_signers(cfg: Config) -> dict[str, Signer]:
    """EVM location → the signer that trades there: the lab trader on every lab chain, else ``[accounts.*]``.

    This unlocks keys; a dry run must never call it. A keystore needs ``passphrase_env`` or ``passphrase_file``
    here (no prompt).
    """
    if not cfg.locations:
        _nothing_configured(cfg, "locations", "no EVM location is configured", "add a [locations.NAME] table")
    owner: dict[str, str] = {}  # location → account name; checked in full before any key is unlocked
    for name, acc in cfg.accounts.items():
        field = f"{cfg.source}: accounts.{name}.locations"
        for loc in tuple(cfg.locations) if acc.locations is None else acc.locations:
            if loc not in cfg.locations:
                fix = f"use one of {', '.join(sorted(cfg.locations))}"
                raise InvalidInput(field, f"{loc!r} is not a configured location", fix)
            if loc in owner:
                fix = "give each account its own 'locations'"
                raise InvalidInput(field, f"{loc} is already signed for by account {owner[loc]!r}", fix)
            owner[loc] = name
    out: dict[str, Signer] = {}
    for name in dict.fromkeys(owner.values()):  # an account that signs nowhere is never unlocked
        acc, field = cfg.accounts[name], f"{cfg.source}: accounts.{name}"
        signer = _account_signer(field, acc)
        if acc.address is not None and acc.address.lower() != signer.address.lower():
            problem = f"the key signs for {signer.address}, not {acc.address}"
            raise InvalidInput(f"{field}.address", problem, "fix the address or the key")
        out.update({loc: signer for loc, owner_name in owner.items() if owner_name == name})
    return out


def _account_signer(field: str, acc: AccountConfig) -> Signer:
    from fillpath.chains.accounts import signer_from_env, signer_from_keystore

    if acc.private_key_env is not None:
        return signer_from_env(acc.private_key_env)
    assert acc.keystore is not None  # the config allows exactly one of the two
    if acc.passphrase_file is not None:
        return signer_from_keystore(acc.keystore, read_private_file(acc.passphrase_file, f"{field}.passphrase_file"))
    if acc.passphrase_env is None:
        fix = 'name the variable that holds it: passphrase_env = "VAR" (or passphrase_file = "PATH")'
        raise InvalidInput(f"{field}.passphrase_env", "is required to sign with a keystore", fix)
    passphrase = os.environ.get(acc.passphrase_env)
    if not passphrase:
        raise InvalidInput(f"${acc.passphrase_env}", "is not set", "export it with the keystore's passphrase")
    return signer_from_keystore(acc.keystore, passphrase)


def journal_home(cfg: Config) -> JournalHome:
    """Where the data directory records its journal's identity and keeps the journal's backups."""
    return JournalHome.of(cfg.data_dir)


def journal_exists(cfg: Config) -> bool:
    """Whether a journal may exist to be read (a PostgreSQL one always may): read-only commands and refusals use
    it so as never to create a journal just to find nothing in it."""
    url = cfg.resolved_database_url
    path = sqlite_path(url)
    if path is None or path.exists() or path.is_symlink():
        return True
    # a journal the data directory recorded and that is gone now may exist (opening it says how to restore it); the
    # data directory's record of *other* journals says nothing about this one (a lab's directory, shared by tests
    # and scripts with journals of their own)
    home = journal_home(cfg)
    return home.marker.exists() and read_marker(home, url) is not None


def open_store(cfg: Config, *, trading: str | None = None) -> Store:
    """The configured store (SQLite in the data directory by default), checked against the identity the data
    directory recorded (a missing, empty, damaged or swapped journal is refused with the way to restore it, never
    replaced by a new one), backed up before a migration, migrated to the current schema.

    ``trading``: what this process is (``"fillpath swap"``): it will allocate nonces and own intents, and on SQLite
    only one such process may hold the journal at a time."""
    ensure_private_dir(cfg.data_dir)
    return Store.open(cfg.resolved_database_url, home=journal_home(cfg), trading=trading)


def balance_sources(cfg: Config, *, pro: bool = False) -> list[ChainBalances | CcxtConnector]:
    """Every venue whose balances reconciliation reads: each chain's holder, each exchange account (on
    ccxt.pro when ``pro``, for its user stream)."""
    from fillpath.chains.balances import ChainBalances

    chains: list[ChainBalances | CcxtConnector] = [
        ChainBalances(rpc, src, confirmations=balance_confirmations(cfg, src.location))
        for rpc, src in chain_sources(cfg)
        if src.holder
    ]
    return chains + list(exchange_connectors(cfg, pro=pro))


def exchange_checks(
    connectors: Sequence[CcxtConnector], streams: Mapping[str, StreamBalances] | None = None
) -> dict[str, ExchangeChecks]:
    """Order, trade and (where a stream is given) stream reconciliation for each exchange account, its order
    driver writing through the reconciler's journal. The connectors' markets must be loaded."""
    from fillpath.cex.order_driver import OrderDriver
    from fillpath.state.reconciler import ExchangeChecks

    def driver(conn: CcxtConnector) -> Callable[[Journal], OrderResolver]:
        return lambda journal: OrderDriver(conn, journal)

    return {c.location: ExchangeChecks(c, driver(c), (streams or {}).get(c.location)) for c in connectors}


def flow_evidence(sources: Sequence[ChainBalances | CcxtConnector]) -> dict[str, FlowEvidence]:
    """Per venue, its identity and the evidence of money moved without us (chain transfer logs and native balance
    changes; an exchange's deposit and withdrawal history through its wallet, where its dialect has one)."""
    from fillpath.cex.flows import ExchangeEvidence
    from fillpath.cex.wallet import wallet_for
    from fillpath.chains.balances import ChainBalances

    out: dict[str, FlowEvidence] = {}
    for s in sources:
        out[s.location] = s if isinstance(s, ChainBalances) else ExchangeEvidence(s, wallet_for(s))
    return out


def new_epoch_venues(cfg: Config) -> frozenset[str]:
    """The venues configured to start a new epoch when they come back as another venue (the lab's)."""
    chains = {n for n, c in cfg.locations.items() if c.on_identity_change == "new_epoch"}
    return frozenset(chains | {n for n, e in cfg.exchanges.items() if e.on_identity_change == "new_epoch"})


def reconciler(
    cfg: Config,
    store: Store,
    sources: Sequence[ChainBalances | CcxtConnector],
    connectors: Sequence[CcxtConnector],
    streams: Mapping[str, StreamBalances] | None = None,
) -> Reconciler:
    """The reconciler every command and the service use: balances, orders and trades, identities and external
    flows. The connectors' markets must be loaded."""
    from fillpath.state.reconciler import Reconciler

    return Reconciler(
        store, sources, exchanges=exchange_checks(connectors, streams), evidence=flow_evidence(sources),
        new_epoch=new_epoch_venues(cfg),
    )  # fmt: skip


def balance_confirmations(cfg: Config, location: str) -> int:
    """How far below the head balances are read (the lab's configuration says 0: it mines only when a transaction
    arrives, so its head is final and reading below it would show balances from before the last trade)."""
    return cfg.locations[location].confirmations


def configured_venues(cfg: Config) -> list[str]:
    """Every location trading happens at (chains, then exchanges), from the configuration alone: no network."""
    return sorted(cfg.locations) + sorted(cfg.exchanges)


def venue_names(cfg: Config) -> list[str]:
    """Every venue and location id the configuration defines, as snapshots and the health book name them:
    locations, exchanges, each pool (``lab1:uniswap_v3:0x…``) and each chain's wrap (``lab1:wrap:WETH``)."""
    names = configured_venues(cfg)
    names += [f"{p.location}:{p.kind}:{p.address}" for p in cfg.pools]
    names += [f"{t.location}:wrap:{t.symbol}" for t in cfg.tokens if t.symbol == "WETH"]
    return names


_MARKET = re.compile(r"^([a-z0-9][a-z0-9_-]*):([A-Z0-9]{1,20})/([A-Z0-9]{1,20})$")


def resolve_venue(cfg: Config, name: str, field: str, *, also: Iterable[str] = ()) -> str:
    """``name`` if it is a venue or location the configuration defines, an exchange market of a configured
    exchange (``labex:ETH/USDT``: its markets are the exchange's, not the configuration's), or one of ``also``
    (venues the journal already flags); else ``InvalidInput`` with a "did you mean". A typo must never halt
    nothing while the venue meant keeps trading."""
    known = [*venue_names(cfg), *also]
    market = _MARKET.match(name)
    if name in known or (market is not None and market.group(1) in cfg.exchanges):
        return name
    return resolve_name(name, known, field, what="venue or location")


NATIVE_DECIMALS = 18


def sell_decimals(cfg: Config, names: str, field: str = "SELL") -> int:
    """The unit of what ``names`` lists (``SYMBOL@LOCATION``, a bare symbol, or a comma list), from the configuration
    alone: a chain's tokens as configured and its native coin (18), an exchange asset as the snapshot collector
    reads it (its symbol's decimals on the chains, else 18). A human amount is converted once with it, at the edge;
    the engine checks it against the snapshot."""
    from fillpath.collect.snapshot import CEX_DECIMALS

    chain: dict[tuple[str, str], int] = {(t.location, t.symbol): t.decimals for t in cfg.tokens}
    chain |= {(name, loc.native): NATIVE_DECIMALS for name, loc in cfg.locations.items()}
    by_symbol: dict[str, int] = {sym: dec for (_, sym), dec in chain.items()}

    def of(asset: str) -> set[int]:
        symbol, _, location = asset.partition("@")
        if not location:
            found = {dec for (_, sym), dec in chain.items() if sym == symbol}
            return found | ({by_symbol.get(symbol, CEX_DECIMALS)} if cfg.exchanges else set())
        if location in cfg.exchanges:
            return {by_symbol.get(symbol, CEX_DECIMALS)}
        if location not in cfg.locations:
            if not cfg.locations and not cfg.exchanges:
                _nothing_configured(cfg, field, f"{location!r} is not a configured location", "configure it")
            fix = did_you_mean(location, [*cfg.locations, *cfg.exchanges])
            raise InvalidInput(field, f"{location!r} is not a configured location", fix)
        if (location, symbol) not in chain:
            known = [f"{sym}@{loc}" for loc, sym in chain if loc == location]
            raise InvalidInput(field, f"{asset} is not a configured token", did_you_mean(asset, known))
        return {chain[(location, symbol)]}

    found: set[int] = set()
    for part in (p.strip() for p in names.split(",")):
        found |= of(part)
    if not found:
        _nothing_configured(cfg, field, f"{names!r} is not a configured asset", "give SYMBOL@LOCATION")
    if len(found) > 1:
        raise InvalidInput(field, f"{names!r} has different decimals at different locations", "name assets of one unit")
    return found.pop()


def kill_switch(cfg: Config) -> KillSwitch:
    return KillSwitch(cfg.risk.kill_switch_file or cfg.data_dir / "HALT")


def exchange_connectors(
    cfg: Config, *, credentials: bool = True, journal: Journal | None = None, pro: bool = False
) -> list[CcxtConnector]:
    """One connector per configured [exchanges.NAME]; on ccxt.pro when ``pro`` (the same REST calls, plus the
    streams).

    ``credentials=False`` builds public-only connectors (books, markets): a dry run never loads a secret.
    """
    from fillpath.cex.factory import connector_from_config  # ccxt: only for commands that reach an exchange

    return [
        connector_from_config(name, ex, journal=journal, credentials=credentials, pro=pro)
        for name, ex in cfg.exchanges.items()
    ]


class Closable(Protocol):
    async def close(self) -> None: ...


async def close_all(items: Iterable[Closable]) -> None:
    """Close every RPC client and exchange session (ccxt warns about, and leaks, unclosed ones)."""
    for item in items:
        await item.close()


# --- execution ----------------------------------------------------------------------------------------------


@dataclass
class ExecutionParts:
    """The engine's wiring plus everything that must be closed after the command."""

    wiring: Wiring
    evm: dict[str, EvmVenue]
    drivers: dict[str, OrderDriver]
    assets_by_address: dict[str, dict[str, AssetId]]
    closers: list[Closable]
    sources: dict[str, ChainSource]
    exchanges: list[CcxtConnector]
    movers: list[TransferRunner] = field(default_factory=list)
    """The bridge and exchange-transfer runners (also in ``wiring.extra_runners``): recovery settles their open
    intents."""

    async def close(self) -> None:
        await close_all(self.closers)


def _executors(cfg: Config) -> dict[str, str]:
    return {name: loc.executor for name, loc in cfg.locations.items() if loc.executor}


def _guard_balance(store: Store, decimals: dict[AssetId, int]) -> Callable[[AssetId], int | None]:
    """What the ledger holds and no open intent has promised yet, in base units (exchange assets are kept as exact
    decimals; the guard compares base units). Another engine's open intents count: it spends the same account."""

    def units(asset: AssetId, amount: Amount) -> int:
        if isinstance(amount, int):
            return amount
        return int(amount.scaleb(decimals.get(asset, 18)).to_integral_value(rounding="ROUND_FLOOR"))

    def balance(asset: AssetId) -> int | None:
        held = store.balance(asset)
        if held is None:
            return None
        return units(asset, held) - units(asset, store.promised(asset))

    return balance


def replace_policy(loc: EvmLocationConfig) -> ReplacePolicy:
    """A chain location's fee-bump settings (``replace_after_s``, ``max_replacements``, ``max_fee_multiple``)."""
    from fillpath.chains.replacer import ReplacePolicy

    return ReplacePolicy(loc.replace_after_s, loc.max_replacements, loc.max_fee_multiple)


async def execution_parts(
    cfg: Config,
    store: Store,
    *,
    signers: Mapping[str, Signer] | None,
    crash: Callable[[str], None] = lambda _name: None,
) -> ExecutionParts:
    """The engine's adapters. ``signers=None`` is a dry run: no key, no exchange credentials are loaded, and the
    exchange holdings come from the ledger."""
    from fillpath.cex.order_driver import OrderDriver
    from fillpath.chains.nonces import NonceAllocator
    from fillpath.chains.replacer import FeeBumper
    from fillpath.chains.tracker import TxTracker
    from fillpath.collect.snapshot import take_snapshot, with_ledger_holdings
    from fillpath.execution.engine import HealthWatch, Wiring
    from fillpath.execution.evm import EvmVenue
    from fillpath.execution.guards import Guards
    from fillpath.execution.health import Observation, ObservationKind
    from fillpath.execution.health_feed import warm_start
    from fillpath.router.snapshot import read_snapshot

    dry_run = signers is None
    sources = [
        (rpc, replace(src, holder=signers[src.location].address) if signers and src.location in signers else src)
        for rpc, src in chain_sources(cfg)
    ]
    rpcs = {src.location: rpc for rpc, src in sources}
    closers: list[Closable] = [rpc for rpc, _ in sources]
    exchanges = exchange_connectors(cfg, credentials=not dry_run, journal=store)
    closers += exchanges
    aggregators = aggregator_parts(cfg)
    closers += aggregators.clients

    def halted() -> frozenset[str]:
        return frozenset(f.venue for f in store.projections().venue_flags.values() if f.halted)

    decimals: dict[AssetId, int] = {}
    held: dict[AssetId, int] = {}

    async def snapshot() -> Snapshot:
        raw = await take_snapshot(
            sources, exchanges=exchanges, balances=not dry_run, movers=mover_specs(cfg), aggregators=aggregators.sources
        )
        if dry_run:  # what we hold on exchanges, as the ledger says (reading it would need the credentials)
            raw = with_ledger_holdings(raw, store, {c.location for c in exchanges})
        snap = read_snapshot(raw)
        decimals.update({a.id: a.decimals for a in snap.assets})
        held.clear()
        held.update(snap.holdings or {})
        return snap

    evm: dict[str, EvmVenue] = {}
    holders = {src.location: src.holder for _, src in sources if src.holder}
    executors = _executors(cfg)
    if signers is not None:
        for rpc, src in sources:
            signer = signers.get(src.location)
            if signer is None or src.location not in executors:
                continue
            holders[src.location] = signer.address
            loc_cfg = cfg.locations[src.location]
            confirmations = loc_cfg.confirmations
            replacing = replace_policy(loc_cfg)
            bumper = FeeBumper(rpc, signer, src.chain_id, replacing)
            evm[src.location] = EvmVenue(
                src.location, src.chain_id, rpc, signer, executors[src.location],
                NonceAllocator(rpc, src.location, signer.address, store),
                TxTracker(rpc, src.location, store, replacing.tracker_policy(max(1, confirmations)), replacer=bumper,
                          crash=crash),
                AssetId(src.native, src.location), crash=crash, shared_account=store.shared,
            )  # fmt: skip
    drivers = {} if dry_run else {c.location: OrderDriver(c, store) for c in exchanges}
    try:
        loaded = await asyncio.gather(*(c.ensure_markets() for c in exchanges), return_exceptions=True)  # at once
        if failed := [r for r in loaded if isinstance(r, BaseException)]:
            raise failed[0]
    except BaseException:  # an unreachable exchange: close every session opened so far, then say why
        await close_all(closers)
        raise
    # a dry run checks balances against what the snapshot could read (chains: public; exchanges: the ledger)
    balance = held.get if dry_run else _guard_balance(store, decimals)
    source = "the snapshot" if dry_run else "the ledger"
    guards = Guards(kill_switch(cfg), cfg.risk, lambda v: store.venue_flag(v).halted, balance, source)  # O(1)
    runnable = set(evm) if not dry_run else {loc for loc in rpcs if loc in holders and loc in executors}
    recent = max(0, store.last_seq - HEALTH_REPLAY_EVENTS)
    book, feed = warm_start(store.events(recent), store.projections().venue_flags.values(), time.time_ns())
    health = HealthWatch(book, feed, store.last_seq)

    def throttled(venue: str, detail: str) -> None:
        changes = book.observe(venue, Observation(ObservationKind.RATE_LIMITED, detail=detail), time.time_ns())
        if changes:
            store.append_many(changes)

    for c in exchanges:
        c.on_throttled = throttled
    by_address = {
        src.location: {t.address.lower(): AssetId(t.symbol, src.location) for t in src.tokens} for _, src in sources
    }
    movers = mover_runners(cfg, store, rpcs, holders, evm, exchanges, by_address, crash=crash, dry_run=dry_run)
    wiring = Wiring(
        health=health,
        store=store, guards=guards, snapshot=snapshot, rpcs={k: v for k, v in rpcs.items() if k in runnable},
        holders=holders,
        executors=executors, evm=evm, drivers=drivers, halted=halted, crash=crash, extra_runners=movers,
        aggregators=aggregators.routes,
    )  # fmt: skip
    return ExecutionParts(
        wiring, evm, drivers, by_address, closers, {src.location: src for _, src in sources}, exchanges, movers
    )


def mover_runners(
    cfg: Config,
    store: Store,
    rpcs: Mapping[str, RpcClient],
    holders: Mapping[str, str],
    evm: Mapping[str, EvmVenue],
    exchanges: Sequence[CcxtConnector],
    assets_by_address: Mapping[str, Mapping[str, AssetId]],
    *,
    crash: Callable[[str], None] = lambda _name: None,
    dry_run: bool,
) -> list[TransferRunner]:
    """The runners for configured bridges, exchange deposits and withdrawals, registered with the engine
    (``Wiring.extra_runners``). A leg runs only where we can sign (a chain with a signer, an exchange with
    credentials) and receive (our account on the target); a dry run prices them without either."""
    from fillpath.cex.wallet import wallet_for
    from fillpath.execution.bridge import BridgeEnd, BridgeRunner
    from fillpath.execution.cex_transfers import (
        ChainAccount,
        DepositRoute,
        DepositRunner,
        WithdrawRoute,
        WithdrawRunner,
    )

    out: list[TransferRunner] = []
    tokens = {(t.location, t.symbol): t.address for t in cfg.tokens}
    for name, b in cfg.bridges.items():
        ends = {
            loc: BridgeEnd(loc, cfg.locations[loc].chain_id, rpcs[loc], pool, holders[loc])
            for loc, pool in b.spoke_pools.items()
            if loc in rpcs and loc in holders and loc in cfg.locations
        }
        for origin in sorted(ends):
            routes = frozenset(
                bridge_venue_id(name, r.source, r.target)
                for r in b.routes
                if r.source.partition("@")[2] == origin and r.target.partition("@")[2] in ends
            )
            if routes and (dry_run or origin in evm):
                out.append(BridgeRunner(origin, store, evm.get(origin), ends, routes, b.fill_deadline_s, b.wait_s,
                                        b.poll_s, assets_by_address.get(origin, {}), crash=crash))  # fmt: skip
    wallets = {c.location: w for c in exchanges if (w := wallet_for(c)) is not None}

    def token_of(chain: str, symbol: str) -> str | None:
        return None if symbol == cfg.locations[chain].native else tokens.get((chain, symbol))

    deposits: dict[str, dict[str, DepositRoute]] = {}
    withdrawals: dict[str, dict[str, WithdrawRoute]] = {}
    for t in cfg.transfers:
        if t.chain not in cfg.locations:
            continue
        if t.exchange not in wallets or (t.chain_symbol != cfg.locations[t.chain].native and
                                         (t.chain, t.chain_symbol) not in tokens):  # fmt: skip
            continue
        chain_asset, cex_asset = f"{t.chain_symbol}@{t.chain}", f"{t.coin}@{t.exchange}"
        decimals = sell_decimals(cfg, cex_asset)
        token = token_of(t.chain, t.chain_symbol)
        if t.direction == "deposit":
            vid = transfer_venue_id(t.exchange, t.direction, chain_asset, cex_asset)
            deposits.setdefault(t.chain, {})[vid] = DepositRoute(t.exchange, t.coin, t.network_id, token, decimals)
        else:
            vid = transfer_venue_id(t.exchange, t.direction, cex_asset, chain_asset)
            withdrawals.setdefault(t.exchange, {})[vid] = WithdrawRoute(t.coin, t.network_id, t.chain, token, t.fee,
                                                                        t.min, decimals)  # fmt: skip
    waits = {(t.exchange, t.chain): (t.wait_s, t.poll_s) for t in cfg.transfers}
    for chain, droutes in sorted(deposits.items()):
        if dry_run or chain in evm:
            wait, poll = max((w for (_, c), w in waits.items() if c == chain), default=(300.0, 0.25))
            out.append(DepositRunner(chain, store, evm.get(chain), wallets, droutes, assets_by_address.get(chain, {}),
                                     wait, poll, crash=crash))  # fmt: skip
    accounts = {loc: ChainAccount(rpcs[loc], holders[loc]) for loc in rpcs if loc in holders}
    for exchange, wroutes in sorted(withdrawals.items()):
        reachable = {vid: r for vid, r in wroutes.items() if r.chain in accounts}
        if reachable:
            wait, poll = max((w for (e, _), w in waits.items() if e == exchange), default=(300.0, 0.25))
            out.append(WithdrawRunner(exchange, store, None if dry_run else wallets[exchange], reachable, accounts,
                                      wait, poll, crash=crash))  # fmt: skip
    return out


async def live_snapshot(cfg: Config) -> Snapshot:
    """Every configured venue read now (chains, exchange books, bridges and transfers, aggregators), with holdings."""
    from fillpath.collect.snapshot import take_snapshot
    from fillpath.router.snapshot import read_snapshot

    sources, exchanges, aggregators = chain_sources(cfg), exchange_connectors(cfg), aggregator_parts(cfg)
    try:
        raw = await take_snapshot(
            sources, exchanges=exchanges, movers=mover_specs(cfg), aggregators=aggregators.sources
        )
        return read_snapshot(raw)
    finally:
        await close_all(rpc for rpc, _ in sources)
        await close_all(exchanges)
        await close_all(aggregators.clients)


async def settle_before_trading(
    cfg: Config, store: Store, parts: ExecutionParts
) -> tuple[list[Resolution], list[PassResult]]:
    """The cold path before a trade: resolve what a crash left open, then bring the ledger level with the venues."""
    from fillpath.chains.balances import ChainBalances
    from fillpath.execution.recovery import recover

    resolved = await recover(store, parts.evm, parts.drivers, parts.assets_by_address, parts.movers)
    sources: list[ChainBalances | CcxtConnector] = [
        ChainBalances(v.rpc, parts.sources[loc], confirmations=balance_confirmations(cfg, loc))
        for loc, v in parts.evm.items()
    ]
    connectors = [c for c in parts.exchanges if c.location in parts.drivers]
    sources += connectors
    passes = await reconciler(cfg, store, sources, connectors).run_once()
    return resolved, passes
