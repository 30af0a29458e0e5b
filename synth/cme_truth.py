"""The truth of every whole second of a synthetic CME session, from the smile and the books."""

from __future__ import annotations

import numpy as np

from synth.cme_futures import FuturesTape
from synth.cme_instruments import FUTURE_ROOT, Chain, Future
from synth.cme_labels import CmeSecondLabel, ExpiryTruth
from synth.cme_smile import NS, YEAR_NS, SmilePath, delta_log_moneyness


def second_labels(
    futures: list[Future],
    chains: list[Chain],
    tape: FuturesTape,
    smile: SmilePath,
    open_ns: int,
    close_ns: int,
    quiet: list[tuple[int, int]],
) -> list[CmeSecondLabel]:
    """One label per whole second from the open to the close, both included."""
    seconds = open_ns + NS * np.arange((close_ns - open_ns) // NS + 1, dtype=np.int64)
    column = smile.index_at(seconds)
    per_expiry = [_expiry_truths(e, chain, futures, tape, smile, seconds, column)
                  for e, chain in enumerate(chains)]  # fmt: skip
    front_mid = tape.mid_at(0, seconds)
    in_quiet = np.zeros(len(seconds), dtype=bool)
    for start, end in quiet:
        in_quiet |= (seconds >= start) & (seconds <= end)  # at `end` the refresh is under way
    labels = []
    for i, ts in enumerate(seconds.tolist()):
        expiries = [truths[i] for truths in per_expiry]
        slope = expiries[1].atm_iv - expiries[0].atm_iv if len(expiries) > 1 else None
        labels.append(
            CmeSecondLabel(
                ts=ts,
                root=FUTURE_ROOT,
                front_symbol=futures[0].symbol,
                cme_fwd_mid=int(front_mid[i]),
                atm_iv=expiries[0].atm_iv,
                rr25=expiries[0].rr25,
                iv_term_slope=slope,
                quiet=bool(in_quiet[i]),
                expiries=expiries,
            )
        )
    return labels


def _expiry_truths(
    expiry: int,
    chain: Chain,
    futures: list[Future],
    tape: FuturesTape,
    smile: SmilePath,
    seconds: np.ndarray,
    column: np.ndarray,
) -> list[ExpiryTruth]:
    forward = tape.mid_at(chain.future, seconds)
    years = (chain.expiration - seconds) / YEAR_NS
    call_k = delta_log_moneyness(smile, expiry, column, years, 0.25)
    put_k = delta_log_moneyness(smile, expiry, column, years, -0.25)
    call_iv = smile.vol(expiry, column, call_k)
    put_iv = smile.vol(expiry, column, put_k)
    dollars = forward / 1e9
    columns = zip(
        forward.tolist(),
        years.tolist(),
        smile.vol(expiry, column, np.zeros(len(seconds))).tolist(),
        (dollars * np.exp(call_k)).tolist(),
        (dollars * np.exp(put_k)).tolist(),
        call_iv.tolist(),
        put_iv.tolist(),
        (100.0 * (call_iv - put_iv)).tolist(),
        smile.atm[expiry, column].tolist(),
        smile.skew[expiry, column].tolist(),
        strict=True,
    )
    symbol = futures[chain.future].symbol
    curv = float(smile.curv[expiry])
    return [
        ExpiryTruth(
            expiration=chain.expiration,
            underlying_symbol=symbol,
            forward=f,
            time_to_expiry=t,
            atm_iv=atm_iv,
            call25_strike=kc,
            put25_strike=kp,
            call25_iv=vc,
            put25_iv=vp,
            rr25=rr,
            smile_atm=a,
            smile_skew=s,
            smile_curv=curv,
        )
        for f, t, atm_iv, kc, kp, vc, vp, rr, a, s in columns
    ]
