"""Rebalancing (docs/rebalancing.md): policies (targets per asset@location), the plan that turns drift into the
cheapest moves over the whole graph, its execution through the engine, and scheduled runs that never run a slot
twice."""
