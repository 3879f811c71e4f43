// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The few forge cheatcodes these tests use, at the standard cheatcode address. The project keeps its
///         own tiny base instead of forge-std: the npm forge-std is old, and this keeps `forge test` offline
///         with nothing but the pinned node tools.
interface Vm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function readFile(string calldata path) external view returns (string memory);
    function parseJsonString(string calldata json, string calldata key) external pure returns (string memory);
    function parseBytes(string calldata text) external pure returns (bytes memory);
    function deal(address who, uint256 amount) external;
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 selector) external;
    function expectPartialRevert(bytes4 selector) external;
    function warp(uint256 timestamp) external;
    function assume(bool condition) external pure;
    function label(address who, string calldata name) external;
    function chainId(uint256 newChainId) external;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);
}

abstract contract TestBase {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    error AssertEq(string what, uint256 got, uint256 want);
    error AssertAddr(string what, address got, address want);
    error Assert(string what);

    function assertEq(uint256 got, uint256 want, string memory what) internal pure {
        if (got != want) revert AssertEq(what, got, want);
    }

    function assertEq(address got, address want, string memory what) internal pure {
        if (got != want) revert AssertAddr(what, got, want);
    }

    function assertTrue(bool ok, string memory what) internal pure {
        if (!ok) revert Assert(what);
    }

    /// @dev Maps any x into [lo, hi] (uniformly enough for fuzzing), so fuzz runs are not thrown away.
    function bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        return lo + x % (hi - lo + 1);
    }

    /// @dev Creation code from an npm artifact: Hardhat (`"bytecode": "0x…"`) and Waffle (`"bytecode": "…"`)
    ///      builds alike. vm.getCode refuses the Waffle files (they repeat the key under `evm`).
    function artifactCode(string memory path) internal view returns (bytes memory) {
        string memory json = vm.readFile(string.concat("tools/node_modules/", path));
        return vm.parseBytes(vm.parseJsonString(json, ".bytecode"));
    }

    function deployCode(string memory path, bytes memory args) internal returns (address addr) {
        bytes memory code = bytes.concat(artifactCode(path), args);
        assembly {
            addr := create(0, add(code, 0x20), mload(code))
        }
        if (addr == address(0)) revert Assert(string.concat("deploy failed: ", path));
    }
}
