// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {LabSpokePool} from "../src/LabSpokePool.sol";
import {LabToken} from "../src/LabToken.sol";
import {TestBase, Vm} from "./utils/TestBase.sol";

/// @notice Two spoke pools in one EVM, told apart by switching block.chainid: `origin` on chain 31337+1 takes
///         deposits, `dest` on chain 31337+2 takes fills. Every deposit ends Repaid or Refunded, exactly once.
contract LabSpokePoolTest is TestBase {
    uint256 internal constant ORIGIN = 1001;
    uint256 internal constant DEST = 1002;
    uint32 internal constant QUOTE_BUFFER = 3600;
    uint32 internal constant DEADLINE_BUFFER = 6 hours;
    uint32 internal constant WINDOW = 2 hours;

    LabSpokePool internal origin;
    LabSpokePool internal dest;
    LabToken internal usdcA; // on the origin
    LabToken internal usdcB; // on the destination
    address internal admin = address(0xAD);
    address internal settler = address(0x5E771E);
    address internal alice = address(0xA11CE); // depositor
    address internal bob = address(0xB0B); // recipient
    address internal relayer = address(0x4E1A1);
    address internal other = address(0x07E4);

    function setUp() public {
        vm.warp(1_767_225_600);
        vm.chainId(ORIGIN);
        origin = new LabSpokePool(admin, settler, QUOTE_BUFFER, DEADLINE_BUFFER, WINDOW);
        usdcA = new LabToken("USD Coin", "USDC", 6);
        vm.prank(admin);
        origin.setEnableRoute(address(usdcA), DEST, true);
        vm.chainId(DEST);
        dest = new LabSpokePool(admin, settler, QUOTE_BUFFER, DEADLINE_BUFFER, WINDOW);
        usdcB = new LabToken("USD Coin", "USDC", 6);
        vm.chainId(ORIGIN);
        usdcA.mint(alice, 1e15);
        usdcB.mint(relayer, 1e15);
        vm.prank(alice);
        usdcA.approve(address(origin), type(uint256).max);
        vm.prank(relayer);
        usdcB.approve(address(dest), type(uint256).max);
    }

    // ---------------------------------------------------------------- helpers

    function _deposit(uint256 amountIn, uint256 amountOut, uint32 fillDeadline, address exclusive, uint32 exclusivity)
        internal
        returns (LabSpokePool.V3RelayData memory relay)
    {
        vm.chainId(ORIGIN);
        uint32 id = origin.numberOfDeposits();
        vm.prank(alice);
        origin.depositV3(
            alice,
            bob,
            address(usdcA),
            address(usdcB),
            amountIn,
            amountOut,
            DEST,
            exclusive,
            uint32(block.timestamp),
            fillDeadline,
            exclusivity,
            hex"c0ffee"
        );
        relay = LabSpokePool.V3RelayData(
            alice,
            bob,
            exclusive,
            address(usdcA),
            address(usdcB),
            amountIn,
            amountOut,
            ORIGIN,
            id,
            fillDeadline,
            exclusivity,
            hex"c0ffee"
        );
    }

    function _simple(uint256 amount) internal returns (LabSpokePool.V3RelayData memory) {
        return _deposit(amount, amount - amount / 1000, uint32(block.timestamp + 1 hours), address(0), 0);
    }

    function _fill(LabSpokePool.V3RelayData memory relay, address by) internal {
        vm.chainId(DEST);
        vm.prank(by);
        dest.fillV3Relay(relay, ORIGIN);
        vm.chainId(ORIGIN);
    }

    struct DepositLog {
        address inputToken;
        address outputToken;
        uint256 inputAmount;
        uint256 outputAmount;
        uint32 quoteTimestamp;
        uint32 fillDeadline;
        uint32 exclusivityDeadline;
        address recipient;
        address exclusiveRelayer;
        bytes message;
    }

    function _status(uint32 id) internal view returns (LabSpokePool.DepositStatus status) {
        (,, status,,,) = origin.deposits(id);
    }

    function _stored(uint32 id) internal view returns (LabSpokePool.Deposit memory d) {
        (d.depositor, d.fillDeadline, d.status, d.inputToken, d.inputAmount, d.relayHash) = origin.deposits(id);
    }

    // ---------------------------------------------------------------- deposit

    function test_depositRecordsAndEmitsEverythingATrackerNeeds() public {
        vm.recordLogs();
        LabSpokePool.V3RelayData memory relay =
            _deposit(1_000e6, 999e6, uint32(block.timestamp + 1 hours), relayer, uint32(block.timestamp + 60));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        Vm.Log memory log = logs[logs.length - 1];
        assertEq(log.emitter, address(origin), "emitter");
        assertTrue(log.topics[0] == LabSpokePool.V3FundsDeposited.selector, "V3FundsDeposited");
        assertEq(uint256(log.topics[1]), DEST, "destinationChainId");
        assertEq(uint256(log.topics[2]), 0, "depositId");
        assertEq(address(uint160(uint256(log.topics[3]))), alice, "depositor");
        // the non-indexed fields, decoded as one struct (a dynamic tuple: its encoding starts with an offset)
        DepositLog memory d = abi.decode(bytes.concat(abi.encode(uint256(32)), log.data), (DepositLog));
        assertEq(d.inputToken, address(usdcA), "inputToken");
        assertEq(d.outputToken, address(usdcB), "outputToken");
        assertEq(d.inputAmount, 1_000e6, "inputAmount");
        assertEq(d.outputAmount, 999e6, "outputAmount");
        assertEq(d.quoteTimestamp, block.timestamp, "quoteTimestamp");
        assertEq(d.fillDeadline, relay.fillDeadline, "fillDeadline");
        assertEq(d.exclusivityDeadline, relay.exclusivityDeadline, "exclusivityDeadline");
        assertEq(d.recipient, bob, "recipient");
        assertEq(d.exclusiveRelayer, relayer, "exclusiveRelayer");
        assertTrue(keccak256(d.message) == keccak256(hex"c0ffee"), "message");

        LabSpokePool.Deposit memory stored = _stored(0);
        assertEq(stored.depositor, alice, "depositor");
        assertEq(stored.fillDeadline, relay.fillDeadline, "deadline");
        assertTrue(stored.status == LabSpokePool.DepositStatus.Pending, "pending");
        assertEq(stored.inputToken, address(usdcA), "token");
        assertEq(stored.inputAmount, 1_000e6, "amount");
        assertTrue(stored.relayHash == origin.getV3RelayHash(relay, DEST), "relay hash");
        assertTrue(stored.relayHash == keccak256(abi.encode(relay, DEST)), "Across's relay hash");
        assertEq(usdcA.balanceOf(address(origin)), 1_000e6, "escrowed");
        assertEq(origin.numberOfDeposits(), 1, "next id");
    }

    function test_depositChecks() public {
        uint32 nowTs = uint32(block.timestamp);
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(LabSpokePool.DisabledRoute.selector, address(usdcA), 7));
        origin.depositV3(alice, bob, address(usdcA), address(usdcB), 1, 1, 7, address(0), nowTs, nowTs + 60, 0, "");
        vm.expectRevert(abi.encodeWithSelector(LabSpokePool.InvalidQuoteTimestamp.selector, nowTs + 1, nowTs));
        origin.depositV3(
            alice, bob, address(usdcA), address(usdcB), 1, 1, DEST, address(0), nowTs + 1, nowTs + 60, 0, ""
        );
        uint32 stale = nowTs - QUOTE_BUFFER - 1;
        vm.expectRevert(abi.encodeWithSelector(LabSpokePool.InvalidQuoteTimestamp.selector, stale, nowTs));
        origin.depositV3(alice, bob, address(usdcA), address(usdcB), 1, 1, DEST, address(0), stale, nowTs + 60, 0, "");
        vm.expectRevert(abi.encodeWithSelector(LabSpokePool.InvalidFillDeadline.selector, nowTs - 1, nowTs));
        origin.depositV3(alice, bob, address(usdcA), address(usdcB), 1, 1, DEST, address(0), nowTs, nowTs - 1, 0, "");
        uint32 far = nowTs + DEADLINE_BUFFER + 1;
        vm.expectRevert(abi.encodeWithSelector(LabSpokePool.InvalidFillDeadline.selector, far, nowTs));
        origin.depositV3(alice, bob, address(usdcA), address(usdcB), 1, 1, DEST, address(0), nowTs, far, 0, "");
        vm.expectRevert(LabSpokePool.InvalidExclusiveRelayer.selector);
        origin.depositV3(
            alice, bob, address(usdcA), address(usdcB), 1, 1, DEST, address(0), nowTs, nowTs + 60, nowTs + 1, ""
        );
        vm.stopPrank();
    }

    function test_onlyTheAdminSetsRoutesAndTheSettler() public {
        vm.expectRevert(abi.encodeWithSelector(LabSpokePool.NotAdmin.selector, other));
        vm.prank(other);
        origin.setEnableRoute(address(usdcA), 5, true);
        vm.expectRevert(abi.encodeWithSelector(LabSpokePool.NotAdmin.selector, other));
        vm.prank(other);
        origin.setSettler(other);
        vm.expectRevert(abi.encodeWithSelector(LabSpokePool.InvalidChainId.selector, ORIGIN));
        vm.prank(admin);
        origin.setEnableRoute(address(usdcA), ORIGIN, true);
        vm.prank(admin);
        origin.setSettler(other);
        assertEq(origin.settler(), other, "settler replaced");
    }

    // ---------------------------------------------------------------- fill

    function testFuzz_fillPaysTheRecipientFromTheRelayerOnce(uint256 amount) public {
        amount = bound(amount, 1_000, 1e12);
        LabSpokePool.V3RelayData memory relay = _simple(amount);
        uint256 relayerBefore = usdcB.balanceOf(relayer);
        vm.recordLogs();
        _fill(relay, relayer);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        Vm.Log memory log = logs[logs.length - 1];
        assertTrue(log.topics[0] == LabSpokePool.FilledV3Relay.selector, "FilledV3Relay");
        assertEq(uint256(log.topics[1]), ORIGIN, "originChainId");
        assertEq(uint256(log.topics[2]), relay.depositId, "depositId");
        assertEq(address(uint160(uint256(log.topics[3]))), relayer, "relayer");
        assertEq(usdcB.balanceOf(bob), relay.outputAmount, "recipient paid");
        assertEq(relayerBefore - usdcB.balanceOf(relayer), relay.outputAmount, "from the relayer's inventory");
        bytes32 h = keccak256(abi.encode(relay, DEST));
        assertEq(dest.fillStatuses(h), uint256(LabSpokePool.FillStatus.Filled), "Filled");
        assertTrue(_stored(relay.depositId).relayHash == h, "the origin's hash is the destination's key");

        vm.chainId(DEST);
        vm.prank(other);
        vm.expectRevert(abi.encodeWithSelector(LabSpokePool.RelayFilled.selector, h));
        dest.fillV3Relay(relay, ORIGIN);
    }

    function test_aChangedRelayIsAnotherRelay() public {
        LabSpokePool.V3RelayData memory relay = _simple(1e9);
        relay.outputAmount -= 1; // a relayer paying less fills a relay no deposit made
        _fill(relay, relayer);
        vm.chainId(DEST);
        assertEq(dest.fillStatuses(keccak256(abi.encode(relay, DEST))), 2, "that relay is filled");
        relay.outputAmount += 1;
        assertEq(dest.fillStatuses(keccak256(abi.encode(relay, DEST))), 0, "the deposit's relay is not");
    }

    function testFuzz_noFillAfterTheDeadline(uint256 late) public {
        LabSpokePool.V3RelayData memory relay = _simple(1e9);
        vm.warp(relay.fillDeadline); // the deadline itself is still in time
        _fill(relay, relayer);
        LabSpokePool.V3RelayData memory second = _deposit(1e9, 1e9, uint32(block.timestamp + 60), address(0), 0);
        uint256 t = uint256(second.fillDeadline) + bound(late, 1, 1e9);
        vm.warp(t);
        vm.chainId(DEST);
        vm.prank(relayer);
        vm.expectRevert(abi.encodeWithSelector(LabSpokePool.ExpiredFillDeadline.selector, second.fillDeadline, t));
        dest.fillV3Relay(second, ORIGIN);
    }

    function test_exclusivity() public {
        uint32 until = uint32(block.timestamp + 60);
        LabSpokePool.V3RelayData memory relay = _deposit(1e9, 1e9, uint32(block.timestamp + 1 hours), relayer, until);
        usdcB.mint(other, 1e12);
        vm.prank(other);
        usdcB.approve(address(dest), type(uint256).max);
        vm.chainId(DEST);
        vm.prank(other);
        vm.expectRevert(abi.encodeWithSelector(LabSpokePool.NotExclusiveRelayer.selector, relayer, until));
        dest.fillV3Relay(relay, ORIGIN);
        vm.warp(until + 1);
        _fill(relay, other); // anyone after the exclusivity deadline
        assertEq(usdcB.balanceOf(bob), 1e9, "filled by another relayer");
    }

    function test_fillChecks() public {
        LabSpokePool.V3RelayData memory relay = _simple(1e9);
        vm.chainId(DEST);
        vm.startPrank(relayer);
        vm.expectRevert(abi.encodeWithSelector(LabSpokePool.InvalidRepaymentChainId.selector, DEST, ORIGIN));
        dest.fillV3Relay(relay, DEST);
        vm.chainId(ORIGIN); // a fill on the chain the deposit came from
        vm.expectRevert(abi.encodeWithSelector(LabSpokePool.InvalidChainId.selector, ORIGIN));
        origin.fillV3Relay(relay, ORIGIN);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- settlement

    function test_settlerRepaysTheRelayer() public {
        LabSpokePool.V3RelayData memory relay = _simple(1e9);
        _fill(relay, relayer);
        vm.prank(other);
        vm.expectRevert(abi.encodeWithSelector(LabSpokePool.NotSettler.selector, other));
        origin.repayRelayer(relay.depositId, other);
        vm.prank(settler);
        origin.repayRelayer(relay.depositId, relayer);
        assertEq(usdcA.balanceOf(relayer), 1e9, "repaid the input on the origin");
        assertTrue(_status(relay.depositId) == LabSpokePool.DepositStatus.Repaid, "Repaid");
        vm.warp(relay.fillDeadline + WINDOW + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                LabSpokePool.DepositSettled.selector, relay.depositId, LabSpokePool.DepositStatus.Repaid
            )
        );
        origin.refund(relay.depositId);
        vm.prank(settler);
        vm.expectRevert(
            abi.encodeWithSelector(
                LabSpokePool.DepositSettled.selector, relay.depositId, LabSpokePool.DepositStatus.Repaid
            )
        );
        origin.repayRelayer(relay.depositId, relayer);
    }

    function test_refundTimes() public {
        LabSpokePool.V3RelayData memory relay = _simple(1e9);
        uint256 deadline = relay.fillDeadline;
        vm.warp(deadline);
        vm.prank(settler); // a fill may still come at the deadline itself
        vm.expectRevert(abi.encodeWithSelector(LabSpokePool.RefundTooEarly.selector, 0, deadline + 1, deadline));
        origin.refund(0);
        vm.warp(deadline + WINDOW);
        vm.prank(other);
        vm.expectRevert(
            abi.encodeWithSelector(LabSpokePool.RefundTooEarly.selector, 0, deadline + WINDOW + 1, deadline + WINDOW)
        );
        origin.refund(0);
        vm.prank(settler);
        origin.refund(0);
        assertEq(usdcA.balanceOf(alice), 1e15, "the depositor has it all back");
        assertTrue(_status(0) == LabSpokePool.DepositStatus.Refunded, "Refunded");
        vm.prank(settler);
        vm.expectRevert(
            abi.encodeWithSelector(LabSpokePool.DepositSettled.selector, 0, LabSpokePool.DepositStatus.Refunded)
        );
        origin.repayRelayer(0, relayer);
    }

    function test_anyoneRefundsAfterTheWindow() public {
        LabSpokePool.V3RelayData memory relay = _simple(1e9);
        vm.warp(relay.fillDeadline + WINDOW + 1);
        vm.recordLogs();
        vm.prank(other);
        origin.refund(relay.depositId);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        Vm.Log memory log = logs[logs.length - 1];
        assertTrue(log.topics[0] == LabSpokePool.DepositRefunded.selector, "DepositRefunded");
        assertEq(usdcA.balanceOf(alice), 1e15, "refunded to the depositor, not the caller");
        assertEq(usdcA.balanceOf(other), 0, "caller");
        vm.expectRevert(abi.encodeWithSelector(LabSpokePool.UnknownDeposit.selector, 9));
        origin.refund(9);
    }

    /// @dev Any sequence of repay and refund attempts, by anyone, at any time: the deposit's input leaves the
    ///      pool exactly once (to the relayer or to the depositor, never both), and once the window is over a
    ///      permissionless refund resolves whatever is still pending.
    function testFuzz_paidOutExactlyOnce(uint256 seed) public {
        LabSpokePool.V3RelayData memory relay = _simple(bound(seed, 1_000, 1e12));
        uint256 amount = relay.inputAmount;
        address[3] memory callers = [settler, other, alice];
        uint256 t = block.timestamp;
        for (uint256 step; step < 6; ++step) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            t += r % (3 hours);
            vm.warp(t);
            vm.prank(callers[(r >> 8) % 3]);
            if ((r >> 16) % 2 == 0) {
                try origin.repayRelayer(relay.depositId, relayer) {} catch {}
            } else {
                try origin.refund(relay.depositId) {} catch {}
            }
        }
        if (_status(relay.depositId) == LabSpokePool.DepositStatus.Pending) {
            vm.warp(uint256(relay.fillDeadline) + WINDOW + 1);
            vm.prank(other);
            origin.refund(relay.depositId);
        }
        uint256 toRelayer = usdcA.balanceOf(relayer);
        uint256 toDepositor = usdcA.balanceOf(alice) - (1e15 - amount);
        assertEq(toRelayer + toDepositor, amount, "paid out exactly once");
        assertTrue(toRelayer == 0 || toDepositor == 0, "never both");
        assertEq(usdcA.balanceOf(address(origin)), 0, "nothing stays in the pool");
        LabSpokePool.DepositStatus s = _status(relay.depositId);
        assertTrue(
            toRelayer == 0 ? s == LabSpokePool.DepositStatus.Refunded : s == LabSpokePool.DepositStatus.Repaid,
            "the status says where it went"
        );
    }
}
