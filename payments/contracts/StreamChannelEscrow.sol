// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

interface IStableToken {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
}

/// The escrow of a unidirectional payment channel with the ABI of Tempo's stream channel:
/// a payer deposits stable tokens, signs cumulative EIP-712 vouchers off-chain, and the
/// payee settles or closes with the latest one; a payer whose payee is gone requests a close
/// and withdraws the unsettled rest once CLOSE_GRACE_PERIOD has passed.
contract StreamChannelEscrow {
    struct Channel {
        bool finalized;
        uint64 closeRequestedAt;
        address payer;
        address payee;
        address token;
        address authorizedSigner;
        uint128 deposit;
        uint128 settled;
    }

    uint64 public constant CLOSE_GRACE_PERIOD = 15 minutes;
    bytes32 public constant VOUCHER_TYPEHASH =
        keccak256("Voucher(bytes32 channelId,uint128 cumulativeAmount)");
    bytes32 private constant DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    // secp256k1's half order: a signature with a larger s is the malleable twin of another.
    uint256 private constant HALF_ORDER =
        0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    mapping(bytes32 => Channel) private channels;

    event ChannelOpened(
        bytes32 indexed channelId,
        address indexed payer,
        address indexed payee,
        address token,
        address authorizedSigner,
        bytes32 salt,
        uint256 deposit
    );
    event Settled(
        bytes32 indexed channelId,
        address indexed payer,
        address indexed payee,
        uint256 cumulativeAmount,
        uint256 deltaPaid,
        uint256 newSettled
    );
    event CloseRequested(
        bytes32 indexed channelId, address indexed payer, address indexed payee, uint256 closeGraceEnd
    );
    event TopUp(
        bytes32 indexed channelId,
        address indexed payer,
        address indexed payee,
        uint256 additionalDeposit,
        uint256 newDeposit
    );
    event ChannelClosed(
        bytes32 indexed channelId,
        address indexed payer,
        address indexed payee,
        uint256 settledToPayee,
        uint256 refundedToPayer
    );

    error ChannelAlreadyExists();
    error ChannelNotFound();
    error ChannelFinalized();
    error InvalidSignature();
    error AmountExceedsDeposit();
    error AmountNotIncreasing();
    error NotPayer();
    error NotPayee();
    error TransferFailed();
    error CloseNotReady();
    error InvalidPayee();
    error ZeroDeposit();
    error DepositOverflow();

    function open(
        address payee,
        address token,
        uint128 deposit,
        bytes32 salt,
        address authorizedSigner
    ) external returns (bytes32 channelId) {
        if (payee == address(0)) revert InvalidPayee();
        if (deposit == 0) revert ZeroDeposit();
        channelId = computeChannelId(msg.sender, payee, token, salt, authorizedSigner);
        if (channels[channelId].payer != address(0)) revert ChannelAlreadyExists();
        channels[channelId] = Channel({
            finalized: false,
            closeRequestedAt: 0,
            payer: msg.sender,
            payee: payee,
            token: token,
            authorizedSigner: authorizedSigner,
            deposit: deposit,
            settled: 0
        });
        _pull(token, msg.sender, deposit);
        emit ChannelOpened(channelId, msg.sender, payee, token, authorizedSigner, salt, deposit);
    }

    function topUp(bytes32 channelId, uint256 additionalDeposit) external {
        Channel storage channel = _live(channelId);
        if (msg.sender != channel.payer) revert NotPayer();
        if (additionalDeposit == 0) revert ZeroDeposit();
        uint256 newDeposit = uint256(channel.deposit) + additionalDeposit;
        if (newDeposit > type(uint128).max) revert DepositOverflow();
        channel.deposit = uint128(newDeposit);
        _pull(channel.token, msg.sender, additionalDeposit);
        emit TopUp(channelId, channel.payer, channel.payee, additionalDeposit, newDeposit);
    }

    function settle(bytes32 channelId, uint128 cumulativeAmount, bytes calldata signature)
        external
    {
        Channel storage channel = _live(channelId);
        if (msg.sender != channel.payee) revert NotPayee();
        if (cumulativeAmount <= channel.settled) revert AmountNotIncreasing();
        _settle(channelId, channel, cumulativeAmount, signature);
    }

    function close(bytes32 channelId, uint128 cumulativeAmount, bytes calldata signature)
        external
    {
        Channel storage channel = _live(channelId);
        if (msg.sender != channel.payee) revert NotPayee();
        if (cumulativeAmount > channel.settled) {
            _settle(channelId, channel, cumulativeAmount, signature);
        }
        _finalize(channelId, channel);
    }

    function requestClose(bytes32 channelId) external {
        Channel storage channel = _live(channelId);
        if (msg.sender != channel.payer) revert NotPayer();
        if (channel.closeRequestedAt == 0) {
            channel.closeRequestedAt = uint64(block.timestamp);
        }
        emit CloseRequested(
            channelId, channel.payer, channel.payee, channel.closeRequestedAt + CLOSE_GRACE_PERIOD
        );
    }

    function withdraw(bytes32 channelId) external {
        Channel storage channel = _live(channelId);
        if (msg.sender != channel.payer) revert NotPayer();
        if (
            channel.closeRequestedAt == 0
                || block.timestamp < channel.closeRequestedAt + CLOSE_GRACE_PERIOD
        ) revert CloseNotReady();
        _finalize(channelId, channel);
    }

    function getChannel(bytes32 channelId) external view returns (Channel memory) {
        return channels[channelId];
    }

    function computeChannelId(
        address payer,
        address payee,
        address token,
        bytes32 salt,
        address authorizedSigner
    ) public view returns (bytes32) {
        return keccak256(
            abi.encode(payer, payee, token, salt, authorizedSigner, address(this), block.chainid)
        );
    }

    function domainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(
                DOMAIN_TYPEHASH,
                keccak256("Tempo Stream Channel"),
                keccak256("1"),
                block.chainid,
                address(this)
            )
        );
    }

    function getVoucherDigest(bytes32 channelId, uint128 cumulativeAmount)
        public
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(abi.encode(VOUCHER_TYPEHASH, channelId, cumulativeAmount));
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    function _live(bytes32 channelId) private view returns (Channel storage channel) {
        channel = channels[channelId];
        if (channel.payer == address(0)) revert ChannelNotFound();
        if (channel.finalized) revert ChannelFinalized();
    }

    function _settle(
        bytes32 channelId,
        Channel storage channel,
        uint128 cumulativeAmount,
        bytes calldata signature
    ) private {
        if (cumulativeAmount > channel.deposit) revert AmountExceedsDeposit();
        address signer = _recover(getVoucherDigest(channelId, cumulativeAmount), signature);
        address expected =
            channel.authorizedSigner == address(0) ? channel.payer : channel.authorizedSigner;
        if (signer == address(0) || signer != expected) revert InvalidSignature();
        uint128 delta = cumulativeAmount - channel.settled;
        channel.settled = cumulativeAmount;
        _push(channel.token, channel.payee, delta);
        emit Settled(
            channelId, channel.payer, channel.payee, cumulativeAmount, delta, cumulativeAmount
        );
    }

    function _finalize(bytes32 channelId, Channel storage channel) private {
        channel.finalized = true;
        uint128 refund = channel.deposit - channel.settled;
        if (refund > 0) {
            _push(channel.token, channel.payer, refund);
        }
        emit ChannelClosed(channelId, channel.payer, channel.payee, channel.settled, refund);
    }

    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address) {
        if (signature.length != 65) revert InvalidSignature();
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (v < 27) v += 27;
        if (uint256(s) > HALF_ORDER || (v != 27 && v != 28)) revert InvalidSignature();
        return ecrecover(digest, v, r, s);
    }

    function _pull(address token, address from, uint256 amount) private {
        if (!IStableToken(token).transferFrom(from, address(this), amount)) revert TransferFailed();
    }

    function _push(address token, address to, uint256 amount) private {
        if (!IStableToken(token).transfer(to, amount)) revert TransferFailed();
    }
}
