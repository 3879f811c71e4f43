"""The lab aggregator as a process of the lab: started by ``lab up`` next to the chain it quotes, stopped by
``lab down``, and described in the lab's configuration as an ``[aggregators.labagg]`` table."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from fillpath.lab.aggregator.routing import PRIVATE_SOURCE, SOURCES, ServiceConfig
from fillpath.lab.chains import process
from fillpath.lab.chains.deployment import LabDeployment
from fillpath.model.errors import LabError

NAME = "labagg"
LOCATION = "lab1"
TIMEOUT_S = 2.0
PAIRS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("WETH", "USDC", ("1", "5", "20", "50", "100", "200")),
    ("WETH", "USDT", ("1", "5", "20", "50", "100", "200")),
    ("WETH", "DAI", ("1", "5", "20", "50", "100", "200")),
    ("USDC", "WETH", ("3000", "15000", "60000", "150000", "300000", "600000")),
    ("USDT", "WETH", ("3000", "15000", "60000", "150000", "300000", "600000")),
    ("DAI", "WETH", ("3000", "15000", "60000", "150000", "300000", "600000")),
)
"""The directions fillpath samples, at sizes in human units of the sell token (the snapshot's curve points)."""
EXCLUDED = tuple(sorted(SOURCES.values()))
"""fillpath trades the chain's own pools directly, so it asks the aggregator for the rest only (``LabSwap``): a
router that counted the same pool once directly and again inside a quote would plan liquidity twice."""


def check(record: dict[str, Any]) -> tuple[bool, bool, str | None]:
    ref = process.ProcessRef.from_json(record["process"])
    if not process.is_alive(ref):
        return False, False, f"the lab aggregator (pid {ref.pid}) is not running"
    try:
        with urllib.request.urlopen(f"{record['url']}/healthz", timeout=2.0) as resp:
            resp.read()
    except OSError as exc:
        return True, False, f"the lab aggregator (pid {ref.pid}) does not answer: {exc}"
    return True, True, None


def start(lab_dir: Path, dep: LabDeployment, rpc_url: str, log: Any = lambda _m: None) -> dict[str, Any]:
    """Spawn the service for ``dep``'s chain (reached at ``rpc_url``); wait until it answers."""
    cfg = ServiceConfig.from_deployment(dep, rpc_url)
    config_path = lab_dir / f"{NAME}.json"
    cfg.write(config_path)
    port = process.free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "fillpath.lab.aggregator", "--config", str(config_path), "--port", str(port)]
    log_path = lab_dir / f"{NAME}.log"
    ref = process.spawn(argv, log_path, marker=f"--port {port}")
    record = {"name": NAME, "location": dep.location, "url": url, "rpc_url": rpc_url, "process": ref.to_json(),
              "log": str(log_path)}  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        running, responding, _ = check(record)
        if responding:
            log(f"{NAME}: aggregator quote service for {dep.location} at {url}")
            return record
        if not running:
            break
        time.sleep(0.05)
    process.stop(ref)
    tail = log_path.read_text(errors="replace")[-600:] if log_path.exists() else ""
    raise LabError(f"the lab aggregator did not start: {tail.strip() or 'no output'}")


def config_table(record: dict[str, Any], dep: LabDeployment) -> dict[str, Any]:
    """The ``[aggregators.labagg]`` table of the lab's configuration."""
    holder = dep.address("LabAllowanceHolder")
    return {
        "location": dep.location, "url": record["url"], "allowed_targets": [holder], "allowed_spenders": [holder],
        "excluded_sources": list(EXCLUDED), "timeout_s": TIMEOUT_S,
        "pairs": [{"sell": s, "buy": b, "sizes": list(sizes)} for s, b, sizes in PAIRS],
    }  # fmt: skip


def set_faults(url: str, profiles: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Replace the running service's active faults (the lab's and the tests' handle)."""
    req = urllib.request.Request(f"{url}/admin/faults", data=json.dumps({"profiles": profiles}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")  # fmt: skip
    with urllib.request.urlopen(req, timeout=5.0) as resp:
        return dict(json.loads(resp.read()))


__all__ = ["EXCLUDED", "LOCATION", "NAME", "PAIRS", "PRIVATE_SOURCE", "check", "config_table", "set_faults", "start"]
