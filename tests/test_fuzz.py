"""Tests that hunt: hostile variations of valid snapshots, configurations and command lines. Every outcome must be a
result or an ``InvalidInput`` (at the CLI: exit 0, or one ``error:`` line with exit 1 or 2) — never another
exception, a crash or a hang — and a refused command leaves the journal as it was.

``make test`` replays a fixed, small sample (the "stable" profile, ``EXAMPLES`` each); ``make test-explore``
(HYPOTHESIS_PROFILE=explore) draws thousands of new ones. Whatever exploring finds is pinned as an ``@example``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fillpath.cli.snapshot import read_snapshot_file
from fillpath.config import Config, load_config_file, redacted_view
from fillpath.model.errors import FillpathError, InvalidInput
from fillpath.router import Market, RouteRequest, route
from fillpath.router.snapshot import Snapshot, loads_snapshot, read_snapshot, write_snapshot
from tests.cli.failures import EXAMPLE, World, invoke, make_template, make_world
from tests.cli.failures import example as example_doc

EXPLORE = os.environ.get("HYPOTHESIS_PROFILE") == "explore"
EXAMPLES = 2500 if EXPLORE else 40
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
TIMEOUT = pytest.mark.timeout(3 * 3600 if EXPLORE else 300)

# --- values a hostile or careless hand puts in a file --------------------------------------------------------------

digits = st.integers(1, 120).map(lambda n: "9" * n)
hostile_text = st.sampled_from(
    ["", " ", "0", "-1", "1e999999999", "NaN", "Infinity", "1.5", "0x10", "1_000", "١٢٣", "\x00", "\u202e", "a" * 300,
     "WETH@ethereum", "USDC@ethereum", "ETH@binance", "WETH@", "@x", "ethereum", "binance", "mars", "uniswap_v3",
     "2026-11-24T01:00:00Z", "-887272", "887272", "4295128739", str(2**256), str(2**112), str(-(2**255))]
)  # fmt: skip
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(-(2**300), 2**300),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=12),
        hostile_text,
        digits,
        st.integers(-(10**80), 10**80).map(str),
        st.decimals(allow_nan=False, allow_infinity=False, places=8).map(lambda d: format(d, "f")),
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def paths_of(node: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield here
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths_of(value, (*here, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths_of(value, (*here, index))


def at(doc: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


@st.composite
def mutated_snapshots(draw: st.DrawFn) -> dict[str, Any]:
    """The example snapshot with one to three edits: a value replaced (by a hostile one or one from elsewhere in
    the document), a key removed or added, a list item dropped or duplicated."""
    doc = example_doc()
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in paths_of(doc) if p]
        path = draw(st.sampled_from(paths))
        parent, last = at(doc, path[:-1]), path[-1]
        op = draw(st.sampled_from(["replace", "replace", "borrow", "delete", "add", "duplicate"]))
        if op == "replace":
            parent[last] = draw(json_values)
        elif op == "borrow":
            parent[last] = json.loads(json.dumps(at(doc, draw(st.sampled_from(paths)))))
        elif op == "delete":
            del parent[last]
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(int(last), json.loads(json.dumps(parent[last])))
    return doc


T = TypeVar("T")


def attempt(read: Callable[[Any], T], arg: Any) -> tuple[T | None, InvalidInput | None]:
    """``read(arg)``, or the ``InvalidInput`` it refused with; any other exception fails the test."""
    try:
        return read(arg), None
    except InvalidInput as exc:
        return None, exc


REQUESTS = [("WETH@ethereum", "USDC@ethereum"), ("ETH@binance", "USDT@binance"), ("WETH", "USDC"), ("DAI", "USDT")]


def route_all(snap: Snapshot) -> None:
    """Every request on an accepted snapshot: a plan or an InvalidInput, never anything else."""
    market = Market.from_snapshot(snap)
    for sell, buy in REQUESTS:
        for units in (1, 10**15, 10**24):
            with contextlib.suppress(InvalidInput):
                route(market, RouteRequest(sell, units, buy, max_hops=3))


@TIMEOUT
@FUZZ
@given(mutated_snapshots())
@example(doc={**example_doc(), "venues": [{**example_doc()["venues"][1], "tick": 0}]})
def test_mutated_snapshots_are_read_or_refused(doc: dict[str, Any]) -> None:
    snap, refused = attempt(loads_snapshot, json.dumps(doc, allow_nan=True))
    if refused is not None:
        assert refused.field and "\n" not in str(refused)
        return
    assert snap is not None
    assert read_snapshot(write_snapshot(snap)) == snap  # what is accepted can be written and read back
    route_all(snap)


@st.composite
def mangled_bytes(draw: st.DrawFn) -> bytes:
    """The example file with byte-level damage: flips, insertions, deletions, a truncation, a foreign encoding."""
    data = bytearray(EXAMPLE.read_bytes())
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "brackets", "bom"]))
        pos = draw(st.integers(0, len(data)))
        if op == "flip" and pos < len(data):
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "truncate":
            del data[pos:]
        elif op == "brackets":
            data[pos:pos] = b"[" * draw(st.integers(1, 5000))
        elif op == "bom":
            data[0:0] = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]))
    return bytes(data)


@TIMEOUT
@FUZZ
@given(mangled_bytes())
@example(data=b"[" * 100_000)
@example(data=b"\xef\xbb\xbf" + EXAMPLE.read_bytes())
def test_damaged_snapshot_files_are_read_or_refused(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "snap.json"
        path.write_bytes(data)
        read, refused = attempt(read_snapshot_file, path)
    if refused is not None:
        assert str(path) in refused.field and "\n" not in str(refused)
        return
    assert read is not None
    route_all(read[0])


# --- configurations -------------------------------------------------------------------------------------------

CONFIG_LINES = """\
data_dir = "DATA"
numeraire = "USD"
[locations.lab1]
chain_id = 31337
rpc = ["http://127.0.0.1:9", "https://rpc.example/v3/KEY"]
ws = "ws://127.0.0.1:9"
confirmations = 2
executor = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
[locations.lab2]
chain_id = 31338
rpc = "http://127.0.0.1:9"
[accounts.trader]
address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
keystore = "/nonexistent/trader.json"
passphrase_env = "FP_PASS"
locations = ["lab1"]
[exchanges.labex]
ccxt_id = "binance"
api_key_env = "FP_KEY"
secret_env = "FP_SECRET"
urls = {api = "http://127.0.0.1:9"}
[[tokens]]
location = "lab1"
symbol = "WETH"
address = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
decimals = 18
[[tokens]]
location = "lab2"
symbol = "USDC"
address = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
decimals = 6
[[pools]]
location = "lab1"
kind = "uniswap_v3"
address = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
[risk]
max_order_notional = "1000000"
max_slippage_bps = 200
""".splitlines()

toml_values = st.one_of(
    st.sampled_from(
        ['""', '"x"', "0", "-1", "1e999", "nan", "inf", "true", "[]", "{}", '"lab3"', '"LAB1"', '"0x12"', "99999999999",
         '"http://"', '"ftp://h"', '"NaN"', '"1e30"', "[[[[[[[[]]]]]]]]", '"' + "a" * 300 + '"', "'\\u0000'"]
    ),
    st.integers(-(2**70), 2**70).map(str),
    st.text(max_size=10).map(json.dumps),
)  # fmt: skip


EXTRA_LINES = ["[locations.lab3]", "[exchanges.lab1]", "secret = 'x'", "[risk]", "[[tokens]]", "x.y.z = 1",
               'kill_switch_file = "/dev/null"']  # fmt: skip


@st.composite
def mutated_configs(draw: st.DrawFn) -> str:
    lines = list(CONFIG_LINES)
    for _ in range(draw(st.integers(1, 4))):
        k = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["value", "value", "delete", "duplicate", "insert", "garble"]))
        if op == "value" and "=" in lines[k]:
            lines[k] = lines[k].split("=", 1)[0] + "= " + draw(toml_values)
        elif op == "delete":
            del lines[k]
        elif op == "duplicate":
            lines.insert(k, lines[k])
        elif op == "insert":
            lines.insert(k, draw(st.sampled_from(EXTRA_LINES)))
        elif op == "garble":
            line = lines[k]
            pos = draw(st.integers(0, len(line)))
            lines[k] = line[:pos] + draw(st.text(max_size=3)) + line[pos:]
    return "\n".join(lines) + "\n"


@TIMEOUT
@FUZZ
@given(mutated_configs())
def test_mutated_configs_are_loaded_or_refused(text: str) -> None:
    from fillpath.app import sell_decimals, venue_names

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fillpath.toml"
        path.write_text(text.replace("DATA", tmp), errors="surrogateescape")
        cfg, refused = attempt(load_config_file, path)
    if refused is not None:
        assert "\n" not in str(refused)
        return
    assert isinstance(cfg, Config)
    json.dumps(redacted_view(cfg))  # what is accepted can be shown
    venue_names(cfg)
    for names in ("WETH@lab1", "USDC@lab2", "WETH", "ETH@labex", "NOPE@lab1"):
        with contextlib.suppress(FillpathError):
            sell_decimals(cfg, names)


# --- command lines ----------------------------------------------------------------------------------------------

arg_values = st.one_of(
    hostile_text,
    st.sampled_from(["{ex}", "{cfg}", "{db}", "/dev/null", "/dev/full", "/tmp", "labex", "LABEX", "lab1", "lab2",
                     "labex:ETH/USDT", "nosuchvenue", "WETH@lab1", "USDC", "ETH@labex=1", "ETH@labex=1e30", "--",
                     "-", "--json", "--help"]),
    st.text(max_size=8),
    digits,
)  # fmt: skip

COMMANDS: list[tuple[list[str], int, list[str]]] = [
    # (command, positional arguments, its options)
    (["route"], 3, ["--snapshot", "--json", "--max-hops", "--slippage-bps", "--no-gas", "--exclude"]),
    (["snapshot", "show"], 1, ["--json"]),
    (["config", "show"], 0, ["--json"]),
    (["halt"], 1, ["--reason"]),
    (["resume"], 1, []),
    (["venues"], 0, ["--json"]),
    (["report"], 1, ["--last", "--json"]),
    (["db", "check"], 0, ["--json", "--full"]),
    (["db", "backup"], 0, ["--out", "--json"]),
    (["db", "restore"], 1, ["--yes"]),
    (["lab", "fund"], 2, ["--json"]),
    (["lab", "status"], 0, ["--json"]),
    (["keys", "list"], 0, ["--json"]),
    (["swap"], 3, ["--dry-run", "--json", "--slippage-bps", "--max-hops"]),
    (["reconcile"], 0, ["--json", "--listen"]),
    (["balances"], 0, ["--json"]),
]
FLAGS = {"--json", "--no-gas", "--full", "--yes", "--dry-run"}


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    command, positional, options = draw(st.sampled_from(COMMANDS))
    argv = ["--config", "{cfg}"] if draw(st.booleans()) else []
    argv += command
    argv += [draw(arg_values) for _ in range(draw(st.integers(0, positional + 1)))]
    for _ in range(draw(st.integers(0, 3))):
        option = draw(st.sampled_from([*options, "--bogus"] if options else ["--bogus"]))
        argv.append(option)
        if option not in FLAGS:
            value = draw(arg_values)
            if option == "--listen":  # a real wait is a result, not a finding: keep the accepted ones short
                value = draw(st.sampled_from(["0", "0.01", "nan", "inf", "-1", "1e309", "301", "abc", ""]))
            argv.append(value)
    return argv


@pytest.fixture(scope="module")
def cli_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    return make_template(tmp_path_factory.mktemp("fuzz-template"))


@contextlib.contextmanager
def hostile_world(template: tuple[Path, str]) -> Iterator[World]:
    """A fresh world per example, with the environment a user's shell would give (FILLPATH_DATA_DIR)."""
    saved = {k: os.environ.get(k) for k in ("FILLPATH_DATA_DIR", "FILLPATH_CONFIG")}
    here = Path.cwd()
    with tempfile.TemporaryDirectory() as tmp:
        world = make_world(Path(tmp), Path(tmp) / "data", template)
        os.environ["FILLPATH_DATA_DIR"] = str(world.data)
        os.environ.pop("FILLPATH_CONFIG", None)
        os.chdir(tmp)
        try:
            yield world
        finally:
            os.chdir(here)
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


