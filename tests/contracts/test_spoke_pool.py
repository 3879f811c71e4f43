"""LabSpokePool across the two anvil lab chains, driven only through ``fillpath.lab.contracts.spoke_pool``:
a deposit on lab1 filled by a relayer on lab2 and repaid on lab1; a deposit left unfilled and refunded by anyone
after its window; and the Python ABI held equal to the forge artifact."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3

from fillpath.chains.executor import revert_data
from fillpath.lab.contracts import spoke_pool as sp
from tests.conftest import Chain
from tests.contracts.forge import GAS, artifact, deploy, send, signatures

QUOTE_BUFFER, DEADLINE_BUFFER, WINDOW = 3600, 6 * 3600, 24  # the lab mines a block every 12 s


def test_the_python_abi_is_the_contracts() -> None:
    assert {f.signature for f in sp.FUNCTIONS} <= signatures("LabSpokePool", "function")
    assert {e.signature for e in sp.EVENTS} == signatures("LabSpokePool", "event")
    assert {e.signature for e in sp.ERRORS} == signatures("LabSpokePool", "error")
    constructor = next(i for i in artifact("LabSpokePool")[0] if i["type"] == "constructor")
    assert tuple(p["type"] for p in constructor["inputs"]) == sp.CONSTRUCTOR


def _tx(chain: Chain, sender: str, to: str, data: bytes) -> Any:
    tx = chain.w3.eth.send_transaction({"from": sender, "to": to, "data": data, "gas": GAS})  # type: ignore[typeddict-item]
    return chain.w3.eth.wait_for_transaction_receipt(tx)


def _reverts(chain: Chain, sender: str, to: str, data: bytes) -> sp.ContractError | None:
    try:
        chain.w3.eth.call({"from": sender, "to": to, "data": data})  # type: ignore[typeddict-item]
    except Exception as exc:
        data = revert_data(exc)
        if data is None:
            raise
        return sp.decode_revert(data)
    return None


def _now(chain: Chain) -> int:
    return int(chain.w3.eth.get_block("latest")["timestamp"])


def _mine(chain: Chain, blocks: int) -> None:
    for _ in range(blocks):
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


@pytest.fixture
def bridge(lab1: Chain, lab2: Chain) -> tuple[Any, Any, str, str]:
    """Spoke pools on lab1 and lab2 (admin = dev, settler = account 2), USDC routed lab1 → lab2, and a relayer
    (account 1) holding USDC on lab2 approved to its pool. Returns (origin, destination, relayer, settler)."""
    relayer, settler = lab1.w3.eth.accounts[1], lab1.w3.eth.accounts[2]
    args = (lab1.dev, settler, QUOTE_BUFFER, DEADLINE_BUFFER, WINDOW)
    origin = deploy(lab1.w3, lab1.dev, "LabSpokePool", *args)
    dest = deploy(lab2.w3, lab2.dev, "LabSpokePool", *args)
    usdc1, usdc2 = lab1.contract("USDC"), lab2.contract("USDC")
    assert _tx(lab1, lab1.dev, origin.address, sp.enable_route_calldata(usdc1.address, lab2.w3.eth.chain_id))["status"]
    send(lab1.w3, usdc1.functions.approve(origin.address, 10**30), lab1.dev)
    send(lab2.w3, usdc2.functions.transfer(relayer, 1_000_000 * 10**6), lab2.dev)
    send(lab2.w3, usdc2.functions.approve(dest.address, 10**30), relayer)
    return origin, dest, relayer, settler


def _deposit(lab1: Chain, lab2: Chain, origin: Any, amount: int, deadline_in: int) -> sp.Deposited:
    now = _now(lab1)
    deposit = sp.Deposit(
        depositor=Web3.to_checksum_address(lab1.dev),
        recipient=Web3.to_checksum_address(lab1.w3.eth.accounts[3]),
        input_token=Web3.to_checksum_address(lab1.contract("USDC").address),
        output_token=Web3.to_checksum_address(lab2.contract("USDC").address),
        input_amount=amount,
        output_amount=amount - amount // 2000,
        destination_chain_id=lab2.w3.eth.chain_id,
        quote_timestamp=now,
        fill_deadline=now + deadline_in,
        message=b"\x01\x02",
    )
    receipt = _tx(lab1, lab1.dev, origin.address, deposit.calldata())
    assert receipt["status"] == 1
    events = [e for e in (sp.decode_log(log, lab1.w3.eth.chain_id) for log in receipt["logs"]) if e]
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, sp.Deposited)
    assert event.relay.input_amount == amount
    assert event.relay.output_amount == deposit.output_amount
    assert event.relay.message == b"\x01\x02"
    return event


def test_deposit_fill_repay(lab1: Chain, lab2: Chain, bridge: tuple[Any, Any, str, str]) -> None:
    origin, dest, relayer, settler = bridge
    dest_chain = lab2.w3.eth.chain_id
    usdc1, usdc2 = lab1.contract("USDC"), lab2.contract("USDC")
    deposited = _deposit(lab1, lab2, origin, 25_000 * 10**6, 600)
    relay = deposited.relay
    record = sp.decode_deposit_record(lab1.w3.eth.call({"to": origin.address, "data": sp.deposits_calldata(0)}))
    assert record.status is sp.DepositStatus.PENDING
    assert record.relay_hash == relay.relay_hash(dest_chain)  # Python's hash is the contract's

    recipient_before = usdc2.functions.balanceOf(relay.recipient).call()
    receipt = _tx(lab2, relayer, dest.address, sp.fill_calldata(relay))
    assert receipt["status"] == 1
    (filled,) = [e for e in (sp.decode_log(log, dest_chain) for log in receipt["logs"]) if e]
    assert filled == sp.Filled(Web3.to_checksum_address(relayer), lab1.w3.eth.chain_id, relay)
    assert usdc2.functions.balanceOf(relay.recipient).call() - recipient_before == relay.output_amount
    status = lab2.w3.eth.call({"to": dest.address, "data": sp.fill_status_calldata(relay.relay_hash(dest_chain))})
    assert sp.decode_fill_status(status) is sp.FillStatus.FILLED
    again = _reverts(lab2, relayer, dest.address, sp.fill_calldata(relay))
    assert again is not None
    assert again.name == "RelayFilled"

    not_settler = _reverts(lab1, relayer, origin.address, sp.repay_calldata(0, relayer))
    assert str(not_settler) == f"NotSettler(caller='{Web3.to_checksum_address(relayer)}')"
    before = usdc1.functions.balanceOf(relayer).call()
    receipt = _tx(lab1, settler, origin.address, sp.repay_calldata(0, relayer))
    (repaid,) = [e for e in (sp.decode_log(log, lab1.w3.eth.chain_id) for log in receipt["logs"]) if e]
    assert isinstance(repaid, sp.Repaid)
    assert (repaid.relayer, repaid.input_amount, repaid.relay_hash) == (relayer, relay.input_amount, record.relay_hash)
    assert usdc1.functions.balanceOf(relayer).call() - before == relay.input_amount
    record = sp.decode_deposit_record(lab1.w3.eth.call({"to": origin.address, "data": sp.deposits_calldata(0)}))
    assert record.status is sp.DepositStatus.REPAID


def test_unfilled_deposit_is_refunded_by_anyone_after_the_window(
    lab1: Chain, lab2: Chain, bridge: tuple[Any, Any, str, str]
) -> None:
    origin, dest, relayer, _ = bridge
    usdc1 = lab1.contract("USDC")
    before = usdc1.functions.balanceOf(lab1.dev).call()
    deposited = _deposit(lab1, lab2, origin, 10**9, 24)
    stranger = lab1.w3.eth.accounts[4]
    early = _reverts(lab1, stranger, origin.address, sp.refund_calldata(deposited.deposit_id))
    assert early is not None
    assert early.name == "RefundTooEarly"
    assert early.arg("earliest") == deposited.fill_deadline + 1 + WINDOW
    _mine(lab1, 5)  # 60 s: past the deadline (24 s) and the window (24 s more)
    receipt = _tx(lab1, stranger, origin.address, sp.refund_calldata(deposited.deposit_id))
    (refunded,) = [e for e in (sp.decode_log(log, lab1.w3.eth.chain_id) for log in receipt["logs"]) if e]
    assert isinstance(refunded, sp.Refunded)
    assert (refunded.depositor, refunded.caller) == (lab1.dev, stranger)
    assert usdc1.functions.balanceOf(lab1.dev).call() == before
    # the relay can no longer be filled on the destination once the deadline has passed by the destination's own
    # clock, which is not lab1's (lab2 mines fewer blocks, so its clock is minutes behind): until then, a relayer
    # could still fill there; the settler only refunds what the destination can no longer fill
    while _now(lab2) <= deposited.fill_deadline:
        assert _reverts(lab2, relayer, dest.address, sp.fill_calldata(deposited.relay)) is None
        _mine(lab2, 10)
    late = _reverts(lab2, relayer, dest.address, sp.fill_calldata(deposited.relay))
    assert late is not None
    assert late.name == "ExpiredFillDeadline"


def test_production_knows_the_spoke_pool_by_the_artifacts_signatures() -> None:
    """``chains/across.py`` (production: no lab import) encodes and decodes by signature; the build agrees."""
    from eth_utils.crypto import keccak

    from fillpath.chains import across

    functions, events = signatures("LabSpokePool", "function"), signatures("LabSpokePool", "event")
    assert {across.DEPOSIT_V3_SIG, across.FILL_STATUSES_SIG, across.DEPOSITS_SIG} <= functions
    assert {across.FUNDS_DEPOSITED_SIG, across.FILLED_SIG, across.REFUNDED_SIG} <= events
    assert set(across.ERRORS) <= signatures("LabSpokePool", "error")
    assert "0x" + keccak(text=across.FUNDS_DEPOSITED_SIG).hex() == across.FUNDS_DEPOSITED
    relay = sp.RelayData(*([Web3.to_checksum_address("0x" + "11" * 20)] * 5), 7, 6, 31337, 3, 99, 0, b"")  # type: ignore[arg-type]
    mine = across.Relay(*relay.encoded())
    assert mine.relay_hash(31338) == relay.relay_hash(31338)


def test_the_production_decoders_read_a_real_deposit(
    lab1: Chain, lab2: Chain, bridge: tuple[Any, Any, str, str]
) -> None:
    from fillpath.chains import across

    origin, _dest, _relayer, _settler = bridge
    now = _now(lab1)
    data = across.deposit_calldata(
        depositor=lab1.dev, recipient=lab1.dev, input_token=lab1.contract("USDC").address,
        output_token=lab2.contract("USDC").address, input_amount=10**6, output_amount=999_000,
        destination_chain_id=lab2.w3.eth.chain_id, quote_timestamp=now, fill_deadline=now + 600,
    )  # fmt: skip
    receipt = _tx(lab1, lab1.dev, origin.address, data)
    assert receipt["status"] == 1
    (dep,) = [d for d in (across.decode_deposited(x, lab1.w3.eth.chain_id) for x in receipt["logs"]) if d]
    lab = sp.decode_log(receipt["logs"][-1], lab1.w3.eth.chain_id)
    assert isinstance(lab, sp.Deposited)
    assert dep.relay.relay_hash(lab2.w3.eth.chain_id) == lab.relay.relay_hash(lab2.w3.eth.chain_id)
    assert (dep.deposit_id, dep.relay.output_amount) == (lab.deposit_id, 999_000)
