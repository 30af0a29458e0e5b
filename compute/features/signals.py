"""The long/short rules over a symbol's features; each signal names the values that fired it."""

from __future__ import annotations

from compute.features.config import FeaturesConfig
from compute.features.state import SymbolState
from schemas.crypto import CryptoFeatures, CryptoSignal
from schemas.ids import make_id


def _cooled(last: int | None, now: int, cooldown: int) -> bool:
    return last is None or now - last >= cooldown


def evaluate_signals(
    features: CryptoFeatures, symbol: SymbolState, config: FeaturesConfig
) -> list[CryptoSignal]:
    ret = getattr(features, config.signal_return)
    imbalance = features.trade_imbalance
    spread = features.spread_bps
    if ret is None or imbalance is None or spread is None:
        return []
    if features.trade_count < config.min_trades or spread > config.max_spread_bps:
        return []
    used = {
        config.signal_return: ret,
        "trade_imbalance": imbalance,
        "trade_count": float(features.trade_count),
        "spread_bps": spread,
    }
    now = features.ts_recv
    out: list[CryptoSignal] = []
    if (
        ret >= config.long_return_bps
        and imbalance >= config.min_imbalance
        and _cooled(symbol.last_long_ts, now, config.signal_cooldown_ns)
    ):
        symbol.last_long_ts = now
        thresholds = {"long_return_bps": config.long_return_bps}
        out.append(_signal(features, "long", "momentum_long", used, thresholds, config))
    if (
        ret <= -config.short_return_bps
        and imbalance <= -config.min_imbalance
        and _cooled(symbol.last_short_ts, now, config.signal_cooldown_ns)
    ):
        symbol.last_short_ts = now
        thresholds = {"short_return_bps": config.short_return_bps}
        out.append(_signal(features, "short", "momentum_short", used, thresholds, config))
    return out


def _signal(
    features: CryptoFeatures,
    direction: str,
    rule: str,
    used: dict[str, float],
    thresholds: dict[str, float],
    config: FeaturesConfig,
) -> CryptoSignal:
    all_thresholds = thresholds | {
        "min_imbalance": config.min_imbalance,
        "min_trades": float(config.min_trades),
        "max_spread_bps": config.max_spread_bps,
    }
    return CryptoSignal(
        features.ts_recv,
        make_id("crypto_signal", features.run_id, features.symbol, features.ts_recv, rule),
        features.run_id,
        features.symbol,
        direction,  # type: ignore[arg-type]
        rule,
        used,
        all_thresholds,
    )
