"""A synthetic CME session: CL futures (books, trades) and LO options priced from a known
smile, written as Databento `GLBX.MDP3` DBN files beside `cme_session.json` and
`cme_labels.jsonl` (the truth a correct alpha frame reproduces at each whole second)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synth import dbn
from synth.cme_config import CmeConfig
from synth.cme_dbn import (
    DATASET,
    definition_file,
    mbp1_file,
    mbp10_file,
    sequences,
    trades_file,
)
from synth.cme_futures import FuturesTape, futures_tape
from synth.cme_instruments import (
    FUTURE_ROOT,
    MULTIPLIER,
    NEW_YORK,
    OPTION_ROOT,
    TICK,
    Chain,
    Future,
    chain_expiration,
    list_chain,
    list_futures,
)
from synth.cme_labels import (
    LABELS_FILE,
    SESSION_FILE,
    CmeSecondLabel,
    CmeSessionTruth,
    ListedExpiry,
    QuietWindow,
    encode_labels,
    encode_truth,
)
from synth.cme_options import OptionQuotes, QuotingRules, option_quotes
from synth.cme_smile import NS, SmilePath, smile_path
from synth.cme_truth import second_labels
from synth.session import ProgressReport

DEFINITIONS_LEAD_NS = 3_600 * NS  # definitions arrive an hour before the open
FRONT_PRICE_DOLLARS = (60.0, 80.0)
GENERATION_STEPS = ("instruments", "futures books", "option quotes", "DBN records", "labels")


@dataclass
class CmeSession:
    """A generated CME session: one record array per file, the truth, and the generator's own
    pieces (instruments, tape, quotes, smile) for those who check it."""

    config: CmeConfig
    date: dt.date
    open_ns: int
    close_ns: int
    quiet: list[tuple[int, int]]
    futures: list[Future]
    chains: list[Chain]
    smile: SmilePath
    tape: FuturesTape
    quotes: OptionQuotes
    files: dict[str, dbn.DbnFile]  # keyed by schema
    truth: CmeSessionTruth
    labels: list[CmeSecondLabel]

    @property
    def n_records(self) -> int:
        """Records of every file, definitions included."""
        return sum(len(f.records) for f in self.files.values())


def _open_ns(config: CmeConfig) -> int:
    date = config.session_date()
    hours, minutes = (int(x) for x in config.start.split(":"))
    start = dt.datetime(date.year, date.month, date.day, hours, minutes, tzinfo=NEW_YORK)
    return int(start.timestamp()) * NS


def generate_cme_session(config: CmeConfig, progress: ProgressReport | None = None) -> CmeSession:
    """A deterministic session: the same config (seed included) gives byte-identical files.
    `progress` is told each of `GENERATION_STEPS` as it starts, and the end."""
    config.validate()
    report = progress or _unwatched
    total = len(GENERATION_STEPS)
    report(GENERATION_STEPS[0], 0, total)
    date = config.session_date()
    rng = np.random.default_rng(config.seed)
    open_ns = _open_ns(config)
    close_ns = open_ns + config.minutes * 60 * NS
    quiet = [(open_ns + s * NS, open_ns + (s + n) * NS) for s, n in config.windows()]
    futures = list_futures(date, config.n_futures)
    front = round(rng.uniform(*FRONT_PRICE_DOLLARS) * 100) * TICK

    report(GENERATION_STEPS[1], 1, total)
    tape = futures_tape(
        rng, futures, front, open_ns, close_ns, config.future_vol,
        config.front_events_per_second, config.trade_share,
    )  # fmt: skip
    chains = []
    for index in range(config.n_expiries):
        step = _strike_step(config, futures, index, open_ns)
        opening = int(tape.mid()[tape.rows_of(index)[0]])
        centre = (opening + step // 2) // step * step
        chains.append(list_chain(futures, index, centre, config.strikes_per_side, step))
    smile = smile_path(rng, config.n_expiries, open_ns, (close_ns - open_ns) // NS)

    report(GENERATION_STEPS[2], 2, total)
    rules = QuotingRules(
        open_ns, close_ns, quiet, config.rate, config.option_size_updates_per_second
    )
    quotes = option_quotes(rng, chains, tape, smile, rules)

    report(GENERATION_STEPS[3], 3, total)
    tape_sequence, quote_sequence = sequences(tape, quotes)
    files = {
        f.schema: f
        for f in (
            definition_file(futures, chains, open_ns - DEFINITIONS_LEAD_NS),
            trades_file(futures, tape, tape_sequence),
            mbp10_file(futures, tape, tape_sequence),
            mbp1_file(futures, chains, tape, tape_sequence, quotes, quote_sequence),
        )
    }

    report(GENERATION_STEPS[4], 4, total)
    labels = second_labels(futures, chains, tape, smile, open_ns, close_ns, quiet)
    truth = _session_truth(config, open_ns, close_ns, quiet, futures, chains)
    report(GENERATION_STEPS[4], total, total)
    return CmeSession(
        config, date, open_ns, close_ns, quiet, futures, chains, smile, tape, quotes, files,
        truth, labels,
    )  # fmt: skip


def _strike_step(config: CmeConfig, futures: list[Future], index: int, open_ns: int) -> int:
    """The strike spacing of expiry `index` (1e-9): `strike_step` for the front, widened by
    whole multiples as the square root of the time to expiry grows, so every chain spans a
    like range of standard deviations and reaches past its 25-delta strikes."""
    front = chain_expiration(futures[0]) - open_ns
    ratio = math.sqrt((chain_expiration(futures[index]) - open_ns) / front)
    return round(config.strike_step * 100) * math.ceil(ratio - 1e-9) * TICK


def _session_truth(
    config: CmeConfig,
    open_ns: int,
    close_ns: int,
    quiet: list[tuple[int, int]],
    futures: list[Future],
    chains: list[Chain],
) -> CmeSessionTruth:
    return CmeSessionTruth(
        seed=config.seed,
        dataset=DATASET,
        root=FUTURE_ROOT,
        option_root=OPTION_ROOT,
        open_ns=open_ns,
        close_ns=close_ns,
        rate=config.rate,
        year_basis="ACT/365 on ns: T = (expiration - ts_recv) / (365 * 86400 * 1e9)",
        delta_convention="Black-76 forward delta, undiscounted: N(d1) calls, N(d1) - 1 puts",
        smile="sigma(k) = smile_atm + smile_skew * k + smile_curv * k^2, k = ln(K / F)",
        tick=TICK,
        multiplier=MULTIPLIER,
        futures={f.symbol: f.instrument_id for f in futures},
        expiries=[
            ListedExpiry(
                expiration=chain.expiration,
                underlying_id=futures[chain.future].instrument_id,
                underlying_symbol=futures[chain.future].symbol,
                strikes=chain.strikes.tolist(),
            )
            for chain in chains
        ],
        quiet_windows=[QuietWindow(start=start, end=end) for start, end in quiet],
    )


def write_cme_session(
    session: CmeSession, out_dir: Path, progress: ProgressReport | None = None
) -> list[Path]:
    """Write the DBN files, `cme_session.json` and `cme_labels.jsonl` into `out_dir`; returns
    the paths written. `progress` is told each file as it starts, with the records written so
    far of the session's total, and the end."""
    report = progress or _unwatched
    total = session.n_records + len(session.labels)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = dbn.write_files(session.files.values(), out_dir, session.date, report, total)
    report(SESSION_FILE, session.n_records, total)
    (out_dir / SESSION_FILE).write_bytes(encode_truth(session.truth))
    (out_dir / LABELS_FILE).write_bytes(encode_labels(session.labels))
    paths += [out_dir / SESSION_FILE, out_dir / LABELS_FILE]
    report(LABELS_FILE, total, total)
    return sorted(paths)


def _unwatched(what: str, done: int, total: int) -> None:
    pass
