"""Signers. A private key comes only from an encrypted V3 keystore or an environment variable, lives only
inside a ``Signer``, and never appears in a repr, a log, an exception or the database.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coincurve import PrivateKey
from eth_utils.address import to_checksum_address

from fillpath.chains.eip1559 import Signed1559, sign_1559
from fillpath.model.errors import InvalidInput

if TYPE_CHECKING:
    from eth_account import Account
    from eth_account.datastructures import SignedTransaction
    from eth_account.signers.local import LocalAccount

KEYSTORE_KDF_ITERATIONS = 2**18  # scrypt N: the Geth default; ~0.7 s to unlock here, on purpose
# eth-account is imported where a key is made, unlocked or used (``_account()``): loading it costs more than a
# second (its keyfile module builds BLS12-381 tables at import), which commands that sign nothing never pay.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HEX_KEY = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")


class Signer:
    """Signs transactions for one address. Holds the key; shows only the address.

    A plain EIP-1559 transaction is signed directly with coincurve (:mod:`fillpath.chains.eip1559`, ~10x faster,
    byte-identical); anything else goes through eth-account.
    """

    __slots__ = ("__account", "__key", "address")

    def __init__(self, account: LocalAccount) -> None:
        self.__account = account
        self.__key = PrivateKey(bytes(account.key))
        self.address: str = account.address

    def sign_transaction(self, tx: Mapping[str, Any]) -> SignedTransaction | Signed1559:
        return sign_1559(self.__key, tx) or self.__account.sign_transaction(dict(tx))

    def __repr__(self) -> str:
        return f"Signer({self.address})"

    __str__ = __repr__

    def __reduce__(self) -> Any:  # never pickled, so never copied out of the process
        raise TypeError("a Signer cannot be serialized")


def _account() -> type[Account]:
    """eth-account's ``Account``, imported now."""
    from eth_account import Account

    return Account


def signing_backend() -> str:
    """The secp256k1 backend eth-keys uses (coincurve when installed: ~10x faster signing)."""
    from eth_keys.backends import get_backend

    return type(get_backend()).__name__


def _key_bytes(text: str, *, field: str) -> bytes:
    text = text.strip()
    if not _HEX_KEY.match(text):
        # the message must not echo the value: it may be a real key with a typo
        raise InvalidInput(field, "is not a 32-byte hex private key", "give 64 hex digits, with or without 0x")
    return bytes.fromhex(text.removeprefix("0x"))


def signer_from_env(var: str) -> Signer:
    value = os.environ.get(var)
    if not value:
        raise InvalidInput(f"${var}", "is not set", f"export {var} with the account's private key")
    return Signer(_account().from_key(_key_bytes(value, field=f"${var}")))


def signer_from_keystore(path: Path, passphrase: str) -> Signer:
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise InvalidInput(str(path), f"cannot read the keystore: {exc.strerror}", "check the keystore path") from None
    except ValueError:
        raise InvalidInput(str(path), "is not a JSON keystore (damaged?)", "give a V3 keystore file") from None
    if not isinstance(data, dict) or not isinstance(data.get("crypto") or data.get("Crypto"), dict):
        raise InvalidInput(str(path), "is not a V3 keystore (damaged?)", "give a V3 keystore file")
    try:
        key = _account().decrypt(data, passphrase)
    except ValueError:
        raise InvalidInput(str(path), "the passphrase does not unlock this keystore", "check the passphrase") from None
    except (KeyError, TypeError):
        raise InvalidInput(str(path), "is not a V3 keystore (damaged?)", "give a V3 keystore file") from None
    return Signer(_account().from_key(key))


@dataclass(frozen=True, slots=True)
class KeystoreEntry:
    name: str
    address: str
    path: Path


class Keystore:
    """Encrypted V3 keystores in one directory, one file per named account, mode 0600."""

    def __init__(self, directory: Path, *, kdf_iterations: int = KEYSTORE_KDF_ITERATIONS) -> None:
        self.dir = directory
        self.kdf_iterations = kdf_iterations

    def path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise InvalidInput("name", f"{name!r} is not a valid account name", "use letters, digits, '.', '_', '-'")
        return self.dir / f"{name}.json"

    def create(self, name: str, passphrase: str) -> KeystoreEntry:
        return self._write(name, _account().create().key, passphrase)

    def import_key(self, name: str, private_key: str, passphrase: str) -> KeystoreEntry:
        return self._write(name, _key_bytes(private_key, field="private key"), passphrase)

    def _write(self, name: str, key: bytes, passphrase: str) -> KeystoreEntry:
        if len(passphrase) < 8:
            raise InvalidInput("passphrase", "is shorter than 8 characters", "choose a longer passphrase")
        path = self.path(name)
        if path.exists():
            raise InvalidInput("name", f"an account named {name!r} already exists", "choose another name")
        data = _account().encrypt(key, passphrase, kdf="scrypt", iterations=self.kdf_iterations)
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
        os.replace(tmp, path)
        return KeystoreEntry(name, to_checksum_address("0x" + str(data["address"]).removeprefix("0x")), path)

    def list(self) -> list[KeystoreEntry]:
        out = []
        for p in sorted(self.dir.glob("*.json")) if self.dir.is_dir() else []:
            try:
                address = str(json.loads(p.read_text())["address"])
            except (OSError, ValueError, KeyError):
                continue
            out.append(KeystoreEntry(p.stem, to_checksum_address("0x" + address.removeprefix("0x")), p))
        return out

    def unlock(self, name: str, passphrase: str) -> Signer:
        return signer_from_keystore(self.path(name), passphrase)
