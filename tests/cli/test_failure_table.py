"""Every command's documented failure modes, as a table: each hostile run must end with its exit code (the table in
``cli/main.py`` and docs/operations.md; 2: the input
or the state on disk is refused; 1: a venue or the runtime failed), one line on stderr naming what is wrong, no
traceback, nothing "unexpected", and the journal exactly as it was (row count and last seq, or its bytes when it is
damaged). Runs in-process through the CLI's own entry point (``cli/main.run``); ``test_subprocess_sample`` runs a
representative subset as real processes.

Issue #20 found 29 tracebacks, 23 silent successes and 13 damaged data directories in 216 runs like these.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fillpath.state.store import Store
from tests.cli.failures import World, invoke, make_template, make_world

Setup = Callable[[World], object]


@dataclass(frozen=True)
class Case:
    name: str
    argv: tuple[str, ...]
    code: int
    needle: str
    setup: Setup | None = None


CASES: list[Case] = []


def case(name: str, argv: str | list[str], code: int, needle: str, setup: Setup | None = None) -> None:
    CASES.append(Case(name, tuple(argv.split() if isinstance(argv, str) else argv), code, needle, setup))


def snap(edit: Callable[[dict[str, Any]], object]) -> Setup:
    return lambda w: w.snapshot(edit)


def text(body: str | bytes) -> Setup:
    return lambda w: w.write(body)


def venue(k: int, **changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["venues"][k].update(changes)


V2, V3, CURVE, BOOK, BRIDGE, TRANSFER, AGG, WRAP = range(8)

# --- usage: the command line itself ------------------------------------------------------------------------------
case("unknown command", "bogus", 2, "No such command")
case("unknown lab subcommand", "lab bogus", 2, "No such command")
case("unknown db subcommand", "db bogus", 2, "No such command")
case("unknown snapshot subcommand", "snapshot bogus", 2, "No such command")
case("unknown config subcommand", "config bogus", 2, "No such command")
case("unknown keys subcommand", "keys bogus", 2, "No such command")
case("unknown sim subcommand", "sim bogus", 2, "No such command")
case("route: unknown option", "route 1 WETH USDC --bogus", 2, "No such option")
case("swap: unknown option", "swap 1 WETH USDC --bogus", 2, "No such option")
case("halt: unknown option", "halt --bogus", 2, "No such option")
case("venues: unknown option", "venues --bogus", 2, "No such option")
case("reconcile: unknown option", "reconcile --bogus", 2, "No such option")
case("route: no arguments", "route", 2, "Missing argument")
case("route: no SELL", "route 1", 2, "Missing argument")
case("route: no BUY", "route 1 WETH", 2, "Missing argument")
case("swap: no arguments", "swap", 2, "Missing argument")
case("lab fund: no targets", "lab fund", 2, "Missing argument")
case("db restore: no backup", "db restore", 2, "Missing argument")
case("keys new: no name", "keys new", 2, "Missing argument")
case("snapshot show: no file", "snapshot show", 2, "Missing argument")
case("route: --max-hops not a number", "route 1 WETH USDC --max-hops x", 2, "--max-hops")
case("route: --slippage-bps a float", "route 1 WETH USDC --slippage-bps 1.5", 2, "--slippage-bps")
case("report: --last not a number", "report --last x", 2, "--last")
case("sim serve: --port not a number", "sim serve --port x", 2, "--port")
case("sim serve: --port out of range", "sim serve --port 70000", 2, "--port")
case("reconcile: --listen not a number", "reconcile --listen abc", 2, "--listen")
case("sim serve: a secret on the command line", "sim serve --api-secret s3cret", 2, "No such option")
case("route: an extra argument", "route 1 WETH USDC extra", 2, "unexpected extra argument")

# --- route on a snapshot file: amounts, assets, options ----------------------------------------------------------
R = ["route", "--snapshot", "{ex}"]
for name, amount, needle in [
    ("letters", "abc", "AMOUNT"),
    ("negative", "-1", "AMOUNT"),
    ("zero", "0", "amount"),
    ("1e999999999", "1e999999999", "too large"),
    ("1e-999999999", "1e-999999999", "decimal places"),
    ("NaN", "nan", "AMOUNT"),
    ("infinity", "inf", "AMOUNT"),
    ("too many decimals", "1.0000000000000000001", "decimal places"),
    ("300 digits", "1" * 300, "AMOUNT"),
    ("empty", "", "AMOUNT"),
    ("more than any supply", "1e25", "supply"),
]:
    case(f"route: amount {name}", [*R, "--", amount, "WETH@ethereum", "USDC@ethereum"], 2, needle)
for name, sell, buy, needle in [
    ("sell without location", "WETH@", "USDC", "SELL"),
    ("sell without symbol", "@ethereum", "USDC", "SELL"),
    ("sell upper-case location", "WETH@Ethereum", "USDC", "SELL"),
    ("sell unknown symbol", "NOPE", "USDC", "SELL"),
    ("sell unknown location", "WETH@nowhere", "USDC", "SELL"),
    ("buy unknown", "WETH", "NOPE@ethereum", "NOPE"),
    ("buy bad id", "WETH", "USDC@", "USDC@"),
]:
    case(f"route: {name}", [*R, "1", sell, buy], 2, needle)
case("route: --max-hops 0", [*R, "1", "WETH", "USDC", "--max-hops", "0"], 2, "max_hops")
case("route: --max-hops 9", [*R, "1", "WETH", "USDC", "--max-hops", "9"], 2, "max_hops")
case("route: --slippage-bps -1", [*R, "1", "WETH", "USDC", "--slippage-bps", "-1"], 2, "slippage")
case("route: --slippage-bps 10000", [*R, "1", "WETH", "USDC", "--slippage-bps", "10000"], 2, "slippage")
case("route: --exclude a typo", [*R, "1", "WETH", "USDC", "--exclude", "binanc"], 2, "did you mean 'binance'")
case("route: --exclude nosuchvenue", [*R, "1", "WETH", "USDC", "--exclude", "nosuchvenue"], 2, "--exclude")
case("route: --exclude empty", [*R, "1", "WETH", "USDC", "--exclude", ""], 2, "--exclude")
case("route: snapshot missing", "route 1 WETH USDC --snapshot /nonexistent/s.json", 2, "No such file")
case("route: snapshot is a directory", "route 1 WETH USDC --snapshot /tmp", 2, "directory")
case("route: snapshot is a device", "route 1 WETH USDC --snapshot /dev/null", 2, "device")
case("route: snapshot nested 100,000 deep", "route 1 WETH USDC --snapshot {file}", 2, "nested", text("[" * 100_000))
case("route: snapshot not UTF-8", "route 1 WETH USDC --snapshot {file}", 2, "UTF-8", text(b"\xff\xfe{}"))

# --- snapshot show: files that cannot be a snapshot, and snapshots that cannot be real ----------------------------
S = "snapshot show {file}"
for name, body, needle in [
    ("empty file", "", "not JSON"),
    ("not JSON", "{", "not JSON"),
    ("a JSON list", "[]", "not an object"),
    ("a JSON string", '"x"', "not an object"),
    ("nested 100,000 deep", "[" * 100_000, "nested"),
    ("nested 40 deep", "[" * 40 + "]" * 40, "nested"),
    ("objects nested deep", '{"a":' * 50 + "1" + "}" * 50, "nested"),
    ("NaN literal", '{"format": NaN}', "NaN"),
    ("Infinity literal", '{"format": Infinity}', "Infinity"),
    ("latin-1 bytes", "caf\xe9".encode("latin-1"), "UTF-8"),
    ("binary", bytes(range(256)), "UTF-8"),
]:
    case(f"snapshot show: {name}", S, 2, needle, text(body))
for name, edit, needle in [
    ("V3 tick inconsistent with its price", venue(V3, tick=0), "does not match sqrt_price_x96"),
    ("V3 tick one off", venue(V3, tick=196255), "does not match"),
    ("crossed book", lambda d: d["venues"][BOOK]["bids"].insert(0, ["1000000000", "1"]), "crossed"),
    ("book bid equal to ask", lambda d: d["venues"][BOOK]["bids"].insert(0, ["3000.20", "1"]), "crossed"),
    ("V2 token0 == token1", venue(V2, token1="USDC@ethereum"), "same asset"),
    ("V3 token0 == token1", venue(V3, token0="WETH@ethereum"), "same asset"),
    ("aggregator in == out", venue(AGG, token_out="WETH@ethereum"), "same asset"),
    ("wrap native == wrapped", venue(WRAP, wrapped="ETH@ethereum"), "same asset"),
    ("book base == quote", venue(BOOK, quote="ETH@binance"), "same asset"),
    ("bridge from == to", venue(BRIDGE, to="USDC@ethereum"), "same asset"),
    (
        "liquidity nets leave it negative",
        lambda d: d["venues"][V3]["ticks"][5].__setitem__(1, "-50000000000000000"),
        "liquidity",
    ),
    (
        "liquidity nets negative below",
        lambda d: d["venues"][V3]["ticks"][0].__setitem__(1, "90000000000000000"),
        "liquidity",
    ),
    ("reserve beyond any supply", venue(V2, reserve0="1" + "0" * 30), "supply"),
    ("reserve of 5,000 digits", venue(V2, reserve0="9" * 5000), "digits"),
    ("holdings beyond any supply", lambda d: d["holdings"].__setitem__("WETH@ethereum", "1" + "0" * 40), "supply"),
    ("gas beyond any block", venue(V2, gas="99999999999"), "gas"),
    ("gas price implausible", lambda d: d["locations"][0].__setitem__("gas_price_wei", "1" + "0" * 30), "gas"),
    ("bridge latency of years", venue(BRIDGE, latency_s=10**12), "latency"),
    ("price implausible", lambda d: d["prices"].__setitem__("WETH@ethereum", "1" + "0" * 30), "prices"),
    ("book size beyond supply", lambda d: d["venues"][BOOK]["asks"].append(["9000", "1" + "0" * 30]), "supply"),
    ("a float reserve", venue(V2, reserve0=1.5), "not an integer string"),
    ("a JSON number reserve", venue(V2, reserve0=1000), "not an integer string"),
    ("a negative reserve", venue(V2, reserve0="-5"), "negative"),
    ("an unknown field", venue(V2, colour="red"), "unknown field"),
    ("a missing field", lambda d: d["venues"][V2].pop("token1"), "docs/SNAPSHOT.md"),
    ("an unknown format", lambda d: d.__setitem__("format", "fillpath.snapshot/2"), "format"),
    ("a bad time", lambda d: d.__setitem__("taken_at", "yesterday"), "taken_at"),
    ("an unknown location", venue(V2, location="mars"), "unknown location"),
    ("an unknown asset", venue(V2, token0="DOGE@ethereum"), "unknown asset"),
    ("a duplicate venue id", lambda d: d["venues"].append(copy_of(d["venues"][0])), "duplicate"),
    ("ticks unsorted", lambda d: d["venues"][V3]["ticks"].reverse(), "sorted"),
    ("bids unsorted", lambda d: d["venues"][BOOK]["bids"].reverse(), "sorted"),
    ("sqrt price out of range", venue(V3, sqrt_price_x96="1"), "MIN_SQRT_RATIO"),
    ("a decimal of 100 digits", venue(BOOK, lot="1" * 100), "too long"),
    ("an unknown venue kind", venue(V2, kind="uniswap_v9"), "unknown venue kind"),
    ("venues not a list", lambda d: d.__setitem__("venues", {}), "not a list"),
    ("decimals 78", lambda d: d["assets"][0].__setitem__("decimals", 78), "out of range"),
]:
    case(f"snapshot show: {name}", S, 2, needle, snap(edit))
case("snapshot show: a directory", "snapshot show /tmp", 2, "directory")
case("snapshot show: missing", "snapshot show /nonexistent.json", 2, "No such file")
case("snapshot take: --out a symlink", "snapshot take --out {root}/link.json", 2, "symbolic link",
     lambda w: (w.root / "link.json").symlink_to(w.root / "target.json"))  # fmt: skip
case("snapshot take: --out a device", "snapshot take --out /dev/full", 2, "device")
case("snapshot take: --out a directory", "snapshot take --out /tmp", 2, "directory")
case("snapshot take: --out in a missing directory", "snapshot take --out /nonexistent/s.json", 2, "does not exist")


def copy_of(value: Any) -> Any:
    return json.loads(json.dumps(value))


# --- the configuration ------------------------------------------------------------------------------------------
C = "--config {file} config show"
for name, body, needle in [
    ("not UTF-8", b"\xff\xfe", "UTF-8"),
    ("nested 100,000 deep", "a = " + "[" * 100_000, "nested"),
    ("not TOML", "[locations", "TOML"),
    ("a literal secret", '[exchanges.x]\nccxt_id = "binance"\nsecret = "s"\n', "secret"),
    (
        "a token at an unknown location",
        '[locations.lab1]\nchain_id = 1\nrpc = "http://h"\n[[tokens]]\n'
        'location = "lab2"\nsymbol = "X"\naddress = "0x5FbDB2315678afecb367f032d93F642f64180aa3"\ndecimals = 6\n',
        "not a configured EVM location",
    ),
    (
        "a pool at a typo",
        '[locations.lab1]\nchain_id = 1\nrpc = "http://h"\n[[pools]]\nlocation = "lab11"\n'
        'kind = "uniswap_v2"\naddress = "0x5FbDB2315678afecb367f032d93F642f64180aa3"\n',
        "did you mean 'lab1'",
    ),
    ("a bad address", '[locations.lab1]\nchain_id = 1\nrpc = "http://h"\nexecutor = "0x12"\n', "EVM address"),
    ("an RPC that is not HTTP", '[locations.lab1]\nchain_id = 1\nrpc = "ftp://h"\n', "http"),
    ("chain id 0", '[locations.lab1]\nchain_id = 0\nrpc = "http://h"\n', "chain_id"),
    (
        "confirmations beyond reason",
        '[locations.lab1]\nchain_id = 1\nrpc = "http://h"\nconfirmations = 10000000\n',
        "confirmations",
    ),
    ("an upper-case location", '[locations.Lab1]\nchain_id = 1\nrpc = "http://h"\n', "lower-case"),
    (
        "a location that is also an exchange",
        '[locations.x]\nchain_id = 1\nrpc = "http://h"\n[exchanges.x]\nccxt_id = "binance"\n',
        "both",
    ),
    (
        "a token listed twice",
        '[locations.l]\nchain_id = 1\nrpc = "http://h"\n' + 2 * '[[tokens]]\nlocation = "l"\n'
        'symbol = "X"\naddress = "0x5FbDB2315678afecb367f032d93F642f64180aa3"\ndecimals = 6\n',
        "twice",
    ),
    (
        "an account at an unknown location",
        '[locations.l]\nchain_id = 1\nrpc = "http://h"\n[accounts.a]\nprivate_key_env = "K"\nlocations = ["m"]\n',
        "not a configured EVM location",
    ),
    ("a negative risk limit", "[risk]\nmax_order_notional = -5\n", "max_order_notional"),
    ("a NaN risk limit", '[risk]\nmax_order_notional = "NaN"\n', "max_order_notional"),
    ("an unknown key", "colour = 'red'\n", "colour"),
    (
        "decimals 78",
        '[locations.l]\nchain_id = 1\nrpc = "http://h"\n[[tokens]]\nlocation = "l"\nsymbol = "X"\n'
        'address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"\ndecimals = 78\n',
        "decimals",
    ),
    ("a bad env name", '[exchanges.x]\nccxt_id = "b"\napi_key_env = "1 2"\n', "environment variable"),
]:
    case(f"config: {name}", C, 2, needle, text(body))
case("config: --config missing", "--config /nonexistent.toml config show", 2, "does not exist")
case("config: --config a directory", "--config /tmp config show", 2, "directory")
case("config: a bad database URL", "--config {file} venues", 2, "database_url", text('database_url = "nonsense"\n'))

# --- names: halt, resume --------------------------------------------------------------------------------------
H = ["--config", "{cfg}"]
case("halt: LABEX for labex", [*H, "halt", "LABEX"], 2, "did you mean 'labex'")
case("halt: nosuch", [*H, "halt", "nosuch"], 2, "not a known venue")
case("halt: lab11", [*H, "halt", "lab11"], 2, "did you mean 'lab1'")
case("halt: an empty name", [*H, "halt", ""], 2, "empty")
case("halt: a 300-character name", [*H, "halt", "x" * 300], 2, "too long")
case("halt: a market in lower case", [*H, "halt", "labex:eth/usdt"], 2, "not a known venue")
case("halt: a market of an unknown exchange", [*H, "halt", "otherex:ETH/USDT"], 2, "not a known venue")
case("halt: an empty reason", [*H, "halt", "labex", "--reason", ""], 2, "--reason")
case("halt: a reason of 1,000 characters", [*H, "halt", "labex", "--reason", "r" * 1000], 2, "--reason")
case("halt: the kill switch with an empty reason", ["halt", "--reason", ""], 2, "--reason")
case("resume: a typo", [*H, "resume", "labx"], 2, "did you mean 'labex'")
case("resume: never flagged, not configured", [*H, "resume", "nosuch"], 2, "not a known venue")
case("halt: with no configuration", "halt binance", 2, "not a known venue")

# --- the journal: damaged, emptied, missing, swapped --------------------------------------------------------------


def emptied(w: World) -> None:
    w.db.write_bytes(b"")


def truncated(w: World) -> None:
    data = w.db.read_bytes()
    w.db.write_bytes(data[: len(data) // 2])


def random_bytes(w: World) -> None:
    w.db.write_bytes(os.urandom(len(w.db.read_bytes())))


def a_directory(w: World) -> None:
    w.db.unlink()
    w.db.mkdir()


def missing(w: World) -> None:
    w.db.unlink()


def swapped(w: World) -> None:
    """Another journal in its place: sound, but not this data directory's."""
    w.db.unlink()
    Store.open(f"sqlite:///{w.db}").close()


