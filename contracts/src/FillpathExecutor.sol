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

interface IERC20ApproveLike {
    function approve(address spender, uint256 amount) external returns (bool);
    function allowance(address owner, address spender) external view returns (uint256);
}

/// @dev A Curve StableSwap pool (classic and NG plain pools): `exchange` by coin indices. Declared without a
///      return value: old Vyper pools return nothing, and the executor reads the output from its own balance.
interface IStableSwapLike {
    function coins(uint256 i) external view returns (address);
    function exchange(int128 i, int128 j, uint256 dx, uint256 minDy) external;
}

interface IUniswapV3PoolFactoryLike {
    function factory() external view returns (address);
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
///  - The executor holds no balance and no allowance between transactions. A V2 input is transferred to the
///    pair, a V3 input is paid inside the pool's callback, WETH needs none; only STABLESWAP and CALL legs
///    approve, exactly the leg's input, and each ends with that allowance at zero. So a token, pair, pool or
///    call target can at most take what the current caller routed into the leg that names it.
///  - Funds are pulled only from `msg.sender`, exactly the amounts in `pulls` (the caller approves exactly
///    those); everything left after the legs goes back to `msg.sender`, the output to `recipient`, and the
///    executor checks that nothing of any token the plan touched remains.
///  - A V3 leg's pool must be the V3 factory's CREATE2 address for (tokenIn, tokenOut, fee), checked before
///    the pool is called; `uniswapV3SwapCallback` pays only that pool, once, while its swap is in progress.
///    Any other caller, or the same pool at any other time, gets `BadCallback`.
///  - V2 pairs are not tied to one factory (forks with other fees work through the leg's `fee`). A V2 leg's
///    output is what the executor's balance of tokenOut gained, and a leg that yields nothing reverts, so a
///    pair that does not pay (or pays another token) fails the plan; it costs only the caller who named it.
///  - A STABLESWAP leg approves its pool exactly the leg's input, calls `exchange`, and requires the allowance
///    to be back at zero afterwards (`AllowanceLeft` otherwise): a pool that took less than it was given fails
///    the plan instead of keeping a standing approval. Its coins at the leg's indices must be the leg's tokens.
///  - A CALL leg runs someone else's calldata (an aggregator's quote), so it gets the narrowest authority the
///    executor can give: an exact approval of the leg's input to the named spender (or the input as value, for
///    ETH), reset to zero after the call; its output is what the executor's balance of tokenOut gained, checked
///    against the leg's minOut here, not by the aggregator; it may leave at most `Call.maxUnspent` of its input
///    unspent and may never take more than the leg's input (`InputUnspent`, `Overspent`). Its target may not be
///    the executor, WETH, any token of the plan (a token called by the executor would move the executor's own
///    balance: the other legs' funds), a pool another leg names, or a genuine V3 pool of the factory. The
///    executor holds only this transaction's funds, so the worst a hostile target can do is fail the plan or
///    keep the leg's input in exchange for at least its minOut.
///  - External calls go to: the tokens and pairs/pools named in the legs, WETH, a CALL leg's target, and, for
///    ETH only, the recipient or sender at the very end. A transient-storage lock refuses any re-entry.
contract FillpathExecutor {
    /// @notice Leg kinds.
    uint8 public constant UNISWAP_V2 = 0;
    uint8 public constant UNISWAP_V3 = 1;
    uint8 public constant WRAP = 2; // ETH → WETH
    uint8 public constant UNWRAP = 3; // WETH → ETH
    uint8 public constant STABLESWAP = 4; // Curve-style pool; `fee` holds the coin indices, i << 8 | j
    uint8 public constant CALL = 5; // external calldata (an aggregator's quote); `fee` indexes `calls`

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
        uint24 fee; // V2: fee in ppm of the input (3000 = 0.3%); V3: the pool's fee tier; see STABLESWAP, CALL
        address pool; // V2 pair, V3 pool, StableSwap pool, or a CALL leg's target; ignored for WRAP/UNWRAP
        address tokenIn; // address(0) = ETH (WRAP)
        address tokenOut; // address(0) = ETH (UNWRAP)
        uint256 amountIn; // exact, or ALL
        uint256 minOut;
    }

    /// @notice What a CALL leg runs: `data` sent to the leg's `pool` (the target) after approving `spender`
    ///         exactly the leg's input (spender is address(0) when the input is ETH, sent as value instead).
    struct Call {
        address spender;
        uint256 maxUnspent; // how much of the leg's input the call may leave with the executor
        bytes data;
    }

