// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

interface IAggTokenLike {
    function balanceOf(address owner) external view returns (uint256);
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function approve(address spender, uint256 amount) external returns (bool);
    function allowance(address owner, address spender) external view returns (uint256);
}

interface IAggAllowanceHolderLike {
    function transferFrom(address token, address owner, address recipient, uint256 amount) external returns (bool);
}

interface IAggV2PairLike {
    function getReserves() external view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast);
    function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data) external;
}

interface IAggV3PoolLike {
    function swap(
        address recipient,
        bool zeroForOne,
        int256 amountSpecified,
        uint160 sqrtPriceLimitX96,
        bytes calldata data
    ) external returns (int256 amount0, int256 amount1);
}

interface IAggStableSwapLike {
    function exchange(int128 i, int128 j, uint256 dx, uint256 minDy) external;
}

/// @title LabAggregator
/// @notice The settlement contract of the lab's aggregator, in the spirit of 0x Swap API v2's Settler: the
///         quote's calldata describes a route over lab pools (Uniswap V2 pairs, V3 pools, LabStableSwap), the
///         contract takes `sellAmount` of `sellToken` from the taker, runs the hops, and pays `buyToken` to
///         `recipient`, at least `minBuyAmount` or it reverts (`TooMuchSlippage`).
///
///         The taker is whoever's allowance pays: called through LabAllowanceHolder.exec (the 0x v2
///         AllowanceHolder flow), the taker is the address the holder appended to the calldata and the sell
///         token comes through the holder's transient allowance; called directly, the taker is msg.sender and
///         the sell token comes through an ERC20 approval of this contract.
///
///         Each hop spends `bps` (of 10,000) of what the contract holds of its input when the hop runs, so a
///         split is [6000 on pool A, 10000 on pool B] and a hop after it spends what arrived. What is left of
///         any hop's input after the route goes back to the taker; the contract keeps nothing.
///
///         Fault injection for the lab's quote service: `skim` sends `bps` of the output plus a fixed `amount`
///         to `skim.recipient` before `minBuyAmount` is checked, so a service can hand out calldata that pays
///         less than its quote said (the 0x integrator-fee mechanism, undisclosed). The settler still enforces
///         the calldata's own `minBuyAmount`; only the taker's own check (the executor's per-leg minOut) can
///         catch a quote that lies about both.
///
/// Trust model: the contract holds tokens only within a call. A route names its pools, so a wrong or hostile
/// pool costs only the taker whose calldata named it; the V3 callback pays only the pool whose swap is running,
/// once, at most that hop's input. A transient lock refuses re-entry.
contract LabAggregator {
    uint8 public constant UNISWAP_V2 = 0;
    uint8 public constant UNISWAP_V3 = 1;
    uint8 public constant STABLESWAP = 2;
    uint256 public constant BPS = 10_000;

    uint160 internal constant MIN_SQRT_PRICE_LIMIT = 4295128740;
    uint160 internal constant MAX_SQRT_PRICE_LIMIT = 1461446703485210103287273052203988822378723970341;

    address public immutable allowanceHolder;

    /// @notice One step of a route. `fee`: V2, the pair's fee in ppm of the input (3000 = 0.3%); V3, ignored
    ///         (the pool knows its own); StableSwap, the coin indices i << 8 | j.
    struct Hop {
        uint8 kind;
        uint24 fee;
        uint16 bps;
        address pool;
        address tokenIn;
        address tokenOut;
    }

    /// @notice Output taken before the minimum is checked: `bps` of it plus `amount`, sent to `recipient`.
    struct Skim {
        address recipient;
        uint16 bps;
        uint256 amount;
    }

    bool private transient _locked;
    address private transient _activePool;
    address private transient _activeTokenIn;
    uint256 private transient _activeAmount;

    event Swapped(
        address indexed taker,
        address indexed recipient,
        address sellToken,
        address buyToken,
        uint256 sellAmount,
        uint256 buyAmount,
        address skimRecipient,
        uint256 skimmed
    );

    error TooMuchSlippage(address buyToken, uint256 minBuyAmount, uint256 buyAmount);
    error BadHop(uint256 index);
    error NoRoute();
    error BadRecipient(address recipient);
    error SkimTooLarge(uint256 skim, uint256 out);
    error BadCallback(address caller);
    error Reentered();
    error TransferFailed(address token, bytes reason);

    constructor(address allowanceHolder_) {
        allowanceHolder = allowanceHolder_;
    }

    /// @notice Take `sellAmount` of `sellToken` from the taker, run `hops`, pay `buyToken` to `recipient`.
    /// @return buyAmount what `recipient` got (after the skim), at least `minBuyAmount`
    function swap(
        address sellToken,
        uint256 sellAmount,
        address buyToken,
        uint256 minBuyAmount,
        address recipient,
        Hop[] calldata hops,
        Skim calldata skim
    ) external returns (uint256 buyAmount) {
        if (_locked) revert Reentered();
        _locked = true;
        if (hops.length == 0 || sellToken == buyToken) revert NoRoute();
        if (recipient == address(0) || recipient == address(this)) revert BadRecipient(recipient);
        address taker = _taker();
        _pull(sellToken, taker, sellAmount);
        for (uint256 k; k < hops.length; ++k) {
            _hop(k, hops[k]);
        }
        uint256 skimmed;
        (buyAmount, skimmed) = _pay(buyToken, minBuyAmount, recipient, skim);
        _returnLeftovers(taker, hops, buyToken);
        emit Swapped(taker, recipient, sellToken, buyToken, sellAmount, buyAmount, skim.recipient, skimmed);
        _locked = false;
    }

    /// @notice Pays the V3 pool whose swap a hop started, at most that hop's input; refuses everyone else.
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external {
        address pool = _activePool;
        if (msg.sender != pool || pool == address(0)) revert BadCallback(msg.sender);
        _activePool = address(0);
        uint256 owed = uint256(amount0Delta > 0 ? amount0Delta : amount1Delta);
        if (owed > _activeAmount) revert BadCallback(msg.sender);
        _send(_activeTokenIn, pool, owed);
    }

    /// @dev The holder appends the taker (20 bytes) to what it forwards; anyone else trades for itself.
    function _taker() private view returns (address taker) {
        if (msg.sender != allowanceHolder) return msg.sender;
        taker = address(bytes20(msg.data[msg.data.length - 20:]));
    }

    function _pull(address token, address taker, uint256 amount) private {
        if (msg.sender == allowanceHolder) {
            IAggAllowanceHolderLike(allowanceHolder).transferFrom(token, taker, address(this), amount);
        } else {
            _tokenCall(token, abi.encodeCall(IAggTokenLike.transferFrom, (taker, address(this), amount)));
        }
    }

    function _hop(uint256 k, Hop calldata h) private {
        uint256 held = _balance(h.tokenIn);
        if (h.bps == 0 || h.bps > BPS || h.tokenIn == h.tokenOut) revert BadHop(k);
        uint256 amountIn = h.bps == BPS ? held : held * h.bps / BPS;
        if (amountIn == 0) revert BadHop(k);
        if (h.kind == UNISWAP_V2) {
            _hopV2(k, h, amountIn);
        } else if (h.kind == UNISWAP_V3) {
            _hopV3(k, h, amountIn);
        } else if (h.kind == STABLESWAP) {
            _hopStable(k, h, amountIn);
        } else {
            revert BadHop(k);
        }
    }

    function _hopV2(uint256 k, Hop calldata h, uint256 amountIn) private {
        if (h.fee >= 1e6) revert BadHop(k);
        bool zeroForOne = h.tokenIn < h.tokenOut;
        (uint256 r0, uint256 r1,) = IAggV2PairLike(h.pool).getReserves();
        (uint256 reserveIn, uint256 reserveOut) = zeroForOne ? (r0, r1) : (r1, r0);
        uint256 inWithFee = amountIn * (1e6 - h.fee);
        uint256 out = inWithFee * reserveOut / (reserveIn * 1e6 + inWithFee);
        if (out == 0) revert BadHop(k);
        _send(h.tokenIn, h.pool, amountIn);
        (uint256 out0, uint256 out1) = zeroForOne ? (uint256(0), out) : (out, uint256(0));
        IAggV2PairLike(h.pool).swap(out0, out1, address(this), "");
    }

    function _hopV3(uint256 k, Hop calldata h, uint256 amountIn) private {
        if (amountIn > uint256(type(int256).max)) revert BadHop(k);
        bool zeroForOne = h.tokenIn < h.tokenOut;
        _activePool = h.pool;
        _activeTokenIn = h.tokenIn;
        _activeAmount = amountIn;
        IAggV3PoolLike(h.pool)
            .swap(
                address(this),
                zeroForOne,
                // forge-lint: disable-next-line(unsafe-typecast) amountIn <= type(int256).max, checked above
                int256(amountIn),
                zeroForOne ? MIN_SQRT_PRICE_LIMIT : MAX_SQRT_PRICE_LIMIT,
                ""
            );
        _activePool = address(0);
    }

    function _hopStable(uint256 k, Hop calldata h, uint256 amountIn) private {
        uint256 i = h.fee >> 8;
        uint256 j = h.fee & 0xff;
        if (i > 0xff || i == j) revert BadHop(k);
        _tokenCall(h.tokenIn, abi.encodeCall(IAggTokenLike.approve, (h.pool, amountIn)));
        // forge-lint: disable-next-line(unsafe-typecast) i, j < 256
        IAggStableSwapLike(h.pool).exchange(int128(int256(i)), int128(int256(j)), amountIn, 0);
        if (IAggTokenLike(h.tokenIn).allowance(address(this), h.pool) != 0) {
            _tokenCall(h.tokenIn, abi.encodeCall(IAggTokenLike.approve, (h.pool, 0)));
        }
    }

    function _pay(address buyToken, uint256 minBuyAmount, address recipient, Skim calldata skim)
        private
        returns (uint256 buyAmount, uint256 skimmed)
    {
        uint256 out = _balance(buyToken);
        skimmed = out * skim.bps / BPS + skim.amount;
        if (skimmed > out) revert SkimTooLarge(skimmed, out);
        buyAmount = out - skimmed;
        if (buyAmount < minBuyAmount) revert TooMuchSlippage(buyToken, minBuyAmount, buyAmount);
        if (skimmed != 0) {
            if (skim.recipient == address(0)) revert BadRecipient(address(0));
            _send(buyToken, skim.recipient, skimmed);
        }
        if (buyAmount != 0) _send(buyToken, recipient, buyAmount);
    }

    function _returnLeftovers(address taker, Hop[] calldata hops, address buyToken) private {
        for (uint256 k; k < hops.length; ++k) {
            address token = hops[k].tokenIn;
            if (token == buyToken) continue;
            uint256 left = _balance(token);
            if (left != 0) _send(token, taker, left);
        }
    }

    function _balance(address token) private view returns (uint256) {
        return IAggTokenLike(token).balanceOf(address(this));
    }

    function _send(address token, address to, uint256 amount) private {
        _tokenCall(token, abi.encodeCall(IAggTokenLike.transfer, (to, amount)));
    }

    /// @dev Must succeed and return true or nothing (USDT-style tokens return nothing).
    function _tokenCall(address token, bytes memory data) private {
        (bool ok, bytes memory ret) = token.call(data);
        if (!ok || (ret.length == 0 ? token.code.length == 0 : (ret.length != 32 || abi.decode(ret, (uint256)) != 1))) {
            revert TransferFailed(token, ret);
        }
    }
}
