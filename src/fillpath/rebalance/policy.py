"""Rebalancing policies: a TOML file, validated into a frozen :class:`Policy`.

Every field is checked and every problem is reported at once, each naming its field and the fix (a user fixing a
file should not discover the errors one run at a time); nothing is written before a policy is valid.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from fillpath.config import Config
from fillpath.model.errors import InvalidInput
from fillpath.model.validate import did_you_mean
from fillpath.paths import read_input_text

MAX_POLICY_BYTES = 256 * 1024
HUNDRED = Decimal(100)
MISSED = ("skip", "run_once")
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


@dataclass(frozen=True, slots=True)
class Target:
    """Where an asset should sit: an ``amount`` (human units) or a ``share`` (percent of the symbol's total over
    every location), with a tolerance ``band`` in percent of the target."""

    asset: str
    amount: Decimal | None
    share: Decimal | None
    band: Decimal

    @property
    def symbol(self) -> str:
        return self.asset.partition("@")[0]


@dataclass(frozen=True, slots=True)
class Schedule:
    """When the service runs the policy: every ``every_s`` seconds (slots aligned on the epoch) or on a cron
    expression (UTC); a slot missed while no service ran is skipped or run once on start."""

    every_s: int | None = None
    cron: str | None = None
    missed: str = "skip"


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    targets: tuple[Target, ...]
    min_trade: Decimal = Decimal(0)
    """Moves worth less than this (numeraire) are not made."""
    max_cost_bps: Decimal = Decimal(50)
    """Moves costing more than this (fees + gas + bridge + price impact, in bps of their value) are skipped and
    reported."""
    venues: tuple[str, ...] = ()
    """Venue ids or locations the moves may use (empty: every venue)."""
    transfers: bool = True
    """Whether moves may bridge, deposit or withdraw (False: swaps within a location only)."""
    reserve: Mapping[str, Decimal] = field(default_factory=dict)
    """What to leave at an asset@location whatever the targets (a chain's native coin keeps 1 for gas unless set)."""
    daily_notional: Decimal | None = None
    """At most this much value (numeraire) moved per UTC day by this policy's runs."""
    slippage_bps: int = 50
    schedule: Schedule | None = None
    source: str = ""

    def target(self, asset: str) -> Target | None:
        return next((t for t in self.targets if t.asset == asset), None)


class PolicyErrors(InvalidInput):
    """Every problem of a policy file, one per field."""

    def __init__(self, source: str, problems: list[InvalidInput]) -> None:
        self.problems = tuple(problems)
        lines = "; ".join(str(p) for p in problems)
        super().__init__(source, f"{len(problems)} problem(s): {lines}")


def known_assets(cfg: Config) -> list[str]:
    """Every asset@location the configuration knows: chain tokens and native coins, and on each exchange every
    symbol the chains know."""
    chain = [f"{t.symbol}@{t.location}" for t in cfg.tokens] + [f"{loc.native}@{n}" for n, loc in cfg.locations.items()]
    symbols = sorted({a.partition("@")[0] for a in chain})
    return sorted(set(chain) | {f"{s}@{x}" for x in cfg.exchanges for s in symbols})


class _Check:
    """Collects the problems of one file."""

    def __init__(self) -> None:
        self.problems: list[InvalidInput] = []

    def bad(self, field: str, problem: str, fix: str) -> None:
        self.problems.append(InvalidInput(field, problem, fix))

    def decimal(self, raw: Any, field: str, *, low: Decimal | None = Decimal(0), pct: bool = False) -> Decimal | None:
        text = raw.strip().removesuffix("%").strip() if isinstance(raw, str) and pct else raw
        if isinstance(text, bool) or not isinstance(text, str | int):
            self.bad(field, f"{raw!r} is not a number", 'write it as a string ("2.5") or an integer (floats round)')
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.bad(field, f"{raw!r} is not a number", 'write a decimal such as "2.5"')
            return None
        if not value.is_finite():
            self.bad(field, f"{raw!r} is not a finite number", 'write a decimal such as "2.5"')
            return None
        if low is not None and value < low:
            self.bad(field, f"{raw!r} is negative", f"use {low} or more")
            return None
        return value


def parse_policy(data: Mapping[str, Any], cfg: Config, *, source: str = "policy", name: str = "policy") -> Policy:
    """A policy from its parsed TOML, checked against the configuration (assets, locations, venues)."""
    c = _Check()
    known = known_assets(cfg)
    allowed = {"name", "targets", "band", "min_trade", "max_cost_bps", "venues", "transfers", "reserve",
               "daily_notional", "slippage_bps", "schedule"}  # fmt: skip
    for key in sorted(set(data) - allowed):
        c.bad(key, "is not a policy field", f"use {', '.join(sorted(allowed))}")

    raw_name = data.get("name", name)
    if not isinstance(raw_name, str) or not _NAME.fullmatch(raw_name):
        c.bad("name", f"{raw_name!r} is not a policy name", "lower-case letters, digits, '_' or '-', up to 64")
        raw_name = "policy"

    band = c.decimal(data.get("band", "1"), "band", pct=True)
    band = Decimal(1) if band is None else band

    targets: list[Target] = []
    raw_targets = data.get("targets")
    if not isinstance(raw_targets, list) or not raw_targets:
        c.bad("targets", "is missing or empty", 'add [[targets]] tables with asset = "USDC@lab1" and share or amount')
        raw_targets = []
    seen: set[str] = set()
    for i, t in enumerate(raw_targets):
        where = f"targets[{i}]"
        if not isinstance(t, dict):
            c.bad(where, "is not a table", 'write [[targets]] with asset = "SYMBOL@LOCATION"')
            continue
        for key in sorted(set(t) - {"asset", "share", "amount", "band"}):
            c.bad(f"{where}.{key}", "is not a target field", "use asset, share, amount, band")
        asset = t.get("asset")
        if not isinstance(asset, str) or "@" not in asset:
            c.bad(f"{where}.asset", f"{asset!r} is not SYMBOL@LOCATION", 'write e.g. asset = "USDC@lab1"')
            continue
        if asset not in known:
            c.bad(f"{where}.asset", f"{asset} is not a configured asset", did_you_mean(asset, known))
        if asset in seen:
            c.bad(f"{where}.asset", f"{asset} has two targets", "give each asset@location one target")
        seen.add(asset)
        has_share, has_amount = "share" in t, "amount" in t
        if has_share == has_amount:
            c.bad(where, "needs exactly one of share and amount", 'e.g. share = "50%" or amount = "10"')
            continue
        share = c.decimal(t["share"], f"{where}.share", pct=True) if has_share else None
        if share is not None and share > HUNDRED:
            c.bad(f"{where}.share", f"{t['share']!r} is over 100%", "a share is a percent of the asset's total")
            share = None
        amount = c.decimal(t["amount"], f"{where}.amount") if has_amount else None
        own_band = c.decimal(t["band"], f"{where}.band", pct=True) if "band" in t else band
        if (has_share and share is None) or (has_amount and amount is None) or own_band is None:
            continue
        targets.append(Target(asset, amount, share, own_band))

    shares: dict[str, Decimal] = {}
    for t in targets:
        if t.share is not None:
            shares[t.symbol] = shares.get(t.symbol, Decimal(0)) + t.share
    for symbol, total in sorted(shares.items()):
        if total > HUNDRED:
            c.bad(f"targets ({symbol})", f"the shares of {symbol} add up to {total}%, over 100%",
                  "lower them so they total at most 100%")  # fmt: skip

    min_trade = c.decimal(data.get("min_trade", "0"), "min_trade")
    max_cost = c.decimal(data.get("max_cost_bps", "50"), "max_cost_bps")
    daily = c.decimal(data["daily_notional"], "daily_notional") if "daily_notional" in data else None
    slippage = data.get("slippage_bps", 50)
    if isinstance(slippage, bool) or not isinstance(slippage, int) or not 0 <= slippage <= 5000:
        c.bad("slippage_bps", f"{slippage!r} is not 0 to 5000", "an integer number of basis points")
        slippage = 50

    venues = data.get("venues", [])
    places = sorted({*cfg.locations, *cfg.exchanges, *cfg.bridges})
    if not isinstance(venues, list) or not all(isinstance(v, str) for v in venues):
        c.bad("venues", f"{venues!r} is not a list of names", 'e.g. venues = ["lab1", "lab2", "labex"]')
        venues = []
    for k, v in enumerate(venues):
        if v not in places and ":" not in v:  # a venue id (lab1:uniswap_v2:0x...) is checked against the snapshot
            c.bad(f"venues[{k}]", f"{v!r} is not a configured location or bridge", did_you_mean(v, places))
    transfers = data.get("transfers", True)
    if not isinstance(transfers, bool):
        c.bad("transfers", f"{transfers!r} is not true or false", "transfers = true lets moves bridge and deposit")
        transfers = True

    reserve: dict[str, Decimal] = {}
    raw_reserve = data.get("reserve", {})
    if not isinstance(raw_reserve, dict):
        c.bad("reserve", "is not a table", 'write reserve = { "ETH@lab1" = "1" }')
        raw_reserve = {}
    for asset, amount in raw_reserve.items():
        if asset not in known:
            c.bad(f"reserve.{asset}", f"{asset} is not a configured asset", did_you_mean(asset, known))
            continue
        kept = c.decimal(amount, f"reserve.{asset}")
        if kept is not None:
            reserve[asset] = kept

    schedule = _schedule(c, data.get("schedule"))
    if c.problems:
        raise PolicyErrors(source, c.problems)
    assert min_trade is not None and max_cost is not None
    return Policy(
        name=raw_name, targets=tuple(targets), min_trade=min_trade, max_cost_bps=max_cost, venues=tuple(venues),
        transfers=transfers, reserve=reserve, daily_notional=daily, slippage_bps=slippage, schedule=schedule,
        source=source,
    )  # fmt: skip


def _schedule(c: _Check, raw: Any) -> Schedule | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        c.bad("schedule", "is not a table", 'write [schedule] with every_s = 60 or cron = "*/5 * * * *"')
        return None
    for key in sorted(set(raw) - {"every_s", "cron", "missed"}):
        c.bad(f"schedule.{key}", "is not a schedule field", "use every_s, cron, missed")
    every, cron = raw.get("every_s"), raw.get("cron")
    if (every is None) == (cron is None):
        c.bad("schedule", "needs exactly one of every_s and cron", 'e.g. every_s = 60 or cron = "0 * * * *"')
        return None
    if every is not None and (isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= 86_400 * 7):
        c.bad("schedule.every_s", f"{every!r} is not 1 to 604800 seconds", "an integer number of seconds")
        return None
    if cron is not None:
        from croniter import croniter

        if not isinstance(cron, str) or not croniter.is_valid(cron):
            c.bad("schedule.cron", f"{cron!r} is not a cron expression", 'five fields, e.g. "*/5 * * * *" (UTC)')
            return None
    missed = raw.get("missed", "skip")
    if missed not in MISSED:
        c.bad("schedule.missed", f"{missed!r} is not a missed-slot policy", "use 'skip' or 'run_once'")
        return None
    return Schedule(every_s=every, cron=cron, missed=missed)


def load_policy(path: Path, cfg: Config) -> Policy:
    """A policy file (``--policy FILE``): read, parsed and validated; its name defaults to the file's stem."""
    text = read_input_text(path, str(path), max_bytes=MAX_POLICY_BYTES, fix="give the path of a policy TOML file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(str(path), f"is not valid TOML: {exc}", "fix the syntax at that line") from None
    stem = re.sub(r"[^a-z0-9_-]", "-", path.stem.lower()) or "policy"
    return parse_policy(data, cfg, source=str(path), name=stem)
