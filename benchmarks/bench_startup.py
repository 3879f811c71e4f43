"""Start-up cost of the CLI: ``fillpath --version``, ``--help`` and ``route --snapshot FILE`` against ``python -c
pass``, each a fresh process, measured in the same run (target: each command ≤ 300 ms over the reference).

Also counts the modules each command loads and names the heavy adapters (web3, ccxt, sqlalchemy, aiohttp) that
must not be among them. Run from the repository root: ``.venv/bin/python benchmarks/bench_startup.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _table import median, pct, table

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "tests" / "router" / "data" / "snapshot_example.json"
HEAVY = ("web3", "ccxt", "sqlalchemy", "aiohttp", "eth_tester", "networkx")
CLI = "from fillpath.cli.main import run; run()"
COMMANDS: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "fillpath --version": [sys.executable, "-c", CLI, "--version"],
    "fillpath --help": [sys.executable, "-c", CLI, "--help"],
    "fillpath route --snapshot": [sys.executable, "-c", CLI, "route", "10", "WETH@ethereum", "USDC@ethereum",
                                  "--snapshot", str(SNAPSHOT), "--json"],
}  # fmt: skip
PROBE = (
    "import sys; sys.argv = ['fillpath', *sys.argv[1:]]\ntry:\n    {cli}\nexcept SystemExit:\n    pass\n"
    "print(' '.join(sorted(sys.modules)), file=sys.stderr)"
)


def wall_ms(argv: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t) * 1000


def loaded(argv: list[str]) -> set[str]:
    if argv[1:3] == ["-c", "pass"]:
        argv = [sys.executable, "-c", "import sys; print(' '.join(sorted(sys.modules)), file=sys.stderr)"]
    else:
        argv = [sys.executable, "-c", PROBE.format(cli=CLI.replace("; ", "\n    ")), *argv[3:]]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stderr.strip().splitlines()[-1]
    return set(out.split())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    runs = ap.parse_args().runs
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(runs):  # interleaved, so a busy moment hits every command alike
        for name, argv in COMMANDS.items():
            samples[name].append(wall_ms(argv))
    ref = median(samples["python -c pass"])
    rows = []
    for name, argv in COMMANDS.items():
        mods = loaded(argv)
        heavy = sorted(h for h in HEAVY if h in mods)
        over = median(samples[name]) - ref
        verdict = "" if name.startswith("python") else ("ok" if over <= 300 and not heavy else "MISSED")
        rows.append([name, f"{median(samples[name]):.0f}", f"{pct(samples[name], 99):.0f}",
                     f"{over:+.0f}" if not name.startswith("python") else "—", len(mods),
                     ", ".join(heavy) or "none", verdict])  # fmt: skip
    print(table(f"CLI start-up, {runs} runs each (ms; target: ≤ 300 ms over python -c pass, no heavy adapter)",
                ["command", "median", "p99", "over ref", "modules", "heavy modules loaded", ""], rows))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
