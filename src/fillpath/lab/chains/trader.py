"""The lab's trading account: one random key per lab data directory, in a V3 keystore beside the lab's state.

The execution engine signs with it exactly as it signs with a user's key (``Keystore`` + ``Signer``), so the lab
exercises the same unlock path. The passphrase is random and kept in a file of mode 0600 beside the keystore, as
labex's credentials are: a command must never prompt, and the key opens only local test chains.

Scrypt N is 2**14 here, not the 2**18 of user keystores: every command that signs on the lab unlocks the key, and
2**18 costs ~0.9 s per unlock on this machine against ~0.05 s for 2**14. The slow default protects a real key
against an offline guess; a lab key guards nothing worth that wait.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from eth_utils.address import to_checksum_address

from fillpath.chains.accounts import Keystore, Signer
from fillpath.model.errors import DamagedState, LabError, LabNotRunning
from fillpath.paths import ensure_private_dir

NAME = "trader"
PASSPHRASE_FILE = "trader.passphrase"
LAB_KDF_ITERATIONS = 2**14


def keystore_path(lab_dir: Path) -> Path:
    return lab_dir / f"{NAME}.json"


def passphrase_path(lab_dir: Path) -> Path:
    return lab_dir / PASSPHRASE_FILE


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to a new file of mode 0600 (created so, never widened afterwards), atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def trader_address(lab_dir: Path) -> str | None:
    """The trader's address from its keystore (no decryption), or None before the first ``lab up``.

    A keystore that is there but unreadable is ``DamagedState`` naming it: read as "no trader yet", it once sent
    the user in a circle (``swap``: start the lab; ``lab up``: the account already exists)."""
    path = keystore_path(lab_dir)
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise _damaged(path, f"cannot be read ({exc})") from None
    try:
        raw = json.loads(text)["address"]
        return to_checksum_address("0x" + str(raw).removeprefix("0x"))
    except (ValueError, KeyError, TypeError):
        raise _damaged(path, "is damaged: not a V3 keystore with an address") from None


def _damaged(path: Path, problem: str) -> DamagedState:
    return DamagedState(
        str(path),
        f"the lab trader's keystore {problem}",
        f"restore it from a copy; or move it aside (mv {path} {path}.damaged) and run `fillpath lab up` to make a "
        "new trader (what the old address holds on the lab chains stays there)",
    )


def ensure_trader(lab_dir: Path) -> str:
    """Create the trader once per lab directory (the caller holds the lab's lock); return its address.

    The passphrase is written before the keystore, so an interruption leaves at worst a passphrase without a key,
    which the next call completes.
    """
    address = trader_address(lab_dir)
    pw_path = passphrase_path(lab_dir)
    if address is not None:
        if not pw_path.is_file():
            raise LabError(
                f"{pw_path} is missing, so the lab trader in {keystore_path(lab_dir)} cannot be unlocked; "
                "remove the keystore to make a new trader"
            )
        return address
    ensure_private_dir(lab_dir)
    if not pw_path.is_file():
        _write_private(pw_path, secrets.token_urlsafe(32))
    entry = Keystore(lab_dir, kdf_iterations=LAB_KDF_ITERATIONS).create(NAME, pw_path.read_text())
    return entry.address


def trader_signer(lab_dir: Path) -> Signer:
    """Unlock the trader's keystore with its stored passphrase (~0.05 s)."""
    if trader_address(lab_dir) is None:
        raise LabNotRunning(f"no lab trader in {lab_dir}; start the lab with `fillpath lab up`")
    try:
        passphrase = passphrase_path(lab_dir).read_text()
    except OSError as exc:
        raise LabError(f"cannot read the lab trader's passphrase: {exc.strerror}") from None
    return Keystore(lab_dir).unlock(NAME, passphrase)
