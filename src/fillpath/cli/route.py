"""``fillpath route AMOUNT SELL BUY``: the optimal split over every venue, as a table or as ``fillpath.plan/1``."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Annotated

import typer

from fillpath.cli.context import cli_context
from fillpath.cli.output import console, emit_json
from fillpath.client.files import read_snapshot_file
from fillpath.model.amounts import from_base_units
from fillpath.model.assets import AssetId
from fillpath.router.plan import Plan, net_flows
from fillpath.router.snapshot import Snapshot


def route_cmd(
    ctx: typer.Context,
    amount: Annotated[str, typer.Argument(help="How much SELL, in its human units (e.g. 500).")],
    sell: Annotated[str, typer.Argument(help="SYMBOL@LOCATION, or a bare symbol: every location holding it.")],
    buy: Annotated[str, typer.Argument(help="SYMBOL@LOCATION, or a bare symbol: any location.")],
    snapshot: Annotated[Path | None, typer.Option("--snapshot", help="Route on this snapshot file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the fillpath.plan/1 object.")] = False,
    max_hops: Annotated[int, typer.Option("--max-hops")] = 4,
    slippage_bps: Annotated[int, typer.Option("--slippage-bps")] = 50,
    no_gas: Annotated[bool, typer.Option("--no-gas", help="Ignore gas costs.")] = False,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="A venue id to leave out (repeatable).")
    ] = None,
) -> None:
    """Route a swap over every venue at once (pure: no order is placed)."""
    client = cli_context(ctx).client(config=snapshot is None)
    snap = read_snapshot_file(snapshot)[0] if snapshot else client.snapshot()
    plan = client.route(amount, sell, buy, snapshot=snap, max_hops=max_hops, slippage_bps=slippage_bps,
                        gas=not no_gas, exclude=exclude or ())  # fmt: skip
    if as_json:
        emit_json(plan.to_json())
        return
    show_plan(plan, snap)


def show_plan(plan: Plan, snap: Snapshot) -> None:
    dec = {a.id: a.decimals for a in snap.assets}
    buy_dec = next(iter(dec[leg.asset_out] for leg in plan.legs if leg.asset_out.symbol == plan.buy.split("@")[0]), 0)

    def human(asset: AssetId, units: int) -> str:
        return f"{from_base_units(units, dec[asset]):,.6f}".rstrip("0").rstrip(".")

    from rich.table import Table

    out = console()
    legs = Table(title=f"plan: {plan.sell} → {plan.buy}")
    for col in ("venue", "in", "out", "min out"):
        legs.add_column(col, justify="left" if col == "venue" else "right")
    for leg in plan.legs:
        got = f"{human(leg.asset_out, leg.amount_out)} {leg.asset_out}"
        legs.add_row(
            leg.venue, f"{human(leg.asset_in, leg.amount_in)} {leg.asset_in}", got, human(leg.asset_out, leg.min_out)
        )
    out.print(legs)
    paths = Table(title="paths")
    for col in ("share", "venues"):
        paths.add_column(col)
    for p in plan.paths:
        share = Fraction(p.amount_in, plan.amount_in) if plan.amount_in else Fraction(0)
        paths.add_row(f"{Decimal(share.numerator) / Decimal(share.denominator):.2%}", " → ".join(p.venues))
    out.print(paths)
    impact = _impact_bps(plan, snap)

    def amt(units: int) -> str:
        return f"{from_base_units(units, buy_dec):,}"

    out.print(
        f"expected {amt(plan.expected_out)} · gas {amt(plan.gas_cost_out)} · net {amt(plan.net_out)}"
        f" · min out {amt(plan.min_out)}"
        + (f" · price impact vs mid {impact:.1f} bps" if impact is not None else "")
        + f" · solved in {plan.stats.solve_ms:.1f} ms over {plan.stats.paths_considered} paths"
    )
    if plan.upper_bound is not None and plan.gap is not None:
        out.print(
            f"upper bound {amt(plan.upper_bound)} · gap {float(plan.gap):.2e} (no plan on these venues can beat it)"
        )
    if plan.stats.unsold:
        dust = ", ".join(f"{n} base units of {a}" for a, n in plan.stats.unsold)
        out.print(f"left unsold (dust no venue could take): {dust}")


def _impact_bps(plan: Plan, snap: Snapshot) -> Decimal | None:
    """Expected output against the value of the input at the snapshot's mid prices (numeraire). Inputs and outputs
    are the plan's net flows per asset (a sell list's holding that a transfer also feeds counts what was held)."""
    prices = snap.prices or {}
    dec = {a.id: a.decimals for a in snap.assets}
    net = net_flows(plan.legs)
    if not all(a in prices for a, n in net.items() if n):
        return None
    value_in = sum((prices[a] * from_base_units(n, dec[a]) for a, n in net.items() if n > 0), Decimal(0))
    value_out = sum((prices[a] * from_base_units(-n, dec[a]) for a, n in net.items() if n < 0), Decimal(0))
    return (value_in - value_out) / value_in * 10_000 if value_in else None
