// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {FillpathExecutor} from "../../src/FillpathExecutor.sol";

/// @notice A V2 "pair" that, when asked to swap, tries to take the executor's in-flight tokens: by calling the
///         V3 callback as if it were a pool, or by re-entering `execute`; or keeps what it was sent; or pays
///         with a token the leg did not name (which would be stranded in the executor if it were accepted).
contract EvilPair {
    enum Mode {
        Callback,
        Reenter,
        Keep,
        PayAnotherToken
    }

    FillpathExecutor internal immutable executor;
    Mode internal immutable mode;
    address public other; // what PayAnotherToken pays with

    constructor(FillpathExecutor executor_, Mode mode_) {
        executor = executor_;
        mode = mode_;
    }

    function setOther(address token) external {
        other = token;
    }

    function getReserves() external pure returns (uint112, uint112, uint32) {
        return (1e24, 1e24, 0);
    }

    function swap(uint256 out0, uint256 out1, address to, bytes calldata) external {
        if (mode == Mode.PayAnotherToken) {
            require(IERC20(other).transfer(to, out0 + out1), "transfer");
            return;
        }
        if (mode == Mode.Callback) {
            executor.uniswapV3SwapCallback(1e18, 1e18, "");
        } else if (mode == Mode.Reenter) {
            executor.execute(
                new FillpathExecutor.Pull[](0),
                new FillpathExecutor.Leg[](0),
                address(1),
                0,
                address(this),
                type(uint256).max
            );
        }
    }
}

/// @notice A "V3 pool" at an address no factory produced: the executor must refuse to call it at all.
contract FakePool {
    bool public called;

    function swap(address, bool, int256, uint160, bytes calldata) external returns (int256, int256) {
        called = true;
        FillpathExecutor(payable(msg.sender)).uniswapV3SwapCallback(1e18, 1e18, "");
        return (0, 0);
    }
}

/// @notice A "StableSwap pool" with the right coins that pulls only half of what it is given (and pays for
///         that half): the executor must not leave the other half approved to it.
contract StingyStablePool {
    address[2] internal coinList;

    constructor(address coin0, address coin1) {
        coinList = [coin0, coin1];
    }

    function coins(uint256 i) external view returns (address) {
        return coinList[i];
    }

    function exchange(int128 i, int128 j, uint256 dx, uint256) external returns (uint256) {
        // forge-lint: disable-next-line(unsafe-typecast) test indices are 0 or 1
        require(IERC20(coinList[uint256(int256(i))]).transferFrom(msg.sender, address(this), dx / 2), "in");
        // forge-lint: disable-next-line(unsafe-typecast) test indices are 0 or 1
        require(IERC20(coinList[uint256(int256(j))]).transfer(msg.sender, dx / 2), "out");
        return dx / 2;
    }
}

/// @notice A CALL-leg target that trades ETH: sells it for a token (paying from its inventory) or buys it with a
///         token pulled through the caller's approval (paying ETH back to the caller during the call), or calls
///         back into the executor.
contract EthDesk {
    FillpathExecutor internal immutable executor;

    constructor(FillpathExecutor executor_) payable {
        executor = executor_;
    }

    function sellEth(address token, uint256 out) external payable {
        require(IERC20(token).transfer(msg.sender, out), "out");
    }

    function buyEth(address token, uint256 amountIn, uint256 ethOut) external {
        require(IERC20(token).transferFrom(msg.sender, address(this), amountIn), "in");
        (bool ok,) = msg.sender.call{value: ethOut}("");
        require(ok, "eth");
    }

    function reenter() external {
        executor.execute(
            new FillpathExecutor.Pull[](0),
            new FillpathExecutor.Leg[](0),
            address(1),
            0,
            address(this),
            type(uint256).max
        );
    }

    function sendEthLater(address to) external payable {
        (bool ok, bytes memory ret) = to.call{value: msg.value}("");
        if (!ok) {
            assembly {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }
}
