"""Fault profiles: named, parameterised, combinable, switchable at run time, deterministic under the seed.

Each profile draws from its own random stream (seeded from the simulator seed and the profile name), so
whether the n-th order of a run is hit does not depend on which other profiles are on.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from fillpath.model.errors import InvalidInput

PROFILES: Mapping[str, Mapping[str, str]] = {
    # fills happen `delay` seconds after the ack
    "delayed_fills": {"delay": "1", "rate": "1"},
    # the order is acked, then vanishes: every later query says -2013
    "ack_then_deny": {"rate": "1"},
    # the order is accepted but the HTTP reply hangs for `hang` seconds (then the connection is dropped)
    "drop_response": {"rate": "1", "hang": "30"},
    # for `window` seconds after switching on, the stream reports free balances off by `offset`
    "ws_rest_disagree": {"window": "10", "offset": "1"},
    # more than `limit` requests per second → 429 with Retry-After; `ban_after` 429s in a row → 418 for `ban`
    # seconds; the random walk moves `burst` times further per step meanwhile (a volatility burst)
    "rate_limit": {"limit": "10", "retry_after": "1", "ban_after": "3", "ban": "2", "burst": "5"},
    # every WebSocket is closed every `interval` seconds
    "stream_disconnect": {"interval": "2"},
    # venue time is skewed by `offset_ms`; with backwards=1 it runs backwards from there
    "clock_skew": {"offset_ms": "5000", "backwards": "0"},
    # a fill's executionReport is sent twice on the stream
    "duplicate_fill": {"rate": "1"},
    # wallet (capital.py): a confirmed deposit is credited `delay` seconds later
    "delayed_credit": {"delay": "5"},
    # wallet: withdrawals stay "processing" (status 4) while this is on
    "withdraw_stuck": {},
    # wallet: a withdrawal is reported completed with a transaction hash that never reaches the chain
    "withdraw_phantom": {},
    # wallet: a withdrawal fails (status 5) and its amount returns to the account
    "withdraw_fail": {},
}


@dataclass(frozen=True, slots=True)
class FaultSetting:
    name: str
    params: Mapping[str, str]


def parse_profile(text: str) -> FaultSetting:
    """``name`` or ``name:key=value,key=value`` (the CLI's ``--profile``)."""
    name, _, rest = text.partition(":")
    params: dict[str, str] = {}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidInput("--profile", f"{item!r} is not key=value", "for example delayed_fills:delay=2")
        params[key.strip()] = value.strip()
    return check_setting(name.strip(), params)


def check_setting(name: str, params: Mapping[str, str]) -> FaultSetting:
    defaults = PROFILES.get(name)
    if defaults is None:
        raise InvalidInput("profile", f"unknown fault profile {name!r}", f"choose from {', '.join(PROFILES)}")
    unknown = set(params) - set(defaults)
    if unknown:
        raise InvalidInput(f"profile {name}", f"unknown parameters {sorted(unknown)}", f"known: {sorted(defaults)}")
    merged = {**defaults, **{k: str(v) for k, v in params.items()}}
    for key, value in merged.items():
        try:
            Decimal(value)
        except InvalidOperation:
            raise InvalidInput(f"profile {name}.{key}", f"{value!r} is not a number") from None
    return FaultSetting(name, merged)


class Faults:
    """The active profiles. ``hit`` answers "does this fault strike now?" from the profile's own stream."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._active: dict[str, FaultSetting] = {}
        self._since: dict[str, float] = {}
        self._rngs: dict[str, random.Random] = {}

    def set(self, settings: list[FaultSetting]) -> None:
        """Replace the active set. A profile that was already on keeps its start time (its window)."""
        self._active = {s.name: s for s in settings}
        self._since = {name: self._since.get(name, time.monotonic()) for name in self._active}

    def enable(self, setting: FaultSetting) -> None:
        self._active[setting.name] = setting
        self._since[setting.name] = time.monotonic()

    def disable(self, name: str) -> None:
        self._active.pop(name, None)
        self._since.pop(name, None)

    def active(self) -> dict[str, dict[str, str]]:
        return {name: dict(s.params) for name, s in self._active.items()}

    def on(self, name: str) -> bool:
        return name in self._active

    def param(self, name: str, key: str) -> Decimal:
        setting = self._active.get(name)
        return Decimal(setting.params[key] if setting else PROFILES[name][key])

    def seconds(self, name: str, key: str) -> float:
        """A duration parameter as float seconds (for asyncio timers, not for amounts)."""
        return float(self.param(name, key))

    def active_for(self, name: str) -> float:
        return time.monotonic() - self._since[name] if name in self._since else 0.0

    def hit(self, name: str) -> bool:
        if name not in self._active:
            return False
        rng = self._rngs.setdefault(name, random.Random(f"{self._seed}:fault:{name}"))
        rate = self.param(name, "rate")
        return Decimal(rng.randrange(1_000_000)) < rate * 1_000_000


class VenueClock:
    """Venue time in ms: the real clock, unless ``clock_skew`` shifts it or runs it backwards."""

    def __init__(self, faults: Faults) -> None:
        self._faults = faults

    def now_ms(self) -> int:
        real = time.time_ns() // 1_000_000
        if not self._faults.on("clock_skew"):
            return real
        offset = int(self._faults.param("clock_skew", "offset_ms"))
        if self._faults.param("clock_skew", "backwards") != 0:
            elapsed_ms = int(self._faults.active_for("clock_skew") * 1000)
            return real + offset - 2 * elapsed_ms
        return real + offset