def bad_header(w: World) -> None:
    data = bytearray(w.db.read_bytes())
    data[:16] = b"Not SQLite here!"
    w.db.write_bytes(bytes(data))


def marker_damaged(w: World) -> None:
    (w.data / "journal.json").write_text("{not json")


for state, damage, needle in [
    ("0 bytes", emptied, "empty (0 bytes)"),
    ("truncated", truncated, "cannot be read"),
    ("random bytes", random_bytes, "not a SQLite database"),
    ("a directory", a_directory, "not a regular file"),
    ("missing", missing, "missing"),
    ("another journal", swapped, "holds journal"),
    ("a bad header", bad_header, "not a SQLite database"),
]:
    for argv in (["venues"], ["report", "--last", "3"], ["halt", "labex"], ["resume", "lab2"], ["db", "check"]):
        case(f"journal {state}: {' '.join(argv)}", [*H, *argv], 2, needle, damage)
    case(f"journal {state}: db backup", [*H, "db", "backup"], 2, "fillpath db", damage)
case("journal marker damaged: venues", [*H, "venues"], 2, "journal marker", marker_damaged)
case("journal truncated: the restore hint names the command", [*H, "venues"], 2, "fillpath db new --yes", truncated)

# --- db commands ----------------------------------------------------------------------------------------------
case("db new: without --yes", [*H, "db", "new"], 2, "--yes")
case("db restore: a missing backup", [*H, "db", "restore", "/nonexistent.db"], 2, "does not exist")
case("db restore: not a database", [*H, "db", "restore", "{file}"], 2, "not a SQLite database", text("hello"))
case("db restore: an empty file", [*H, "db", "restore", "{file}"], 2, "empty", text(""))
case("db restore: a directory", [*H, "db", "restore", "/tmp"], 2, "not a regular file")
case("db restore: the journal itself", [*H, "db", "restore", "{db}"], 2, "the journal itself")
case("db restore: another journal", [*H, "db", "restore", "{root}/other.db"], 2, "--yes",
     lambda w: Store.open(f"sqlite:///{w.root / 'other.db'}").close())  # fmt: skip
