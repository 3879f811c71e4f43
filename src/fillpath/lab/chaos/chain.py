"""The chaos world's EVM chain: eth-tester (py-evm) in-process, behind the JSON-RPC the engine's ``RpcClient`` speaks.

The lab's one-pair chain (WETH/USDC on Uniswap V2, Multicall3, the FillpathExecutor) is deployed once per process
(~5 s) and every scenario starts from an eth-tester snapshot of it (``take_snapshot``/``revert_to_snapshot``).
Everything that would make two runs of one seed differ is pinned: block timestamps follow the virtual clock (the
deploy's blocks sit at a fixed genesis a day before it), a block's ``mix_hash`` is a hash of its height and the
reorg count (eth-tester draws it from ``os.urandom``), and the trader's key is fixed.

:class:`ChainRpc` is an ``RpcClient`` whose ``request``/``batch`` answer from the chain in JSON-RPC's shapes (hex
quantities, camelCase keys), with ``eth_call``/``eth_estimateGas`` state overrides (the engine simulates a call
behind an approval not yet mined). Sent transactions wait in the world's own mempool (:class:`Mempool`) until the
world's miner (:meth:`ChainWorld.mine`, every :data:`BLOCK_S` virtual seconds) includes them: that is where the
chain faults act — an RPC that times out or errs, a transaction dropped from the mempool, one stuck there, a block
un-mined by a reorg.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils.address import to_canonical_address
from eth_utils.crypto import keccak
from hexbytes import HexBytes

from fillpath.chains.accounts import Signer
from fillpath.chains.readers import ChainSource
from fillpath.chains.rpc import RpcClient, RpcError
from fillpath.lab.chains.deployment import LabDeployment
from fillpath.lab.chaos.clock import EPOCH_NS, VirtualClock
from fillpath.lab.chaos.faults import Fault, FaultPlan
from fillpath.model.errors import Ambiguous, Retryable

CHAIN = "lab1"
CHAIN2 = "lab2"
"""The second chain (a world with the bridge): the lab bridge's spoke pools on both, a relayer between them."""
CHAIN1_ID = 131_277_322_940_537
"""lab1's chain id: eth-tester's own."""
CHAIN2_ID = CHAIN1_ID + 1
"""lab2's chain id (one eth-tester backend per chain id: a relay names both chains)."""
BLOCK_S = 2.0
"""Virtual seconds between block slots: a block is mined at a slot when a transaction is ready (or a reorg is due)."""
IDLE_BLOCK_S = 12.0
"""With nothing to include, an empty block this often (heads move, confirmations count, deposits confirm)."""
GENESIS_TS = EPOCH_NS // 10**9 - 86_400
"""The deploy's blocks: a day before virtual time starts, one second apart."""
TRADER_KEY = keccak(b"fillpath chaos trader")
HOT_KEY = keccak(b"fillpath chaos exchange hot wallet")
"""The exchange's hot wallet on the chain (withdrawals are sent from it: ``wallet.py``)."""
HOT_FUNDING = {"ETH": 100 * 10**18, "USDC": 5_000_000 * 10**6}
FUNDING = {"ETH": 50 * 10**18, "WETH": 300 * 10**18, "USDC": 600_000 * 10**6}
"""What the trader holds on the chain when a scenario starts."""

_QUANTITIES = {"gas", "value", "gas_price", "max_fee_per_gas", "max_priority_fee_per_gas", "nonce", "chain_id"}


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(p.title() for p in rest)


def _snake(key: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in key)


def render(value: Any) -> Any:
    """eth-tester's Python values as JSON-RPC renders them: hex quantities and data, camelCase keys."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict):
        return {_camel(k): render(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render(v) for v in value]
    return value


def _block_id(tag: Any) -> Any:
    if isinstance(tag, str) and tag.startswith("0x"):
        return int(tag, 16)
    return "latest" if tag in (None, "pending") else tag


def _tx_in(tx: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in tx.items():
        key = _snake(k)
        if key in ("input",):
            key = "data"
        out[key] = int(v, 16) if key in _QUANTITIES and isinstance(v, str) else v
    out.setdefault("from", "0x" + "00" * 20)
    return out


@dataclass
class Pending:
    tx_hash: str
    sender: str
    nonce: int
    raw: bytes
    max_fee: int
    stuck_until: float = 0.0
    tip: int = 0
    """Its max priority fee per gas (its gas price, legacy)."""


PRICE_BUMP_PCT = 10
"""geth's ``txpool.pricebump``: a replacement must offer at least 110% of both fee fields of the one it replaces."""


@dataclass
class Mempool:
    """Transactions sent and not yet mined, by hash (a later one at the same sender and nonce replaces it)."""

    txs: dict[str, Pending] = field(default_factory=dict)

    def add(self, p: Pending) -> None:
        for h, other in list(self.txs.items()):
            if other.sender == p.sender and other.nonce == p.nonce:
                del self.txs[h]
        self.txs[p.tx_hash] = p

    def at(self, sender: str, nonce: int) -> Pending | None:
        """The transaction waiting at ``sender``'s ``nonce``, if any."""
        return next((p for p in self.txs.values() if p.sender == sender and p.nonce == nonce), None)


