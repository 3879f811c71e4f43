// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {ERC20PresetMinterPauser} from "@openzeppelin/contracts/token/ERC20/presets/ERC20PresetMinterPauser.sol";

/// @notice The lab's ERC20: OpenZeppelin 4.9.6's minter/pauser preset with the decimals of the token it
///         stands in for (USDC and USDT have 6, WBTC 8), which the preset fixes at 18.
contract LabToken is ERC20PresetMinterPauser {
    uint8 private immutable _decimals;

    constructor(string memory name_, string memory symbol_, uint8 decimals_)
        ERC20PresetMinterPauser(name_, symbol_)
    {
        _decimals = decimals_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }
}