case("db backup: --out an existing file", [*H, "db", "backup", "--out", "{file}"], 2, "exists", text("keep me"))
case("db backup: --out a directory", [*H, "db", "backup", "--out", "/tmp"], 2, "directory")
case("db backup: --out a device", [*H, "db", "backup", "--out", "/dev/null"], 2, "device")
case("db backup: --out a symlink", [*H, "db", "backup", "--out", "{root}/l.db"], 2, "symbolic link",
     lambda w: (w.root / "l.db").symlink_to(w.root / "t.db"))  # fmt: skip
case("db backup: --out in a missing directory", [*H, "db", "backup", "--out", "/nonexistent/b.db"], 2, "does not")
case(
    "db backup: PostgreSQL",
    "--config {file} db backup",
    2,
    "pg_dump",
    text('database_url = "postgresql://u@127.0.0.1:5432/test"\n'),
)

# --- report, reconcile, balances --------------------------------------------------------------------------------
case("report: no arguments", [*H, "report"], 2, "EXECUTION_ID")
case("report: both an id and --last", [*H, "report", "x1", "--last", "2"], 2, "EXECUTION_ID")
case("report: --last 0", [*H, "report", "--last", "0"], 2, "--last")
case("report: --last -3", [*H, "report", "--last", "-3"], 2, "--last")
case("report: an unknown id", [*H, "report", "xnope"], 2, "not in the journal")
for value in ("nan", "inf", "-1", "301", "1e309"):
    case(f"reconcile: --listen {value}", [*H, "reconcile", "--listen", value], 2, "--listen")
