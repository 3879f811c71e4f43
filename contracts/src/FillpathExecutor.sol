// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

interface IERC20Like {
    function balanceOf(address owner) external view returns (uint256);
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

interface IUniswapV2PairLike {
    function getReserves() external view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast);
    function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data) external;
}

interface IUniswapV3PoolLike {
    function swap(
        address recipient,
        bool zeroForOne,
        int256 amountSpecified,
        uint160 sqrtPriceLimitX96,
        bytes calldata data
    ) external returns (int256 amount0, int256 amount1);
}

interface IWETH9Like {
    function deposit() external payable;
    function withdraw(uint256 amount) external;
}

/// @title FillpathExecutor
/// @notice Executes every leg of one fillpath plan on one chain in one transaction: all legs happen, or none.
///         Legs run in order; a leg may spend an exact amount or everything the executor holds of its input
///         token (`amountIn == ALL`), i.e. the outputs of earlier legs. Native ETH is `address(0)`.
///
/// Trust model (why the checks below are the ones that matter):
///  - The executor holds no balance and no allowance between transactions. It never approves anyone: a V2
///    input is transferred to the pair, a V3 input is paid inside the pool's callback, WETH needs none. So
///    a token, pair or pool can at most take what the current caller routed into the leg that names it.
///  - Funds are pulled only from `msg.sender`, exactly the amounts in `pulls` (the caller approves exactly
///    those); everything left after the legs goes back to `msg.sender`, the output to `recipient`, and the
///    executor checks that nothing of any token the plan touched remains.
///  - A V3 leg's pool must be the V3 factory's CREATE2 address for (tokenIn, tokenOut, fee), checked before
///    the pool is called; `uniswapV3SwapCallback` pays only that pool, once, while its swap is in progress.
///    Any other caller, or the same pool at any other time, gets `BadCallback`.
///  - V2 pairs are not tied to one factory (forks with other fees work through the leg's `fee`). A V2 leg's
///    output is what the executor's balance of tokenOut gained, and a leg that yields nothing reverts, so a
///    pair that does not pay (or pays another token) fails the plan; it costs only the caller who named it.
///  - External calls go to: the tokens and pairs/pools named in the legs, WETH, and, for ETH only, the
///    recipient or sender at the very end. A transient-storage lock refuses any re-entry into `execute`.
contract FillpathExecutor {
    /// @notice Leg kinds.
    uint8 public constant UNISWAP_V2 = 0;
    uint8 public constant UNISWAP_V3 = 1;
    uint8 public constant WRAP = 2; // ETH → WETH
    uint8 public constant UNWRAP = 3; // WETH → ETH

    /// @notice `Leg.amountIn` meaning "everything of tokenIn the executor holds now".
    uint256 public constant ALL = type(uint256).max;

    /// @notice keccak256 of UniswapV3Pool's creation code, as compiled into the V3 periphery.
    bytes32 public constant V3_POOL_INIT_CODE_HASH = 0xe34f199b19b2b4f47f68442619d555527d244f78a3297ea89325f843f87b8b54;

    // TickMath.MIN_SQRT_RATIO + 1 and MAX_SQRT_RATIO - 1: no price limit; minOut is the protection.
    uint160 internal constant MIN_SQRT_PRICE_LIMIT = 4295128740;
    uint160 internal constant MAX_SQRT_PRICE_LIMIT = 1461446703485210103287273052203988822378723970341;
    address internal constant NATIVE = address(0);

    address public immutable weth;
    address public immutable v3Factory;

    struct Pull {
        address token;
        uint256 amount;
    }

    struct Leg {
        uint8 kind;
        uint24 fee; // V2: fee in ppm of the input (3000 = 0.3%); V3: the pool's fee tier
        address pool; // V2 pair or V3 pool; ignored for WRAP/UNWRAP
        address tokenIn; // address(0) = ETH (WRAP)
        address tokenOut; // address(0) = ETH (UNWRAP)
        uint256 amountIn; // exact, or ALL
        uint256 minOut;
    }

    bool private transient _locked;
    address private transient _activePool; // the V3 pool whose swap is in progress; it alone may call back
    address private transient _activeTokenIn;

    error DeadlinePassed(uint256 deadline, uint256 timestamp);
    error LegMinOut(uint256 index, uint256 got, uint256 min);
    error NoOutput(uint256 index);
    error TotalMinOut(uint256 got, uint256 min);
    error BadCallback(address caller);
    error BadPool(uint256 index, address pool);
    error BadLeg(uint256 index);
    error ZeroInput(uint256 index);
    error InputIsOutput(address token);
    error BadRecipient(address recipient);
    error Reentered();
    error TransferFailed(address token, bytes reason);
    error NativeTransferFailed(address to);
    error UnexpectedEther(address from);
    error Leftover(address token, uint256 amount);

    constructor(address weth_, address v3Factory_) {
        weth = weth_;
        v3Factory = v3Factory_;
    }

    /// @notice Run `legs` in order with the caller's funds and send everything of `tokenOut` to `recipient`.
    /// @param pulls the caller's tokens to take (each exactly; approve exactly these); ETH comes as msg.value
    /// @param tokenOut what reaches the recipient (address(0) = ETH); it may not also be an input
    /// @param minTotalOut the least of tokenOut the recipient must get
    /// @param deadline the last block timestamp at which this may execute
    /// @return amountsOut each leg's output, in leg order
    /// @return totalOut what the recipient got
    function execute(
        Pull[] calldata pulls,
        Leg[] calldata legs,
        address tokenOut,
        uint256 minTotalOut,
        address recipient,
        uint256 deadline
    ) external payable returns (uint256[] memory amountsOut, uint256 totalOut) {
        if (_locked) revert Reentered();
        _locked = true;
        // forge-lint: disable-next-line(block-timestamp) a deadline is exactly what the timestamp is for
        if (block.timestamp > deadline) revert DeadlinePassed(deadline, block.timestamp);
        if (recipient == address(0) || recipient == address(this)) revert BadRecipient(recipient);
        if (tokenOut == NATIVE && msg.value != 0) revert InputIsOutput(NATIVE);

        _pull(pulls, tokenOut);
        amountsOut = _run(legs);
        totalOut = _deliver(tokenOut, recipient);
        if (totalOut < minTotalOut) revert TotalMinOut(totalOut, minTotalOut);
        _sweep(pulls, legs, tokenOut);
        _sendEth(tokenOut == NATIVE ? recipient : msg.sender);
        _locked = false;
    }

    /// @notice Pays the V3 pool whose swap this executor started; refuses everyone else.
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external {
        address pool = _activePool;
        // pool is address(0) outside a swap, and an eth_call may come "from" address(0): refuse that too
        if (msg.sender != pool || pool == address(0)) revert BadCallback(msg.sender);
        _activePool = address(0); // one payment per swap
        uint256 owed = uint256(amount0Delta > 0 ? amount0Delta : amount1Delta);
        _send(_activeTokenIn, pool, owed);
    }

    /// @notice ETH arrives only from WETH, when an UNWRAP leg withdraws.
    receive() external payable {
        if (msg.sender != weth) revert UnexpectedEther(msg.sender);
    }

    function _run(Leg[] calldata legs) private returns (uint256[] memory amountsOut) {
        amountsOut = new uint256[](legs.length);
        for (uint256 i; i < legs.length; ++i) {
            Leg calldata leg = legs[i];
            uint256 out = _leg(i, leg);
            if (out == 0) revert NoOutput(i);
            if (out < leg.minOut) revert LegMinOut(i, out, leg.minOut);
            amountsOut[i] = out;
        }
    }

    /// @dev Whatever ETH is left: the output (to the recipient) or unspent msg.value (back to the sender).
    function _sendEth(address to) private {
        uint256 eth = address(this).balance;
        if (eth != 0) {
            (bool ok,) = to.call{value: eth}("");
            if (!ok) revert NativeTransferFailed(to);
        }
    }

    function _pull(Pull[] calldata pulls, address tokenOut) private {
        for (uint256 i; i < pulls.length; ++i) {
            address token = pulls[i].token;
            if (token == tokenOut) revert InputIsOutput(token);
            _call(token, abi.encodeCall(IERC20Like.transferFrom, (msg.sender, address(this), pulls[i].amount)));
        }
    }

    /// @dev Every leg's output sits in the executor; the total is what it holds of tokenOut after the legs, so
    ///      a pair that does not pay cannot make the total look met. ETH output is sent last, after token calls.
    ///      (Paying the recipient straight from the last legs was measured: under 600 gas of 319k on a 3-leg
    ///      plan, because the executor's balance slot returns to zero in the same transaction and that write
    ///      is refunded. Not worth the extra code.)
    function _deliver(address tokenOut, address recipient) private returns (uint256 total) {
        if (tokenOut == NATIVE) return address(this).balance;
        total = _balance(tokenOut);
        if (total != 0) {
            _send(tokenOut, recipient, total);
            uint256 left = _balance(tokenOut);
            if (left != 0) revert Leftover(tokenOut, left);
        }
    }

    function _leg(uint256 i, Leg calldata leg) private returns (uint256 out) {
        uint256 amountIn = leg.amountIn;
        if (amountIn == ALL) amountIn = leg.tokenIn == NATIVE ? address(this).balance : _balance(leg.tokenIn);
        if (amountIn == 0) revert ZeroInput(i);
        uint8 kind = leg.kind;
        if (kind == UNISWAP_V3) {
            out = _swapV3(i, leg, amountIn);
        } else if (kind == UNISWAP_V2) {
            out = _swapV2(i, leg, amountIn);
        } else if (kind == WRAP) {
            if (leg.tokenIn != NATIVE || leg.tokenOut != weth) revert BadLeg(i);
            IWETH9Like(weth).deposit{value: amountIn}();
            out = amountIn;
        } else if (kind == UNWRAP) {
            if (leg.tokenIn != weth || leg.tokenOut != NATIVE) revert BadLeg(i);
            IWETH9Like(weth).withdraw(amountIn);
            out = amountIn;
        } else {
            revert BadLeg(i);
        }
    }

    /// @dev The quote is checked against minOut before any transfer, so a short leg fails with its own error;
    ///      the output is then what actually arrived. A pair is not vetted, and one that pays less, nothing, or
    ///      another token than the leg names fails here instead of leaving the caller's funds behind.
    function _swapV2(uint256 i, Leg calldata leg, uint256 amountIn) private returns (uint256 out) {
        address tokenIn = leg.tokenIn;
        address pair = leg.pool;
        if (leg.fee >= 1e6 || tokenIn == NATIVE || leg.tokenOut == NATIVE) revert BadLeg(i);
        bool zeroForOne = tokenIn < leg.tokenOut;
        out = _v2AmountOut(pair, amountIn, leg.fee, zeroForOne);
        if (out == 0) revert NoOutput(i);
        if (out < leg.minOut) revert LegMinOut(i, out, leg.minOut);
        _send(tokenIn, pair, amountIn);
        uint256 before = _balance(leg.tokenOut);
        (uint256 out0, uint256 out1) = zeroForOne ? (uint256(0), out) : (out, uint256(0));
        IUniswapV2PairLike(pair).swap(out0, out1, address(this), "");
        out = _balance(leg.tokenOut) - before;
    }

    /// @dev UniswapV2Library.getAmountOut with the fee in ppm (3000 gives exactly its 997/1000).
    function _v2AmountOut(address pair, uint256 amountIn, uint256 fee, bool zeroForOne) private view returns (uint256) {
        (uint256 r0, uint256 r1,) = IUniswapV2PairLike(pair).getReserves();
        (uint256 reserveIn, uint256 reserveOut) = zeroForOne ? (r0, r1) : (r1, r0);
        uint256 inWithFee = amountIn * (1e6 - fee);
        return inWithFee * reserveOut / (reserveIn * 1e6 + inWithFee);
    }

    function _swapV3(uint256 i, Leg calldata leg, uint256 amountIn) private returns (uint256 out) {
        address tokenIn = leg.tokenIn;
        address tokenOut = leg.tokenOut;
        address pool = leg.pool;
        bool zeroForOne = tokenIn < tokenOut;
        if (pool != _v3Pool(tokenIn, tokenOut, leg.fee, zeroForOne) || tokenIn == NATIVE) revert BadPool(i, pool);
        if (amountIn > uint256(type(int256).max)) revert BadLeg(i);
        _activePool = pool;
        _activeTokenIn = tokenIn;
        (int256 d0, int256 d1) = IUniswapV3PoolLike(pool)
            .swap(
                address(this),
                zeroForOne,
                // forge-lint: disable-next-line(unsafe-typecast) amountIn <= type(int256).max, checked above
                int256(amountIn),
                zeroForOne ? MIN_SQRT_PRICE_LIMIT : MAX_SQRT_PRICE_LIMIT,
                ""
            );
        out = uint256(-(zeroForOne ? d1 : d0));
    }

    /// @dev The factory's CREATE2 address for this pair of tokens and fee: the only pool a V3 leg may name.
    function _v3Pool(address tokenIn, address tokenOut, uint24 fee, bool zeroForOne) private view returns (address) {
        (address token0, address token1) = zeroForOne ? (tokenIn, tokenOut) : (tokenOut, tokenIn);
        bytes32 salt = keccak256(abi.encode(token0, token1, fee));
        return address(uint160(uint256(keccak256(abi.encodePacked(hex"ff", v3Factory, salt, V3_POOL_INIT_CODE_HASH)))));
    }

    /// @dev Every token the plan touched, except the output, goes back to the caller; none may remain.
    function _sweep(Pull[] calldata pulls, Leg[] calldata legs, address tokenOut) private {
        address[] memory seen = new address[](pulls.length + 2 * legs.length + 1);
        seen[0] = tokenOut; // already delivered to the recipient
        uint256 n = 1;
        for (uint256 i; i < pulls.length; ++i) {
            n = _sweepOnce(pulls[i].token, seen, n);
        }
        for (uint256 i; i < legs.length; ++i) {
            n = _sweepOnce(legs[i].tokenIn, seen, n);
            n = _sweepOnce(legs[i].tokenOut, seen, n);
        }
    }

    function _sweepOnce(address token, address[] memory seen, uint256 n) private returns (uint256) {
        if (token == NATIVE) return n;
        for (uint256 j; j < n; ++j) {
            if (seen[j] == token) return n;
        }
        seen[n] = token;
        uint256 left = _balance(token);
        if (left != 0) {
            _send(token, msg.sender, left);
            left = _balance(token);
            if (left != 0) revert Leftover(token, left);
        }
        return n + 1;
    }

    function _send(address token, address to, uint256 amount) private {
        _call(token, abi.encodeCall(IERC20Like.transfer, (to, amount)));
    }

    /// @dev A token call that must succeed and return true or nothing (tokens such as USDT return nothing).
    function _call(address token, bytes memory data) private {
        (bool ok, bytes memory ret) = token.call(data);
        if (!ok || (ret.length == 0 ? token.code.length == 0 : (ret.length != 32 || abi.decode(ret, (uint256)) != 1))) {
            revert TransferFailed(token, ret);
        }
    }

    function _balance(address token) private view returns (uint256) {
        return IERC20Like(token).balanceOf(address(this));
    }
}