    bool private transient _locked;
    address private transient _activePool; // the V3 pool whose swap is in progress; it alone may call back
    address private transient _activeTokenIn;
    address private transient _activeTarget; // the CALL target whose call is in progress: it may send ETH

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
    error BadTarget(uint256 index, address target);
    error BadSpender(uint256 index, address spender);
    error CallFailed(uint256 index, bytes reason);
    error AllowanceLeft(uint256 index, address spender, uint256 amount);
    error InputUnspent(uint256 index, uint256 unspent, uint256 maxUnspent);
    error Overspent(uint256 index, uint256 spent, uint256 amountIn);

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
    ) external payable guarded(tokenOut, recipient, deadline) returns (uint256[] memory amountsOut, uint256 totalOut) {
        Call[] calldata none;
        assembly {
            none.offset := 0
            none.length := 0
        }
        _pull(pulls, tokenOut);
        amountsOut = _run(legs, none);
        totalOut = _deliver(tokenOut, recipient);
        if (totalOut < minTotalOut) revert TotalMinOut(totalOut, minTotalOut);
        _sweep(pulls, legs, tokenOut);
        _sendEth(tokenOut == NATIVE ? recipient : msg.sender);
    }

    /// @notice `execute` for plans with CALL legs: a CALL leg whose `fee` is k runs `calls[k]` on its `pool`.
    ///         Every CALL leg's target and spender are checked against the whole plan before anything moves.
    function executeWithCalls(
        Pull[] calldata pulls,
        Leg[] calldata legs,
        Call[] calldata calls,
        address tokenOut,
        uint256 minTotalOut,
        address recipient,
        uint256 deadline
    ) external payable guarded(tokenOut, recipient, deadline) returns (uint256[] memory amountsOut, uint256 totalOut) {
        _checkCalls(pulls, legs, calls);
        _pull(pulls, tokenOut);
        amountsOut = _run(legs, calls);
        totalOut = _deliver(tokenOut, recipient);
        if (totalOut < minTotalOut) revert TotalMinOut(totalOut, minTotalOut);
        _sweep(pulls, legs, tokenOut);
        _sendEth(tokenOut == NATIVE ? recipient : msg.sender);
    }

    /// @dev The lock and the checks every plan passes before anything moves. (A modifier, not a shared private
    ///      function: the call through one cost `execute` about 95 gas per transaction.)
    modifier guarded(address tokenOut, address recipient, uint256 deadline) {
        if (_locked) revert Reentered();
        _locked = true;
        // forge-lint: disable-next-line(block-timestamp) a deadline is exactly what the timestamp is for
        if (block.timestamp > deadline) revert DeadlinePassed(deadline, block.timestamp);
        if (recipient == address(0) || recipient == address(this)) revert BadRecipient(recipient);
        if (tokenOut == NATIVE && msg.value != 0) revert InputIsOutput(NATIVE);
        _;
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

    /// @notice ETH arrives only from WETH, when an UNWRAP leg withdraws, or from a CALL leg's target during
    ///         its call (an aggregator paying ETH, or returning unspent value).
    receive() external payable {
        if (msg.sender != weth) {
            address target = _activeTarget;
            if (msg.sender != target || target == address(0)) revert UnexpectedEther(msg.sender);
        }
    }

    function _run(Leg[] calldata legs, Call[] calldata calls) private returns (uint256[] memory amountsOut) {
        amountsOut = new uint256[](legs.length);
        for (uint256 i; i < legs.length; ++i) {
            Leg calldata leg = legs[i];
            uint256 out = _leg(i, leg, calls);
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

    function _leg(uint256 i, Leg calldata leg, Call[] calldata calls) private returns (uint256 out) {
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
        } else if (kind == STABLESWAP) {
            out = _swapStable(i, leg, amountIn);
        } else if (kind == CALL && leg.fee < calls.length) {
            out = _callLeg(i, leg, amountIn, calls[leg.fee]);
        } else {
            revert BadLeg(i);
        }
    }

    /// @dev Exact approval, `exchange` with no minimum of its own (the leg's minOut is checked on what arrived),
    ///      and the approval must have been used up: a pool that pulls less fails here.
    function _swapStable(uint256 i, Leg calldata leg, uint256 amountIn) private returns (uint256 out) {
        address pool = leg.pool;
        address tokenIn = leg.tokenIn;
        address tokenOut = leg.tokenOut;
        uint256 ci = leg.fee >> 8;
        uint256 cj = leg.fee & 0xff;
        if (ci > 0xff || ci == cj || tokenIn == NATIVE || tokenOut == NATIVE) revert BadLeg(i);
        if (IStableSwapLike(pool).coins(ci) != tokenIn || IStableSwapLike(pool).coins(cj) != tokenOut) {
            revert BadPool(i, pool);
        }
        uint256 before = _balance(tokenOut);
        _call(tokenIn, abi.encodeCall(IERC20ApproveLike.approve, (pool, amountIn)));
        // forge-lint: disable-next-line(unsafe-typecast) ci, cj < 256
        IStableSwapLike(pool).exchange(int128(int256(ci)), int128(int256(cj)), amountIn, 0);
        uint256 left = IERC20ApproveLike(tokenIn).allowance(address(this), pool);
        if (left != 0) revert AllowanceLeft(i, pool, left);
        out = _balance(tokenOut) - before;
    }

    /// @dev Someone else's calldata with the leg's input and nothing more: exact approval (or value), the
    ///      approval back to zero whatever the call did, the input spent within `maxUnspent`, and the output
    ///      measured on the executor's balance. Targets and spenders were vetted by `_checkCalls`.
    function _callLeg(uint256 i, Leg calldata leg, uint256 amountIn, Call calldata c) private returns (uint256 out) {
        address tokenIn = leg.tokenIn;
        address tokenOut = leg.tokenOut;
        address target = leg.pool;
        uint256 inBefore = _held(tokenIn);
        uint256 outBefore = _held(tokenOut);
        uint256 value;
        if (tokenIn == NATIVE) {
            value = amountIn;
        } else {
            _call(tokenIn, abi.encodeCall(IERC20ApproveLike.approve, (c.spender, amountIn)));
        }
        _activeTarget = target;
        (bool ok, bytes memory ret) = target.call{value: value}(c.data);
        _activeTarget = address(0);
        if (!ok) revert CallFailed(i, ret);
        if (tokenIn != NATIVE && IERC20ApproveLike(tokenIn).allowance(address(this), c.spender) != 0) {
            _call(tokenIn, abi.encodeCall(IERC20ApproveLike.approve, (c.spender, 0)));
        }
        uint256 inAfter = _held(tokenIn);
        uint256 spent = inBefore > inAfter ? inBefore - inAfter : 0;
        if (spent > amountIn) revert Overspent(i, spent, amountIn);
        if (amountIn - spent > c.maxUnspent) revert InputUnspent(i, amountIn - spent, c.maxUnspent);
        uint256 outAfter = _held(tokenOut);
        out = outAfter > outBefore ? outAfter - outBefore : 0;
    }

    /// @dev Before anything moves: each CALL leg names a call that exists, a spender that can hold an approval
    ///      (none for ETH), and a target that is not the executor, WETH, a token of the plan, a pool another leg
    ///      names, or a genuine V3 pool (its `factory()` is ours). Tokens: the executor calling one could move
    ///      its own balance, i.e. the other legs' funds. Pools: a pool only ever holds what its own leg gave it
    ///      inside that leg, and the V3 callback refuses calls outside our swap; refusing them anyway keeps a
    ///      CALL leg to what it is for (an aggregator's contract) at the cost of one staticcall.
    function _checkCalls(Pull[] calldata pulls, Leg[] calldata legs, Call[] calldata calls) private view {
        for (uint256 i; i < legs.length; ++i) {
            if (legs[i].kind != CALL) continue;
            if (legs[i].fee >= calls.length) revert BadLeg(i);
            address target = legs[i].pool;
            if (target == address(this) || target == weth || target.code.length == 0) revert BadTarget(i, target);
            for (uint256 k; k < pulls.length; ++k) {
                if (pulls[k].token == target) revert BadTarget(i, target);
            }
            for (uint256 k; k < legs.length; ++k) {
                Leg calldata other = legs[k];
                if (other.tokenIn == target || other.tokenOut == target) revert BadTarget(i, target);
                if (other.kind != CALL && other.kind != WRAP && other.kind != UNWRAP && other.pool == target) {
                    revert BadTarget(i, target);
                }
            }
            if (_isV3Pool(target)) revert BadTarget(i, target);
            address spender = calls[legs[i].fee].spender;
            if (legs[i].tokenIn == NATIVE ? spender != address(0) : (spender == address(0) || spender == address(this)))
            {
                revert BadSpender(i, spender);
            }
        }
    }

    function _isV3Pool(address target) private view returns (bool) {
        (bool ok, bytes memory ret) = target.staticcall(abi.encodeCall(IUniswapV3PoolFactoryLike.factory, ()));
        return ok && ret.length == 32 && abi.decode(ret, (address)) == v3Factory;
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

    function _held(address token) private view returns (uint256) {
        return token == NATIVE ? address(this).balance : _balance(token);
    }

    function _balance(address token) private view returns (uint256) {
        return IERC20Like(token).balanceOf(address(this));
    }
}
