"""``fillpath.snapshot/1``: the parsed market snapshot, its strict reader and its writer.

The reader accepts exactly the format of docs/SNAPSHOT.md and nothing else: any deviation raises ``InvalidInput``
whose field is the JSON path (``venues[3].reserve0``). ``write_snapshot`` is its inverse:
``read_snapshot(write_snapshot(s)) == s``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from fillpath.model.assets import AssetId, LocationKind
from fillpath.model.errors import InvalidInput
from fillpath.model.validate import parse_json
from fillpath.router import json_fields as jf
from fillpath.router.snapshot_venues import Context, VenueRecord, read_venue, write_venue
from fillpath.router.validate import check_physics

FORMAT = "fillpath.snapshot/1"


@dataclass(frozen=True, slots=True)
class AssetInfo:
    id: AssetId
    decimals: int
    address: str | None
    """Token contract address on an EVM location; None for native currency and CEX balances."""


@dataclass(frozen=True, slots=True)
class LocationInfo:
    id: str
    kind: LocationKind
    chain_id: int | None = None
    native: AssetId | None = None
    gas_price_wei: int | None = None
    block: int | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    taken_at: str
    assets: tuple[AssetInfo, ...]
    locations: tuple[LocationInfo, ...]
    venues: tuple[VenueRecord, ...]
    prices: dict[AssetId, Decimal] | None = field(default=None, hash=False)
    """Value of one unit (human units) of each asset in a common numeraire; optional."""
    holdings: dict[AssetId, int] | None = field(default=None, hash=False)
    """What we own where, in base units; optional."""

    def asset(self, asset_id: AssetId) -> AssetInfo:
        for info in self.assets:
            if info.id == asset_id:
                return info
        raise KeyError(str(asset_id))

    def location(self, location_id: str) -> LocationInfo:
        for info in self.locations:
            if info.id == location_id:
                return info
        raise KeyError(location_id)


def _unique(path: str, seen: set[Any], key: Any) -> None:
    if key in seen:
        raise InvalidInput(path, f"duplicate id {key}", "ids are unique")
    seen.add(key)


def _read_asset(value: object, path: str, locations: dict[str, str]) -> AssetInfo:
    f = jf.Fields(value, path)
    asset = f.asset_id("id")
    symbol = f.string("symbol")
    if symbol != asset.symbol:
        raise InvalidInput(f.at("symbol"), f"{symbol!r} differs from the id's symbol", "make them equal")
    if asset.location not in locations:
        raise InvalidInput(f.at("id"), f"unknown location {asset.location!r}", "list it under locations")
    decimals = f.json_int("decimals", high=77)
    address_raw = f.raw("address")
    address = None if address_raw is None else jf.string(address_raw, f.at("address"))
    f.done()
    return AssetInfo(asset, decimals, address)


def _read_location(value: object, path: str) -> LocationInfo:
    f = jf.Fields(value, path)
    location_id = f.string("id")
    kind_text = f.string("kind")
    try:
        kind = LocationKind(kind_text)
    except ValueError:
        raise InvalidInput(f.at("kind"), f"unknown location kind {kind_text!r}", "evm or cex") from None
    if kind is LocationKind.CEX:
        f.done()
        return LocationInfo(location_id, kind)
    info = LocationInfo(
        location_id,
        kind,
        chain_id=f.json_int("chain_id", low=1),
        native=f.asset_id("native"),
        gas_price_wei=f.int_string("gas_price_wei"),
        block=f.json_int("block"),
    )
    f.done()
    return info


def read_snapshot(data: object) -> Snapshot:
    """Parse a decoded JSON document (``json.loads`` output) strictly."""
    top = jf.Fields(data, "")
    fmt = top.raw("format")
    if fmt != FORMAT:
        raise InvalidInput("format", f"unknown format {fmt!r}", f"this reader understands {FORMAT}")
    taken_at = top.string("taken_at")
    try:
        datetime.fromisoformat(taken_at)
    except ValueError:
        raise InvalidInput("taken_at", f"{taken_at!r} is not an ISO 8601 time", "e.g. 2026-11-24T01:00:00Z") from None

    locations: list[LocationInfo] = []
    seen: set[Any] = set()
    for k, item in enumerate(top.array("locations")):
        info = _read_location(item, f"locations[{k}]")
        _unique(f"locations[{k}].id", seen, info.id)
        locations.append(info)
    kinds = {loc.id: loc.kind.value for loc in locations}

    assets: list[AssetInfo] = []
    seen = set()
    for k, item in enumerate(top.array("assets")):
        asset = _read_asset(item, f"assets[{k}]", kinds)
        _unique(f"assets[{k}].id", seen, asset.id)
        assets.append(asset)
    decimals = {a.id: a.decimals for a in assets}
    ctx = Context(decimals, kinds)

    prices: dict[AssetId, Decimal] | None = None
    if top.has("prices"):
        prices_f = jf.Fields(top.raw("prices"), "prices")
        prices = {}
        for key in prices_f.data:
            prices[AssetId.parse(key, field=prices_f.at(key))] = prices_f.decimal_string(key)
    holdings: dict[AssetId, int] | None = None
    if top.has("holdings"):
        holdings_f = jf.Fields(top.raw("holdings"), "holdings")
        holdings = {}
        for key in holdings_f.data:
            held = ctx.known(AssetId.parse(key, field=holdings_f.at(key)), holdings_f.at(key))
            holdings[held] = holdings_f.int_string(key)

    venues: list[VenueRecord] = []
    seen = set()
    for k, item in enumerate(top.array("venues")):
        venue = read_venue(item, f"venues[{k}]", ctx)
        _unique(f"venues[{k}].id", seen, venue.id)
        venues.append(venue)
    top.done()
    return check_physics(Snapshot(taken_at, tuple(assets), tuple(locations), tuple(venues), prices, holdings))


def unit_of(snap: Snapshot, names: str, field: str) -> int:
    """The decimals shared by what ``names`` lists (asset ids or bare symbols, comma-separated): an amount in
    human units of them needs one unit, so differing decimals are refused."""
    found: set[int] = set()
    for part in (p.strip() for p in names.split(",")):
        found |= {a.decimals for a in snap.assets if str(a.id) == part or ("@" not in part and a.id.symbol == part)}
    if not found:
        raise InvalidInput(
            field, f"{names!r} is in no venue of the snapshot", "give SYMBOL@LOCATION or a symbol it lists"
        )
    if len(found) > 1:
        raise InvalidInput(field, f"{names!r} has different decimals at different locations", "name assets of one unit")
    return found.pop()


def loads_snapshot(text: str) -> Snapshot:
    """Parse snapshot JSON text. Floats are kept as ``float`` so the strict reader can refuse them."""
    return read_snapshot(parse_json(text, "$", fix="see docs/SNAPSHOT.md"))


def _write_location(loc: LocationInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"id": loc.id, "kind": loc.kind.value}
    if loc.kind is LocationKind.EVM:
        out["chain_id"] = loc.chain_id
        out["native"] = str(loc.native)
        out["gas_price_wei"] = str(loc.gas_price_wei)
        out["block"] = loc.block
    return out


def write_snapshot(snapshot: Snapshot) -> dict[str, Any]:
    """The JSON document (a dict ready for ``json.dumps``) for ``snapshot``."""
    out: dict[str, Any] = {
        "format": FORMAT,
        "taken_at": snapshot.taken_at,
        "assets": [
            {"id": str(a.id), "symbol": a.id.symbol, "decimals": a.decimals, "address": a.address}
            for a in snapshot.assets
        ],
        "locations": [_write_location(loc) for loc in snapshot.locations],
    }
    if snapshot.prices is not None:
        out["prices"] = {str(k): jf.decimal_text(v) for k, v in snapshot.prices.items()}
    if snapshot.holdings is not None:
        out["holdings"] = {str(k): str(v) for k, v in snapshot.holdings.items()}
    out["venues"] = [write_venue(v) for v in snapshot.venues]
    return out


def dumps_snapshot(snapshot: Snapshot) -> str:
    return json.dumps(write_snapshot(snapshot), indent=2) + "\n"
