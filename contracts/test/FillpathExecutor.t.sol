// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {FillpathExecutor} from "../src/FillpathExecutor.sol";
import {EvilPair, FakePool} from "./utils/Attackers.sol";
import {UniswapFixture} from "./utils/UniswapFixture.sol";

/// @notice The executor against the real Uniswap V2/V3 contracts; every leg's output is checked against
///         Router02.getAmountsOut or QuoterV2, computed before the plan runs.
contract FillpathExecutorTest is UniswapFixture {
    FillpathExecutor internal ex;
    address internal alice = address(0xA11CE);
    address internal bob = address(0xB0B);
    uint256 internal constant ALL = type(uint256).max;
    // WETH9 (solc 0.4) refuses a transferFrom beyond the allowance with an empty Error(string), which that
    // compiler encodes with one extra zero word
    bytes internal constant WETH_REFUSES = abi.encodePacked(bytes4(0x08c379a0), uint256(0x20), uint256(0), uint256(0));

    function setUp() public {
        deployUniswap();
        ex = new FillpathExecutor(address(weth), v3Factory);
        give(address(weth), alice, 100_000e18);
        give(address(usdc), alice, 100_000_000e6);
        give(address(dai), alice, 100_000_000e18);
        vm.deal(alice, 100_000e18);
    }

    // ---------------------------------------------------------------- helpers

    function leg(uint8 kind, uint24 fee, address pool, address tin, address tout, uint256 amountIn, uint256 minOut)
        internal
        pure
        returns (FillpathExecutor.Leg memory)
    {
        return FillpathExecutor.Leg(kind, fee, pool, tin, tout, amountIn, minOut);
    }

    function pull(address token, uint256 amount) internal pure returns (FillpathExecutor.Pull[] memory p) {
        p = new FillpathExecutor.Pull[](1);
        p[0] = FillpathExecutor.Pull(token, amount);
    }

    function noPulls() internal pure returns (FillpathExecutor.Pull[] memory) {
        return new FillpathExecutor.Pull[](0);
    }

    function approveExactly(FillpathExecutor.Pull[] memory pulls) internal {
        vm.startPrank(alice);
        for (uint256 i; i < pulls.length; ++i) {
            IERC20(pulls[i].token).approve(address(ex), pulls[i].amount);
        }
        vm.stopPrank();
    }

    /// @dev The split-then-hop plan: WETH→USDC on the V2 pair (a, exact) and the 0.05% pool (b, the rest),
    ///      then all the USDC → DAI on the DAI/USDC pair. Returns the legs and each leg's reference output.
    function splitThenHop(uint256 a, uint256 b)
        internal
        returns (FillpathExecutor.Leg[] memory legs, uint256[3] memory q)
    {
        q[0] = v2Quote(address(weth), address(usdc), a);
        q[1] = v3Quote(address(weth), address(usdc), 500, b);
        q[2] = v2Quote(address(usdc), address(dai), q[0] + q[1]);
        legs = new FillpathExecutor.Leg[](3);
        legs[0] = leg(0, 3000, pairWethUsdc, address(weth), address(usdc), a, q[0]);
        legs[1] = leg(1, 500, pool500, address(weth), address(usdc), ALL, q[1]);
        legs[2] = leg(0, 3000, pairDaiUsdc, address(usdc), address(dai), ALL, q[2]);
    }

    function assertNothingLeft() internal view {
        assertEq(weth.balanceOf(address(ex)), 0, "executor WETH");
        assertEq(usdc.balanceOf(address(ex)), 0, "executor USDC");
        assertEq(dai.balanceOf(address(ex)), 0, "executor DAI");
        assertEq(address(ex).balance, 0, "executor ETH");
        assertEq(weth.allowance(alice, address(ex)), 0, "WETH allowance");
        assertEq(usdc.allowance(alice, address(ex)), 0, "USDC allowance");
        assertEq(dai.allowance(alice, address(ex)), 0, "DAI allowance");
    }

    // ---------------------------------------------------------------- happy paths

    function testFuzz_splitThenHop_eachLegEqualsTheReference(uint256 a, uint256 b) public {
        a = bound(a, 1e12, 300e18);
        b = bound(b, 1e12, 1_500e18);
        (FillpathExecutor.Leg[] memory legs, uint256[3] memory q) = splitThenHop(a, b);
        FillpathExecutor.Pull[] memory pulls = pull(address(weth), a + b);
        approveExactly(pulls);
        uint256 wethBefore = weth.balanceOf(alice);
        uint256 daiBefore = dai.balanceOf(alice);

        vm.prank(alice);
        (uint256[] memory outs, uint256 total) = ex.execute(pulls, legs, address(dai), q[2], alice, block.timestamp);

        assertEq(outs.length, 3, "legs");
        assertEq(outs[0], q[0], "V2 leg = getAmountsOut");
        assertEq(outs[1], q[1], "V3 leg = QuoterV2");
        assertEq(outs[2], q[2], "hop = getAmountsOut of both outputs");
        assertEq(total, q[2], "total");
        assertEq(dai.balanceOf(alice) - daiBefore, total, "alice got the total");
        assertEq(wethBefore - weth.balanceOf(alice), a + b, "alice paid exactly the pull");
        assertNothingLeft();
    }

    function testFuzz_exactIntermediate_remainderGoesBackToTheSender(uint256 a, uint256 bps) public {
        a = bound(a, 1e15, 500e18);
        bps = bound(bps, 100, 10_000);
        uint256 q0 = v3Quote(address(weth), address(usdc), 3000, a);
        uint256 in1 = q0 * bps / 10_000;
        uint256 q1 = v2Quote(address(usdc), address(dai), in1);
        FillpathExecutor.Leg[] memory legs = new FillpathExecutor.Leg[](2);
        legs[0] = leg(1, 3000, pool3000, address(weth), address(usdc), a, q0);
        legs[1] = leg(0, 3000, pairDaiUsdc, address(usdc), address(dai), in1, q1);
        FillpathExecutor.Pull[] memory pulls = pull(address(weth), a);
        approveExactly(pulls);
        uint256 usdcBefore = usdc.balanceOf(alice);

        vm.prank(alice);
        (uint256[] memory outs, uint256 total) = ex.execute(pulls, legs, address(dai), 0, bob, block.timestamp);

        assertEq(outs[0], q0, "V3 0.3% leg");
        assertEq(outs[1], q1, "V2 leg");
        assertEq(dai.balanceOf(bob), total, "recipient");
        assertEq(total, q1, "total");
        assertEq(usdc.balanceOf(alice) - usdcBefore, q0 - in1, "unspent USDC back to the sender");
        assertNothingLeft();
    }

    function testFuzz_ethIn_wrapThenSwap(uint256 a) public {
        a = bound(a, 1e12, 1_000e18);
        uint256 q = v3Quote(address(weth), address(usdc), 500, a);
        FillpathExecutor.Leg[] memory legs = new FillpathExecutor.Leg[](2);
        legs[0] = leg(2, 0, address(0), address(0), address(weth), ALL, a);
        legs[1] = leg(1, 500, pool500, address(weth), address(usdc), ALL, q);
        uint256 ethBefore = alice.balance;

        vm.prank(alice);
        (uint256[] memory outs, uint256 total) =
            ex.execute{value: a}(noPulls(), legs, address(usdc), q, bob, block.timestamp);

        assertEq(outs[0], a, "wrapped 1:1");
        assertEq(total, q, "total");
        assertEq(usdc.balanceOf(bob), q, "bob got USDC");
        assertEq(ethBefore - alice.balance, a, "alice paid the value");
        assertNothingLeft();
    }

    function testFuzz_swapThenUnwrap_ethOut(uint256 a) public {
        a = bound(a, 1e6, 1_000_000e6);
        uint256 q = v2Quote(address(usdc), address(weth), a);
        FillpathExecutor.Leg[] memory legs = new FillpathExecutor.Leg[](2);
        legs[0] = leg(0, 3000, pairWethUsdc, address(usdc), address(weth), a, q);
        legs[1] = leg(3, 0, address(0), address(weth), address(0), ALL, q);
        FillpathExecutor.Pull[] memory pulls = pull(address(usdc), a);
        approveExactly(pulls);
        uint256 bobBefore = bob.balance;

        vm.prank(alice);
        (, uint256 total) = ex.execute(pulls, legs, address(0), q, bob, block.timestamp);

        assertEq(total, q, "total");
        assertEq(bob.balance - bobBefore, q, "bob got ETH");
        assertNothingLeft();
    }

    /// @dev USDC → WETH (0.05%) → USDC (0.3%) → WETH (V2) → ETH, each hop spending 'all' of the previous one.
    ///      Every leg trades on a different pool, so the reference quotes can be chained before the plan runs.
    function testFuzz_fourLegsEndingInEth(uint256 a) public {
        a = bound(a, 1e6, 2_000_000e6);
        uint256 q0 = v3Quote(address(usdc), address(weth), 500, a);
        uint256 q1 = v3Quote(address(weth), address(usdc), 3000, q0);
        uint256 q2 = v2Quote(address(usdc), address(weth), q1);
        FillpathExecutor.Leg[] memory legs = new FillpathExecutor.Leg[](4);
        legs[0] = leg(1, 500, pool500, address(usdc), address(weth), a, q0);
        legs[1] = leg(1, 3000, pool3000, address(weth), address(usdc), ALL, q1);
        legs[2] = leg(0, 3000, pairWethUsdc, address(usdc), address(weth), ALL, q2);
        legs[3] = leg(3, 0, address(0), address(weth), address(0), ALL, q2);
        FillpathExecutor.Pull[] memory pulls = pull(address(usdc), a);
        approveExactly(pulls);
        uint256 bobBefore = bob.balance;
        vm.prank(alice);
        (uint256[] memory outs, uint256 total) = ex.execute(pulls, legs, address(0), q2, bob, block.timestamp);
        assertEq(outs[0], q0, "V3 0.05%");
        assertEq(outs[1], q1, "V3 0.3%");
        assertEq(outs[2], q2, "V2");
        assertEq(outs[3], q2, "unwrap 1:1");
        assertEq(total, q2, "total");
        assertEq(bob.balance - bobBefore, q2, "bob got the ETH");
        assertNothingLeft();
    }

    function testFuzz_unusedValueGoesBackToTheSender(uint256 a, uint256 wrapped) public {
        a = bound(a, 2e12, 1_000e18);
        wrapped = bound(wrapped, 1e12, a - 1);
        FillpathExecutor.Leg[] memory legs = new FillpathExecutor.Leg[](2);
        legs[0] = leg(2, 0, address(0), address(0), address(weth), wrapped, 0);
        legs[1] = leg(1, 500, pool500, address(weth), address(usdc), ALL, 0);
        uint256 ethBefore = alice.balance;
        vm.prank(alice);
        ex.execute{value: a}(noPulls(), legs, address(usdc), 0, alice, block.timestamp);
        assertEq(ethBefore - alice.balance, wrapped, "only the wrapped part was spent");
        assertNothingLeft();
    }

    function test_twoPlansInOneTransaction() public {
        (FillpathExecutor.Leg[] memory legs,) = splitThenHop(1e18, 2e18);
        for (uint256 i; i < legs.length; ++i) {
            legs[i].minOut = 0; // the second run meets the prices the first one moved
        }
        FillpathExecutor.Pull[] memory pulls = pull(address(weth), 3e18);
        vm.startPrank(alice);
        weth.approve(address(ex), 6e18);
        ex.execute(pulls, legs, address(dai), 0, alice, block.timestamp);
        ex.execute(pulls, legs, address(dai), 0, alice, block.timestamp); // the lock was released
        vm.stopPrank();
        assertNothingLeft();
    }

    // ---------------------------------------------------------------- minimums and deadline

    function testFuzz_legMinOut_namesTheLegAndTheAmounts(uint256 a, uint256 which, uint256 extra) public {
        a = bound(a, 1e15, 200e18);
        which = bound(which, 0, 2);
        (FillpathExecutor.Leg[] memory legs, uint256[3] memory q) = splitThenHop(a, a);
        uint256 min = q[which] + 1 + bound(extra, 0, q[which]);
        legs[which].minOut = min;
        FillpathExecutor.Pull[] memory pulls = pull(address(weth), 2 * a);
        approveExactly(pulls);

        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.LegMinOut.selector, which, q[which], min));
        ex.execute(pulls, legs, address(dai), 0, alice, block.timestamp);
    }

    function testFuzz_totalMinOut(uint256 a, uint256 extra) public {
        a = bound(a, 1e15, 200e18);
        (FillpathExecutor.Leg[] memory legs, uint256[3] memory q) = splitThenHop(a, a);
        uint256 min = q[2] + 1 + bound(extra, 0, q[2]);
        FillpathExecutor.Pull[] memory pulls = pull(address(weth), 2 * a);
        approveExactly(pulls);

        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.TotalMinOut.selector, q[2], min));
        ex.execute(pulls, legs, address(dai), min, alice, block.timestamp);
    }

    function testFuzz_deadlinePassed(uint256 late) public {
        uint256 deadline = block.timestamp + 60;
        uint256 now_ = deadline + bound(late, 1, 10 ** 9);
        vm.warp(now_);
        (FillpathExecutor.Leg[] memory legs,) = splitThenHop(1e18, 1e18);
        FillpathExecutor.Pull[] memory pulls = pull(address(weth), 2e18);
        approveExactly(pulls);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.DeadlinePassed.selector, deadline, now_));
        ex.execute(pulls, legs, address(dai), 0, alice, deadline);
    }

    function test_deadlineIsInclusive() public {
        uint256 deadline = block.timestamp + 60;
        vm.warp(deadline);
        (FillpathExecutor.Leg[] memory legs,) = splitThenHop(1e18, 1e18);
        FillpathExecutor.Pull[] memory pulls = pull(address(weth), 2e18);
        approveExactly(pulls);
        vm.prank(alice);
        ex.execute(pulls, legs, address(dai), 0, alice, deadline);
        assertNothingLeft();
    }

    // ---------------------------------------------------------------- callbacks and hostile contracts

    function testFuzz_callbackRefusedOutsideItsSwap(
        address caller,
        int256 d0,
        int256 d1,
        bytes calldata data,
        bool asPool
    ) public {
        if (asPool) caller = pool500; // a genuine pool, but no swap of ours is in progress
        give(address(usdc), address(ex), 1_000e6); // something to steal
        give(address(weth), address(ex), 1e18);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.BadCallback.selector, caller));
        ex.uniswapV3SwapCallback(d0, d1, data);
    }

    function test_aPairCannotCallTheCallbackMidPlan() public {
        EvilPair evil = new EvilPair(ex, EvilPair.Mode.Callback);
        FillpathExecutor.Leg[] memory legs = new FillpathExecutor.Leg[](2);
        legs[0] = leg(1, 500, pool500, address(weth), address(usdc), 1e18, 0);
        legs[1] = leg(0, 3000, address(evil), address(weth), address(dai), 1e18, 0);
        FillpathExecutor.Pull[] memory pulls = pull(address(weth), 2e18);
        approveExactly(pulls);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.BadCallback.selector, address(evil)));
        ex.execute(pulls, legs, address(usdc), 0, alice, block.timestamp);
    }

    function test_aPairCannotReenter() public {
        EvilPair evil = new EvilPair(ex, EvilPair.Mode.Reenter);
        FillpathExecutor.Leg[] memory legs = new FillpathExecutor.Leg[](1);
        legs[0] = leg(0, 3000, address(evil), address(weth), address(dai), 1e18, 0);
        FillpathExecutor.Pull[] memory pulls = pull(address(weth), 1e18);
        approveExactly(pulls);
        vm.prank(alice);
        vm.expectRevert(FillpathExecutor.Reentered.selector);
        ex.execute(pulls, legs, address(dai), 0, alice, block.timestamp);
    }

    function testFuzz_aPairThatDoesNotPayFailsTheLeg(uint256 a, bool anotherToken) public {
        a = bound(a, 1e15, 100e18);
        EvilPair bad = new EvilPair(ex, anotherToken ? EvilPair.Mode.PayAnotherToken : EvilPair.Mode.Keep);
        bad.setOther(address(dai));
        give(address(dai), address(bad), 1e30);
        FillpathExecutor.Leg[] memory legs = new FillpathExecutor.Leg[](2);
        legs[0] = leg(1, 500, pool500, address(weth), address(usdc), a, 0);
        legs[1] = leg(0, 3000, address(bad), address(weth), address(usdc), a, 0); // promises USDC
        FillpathExecutor.Pull[] memory pulls = pull(address(weth), 2 * a);
        approveExactly(pulls);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.NoOutput.selector, 1));
        ex.execute(pulls, legs, address(usdc), 0, alice, block.timestamp);
    }

    function test_aPoolNotFromTheFactoryIsNeverCalled() public {
        FakePool fake = new FakePool();
        FillpathExecutor.Leg[] memory legs = new FillpathExecutor.Leg[](1);
        legs[0] = leg(1, 500, address(fake), address(weth), address(usdc), 1e18, 0);
        FillpathExecutor.Pull[] memory pulls = pull(address(weth), 1e18);
        approveExactly(pulls);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.BadPool.selector, 0, address(fake)));
        ex.execute(pulls, legs, address(usdc), 0, alice, block.timestamp);
    }

    function test_aGenuinePoolWithTheWrongFeeIsRefused() public {
        FillpathExecutor.Leg[] memory legs = new FillpathExecutor.Leg[](1);
        legs[0] = leg(1, 500, pool3000, address(weth), address(usdc), 1e18, 0);
        FillpathExecutor.Pull[] memory pulls = pull(address(weth), 1e18);
        approveExactly(pulls);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.BadPool.selector, 0, pool3000));
        ex.execute(pulls, legs, address(usdc), 0, alice, block.timestamp);
    }

    // ---------------------------------------------------------------- funds: whose, how much

    function testFuzz_pullNeedsTheWholeApproval(uint256 a, uint256 short) public {
        a = bound(a, 2, 100e18);
        short = bound(short, 1, a);
        FillpathExecutor.Leg[] memory legs = new FillpathExecutor.Leg[](1);
        legs[0] = leg(1, 500, pool500, address(weth), address(usdc), ALL, 0);
        vm.prank(alice);
        weth.approve(address(ex), a - short);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.TransferFailed.selector, address(weth), WETH_REFUSES));
        ex.execute(pull(address(weth), a), legs, address(usdc), 0, alice, block.timestamp);
    }

    function test_onlyTheCallersFundsAreUsed() public {
        give(address(weth), bob, 10e18);
        vm.prank(bob);
        weth.approve(address(ex), 10e18); // bob's approval is no use to alice
        FillpathExecutor.Leg[] memory legs = new FillpathExecutor.Leg[](1);
        legs[0] = leg(1, 500, pool500, address(weth), address(usdc), ALL, 0);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.TransferFailed.selector, address(weth), WETH_REFUSES));
        ex.execute(pull(address(weth), 10e18), legs, address(usdc), 0, alice, block.timestamp);
        assertEq(weth.balanceOf(bob), 10e18, "bob untouched");
    }

    function test_theOutputMayNotAlsoBeAnInput() public {
        FillpathExecutor.Leg[] memory legs = new FillpathExecutor.Leg[](1);
        legs[0] = leg(0, 3000, pairDaiUsdc, address(usdc), address(dai), ALL, 0);
        approveExactly(pull(address(usdc), 1e6));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.InputIsOutput.selector, address(usdc)));
        ex.execute(pull(address(usdc), 1e6), legs, address(usdc), 0, alice, block.timestamp);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.InputIsOutput.selector, address(0)));
        ex.execute{value: 1}(noPulls(), new FillpathExecutor.Leg[](0), address(0), 0, alice, block.timestamp);
    }

    function test_malformedLegs() public {
        FillpathExecutor.Leg[] memory legs = new FillpathExecutor.Leg[](1);
        vm.startPrank(alice);
        weth.approve(address(ex), type(uint256).max);

        legs[0] = leg(9, 0, pool500, address(weth), address(usdc), 1e18, 0);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.BadLeg.selector, 0));
        ex.execute(pull(address(weth), 1e18), legs, address(usdc), 0, alice, block.timestamp);

        legs[0] = leg(2, 0, address(0), address(usdc), address(weth), 1e18, 0); // wrap must be ETH → WETH
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.BadLeg.selector, 0));
        ex.execute{value: 1e18}(noPulls(), legs, address(weth), 0, alice, block.timestamp);

        legs[0] = leg(0, 1_000_000, pairWethUsdc, address(weth), address(usdc), 1e18, 0); // a 100% fee
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.BadLeg.selector, 0));
        ex.execute(pull(address(weth), 1e18), legs, address(usdc), 0, alice, block.timestamp);

        legs[0] = leg(0, 3000, pairWethUsdc, address(weth), address(usdc), 1, 0); // 1 wei buys nothing
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.NoOutput.selector, 0));
        ex.execute(pull(address(weth), 1), legs, address(usdc), 0, alice, block.timestamp);

        legs[0] = leg(1, 500, pool500, address(weth), address(usdc), 0, 0);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.ZeroInput.selector, 0));
        ex.execute(pull(address(weth), 1e18), legs, address(usdc), 0, alice, block.timestamp);

        legs[0] = leg(1, 500, pool500, address(weth), address(usdc), ALL, 0); // nothing held
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.ZeroInput.selector, 0));
        ex.execute(noPulls(), legs, address(usdc), 0, alice, block.timestamp);

        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.BadRecipient.selector, address(0)));
        ex.execute(noPulls(), legs, address(usdc), 0, address(0), block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.BadRecipient.selector, address(ex)));
        ex.execute(noPulls(), legs, address(usdc), 0, address(ex), block.timestamp);
        vm.stopPrank();
    }

    function test_strayEtherIsRefused() public {
        vm.prank(alice);
        (bool ok, bytes memory ret) = address(ex).call{value: 1}("");
        assertTrue(!ok, "plain ETH must bounce");
        bytes memory want = abi.encodeWithSelector(FillpathExecutor.UnexpectedEther.selector, alice);
        assertTrue(keccak256(ret) == keccak256(want), "UnexpectedEther(alice)");
    }
}
