"""Inference on off-exchange equity prints: absorbed blocks, stealth accumulation, distribution.

Off-exchange prints (TRF: ATS and internalisers) carry no direction and are reported late,
so every event names the prints and lit quotes it rests on and says what it cannot know.

- absorbed block: one print of at least `darkpool_block_min_shares` shares (or the notional
  floor); at the end of the following `darkpool_impact_window_ns` the lit mid (or the last
  lit print) stands at most `darkpool_absorbed_max_impact_bps` from where it was at the
  print. The net move, not the largest excursion: ordinary noise makes excursions.
- stealth accumulation / distribution: at least `darkpool_episode_min_prints` mid-size
  off-exchange prints inside a window capped from the first, at least
  `darkpool_episode_min_side_pct` % of them at or above (below) the lit mid, while the lit
  price rose (fell) by `darkpool_episode_min_move_bps`.
"""

from __future__ import annotations

from compute.flow.baselines import fixed_ratio
from compute.flow.state import (
    NO_DEADLINE,
    DarkSymbol,
    EngineState,
    Episode,
    PendingBlock,
    bump,
)
from schemas.events import (
    FIXED_DIGITS,
    Bucket,
    DarkPoolEvent,
    EquityPrint,
    EquityQuote,
    Event,
    MemberPrint,
    QuoteRef,
)
from schemas.ids import make_id

CAVEAT_BLOCK = (
    "Off-exchange prints carry no aggressor side: who bought and who sold is unknown. "
    "TRF reports may lag the execution (up to 10 s) and carry the report time, so the lit "
    "reference may already contain the impact. Impact is measured on the last lit quote "
    "seen from any venue (not a consolidated NBBO) and other flow moves the same quotes; "
    "one print may be several counterparties or a facilitation trade."
)
CAVEAT_EPISODE = (
    "Direction is inferred from where prints sit against the lit mid at report time, never "
    "observed. TRF prints may be delayed, aggregated or split; the lit move can have other "
    "causes; accumulation cannot be told apart from hedging, facilitation or many unrelated "
    "buyers; the lit mid is the last quote seen from any venue, not a consolidated NBBO."
)


def _symbol(state: EngineState, symbol: str) -> DarkSymbol:
    found = state.dark.get(symbol)
    if found is None:
        found = state.dark[symbol] = DarkSymbol()
    return found


def _refresh_deadline(state: EngineState) -> None:
    deadline = NO_DEADLINE
    if state.block_cursor < state.next_block_serial:
        deadline = state.blocks[state.block_cursor].deadline
    if state.episode_cursor < state.next_episode_serial:
        deadline = min(deadline, state.episodes[state.episode_cursor].deadline)
    state.dark_deadline = deadline


def _reference(ds: DarkSymbol) -> int:
    quote = ds.quote
    if quote is not None and quote.bid_px is not None and quote.ask_px is not None:
        return (quote.bid_px + quote.ask_px) // 2
    return ds.last_lit_px


def on_equity_quote(state: EngineState, event: EquityQuote) -> None:
    """Keep the lit quote and feed open absorbed-block windows."""
    bid, ask = event.bid_px, event.ask_px
    if bid is None or ask is None or bid > ask:
        bump(state, "equity_quotes_unusable")
        return
    ds = _symbol(state, event.symbol)
    if ds.quote is not None and event.ts_recv < ds.quote.ts_recv:
        bump(state, "equity_quotes_late_ignored")
        return
    quote = QuoteRef(event.publisher_id, event.ts_recv, bid, ask)
    ds.quote = quote
    if ds.blocks:
        mid = (bid + ask) // 2
        for serial in ds.blocks:
            block = state.blocks[serial]
            block.observations += 1
            block.last_quote = quote
            block.last_px = mid


def on_equity_print(state: EngineState, event: EquityPrint, late: bool) -> None:
    """Spot for option moneyness; lit prints feed impact windows, dark prints open them."""
    symbol = event.symbol
    price = event.price
    if price <= 0 or event.size <= 0:
        bump(state, "equity_prints_unusable")
        return
    ds = _symbol(state, symbol)
    if not event.off_exchange:
        if late:
            bump(state, "equity_prints_late_ignored")
            return
        state.spots[symbol] = price
        ds.last_lit_px = price
        ds.last_lit_ts = event.ts_recv
        for serial in ds.blocks:
            block = state.blocks[serial]
            if block.last_quote is None:  # lit prints stand in only while no quote came
                block.observations += 1
                block.last_px = price
        return
    if symbol not in state.spots:
        state.spots[symbol] = price
    if late:
        # A late report cannot join windows that were judged without it.
        bump(state, "darkpool_late_prints")
        return
    cfg = state.config
    bid, ask = event.bid_px, event.ask_px
    if bid is None or ask is None:
        quote = ds.quote
        bid = quote.bid_px if quote is not None else None
        ask = quote.ask_px if quote is not None else None
    bucket: Bucket = "NA"
    if bid is not None and ask is not None and bid <= ask:
        if price > ask:
            bucket = "AA"
        elif price == ask:
            bucket = "A"
        elif price < bid:
            bucket = "BB"
        elif price == bid:
            bucket = "B"
        else:
            bucket = "M"
    else:
        bid = ask = None
    member = MemberPrint(
        event.instrument_id,
        event.publisher_id,
        event.ts_event,
        event.sequence,
        price,
        event.size,
        "unknown",
        bucket,
        bid,
        ask,
    )
    notional = price * event.size // 10_000_000
    t = event.ts_recv
    big = notional >= cfg.darkpool_block_min_notional_cents
    if event.size >= cfg.darkpool_block_min_shares or big:
        ref = _reference(ds)
        if ref <= 0:
            bump(state, "darkpool_blocks_without_lit_reference")
            return
        serial = state.next_block_serial
        state.next_block_serial += 1
        state.blocks[serial] = PendingBlock(
            serial, symbol, t + cfg.darkpool_impact_window_ns, t, member, notional, ref, ds.quote
        )
        ds.blocks.append(serial)
        _refresh_deadline(state)
        return
    if event.size < cfg.darkpool_episode_min_shares:
        return
    episode: Episode | None = state.episodes.get(ds.episode) if ds.episode >= 0 else None
    if episode is None:
        serial = state.next_episode_serial
        state.next_episode_serial += 1
        episode = Episode(
            serial, symbol, t + cfg.darkpool_episode_window_ns, _reference(ds), ds.quote, []
        )
        state.episodes[serial] = episode
        ds.episode = serial
        _refresh_deadline(state)
    episode.members.append(member)
    episode.size += event.size
    episode.notional_cents += notional
    episode.last_ts_recv = t
    if bid is not None and ask is not None:
        episode.placed += 1
        twice, both = 2 * price, bid + ask
        if twice >= both:
            episode.at_or_above += 1
        if twice <= both:
            episode.at_or_below += 1


