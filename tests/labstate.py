"""Top-ups that put back what a lab test needs in the session's shared lab (one per xdist worker), whatever the tests
before it left there, so that the test does not depend on which ran first.

The chains need none: the ``lab1``/``lab2`` fixtures revert them after each test, and ``Lab.fund`` sets the trader's
balances exactly and brings the chains' clocks level. labex is not reverted: its books walk for as long as the
session runs (each market on its own, so the cross rates drift apart) and tests set them by hand.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from fillpath.lab.manager import Lab


def _post(url: str, body: dict[str, Any]) -> Any:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def level_books(lab: Lab, location: str = "labex") -> dict[str, str]:
    """Every book of the exchange back around the mid it started with (the lab's prices: the cross rates agree, and
    with the pools'); returns them by symbol. The walk goes on from there."""
    config = json.loads((lab.dir / f"{location}-sim.json").read_text())
    url = lab.exchange_status(location).url
    assert url, f"{location} is not running"
    mids = {f"{m['base']}{m['quote']}": str(m["mid"]) for m in config["markets"]}
    for symbol, mid in mids.items():
        _post(f"{url}/admin/book", {"symbol": symbol, "mid": mid})
    return mids