case("balances: a damaged cache", [*H, "balances"], 2, "venue balances are damaged",
     lambda w: (w.data / "venue-balances.json").write_text('{"read_at_ns": "x"}'))  # fmt: skip
case(
    "balances: a cache of NaN",
    [*H, "balances"],
    2,
    "damaged",
    lambda w: (w.data / "venue-balances.json").write_text(
        '{"read_at_ns": 1, "reports": {"ETH@labex": {"amount": "NaN", "unit": "human"}}, "decimals": {}, "prices": {}}'
    ),
)

# --- the lab (refused before any lab is reached) -----------------------------------------------------------------
for target, needle in [
    ("ETH@labex=1e30", "supply"),
    ("ETH@labex=-1", "negative"),
    ("ETH@labex=nan", "finite"),
    ("ETH@labex=abc", "not a number"),
    ("ETH@labex", "ASSET=AMOUNT"),
    ("ETH@nolab=1", "not a lab location"),
    ("=5", "SYMBOL@LOCATION"),
    ("ETH@labex=1" + "0" * 5000, "supply"),
    ("ETH@LABEX=1", "location"),
]:
    case(f"lab fund {target[:24]}", ["lab", "fund", target], 2, needle)
case("lab fund: an asset twice", "lab fund ETH@labex=1 ETH@labex=2", 2, "twice")

