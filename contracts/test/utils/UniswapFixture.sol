// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {LabToken} from "../../src/LabToken.sol";
import {TestBase} from "./TestBase.sol";

interface IWETH9 is IERC20 {
    function deposit() external payable;
    function withdraw(uint256 amount) external;
}

interface IV2Factory {
    function createPair(address a, address b) external returns (address);
}

interface IV2Pair {
    function mint(address to) external returns (uint256);
}

interface IV2Router {
    function getAmountsOut(uint256 amountIn, address[] calldata path) external view returns (uint256[] memory);
}

interface IV3Factory {
    function createPool(address a, address b, uint24 fee) external returns (address);
}

interface IV3Pool {
    function initialize(uint160 sqrtPriceX96) external;
    function mint(address to, int24 lo, int24 hi, uint128 liquidity, bytes calldata data)
        external
        returns (uint256, uint256);
    function slot0() external view returns (uint160, int24, uint16, uint16, uint16, uint8, bool);
    function token0() external view returns (address);
    function token1() external view returns (address);
}

interface IQuoterV2 {
    struct QuoteExactInputSingleParams {
        address tokenIn;
        address tokenOut;
        uint256 amountIn;
        uint24 fee;
        uint160 sqrtPriceLimitX96;
    }

    function quoteExactInputSingle(QuoteExactInputSingleParams memory params)
        external
        returns (uint256 amountOut, uint160 sqrtPriceX96After, uint32 ticksCrossed, uint256 gasEstimate);
}

/// @notice The real Uniswap V2/V3 contracts from their npm artifacts (the same bytes the lab deploys), with
///         WETH/USDC in a V2 pair and two V3 pools, DAI/USDC in a V2 pair, and Router02/QuoterV2 as the
///         independent reference for what each leg must return.
abstract contract UniswapFixture is TestBase {
    IWETH9 internal weth;
    LabToken internal usdc;
    LabToken internal dai;
    address internal v2Factory;
    address internal v3Factory;
    IV2Router internal router02;
    IQuoterV2 internal quoter;
    address internal pairWethUsdc;
    address internal pairDaiUsdc;
    address internal pool500;
    address internal pool3000;

    function deployUniswap() internal {
        vm.deal(address(this), 1e30);
        weth = IWETH9(deployCode("@uniswap/v2-periphery/build/WETH9.json", ""));
        usdc = new LabToken("USD Coin", "USDC", 6);
        dai = new LabToken("Dai", "DAI", 18);
        weth.deposit{value: 1e27}();
        usdc.mint(address(this), 1e21);
        dai.mint(address(this), 1e33);

        v2Factory = deployCode("@uniswap/v2-core/build/UniswapV2Factory.json", abi.encode(address(this)));
        router02 = IV2Router(
            deployCode("@uniswap/v2-periphery/build/UniswapV2Router02.json", abi.encode(v2Factory, address(weth)))
        );
        v3Factory = deployCode("@uniswap/v3-core/artifacts/contracts/UniswapV3Factory.sol/UniswapV3Factory.json", "");
        quoter = IQuoterV2(
            deployCode(
                "@uniswap/v3-periphery/artifacts/contracts/lens/QuoterV2.sol/QuoterV2.json",
                abi.encode(v3Factory, address(weth))
            )
        );

        pairWethUsdc = _v2(address(weth), address(usdc), 1_000e18, 3_000_000e6);
        pairDaiUsdc = _v2(address(dai), address(usdc), 5_000_000e18, 5_000_000e6);
        pool500 = _v3(address(weth), address(usdc), 500, 10, 4_000e18, 12_000_000e6);
        pool3000 = _v3(address(weth), address(usdc), 3000, 60, 1_000e18, 3_000_000e6);
        vm.label(pairWethUsdc, "V2 WETH/USDC");
        vm.label(pairDaiUsdc, "V2 DAI/USDC");
        vm.label(pool500, "V3 WETH/USDC 0.05%");
        vm.label(pool3000, "V3 WETH/USDC 0.3%");
    }

    function _v2(address a, address b, uint256 amountA, uint256 amountB) private returns (address pair) {
        pair = IV2Factory(v2Factory).createPair(a, b);
        give(a, pair, amountA);
        give(b, pair, amountB);
        IV2Pair(pair).mint(address(this));
    }

    /// @dev A full-range position holding about amountA/amountB, and ten times its liquidity in ±50 spacings
    ///      around the price, so a large trade crosses initialized ticks.
    function _v3(address a, address b, uint24 fee, int24 spacing, uint256 amountA, uint256 amountB)
        private
        returns (address pool)
    {
        pool = IV3Factory(v3Factory).createPool(a, b, fee);
        (uint256 amount0, uint256 amount1) = a < b ? (amountA, amountB) : (amountB, amountA);
        IV3Pool(pool).initialize(uint160(sqrt(((amount1 << 96) / amount0) << 96)));
        uint128 liquidity = uint128(sqrt(amount0 * amount1));
        // forge-lint: disable-next-line(divide-before-multiply) rounding to a multiple of the spacing
        int24 full = (887272 / spacing) * spacing;
        IV3Pool(pool).mint(address(this), -full, full, liquidity, "");
        (, int24 tick,,,,,) = IV3Pool(pool).slot0();
        // forge-lint: disable-next-line(divide-before-multiply) rounding to a multiple of the spacing
        int24 centre = (tick / spacing) * spacing;
        IV3Pool(pool).mint(address(this), centre - 50 * spacing, centre + 50 * spacing, liquidity * 10, "");
    }

    function uniswapV3MintCallback(uint256 owed0, uint256 owed1, bytes calldata) external {
        if (owed0 != 0) give(IV3Pool(msg.sender).token0(), msg.sender, owed0);
        if (owed1 != 0) give(IV3Pool(msg.sender).token1(), msg.sender, owed1);
    }

    function give(address token, address to, uint256 amount) internal {
        assertTrue(IERC20(token).transfer(to, amount), "transfer");
    }

    function v2Quote(address tokenIn, address tokenOut, uint256 amountIn) internal view returns (uint256) {
        address[] memory path = new address[](2);
        path[0] = tokenIn;
        path[1] = tokenOut;
        return router02.getAmountsOut(amountIn, path)[1];
    }

    function v3Quote(address tokenIn, address tokenOut, uint24 fee, uint256 amountIn) internal returns (uint256 out) {
        (out,,,) =
            quoter.quoteExactInputSingle(IQuoterV2.QuoteExactInputSingleParams(tokenIn, tokenOut, amountIn, fee, 0));
    }

    function sqrt(uint256 x) internal pure returns (uint256 r) {
        if (x == 0) return 0;
        r = x;
        uint256 y = (x + 1) / 2;
        while (y < r) {
            r = y;
            y = (x / y + y) / 2;
        }
    }
}
