// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {LabAggregator} from "../src/LabAggregator.sol";
import {LabAllowanceHolder} from "../src/LabAllowanceHolder.sol";
import {LabStableSwap} from "../src/LabStableSwap.sol";
import {LabToken} from "../src/LabToken.sol";
import {UniswapFixture} from "./utils/UniswapFixture.sol";

/// @notice The lab aggregator on the real Uniswap contracts and a LabStableSwap: routes pay what the pools
///         quote, the allowance holder spends only within its exec, skims pay less, and minBuyAmount holds.
contract LabAggregatorTest is UniswapFixture {
    LabAllowanceHolder internal holder;
    LabAggregator internal agg;
    LabStableSwap internal stable; // USDC / DAI / USDT
    LabToken internal usdt;
    address internal alice = address(0xA11CE);
    address internal feeTaker = address(0xFEE);

    function setUp() public {
        deployUniswap();
        holder = new LabAllowanceHolder();
        agg = new LabAggregator(address(holder));
        usdt = new LabToken("Tether", "USDT", 6);
        usdt.mint(address(this), 1e18);
        address[] memory coins = new address[](3);
        (coins[0], coins[1], coins[2]) = (address(usdc), address(dai), address(usdt));
        stable = new LabStableSwap(coins, 500, 1_000_000, 0, address(this), "lab3", "lab3");
        usdc.approve(address(stable), type(uint256).max);
        dai.approve(address(stable), type(uint256).max);
        usdt.approve(address(stable), type(uint256).max);
        uint256[] memory amounts = new uint256[](3);
        (amounts[0], amounts[1], amounts[2]) = (5_000_000e6, 5_000_000e18, 5_000_000e6);
        stable.add_liquidity(amounts, 0);
        give(address(weth), alice, 10_000e18);
        give(address(usdc), alice, 10_000_000e6);
    }

    function hop(uint8 kind, uint24 fee, uint16 bps, address pool, address tin, address tout)
        internal
        pure
        returns (LabAggregator.Hop memory)
    {
        return LabAggregator.Hop(kind, fee, bps, pool, tin, tout);
    }

    function noSkim() internal pure returns (LabAggregator.Skim memory) {
        return LabAggregator.Skim(address(0), 0, 0);
    }

    /// @dev WETH → USDC split 60/40 over the V3 0.05% pool and the V2 pair, then all the USDC → DAI on the
    ///      StableSwap pool: returns the hops and the reference output.
    function route(uint256 amount) internal returns (LabAggregator.Hop[] memory hops, uint256 want) {
        uint256 a = amount * 6000 / 10_000;
        uint256 usdcOut =
            v3Quote(address(weth), address(usdc), 500, a) + v2Quote(address(weth), address(usdc), amount - a);
        want = stable.get_dy(0, 1, usdcOut);
        hops = new LabAggregator.Hop[](3);
        hops[0] = hop(1, 500, 6000, pool500, address(weth), address(usdc));
        hops[1] = hop(0, 3000, 10_000, pairWethUsdc, address(weth), address(usdc));
        hops[2] = hop(2, (0 << 8) | 1, 10_000, address(stable), address(usdc), address(dai));
    }

    function execData(uint256 amount, LabAggregator.Hop[] memory hops, uint256 minBuy, LabAggregator.Skim memory skim)
        internal
        view
        returns (bytes memory)
    {
        bytes memory swapData =
            abi.encodeCall(LabAggregator.swap, (address(weth), amount, address(dai), minBuy, alice, hops, skim));
        return
            abi.encodeCall(
                LabAllowanceHolder.exec, (address(agg), address(weth), amount, payable(address(agg)), swapData)
            );
    }

    function assertClean() internal view {
        assertEq(weth.balanceOf(address(agg)), 0, "aggregator WETH");
        assertEq(usdc.balanceOf(address(agg)), 0, "aggregator USDC");
        assertEq(dai.balanceOf(address(agg)), 0, "aggregator DAI");
        assertEq(weth.balanceOf(address(holder)), 0, "holder WETH");
        assertEq(weth.allowance(address(agg), address(stable)), 0, "no standing approval");
        assertEq(usdc.allowance(address(agg), address(stable)), 0, "no standing approval");
    }

    // ---------------------------------------------------------------- the AllowanceHolder flow

    function testFuzz_holderFlowPaysTheRoutesQuote(uint256 amount) public {
        amount = bound(amount, 1e15, 500e18);
        (LabAggregator.Hop[] memory hops, uint256 want) = route(amount);
        vm.startPrank(alice);
        weth.approve(address(holder), amount); // the quote's allowanceTarget
        (bool ok, bytes memory ret) = address(holder).call(execData(amount, hops, want, noSkim()));
        vm.stopPrank();
        assertTrue(ok, "exec");
        uint256 paid = abi.decode(abi.decode(ret, (bytes)), (uint256));
        assertEq(paid, want, "paid exactly the pools' quotes");
        assertEq(dai.balanceOf(alice), want, "alice got DAI");
        assertEq(weth.balanceOf(alice), 10_000e18 - amount, "alice paid the sell amount");
        assertEq(weth.allowance(alice, address(holder)), 0, "approval used up");
        assertClean();
    }

    function test_directCallUsesTheAggregatorsOwnApproval() public {
        (LabAggregator.Hop[] memory hops, uint256 want) = route(1e18);
        vm.startPrank(alice);
        weth.approve(address(agg), 1e18);
        uint256 paid = agg.swap(address(weth), 1e18, address(dai), want, alice, hops, noSkim());
        vm.stopPrank();
        assertEq(paid, want, "paid");
        assertClean();
    }

    function testFuzz_skimPaysLessThanQuoted(uint256 amount, uint16 bps, uint256 fixedAmount) public {
        amount = bound(amount, 1e16, 100e18);
        bps = uint16(bound(bps, 0, 500));
        (LabAggregator.Hop[] memory hops, uint256 want) = route(amount);
        fixedAmount = bound(fixedAmount, 0, want / 10);
        uint256 skimmed = want * bps / 10_000 + fixedAmount;
        vm.assume(skimmed > 0);
        LabAggregator.Skim memory skim = LabAggregator.Skim(feeTaker, bps, fixedAmount);
        vm.startPrank(alice);
        weth.approve(address(holder), amount);
        // the calldata's own minimum is what a lying quote would put there: the reduced amount
        (bool ok,) = address(holder).call(execData(amount, hops, want - skimmed, skim));
        vm.stopPrank();
        assertTrue(ok, "exec");
        assertEq(dai.balanceOf(alice), want - skimmed, "alice got the quote less the skim");
        assertEq(dai.balanceOf(feeTaker), skimmed, "the skim went to its recipient");
        assertClean();
    }

    function test_minBuyAmountIsEnforced() public {
        (LabAggregator.Hop[] memory hops, uint256 want) = route(1e18);
        LabAggregator.Skim memory skim = LabAggregator.Skim(feeTaker, 10, 0);
        uint256 got = want - want * 10 / 10_000;
        vm.startPrank(alice);
        weth.approve(address(holder), 1e18);
        vm.expectRevert(abi.encodeWithSelector(LabAggregator.TooMuchSlippage.selector, address(dai), want, got));
        (bool ok,) = address(holder).call(execData(1e18, hops, want, skim));
        vm.stopPrank();
        assertTrue(ok, "expectRevert makes the call report success");
    }

    function test_unspentInputGoesBackToTheTaker() public {
        LabAggregator.Hop[] memory hops = new LabAggregator.Hop[](1);
        hops[0] = hop(1, 500, 2500, pool500, address(weth), address(usdc)); // a quarter only
        uint256 want = v3Quote(address(weth), address(usdc), 500, 1e18 / 4);
        vm.startPrank(alice);
        weth.approve(address(agg), 1e18);
        agg.swap(address(weth), 1e18, address(usdc), want, alice, hops, noSkim());
        vm.stopPrank();
        assertEq(weth.balanceOf(alice), 10_000e18 - 1e18 / 4, "three quarters came back");
        assertClean();
    }

    // ---------------------------------------------------------------- the holder's guards

    function test_holderRefusesTokensAsTargets() public {
        vm.prank(alice);
        weth.approve(address(holder), 1e18);
        // the confused-deputy attack: exec a token's transferFrom with the holder's standing approval
        bytes memory steal = abi.encodeCall(IERC20.transferFrom, (alice, address(this), 1e18));
        vm.expectRevert(abi.encodeWithSelector(LabAllowanceHolder.ConfusedDeputy.selector, address(weth)));
        holder.exec(address(this), address(weth), 0, payable(address(weth)), steal);
        vm.expectRevert(abi.encodeWithSelector(LabAllowanceHolder.ConfusedDeputy.selector, address(holder)));
        holder.exec(address(this), address(weth), 0, payable(address(holder)), "");
    }

    function testFuzz_holderTransfersOnlyWithinExec(address operator, uint256 amount) public {
        amount = bound(amount, 1, 1e18);
        vm.prank(alice);
        weth.approve(address(holder), type(uint256).max);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                LabAllowanceHolder.AllowanceExceeded.selector, operator, alice, address(weth), 0, amount
            )
        );
        holder.transferFrom(address(weth), alice, operator, amount);
    }

    function test_aggregatorSpendsNoMoreThanExecAllowed() public {
        (LabAggregator.Hop[] memory hops,) = route(1e18);
        bytes memory swapData =
            abi.encodeCall(LabAggregator.swap, (address(weth), 2e18, address(dai), 0, alice, hops, noSkim()));
        vm.startPrank(alice);
        weth.approve(address(holder), 2e18);
        vm.expectRevert(
            abi.encodeWithSelector(
                LabAllowanceHolder.AllowanceExceeded.selector, address(agg), alice, address(weth), 1e18, 2e18
            )
        );
        holder.exec(address(agg), address(weth), 1e18, payable(address(agg)), swapData);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------- malformed routes and callbacks

    function test_badRoutes() public {
        LabAggregator.Hop[] memory hops = new LabAggregator.Hop[](1);
        vm.startPrank(alice);
        weth.approve(address(agg), type(uint256).max);
        vm.expectRevert(LabAggregator.NoRoute.selector);
        agg.swap(address(weth), 1e18, address(dai), 0, alice, new LabAggregator.Hop[](0), noSkim());
        hops[0] = hop(7, 0, 10_000, pool500, address(weth), address(usdc));
        vm.expectRevert(abi.encodeWithSelector(LabAggregator.BadHop.selector, 0));
        agg.swap(address(weth), 1e18, address(usdc), 0, alice, hops, noSkim());
        hops[0] = hop(1, 500, 10_001, pool500, address(weth), address(usdc));
        vm.expectRevert(abi.encodeWithSelector(LabAggregator.BadHop.selector, 0));
        agg.swap(address(weth), 1e18, address(usdc), 0, alice, hops, noSkim());
        hops[0] = hop(1, 500, 10_000, pool500, address(weth), address(usdc));
        vm.expectRevert(abi.encodeWithSelector(LabAggregator.BadRecipient.selector, address(agg)));
        agg.swap(address(weth), 1e18, address(usdc), 0, address(agg), hops, noSkim());
        vm.expectRevert(abi.encodeWithSelector(LabAggregator.SkimTooLarge.selector, 10_001e18, 0));
        agg.swap(address(weth), 1, address(usdc), 0, alice, hops, LabAggregator.Skim(feeTaker, 0, 10_001e18));
        vm.stopPrank();
    }

    function testFuzz_callbackRefusedOutsideAHop(address caller, int256 d0, int256 d1, bool asPool) public {
        if (asPool) caller = pool500;
        give(address(weth), address(agg), 1e18); // something to steal (someone's mistake)
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSelector(LabAggregator.BadCallback.selector, caller));
        agg.uniswapV3SwapCallback(d0, d1, "");
    }
}
