"""The dashboard in a real headless Chromium (Debian's ``chromium``, driven by Playwright; ``playwright install`` is
never run): the page loads with balances, venue health and reconciliation, the live feed updates when a swap
executes, the execution's charts draw, and a screenshot is kept (``$FILLPATH_SCREENSHOT`` names a copy)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from fillpath.lab.manager import Lab
from tests.service.conftest import ServiceProcess, call, lab_dir, service_config

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]  # fmt: skip


def test_the_dashboard_loads_and_its_feed_follows_a_swap(
    service_proc: list[ServiceProcess], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (the dev extra)")
    if not CHROMIUM.exists():
        pytest.skip(f"no browser at {CHROMIUM}: `apt-get install chromium` (scripts/setup.sh does it as root)")
    Lab(lab_dir()).fund({"ETH@labex": "20", "WETH@lab1": "5"})
    svc = ServiceProcess(service_config(tmp_path))
    service_proc.append(svc)
    svc.wait_ready()
    shot = tmp_path / "dashboard.png"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(svc.url + "/")
            page.wait_for_selector("#phase.ok", timeout=30_000)
            page.wait_for_selector("#balances tbody tr[data-asset='ETH@labex']", timeout=10_000)
            page.wait_for_selector("#venues tbody tr[data-venue='labex']", timeout=10_000)
            page.wait_for_selector("#reconcile tbody tr[data-location='lab1']", timeout=10_000)
            page.wait_for_function("document.querySelector('#live').textContent === 'feed: live'", timeout=10_000)
            finished = "#feed li[data-kind='execution.finished']"
            before = page.locator(finished).count()
            result: Any = call(svc.url, "/api/swap", {"amount": "2", "sell": "WETH@lab1,ETH@labex", "buy": "USDC",
                                                      "execute": True, "max_hops": 2})  # fmt: skip
            assert result["status"] == "done", result
            page.wait_for_function(f'document.querySelectorAll("{finished}").length > {before}', timeout=15_000)
            page.wait_for_selector(f"#executions tbody tr[data-execution='{result['execution_id']}']", timeout=10_000)
            page.locator(f"#executions tbody tr[data-execution='{result['execution_id']}']").click()
            page.wait_for_selector("#legs-chart rect.bar-real", timeout=10_000)
            page.wait_for_selector("#pnl-chart rect", timeout=10_000)
            assert "lab1" in page.locator("#reconcile").inner_text()
            page.wait_for_timeout(500)
            page.screenshot(path=str(shot), full_page=True)
            assert not errors, errors
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
    if os.environ.get("FILLPATH_SCREENSHOT"):
        shutil.copy(shot, os.environ["FILLPATH_SCREENSHOT"])
