"""Write the ABIs production calls (src/fillpath/chains/abis/*.json) from the builds: run after a contract change.

``tests/chains/test_abis.py`` fails when a shipped ABI no longer matches its build, and names this script.
"""

from __future__ import annotations

import json
import sys

from fillpath.chains.abi import ABI_DIR, SHIPPED
from fillpath.lab.chains.artifacts import production_abi


def main() -> int:
    for name in SHIPPED:
        (ABI_DIR / f"{name}.json").write_text(json.dumps(production_abi(name), indent=1, sort_keys=True) + "\n")
        print(f"wrote {name}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