def underpriced(new_fee: int, new_tip: int, old: Pending) -> bool:
    """geth's replacement rule: both fields at least ``old``'s × (100 + PRICE_BUMP_PCT) / 100 (integer division)."""
    bump = 100 + PRICE_BUMP_PCT
    return new_fee < old.max_fee * bump // 100 or new_tip < old.tip * bump // 100


@dataclass
class LabChain:
    """The deployed lab chain of this process (eth-tester), and the snapshot every scenario starts from."""

    tester: Any
    deployment: LabDeployment
    source: ChainSource
    chain_id: int
    trader: str
    snapshot: Any
    reorgs: int = 0
    location: str = CHAIN
    w3: Any = None
    bridged: tuple[LabDeployment, Any] | None = None
    """The deployment with the bridge's spoke pool and relayer (``lab/bridge/setup.py``) and its snapshot: deployed
    on top of :attr:`snapshot` the first time a world with the bridge asks, so a world without it starts from the
    same blocks as before the bridge existed."""

    @property
    def peer_chain_id(self) -> int:
        return CHAIN2_ID if self.location == CHAIN else CHAIN1_ID


_LAB: dict[tuple[int, str], LabChain] = {}
_PER_BLOCK = frozenset({"eth_getTransactionReceipt", "eth_getBalance", "eth_call", "eth_estimateGas", "eth_getCode",
                        "eth_getStorageAt", "eth_getBlockByNumber", "eth_gasPrice", "eth_feeHistory"})  # fmt: skip
"""Reads answered from the canonical head alone (``eth_call`` and ``eth_estimateGas`` run on it, not on pending)."""
_TX_INDEX: dict[bytes, int] = {}
"""Height of every transaction the world mined (by hash): eth-tester finds a transaction by walking every block
from the head down (~40 ms a lookup on the lab chain, and the tracker asks for receipts many times a second of
virtual time); with this it looks in one block. A hash not in it was never mined by the world: not found at once."""


def _indexed_lookup(chain: Any, transaction_hash: bytes) -> tuple[Any, Any, int]:
    from eth_tester.exceptions import TransactionNotFound

    pending = chain.get_block()  # the block being built (eth-tester looks there first, as after a send)
    for index, transaction in enumerate(pending.transactions):
        if transaction.hash == transaction_hash:
            return pending, transaction, index
    height = _TX_INDEX.get(bytes(transaction_hash))
    if height is not None and height <= chain.get_canonical_head().block_number:
        block = chain.get_canonical_block_by_number(height)
        for index, transaction in enumerate(block.transactions):
            if transaction.hash == transaction_hash:
                return block, transaction, index
    raise TransactionNotFound(f"No transaction found for transaction hash: 0x{bytes(transaction_hash).hex()}")


def lab_chain(location: str = CHAIN, *, bridge: bool = False) -> LabChain:
    """The one-pair lab on ``location``, deployed once per process (or loaded from the lab cache:
    :func:`_load_or_deploy`); every call hands it back reverted to its funded state (``bridge``: with the bridge's
    spoke pool, deployed once on top of it)."""
    key = (os.getpid(), location)
    if key not in _LAB:
        _LAB[key] = _load_or_deploy(location)
    lab = _LAB[key]
    if location == CHAIN:
        _TX_INDEX.clear()  # one world at a time: lab1 is asked first
    if bridge and lab.bridged is None:
        lab.bridged = _deploy_bridge(lab)
    lab.tester.revert_to_snapshot(lab.bridged[1] if bridge and lab.bridged is not None else lab.snapshot)
    lab.tester._pending_transactions.clear()  # eth-tester keeps its own pool across a revert
    lab.reorgs = 0
    lab.tester.backend.reorgs = 0
    if bridge and lab.bridged is not None:
        return dataclasses.replace(lab, deployment=lab.bridged[0])
    return lab


def _load_or_deploy(location: str = CHAIN, cache_dir: Path | None = None) -> LabChain:
    """The deployed lab from the lab cache (``FILLPATH_LAB_CACHE``, as ``lab/chains/tester_state.py`` keeps the
    suite's): py-evm's key-value store after :func:`_deploy`, byte for byte, so every block, state and journal is
    the same (~0.1 s to load against ~5 s of CPU to deploy, once per process and chain: each ``--jobs`` process and
    each pytest worker). Keyed by this module, the deploy code and specs, the artifacts and the eth-tester / py-evm
    versions. (The bridge's spoke pool, deployed on top when a world asks for it, is not cached.)"""
    from fillpath.lab.chains import tester_state
    from fillpath.lab.manager import default_cache_dir

    directory = cache_dir or default_cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"chaos-{location}-{_cache_key()}.json"
    with tester_state.locked(directory / f"chaos-{location}.lock"):
        stored = tester_state.read(path)
        if stored is not None:
            store, deployment, number, head_hash = stored
            w3, tester = _fresh(location)
            tester_state.restore(tester, store, number, head_hash)
            return _ready(w3, tester, deployment, location)
        w3, tester, deployment = _deploy(location)
        tester_state.write(path, w3, tester, deployment)
        return _ready(w3, tester, deployment, location)