def close_dark(state: EngineState, t: int, out: list[Event]) -> None:
    """Judge every dark-pool window whose deadline lies before event time `t`."""
    while state.block_cursor < state.next_block_serial:
        block = state.blocks[state.block_cursor]
        if block.deadline >= t:
            break
        del state.blocks[state.block_cursor]
        state.block_cursor += 1
        _judge_block(state, block, out)
    while state.episode_cursor < state.next_episode_serial:
        episode = state.episodes[state.episode_cursor]
        if episode.deadline >= t:
            break
        del state.episodes[state.episode_cursor]
        state.episode_cursor += 1
        _judge_episode(state, episode, out)
    _refresh_deadline(state)


def _judge_block(state: EngineState, block: PendingBlock, out: list[Event]) -> None:
    ds = state.dark[block.symbol]
    ds.blocks.remove(block.serial)
    if block.observations == 0:
        bump(state, "darkpool_blocks_unobserved")
        return
    impact = fixed_ratio(abs(block.last_px - block.ref_px) * 10_000, block.ref_px)
    if impact > state.config.darkpool_absorbed_max_impact_bps:
        return
    quotes = [q for q in (block.ref_quote, block.last_quote) if q is not None]
    if len(quotes) == 2 and quotes[0] == quotes[1]:
        quotes.pop()
    confidence = 0.6 if block.last_quote is not None else 0.4
    m = block.member
    out.append(
        DarkPoolEvent(
            block.ts_recv,
            make_id(
                "darkpool_event",
                state.run_id,
                "absorbed_block",
                block.symbol,
                m.publisher_id,
                m.ts_event,
                m.sequence,
            ),  # fmt: skip
            state.run_id,
            "absorbed_block",
            block.symbol,
            m.ts_event,
            m.ts_event,
            m.size,
            block.notional_cents,
            1,
            impact,
            confidence,
            [m],
            quotes,
            CAVEAT_BLOCK,
        )
    )


def _judge_episode(state: EngineState, episode: Episode, out: list[Event]) -> None:
    cfg = state.config
    ds = state.dark[episode.symbol]
    if ds.episode == episode.serial:
        ds.episode = -1
    n = len(episode.members)
    end_px = _reference(ds)
    if n < cfg.darkpool_episode_min_prints or episode.placed == 0:
        return
    if episode.ref_px <= 0 or end_px <= 0:
        bump(state, "darkpool_episodes_without_lit_reference")
        return
    move = fixed_ratio((end_px - episode.ref_px) * 10_000, episode.ref_px)
    pct = cfg.darkpool_episode_min_side_pct
    min_move = cfg.darkpool_episode_min_move_bps
    if episode.at_or_above * 100 >= pct * episode.placed and move >= min_move:
        kind = "stealth_accumulation"
    elif episode.at_or_below * 100 >= pct * episode.placed and move <= -min_move:
        kind = "distribution"
    else:
        return
    quotes = [q for q in (episode.ref_quote, ds.quote) if q is not None]
    if len(quotes) == 2 and quotes[0] == quotes[1]:
        quotes.pop()
    first = episode.members[0]
    confidence = round(min(0.7, 0.3 + 0.01 * n), FIXED_DIGITS)
    out.append(
        DarkPoolEvent(
            episode.last_ts_recv,
            make_id(
                "darkpool_event",
                state.run_id,
                kind,
                episode.symbol,
                first.publisher_id,
                first.ts_event,
                first.sequence,
            ),  # fmt: skip
            state.run_id,
            kind,
            episode.symbol,
            min(m.ts_event for m in episode.members),
            max(m.ts_event for m in episode.members),
            episode.size,
            episode.notional_cents,
            n,
            move,
            confidence,
            episode.members,
            quotes,
            CAVEAT_EPISODE,
        )
    )
