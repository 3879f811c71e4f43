"""Pure routing: snapshot + request → plan. No I/O, no clock, no database."""

# first: the compiled hot modules (mypyc) are used only if built from the sources on disk (see _native)
from fillpath.router import _native  # noqa: F401
from fillpath.router.build import Leg, PathFlow, Stats
from fillpath.router.market import Market
from fillpath.router.plan import Plan
from fillpath.router.request import RouteRequest
from fillpath.router.route import route

__all__ = ["Leg", "Market", "PathFlow", "Plan", "RouteRequest", "Stats", "route"]
