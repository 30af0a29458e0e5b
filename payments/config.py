"""MPP_* settings: the price, the network (one MPP_TESTNET toggle) and the two secrets.

`MPP_TESTNET` picks the chain id, the RPC URL, the escrow contract and the currency token
together (`PaymentConfig.network`); MPP_RPC_URL overrides the RPC URL alone. The secrets
are `SecretStr`s: they print as `**********` in a repr or a log line, and outside
development a missing, placeholder or malformed one refuses to start (`check`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from web3 import Web3

from schemas.errors import ConfigError

MAINNET_CHAIN_ID = 4217
TESTNET_CHAIN_ID = 42431
MAINNET_RPC_URL = "https://rpc.tempo.xyz"
TESTNET_RPC_URL = "https://rpc.moderato.tempo.xyz"

# Accepted in development only, so `flowtape up` serves the stream on a local chain.
DEVELOPMENT_SECRET = "flowtape-development-mpp-secret-not-for-production"  # noqa: S105  (refused outside development)
_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "xxx", "your-secret-key", "0x"}
MIN_SECRET_CHARS = 32


@dataclass(frozen=True, slots=True)
class Network:
    """Where the channel lives: the chain, its RPC endpoint, the escrow and the token."""

    name: str
    chain_id: int
    rpc_url: str
    escrow: str
    currency: str


class PaymentConfig(BaseSettings):
    """Every setting of the paid alpha stream; names are the environment variables'."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    environment: str = Field("development", alias="FLOWTAPE_ENV")
    testnet: bool = Field(False, alias="MPP_TESTNET")
    amount: str = Field("0.001", alias="MPP_AMOUNT")  # dollars per payment
    minutes_per_payment: int = Field(1, ge=1, alias="MPP_MINUTES_PER_PAYMENT")
    token_decimals: int = Field(6, ge=0, le=18, alias="MPP_TOKEN_DECIMALS")
    suggested_minutes: int = Field(60, ge=1, alias="MPP_SUGGESTED_MINUTES")
    symbols: str = Field("CL", alias="MPP_SYMBOLS")  # the roots sold, comma-separated
    realm: str = Field("flowtape", alias="MPP_REALM")
    challenge_ttl_s: int = Field(300, ge=10, alias="MPP_CHALLENGE_TTL_S")
    voucher_lead_s: float = Field(10.0, gt=0, alias="MPP_VOUCHER_LEAD_S")
    settle_interval_s: float = Field(60.0, gt=0, alias="MPP_SETTLE_INTERVAL_S")
    rpc_url: str = Field("", alias="MPP_RPC_URL")
    mainnet_escrow: str = Field("", alias="MPP_MAINNET_ESCROW")
    mainnet_currency: str = Field("", alias="MPP_MAINNET_CURRENCY")
    testnet_escrow: str = Field("", alias="MPP_TESTNET_ESCROW")
    testnet_currency: str = Field("", alias="MPP_TESTNET_CURRENCY")
    secret_key: SecretStr = Field(SecretStr(""), alias="MPP_SECRET_KEY")
    recipient_key: SecretStr = Field(SecretStr(""), alias="MPP_RECIPIENT_KEY")

    @property
    def network(self) -> Network:
        if self.testnet:
            name, chain_id, rpc = "testnet", TESTNET_CHAIN_ID, TESTNET_RPC_URL
            escrow, currency = self.testnet_escrow, self.testnet_currency
        else:
            name, chain_id, rpc = "mainnet", MAINNET_CHAIN_ID, MAINNET_RPC_URL
            escrow, currency = self.mainnet_escrow, self.mainnet_currency
        return Network(name, chain_id, self.rpc_url or rpc, escrow, currency)

    @property
    def amount_units(self) -> int:
        """MPP_AMOUNT in the token's smallest units (0.001 at 6 decimals: 1000)."""
        try:
            units = Decimal(self.amount).scaleb(self.token_decimals)
        except InvalidOperation as exc:
            raise ConfigError(f"MPP_AMOUNT must be a decimal number, got {self.amount!r}") from exc
        if units <= 0 or units != units.to_integral_value():
            raise ConfigError(
                f"MPP_AMOUNT must be a positive whole number of 1e-{self.token_decimals} units,"
                f" got {self.amount!r}"
            )
        return int(units)

    @property
    def sold_symbols(self) -> tuple[str, ...]:
        return tuple(s.strip().upper() for s in self.symbols.split(",") if s.strip())

    def hmac_secret(self) -> bytes:
        """MPP_SECRET_KEY's bytes (the development secret where development leaves it unset)."""
        self.check()
        value = self.secret_key.get_secret_value()
        return (value or DEVELOPMENT_SECRET).encode()

    def recipient(self) -> LocalAccount:
        """The payee's account from MPP_RECIPIENT_KEY."""
        self.check()
        key = self.recipient_key.get_secret_value()
        if not key:
            raise ConfigError("MPP_RECIPIENT_KEY is not set: the server cannot settle channels")
        return Account.from_key(key)

    def check(self) -> None:
        """Refuse to run on a placeholder secret outside development, on a malformed
        recipient key anywhere, and on a network without its escrow and currency."""
        self.amount_units  # noqa: B018  (validates MPP_AMOUNT)
        secret = self.secret_key.get_secret_value()
        key = self.recipient_key.get_secret_value()
        if self.environment != "development":
            if secret.lower() in _PLACEHOLDERS or secret == DEVELOPMENT_SECRET:
                raise ConfigError("MPP_SECRET_KEY is a placeholder; set a real secret")
            if len(secret) < MIN_SECRET_CHARS:
                raise ConfigError(
                    f"MPP_SECRET_KEY must hold at least {MIN_SECRET_CHARS} characters,"
                    f" got {len(secret)}"
                )
            if key.lower() in _PLACEHOLDERS:
                raise ConfigError("MPP_RECIPIENT_KEY is a placeholder; set the payee's key")
        if key:
            try:
                Account.from_key(key)
            except (ValueError, TypeError) as exc:
                # The key's text never goes into the message.
                raise ConfigError("MPP_RECIPIENT_KEY is not a 32-byte hex private key") from exc
        network = self.network
        for what, address in (("escrow", network.escrow), ("currency", network.currency)):
            if address and not Web3.is_address(address):
                raise ConfigError(
                    f"the {network.name} {what} must be a 20-byte hex address, got {address!r}"
                )
