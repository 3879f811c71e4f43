// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

interface ISpokeTokenLike {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

/// @title LabSpokePool
/// @notice The lab's intent bridge, modelled on Across V3's SpokePool. One instance per lab chain serves as the
///         origin of the deposits made on it and as the destination of the fills made on it.
///
///         Origin: `depositV3` takes `inputAmount` of `inputToken` from the caller and emits `V3FundsDeposited`
///         with a new `depositId`: an intent for `recipient` to receive `outputAmount` of `outputToken` on
///         `destinationChainId` by `fillDeadline`. Destination: a relayer calls `fillV3Relay(relayData,
///         repaymentChainId)`, paying the recipient from its own inventory; the relay hash (keccak256 of
///         abi.encode(relayData, destination chain id), as Across computes it) is marked Filled, so a relay is
///         filled at most once, and never after its `fillDeadline` (`ExpiredFillDeadline`). Until
///         `exclusivityDeadline`, only `exclusiveRelayer` may fill (when one is named).
///
///         Settlement. The lab has no cross-chain messaging, so the part Across gives to its dataworker and the
///         HubPool's optimistic root bundles is a trusted `settler` account on the origin chain:
///          - after a fill, the settler calls `repayRelayer(depositId, relayer)`: the deposit's input goes to
///            the relayer, on the origin chain (so a fill must ask for repayment there);
///          - after `fillDeadline` has passed unfilled, the settler may `refund(depositId)` to the depositor
///            (it must first see the destination's own clock past `fillDeadline` and the relay Unfilled there);
///            once `fillDeadline + settlementWindow` has passed on the origin, anyone may.
///         Every deposit is Pending until exactly one of those happens; both move its whole input and end in a
///         final state (Repaid or Refunded), so a deposit is paid out at most once, and never stays Pending
///         past `fillDeadline + settlementWindow` if anyone calls `refund`.
///
/// Trust model:
///  - Depositors and relayers trust the settler to repay only the relayer that filled the relay (it reads
///    `FilledV3Relay` on the destination, or `fillStatuses(relayHash)` there; `deposits(id).relayHash` is the
///    same hash), and to refund only deposits that were not filled. The settler can misdirect a Pending
///    deposit's input, but nothing else: not more than the deposit, not a deposit already Repaid or Refunded.
///  - A relayer trusts the settler to repay it within `settlementWindow` after the fill deadline: after that,
///    a permissionless refund may return the input to the depositor although the relayer paid the recipient.
///    The window must also cover the clock skew between the two chains: a fill is judged by the destination's
///    clock, a refund by the origin's (the two lab chains drift minutes apart, as they mine different numbers
///    of blocks). A relayer should not fill a relay whose deposit is already Refunded on the origin.
///  - The admin enables routes and may replace the settler (as Across's HubPool admin can).
///  - `message` is carried, hashed and emitted like Across's, but never delivered: the lab has no handlers.
///    No slow fills, no speed-ups (so no `relayExecutionInfo` in `FilledV3Relay`), no native ETH.
contract LabSpokePool {
    /// @notice Across V3's relay description; its hash with the destination chain id identifies the relay.
    struct V3RelayData {
        address depositor;
        address recipient;
        address exclusiveRelayer;
        address inputToken;
        address outputToken;
        uint256 inputAmount;
        uint256 outputAmount;
        uint256 originChainId;
        uint32 depositId;
        uint32 fillDeadline;
        uint32 exclusivityDeadline;
        bytes message;
    }

    /// @notice Across's values: RequestedSlowFill (1) is never set here.
    enum FillStatus {
        Unfilled,
        RequestedSlowFill,
        Filled
    }

    enum DepositStatus {
        None,
        Pending,
        Repaid,
        Refunded
    }

    /// @notice What the origin keeps of a deposit to settle it.
    struct Deposit {
        address depositor;
        uint32 fillDeadline;
        DepositStatus status;
        address inputToken;
        uint256 inputAmount;
        bytes32 relayHash;
    }

    address public immutable admin;
    address public settler;
    /// @notice How far in the past a deposit's quoteTimestamp may be.
    uint32 public immutable depositQuoteTimeBuffer;
    /// @notice How far in the future a deposit's fillDeadline may be.
    uint32 public immutable fillDeadlineBuffer;
    /// @notice After fillDeadline + this, anyone may refund a deposit still Pending.
    uint32 public immutable settlementWindow;

    uint32 public numberOfDeposits;
    mapping(address inputToken => mapping(uint256 destinationChainId => bool)) public enabledDepositRoutes;
    mapping(uint32 depositId => Deposit) public deposits;
    /// @notice FillStatus by relay hash, on the destination.
    mapping(bytes32 relayHash => uint256) public fillStatuses;

    bool private transient _locked;

    event V3FundsDeposited(
        address inputToken,
        address outputToken,
        uint256 inputAmount,
        uint256 outputAmount,
        uint256 indexed destinationChainId,
        uint32 indexed depositId,
        uint32 quoteTimestamp,
        uint32 fillDeadline,
        uint32 exclusivityDeadline,
        address indexed depositor,
        address recipient,
        address exclusiveRelayer,
        bytes message
    );
    event FilledV3Relay(
        address inputToken,
        address outputToken,
        uint256 inputAmount,
        uint256 outputAmount,
        uint256 repaymentChainId,
        uint256 indexed originChainId,
        uint32 indexed depositId,
        uint32 fillDeadline,
        uint32 exclusivityDeadline,
        address exclusiveRelayer,
        address indexed relayer,
        address depositor,
        address recipient,
        bytes message
    );
    event RelayerRepaid(
        uint32 indexed depositId,
        address indexed relayer,
        address inputToken,
        uint256 inputAmount,
        bytes32 relayHash,
        address settler
    );
    event DepositRefunded(
        uint32 indexed depositId,
        address indexed depositor,
        address inputToken,
        uint256 inputAmount,
        bytes32 relayHash,
        address caller
    );
    event EnabledDepositRoute(address indexed originToken, uint256 indexed destinationChainId, bool enabled);
    event SettlerChanged(address settler);

    error DisabledRoute(address inputToken, uint256 destinationChainId);
    error InvalidQuoteTimestamp(uint32 quoteTimestamp, uint256 timestamp);
    error InvalidFillDeadline(uint32 fillDeadline, uint256 timestamp);
    error InvalidExclusiveRelayer();
    error ExpiredFillDeadline(uint32 fillDeadline, uint256 timestamp);
    error NotExclusiveRelayer(address exclusiveRelayer, uint32 exclusivityDeadline);
    error RelayFilled(bytes32 relayHash);
    error InvalidRepaymentChainId(uint256 repaymentChainId, uint256 originChainId);
    error InvalidChainId(uint256 chainId);
    error NotAdmin(address caller);
    error NotSettler(address caller);
    error UnknownDeposit(uint32 depositId);
    error DepositSettled(uint32 depositId, DepositStatus status);
    error RefundTooEarly(uint32 depositId, uint256 earliest, uint256 timestamp);
    error BadRelayer(address relayer);
    error Reentered();
    error TransferFailed(address token, bytes reason);

    constructor(
        address admin_,
        address settler_,
        uint32 depositQuoteTimeBuffer_,
        uint32 fillDeadlineBuffer_,
        uint32 settlementWindow_
    ) {
        admin = admin_;
        settler = settler_;
        depositQuoteTimeBuffer = depositQuoteTimeBuffer_;
        fillDeadlineBuffer = fillDeadlineBuffer_;
        settlementWindow = settlementWindow_;
        emit SettlerChanged(settler_);
    }

    modifier lock() {
        if (_locked) revert Reentered();
        _locked = true;
        _;
        _locked = false;
    }

    // ------------------------------------------------------------------------------------------------ admin

    function setEnableRoute(address originToken, uint256 destinationChainId, bool enabled) external {
        if (msg.sender != admin) revert NotAdmin(msg.sender);
        if (destinationChainId == block.chainid) revert InvalidChainId(destinationChainId);
        enabledDepositRoutes[originToken][destinationChainId] = enabled;
        emit EnabledDepositRoute(originToken, destinationChainId, enabled);
    }

    function setSettler(address settler_) external {
        if (msg.sender != admin) revert NotAdmin(msg.sender);
        settler = settler_;
        emit SettlerChanged(settler_);
    }

    // ------------------------------------------------------------------------------------------------ origin

    /// @notice Deposit `inputAmount` of `inputToken` (taken from the caller) for `recipient` to receive
    ///         `outputAmount` of `outputToken` on `destinationChainId` by `fillDeadline`. A refund goes to
    ///         `depositor`. The checks are Across V3's: an enabled route, a quote at most
    ///         `depositQuoteTimeBuffer` old and not in the future, now <= fillDeadline <= now +
    ///         `fillDeadlineBuffer`, and an exclusivity deadline only with an exclusive relayer.
    function depositV3(
        address depositor,
        address recipient,
        address inputToken,
        address outputToken,
        uint256 inputAmount,
        uint256 outputAmount,
        uint256 destinationChainId,
        address exclusiveRelayer,
        uint32 quoteTimestamp,
        uint32 fillDeadline,
        uint32 exclusivityDeadline,
        bytes memory message
    ) external lock {
        _checkDeposit(
            inputToken, destinationChainId, exclusiveRelayer, quoteTimestamp, fillDeadline, exclusivityDeadline
        );
        V3RelayData memory relay;
        relay.depositor = depositor;
        relay.recipient = recipient;
        relay.exclusiveRelayer = exclusiveRelayer;
        relay.inputToken = inputToken;
        relay.outputToken = outputToken;
        relay.inputAmount = inputAmount;
        relay.outputAmount = outputAmount;
        relay.originChainId = block.chainid;
        relay.depositId = numberOfDeposits++;
        relay.fillDeadline = fillDeadline;
        relay.exclusivityDeadline = exclusivityDeadline;
        relay.message = message;
        deposits[relay.depositId] = Deposit({
            depositor: depositor,
            fillDeadline: fillDeadline,
            status: DepositStatus.Pending,
            inputToken: inputToken,
            inputAmount: inputAmount,
            relayHash: keccak256(abi.encode(relay, destinationChainId))
        });
        _tokenCall(inputToken, abi.encodeCall(ISpokeTokenLike.transferFrom, (msg.sender, address(this), inputAmount)));
        _emitDeposit(relay, destinationChainId, quoteTimestamp);
    }

    function _checkDeposit(
        address inputToken,
        uint256 destinationChainId,
        address exclusiveRelayer,
        uint32 quoteTimestamp,
        uint32 fillDeadline,
        uint32 exclusivityDeadline
    ) private view {
        if (!enabledDepositRoutes[inputToken][destinationChainId]) {
            revert DisabledRoute(inputToken, destinationChainId);
        }
        // forge-lint: disable-next-line(block-timestamp) quotes and deadlines are timestamps by design
        uint256 nowTs = block.timestamp;
        if (quoteTimestamp > nowTs || nowTs - quoteTimestamp > depositQuoteTimeBuffer) {
            revert InvalidQuoteTimestamp(quoteTimestamp, nowTs);
        }
        if (fillDeadline < nowTs || fillDeadline > nowTs + fillDeadlineBuffer) {
            revert InvalidFillDeadline(fillDeadline, nowTs);
        }
        if (exclusivityDeadline != 0 && exclusiveRelayer == address(0)) revert InvalidExclusiveRelayer();
    }

    /// @notice Settler only: the deposit was filled by `relayer`; pay it the deposit's input here.
    function repayRelayer(uint32 depositId, address relayer) external lock {
        if (msg.sender != settler) revert NotSettler(msg.sender);
        if (relayer == address(0)) revert BadRelayer(relayer);
        Deposit storage d = _pending(depositId);
        d.status = DepositStatus.Repaid;
        _tokenCall(d.inputToken, abi.encodeCall(ISpokeTokenLike.transfer, (relayer, d.inputAmount)));
        emit RelayerRepaid(depositId, relayer, d.inputToken, d.inputAmount, d.relayHash, msg.sender);
    }

    /// @notice Return an unfilled deposit's input to its depositor: by the settler once `fillDeadline` has
    ///         passed, by anyone once `fillDeadline + settlementWindow` has.
    function refund(uint32 depositId) external lock {
        Deposit storage d = _pending(depositId);
        // the first second at which the deposit can no longer be filled, plus the window for anyone but the settler
        uint256 earliest = uint256(d.fillDeadline) + 1 + (msg.sender == settler ? 0 : settlementWindow);
        // forge-lint: disable-next-line(block-timestamp) deadlines are timestamps by design
        if (block.timestamp < earliest) revert RefundTooEarly(depositId, earliest, block.timestamp);
        d.status = DepositStatus.Refunded;
        _tokenCall(d.inputToken, abi.encodeCall(ISpokeTokenLike.transfer, (d.depositor, d.inputAmount)));
        emit DepositRefunded(depositId, d.depositor, d.inputToken, d.inputAmount, d.relayHash, msg.sender);
    }

    // ------------------------------------------------------------------------------------------------ destination

    /// @notice Pay `relayData.recipient` its `outputAmount` of `outputToken` from the caller's inventory (approve
    ///         this contract first). The lab repays relayers on the origin chain only, so `repaymentChainId`
    ///         must be `relayData.originChainId`.
    function fillV3Relay(V3RelayData calldata relayData, uint256 repaymentChainId) external lock {
        // forge-lint: disable-next-line(block-timestamp) deadlines are timestamps by design
        if (relayData.fillDeadline < block.timestamp) {
            revert ExpiredFillDeadline(relayData.fillDeadline, block.timestamp);
        }
        if (
            relayData.exclusiveRelayer != address(0) && relayData.exclusiveRelayer != msg.sender
                // forge-lint: disable-next-line(block-timestamp) deadlines are timestamps by design
                && relayData.exclusivityDeadline >= block.timestamp
        ) revert NotExclusiveRelayer(relayData.exclusiveRelayer, relayData.exclusivityDeadline);
        if (repaymentChainId != relayData.originChainId) {
            revert InvalidRepaymentChainId(repaymentChainId, relayData.originChainId);
        }
        if (relayData.originChainId == block.chainid) revert InvalidChainId(relayData.originChainId);
        bytes32 relayHash = keccak256(abi.encode(relayData, block.chainid));
        if (fillStatuses[relayHash] == uint256(FillStatus.Filled)) revert RelayFilled(relayHash);
        fillStatuses[relayHash] = uint256(FillStatus.Filled);
        if (relayData.outputAmount != 0) {
            _tokenCall(
                relayData.outputToken,
                abi.encodeCall(ISpokeTokenLike.transferFrom, (msg.sender, relayData.recipient, relayData.outputAmount))
            );
        }
        _emitFill(relayData, repaymentChainId);
    }

    // ------------------------------------------------------------------------------------------------ views

    /// @notice keccak256(abi.encode(relayData, destinationChainId)): the key of `fillStatuses` on the
    ///         destination and `deposits(id).relayHash` on the origin.
    function getV3RelayHash(V3RelayData calldata relayData, uint256 destinationChainId)
        external
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(relayData, destinationChainId));
    }

    // ------------------------------------------------------------------------------------------------ internals

    function _pending(uint32 depositId) private view returns (Deposit storage d) {
        d = deposits[depositId];
        if (d.status == DepositStatus.None) revert UnknownDeposit(depositId);
        if (d.status != DepositStatus.Pending) revert DepositSettled(depositId, d.status);
    }

    function _emitDeposit(V3RelayData memory r, uint256 destinationChainId, uint32 quoteTimestamp) private {
        emit V3FundsDeposited(
            r.inputToken,
            r.outputToken,
            r.inputAmount,
            r.outputAmount,
            destinationChainId,
            r.depositId,
            quoteTimestamp,
            r.fillDeadline,
            r.exclusivityDeadline,
            r.depositor,
            r.recipient,
            r.exclusiveRelayer,
            r.message
        );
    }

    function _emitFill(V3RelayData calldata r, uint256 repaymentChainId) private {
        emit FilledV3Relay(
            r.inputToken,
            r.outputToken,
            r.inputAmount,
            r.outputAmount,
            repaymentChainId,
            r.originChainId,
            r.depositId,
            r.fillDeadline,
            r.exclusivityDeadline,
            r.exclusiveRelayer,
            msg.sender,
            r.depositor,
            r.recipient,
            r.message
        );
    }

    /// @dev Must succeed and return true or nothing (USDT-style tokens return nothing).
    function _tokenCall(address token, bytes memory data) private {
        (bool ok, bytes memory ret) = token.call(data);
        if (!ok || (ret.length == 0 ? token.code.length == 0 : (ret.length != 32 || abi.decode(ret, (uint256)) != 1))) {
            revert TransferFailed(token, ret);
        }
    }
}
