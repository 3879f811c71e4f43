"""Rewrite tests/long_tests.txt from a JUnit XML report: the tests that took 5 s or more, slowest first.

Usage: .venv/bin/python scripts/long_tests.py REPORT.xml [--min-seconds 5]
"""

from __future__ import annotations

import argparse
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = """\
# Tests measured at 5 s or more (slowest first). conftest.py hands them to the xdist workers first, so that
# no long test starts last and keeps one worker busy while the other idles. Refresh after a full run:
#   bash scripts/test.sh --junitxml=/tmp/j.xml && .venv/bin/python scripts/long_tests.py /tmp/j.xml
"""


def node_id(classname: str, name: str) -> str:
    """pytest's node id from JUnit's dotted class name (module path, then any test class)."""
    parts = classname.split(".")
    for i in range(len(parts), 0, -1):
        if (ROOT / Path(*parts[:i])).with_suffix(".py").is_file():
            return "::".join(["/".join(parts[:i]) + ".py", *parts[i:], name])
    raise SystemExit(f"no test module for {classname!r}: run this from the repository the report came from")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--min-seconds", type=float, default=5.0)
    args = parser.parse_args()
    rows = [
        (float(case.get("time", "0")), node_id(case.get("classname", ""), case.get("name", "")))
        for case in ET.parse(args.report).getroot().iter("testcase")
    ]
    long = [n for t, n in sorted(rows, reverse=True) if t >= args.min_seconds]
    (ROOT / "tests" / "long_tests.txt").write_text(HEADER + "".join(f"{n}\n" for n in long))
    print(f"{len(long)} tests of {args.min_seconds:g} s or more written to tests/long_tests.txt")


if __name__ == "__main__":
    main()