# --- the simulator ---------------------------------------------------------------------------------------------
case("sim serve: --host 0.0.0.0", "sim serve --host 0.0.0.0", 2, "loopback")
case("sim serve: --allow-remote without a token", "sim serve --host 0.0.0.0 --allow-remote", 2, "token")
case("sim serve: a short token", "sim serve --host 0.0.0.0 --allow-remote --token-env FP_SHORT_TOKEN", 2, "16",
     lambda w: os.environ.__setitem__("FP_SHORT_TOKEN", "abc"))  # fmt: skip
case("sim serve: a host that is no address", "sim serve --host nothost", 2, "IP address")
case("sim serve: a key without its secret", "sim serve --api-key k", 2, "secret")
case("sim serve: an unset secret variable", "sim serve --api-key k --api-secret-env FP_UNSET_SECRET", 2, "not set")
case("sim serve: a secret file others can read", "sim serve --api-key k --api-secret-file {file}", 2, "chmod 600",
     lambda w: w.write("s3cret").chmod(0o644))  # fmt: skip
case("sim serve: a missing secret file", "sim serve --api-key k --api-secret-file /nonexistent", 2, "cannot read")
case("sim serve: both secret sources", "sim serve --api-secret-env A --api-secret-file B", 2, "not both")
case("sim serve: --walk-interval nan", "sim serve --walk-interval nan", 2, "--walk-interval")
case("sim serve: --walk-interval -1", "sim serve --walk-interval -1", 2, "--walk-interval")
case("sim serve: an unknown fault profile", "sim serve --profile gremlins", 2, "unknown fault profile")
case("sim serve: a config that is no file", "sim serve --config /nonexistent.toml", 2, "cannot read")

