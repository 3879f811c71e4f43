#!/usr/bin/env bash
# Idempotent set-up: .venv with fillpath editable, pinned node tools, contracts built offline.
# Every step is skipped when its inputs have not changed since the last run (stamp files hold their hashes).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

pick_python() {
  for c in python3.13 python3.12 python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$c"; return 0
    fi
  done
  echo "fillpath needs Python >= 3.11 (apt-get install python3 python3-venv)" >&2; exit 1
}

need_cmd() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing $2 with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
  else
    echo "missing $1: install the Debian package $2" >&2; exit 1
  fi
}

hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

# 1. Python environment
PY=$(pick_python)
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $PY"
  "$PY" -m venv .venv
fi
py_hash=$(hash_of pyproject.toml)
if [ "$(cat .venv/.stamp-pip 2>/dev/null)" != "$py_hash" ] || [ ! -x .venv/bin/fillpath ]; then
  say "installing fillpath (editable) and its pinned dependencies"
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -m pip install -q -e '.[dev]' 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -c 'import fillpath, web3, ccxt, eth_tester, coincurve, importlinter' \
    || { echo "the Python install failed; see the pip output above" >&2; exit 1; }
  echo "$py_hash" > .venv/.stamp-pip
fi

# 2. Node tools (anvil, forge, cast, solc-js, contract artifacts), pinned by tools/package-lock.json
need_cmd node nodejs
need_cmd npm npm
node_hash=$(hash_of tools/package.json tools/package-lock.json)
if [ "$(cat tools/node_modules/.stamp-npm 2>/dev/null)" != "$node_hash" ]; then
  say "installing pinned node tools (npm ci --ignore-scripts)"
  (cd tools && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  echo "$node_hash" > tools/node_modules/.stamp-npm
fi

# 3. Contracts: forge, offline, through the solc-js wrapper
src_hash=$(find contracts foundry.toml scripts/solc -type f -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-16)
if [ "$(cat out/.stamp-forge 2>/dev/null)" != "$src_hash" ]; then
  say "building contracts with forge (offline)"
  tools/node_modules/@foundry-rs/forge-linux-amd64/bin/forge build --root "$ROOT" -q
  echo "$src_hash" > out/.stamp-forge
fi
# 4. A browser for the dashboard's test (tests/service/test_dashboard.py): Debian's chromium, driven by Playwright's
#    Python package with executable_path=/usr/bin/chromium (`playwright install` is never run). Without root the
#    test is skipped with its reason.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing chromium with apt-get (the dashboard test)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    say "no /usr/bin/chromium: the dashboard test will be skipped (apt-get install chromium)"
  fi
fi
# 5. The router's hot modules compiled with mypyc into build/mypyc/ (about 1.5-2x faster routes). Used only while they
#    match the sources on disk (src/fillpath/router/_native.py); rebuilt when a source changed, skipped when up to
#    date; without a C compiler or mypyc the pure-Python modules run (FILLPATH_PURE=1 forces them).
.venv/bin/python scripts/build_native.py || say "the mypyc build failed: the router runs its pure-Python modules"
say "ready: $(.venv/bin/fillpath --version)"