def _cache_key() -> str:
    from importlib import metadata

    from fillpath.lab.chains import artifacts, tester_state

    h = hashlib.sha256()
    lab = Path(tester_state.__file__).parent
    for f in (Path(__file__), lab / "deploy.py", lab / "spec.py", lab / "deployment.py", lab / "tester_state.py"):
        h.update(f.read_bytes())
    h.update(artifacts.fingerprint().encode())
    for dist in ("eth-tester", "py-evm"):
        h.update(f"{dist}={metadata.version(dist)}".encode())
    return h.hexdigest()[:20]


def _deploy_bridge(lab: LabChain) -> tuple[LabDeployment, Any]:
    """The lab bridge's spoke pool on ``lab`` (routes to its peer, the relayer's inventory), deployed on top of the
    funded snapshot, and the snapshot after it."""
    from fillpath.lab.bridge.setup import deploy_bridge

    t = lab.tester
    t.backend.deploying = True  # its blocks a second apart after the funded snapshot's, not at the wall clock
    t.revert_to_snapshot(lab.snapshot)
    t._pending_transactions.clear()
    t.enable_auto_mine_transactions()
    t.backend.indexed = False  # the deploy's receipts are found by eth-tester's own walk (the index is the world's)
    try:
        deployment = deploy_bridge(lab.w3, lab.deployment, [lab.peer_chain_id])
    finally:
        t.disable_auto_mine_transactions()
        t.backend.indexed, t.backend.deploying = True, False
    return deployment, t.take_snapshot()


def _fresh(location: str = CHAIN) -> tuple[Any, Any]:
    """(w3, tester) of a new pinned chain at the lab's genesis, with ``location``'s chain id."""
    from eth_tester import EthereumTester, PyEVMBackend
    from web3 import Web3
    from web3.providers.eth_tester import EthereumTesterProvider

    params = PyEVMBackend.generate_genesis_params(overrides={"timestamp": GENESIS_TS})
    backend = _pinned_backend_class()(genesis_parameters=params)
    if location != CHAIN:  # one chain id per backend: eth-tester builds its chain class afresh for each
        type(backend.chain).chain_id = CHAIN2_ID
    backend.pin_next(GENESIS_TS + 1)
    tester = EthereumTester(backend)
    return Web3(EthereumTesterProvider(tester)), tester


def _ready(w3: Any, tester: Any, deployment: LabDeployment, location: str) -> LabChain:
    """The deployed chain as scenarios use it: the world's own miner, its index, and the snapshot they start from."""
    tester.disable_auto_mine_transactions()
    trader = Account.from_key(TRADER_KEY).address
    tester.backend.indexed = True
    chain_id = int(tester.backend.chain.chain_id)  # the backend's (lab2's own), not the deployment's web3 answer
    return LabChain(tester, deployment, deployment.chain_source(trader), chain_id, trader, tester.take_snapshot(),
                    location=location, w3=w3)  # fmt: skip


def _deploy(location: str = CHAIN) -> tuple[Any, Any, LabDeployment]:
    from web3 import Web3
    from web3.types import Wei

    from fillpath.lab.chains import artifacts
    from fillpath.lab.chains.deploy import deploy_lab
    from fillpath.lab.chains.spec import V2PoolSpec, lab_specs

    w3, tester = _fresh(location)
    chain_id = int(tester.backend.chain.chain_id)  # web3's eth_tester provider answers eth_chainId with a constant
    spec = dataclasses.replace(lab_specs("lite")[0], location=location, chain_id=chain_id,
                               v2=(V2PoolSpec("WETH", "USDC", Decimal(20_000_000)),), v3=(), stableswap=(),
                               aggregator_v2=(), aggregator=False)  # fmt: skip
    deployment = deploy_lab(w3, spec)
    trader = Account.from_key(TRADER_KEY).address
    dev = deployment.dev
    w3.eth.send_transaction({"from": dev, "to": trader, "value": Wei(FUNDING["ETH"])})
    weth = w3.eth.contract(address=Web3.to_checksum_address(deployment.address("WETH")), abi=artifacts.abi("WETH9"))
    weth.functions.deposit().transact({"from": dev, "value": Wei(FUNDING["WETH"])})
    weth.functions.transfer(trader, FUNDING["WETH"]).transact({"from": dev})
    usdc = w3.eth.contract(address=Web3.to_checksum_address(deployment.address("USDC")), abi=artifacts.abi("LabToken"))
    usdc.functions.transfer(trader, FUNDING["USDC"]).transact({"from": dev})
    hot = Account.from_key(HOT_KEY).address
    w3.eth.send_transaction({"from": dev, "to": hot, "value": Wei(HOT_FUNDING["ETH"])})
    usdc.functions.transfer(hot, HOT_FUNDING["USDC"]).transact({"from": dev})
    return w3, tester, deployment


def trader_signer() -> Signer:
    return Signer(Account.from_key(TRADER_KEY))


