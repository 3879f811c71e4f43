// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

interface IERC20Metadata {
    function decimals() external view returns (uint8);
    function balanceOf(address owner) external view returns (uint256);
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

/// @title LabStableSwap
/// @notice A Curve classic plain pool of 2 to 4 coins for the lab, with the integer math of the classic Vyper
///         pool (3pool) as `src/fillpath/router/venues/stableswap.py` ports it, so the router's quote is what the
///         pool pays, to the unit:
///          - balances are normalised to 18 decimals with rates = 10^(36 - decimals): xp = rate * balance / 1e18;
///          - the invariant Ann·Σx + D = Ann·D + D^(n+1) / (n^n·Πx) with Ann = A·n, and A used as it is (the
///            classic pool has no A_PRECISION; `A()` returns what the snapshot calls `amp`); get_D and get_y are
///            the classic Newton iterations (255 at most, stop when a step moves by at most 1, no revert);
///          - `fee` is over 1e10 and taken from dy after rescaling to the output coin's units, in `get_dy` and
///            `exchange` alike. The classic `exchange` takes it before rescaling, which for coins with fewer than
///            18 decimals may pay one base unit more or less than its own `get_dy`; this pool pays exactly
///            `get_dy`, which is what the router quotes and what the executor's simulation must reproduce;
///          - `admin_fee` (over 1e10) of each swap fee leaves the pool's `balances` (it stays in the contract
///            until `withdraw_admin_fees`); imbalanced deposits pay fee·n/(4(n-1)) on their imbalance, as in the
///            classic `add_liquidity`.
///         The pool is its own LP token (ERC20, 18 decimals). No A ramping, no kill switch, no ETH, no
///         fee-on-transfer tokens. Indices are int128 as in the classic ABI; views take uint256 like its getters.
contract LabStableSwap is ERC20 {
    uint256 public constant FEE_DENOMINATOR = 1e10;
    uint256 public constant PRECISION = 1e18;
    uint256 public constant MAX_A = 1e6;
    uint256 public constant MAX_FEE = 5e9; // 50%
    uint256 public constant MAX_ADMIN_FEE = 1e10; // 100%
    uint256 internal constant MAX_ITERATIONS = 255;

    uint256 public immutable A;
    uint256 public immutable fee;
    uint256 public immutable admin_fee;
    uint256 public immutable N_COINS;
    address public immutable owner;

    address internal immutable coin0;
    address internal immutable coin1;
    address internal immutable coin2;
    address internal immutable coin3;
    uint256 internal immutable rate0;
    uint256 internal immutable rate1;
    uint256 internal immutable rate2;
    uint256 internal immutable rate3;

    /// @notice Each coin's balance as the pool counts it (its token balance less accrued admin fees).
    uint256[] public balances;

    bool private transient _locked;

    event TokenExchange(
        address indexed buyer, int128 sold_id, uint256 tokens_sold, int128 bought_id, uint256 tokens_bought
    );
    event AddLiquidity(
        address indexed provider, uint256[] token_amounts, uint256[] fees, uint256 invariant, uint256 token_supply
    );
    event RemoveLiquidity(address indexed provider, uint256[] token_amounts, uint256[] fees, uint256 token_supply);

    error BadCoins(uint256 n);
    error BadDecimals(address coin, uint256 decimals);
    error BadParameter(string name, uint256 value);
    error BadIndex(int128 index);
    error NoCoin(uint256 index);
    error SameCoin(int128 index);
    error Slippage(uint256 amount, uint256 min);
    error WrongLength(uint256 got, uint256 want);
    error EmptyDeposit(uint256 index);
    error InvariantNotIncreased(uint256 d0, uint256 d1);
    error Reentered();
    error NotOwner(address caller);
    error TransferFailed(address token, bytes reason);

    /// @param coins_ 2 to 4 distinct ERC20s with at most 36 decimals
    /// @param a the amplification A (1..1e6), used as the classic pool uses it: Ann = A·n
    /// @param fee_ the swap fee over 1e10 (4e6 = 0.04%), at most 5e9
    /// @param adminFee_ the admin's share of each fee over 1e10 (0 leaves all fees to LPs)
    constructor(
        address[] memory coins_,
        uint256 a,
        uint256 fee_,
        uint256 adminFee_,
        address owner_,
        string memory name_,
        string memory symbol_
    ) ERC20(name_, symbol_) {
        uint256 n = coins_.length;
        if (n < 2 || n > 4) revert BadCoins(n);
        for (uint256 i; i < n; ++i) {
            for (uint256 k; k < i; ++k) {
                if (coins_[k] == coins_[i]) revert BadCoins(n);
            }
        }
        if (a == 0 || a > MAX_A) revert BadParameter("A", a);
        if (fee_ > MAX_FEE) revert BadParameter("fee", fee_);
        if (adminFee_ > MAX_ADMIN_FEE) revert BadParameter("admin_fee", adminFee_);
        A = a;
        fee = fee_;
        admin_fee = adminFee_;
        N_COINS = n;
        owner = owner_;
        uint256[4] memory rates;
        address[4] memory c;
        for (uint256 i; i < n; ++i) {
            uint256 d = IERC20Metadata(coins_[i]).decimals();
            if (d > 36) revert BadDecimals(coins_[i], d);
            rates[i] = 10 ** (36 - d);
            c[i] = coins_[i];
            balances.push(0);
        }
        (coin0, coin1, coin2, coin3) = (c[0], c[1], c[2], c[3]);
        (rate0, rate1, rate2, rate3) = (rates[0], rates[1], rates[2], rates[3]);
    }

    modifier lock() {
        if (_locked) revert Reentered();
        _locked = true;
        _;
        _locked = false;
    }

    // ------------------------------------------------------------------------------------------------ views

    function coins(uint256 i) public view returns (address) {
        if (i >= N_COINS) revert NoCoin(i);
        return i == 0 ? coin0 : i == 1 ? coin1 : i == 2 ? coin2 : coin3;
    }

    /// @notice 10^(36 - decimals) of each coin: what normalises a balance to 18 decimals.
    function stored_rates() public view returns (uint256[] memory rates) {
        rates = new uint256[](N_COINS);
        for (uint256 i; i < rates.length; ++i) {
            rates[i] = _rate(i);
        }
    }

    /// @notice What `exchange(i, j, dx, 0)` pays now.
    function get_dy(int128 i, int128 j, uint256 dx) external view returns (uint256) {
        (uint256 a, uint256 b) = _indices(i, j);
        (uint256 dy,) = _dy(a, b, dx);
        return dy;
    }

    /// @notice The LP token's value in normalised units: D / supply (1e18 at the first deposit; grows with fees).
    function get_virtual_price() external view returns (uint256) {
        return _getD(_xp(), A) * PRECISION / totalSupply();
    }

    /// @notice The invariant D of the current balances.
    function get_D() external view returns (uint256) {
        return _getD(_xp(), A);
    }

    /// @notice Admin fees accrued in coin i (held by the pool, not counted in `balances`).
    function admin_balances(uint256 i) public view returns (uint256) {
        return IERC20Metadata(coins(i)).balanceOf(address(this)) - balances[i];
    }

    // ------------------------------------------------------------------------------------------------ trading

    /// @notice Sell `dx` of coin i (taken from the caller) for coin j (sent to the caller), at least `min_dy`.
    function exchange(int128 i, int128 j, uint256 dx, uint256 min_dy) external lock returns (uint256 dy) {
        (uint256 a, uint256 b) = _indices(i, j);
        uint256 dyFee;
        (dy, dyFee) = _dy(a, b, dx);
        if (dy < min_dy) revert Slippage(dy, min_dy);
        balances[a] += dx;
        balances[b] -= dy + dyFee * admin_fee / FEE_DENOMINATOR;
        _transferIn(coins(a), dx);
        _transferOut(coins(b), msg.sender, dy);
        emit TokenExchange(msg.sender, i, dx, j, dy);
    }

    /// @notice Deposit `amounts` (one per coin, taken from the caller) for LP tokens, at least `min_mint_amount`.
    ///         The first deposit needs every coin and mints D; later ones mint supply·(D2 - D0)/D0, where D2 is
    ///         the invariant after the imbalance fee.
    function add_liquidity(uint256[] calldata amounts, uint256 min_mint_amount) external lock returns (uint256 minted) {
        uint256 n = N_COINS;
        if (amounts.length != n) revert WrongLength(amounts.length, n);
        uint256 supply = totalSupply();
        uint256[] memory old = balances;
        uint256 d0 = supply == 0 ? 0 : _getD(_xpOf(old), A);
        uint256[] memory updated = new uint256[](n);
        for (uint256 k; k < n; ++k) {
            if (supply == 0 && amounts[k] == 0) revert EmptyDeposit(k);
            updated[k] = old[k] + amounts[k];
        }
        uint256 d1 = _getD(_xpOf(updated), A);
        if (d1 <= d0) revert InvariantNotIncreased(d0, d1);
        uint256[] memory fees = new uint256[](n);
        uint256 d2 = d1;
        if (supply == 0) {
            for (uint256 k; k < n; ++k) {
                balances[k] = updated[k];
            }
            minted = d1;
        } else {
            uint256 imbalanceFee = fee * n / (4 * (n - 1));
            for (uint256 k; k < n; ++k) {
                uint256 ideal = d1 * old[k] / d0;
                uint256 diff = ideal > updated[k] ? ideal - updated[k] : updated[k] - ideal;
                fees[k] = imbalanceFee * diff / FEE_DENOMINATOR;
                balances[k] = updated[k] - fees[k] * admin_fee / FEE_DENOMINATOR;
                updated[k] -= fees[k];
            }
            d2 = _getD(_xpOf(updated), A);
            minted = supply * (d2 - d0) / d0;
        }
        if (minted < min_mint_amount) revert Slippage(minted, min_mint_amount);
        for (uint256 k; k < n; ++k) {
            if (amounts[k] != 0) _transferIn(coins(k), amounts[k]);
        }
        _mint(msg.sender, minted);
        emit AddLiquidity(msg.sender, amounts, fees, d1, supply + minted);
    }

    /// @notice Burn `amount` LP tokens for each coin in proportion (no fee), at least `min_amounts`.
    function remove_liquidity(uint256 amount, uint256[] calldata min_amounts)
        external
        lock
        returns (uint256[] memory amounts)
    {
        uint256 n = N_COINS;
        if (min_amounts.length != n) revert WrongLength(min_amounts.length, n);
        uint256 supply = totalSupply();
        amounts = new uint256[](n);
        _burn(msg.sender, amount);
        for (uint256 k; k < n; ++k) {
            uint256 value = balances[k] * amount / supply;
            if (value < min_amounts[k]) revert Slippage(value, min_amounts[k]);
            balances[k] -= value;
            amounts[k] = value;
            _transferOut(coins(k), msg.sender, value);
        }
        emit RemoveLiquidity(msg.sender, amounts, new uint256[](n), supply - amount);
    }

    /// @notice Send the accrued admin fees to the owner.
    function withdraw_admin_fees() external lock {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        for (uint256 k; k < N_COINS; ++k) {
            uint256 amount = admin_balances(k);
            if (amount != 0) _transferOut(coins(k), owner, amount);
        }
    }

    // ------------------------------------------------------------------------------------------------ math

    /// @dev dy after the fee, and the fee, both in coin b's units: get_dy of the Python port exactly.
    function _dy(uint256 a, uint256 b, uint256 dx) internal view returns (uint256 dy, uint256 dyFee) {
        uint256[] memory xp = _xp();
        uint256 x = xp[a] + dx * _rate(a) / PRECISION;
        uint256 y = _getY(a, b, x, xp, A);
        uint256 raw = (xp[b] - y - 1) * PRECISION / _rate(b);
        dyFee = fee * raw / FEE_DENOMINATOR;
        dy = raw - dyFee;
    }

    /// @dev Newton's method on D, the classic get_D: D_P = D^(n+1) / (n^n·Πx), stop at a step of at most 1.
    function _getD(uint256[] memory xp, uint256 amp) internal pure returns (uint256 d) {
        uint256 n = xp.length;
        uint256 s;
        for (uint256 k; k < n; ++k) {
            s += xp[k];
        }
        if (s == 0) return 0;
        d = s;
        uint256 ann = amp * n;
        for (uint256 it; it < MAX_ITERATIONS; ++it) {
            uint256 dP = d;
            for (uint256 k; k < n; ++k) {
                dP = dP * d / (xp[k] * n);
            }
            uint256 prev = d;
            d = (ann * s + dP * n) * d / ((ann - 1) * d + (n + 1) * dP);
            if (d > prev ? d - prev <= 1 : prev - d <= 1) break;
        }
    }

    /// @dev The balance of coin j that keeps D when coin i's is x: the classic get_y (y² + c = y(2y + b - D)).
    function _getY(uint256 i, uint256 j, uint256 x, uint256[] memory xp, uint256 amp)
        internal
        pure
        returns (uint256 y)
    {
        uint256 n = xp.length;
        uint256 d = _getD(xp, amp);
        uint256 ann = amp * n;
        uint256 c = d;
        uint256 s;
        for (uint256 k; k < n; ++k) {
            uint256 v;
            if (k == i) {
                v = x;
            } else if (k != j) {
                v = xp[k];
            } else {
                continue;
            }
            s += v;
            c = c * d / (v * n);
        }
        c = c * d / (ann * n);
        uint256 b = s + d / ann;
        y = d;
        for (uint256 it; it < MAX_ITERATIONS; ++it) {
            uint256 prev = y;
            y = (y * y + c) / (2 * y + b - d);
            if (y > prev ? y - prev <= 1 : prev - y <= 1) break;
        }
    }

    function _xp() internal view returns (uint256[] memory) {
        return _xpOf(balances);
    }

    function _xpOf(uint256[] memory bals) internal view returns (uint256[] memory xp) {
        xp = new uint256[](bals.length);
        for (uint256 k; k < bals.length; ++k) {
            xp[k] = _rate(k) * bals[k] / PRECISION;
        }
    }

    function _rate(uint256 i) internal view returns (uint256) {
        return i == 0 ? rate0 : i == 1 ? rate1 : i == 2 ? rate2 : rate3;
    }

    function _indices(int128 i, int128 j) internal view returns (uint256 a, uint256 b) {
        // forge-lint: disable-next-line(unsafe-typecast) N_COINS <= 4
        if (i < 0 || int256(i) >= int256(N_COINS)) revert BadIndex(i);
        // forge-lint: disable-next-line(unsafe-typecast) N_COINS <= 4
        if (j < 0 || int256(j) >= int256(N_COINS)) revert BadIndex(j);
        if (i == j) revert SameCoin(i);
        // forge-lint: disable-next-line(unsafe-typecast) both are in [0, N_COINS) (checked above)
        (a, b) = (uint256(int256(i)), uint256(int256(j)));
    }

    // ------------------------------------------------------------------------------------------------ tokens

    function _transferIn(address token, uint256 amount) internal {
        _tokenCall(token, abi.encodeCall(IERC20Metadata.transferFrom, (msg.sender, address(this), amount)));
    }

    function _transferOut(address token, address to, uint256 amount) internal {
        _tokenCall(token, abi.encodeCall(IERC20Metadata.transfer, (to, amount)));
    }

    /// @dev Must succeed and return true or nothing (USDT-style tokens return nothing).
    function _tokenCall(address token, bytes memory data) internal {
        (bool ok, bytes memory ret) = token.call(data);
        if (!ok || (ret.length == 0 ? token.code.length == 0 : (ret.length != 32 || abi.decode(ret, (uint256)) != 1))) {
            revert TransferFailed(token, ret);
        }
    }
}