# --- keys -----------------------------------------------------------------------------------------------------
case("keys new: no terminal, no passphrase variable", "keys new alice", 2, "--passphrase-env")
case("keys new: an unset passphrase variable", "keys new alice --passphrase-env FP_UNSET_PW", 2, "not set")
case("keys import: an unset key variable", "keys import bob --from-env FP_UNSET_KEY", 2, "not set")

# --- swap, recover and live reads against venues that do not answer -------------------------------------------------
case("swap: amount letters", [*H, "swap", "lots", "WETH@lab1", "USDC@lab1"], 2, "AMOUNT")
case("swap: an unknown location", [*H, "swap", "1", "WETH@lab3", "USDC"], 2, "did you mean")
case("swap: an unknown token", [*H, "swap", "1", "WBTC@lab1", "USDC"], 2, "not a configured token")
case("swap: 1e999999999", [*H, "swap", "1e999999999", "WETH@lab1", "USDC"], 2, "too large")
case("swap: without a lab", "swap 1 WETH@lab1 USDC", 2, "fillpath lab up")
case("route: live without a lab", "route 1 WETH USDC", 2, "fillpath lab up")
case("snapshot take: without a lab", "snapshot take", 2, "fillpath lab up")
case("reconcile: without a lab", "reconcile --listen 0", 2, "fillpath lab up")
case("balances: without a lab", "balances", 2, "fillpath lab up")
case("recover: without a lab", "recover", 2, "fillpath lab up")
case("snapshot take: an RPC that refuses", [*H, "snapshot", "take"], 1, "lab1")
case("route: live, an RPC that refuses", [*H, "route", "1", "WETH@lab1", "USDC@lab1"], 1, "lab1")
case("reconcile: an exchange that refuses", [*H, "reconcile", "--listen", "0"], 1, "labex")

