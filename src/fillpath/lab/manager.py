"""``lab up | down | status``: real anvil nodes on free loopback ports, deployed once and then reloaded, and the
lab's exchange simulators (``labex`` in Binance's API, ``labokx`` in OKX's).

The first ``up`` deploys and seeds each chain and dumps its state into a cache keyed by everything that shapes
it (artifacts, spec, deploy code, anvil version); later ``up`` s load that dump in well under two seconds.
Block timestamps are deterministic: genesis at 2026-01-01T00:00:00Z and +12 s per block, restored after a reload.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, partial
from pathlib import Path
from typing import Any

from fillpath import paths
from fillpath.chains import networks
from fillpath.chains.accounts import Signer
from fillpath.config import redact_url
from fillpath.lab import config_file
from fillpath.lab.aggregator import lab as labagg
from fillpath.lab.bridge import relayer
from fillpath.lab.chains import artifacts, funding, process, rpc, spec, trader
from fillpath.lab.chains import fork as fork_mode
from fillpath.lab.chains.deployment import LabDeployment
from fillpath.lab.contracts import artifacts as lab_artifacts
from fillpath.lab.exchange import lab as labex
from fillpath.model.amounts import from_base_units, parse_decimal
from fillpath.model.assets import AssetId
from fillpath.model.errors import InvalidInput, LabError, LabNotRunning
from fillpath.model.validate import check_human
from fillpath.paths import ensure_private_dir

GENESIS_TIMESTAMP = 1_767_225_600  # 2026-01-01T00:00:00Z
BLOCK_INTERVAL_S = 12
DEV_BALANCE_ETH = 1_000_000
STATE_VERSION = 1
HISTORY_BLOCKS = 8
TRADER_GAS_FLOOR = 10**18  # below this the trader cannot pay for much: `up` tops it up ...
TRADER_GAS = 100 * 10**18  # ... to this; above the floor its native balance is inventory and left alone
RELAYER_FILL_DELAY_S = 0.5  # the lab relayer fills a deposit this long after it sees it
RELAYER_REFUND_AFTER_S = 2.0  # ... or, when it will not fill it, has it refunded this long after


@dataclass(frozen=True, slots=True)
class NodeStatus:
    location: str
    chain_id: int
    rpc_url: str | None
    ws_url: str | None
    running: bool  # our process is alive (checked by pid and start time)
    responding: bool  # it answers JSON-RPC with the right chain id
    block: int | None
    pid: int | None
    problem: str | None
    deployment: LabDeployment | None
    trader: str | None = None  # the lab's trading account (the execution engine signs with it)
    fork: dict[str, Any] | None = None  # on a fork: {"url", "block"} of the upstream

    def to_json(self) -> dict[str, Any]:
        dep = self.deployment.to_json() if self.deployment else None
        return {
            "location": self.location,
            "kind": "evm",
            "chain_id": self.chain_id,
            "rpc_url": self.rpc_url,
            "ws_url": self.ws_url,
            "running": self.running,
            "responding": self.responding,
            "block": self.block,
            "pid": self.pid,
            "problem": self.problem,
            "dev_account": dep["dev"] if dep else None,
            "trader_account": self.trader,
            "contracts": ({**dep["contracts"], **{s: t["address"] for s, t in dep["tokens"].items()}} if dep else {}),
            "tokens": dep["tokens"] if dep else {},
            "pools": dep["pools"] if dep else [],
            "fork": None if self.fork is None else {"url": redact_url(self.fork["url"]), "block": self.fork["block"]},
        }


@dataclass(frozen=True, slots=True)
class ExchangeStatus:
    """One of the lab's exchange simulators (``labex``, ``labokx``)."""

    location: str
    url: str | None
    running: bool
    responding: bool
    pid: int | None
    problem: str | None
    api_key: str | None
    dialect: str = "binance"
    """The API it speaks, and the ccxt id that talks to it."""

    def to_json(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "kind": "cex",
            "url": self.url,
            "ccxt_id": self.dialect,
            "running": self.running,
            "responding": self.responding,
            "pid": self.pid,
            "problem": self.problem,
            "api_key": self.api_key,
            "markets": [f"{b}/{q}" for b, q in labex.MARKETS],
        }