@TIMEOUT
@FUZZ
@given(argv=command_lines())
@example(argv=["halt", "LABEX"])
@example(argv=["--config", "{cfg}", "reconcile", "--listen", "nan"])
@example(argv=["route", "1e999999999", "WETH", "USDC", "--snapshot", "{ex}"])
def test_command_lines_end_in_a_result_or_one_clear_line(argv: list[str], cli_template: tuple[Path, str]) -> None:
    with hostile_world(cli_template) as world:
        values = {"{cfg}": str(world.config), "{ex}": str(world.example), "{db}": str(world.db)}
        args = [values.get(a, a) for a in argv]
        before = world.fingerprint()
        result = invoke(args)
        after = world.fingerprint()
    assert result.code in (0, 1, 2, 3), result  # the exit-code table (docs/operations.md)
    assert "Traceback" not in result.err + result.out, result.err
    assert "run with --debug" not in result.err, result.err  # the funnel's mark of an exception nobody meant
    if result.code != 0:
        lines = result.lines
        if lines and lines[0].startswith("Usage:"):  # a group given no subcommand answers with its help
            return
        if result.code == 1 and not lines and result.out.strip():  # a report whose status is a failure (swap)
            return
        assert len(lines) == 1 and lines[0].startswith("error: "), result.err
        assert after == before, "a refused command changed the journal"
