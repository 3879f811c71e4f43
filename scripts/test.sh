#!/usr/bin/env bash
# The whole default suite: set-up, lint, types, tests. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# separate statements: under `set -e` a failure inside an `a && b` list does not stop the script
echo "== ruff =="
.venv/bin/ruff check src tests benchmarks scripts
.venv/bin/ruff format --check src tests benchmarks scripts
echo "== mypy (strict, src/) =="
.venv/bin/mypy
echo "== import contracts (lint-imports) =="
.venv/bin/lint-imports --no-cache | sed -n '/^Contracts/,$p'
echo "== pytest =="
set +e
# one worker more than there are cores: the tests wait on nodes, simulators and subprocesses a third of the time
.venv/bin/pytest -n "$(( $(nproc) + 1 ))" --dist loadgroup -q -m "not slow" "$@"
rc=$?
if .venv/bin/python -c 'import sys, fillpath.router._native as n; sys.exit(not n.ACTIVE)' 2>/dev/null; then
  echo "== pytest tests/router on the pure-Python router modules (the run above used the compiled ones) =="
  FILLPATH_PURE=1 .venv/bin/pytest -n "$(( $(nproc) + 1 ))" --dist loadgroup -q -m "not slow" tests/router "$@" || rc=$((rc ? rc : $?))
fi
set -e
if [ "$rc" = 5 ]; then echo "pytest collected no tests: that is a failure here" >&2; exit 1; fi
exit "$rc"