def default_cache_dir() -> Path:
    env = os.environ.get("FILLPATH_LAB_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "fillpath" / "lab"


class Lab:
    """The lab's chains under one data directory. Safe to call from several processes (a file lock)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        cache_dir: Path | None = None,
        profile: str = "full",
        log: Callable[[str], None] = lambda _m: None,
        fork: fork_mode.ForkSettings | None = None,
    ) -> None:
        self.dir = data_dir / "lab"
        self.cache_dir = cache_dir or default_cache_dir()
        self.specs = spec.lab_specs(profile)
        self.profile = profile
        self.log = log
        self.fork = fork
        """Fork mode (``docs/fork.md``): each chain is an anvil fork of a URL at a pinned block, not a fresh chain."""

    # --- state file --------------------------------------------------------------------------------------
    @property
    def state_path(self) -> Path:
        return self.dir / "lab.json"

    def _read_state(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return {"version": STATE_VERSION, "nodes": {}}
        if data.get("version") != STATE_VERSION:
            return {"version": STATE_VERSION, "nodes": {}}
        return dict(data)

    def _write_state(self, data: dict[str, Any]) -> None:
        """0600: it names the exchange's API key, and the lab's directory is the data directory's (0700)."""
        ensure_private_dir(self.dir)
        paths.write_private_file(self.state_path, json.dumps(data, indent=2), "lab state")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        ensure_private_dir(self.dir.parent)
        ensure_private_dir(self.dir)
        with open(self.dir / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # --- commands ----------------------------------------------------------------------------------------
    def up(self) -> list[NodeStatus]:
        with self._locked():
            address = trader.ensure_trader(self.dir)
            state = self._read_state()
            nodes: dict[str, Any] = state["nodes"]
            todo: list[Any] = []
            fork = self._fork_for(state)
            if fork is not None:
                todo = self._up_forks(fork, state, address)
            else:
                for s in self.specs:
                    rec = nodes.get(s.location)
                    if rec and self._check(rec)[1]:
                        continue  # already up and answering: nothing to do
                    if rec:
                        process.stop(process.ProcessRef.from_json(rec["process"]))
                    todo.append(s)
            if todo and fork is None:
                with ThreadPoolExecutor(max_workers=len(todo)) as pool:
                    for rec in pool.map(lambda s: self._start(s, address), todo):
                        nodes[rec["location"]] = rec
            if fork is None or fork.venues:
                self._up_venues(state, nodes, bool(todo))
            self._write_state(state)
            self._gas_up_trader(nodes, address)
            if fork is None:
                self._align_clocks(nodes)
            self._write_config(state, address)
        return self.status()

    def _align_clocks(self, nodes: Mapping[str, Any]) -> None:
        """Bring the lab chains' clocks level (``funding.align_clocks``): lab1 deploys more than lab2, and ``lab
        fund`` mines on the chains it changed only; a bridge's fill deadline needs the two to agree."""
        urls = [rec["rpc_url"] for rec in nodes.values() if self._check(rec)[1]]
        for url, blocks in funding.align_clocks(urls, BLOCK_INTERVAL_S).items():
            self.log(f"{url}: {blocks} empty block(s) mined to bring its clock level with the other lab chains")

    def _up_venues(self, state: dict[str, Any], nodes: dict[str, Any], restarted: bool) -> None:
        """The exchange simulators, the bridge relayer and the aggregator, (re)started when a chain restarted."""
        # the simulators and the relayer read the chains: after a chain restarted (new port) they restart too;
        # they all start at once (each spends most of its start-up importing)
        exchanges = _exchange_records(state)
        state.pop("exchange", None)
        starts: dict[str, Callable[[], dict[str, Any]]] = {}
        for spec_ex in labex.EXCHANGES:
            rec = exchanges.get(spec_ex.location)
            if restarted or not (rec and self._check_exchange(rec)[1]):
                if rec:
                    process.stop(process.ProcessRef.from_json(rec["process"]))
                starts[spec_ex.location] = partial(self._start_exchange, spec_ex, nodes)
        rel = state.get("relayer")
        if _bridged(nodes) and (restarted or not (rel and self._check_relayer(rel)[1])):
            if rel:
                process.stop(process.ProcessRef.from_json(rel["process"]))
            starts["relayer"] = lambda: self._start_relayer(nodes)
        if starts:
            with ThreadPoolExecutor(max_workers=len(starts)) as pool:
                started = {k: pool.submit(f) for k, f in starts.items()}
            failed: list[BaseException] = []
            for k, f in started.items():
                if (exc := f.exception()) is not None:
                    failed.append(exc)
                elif k == "relayer":  # recorded, so `down` stops it even if another did not start
                    state["relayer"] = f.result()
                else:
                    exchanges[k] = f.result()
            state["exchanges"] = exchanges
            if failed:
                self._write_state(state)
                raise failed[0]
        state["exchanges"] = exchanges
        self._ensure_aggregator(state)

    def _write_config(self, state: dict[str, Any], address: str) -> None:
        """The running lab as a fillpath configuration, which every other command reads (``lab/config_file.py``)."""
        chains = [
            (LabDeployment.from_json(rec["deployment"]), rec["rpc_url"], rec["ws_url"])
            for loc in self._locations(state)
            if (rec := state["nodes"].get(loc))
        ]
        exchanges = [
            (rec["location"], rec.get("dialect", "binance"), rec["url"], labex.credentials_path(self.dir, loc))
            for loc, rec in _exchange_records(state).items()
        ]
        keystore, passphrase = trader.keystore_path(self.dir), trader.passphrase_path(self.dir)
        text = config_file.render(self.dir.parent, chains, address, keystore, passphrase, exchanges,
                                  aggregators=self._aggregator_tables(state))  # fmt: skip
        config_file.write(self.dir.parent, text)

    # --- the aggregator quote service (lab/aggregator/) ----------------------------------------------------------
    def _ensure_aggregator(self, state: dict[str, Any]) -> None:
        """Run the quote service for the chain that has the aggregator's contracts (restarted with that chain).

        After the simulators and the relayer, not beside them: started together (tried), the demo's 2,000 ETH sale
        on a fresh data directory was refused every time, the router finding room for about 500 ETH; why is not
        understood yet."""
        rec = state["nodes"].get(labagg.LOCATION)
        agg = state.get("aggregator")
        if agg and rec and agg.get("rpc_url") == rec["rpc_url"] and labagg.check(agg)[1]:
            return
        if agg:
            process.stop(process.ProcessRef.from_json(agg["process"]))
            state.pop("aggregator")
        dep = LabDeployment.from_json(rec["deployment"]) if rec else None
        if dep is not None and "LabAggregator" in dict(dep.contracts):
            state["aggregator"] = labagg.start(self.dir, dep, rec["rpc_url"], self.log)

    def _aggregator_tables(self, state: dict[str, Any]) -> dict[str, dict[str, Any]]:
        agg, rec = state.get("aggregator"), state["nodes"].get(labagg.LOCATION)
        if not (agg and rec):
            return {}
        return {labagg.NAME: labagg.config_table(agg, LabDeployment.from_json(rec["deployment"]))}

    def aggregator_url(self) -> str | None:
        """The running quote service's base URL (None when it is not running)."""
        agg = self._read_state().get("aggregator")
        return str(agg["url"]) if agg and labagg.check(agg)[1] else None

    # --- the trading account -----------------------------------------------------------------------------
    def _gas_up_trader(self, nodes: dict[str, Any], address: str) -> None:
        """Give the trader gas on every running chain where it has (almost) none; a started chain already did."""
        for rec in nodes.values():
            if funding.native_balance(rec["rpc_url"], address) < TRADER_GAS_FLOOR:
                rpc.call(rec["rpc_url"], "anvil_setBalance", [address, hex(TRADER_GAS)])
                funding.settle(rec["rpc_url"], HISTORY_BLOCKS)

    def trader_address(self) -> str | None:
        return trader.trader_address(self.dir)

    @property
    def trader_keystore(self) -> Path:
        return trader.keystore_path(self.dir)

    def trader_signer(self) -> Signer:
        """The lab trader's signer, unlocked with its stored passphrase. Exists after the first ``up``."""
        return trader.trader_signer(self.dir)

    def fund(self, targets: Mapping[AssetId, Decimal] | Mapping[str, str]) -> list[funding.FundResult]:
        """Set the trader's balances to exactly ``targets`` (``funding`` says how); other balances stay.

        ``{AssetId: Decimal}`` or ``{"WETH@lab1": "1500"}``. Every target is checked before anything changes; the
        results are read back from the chains and labex.
        """
        exchange_locations = [e.location for e in labex.EXCHANGES]
        locations = self._locations(self._read_state()) + exchange_locations
        by_location: dict[str, dict[AssetId, Decimal]] = {}
        order = []
        for key, value in targets.items():
            asset = key if isinstance(key, AssetId) else AssetId.parse(key, field=key)
            amount = check_human(parse_decimal(value, field=str(asset)), str(asset))  # showable, storable, reconcilable
            order.append(asset)
            if asset.location not in locations:
                raise InvalidInput(
                    str(asset), f"{asset.location!r} is not a lab location", f"the lab has {', '.join(locations)}"
                )
            by_location.setdefault(asset.location, {})[asset] = amount
        if not self.state_path.exists():  # refused before the data directory is touched
            raise LabNotRunning(f"no lab is running under {self.dir.parent}; start it with `fillpath lab up`")
        with self._locked():
            state = self._read_state()
            chains = []
            for loc, wanted in by_location.items():
                if loc in exchange_locations:
                    continue
                rec = state["nodes"].get(loc)
                if rec is None or not self._check(rec)[1]:
                    raise LabNotRunning(f"{loc} is not running; start the lab with `fillpath lab up`")
                dep = LabDeployment.from_json(rec["deployment"])
                chains.append((rec["rpc_url"], dep, funding.chain_targets(dep, wanted)))
            ex_targets = []
            records = _exchange_records(state)
            for loc in exchange_locations:
                if loc not in by_location:
                    continue
                ex = records.get(loc)
                if ex is None or not self._check_exchange(ex)[1]:
                    raise LabNotRunning(f"{loc} is not running; start the lab with `fillpath lab up`")
                ex_targets.append((loc, ex["url"], funding.exchange_targets(labex.ASSETS, _DECIMALS, by_location[loc])))
            address = trader.ensure_trader(self.dir)
            done: dict[AssetId, funding.FundResult] = {}
            by_slot = state.get("fork") is not None  # a fork: tokens by storage writes, read back (slots.py)
            for url, dep, units in chains:
                decimals = funding.chain_decimals(dep)
                moved = funding.fund_chain(url, dep, address, units, settle_blocks=HISTORY_BLOCKS, by_slot=by_slot)
                for symbol, (before, after) in moved.items():
                    a = AssetId(symbol, dep.location)
                    dec = decimals[symbol]
                    done[a] = funding.FundResult(a, from_base_units(before, dec), from_base_units(after, dec))
            if chains and not by_slot:
                self._align_clocks(state["nodes"])
            for loc, url, amounts in ex_targets:
                api_key = self.exchange_credentials(loc).api_key
                moved_ex = funding.fund_exchange(url, api_key, loc, amounts)
                for symbol, (before_d, after_d) in moved_ex.items():
                    a = AssetId(symbol, loc)
                    done[a] = funding.FundResult(a, before_d, after_d)
        return [done[a] for a in order]

    def exchange_status(self, location: str = labex.LOCATION) -> ExchangeStatus:
        dialect = labex.exchange(location).dialect
        ex = _exchange_records(self._read_state()).get(location)
        if ex is None:
            return ExchangeStatus(location, None, False, False, None, "not started", None, dialect)
        running, responding, problem = self._check_exchange(ex)
        return ExchangeStatus(
            location, ex["url"], running, responding, ex["process"]["pid"], problem, ex["api_key"], dialect
        )

    def exchange_statuses(self) -> list[ExchangeStatus]:
        """Every exchange of the lab, in the order they are listed (``labex``, ``labokx``); none on a fork started
        with its chains only."""
        fork = self._read_state().get("fork")
        if fork is not None and not fork.get("venues", True):
            return []
        return [self.exchange_status(e.location) for e in labex.EXCHANGES]

    def exchange_credentials(self, location: str = labex.LOCATION) -> labex.LabExchangeCreds:
        return labex.credentials(self.dir, location)

    def _check_exchange(self, ex: dict[str, Any]) -> tuple[bool, bool, str | None]:
        ref = process.ProcessRef.from_json(ex["process"])
        if not process.is_alive(ref):
            return False, False, f"the exchange simulator (pid {ref.pid}) is not running"
        ping = labex.exchange(ex["location"]).ping_path
        try:
            with urllib.request.urlopen(f"{ex['url']}{ping}", timeout=2.0) as resp:
                resp.read()
        except OSError as exc:
            return True, False, f"the exchange simulator (pid {ref.pid}) does not answer: {exc}"
        return True, True, None

    def _start_exchange(self, ex: labex.LabExchange, nodes: Mapping[str, Any]) -> dict[str, Any]:
        creds = labex.credentials(self.dir, ex.location)
        usd = dict(self.specs[0].usd)
        config_path = self.dir / f"{ex.location}-sim.json"
        chains = [(LabDeployment.from_json(rec["deployment"]), rec["rpc_url"]) for rec in nodes.values()]
        chains = [(d, u) for d, u in chains if _has_contract(d, "HotWallet")]  # a fork of a real network has none
        wallet = (
            labex.networks(chains) if ex.location == labex.LOCATION and chains else None
        )  # labex's deposits/withdrawals
        labex.write_sim_config(config_path, labex.sim_config(usd, creds, ex, wallet))
        port = process.free_port()
        url = f"http://127.0.0.1:{port}"
        argv = [sys.executable, "-m", "fillpath", "sim", "serve", "--host", "127.0.0.1", "--port", str(port),
                "--config", str(config_path)]  # fmt: skip
        log_path = self.dir / f"{ex.location}.log"
        ref = process.spawn(argv, log_path, marker=f"--port {port}")
        deadline = time.monotonic() + 30
        record = {"location": ex.location, "dialect": ex.dialect, "url": url, "process": ref.to_json(),
                  "log": str(log_path), "api_key": creds.api_key}  # fmt: skip
        while time.monotonic() < deadline:
            running, responding, _ = self._check_exchange(record)
            if responding:
                self.log(f"{ex.location}: exchange simulator ({ex.api}) at {url}")
                return record
            if not running:
                break
            time.sleep(0.05)
        process.stop(ref)
        tail = log_path.read_text(errors="replace")[-600:] if log_path.exists() else ""
        raise LabError(f"the {ex.location} exchange simulator did not start: {tail.strip() or 'no output'}")

    # --- the bridge's relayer ----------------------------------------------------------------------------------
    def relayer_url(self) -> str | None:
        rel = self._read_state().get("relayer")
        return None if rel is None else str(rel["url"])

    def relayer_status(self) -> dict[str, Any]:
        """The bridge relayer: url, running, responding, pid, problem (``status`` and ``up`` show it)."""
        rel = self._read_state().get("relayer")
        if rel is None:
            return {"url": None, "running": False, "responding": False, "pid": None, "problem": "not started"}
        running, responding, problem = self._check_relayer(rel)
        return {"url": rel["url"], "running": running, "responding": responding, "pid": rel["process"]["pid"],
                "problem": problem}  # fmt: skip

    def restart_relayer(self, *, kill: bool = False) -> None:
        """Stop the relayer (``kill``: SIGKILL, as a crash) and start it again: it keeps nothing on disk and picks
        up every pending deposit from the chains."""
        with self._locked():
            state = self._read_state()
            rel = state.get("relayer")
            if rel:
                process.stop(process.ProcessRef.from_json(rel["process"]), kill=kill)
            state["relayer"] = self._start_relayer(state["nodes"])
            self._write_state(state)

    def _check_relayer(self, rel: dict[str, Any]) -> tuple[bool, bool, str | None]:
        ref = process.ProcessRef.from_json(rel["process"])
        if not process.is_alive(ref):
            return False, False, f"the relayer (pid {ref.pid}) is not running"
        try:
            with urllib.request.urlopen(f"{rel['url']}/ping", timeout=2.0) as resp:
                resp.read()
        except OSError as exc:
            return True, False, f"the relayer (pid {ref.pid}) does not answer: {exc}"
        return True, True, None

    def _start_relayer(self, nodes: Mapping[str, Any]) -> dict[str, Any]:
        deps = [(LabDeployment.from_json(rec["deployment"]), rec["rpc_url"]) for rec in nodes.values()]
        config = relayer.RelayerConfig(
            tuple(relayer.ChainConfig(d.location, d.chain_id, url, d.address("LabSpokePool")) for d, url in deps),
            deps[0][0].address("Relayer"), deps[0][0].address("Settler"),
            fill_delay_s=RELAYER_FILL_DELAY_S, refund_after_s=RELAYER_REFUND_AFTER_S,
        )  # fmt: skip
        config_path = self.dir / "relayer.json"
        config_path.write_text(json.dumps(config.to_json(), indent=2))
        port = process.free_port()
        url = f"http://127.0.0.1:{port}"
        argv = [sys.executable, "-m", "fillpath.lab.bridge", "--config", str(config_path), "--port", str(port)]
        log_path = self.dir / "relayer.log"
        ref = process.spawn(argv, log_path, marker=f"--port {port}")
        record = {"url": url, "process": ref.to_json(), "log": str(log_path)}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            running, responding, _ = self._check_relayer(record)
            if responding:
                self.log(f"bridge relayer at {url}")
                return record
            if not running:
                break
            time.sleep(0.05)
        process.stop(ref)
        tail = log_path.read_text(errors="replace")[-600:] if log_path.exists() else ""
        raise LabError(f"the bridge relayer did not start: {tail.strip() or 'no output'}")

    def down(self) -> list[str]:
        """Stop every process this lab started (verified by pid and start time). Returns what was stopped."""
        with self._locked():
            state = self._read_state()
            named = [(name, rec["process"]) for name, rec in sorted(state["nodes"].items())]
            named += [(loc, ex["process"]) for loc, ex in sorted(_exchange_records(state).items())]
            state.pop("exchange", None)
            state.pop("exchanges", None)
            if rel := state.pop("relayer", None):
                named.append(("relayer", rel["process"]))
            if agg := state.pop("aggregator", None):
                named.append((agg["name"], agg["process"]))
            # all at once: each takes a moment to exit, and one after another they added up to seconds
            done = process.stop_all([process.ProcessRef.from_json(ref) for _, ref in named])
            stopped = [name for (name, _), was in zip(named, done, strict=True) if was]
            state["nodes"] = {}
            state.pop("fork", None)
            self._write_state(state)
            config_file.remove(self.dir.parent)
            return stopped

    def status(self) -> list[NodeStatus]:
        state = self._read_state()
        address = self.trader_address()
        chain_ids = {s.location: s.chain_id for s in self.specs}
        out = []
        for location in self._locations(state):
            rec = state["nodes"].get(location)
            if rec is None:
                out.append(
                    NodeStatus(location, chain_ids[location], None, None, False, False, None, None, "not started", None)
                )
                continue
            running, responding, block, problem = self._check(rec)
            out.append(
                NodeStatus(
                    location,
                    int(rec["chain_id"]),
                    rec["rpc_url"],
                    rec["ws_url"],
                    running,
                    responding,
                    block,
                    rec["process"]["pid"],
                    problem,
                    LabDeployment.from_json(rec["deployment"]),
                    address,
                    rec.get("fork"),
                )
            )
        return out

    def _locations(self, state: Mapping[str, Any]) -> list[str]:
        """The lab's chains: the spec's two, or on a fork the chains that were forked."""
        if state.get("fork") is not None:
            return list(state["nodes"])
        return [s.location for s in self.specs]

    # --- fork mode (docs/fork.md) --------------------------------------------------------------------------
    def _fork_for(self, state: Mapping[str, Any]) -> fork_mode.ForkSettings | None:
        """The fork asked for, or the one running here; a different fork over a running lab is refused."""
        recorded = state.get("fork")
        running = any(self._check(rec)[1] for rec in state["nodes"].values())
        if self.fork is None:
            if recorded is None:
                return None
            return fork_mode.ForkSettings(tuple(recorded["urls"]), recorded["block"], float(recorded["timeout_s"]),
                                          Path(recorded["state"]) if recorded.get("state") else None,
                                          bool(recorded.get("venues", True)))  # fmt: skip
        if running and (recorded is None or recorded != self.fork.to_json()):
            now = "fresh chains" if recorded is None else f"a fork at block {recorded['block']}"
            raise LabError(
                f"a lab is already running under {self.dir.parent} ({now}); stop it first: `fillpath lab down`"
            )
        return self.fork

    def _up_forks(self, fork: fork_mode.ForkSettings, state: dict[str, Any], address: str) -> list[str]:
        """Start (or confirm) one fork per URL; returns the locations started."""
        nodes: dict[str, Any] = state["nodes"]
        if nodes and state.get("fork") == fork.to_json() and all(self._check(r)[1] for r in nodes.values()):
            return []
        for rec in nodes.values():
            process.stop(process.ProcessRef.from_json(rec["process"]))
        nodes.clear()
        upstreams = [fork_mode.probe_upstream(u, fork.block, fork.timeout_s) for u in fork.urls]
        targets = [(up, *self._forked_chain(up)) for up in upstreams]
        seen: dict[str, str] = {}
        for up, location, _dep in targets:
            if location in seen:
                both = f"{redact_url(up.url)} and {redact_url(seen[location])}"
                raise InvalidInput("--fork-url", f"{both} are both {location} (chain id {up.chain_id})",
                                   "give one URL per chain")  # fmt: skip
            seen[location] = up.url
        state["fork"] = fork.to_json()
        with ThreadPoolExecutor(max_workers=len(targets)) as pool:
            futures = [pool.submit(self._start_fork, fork, up, loc, dep, address) for up, loc, dep in targets]
        failed = [exc for f in futures if (exc := f.exception()) is not None]
        records = [f.result() for f in futures if f.exception() is None]
        if failed:  # the forks that did start are stopped, never left running unrecorded
            for rec in records:
                process.stop(process.ProcessRef.from_json(rec["process"]))
            state.pop("fork", None)
            raise failed[0]
        for rec in records:
            nodes[rec["location"]] = rec
        return [str(rec["location"]) for rec in records]

    def _forked_chain(self, up: fork_mode.Upstream) -> tuple[str, LabDeployment]:
        """Which chain a fork URL is, by its chain id, and what is deployed on it: the lab deployment cached for
        that chain (this version's first, then earlier ones, newest first) whose contracts all have code at the
        pinned block of the upstream."""
        for s in self.specs:
            if s.chain_id != up.chain_id:
                continue
            current = self.cache_dir / f"{s.location}-{self._cache_key(s)}.json"
            others = sorted(self.cache_dir.glob(f"{s.location}-*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
            for meta in [current, *others] if current.is_file() else others:
                dep = LabDeployment.from_json(json.loads(meta.read_text()))
                if _deployed_at(up, dep):
                    return s.location, dep
            raise LabError(
                f"{redact_url(up.url)} is a lab chain ({s.location}, chain id {up.chain_id}) but no cached lab "
                f"deployment under {self.cache_dir} has code there at block {up.block}: fork a block after the lab "
                "deployed, or start that lab with this version (`fillpath lab up`)"
            )
        net = networks.by_chain_id(up.chain_id)
        if net is not None:
            from fillpath.lab.chains import network_fork

            return net.name, network_fork.describe(net, up)
        known = ", ".join([f"{s.chain_id} ({s.location})" for s in self.specs]
                          + [f"{n.chain_id} ({n.name})" for n in networks.NETWORKS.values()])  # fmt: skip
        raise LabError(
            f"{redact_url(up.url)} has chain id {up.chain_id}, which is not a chain fillpath knows ({known})"
        )

    def _start_fork(
        self, fork: fork_mode.ForkSettings, up: fork_mode.Upstream, location: str, dep: LabDeployment, address: str
    ) -> dict[str, Any]:
        log_path = self.dir / f"{location}.log"
        t0 = time.monotonic()
        ref, url = fork_mode.start(up, log_path, timeout_s=fork.timeout_s, balance_eth=DEV_BALANCE_ETH)
        try:
            if not _has_contract(dep, "FillpathExecutor"):  # a real network: our executor is deployed on the fork
                from fillpath.lab.chains import network_fork

                dep = network_fork.deploy_executor(url, dep)
            if fork.state is not None:
                load_fork_state(url, fork.state, location)
            fork_mode.pin_time(url, BLOCK_INTERVAL_S)
            if funding.native_balance(url, address) < TRADER_GAS_FLOOR:
                rpc.call(url, "anvil_setBalance", [address, hex(TRADER_GAS)])
            funding.settle(url, HISTORY_BLOCKS)
        except BaseException:
            process.stop(ref)
            raise
        self.log(f"{location}: fork of {redact_url(up.url)} at block {up.block} ready in {time.monotonic() - t0:.2f}s")
        port = int(url.rsplit(":", 1)[1])
        return {"location": location, "chain_id": up.chain_id, "port": port, "rpc_url": url,
                "ws_url": f"ws://127.0.0.1:{port}", "process": ref.to_json(), "log": str(log_path),
                "fork": {"url": up.url, "block": up.block}, "deployment": dep.to_json()}  # fmt: skip

    def dump_fork_state(self, path: Path) -> Path:
        """Save every fork's state (``anvil_dumpState``: what the fork changed or read, balances funded included)
        as one JSON file; ``ForkSettings(state=path)`` loads it on top of a new fork of the same block."""
        state = self._read_state()
        if state.get("fork") is None:
            raise LabError("the lab here is not a fork: start one with `fillpath lab up --fork-url URL`")
        dumps = {
            loc: str(rpc.call(rec["rpc_url"], "anvil_dumpState", timeout=60)) for loc, rec in state["nodes"].items()
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        forked = {"urls": [redact_url(u) for u in state["fork"]["urls"]], "block": state["fork"]["block"]}  # no keys
        _atomic_write(path, json.dumps({"format": FORK_STATE_FORMAT, "fork": forked, "chains": dumps}))
        return path

    def deployments(self) -> dict[str, LabDeployment]:
        return {n.location: n.deployment for n in self.status() if n.deployment is not None}

    # --- internals ---------------------------------------------------------------------------------------
    def _check(self, rec: dict[str, Any]) -> tuple[bool, bool, int | None, str | None]:
        ref = process.ProcessRef.from_json(rec["process"])
        if not process.is_alive(ref):
            return False, False, None, f"anvil (pid {ref.pid}) is not running"
        try:
            chain_id = int(rpc.call(rec["rpc_url"], "eth_chainId", timeout=2.0), 16)
            block = int(rpc.call(rec["rpc_url"], "eth_blockNumber", timeout=2.0), 16)
        except LabError as exc:
            return True, False, None, f"anvil (pid {ref.pid}) does not answer: {exc}"
        if chain_id != rec["chain_id"]:
            return True, False, block, f"wrong chain id {chain_id} at {rec['rpc_url']}"
        return True, True, block, None

    def _cache_key(self, s: spec.ChainSpec) -> str:
        h = hashlib.sha256()
        here = Path(__file__).parent
        for f in (here / "chains" / "deploy.py", here / "chains" / "spec.py", here / "manager.py",
                  here / "bridge" / "setup.py"):  # fmt: skip
            h.update(f.read_bytes())
        h.update(artifacts.fingerprint().encode())
        h.update(json.dumps(lab_artifacts.artifact("LabSpokePool")[1]).encode())
        h.update(spec.spec_fingerprint(self.specs).encode())
        h.update(_anvil_version().encode())
        h.update(f"{s.location}:{s.chain_id}:{GENESIS_TIMESTAMP}:{self.profile}".encode())
        return h.hexdigest()[:20]

    def _start(self, s: spec.ChainSpec, trader_address: str) -> dict[str, Any]:
        key = self._cache_key(s)
        dump_path = self.cache_dir / f"{s.location}-{key}.state"
        meta_path = self.cache_dir / f"{s.location}-{key}.json"
        for attempt in range(3):
            port = process.free_port()
            url = f"http://127.0.0.1:{port}"
            log_path = self.dir / f"{s.location}.log"
            argv = [
                str(paths.binary("anvil")),
                "--host", "127.0.0.1",
                "--port", str(port),
                "--chain-id", str(s.chain_id),
                "--balance", str(DEV_BALANCE_ETH),
                "--timestamp", str(GENESIS_TIMESTAMP),
                "--silent",
            ]  # fmt: skip
            ref = process.spawn(argv, log_path, marker=f"--port {port}")
            try:
                _wait_ready(url, ref, log_path)
                break
            except LabError:
                process.stop(ref)
                if attempt == 2:
                    raise
        t0 = time.monotonic()
        if dump_path.is_file() and meta_path.is_file():
            deployment = LabDeployment.from_json(json.loads(meta_path.read_text()))
            rpc.call(url, "anvil_loadState", [dump_path.read_text().strip()], timeout=60)
            code = rpc.call(url, "eth_getCode", [deployment.address("Multicall3"), "latest"])
            if code in (None, "0x"):
                process.stop(ref)
                dump_path.unlink(missing_ok=True)
                raise LabError(f"the cached {s.location} state did not load; it was removed, run `lab up` again")
            self.log(f"{s.location}: loaded the cached deployment in {time.monotonic() - t0:.2f}s")
        else:
            self.log(f"{s.location}: first start: deploying the contracts and seeding pools (cached afterwards)")
            rpc.call(url, "anvil_setBlockTimestampInterval", [BLOCK_INTERVAL_S])
            from web3 import Web3  # only to deploy: a `lab up` from the cache loads no web3

            from fillpath.lab.bridge import setup as bridge_setup
            from fillpath.lab.chains import deploy

            w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 60}))
            deployment = deploy.deploy_lab(w3, s, log=self.log)
            peers = [other.chain_id for other in self.specs if other.location != s.location]
            deployment = bridge_setup.deploy_bridge(w3, deployment, peers)
            self.log(f"{s.location}: bridge spoke pool, relayer inventory and the exchange's hot wallet in place")
            dump = rpc.call(url, "anvil_dumpState", timeout=60)
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            _atomic_write(dump_path, str(dump))
            _atomic_write(meta_path, json.dumps(deployment.to_json(), indent=2))
            self.log(f"{s.location}: deployed and cached in {time.monotonic() - t0:.2f}s")
        latest = rpc.call(url, "eth_getBlockByNumber", ["latest", False])
        rpc.call(url, "anvil_setTime", [int(latest["timestamp"], 16)])
        rpc.call(url, "anvil_setBlockTimestampInterval", [BLOCK_INTERVAL_S])
        # the trader's gas: neither the deployment nor its cached dump knows the trader
        rpc.call(url, "anvil_setBalance", [trader_address, hex(TRADER_GAS)])
        # A loaded state has no history below its head; a few empty blocks give readers at a confirmation
        # depth (reconciliation reads at head - N) a state to read, the trader's balance included.
        funding.settle(url, HISTORY_BLOCKS)
        return {
            "location": s.location,
            "chain_id": s.chain_id,
            "port": port,
            "rpc_url": url,
            "ws_url": f"ws://127.0.0.1:{port}",
            "process": ref.to_json(),
            "log": str(log_path),
            "cache_key": key,
            "deployment": deployment.to_json(),
        }


FORK_STATE_FORMAT = "fillpath.fork-state/1"


def load_fork_state(url: str, path: Path, location: str) -> None:
    """Load one chain's part of a ``dump_fork_state`` file onto a fork just started."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InvalidInput("fork.state", f"{path} is not a fork state file: {exc}", "dump one with the lab") from None
    if not isinstance(data, dict) or data.get("format") != FORK_STATE_FORMAT:
        raise InvalidInput("fork.state", f"{path} is not a {FORK_STATE_FORMAT} file", "dump one with the lab")
    dump = data["chains"].get(location)
    if dump is None:
        raise InvalidInput("fork.state", f"{path} holds no state for {location}", f"it has {', '.join(data['chains'])}")
    rpc.call(url, "anvil_loadState", [dump], timeout=60)


def _deployed_at(up: fork_mode.Upstream, dep: LabDeployment) -> bool:
    """The contracts fillpath calls (Multicall3, the executor) and every token of ``dep`` have code on the upstream
    at the fork's block (``contracts`` also names accounts: the relayer, the settler, the hot wallet)."""
    called = [a for n, a in dep.contracts if n in ("Multicall3", "FillpathExecutor")]
    addresses = called + [t.address for t in dep.tokens]
    for address in addresses:
        if rpc.call(up.url, "eth_getCode", [address, hex(up.block)], timeout=10) in (None, "0x"):
            return False
    return True


def _has_contract(dep: LabDeployment, name: str) -> bool:
    return any(n == name for n, _ in dep.contracts)


def _bridged(nodes: Mapping[str, Any]) -> bool:
    """The relayer runs between two or more chains that have the lab's spoke pool."""
    deps = [LabDeployment.from_json(rec["deployment"]) for rec in nodes.values()]
    return len(deps) >= 2 and all(_has_contract(d, "LabSpokePool") for d in deps)


def _exchange_records(state: Mapping[str, Any]) -> dict[str, Any]:
    """The running exchanges by location (a state file from before OKX held one, under ``exchange``)."""
    records = dict(state.get("exchanges") or {})
    legacy = state.get("exchange")
    if legacy and legacy["location"] not in records:
        records[legacy["location"]] = legacy
    return records


def _wait_ready(url: str, ref: process.ProcessRef, log_path: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.is_alive(ref):
            tail = log_path.read_text(errors="replace")[-800:] if log_path.exists() else ""
            raise LabError(f"anvil exited at start: {tail.strip() or 'no output'}")
        with contextlib.suppress(LabError):
            rpc.call(url, "eth_chainId", timeout=1.0)
            return
        time.sleep(0.05)
    raise LabError(f"anvil did not answer at {url} within {timeout:.0f}s")


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


# decimals by symbol on the lab chains: an exchange asset takes its symbol's (as the snapshot collector gives it)
_DECIMALS = {funding.NATIVE: funding.NATIVE_DECIMALS, spec.WETH.symbol: spec.WETH.decimals} | {
    t.symbol: t.decimals for t in spec.TOKENS
}


@cache
def _anvil_version() -> str:
    out = subprocess.run([str(paths.binary("anvil")), "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip().splitlines()[0] if out.stdout else "unknown"