# --- reconcile --accept and events (issue 19) ---------------------------------------------------------------------
case("reconcile: --accept without --reason", [*H, "reconcile", "--accept", "labex"], 2, "--reason")
case("reconcile: --accept with an empty reason", [*H, "reconcile", "--accept", "labex", "--reason", " "], 2, "--reason")
case("reconcile: --accept a typo", [*H, "reconcile", "--accept", "labx", "--reason", "r"], 2, "did you mean 'labex'")
case("reconcile: --reason without --accept", [*H, "reconcile", "--reason", "r"], 2, "--accept")
case("reconcile: --execute without --accept", [*H, "reconcile", "--execute"], 2, "--accept")
case("reconcile: --accept, an exchange that refuses", [*H, "reconcile", "--accept", "labex", "--reason", "r"], 1,
     "labex")  # fmt: skip
case("events: an unknown kind", [*H, "events", "--kind", "drift"], 2, "--kind")
case("events: --last 0", [*H, "events", "--last", "0"], 2, "--last")
case("lab fund: the lab is down", "lab fund ETH@labex=1", 2, "fillpath lab up")

# --- the demo outside the lab --------------------------------------------------------------------------------------
case("demo: on a user's configuration", [*H, "demo"], 2, "--config")


assert len(CASES) >= 150, len(CASES)
assert len({c.name for c in CASES}) == len(CASES), "case names are unique"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return make_template(tmp_path_factory.mktemp("template"))


