"""The lab aggregator's fault profiles: what a real aggregator API does wrong, switchable at run time.

- ``stale``: quotes come from the pools as they were when the fault was switched on (the service stops reading
  the chain), so a quote after the market moved either reverts in the settlement (its own ``minBuyAmount``) or
  pays less than it says.
- ``skim``: the calldata sends ``bps`` of the output (plus ``amount``) elsewhere before paying, while
  ``buyAmount`` says what the route makes and ``minBuyAmount`` is lowered to match (the settlement passes); only
  the taker's own balance check sees it.
- ``slow``: every answer waits ``delay`` seconds.
- ``fail``: every answer is HTTP ``status`` (5xx) with a 0x-style error body.

``only`` (``quote`` or ``price``) limits ``slow`` and ``fail`` to one endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from fillpath.model.errors import InvalidInput

PROFILES: Mapping[str, Mapping[str, str]] = {
    "stale": {},
    "skim": {"bps": "30", "amount": "0"},
    "slow": {"delay": "5", "only": ""},
    "fail": {"status": "500", "only": ""},
}
ENDPOINTS = frozenset({"", "quote", "price"})


@dataclass(frozen=True, slots=True)
class Fault:
    name: str
    params: Mapping[str, str]

    def number(self, key: str) -> float:
        return float(self.params[key])

    def applies(self, endpoint: str) -> bool:
        only = self.params.get("only", "")
        return not only or only == endpoint


def check(name: str, params: Mapping[str, object]) -> Fault:
    defaults = PROFILES.get(name)
    if defaults is None:
        raise InvalidInput("profile", f"unknown aggregator fault {name!r}", f"choose from {', '.join(PROFILES)}")
    unknown = set(params) - set(defaults)
    if unknown:
        raise InvalidInput(f"profile {name}", f"unknown parameters {sorted(unknown)}", f"known: {sorted(defaults)}")
    merged = {**defaults, **{k: str(v) for k, v in params.items()}}
    for key, value in merged.items():
        if key == "only":
            if value not in ENDPOINTS:
                raise InvalidInput(f"profile {name}.only", f"{value!r}", "quote or price")
            continue
        try:
            number = float(value)
        except ValueError:
            raise InvalidInput(f"profile {name}.{key}", f"{value!r} is not a number") from None
        if number < 0 or (key == "status" and not 500 <= number <= 599) or (key == "bps" and number > 10_000):
            raise InvalidInput(f"profile {name}.{key}", f"{value} is out of range")
    return Fault(name, merged)


def parse(text: str) -> Fault:
    """``name`` or ``name:key=value,...`` (``--profile`` on the command line)."""
    name, _, rest = text.partition(":")
    params: dict[str, str] = {}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidInput("--profile", f"{item!r} is not key=value", "for example skim:bps=30")
        params[key.strip()] = value.strip()
    return check(name.strip(), params)
