"""The light lab deployed on an in-process py-evm chain (eth-tester), cached on disk.

Deploying the light lab in py-evm costs ~14 s of CPU (every contract and pool seeding runs in a Python EVM); the
key-value store it leaves is ~0.9 MB and loads in ~10 ms. Every pytest worker, the plugin's ``eth_tester_chain`` and
the suite's ``tester`` fixture used to pay the deploy once each. The cache sits beside the anvil lab's (same
directory, ``FILLPATH_LAB_CACHE``), keyed by everything that shapes the state: the deploy code, the specs, the
artifacts and the eth-tester / py-evm versions. It is JSON, not pickle: a cache file is data, never code.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fillpath.lab.chains import artifacts
from fillpath.lab.chains.deployment import LabDeployment
from fillpath.lab.chains.spec import ChainSpec, spec_fingerprint

if TYPE_CHECKING:
    from collections.abc import Iterator

    from web3 import Web3

FORMAT = 1


@dataclass(frozen=True)
class TesterLab:
    """An eth-tester chain with the lab deployed on it; ``loaded`` says whether the state came from the cache."""

    w3: Web3
    tester: Any
    deployment: LabDeployment
    loaded: bool


def cache_key(spec: ChainSpec) -> str:
    h = hashlib.sha256()
    here = Path(__file__).parent
    for f in (here / "deploy.py", here / "spec.py", Path(__file__)):
        h.update(f.read_bytes())
    h.update(artifacts.fingerprint().encode())
    h.update(spec_fingerprint((spec,)).encode())
    for dist in ("eth-tester", "py-evm"):
        h.update(f"{dist}={metadata.version(dist)}".encode())
    h.update(f"format={FORMAT}".encode())
    return h.hexdigest()[:20]


def start(spec: ChainSpec, cache_dir: Path | None) -> TesterLab:
    """``spec`` deployed on a fresh eth-tester chain: loaded from ``cache_dir`` when a state for it is there, else
    deployed and stored (one process deploys while the others wait on a file lock). ``cache_dir=None`` deploys."""
    if cache_dir is None:
        return _deploy(spec)
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"tester-{spec.location}-{cache_key(spec)}.json"
    with _locked(cache_dir / f"tester-{spec.location}.lock"):
        stored = _read(path)
        if stored is not None:
            return _load(*stored)
        lab = _deploy(spec)
        _write(path, lab)
        return lab


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _fresh() -> tuple[Web3, Any]:
    from web3 import Web3
    from web3.providers.eth_tester import EthereumTesterProvider

    provider = EthereumTesterProvider()
    return Web3(provider), provider.ethereum_tester


def _deploy(spec: ChainSpec) -> TesterLab:
    from fillpath.lab.chains.deploy import deploy_lab

    w3, tester = _fresh()
    return TesterLab(w3, tester, deploy_lab(w3, spec), loaded=False)


def _store_of(tester: Any) -> dict[bytes, bytes]:
    store: dict[bytes, bytes] = tester.backend.chain.chaindb.db.wrapped_db.kv_store
    return store


def _write(path: Path, lab: TesterLab) -> None:
    head = lab.w3.eth.get_block("latest")
    record = {
        "format": FORMAT,
        "head": {"number": int(head["number"]), "hash": bytes(head["hash"]).hex()},
        "deployment": lab.deployment.to_json(),
        "store": {k.hex(): v.hex() for k, v in _store_of(lab.tester).items()},
    }
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record))
    os.replace(tmp, path)


def _read(path: Path) -> tuple[dict[bytes, bytes], LabDeployment, int, bytes] | None:
    """The stored state, or None when there is none or it is unreadable (then it is deployed again)."""
    try:
        record = json.loads(path.read_text())
        if record.get("format") != FORMAT:
            return None
        store = {bytes.fromhex(k): bytes.fromhex(v) for k, v in record["store"].items()}
        head = record["head"]
        return store, LabDeployment.from_json(record["deployment"]), int(head["number"]), bytes.fromhex(head["hash"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _load(store: dict[bytes, bytes], deployment: LabDeployment, number: int, head_hash: bytes) -> TesterLab:
    w3, tester = _fresh()
    restore(tester, store, number, head_hash)
    # A block now, so that "latest" carries the current time as after a deploy (deadlines are read from it).
    tester.mine_blocks(1)
    return TesterLab(w3, tester, deployment, loaded=True)


# --- for other deployed eth-tester chains (the chaos world's: ``lab/chaos/chain.py``) --------------------------------

locked = _locked
"""An exclusive file lock (one process deploys while the others wait)."""


def write(path: Path, w3: Web3, tester: Any, deployment: LabDeployment) -> None:
    """``tester``'s whole key-value store, its head and ``deployment``, as JSON at ``path`` (atomically)."""
    _write(path, TesterLab(w3, tester, deployment, loaded=False))


def read(path: Path) -> tuple[dict[bytes, bytes], LabDeployment, int, bytes] | None:
    """(store, deployment, head number, head hash) written by :func:`write`, or None (absent, unreadable, old)."""
    return _read(path)


def restore(tester: Any, store: dict[bytes, bytes], number: int, head_hash: bytes) -> None:
    """``store`` into the database of ``tester`` (a fresh chain of the same genesis), its chain rebuilt on it; the
    canonical head must then be ``number``/``head_hash``. The pending block is built on it with the current time."""
    backend = tester.backend
    _store_of(tester).update(store)
    backend.chain = type(backend.chain)(backend.chain.chaindb.db)
    head = backend.chain.get_canonical_head()
    if int(head.block_number) != number or bytes(head.hash) != head_hash:
        raise RuntimeError(f"the cached eth-tester state loaded at block {head.block_number}, not {number}")
