"""The MPP payment channel behind the paid alpha stream (Tempo "session" intent, v1).

A subscriber opens a channel on-chain with one deposit in a stable token, then pays per
minute with off-chain EIP-712 vouchers for cumulative amounts; the server turns each
accepted voucher into a stream token and settles on-chain when the channel closes.
`challenge` (402 challenges), `voucher` (EIP-712), `accounting` (what a voucher buys),
`tokens` (stream tokens), `ledger` (the durable store), `escrow` (the contract, web3),
`gateway` (the server side of the protocol), `settlement` (claims and closes),
`client` (the subscriber side), `config` (MPP_* settings).
"""
