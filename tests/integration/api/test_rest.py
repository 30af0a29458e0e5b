"""REST history, evidence, runs, read-only SQL, named queries, metrics and the page."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.integration.api.conftest import Api
from tests.integration.api.session import SECOND
from tests.kit.samples import T0


@pytest.fixture
async def http(rest_api: Api):  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(base_url=rest_api.base_url, timeout=30) as client:
        yield client


def ids(body: dict, key: str) -> list[str]:  # type: ignore[type-arg]
    return [item[key] for item in body["items"]]


async def test_packets_default_to_the_live_run_newest_first(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/packets")
    assert response.status_code == 200
    body = response.json()
    assert body["run_id"] == "live"
    assert ids(body, "packet_id") == ["pkt-aapl-block", "pkt-msft-sweep", "pkt-aapl-sweep"]
    assert {item["run_id"] for item in body["items"]} == {"live"}


async def test_packets_filter_by_underlying_kind_time_and_premium(
    http: httpx.AsyncClient,
) -> None:
    async def packet_ids(**params: object) -> list[str]:
        response = await http.get("/v1/packets", params=params)
        assert response.status_code == 200, response.text
        return ids(response.json(), "packet_id")

    assert await packet_ids(underlying="AAPL") == ["pkt-aapl-block", "pkt-aapl-sweep"]
    assert await packet_ids(underlying="MSFT,AAPL", kind="sweep") == [
        "pkt-msft-sweep", "pkt-aapl-sweep",
    ]  # fmt: skip
    assert await packet_ids(since="2023-11-14T22:13:50Z") == ["pkt-aapl-block", "pkt-msft-sweep"]
    assert await packet_ids(since=str(T0 + 30 * SECOND), until=str(T0 + 60 * SECOND)) == [
        "pkt-msft-sweep"
    ]
    assert await packet_ids(min_premium_cents=1_500_000) == ["pkt-aapl-block", "pkt-aapl-sweep"]
    assert await packet_ids(limit=1) == ["pkt-aapl-block"]
    assert await packet_ids(run_id="no-such-run") == []


async def test_a_time_filter_that_is_not_a_time_is_a_400_saying_what_was_expected(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/v1/packets", params={"since": "yesterday"})
    assert response.status_code == 400
    assert "ISO 8601" in response.json()["detail"]


async def test_packets_keep_cents_and_integer_prices_with_dollars_beside_them(
    http: httpx.AsyncClient,
) -> None:
    sweep = await http.get("/v1/packets", params={"kind": "sweep", "underlying": "AAPL"})
    item = sweep.json()["items"][0]
    assert item["premium_cents"] == 1_500_000 and isinstance(item["premium_cents"], int)
    assert item["spot_px"] == 190 * 10**9 and item["spot_px_dollars"] == 190.0
    assert item["legs"][0]["vwap_px"] == 1_500_000_000
    assert item["legs"][0]["vwap_px_dollars"] == 1.5
    assert item["legs"][0]["strike_price_dollars"] == 190.0
    assert item["ts_start"] == T0  # integer nanoseconds, not a rounded datetime
    assert "members" not in item  # the evidence endpoint has them


async def test_packet_evidence_holds_member_prints_with_nbbo_and_inference_hits_and_alerts(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/v1/packets/pkt-aapl-sweep")
    assert response.status_code == 200
    evidence = response.json()
    packet = evidence["packet"]
    assert packet["packet_id"] == "pkt-aapl-sweep" and packet["kind"] == "sweep"
    members = packet["members"]
    assert [(m["publisher_id"], m["sequence"], m["size"]) for m in members] == [
        (20, 11, 6), (30, 12, 4),
    ]  # fmt: skip
    first = members[0]
    assert first["ts_event"] == T0
    assert (first["nbbo_bid_px"], first["nbbo_ask_px"]) == (1_400_000_000, 1_500_000_000)
    assert first["nbbo_bid_px_dollars"] == 1.4 and first["price_dollars"] == 1.5
    assert first["nbbo_status"] == "joined" and first["confidence"] == 0.83
    assert first["symbol"] == "AAPL  240119C00190000"
    assert [h["hit_id"] for h in evidence["hits"]] == ["hit-aapl-sweep"]
    assert [a["alert_id"] for a in evidence["alerts"]] == ["alert-aapl-sweep"]
    baseline = evidence["alerts"][0]["baselines"][0]
    assert baseline == {"key": "AAPL", "metric": "premium", "value": 1_500_000, "n": 20,
                        "mean": 1000.0, "std": 10.0, "z": 3.5}  # fmt: skip
    alert_member = evidence["alerts"][0]["members"][0]
    assert alert_member["publisher_id"] == 20 and alert_member["bucket"] == "A"


async def test_a_packet_without_inference_rows_still_lists_its_prints(
    http: httpx.AsyncClient,
) -> None:
    members = (await http.get("/v1/packets/pkt-aapl-block")).json()["packet"]["members"]
    assert [(m["publisher_id"], m["size"], m["nbbo_status"]) for m in members] == [(40, 300, None)]
    assert members[0]["symbol"] == "AAPL  240119C00190000"  # from the packet's legs


async def test_an_unknown_packet_is_404(http: httpx.AsyncClient) -> None:
    assert (await http.get("/v1/packets/nope")).status_code == 404
    other_run = await http.get("/v1/packets/pkt-aapl-sweep", params={"run_id": "elsewhere"})
    assert other_run.status_code == 404


async def test_alerts_filter_by_underlying_rule_and_severity(http: httpx.AsyncClient) -> None:
    every = (await http.get("/v1/alerts")).json()
    assert ids(every, "alert_id") == ["alert-msft-spike", "alert-aapl-sweep"]
    severe = (await http.get("/v1/alerts", params={"min_severity": 3})).json()
    assert ids(severe, "alert_id") == ["alert-aapl-sweep"]
    spikes = (await http.get("/v1/alerts", params={"rule": "spike"})).json()
    assert ids(spikes, "alert_id") == ["alert-msft-spike"]
    msft = (await http.get("/v1/alerts", params={"underlying": "MSFT"})).json()
    assert ids(msft, "alert_id") == ["alert-msft-spike"]


async def test_hits_filter_by_rule_premium_and_time(http: httpx.AsyncClient) -> None:
    every = (await http.get("/v1/hits")).json()
    assert ids(every, "hit_id") == ["hit-aapl-block", "hit-msft-spike", "hit-aapl-sweep"]
    block = (await http.get("/v1/hits", params={"rule": "block"})).json()
    assert ids(block, "hit_id") == ["hit-aapl-block"]
    big = (await http.get("/v1/hits", params={"min_premium_cents": 1_000_000})).json()
    assert ids(big, "hit_id") == ["hit-aapl-block", "hit-aapl-sweep"]
    early = (await http.get("/v1/hits", params={"until": "2023-11-14T22:13:30Z"})).json()
    assert ids(early, "hit_id") == ["hit-aapl-sweep"]


async def test_darkpool_lists_inferences_with_their_prints_quotes_and_caveats(
    http: httpx.AsyncClient,
) -> None:
    body = (await http.get("/v1/darkpool")).json()
    assert ids(body, "event_id") == ["dp-msft", "dp-aapl"]
    aapl = (await http.get("/v1/darkpool", params={"symbol": "AAPL"})).json()["items"][0]
    assert aapl["notional_cents"] == 950_000_000 and aapl["caveats"] == "direction unknown"
    assert aapl["prints"][0]["size"] == 10 and aapl["quotes"][0]["ask_px"] == 1
    big = (await http.get("/v1/darkpool", params={"min_notional_cents": 100_000_000})).json()
    assert ids(big, "event_id") == ["dp-aapl"]


async def test_runs_list_registered_runs_and_the_live_run(http: httpx.AsyncClient) -> None:
    runs = {r["run_id"]: r for r in (await http.get("/v1/runs")).json()["runs"]}
    assert runs["replay-a"]["kind"] == "replay" and runs["replay-a"]["status"] == "done"
    assert runs["live"]["kind"] == "unregistered"


async def test_a_runs_report_has_summary_and_calibration_and_an_unknown_run_is_404(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/v1/runs/replay-a/report")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["signals"] == 5  # 3 hits + 2 alerts
    kinds = {(row["source"], row["kind"]): row["signals"] for row in report["summary"]}
    assert kinds[("alert", "sweep")] == 1 and kinds[("hit", "block")] == 1
    assert isinstance(report["calibration"], list)
    assert (await http.get("/v1/runs/never-ran/report")).status_code == 404


async def test_sql_runs_a_select_with_a_row_cap(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1/sql", json={"sql": "SELECT packet_id, premium_cents FROM flow_packets "
                                "WHERE run_id = 'live' ORDER BY premium_cents DESC"}
    )  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["columns"] == ["packet_id", "premium_cents"]
    assert body["rows"][0] == ["pkt-aapl-block", 9_000_000]
    capped = (await http.post("/v1/sql", json={"sql": "SELECT number FROM system.numbers",
                                                "max_rows": 7})).json()  # fmt: skip
    assert capped["row_count"] == 7 and capped["truncated"] is True
    assert [r[0] for r in capped["rows"]] == list(range(7))


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO flow_packets (packet_id) VALUES ('x')",
        "DROP TABLE flow_packets",
        "  -- sneaky\n  drop table alerts",
        "SELECT 1; DROP TABLE flow_packets",
        "ALTER TABLE alerts DELETE WHERE 1",
        "",
    ],
)
async def test_sql_refuses_anything_but_one_reading_statement_with_a_400(
    http: httpx.AsyncClient, statement: str
) -> None:
    response = await http.post("/v1/sql", json={"sql": statement})
    assert response.status_code == 400
    assert response.json()["code"] == "sql_rejected"
    assert "SELECT" in response.json()["detail"]
    count = await http.post("/v1/sql", json={"sql": "SELECT count() FROM flow_packets"})
    assert count.json()["rows"] == [[6]]  # 3 live + 3 replay: nothing was written or dropped


async def test_sql_runs_readonly_so_a_select_cannot_lift_its_own_limits(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(
        "/v1/sql", json={"sql": "SELECT 1 SETTINGS readonly = 0, max_result_rows = 0"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "sql_failed"
    assert "readonly" in response.json()["detail"]
    broken = await http.post("/v1/sql", json={"sql": "SELECT no_such_column FROM alerts"})
    assert broken.status_code == 400 and "no_such_column" in broken.json()["detail"]


async def test_named_queries_are_listed_and_run_with_query_string_parameters(
    http: httpx.AsyncClient,
) -> None:
    listed = (await http.get("/v1/queries")).json()["queries"]
    assert "packet_evidence" in {q["name"] for q in listed}
    response = await http.get("/v1/queries/packet_evidence", params={"packet_id": "pkt-aapl-sweep"})
    assert response.status_code == 200, response.text
    body = response.json()
    items = [row[body["columns"].index("item")] for row in body["rows"]]
    assert items == ["print", "print", "hit", "alert"]
    assert (await http.get("/v1/queries/no_such_query")).status_code == 404
    missing = await http.get("/v1/queries/packet_evidence")
    assert missing.status_code == 400 and "packet_id" in missing.json()["detail"]


def sample(text: str, series: str) -> float:
    """The value of one series in Prometheus text (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_expose_up_gauges_rows_per_live_table_and_request_counts(
    http: httpx.AsyncClient,
) -> None:
    ok = 'flowtape_api_requests_total{method="GET",route="/v1/packets",status="200"}'
    missing = (
        'flowtape_api_requests_total{method="GET",route="/v1/packets/{packet_id}",status="404"}'
    )
    before = (await http.get("/metrics")).text
    await http.get("/v1/packets")
    await http.get("/v1/packets/nope")
    response = await http.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert sample(text, 'flowtape_up{component="clickhouse"}') == 1
    assert sample(text, 'flowtape_up{component="nats"}') == 1
    assert sample(text, 'flowtape_table_rows{run_id="live",table="flow_packets"}') == 3
    assert sample(text, 'flowtape_table_rows{run_id="live",table="packet_prints"}') == 4
    assert sample(text, 'flowtape_table_rows{run_id="live",table="alerts"}') == 2
    assert sample(text, ok) == sample(before, ok) + 1
    assert sample(text, missing) == sample(before, missing) + 1
    assert "# TYPE flowtape_api_requests_total counter" in text


async def test_the_page_and_its_script_are_served_and_the_openapi_lists_the_endpoints(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert '<script type="module" src="/web/app.js">' in page.text
    assert (await http.get("/web/app.js")).status_code == 200
    feed = await http.get("/web/live.js")
    assert feed.status_code == 200 and "/v1/ws" in feed.text
    assert (await http.get("/web/vendor/lightweight-charts.js")).status_code == 200
    assert (await http.get("/web/tape.css")).status_code == 200
    paths = (await http.get("/openapi.json")).json()["paths"]
    for path in ("/v1/packets", "/v1/packets/{packet_id}", "/v1/sql", "/v1/playback/{run_id}",
                 "/health", "/metrics", "/v1/runs/{run_id}/report"):  # fmt: skip
        assert path in paths


async def test_the_api_docs_work_offline_from_packaged_assets(http: httpx.AsyncClient) -> None:
    docs = await http.get("/docs")
    assert docs.status_code == 200
    scripts = re.findall(r'src="([^"]+swagger-ui-bundle\.js)"', docs.text)
    assert scripts and all(s.startswith("/") for s in scripts)  # served here, not a CDN
    bundle = await http.get(scripts[0])
    assert bundle.status_code == 200 and len(bundle.content) > 100_000