def _pinned_backend_class() -> type:
    from eth_tester import PyEVMBackend

    class Pinned(PyEVMBackend):  # type: ignore[misc]
        """eth-tester's py-evm backend with reproducible blocks: each a second after its parent (not the wall
        clock), its ``mix_hash`` a hash of its height (not ``os.urandom``)."""

        def mine_blocks(self, num_blocks: int = 1, coinbase: bytes = b"\0" * 20) -> tuple[bytes, ...]:
            out = []
            for _ in range(num_blocks):
                n = self.chain.header.block_number
                block = self.chain.mine_block(coinbase=coinbase, mix_hash=keccak(f"{n}:{self.reorgs}".encode()))
                self.pin_next(block.header.timestamp + 1)
                out.append(block.hash)
            return tuple(out)

        def revert_to_snapshot(self, snapshot: Any) -> None:
            super().revert_to_snapshot(snapshot)
            if self.deploying:
                self.pin_next(int(self.chain.get_canonical_head().timestamp) + 1)

        def pin_next(self, timestamp: int) -> None:
            """The pending block's timestamp (set while it holds no transaction: they run at that time)."""
            self.chain.header = self.chain.header.copy(timestamp=timestamp)

        reorgs = 0
        deploying = False
        """While set: every revert (eth-tester reverts to estimate gas) pins the pending block a second after the
        head, instead of eth-tester's wall clock."""
        indexed = False  # set once deployed: from then on the world's miner indexes every block it mines

        # the world's lookups by hash go through its index; only this backend's: other eth-tester chains in the
        # process (a test suite's) keep eth-tester's own walk, since the index knows only what the world mined
        def get_transaction_by_hash(self, transaction_hash: bytes) -> Any:
            if not self.indexed:
                return super().get_transaction_by_hash(transaction_hash)
            with _indexed():
                return super().get_transaction_by_hash(transaction_hash)

        def get_transaction_receipt(self, transaction_hash: bytes) -> Any:
            if not self.indexed:
                return super().get_transaction_receipt(transaction_hash)
            with _indexed():
                return super().get_transaction_receipt(transaction_hash)

    return Pinned


@contextlib.contextmanager
def _indexed() -> Iterator[None]:
    """eth-tester's module-level lookup swapped for the index for one call (the world runs on one thread)."""
    from eth_tester.backends.pyevm import main as pyevm_main

    original = pyevm_main._get_transaction_by_hash
    pyevm_main._get_transaction_by_hash = _indexed_lookup
    try:
        yield
    finally:
        pyevm_main._get_transaction_by_hash = original


@dataclass(frozen=True, slots=True)
class Ran:
    """What py-evm answered to one call: its output, its gas, whether it reverted; ``block_free``: no opcode that reads
    the block ran (so the answer holds at any block with the same state); ``charge``: the gas the sender was charged
    up front (``gas × price``), where a ``BALANCE``/``SELFBALANCE`` ran (it may have read the sender's balance)."""

    output: bytes
    gas_used: int
    is_error: bool
    block_free: bool
    charge: int | None


_MEMO: dict[tuple[int, bytes, bytes, str, str], Ran] = {}
"""Calls py-evm ran, by (chain id, state root, sender, the normalized call, state overrides). A call is a function of
the state it runs on, the call itself and the block it runs in: run again on a state with the same root, it runs the
same opcodes on the same values — unless an opcode read the block (``block_free`` false: not kept), or the sender's
balance, which the up-front gas charge moves with the fee (kept with the charge, reused only at the same charge). Same
root with another block: an empty block (every ``IDLE_BLOCK_S``), a scenario's first reads (every scenario starts from
one state). The node's checks before a call (sender funds, fees) still run at each block."""
MEMO_SIZE = 20_000
_BLOCK_OPS = frozenset({0x3A, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x48, 0x49, 0x4A})
"""GASPRICE, BLOCKHASH, COINBASE, TIMESTAMP, NUMBER, PREVRANDAO, GASLIMIT, BASEFEE, BLOBHASH, BLOBBASEFEE."""
_BALANCE_OPS = frozenset({0x31, 0x47})
"""BALANCE, SELFBALANCE."""
_SEEN: set[str] = set()
"""What the call being run read (``block``, ``balance``): set by the watched opcodes (the world runs on one thread)."""
_WATCHED: dict[type, type] = {}


class _Watch:
    """An opcode that notes what it reads, then runs as it is."""

    def __init__(self, inner: Any, what: str) -> None:
        self.inner, self.what = inner, what
        self.mnemonic, self.gas_cost = inner.mnemonic, inner.gas_cost

    def __call__(self, computation: Any) -> Any:
        _SEEN.add(self.what)
        return self.inner(computation=computation)


def _watched(computation_class: type) -> type:
    """``computation_class`` whose block and balance opcodes note they ran (child calls run in the same class)."""
    if computation_class not in _WATCHED:
        ops = dict(computation_class.opcodes)  # type: ignore[attr-defined]
        for op in _BLOCK_OPS | _BALANCE_OPS:
            if op in ops:
                ops[op] = _Watch(ops[op], "block" if op in _BLOCK_OPS else "balance")
        _WATCHED[computation_class] = type(f"Watched{computation_class.__name__}", (computation_class,),
                                           {"opcodes": ops})  # fmt: skip
    return _WATCHED[computation_class]


