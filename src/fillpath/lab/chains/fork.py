"""Fork mode: an anvil node forking another chain (a real network, or a running lab chain) at a pinned block.

Every wait has a deadline and every failure says what to check: other fork harnesses' users report start-ups
that hang on a slow or unreachable upstream, and forks of a block the upstream no longer serves. A fork is pinned
to one block (the upstream's head when none is given), so two starts fork the same state.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fillpath import paths
from fillpath.config import redact_url
from fillpath.lab.chains import process, rpc
from fillpath.model.errors import InvalidInput, LabError

DEFAULT_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class ForkSettings:
    """What ``lab up --fork-url URL [--fork-block N]`` (or the configuration's ``[fork]``) asks for."""

    urls: tuple[str, ...]
    block: int | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S
    state: Path | None = None
    """A dump (``Lab.dump_fork_state``) loaded on top of each fork: funding done once, reloaded in milliseconds."""
    venues: bool = True
    """Also start the lab's exchange simulators, bridge relayer and aggregator (False: the forked chains only)."""

    def __post_init__(self) -> None:
        if not self.urls:
            raise InvalidInput("--fork-url", "no URL given", "give the JSON-RPC URL of the chain to fork")
        for u in self.urls:
            scheme = u.partition("://")[0].lower()
            if scheme not in ("http", "https", "ws", "wss") or "://" not in u:
                raise InvalidInput("--fork-url", f"{redact_url(u)!r} is not an http(s):// or ws(s):// URL",
                                   "give the JSON-RPC URL of the chain to fork")  # fmt: skip
        if self.block is not None and self.block < 0:
            raise InvalidInput("--fork-block", f"{self.block} is negative", "give a block number ≥ 0")
        if self.timeout_s <= 0:
            raise InvalidInput("fork.timeout_s", f"{self.timeout_s} is not positive", "give seconds, e.g. 30")

    def to_json(self) -> dict[str, Any]:
        return {"urls": list(self.urls), "block": self.block, "timeout_s": self.timeout_s,
                "state": str(self.state) if self.state else None, "venues": self.venues}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Upstream:
    """The chain behind one fork URL, as it answered: its chain id and the block the fork pins."""

    url: str
    chain_id: int
    block: int
    head: int = field(compare=False)


def probe_upstream(url: str, block: int | None, timeout_s: float) -> Upstream:
    """Ask the upstream its chain id and head; a block beyond the head is refused before any anvil starts."""
    shown = redact_url(url)
    try:
        chain_id = int(str(rpc.call(url, "eth_chainId", timeout=timeout_s)), 16)
        head = int(str(rpc.call(url, "eth_blockNumber", timeout=timeout_s)), 16)
    except LabError as exc:
        raise LabError(
            f"the chain to fork at {shown} did not answer within {timeout_s:g}s ({exc}); "
            "check the URL, and that the node is up"
        ) from None
    if block is not None and block > head:
        raise InvalidInput("--fork-block", f"{block} is beyond the head of {shown} ({head})",
                           f"give a block ≤ {head}, or leave --fork-block out to fork the head")  # fmt: skip
    return Upstream(url, chain_id, head if block is None else block, head)


def start(up: Upstream, log_path: Path, *, timeout_s: float, balance_eth: int) -> tuple[process.ProcessRef, str]:
    """Start anvil forking ``up`` at its pinned block on a free port; returns the process and its RPC URL.

    The fork is ready when it answers ``eth_chainId`` with the upstream's id within ``timeout_s`` (anvil fetches
    the fork block and the development accounts from the upstream first). A port taken between choosing it and
    binding it is the one start-up race a retry fixes (once, on a new port); anything else fails at once.
    """
    last: LabError | None = None
    for _ in range(2):
        port = process.free_port()
        url = f"http://127.0.0.1:{port}"
        argv = [
            str(paths.binary("anvil")),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--fork-url", up.url,
            "--fork-block-number", str(up.block),
            "--balance", str(balance_eth),
            "--silent",
        ]  # fmt: skip
        ref = process.spawn(argv, log_path, marker=f"--port {port}")
        try:
            wait_ready(url, ref, log_path, up, timeout_s)
            return ref, url
        except LabError as exc:
            process.stop(ref)
            last = exc
            if "Address already in use" not in str(exc):
                break  # a refusal or a timeout: a new port will not help, and the deadline is the user's
    assert last is not None
    raise last


def wait_ready(url: str, ref: process.ProcessRef, log_path: Path, up: Upstream, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    shown = redact_url(up.url)
    while time.monotonic() < deadline:
        if not process.is_alive(ref):
            tail = log_path.read_text(errors="replace")[-600:].strip() if log_path.exists() else ""
            hint = ""
            if "BlockOutOfRange" in tail or "not found" in tail.lower() or "missing trie node" in tail:
                hint = " (the upstream does not serve that block's state: fork a later block, or use an archive node)"
            raise LabError(f"anvil exited while forking {shown} at block {up.block}{hint}: {tail or 'no output'}")
        with contextlib.suppress(LabError):
            if int(str(rpc.call(url, "eth_chainId", timeout=1.0)), 16) == up.chain_id:
                return
        time.sleep(0.05)
    raise LabError(
        f"the fork of {shown} at block {up.block} did not answer within {timeout_s:g}s: the upstream may be slow "
        "or rate-limiting; raise the timeout ([fork] timeout_s, or --fork-timeout) or use a faster endpoint"
    )


def pin_time(url: str, interval_s: int) -> None:
    """Resume the fork's clock from its fork block (not the wall clock), ``interval_s`` per block, as the lab's."""
    latest = rpc.call(url, "eth_getBlockByNumber", ["latest", False])
    rpc.call(url, "anvil_setTime", [int(latest["timestamp"], 16)])
    rpc.call(url, "anvil_setBlockTimestampInterval", [interval_s])