@pytest.fixture
def world(tmp_path: Path, template: tuple[Path, str]) -> World:
    return make_world(tmp_path, tmp_path / "data", template)


def argv_of(c: Case, w: World) -> list[str]:
    values = {"cfg": str(w.config), "ex": str(w.example), "file": str(w.file), "db": str(w.db), "root": str(w.root)}
    out = []
    for arg in c.argv:
        for name, value in values.items():
            arg = arg.replace("{" + name + "}", value)
        out.append(arg)
    return out


@pytest.mark.parametrize("c", CASES, ids=[c.name for c in CASES])
def test_failure_mode(c: Case, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(world.root)  # no ./fillpath.toml of the checkout's is read
    monkeypatch.delenv("FP_SHORT_TOKEN", raising=False)
    if c.setup is not None:
        c.setup(world)
    before = world.fingerprint()
    listing = sorted(p.name for p in world.data.iterdir()) if world.data.is_dir() else []
    result = invoke(argv_of(c, world))
    assert result.code == c.code, (result.code, result.err, result.out[-500:])
    assert "Traceback" not in result.err + result.out
    assert len(result.lines) == 1, result.err
    line = result.lines[0]
    assert line.startswith("error: "), line
    assert "run with --debug" not in line, line  # the funnel's mark of an exception nobody meant
    assert c.needle in line, line
    assert world.fingerprint() == before, "the journal changed"
    after = sorted(p.name for p in world.data.iterdir()) if world.data.is_dir() else []
    assert after == listing, "a refused command wrote in the data directory"


SUBPROCESS_SAMPLE = [
    "unknown command",
    "route: snapshot nested 100,000 deep",
    "snapshot show: V3 tick inconsistent with its price",
    "halt: LABEX for labex",
    "journal 0 bytes: venues",
    "journal truncated: halt labex",
    "sim serve: --host 0.0.0.0",
]


@pytest.mark.parametrize("name", SUBPROCESS_SAMPLE)
def test_subprocess_sample(name: str, world: World) -> None:
    """The same cases as real processes: the installed entry point's funnel, the exit status the shell sees."""
    (c,) = [c for c in CASES if c.name == name]
    if c.setup is not None:
        c.setup(world)
    before = world.fingerprint()
    env = {**os.environ, "FILLPATH_DATA_DIR": str(world.data)}
    env.pop("FILLPATH_CONFIG", None)
    res = subprocess.run(
        [sys.executable, "-m", "fillpath", *argv_of(c, world)],
        capture_output=True, text=True, timeout=60, env=env, cwd=world.root,
    )  # fmt: skip
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert res.returncode == c.code, res.stderr
    assert "Traceback" not in res.stderr and len(lines) == 1 and c.needle in lines[0], res.stderr
    assert world.fingerprint() == before
