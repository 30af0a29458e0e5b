"""One hand-built event of every type, for storage and log tests."""

from __future__ import annotations

from schemas.events import Event
from tests.kit.derived import (
    alert,
    baseline,
    classifier_hit,
    darkpool_event,
    flow_packet,
    leg,
    member,
    print_inference,
    quote_ref,
)
from tests.kit.events import (
    equity_print,
    equity_quote,
    gap,
    heartbeat,
    open_interest,
    option_contract,
    option_print,
    option_quote,
    quarantined,
)

T0 = 1_700_000_000_000_000_000


def one_of_each_event(run_id: str = "live") -> list[Event]:
    """Every raw and derived event type once, in `RAW_EVENTS` then `DERIVED_EVENTS` order."""
    the_member = member(ts_event=T0, sequence=11, nbbo_bid_px=None)
    the_baseline = baseline()
    common = dict(ts_recv=T0 + 5, ts_event=T0, publisher_id=20, instrument_id=7)
    return [
        option_contract(**common, expiration=T0 + 10**15),
        option_print(**common, sequence=11),
        option_quote(**common, sequence=10),
        equity_print(**common, sequence=1, venue="FINN", off_exchange=True, size=50_000),
        equity_quote(**common, sequence=2),
        open_interest(**common, sequence=0),
        heartbeat(ts_recv=T0),
        gap(ts_recv=T0, first_ts_recv=T0 - 10, last_ts_recv=T0 - 1),
        quarantined(ts_recv=T0, detail="instrument_id 99", payload=b"\x01"),
        print_inference(run_id=run_id, ts_recv=T0 + 5, ts_event=T0, sequence=11,
                        nbbo_ts_recv=T0 + 1),
        flow_packet(run_id=run_id, ts_start=T0, ts_end=T0 + 100, ts_recv=T0 + 105,
                    venues=[20, 30], legs=[leg(moneyness=1.02, open_interest=100)],
                    members=[the_member]),
        classifier_hit(run_id=run_id, ts_event=T0, ts_recv=T0 + 5, baselines=[the_baseline],
                       members=[the_member]),
        alert(run_id=run_id, ts_event=T0, ts_recv=T0 + 5, baselines=[the_baseline],
              members=[the_member]),
        darkpool_event(run_id=run_id, ts_start=T0, ts_end=T0, ts_recv=T0 + 5,
                       prints=[the_member],
                       quotes=[quote_ref(ts_recv=T0, bid_px=None, ask_px=1)]),
    ]  # fmt: skip
