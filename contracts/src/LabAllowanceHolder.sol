// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

interface IERC20TransferFromLike {
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

/// @title LabAllowanceHolder
/// @notice The allowance target of the lab aggregator, in the shape of 0x Swap API v2's AllowanceHolder flow:
///         the taker approves this contract (the quote's `allowanceTarget`) and sends the quote's transaction to
///         it: `exec(operator, token, amount, target, data)`. For that call only, `operator` may move up to
///         `amount` of `token` from the taker with `transferFrom(token, owner, recipient, amount)`; `target` is
///         called with `data` and the taker's address appended (20 bytes, as ERC-2771 forwarders do), so the
///         settlement contract knows whose allowance it spends.
///
/// Trust model:
///  - Allowances live in transient storage keyed by (operator, owner, token) and are cleared when `exec`
///    returns: nothing is spendable between transactions, or by anyone but the operator the owner named.
///  - A taker's ERC20 approval of this contract is what makes it dangerous as a confused deputy: a call from
///    here to a token could spend it. So `exec` refuses targets that answer `balanceOf` like an ERC20, and
///    this contract itself; `transferFrom` pays only what the owner's own `exec` allowed.
contract LabAllowanceHolder {
    error ConfusedDeputy(address target);
    error AllowanceExceeded(address operator, address owner, address token, uint256 allowed, uint256 amount);
    error TransferFailed(address token, bytes reason);

    /// @notice Let `operator` spend up to `amount` of the caller's `token` while `target` runs `data`.
    /// @return result what `target` returned (its revert is passed through as is)
    function exec(address operator, address token, uint256 amount, address payable target, bytes calldata data)
        external
        payable
        returns (bytes memory result)
    {
        if (target == address(this) || _isERC20(target)) revert ConfusedDeputy(target);
        bytes32 slot = _slot(operator, msg.sender, token);
        assembly {
            tstore(slot, amount)
        }
        bool ok;
        (ok, result) = target.call{value: msg.value}(bytes.concat(data, bytes20(msg.sender)));
        assembly {
            tstore(slot, 0)
        }
        if (!ok) {
            assembly {
                revert(add(result, 0x20), mload(result))
            }
        }
    }

    /// @notice Move `amount` of `owner`'s `token` to `recipient`, within what `owner`'s running `exec` allowed
    ///         the caller (the operator).
    function transferFrom(address token, address owner, address recipient, uint256 amount) external returns (bool) {
        bytes32 slot = _slot(msg.sender, owner, token);
        uint256 allowed;
        assembly {
            allowed := tload(slot)
        }
        if (amount > allowed) revert AllowanceExceeded(msg.sender, owner, token, allowed, amount);
        assembly {
            tstore(slot, sub(allowed, amount))
        }
        (bool ok, bytes memory ret) =
            token.call(abi.encodeCall(IERC20TransferFromLike.transferFrom, (owner, recipient, amount)));
        if (!ok || (ret.length == 0 ? token.code.length == 0 : (ret.length != 32 || abi.decode(ret, (uint256)) != 1))) {
            revert TransferFailed(token, ret);
        }
        return true;
    }

    function _slot(address operator, address owner, address token) private pure returns (bytes32) {
        return keccak256(abi.encode(operator, owner, token));
    }

    /// @dev Anything whose `balanceOf(address)` returns a word is treated as a token.
    function _isERC20(address target) private view returns (bool) {
        (bool ok, bytes memory ret) = target.staticcall(abi.encodeWithSignature("balanceOf(address)", address(this)));
        return ok && ret.length >= 32;
    }
}