class ChainRpc(RpcClient):
    """An ``RpcClient`` answering from the in-process chain, with the scenario's chain faults."""

    def __init__(self, world: ChainWorld) -> None:
        super().__init__(world.lab.location, ())
        self.world = world

    async def close(self) -> None:
        return None

    async def request(self, method: str, params: Sequence[Any] = ()) -> Any:
        await self.world.latency()
        self.world.rpc_fault(method)
        return self.world.answer(method, list(params))

    async def batch(self, calls: Sequence[tuple[str, Sequence[Any]]]) -> list[Any]:
        await self.world.latency()
        for m, _ in calls:
            self.world.rpc_fault(m)
        return [self.world.answer(m, list(p)) for m, p in calls]


@dataclass
class ChainWorld:
    """The chain as the world runs it: the lab chain, the mempool, the miner and the faults."""

    lab: LabChain
    clock: VirtualClock
    faults: FaultPlan
    log: Callable[[str], None]
    mempool: Mempool = field(default_factory=Mempool)
    mined: dict[str, int] = field(default_factory=dict)
    """Every transaction ever mined (hash → height), reorged ones included: the invariants' evidence."""
    sent: list[tuple[str, int]] = field(default_factory=list)
    """(hash, nonce) of every transaction that reached the mempool."""
    dropped: set[str] = field(default_factory=set)
    start_block: int = 0
    on_block: list[Callable[[], None]] = field(default_factory=list)
    """Called after every block (the exchange's wallet watches for deposits and sends withdrawals)."""
    _head_cache: tuple[int, int] | None = None
    _reads: dict[str, Any] = field(default_factory=dict)
    _reorg_snapshot: Any = None
    _reorg_txs: tuple[Pending, ...] = ()
    _reorg_lost: bool = False
    _follow: bool = False
    lost: set[str] = field(default_factory=set)
    """Transactions of ours a lost reorg (``reorg_lost``) un-mined for good: their bytes may be sent again."""
    replaced: int = 0
    """Replacements the mempool accepted (fee bumps)."""

    # --- faults at the RPC boundary ---------------------------------------------------------------

    @property
    def tag(self) -> str:
        """How the timeline names this chain (``chain`` for lab1, as before a second chain existed)."""
        return "chain" if self.lab.location == CHAIN else f"chain {self.lab.location}"

    def __post_init__(self) -> None:
        self._mine_one()  # the head at virtual time 0 (the deploy's blocks are a day older: deadlines are chain time)
        self.start_block = int(self.lab.tester.get_block_by_number("latest")["number"])

    async def latency(self) -> None:
        import asyncio

        if self.faults.hit(Fault.LATENCY):
            await asyncio.sleep(self.faults.rng.uniform(0.001, 0.4))
        else:
            await asyncio.sleep(0)

    def rpc_fault(self, method: str) -> None:
        if method == "eth_sendRawTransaction":
            return  # its faults act after the node saw it (answer)
        if self.faults.hit(Fault.RPC_TIMEOUT):
            self.log(f"{self.tag}: {method} timed out")
            raise Retryable(f"{self.lab.location}: {method} failed on every endpoint (timeout)", retry_after=1.0)
        if self.faults.hit(Fault.RPC_ERROR):
            self.log(f"{self.tag}: {method} answered 503")
            raise Retryable(f"{self.lab.location}: {method} failed on every endpoint (HTTP 503)", retry_after=1.0)

    # --- the node ---------------------------------------------------------------------------------------

    def answer(self, method: str, params: list[Any]) -> Any:
        """The node's answer. A read that depends only on the canonical head is answered once per block (the
        tracker asks for the same receipts and nonces many times a block; py-evm builds a state for each)."""
        if method not in _PER_BLOCK:
            return self._answer(method, params)
        key = method + json.dumps(params, sort_keys=True, default=str)
        if key not in self._reads:
            self._reads[key] = self._answer(method, params)  # a refusal (revert) is not kept: raised each time
        return copy.deepcopy(self._reads[key])

    def _answer(self, method: str, params: list[Any]) -> Any:
        t = self.lab.tester
        if method == "eth_chainId":
            return hex(self.lab.chain_id)
        if method == "eth_blockNumber":
            return hex(self.head())
        if method == "eth_gasPrice":
            return hex(self._base_fee() + 10**9)
        if method == "eth_maxPriorityFeePerGas":
            return hex(10**9)
        if method == "eth_feeHistory":
            base = self._base_fee()
            n = int(params[0], 16) if isinstance(params[0], str) else int(params[0])
            return {"oldestBlock": "0x1", "baseFeePerGas": [hex(base)] * (n + 1), "gasUsedRatio": [0.5] * n,
                    "reward": [[hex(10**9)] for _ in range(n)]}  # fmt: skip
        if method == "eth_getBlockByNumber":
            return render(t.get_block_by_number(_block_id(params[0]), bool(params[1]) if len(params) > 1 else False))
        if method == "eth_getBlockByHash":
            try:
                return render(t.get_block_by_hash(params[0], bool(params[1]) if len(params) > 1 else False))
            except Exception:
                return None
        if method == "eth_getBalance":
            return hex(t.get_balance(params[0], _block_id(params[1] if len(params) > 1 else "latest")))
        if method == "eth_getCode":
            return render(t.get_code(params[0], _block_id(params[1] if len(params) > 1 else "latest")))
        if method == "eth_getStorageAt":
            slot = int(params[1], 16)
            return "0x" + t.get_storage_at(params[0], slot, _block_id(params[2] if len(params) > 2 else "latest"))[
                2:
            ].rjust(64, "0")
        if method == "eth_getTransactionCount":
            tag = params[1] if len(params) > 1 else "latest"
            n = self.nonce_of(params[0])
            if tag == "pending":
                ours = [p.nonce for p in self.mempool.txs.values() if p.sender.lower() == params[0].lower()]
                while n in ours:
                    n += 1
            return hex(n)
        if method in ("eth_call", "eth_estimateGas"):
            return self._call(method, params)
        if method == "eth_sendRawTransaction":
            return self._send(params[0])
        if method == "eth_getTransactionByHash":
            h = params[0]
            if h in self.mempool.txs:
                p = self.mempool.txs[h]
                return {"hash": h, "from": p.sender, "nonce": hex(p.nonce), "blockNumber": None, "blockHash": None}
            try:
                return render(t.get_transaction_by_hash(h))
            except Exception:
                return None
        if method == "eth_getTransactionReceipt":
            try:
                r = t.get_transaction_receipt(params[0])
            except Exception:
                return None
            if r is None or r.get("block_number") is None:
                return None
            out = render(r)
            out.setdefault("effectiveGasPrice", out.get("gasPrice") or hex(self._base_fee()))
            return out
        if method == "eth_getLogs":
            return []
        raise RpcError(method, -32601, f"the method {method} does not exist/is not available")

    def _base_fee(self) -> int:
        return self._head()[1]

    def head(self) -> int:
        return self._head()[0]

    def _new_head(self) -> None:
        """The head moved (a block, a reorg): every read kept for the old one is stale."""
        self._head_cache = None
        self._reads.clear()

    def _head(self) -> tuple[int, int]:
        """The head's height and base fee, read once per block (eth-tester renders the whole block to say them)."""
        if self._head_cache is None:
            header = self.lab.tester.backend.chain.get_canonical_head()
            self._head_cache = (int(header.block_number), int(header.base_fee_per_gas))
        return self._head_cache

    def _call(self, method: str, params: list[Any]) -> Any:
        """``eth_call`` / ``eth_estimateGas``: the call run by py-evm on the block's state (in a snapshot, reverted), or
        its result from :data:`_MEMO` when py-evm already ran the same call on the same state (see there)."""
        from eth.vm.spoof import SpoofTransaction

        backend = self.lab.tester.backend
        tx = _tx_in(dict(params[0]))
        tx.setdefault("gas", 15_000_000)
        block = _block_id(params[1] if len(params) > 1 else "latest")
        overrides = params[2] if len(params) > 2 and params[2] else {}
        if block == "latest":
            header = backend.chain.get_canonical_head()
        else:
            header = backend.chain.get_canonical_block_header_by_number(block)
        vm = backend.chain.get_vm(at_header=header)
        state = vm.state
        norm = backend._normalize_transaction(_tx_norm(tx), "latest")
        spoof = SpoofTransaction(backend._create_type_aware_unsigned_transaction(norm),
                                 from_=to_canonical_address(tx["from"]))  # fmt: skip
        key = (int(backend.chain.chain_id), bytes(header.state_root), spoof.sender, repr(sorted(norm.items())),
               json.dumps(overrides, sort_keys=True))  # fmt: skip
        charge = spoof.gas * state.get_gas_price(spoof)
        ran = _MEMO.get(key)
        if ran is not None and ran.charge in (None, charge):
            spoof.validate()  # what the node checks before it runs a call (the sender's funds, fees): at this block
            state.validate_transaction(spoof)
        else:
            ran = self._run_call(state, spoof, overrides, charge)
            if ran.block_free:
                if len(_MEMO) >= MEMO_SIZE:
                    _MEMO.clear()
                _MEMO[key] = ran
        if ran.is_error:
            raise RpcError(method, 3, "execution reverted", "0x" + ran.output.hex())
        if method == "eth_estimateGas":
            return hex(ran.gas_used * 13 // 10 + 30_000)
        return "0x" + ran.output.hex()

    @staticmethod
    def _run_call(state: Any, spoof: Any, overrides: dict[str, Any], charge: int) -> Ran:
        state.computation_class = _watched(type(state).computation_class)
        snap = state.snapshot()
        _SEEN.clear()
        try:
            for address, o in overrides.items():
                for slot, value in (o.get("stateDiff") or {}).items():
                    state.set_storage(to_canonical_address(address), int(slot, 16), int(value, 16))
            computation = state.apply_transaction(spoof)
        finally:
            state.revert(snap)
        output = bytes(computation.output or b"") if computation.is_error else bytes(computation.output)
        return Ran(output, computation.get_gas_used(), bool(computation.is_error), "block" not in _SEEN,
                   charge if "balance" in _SEEN else None)  # fmt: skip

    def _send(self, raw_hex: str) -> str:
        from eth_account.typed_transactions.typed_transaction import TypedTransaction

        raw = bytes.fromhex(raw_hex[2:])
        decoded = Account.recover_transaction(raw_hex)

        typed = TypedTransaction.from_bytes(HexBytes(raw))
        d = typed.as_dict()
        tx_hash = "0x" + keccak(raw).hex()
        nonce, max_fee = int(d["nonce"]), int(d.get("maxFeePerGas", d.get("gasPrice", 0)))
        tip = int(d.get("maxPriorityFeePerGas", d.get("gasPrice", 0)))
        prior = self.mempool.at(decoded, nonce)
        if prior is not None and tx_hash != prior.tx_hash and self.faults.hit(Fault.REPLACE_RACE):
            self._race(prior)  # the original is mined as the replacement travels: it arrives too late
        known = self.nonce_of(decoded)
        if nonce < known:
            raise RpcError("eth_sendRawTransaction", -32000, "nonce too low")
        if tx_hash in self.mempool.txs or (tx_hash in self.mined and tx_hash not in self.lost):
            raise RpcError("eth_sendRawTransaction", -32000, "already known")
        prior = self.mempool.at(decoded, nonce)
        if prior is not None and underpriced(max_fee, tip, prior):
            raise RpcError("eth_sendRawTransaction", -32000, "replacement transaction underpriced")
        self.lost.discard(tx_hash)
        p = Pending(tx_hash, decoded, nonce, raw, max_fee, tip=tip)
        if prior is not None:  # a replacement: the one it replaces leaves the mempool; it waits on no stuck draw
            self.log(f"{self.tag}: tx {tx_hash[:10]} (nonce {nonce}) replaces {prior.tx_hash[:10]} (max fee "
                     f"{prior.max_fee} → {max_fee})")  # fmt: skip
            self.dropped.discard(prior.tx_hash)
            self.replaced += 1
        elif self.faults.hit(Fault.TX_STUCK):
            p.stuck_until = self.clock.seconds() + self.faults.rng.uniform(5, 40)
            self.log(f"{self.tag}: tx {tx_hash[:10]} (nonce {nonce}) stuck in the mempool")
        if prior is None and self.faults.hit(Fault.TX_UNDERPRICED):
            p.stuck_until = max(p.stuck_until, self.clock.seconds() + self.faults.replace_rng.uniform(30, 120))
            self.log(f"{self.tag}: tx {tx_hash[:10]} (nonce {nonce}) underpriced: not mined until bumped")
        self.mempool.add(p)
        self.sent.append((tx_hash, nonce))
        if self.faults.hit(Fault.TX_DROPPED):
            self.log(f"{self.tag}: tx {tx_hash[:10]} (nonce {nonce}) will be dropped from the mempool")
            self.dropped.add(tx_hash)
        if self.faults.hit(Fault.TX_REPLY_LOST):
            self.log(f"{self.tag}: eth_sendRawTransaction {tx_hash[:10]} reached the node; its reply timed out")
            raise Ambiguous(
                f"{self.lab.location}: eth_sendRawTransaction got no answer (timeout); the outcome is unknown"
            )
        return tx_hash

    def _race(self, prior: Pending) -> None:
        """``replace_race``: the pending transaction is mined now, if nothing before it waits (its nonce is next)."""
        if prior.nonce != self.nonce_of(prior.sender):
            return
        prior.stuck_until = 0.0
        self.log(f"{self.tag}: tx {prior.tx_hash[:10]} mined just before its replacement arrives")
        self.mine()

    # --- the miner ----------------------------------------------------------------------------------

    def busy(self) -> bool:
        """Whether the next slot has work: a transaction to include (not stuck, at its sender's next nonce; one queued
        behind a gap waits for it) or to drop, or a reorg due."""
        now = self.clock.seconds()
        return (self._reorg_snapshot is not None or bool(self.dropped) or self._follow
                or any(p.stuck_until <= now and p.nonce == self.nonce_of(p.sender)
                       for p in self.mempool.txs.values()))  # fmt: skip

    def mine(self) -> None:
        """One block at the virtual clock: the mempool's transactions in nonce order (dropped ones vanish; stuck
        ones wait); maybe a reorg of the block before it first."""
        t = self.lab.tester
        now = self.clock.seconds()
        if self._reorg_snapshot is not None:
            snap, txs, lose = self._reorg_snapshot, self._reorg_txs, self._reorg_lost
            self._reorg_snapshot, self._reorg_txs, self._reorg_lost = None, (), False
            t.revert_to_snapshot(snap)
            self._new_head()
            t._pending_transactions.clear()
            self.lab.reorgs += 1
            t.backend.reorgs = self.lab.reorgs
            trader = self.lab.trader.lower()
            gone = [p for p in txs if lose and p.sender.lower() == trader]  # others' come back (their own story)
            for p in txs:
                if p in gone:
                    self.lost.add(p.tx_hash)
                else:
                    self.mempool.add(p)
            if gone:
                self.log(f"{self.tag}: REORG: the last block un-mined; {len(gone)} tx(s) of ours LOST, "
                         f"{len(txs) - len(gone)} back in the mempool")  # fmt: skip
            else:
                self.log(f"{self.tag}: REORG: the last block un-mined; {len(txs)} tx(s) back in the mempool")
        for h in sorted(self.dropped & set(self.mempool.txs)):
            del self.mempool.txs[h]
            self.log(f"{self.tag}: tx {h[:10]} dropped from the mempool")
        self.dropped.clear()
        head_nonce: dict[str, int] = {}
        ready = sorted(
            (p for p in self.mempool.txs.values() if p.stuck_until <= now), key=lambda p: (p.sender, p.nonce)
        )
        included: list[Pending] = []
        blocks_before = t.take_snapshot()
        lose_last = self.faults.on(Fault.REORG_LOST)
        last_before = blocks_before
        for p in ready:  # one transaction a block (eth-tester checks a nonce against the last block's state)
            expected = head_nonce.setdefault(p.sender, int(t.get_nonce(p.sender, "latest")))
            if p.nonce != expected:
                continue  # a gap: it waits for the nonce before it
            if lose_last and included:
                last_before = t.take_snapshot()
            del self.mempool.txs[p.tx_hash]
            self._pin()
            try:  # straight into the pending block (eth-tester's own send runs it once more to vet it, then
                # reverts by importing the head block again: ~3 executions a transaction instead of 1)
                t.backend.send_raw_transaction(p.raw)
            except Exception as exc:  # invalid at inclusion (fees, gas): the node throws it out
                self.log(f"{self.tag}: tx {p.tx_hash[:10]} thrown out: {type(exc).__name__}: {exc}")
                continue
            self._mine_pinned()
            self.mined[p.tx_hash] = self.head()
            _TX_INDEX[bytes.fromhex(p.tx_hash[2:])] = self.mined[p.tx_hash]
            head_nonce[p.sender] = expected + 1
            included.append(p)
        if not included:
            self._mine_one()
        self._follow = bool(included) and lose_last  # a world that follows 2 confirmations: the next block at the
        # next slot, not after IDLE_BLOCK_S (the tracker polls all the while: 3× the polls of the chain sample)
        if included and self.faults.hit(Fault.REORG):
            self._reorg_snapshot, self._reorg_txs = blocks_before, tuple(included)
        elif included and lose_last and self.faults.hit(Fault.REORG_LOST):  # the last block only: one block deep
            self._reorg_snapshot, self._reorg_txs, self._reorg_lost = last_before, (included[-1],), True
        for hook in self.on_block:
            hook()

    def _mine_one(self) -> None:
        """A block at the virtual clock (or a second after its parent)."""
        self._pin()
        self._mine_pinned()

    def _pin(self) -> None:
        """The pending block's timestamp: the virtual clock, or a second after its parent. Pinned before a transaction
        runs in it (it runs at that time), and again before every block: eth-tester rebuilds the pending header on
        the wall clock whenever it reverts (a reorg)."""
        backend = self.lab.tester.backend
        parent_ts = int(backend.chain.get_canonical_head().timestamp)
        backend.pin_next(max(parent_ts + 1, EPOCH_NS // 10**9 + int(self.clock.seconds())))

    def _mine_pinned(self) -> None:
        """Mine the pending block as pinned (the backend's own miner: eth-tester's renders the block to feed filters
        the world has none of)."""
        self.lab.tester.backend.mine_blocks(1)
        self._new_head()

    def nonce(self) -> int:
        return self.nonce_of(self.lab.trader)

    def nonce_of(self, address: str) -> int:
        """``address``'s nonce at the head (read once per block)."""
        key = "nonce:" + address.lower()
        if key not in self._reads:
            self._reads[key] = int(self.lab.tester.get_nonce(address, "latest"))
        n: int = self._reads[key]
        return n

    def ours_on_chain(self) -> list[dict[str, Any]]:
        """The trader's transactions in the canonical blocks since the scenario began (reorged ones are gone)."""
        t = self.lab.tester
        out = []
        head = int(t.get_block_by_number("latest")["number"])
        for n in range(self.start_block + 1, head + 1):
            for tx in t.get_block_by_number(n, True)["transactions"]:
                if str(tx["from"]).lower() == self.lab.trader.lower():
                    out.append({"hash": str(tx["hash"]), "nonce": int(tx["nonce"]), "to": tx.get("to")})
        return out

    def balances(self) -> dict[str, int]:
        """What the trader holds on chain, per symbol (the invariants' evidence)."""
        from fillpath.chains.abi import fn

        t = self.lab.tester
        out = {"ETH": int(t.get_balance(self.lab.trader, "latest"))}
        data = "0x" + fn("ERC20", "balanceOf").encode(self.lab.trader).hex()
        for tok in self.lab.source.tokens:
            raw = self._call("eth_call", [{"to": tok.address, "data": data}, "latest"])
            out[tok.symbol] = int(raw, 16)
        return out


def _tx_norm(tx: dict[str, Any]) -> dict[str, Any]:
    """A call's fields as eth-tester's backend takes them (canonical addresses, bytes)."""
    out: dict[str, Any] = {"from": to_canonical_address(tx["from"]), "value": int(tx.get("value", 0)),
                           "gas": int(tx["gas"]), "data": bytes.fromhex(str(tx.get("data") or "0x")[2:])}  # fmt: skip
    out["to"] = to_canonical_address(tx["to"]) if tx.get("to") else b""
    return out
