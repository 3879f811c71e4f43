"""The direct EIP-1559 signer against eth-account, the reference: the same raw bytes, hash and signature for any
plain type-2 transaction; anything else is left to eth-account (and its refusals stay its refusals)."""

from __future__ import annotations

import re
from typing import Any

import pytest
import rlp  # type: ignore[import-untyped]
from coincurve import PrivateKey
from eth_account import Account
from eth_utils.address import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from fillpath.chains.accounts import Signer
from fillpath.chains.eip1559 import Signed1559, _rlp, sign_1559
from fillpath.chains.fees import Fees

UINT256 = st.integers(0, 2**256 - 1)
SMALL = st.integers(0, 2**64 - 1)
KEYS = st.binary(min_size=32, max_size=32).filter(lambda k: 0 < int.from_bytes(k, "big") < 2**256 - 2**128)


def _tx(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"type": 2, "chainId": 31337, "nonce": 7, "to": to_checksum_address("0x" + "ab" * 20),
                            "data": b"\x12\x34", "value": 0, "gas": 21_000, "maxFeePerGas": 3 * 10**9,
                            "maxPriorityFeePerGas": 10**6}  # fmt: skip
    return {**base, **kw}


@settings(max_examples=300, deadline=None)
@given(
    key=KEYS,
    chain_id=st.one_of(st.integers(1, 2**32), UINT256.filter(lambda x: x > 0)),
    nonce=SMALL,
    tip=UINT256,
    cap=UINT256,
    gas=st.one_of(st.integers(21_000, 30_000_000), UINT256),
    to=st.binary(min_size=20, max_size=20),
    value=st.one_of(st.just(0), UINT256),
    data=st.binary(max_size=2_000),
)
def test_identical_to_eth_account(
    key: bytes, chain_id: int, nonce: int, tip: int, cap: int, gas: int, to: bytes, value: int, data: bytes
) -> None:
    tx = {"type": 2, "chainId": chain_id, "nonce": nonce, "to": to_checksum_address(to), "data": data,
          "value": value, "gas": gas, "maxFeePerGas": cap, "maxPriorityFeePerGas": tip}  # fmt: skip
    ours = sign_1559(PrivateKey(key), tx)
    ref = Account.from_key(key).sign_transaction(dict(tx))
    assert ours is not None
    assert ours.raw_transaction == bytes(ref.raw_transaction)
    assert ours.hash == bytes(ref.hash)
    assert (ours.r, ours.s, ours.v) == (ref.r, ref.s, ref.v)
    assert Account.recover_transaction(ours.raw_transaction) == Account.from_key(key).address


@pytest.mark.parametrize(
    "tx",
    [
        _tx(type=None),  # untyped: eth-account decides (legacy, or 1559 from the fee fields)
        {k: v for k, v in _tx().items() if k != "type"},
        _tx(accessList=[]),
        _tx(nonce=True),
        _tx(nonce=-1),
        _tx(value=2**256),
        _tx(gas="0x5208"),
        _tx(data="0x1234"),
        _tx(data=bytearray(b"\x12")),
        _tx(to="0x" + "ab" * 20),  # not the checksum form
        _tx(to=to_checksum_address("0x" + "ab" * 20).lower().replace("0x", "0X")),
        _tx(to="0x" + "ab" * 19),
        _tx(to=b"\xab" * 20),
        {k: v for k, v in _tx().items() if k != "gas"},
    ],
)
def test_other_shapes_are_left_to_eth_account(tx: dict[str, Any]) -> None:
    assert sign_1559(PrivateKey(b"\x01" * 32), tx) is None


@pytest.mark.parametrize(
    "tx",
    [_tx(to="0x" + "ab" * 20), _tx(nonce=-1), _tx(gas="x"), _tx(accessList=[{"address": "nope", "storageKeys": []}])],
)
def test_the_signer_keeps_eth_account_refusals(tx: dict[str, Any]) -> None:
    account = Account.from_key(b"\x01" * 32)
    try:
        account.sign_transaction(dict(tx))
    except Exception as exc:  # whatever eth-account raises is the reference
        refusal = exc
    else:
        pytest.fail("eth-account signed it")
    with pytest.raises(type(refusal), match=re.escape(str(refusal)[:40])):
        Signer(account).sign_transaction(tx)


def test_the_signer_signs_1559_directly_and_legacy_through_eth_account() -> None:
    account = Account.from_key(b"\x02" * 32)
    signer = Signer(account)
    direct = signer.sign_transaction(_tx())
    assert isinstance(direct, Signed1559)
    assert direct.raw_transaction == bytes(account.sign_transaction(_tx()).raw_transaction)
    legacy = {k: v for k, v in _tx().items() if k not in ("type", "maxFeePerGas", "maxPriorityFeePerGas")}
    legacy.update(Fees(gas_price=10**9, max_fee_per_gas=None, max_priority_fee_per_gas=None).as_tx_fields())
    signed = signer.sign_transaction(legacy)
    assert not isinstance(signed, Signed1559)
    assert bytes(signed.raw_transaction) == bytes(account.sign_transaction(legacy).raw_transaction)
    assert bytes(signed.raw_transaction)[0] >= 0xC0  # an RLP list: a legacy transaction, not typed


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(UINT256, st.binary(max_size=70), st.just([])), max_size=14))
def test_rlp_matches_the_rlp_package(items: list[Any]) -> None:
    assert _rlp(items) == rlp.encode(items)
