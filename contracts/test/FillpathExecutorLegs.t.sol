// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {FillpathExecutor} from "../src/FillpathExecutor.sol";
import {LabAggregator} from "../src/LabAggregator.sol";
import {LabAllowanceHolder} from "../src/LabAllowanceHolder.sol";
import {LabStableSwap} from "../src/LabStableSwap.sol";
import {LabToken} from "../src/LabToken.sol";
import {EthDesk, StingyStablePool} from "./utils/Attackers.sol";
import {UniswapFixture} from "./utils/UniswapFixture.sol";

/// @notice The executor's STABLESWAP and CALL legs: outputs equal the pools' and the aggregator's own quotes,
///         approvals end at zero, a short or unfaithful leg fails on the executor's own checks, and a CALL leg
///         cannot name the executor, a token of the plan or a pool as its target.
contract FillpathExecutorLegsTest is UniswapFixture {
    FillpathExecutor internal ex;
    LabStableSwap internal stable; // USDC / DAI / USDT
    LabToken internal usdt;
    LabAllowanceHolder internal holder;
    LabAggregator internal agg;
    address internal alice = address(0xA11CE);
    address internal bob = address(0xB0B);
    uint256 internal constant ALL = type(uint256).max;
    uint8 internal constant V2 = 0;
    uint8 internal constant V3 = 1;
    uint8 internal constant STABLE = 4;
    uint8 internal constant CALL = 5;

    function setUp() public {
        deployUniswap();
        ex = new FillpathExecutor(address(weth), v3Factory);
        usdt = new LabToken("Tether", "USDT", 6);
        usdt.mint(address(this), 1e18);
        address[] memory coins = new address[](3);
        (coins[0], coins[1], coins[2]) = (address(usdc), address(dai), address(usdt));
        stable = new LabStableSwap(coins, 500, 1_000_000, 5_000_000_000, address(this), "lab3", "lab3");
        usdc.approve(address(stable), type(uint256).max);
        dai.approve(address(stable), type(uint256).max);
        usdt.approve(address(stable), type(uint256).max);
        uint256[] memory amounts = new uint256[](3);
        (amounts[0], amounts[1], amounts[2]) = (50_000_000e6, 50_000_000e18, 50_000_000e6);
        stable.add_liquidity(amounts, 0);
        holder = new LabAllowanceHolder();
        agg = new LabAggregator(address(holder));
        give(address(weth), alice, 100_000e18);
        give(address(usdc), alice, 100_000_000e6);
        vm.deal(alice, 1_000e18);
    }

    // ---------------------------------------------------------------- helpers

    function leg(uint8 kind, uint24 fee, address pool, address tin, address tout, uint256 amountIn, uint256 minOut)
        internal
        pure
        returns (FillpathExecutor.Leg memory)
    {
        return FillpathExecutor.Leg(kind, fee, pool, tin, tout, amountIn, minOut);
    }

    function one(FillpathExecutor.Leg memory l) internal pure returns (FillpathExecutor.Leg[] memory legs) {
        legs = new FillpathExecutor.Leg[](1);
        legs[0] = l;
    }

    function pull(address token, uint256 amount) internal pure returns (FillpathExecutor.Pull[] memory p) {
        p = new FillpathExecutor.Pull[](1);
        p[0] = FillpathExecutor.Pull(token, amount);
    }

    function calls1(address spender, uint256 maxUnspent, bytes memory data)
        internal
        pure
        returns (FillpathExecutor.Call[] memory c)
    {
        c = new FillpathExecutor.Call[](1);
        c[0] = FillpathExecutor.Call(spender, maxUnspent, data);
    }

    /// @dev The quote's transaction data: WETH → USDC on the 0.3% pool through the aggregator, paid to the
    ///      executor (the taker), with `pullAmount` in the calldata and an optional skim.
    function aggData(uint256 pullAmount, uint256 minBuy, uint16 skimBps) internal view returns (bytes memory) {
        LabAggregator.Hop[] memory hops = new LabAggregator.Hop[](1);
        hops[0] = LabAggregator.Hop(1, 3000, 10_000, pool3000, address(weth), address(usdc));
        LabAggregator.Skim memory skim = LabAggregator.Skim(skimBps == 0 ? address(0) : bob, skimBps, 0);
        bytes memory swapData = abi.encodeCall(
            LabAggregator.swap, (address(weth), pullAmount, address(usdc), minBuy, address(ex), hops, skim)
        );
        return abi.encodeCall(
            LabAllowanceHolder.exec, (address(agg), address(weth), pullAmount, payable(address(agg)), swapData)
        );
    }

    function approveAll() internal {
        vm.startPrank(alice);
        weth.approve(address(ex), type(uint256).max);
        usdc.approve(address(ex), type(uint256).max);
        vm.stopPrank();
    }

    function assertNothingLeft() internal view {
        assertEq(weth.balanceOf(address(ex)), 0, "executor WETH");
        assertEq(usdc.balanceOf(address(ex)), 0, "executor USDC");
        assertEq(dai.balanceOf(address(ex)), 0, "executor DAI");
        assertEq(address(ex).balance, 0, "executor ETH");
        assertEq(usdc.allowance(address(ex), address(stable)), 0, "USDC approval to the pool");
        assertEq(weth.allowance(address(ex), address(holder)), 0, "WETH approval to the holder");
    }

    // ---------------------------------------------------------------- STABLESWAP

    function testFuzz_stableSwapLegPaysGetDy(uint256 a, bool daiIn) public {
        if (daiIn) {
            a = bound(a, 1e12, 10_000_000e18);
            give(address(dai), alice, a);
            _stableLeg(address(dai), address(usdc), 1 << 8, a, stable.get_dy(1, 0, a));
        } else {
            a = bound(a, 1, 10_000_000e6);
            _stableLeg(address(usdc), address(dai), 1, a, stable.get_dy(0, 1, a));
        }
    }

    function _stableLeg(address tin, address tout, uint24 ij, uint256 a, uint256 q) internal {
        vm.assume(q > 0);
        vm.prank(alice);
        IERC20(tin).approve(address(ex), a);
        FillpathExecutor.Leg[] memory legs = one(leg(STABLE, ij, address(stable), tin, tout, a, q));
        vm.prank(alice);
        (uint256[] memory outs, uint256 total) = ex.execute(pull(tin, a), legs, tout, q, bob, block.timestamp);
        assertEq(outs[0], q, "leg output = get_dy");
        assertEq(total, q, "total");
        assertEq(IERC20(tout).balanceOf(bob), q, "bob");
        assertEq(IERC20(tin).allowance(address(ex), address(stable)), 0, "approval spent");
        assertNothingLeft();
    }

    function test_stableSwapLegChecks() public {
        approveAll();
        vm.startPrank(alice);
        // the indices name other coins than the leg's tokens
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.BadPool.selector, 0, address(stable)));
        ex.execute(
            pull(address(usdc), 1e6),
            one(leg(STABLE, 2, address(stable), address(usdc), address(dai), 1e6, 0)),
            address(dai),
            0,
            bob,
            block.timestamp
        );
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.BadLeg.selector, 0));
        ex.execute(
            pull(address(usdc), 1e6),
            one(leg(STABLE, 0, address(stable), address(usdc), address(dai), 1e6, 0)),
            address(dai),
            0,
            bob,
            block.timestamp
        );
        uint256 q = stable.get_dy(0, 1, 1e6);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.LegMinOut.selector, 0, q, q + 1));
        ex.execute(
            pull(address(usdc), 1e6),
            one(leg(STABLE, 1, address(stable), address(usdc), address(dai), 1e6, q + 1)),
            address(dai),
            0,
            bob,
            block.timestamp
        );
        vm.stopPrank();
    }

    function test_aStableSwapPoolThatTakesLessFails() public {
        StingyStablePool stingy = new StingyStablePool(address(usdc), address(dai));
        give(address(dai), address(stingy), 1e24);
        approveAll();
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.AllowanceLeft.selector, 0, address(stingy), 5e5));
        ex.execute(
            pull(address(usdc), 1e6),
            one(leg(STABLE, 1, address(stingy), address(usdc), address(dai), 1e6, 0)),
            address(dai),
            0,
            bob,
            block.timestamp
        );
    }

    // ---------------------------------------------------------------- CALL through the aggregator

    function testFuzz_callLegPaysWhatTheRouteQuotes(uint256 a) public {
        a = bound(a, 1e12, 1_000e18);
        uint256 q = v3Quote(address(weth), address(usdc), 3000, a);
        approveAll();
        FillpathExecutor.Leg[] memory legs = one(leg(CALL, 0, address(holder), address(weth), address(usdc), a, q));
        vm.prank(alice);
        (uint256[] memory outs, uint256 total) = ex.executeWithCalls(
            pull(address(weth), a),
            legs,
            calls1(address(holder), 0, aggData(a, q, 0)),
            address(usdc),
            q,
            bob,
            block.timestamp
        );
        assertEq(outs[0], q, "leg output = the pool's quote");
        assertEq(total, q, "total");
        assertEq(usdc.balanceOf(bob), q, "bob");
        assertNothingLeft();
    }

    /// @dev The quote lies: its calldata skims the output and lowers its own minimum to match. The aggregator is
    ///      satisfied; the executor, which measured what arrived, is not.
    function testFuzz_aQuoteThatPaysLessFailsOnTheExecutorsMinimum(uint256 a, uint16 bps) public {
        a = bound(a, 1e15, 100e18);
        bps = uint16(bound(bps, 1, 1_000));
        uint256 q = v3Quote(address(weth), address(usdc), 3000, a);
        uint256 paid = q - q * bps / 10_000;
        vm.assume(paid < q);
        approveAll();
        FillpathExecutor.Leg[] memory legs = one(leg(CALL, 0, address(holder), address(weth), address(usdc), a, q));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.LegMinOut.selector, 0, paid, q));
        ex.executeWithCalls(
            pull(address(weth), a),
            legs,
            calls1(address(holder), 0, aggData(a, paid, bps)),
            address(usdc),
            0,
            bob,
            block.timestamp
        );
    }

    function testFuzz_unspentInput(uint256 a, uint256 short, bool allowed) public {
        a = bound(a, 1e15, 100e18);
        short = bound(short, 1, a - 1e12); // what is left still buys some USDC
        uint256 q = v3Quote(address(weth), address(usdc), 3000, a - short);
        approveAll();
        FillpathExecutor.Leg[] memory legs = one(leg(CALL, 0, address(holder), address(weth), address(usdc), a, q));
        FillpathExecutor.Call[] memory c =
            calls1(address(holder), allowed ? short : short - 1, aggData(a - short, q, 0));
        uint256 wethBefore = weth.balanceOf(alice);
        vm.prank(alice);
        if (!allowed) {
            vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.InputUnspent.selector, 0, short, short - 1));
        }
        ex.executeWithCalls(pull(address(weth), a), legs, c, address(usdc), q, bob, block.timestamp);
        if (allowed) {
            assertEq(wethBefore - weth.balanceOf(alice), a - short, "the unspent part went back to alice");
            assertEq(usdc.balanceOf(bob), q, "bob");
            assertNothingLeft(); // the leftover approval to the holder was reset to zero
        }
    }

    function test_aFailingCallCarriesItsReason() public {
        uint256 q = v3Quote(address(weth), address(usdc), 3000, 1e18);
        approveAll();
        FillpathExecutor.Leg[] memory legs = one(leg(CALL, 0, address(holder), address(weth), address(usdc), 1e18, 0));
        bytes memory reason = abi.encodeWithSelector(LabAggregator.TooMuchSlippage.selector, address(usdc), q + 1, q);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.CallFailed.selector, 0, reason));
        ex.executeWithCalls(
            pull(address(weth), 1e18),
            legs,
            calls1(address(holder), 0, aggData(1e18, q + 1, 0)),
            address(usdc),
            0,
            bob,
            block.timestamp
        );
    }

    // ---------------------------------------------------------------- CALL targets and spenders

    function _expectBadTarget(address target, FillpathExecutor.Leg[] memory legs, uint256 index) internal {
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.BadTarget.selector, index, target));
        ex.executeWithCalls(
            pull(address(weth), 2e18),
            legs,
            calls1(address(holder), 0, aggData(1e18, 0, 0)),
            address(usdc),
            0,
            bob,
            block.timestamp
        );
    }

    function test_callTargetsThatAreRefused() public {
        approveAll();
        address[6] memory bad = [address(ex), address(weth), address(usdc), pairWethUsdc, pool3000, alice];
        for (uint256 k; k < bad.length; ++k) {
            FillpathExecutor.Leg[] memory legs = new FillpathExecutor.Leg[](2);
            legs[0] = leg(V2, 3000, pairWethUsdc, address(weth), address(usdc), 1e18, 0);
            legs[1] = leg(CALL, 0, bad[k], address(weth), address(usdc), 1e18, 0);
            _expectBadTarget(bad[k], legs, 1);
        }
        // a token the plan touches only through a pull
        FillpathExecutor.Pull[] memory pulls = new FillpathExecutor.Pull[](2);
        pulls[0] = FillpathExecutor.Pull(address(weth), 1e18);
        pulls[1] = FillpathExecutor.Pull(address(dai), 1);
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.BadTarget.selector, 0, address(dai)));
        ex.executeWithCalls(
            pulls,
            one(leg(CALL, 0, address(dai), address(weth), address(usdc), 1e18, 0)),
            calls1(address(holder), 0, ""),
            address(usdc),
            0,
            bob,
            block.timestamp
        );
    }

    function test_callSpendersThatAreRefused() public {
        approveAll();
        FillpathExecutor.Leg[] memory legs = one(leg(CALL, 0, address(holder), address(weth), address(usdc), 1e18, 0));
        address[2] memory bad = [address(0), address(ex)];
        for (uint256 k; k < bad.length; ++k) {
            vm.prank(alice);
            vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.BadSpender.selector, 0, bad[k]));
            ex.executeWithCalls(
                pull(address(weth), 1e18),
                legs,
                calls1(bad[k], 0, aggData(1e18, 0, 0)),
                address(usdc),
                0,
                bob,
                block.timestamp
            );
        }
        // ETH goes as value: an approval spender makes no sense there
        EthDesk desk = new EthDesk(ex);
        legs = one(leg(CALL, 0, address(desk), address(0), address(usdc), 1e18, 0));
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.BadSpender.selector, 0, address(holder)));
        ex.executeWithCalls{value: 1e18}(
            new FillpathExecutor.Pull[](0), legs, calls1(address(holder), 0, ""), address(usdc), 0, bob, block.timestamp
        );
    }

    function test_callLegsNeedTheirCall() public {
        approveAll();
        FillpathExecutor.Leg[] memory legs = one(leg(CALL, 0, address(holder), address(weth), address(usdc), 1e18, 0));
        vm.startPrank(alice);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.BadLeg.selector, 0));
        ex.execute(pull(address(weth), 1e18), legs, address(usdc), 0, bob, block.timestamp);
        legs[0].fee = 1; // calls[1] does not exist
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.BadLeg.selector, 0));
        ex.executeWithCalls(
            pull(address(weth), 1e18),
            legs,
            calls1(address(holder), 0, aggData(1e18, 0, 0)),
            address(usdc),
            0,
            bob,
            block.timestamp
        );
        vm.stopPrank();
    }

    function test_aCallCannotReenter() public {
        EthDesk desk = new EthDesk(ex);
        approveAll();
        FillpathExecutor.Leg[] memory legs = one(leg(CALL, 0, address(desk), address(weth), address(usdc), 1e18, 0));
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                FillpathExecutor.CallFailed.selector, 0, abi.encodeWithSelector(FillpathExecutor.Reentered.selector)
            )
        );
        ex.executeWithCalls(
            pull(address(weth), 1e18),
            legs,
            calls1(address(desk), 0, abi.encodeCall(EthDesk.reenter, ())),
            address(usdc),
            0,
            bob,
            block.timestamp
        );
    }

    // ---------------------------------------------------------------- CALL with ETH

    /// @dev Two plans (a plan cannot take ETH in and give ETH out): ETH → USDC with the input as the call's
    ///      value, then USDC → ETH with the ETH paid to the executor during the call.
    function testFuzz_ethInAndOutThroughCalls(uint256 a) public {
        a = bound(a, 1, 100e18);
        EthDesk desk = new EthDesk{value: 1_000e18}(ex);
        give(address(usdc), address(desk), 1_000_000e6);
        uint256 usdcOut = a / 1e12 + 1; // the desk's price: 1 USDC unit per 1e12 wei, plus one
        uint256 ethBack = a / 2 + 1;
        FillpathExecutor.Call[] memory c =
            calls1(address(0), 0, abi.encodeCall(EthDesk.sellEth, (address(usdc), usdcOut)));
        FillpathExecutor.Leg[] memory legs = one(leg(CALL, 0, address(desk), address(0), address(usdc), a, usdcOut));
        uint256 aliceEth = alice.balance;
        vm.prank(alice);
        (uint256[] memory outs,) = ex.executeWithCalls{value: a}(
            new FillpathExecutor.Pull[](0), legs, c, address(usdc), usdcOut, bob, block.timestamp
        );
        assertEq(outs[0], usdcOut, "USDC for ETH");
        assertEq(aliceEth - alice.balance, a, "alice paid the value");
        assertEq(usdc.balanceOf(bob), usdcOut, "bob got USDC");

        c = calls1(address(desk), 0, abi.encodeCall(EthDesk.buyEth, (address(usdc), usdcOut, ethBack)));
        legs = one(leg(CALL, 0, address(desk), address(usdc), address(0), usdcOut, ethBack));
        approveAll();
        uint256 bobEth = bob.balance;
        vm.prank(alice);
        (outs,) = ex.executeWithCalls(pull(address(usdc), usdcOut), legs, c, address(0), ethBack, bob, block.timestamp);
        assertEq(outs[0], ethBack, "ETH for USDC, received during the call");
        assertEq(bob.balance - bobEth, ethBack, "bob got the ETH");
        assertNothingLeft();
    }

    function test_etherFromATargetOnlyDuringItsCall() public {
        EthDesk desk = new EthDesk(ex);
        vm.deal(address(desk), 1e18);
        vm.expectRevert(abi.encodeWithSelector(FillpathExecutor.UnexpectedEther.selector, address(desk)));
        desk.sendEthLater{value: 1}(address(ex));
    }

    // ---------------------------------------------------------------- one plan, every kind

    /// @dev WETH → USDC three ways (V2 exact a, V3 0.05% exact b, the aggregator over the 0.3% pool exact c),
    ///      then all the USDC → DAI on the StableSwap pool: each leg equals its reference, computed before.
    function testFuzz_mixedPlan(uint256 a, uint256 b, uint256 c) public {
        a = bound(a, 1e15, 200e18);
        b = bound(b, 1e15, 200e18);
        c = bound(c, 1e15, 200e18);
        uint256[4] memory q;
        q[0] = v2Quote(address(weth), address(usdc), a);
        q[1] = v3Quote(address(weth), address(usdc), 500, b);
        q[2] = v3Quote(address(weth), address(usdc), 3000, c);
        q[3] = stable.get_dy(0, 1, q[0] + q[1] + q[2]);
        FillpathExecutor.Leg[] memory legs = new FillpathExecutor.Leg[](4);
        legs[0] = leg(V2, 3000, pairWethUsdc, address(weth), address(usdc), a, q[0]);
        legs[1] = leg(V3, 500, pool500, address(weth), address(usdc), b, q[1]);
        legs[2] = leg(CALL, 0, address(holder), address(weth), address(usdc), c, q[2]);
        legs[3] = leg(STABLE, 1, address(stable), address(usdc), address(dai), ALL, q[3]);
        approveAll();
        vm.prank(alice);
        (uint256[] memory outs, uint256 total) = ex.executeWithCalls(
            pull(address(weth), a + b + c),
            legs,
            calls1(address(holder), 0, aggData(c, q[2], 0)),
            address(dai),
            q[3],
            bob,
            block.timestamp
        );
        for (uint256 k; k < 4; ++k) {
            assertEq(outs[k], q[k], "leg = reference");
        }
        assertEq(total, q[3], "total");
        assertEq(dai.balanceOf(bob), q[3], "bob");
        assertNothingLeft();
    }
}
