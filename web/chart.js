// The chart panel: candles of an underlying's own price (/v1/candles, kind equity) with the
// flow packets as markers (size by premium, colour by side, click -> evidence) and a pane of
// net call and net put premium per minute (/v1/flow/net-premium). TradingView Lightweight
// Charts, bundled locally (web/vendor/, from npm by web/ensure-web.sh).

import { fetchJson } from "./format.js";

const LC = window.LightweightCharts;
const SIDE_COLOUR = { buy: "#3ecf8e", sell: "#ff6b6b" };

function markerSize(premiumCents) {
  // $10k -> 1, $100k -> 2, $1M -> 3 ...
  return Math.max(0.6, Math.min(4, Math.log10(Math.max(premiumCents, 1) / 100) - 3));
}

export class FlowChart {
  constructor(container, { onMarkerClick }) {
    this.container = container;
    this.chart = LC.createChart(container, {
      autoSize: true,
      layout: { background: { color: "#0f1419" }, textColor: "#d7dde3", panes: { separatorColor: "#25303b" } },
      grid: { vertLines: { color: "#1b232c" }, horzLines: { color: "#1b232c" } },
      timeScale: { timeVisible: true, secondsVisible: true },
      localization: { timeFormatter: (t) => new Date(t * 1000).toLocaleTimeString("en-US", { timeZone: "America/New_York", hour12: false }) },
    });
    this.candles = this.chart.addSeries(LC.CandlestickSeries, {
      upColor: "#3ecf8e", downColor: "#ff6b6b", wickUpColor: "#3ecf8e", wickDownColor: "#ff6b6b", borderVisible: false,
    });
    this.netCall = this.chart.addSeries(LC.HistogramSeries, { color: "#3ecf8e", priceFormat: { type: "volume" }, title: "net call $" }, 1);
    this.netPut = this.chart.addSeries(LC.HistogramSeries, { color: "#ff6b6b", priceFormat: { type: "volume" }, title: "net put $" }, 1);
    this.markers = LC.createSeriesMarkers(this.candles, []);
    this.bars = [];          // candle times (s), ascending
    this.ranges = new Map(); // candle time -> [low, high]
    this.points = new Map(); // packet id -> {time, price}
    this.symbol = null;
    this.chart.subscribeClick((param) => { if (param.hoveredObjectId) onMarkerClick(String(param.hoveredObjectId)); });
  }

  /** Load candles and net premium of `symbol` in `runId`; returns a line for the panel. */
  async load(symbol, runId, tf) {
    this.symbol = symbol;
    const query = new URLSearchParams({ tf, limit: "500", kind: "equity", run_id: runId });
    const net = new URLSearchParams({ underlying: symbol, run_id: runId, limit: "390" });
    const [candles, premium] = await Promise.allSettled([
      fetchJson(`/v1/candles/${encodeURIComponent(symbol)}?${query}`),
      fetchJson(`/v1/flow/net-premium?${net}`),
    ]);
    if (this.symbol !== symbol) return "";
    const rows = candles.status === "fulfilled" ? candles.value.candles : [];
    const bars = rows.map((c) => ({
      time: Math.floor(c.start_ns / 1e9), open: c.open_dollars, high: c.high_dollars, low: c.low_dollars, close: c.close_dollars,
    }));
    this.candles.setData(bars);
    this.bars = bars.map((b) => b.time);
    this.ranges = new Map(bars.map((b) => [b.time, [b.low, b.high]]));
    const minutes = premium.status === "fulfilled" ? premium.value.items.slice().reverse() : [];
    this.netCall.setData(minutes.map((m) => ({ time: Math.floor(m.minute_ns / 1e9), value: m.net_call_cents / 100 })));
    this.netPut.setData(minutes.map((m) => ({ time: Math.floor(m.minute_ns / 1e9), value: m.net_put_cents / 100 })));
    this.chart.timeScale().fitContent();
    if (candles.status === "rejected") return `no candles of ${symbol}: ${candles.reason.message}`;
    return `${symbol} · ${rows.length} candles (${tf}) · ${minutes.length} minutes of net premium`;
  }

  /** Put these packets (of the charted symbol) on the candles as markers, spread over each
   * candle's range in time order so that no two sit on one point. */
  setPackets(packets) {
    this.points.clear();
    const byBar = new Map();
    for (const p of packets) {
      const time = this.barAt(Math.floor(p.ts_start / 1e9));
      if (time === null) continue;
      if (!byBar.has(time)) byBar.set(time, []);
      byBar.get(time).push(p);
    }
    const markers = [];
    for (const [time, inBar] of byBar) {
      const [low, high] = this.ranges.get(time);
      inBar.sort((a, b) => a.ts_start - b.ts_start);
      inBar.forEach((p, k) => this.mark(markers, p, time, low + ((high - low) * (k + 0.5)) / inBar.length));
    }
    markers.sort((a, b) => a.time - b.time);
    this.markers.setMarkers(markers);
  }

  mark(markers, p, time, priceAt) {
    this.points.set(p.packet_id, { time, price: priceAt });
    markers.push({
      id: p.packet_id, time, position: "atPriceMiddle", price: priceAt,
      shape: p.side === "sell" ? "arrowDown" : p.side === "buy" ? "arrowUp" : "circle",
      color: SIDE_COLOUR[p.side] ?? "#8fa3b5", size: markerSize(p.premium_cents),
    });
  }

  /** The candle a time falls in: the last candle starting at or before it. */
  barAt(seconds) {
    let lo = 0, hi = this.bars.length - 1, found = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.bars[mid] <= seconds) { found = this.bars[mid]; lo = mid + 1; } else hi = mid - 1;
    }
    return found;
  }

  /** Where a packet's marker is drawn, in pixels of the chart element (null: not drawn). */
  markerPosition(packetId) {
    const point = this.points.get(packetId);
    if (!point) return null;
    const x = this.chart.timeScale().timeToCoordinate(point.time);
    const y = this.candles.priceToCoordinate(point.price);
    return x === null || y === null ? null : { x, y };
  }
}
