// The chart panel: candles of an underlying's own price (/v1/candles, kind equity) or of one
// option contract (kind contract: its OHLC, premium per candle as volume) with the flow
// packets as markers (size by premium, colour by side, click -> evidence; for a contract only
// the packets holding it) and a pane of net call and net put premium per minute of the
// underlying (/v1/flow/net-premium). TradingView Lightweight Charts, bundled locally
// (web/vendor/, from npm by web/ensure-web.sh).

import { fetchJson, shortDollars } from "./format.js";
import { parseContract } from "./occ.js";

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
    this.premium = this.chart.addSeries(LC.HistogramSeries, {
      color: "#3a4f63", priceFormat: { type: "volume" }, priceScaleId: "premium", title: "premium $", lastValueVisible: false,
    });
    this.premium.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    this.markers = LC.createSeriesMarkers(this.candles, []);
    this.bars = [];          // candle times (s), ascending
    this.ranges = new Map(); // candle time -> [low, high]
    this.points = new Map(); // packet id -> {time, price, startMs}
    this.symbol = null;      // the key charted: a ticker, or a contract's padded OCC symbol
    this.kind = null;        // "equity" or "contract"
    this.underlying = null;  // whose net premium the lower pane shows
    this.lastClose = null;
    this.chart.subscribeClick((param) => { if (param.hoveredObjectId) onMarkerClick(String(param.hoveredObjectId)); });
  }

  /** Load the candles of `key` (a ticker, or a contract in any form the server reads) and
   * the net premium of its underlying in `runId`; returns a line for the panel.
   * `underlying` names a contract's underlying where its OCC root does not. */
  async load(key, runId, tf, underlying) {
    const contract = parseContract(key);
    const symbol = contract ? contract.symbol : key;
    const kind = contract ? "contract" : "equity";
    this.symbol = symbol;
    this.kind = kind;
    this.underlying = contract ? underlying || contract.root : symbol;
    const query = new URLSearchParams({ tf, limit: "500", kind, run_id: runId });
    const net = new URLSearchParams({ underlying: this.underlying, run_id: runId, limit: "390" });
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
    this.premium.setData(contract ? rows.map((c) => ({ time: Math.floor(c.start_ns / 1e9), value: c.premium_cents / 100 })) : []);
    this.bars = bars.map((b) => b.time);
    this.ranges = new Map(bars.map((b) => [b.time, [b.low, b.high]]));
    this.lastClose = bars.length ? bars[bars.length - 1].close : null;
    const minutes = premium.status === "fulfilled" ? premium.value.items.slice().reverse() : [];
    this.netCall.setData(minutes.map((m) => ({ time: Math.floor(m.minute_ns / 1e9), value: m.net_call_cents / 100 })));
    this.netPut.setData(minutes.map((m) => ({ time: Math.floor(m.minute_ns / 1e9), value: m.net_put_cents / 100 })));
    this.chart.timeScale().fitContent();
    const what = contract ? `contract ${symbol.replace(/ +/, " ")} (underlying ${this.underlying})` : `${symbol} (equity)`;
    if (candles.status === "rejected") return `${what}: no candles — ${candles.reason.message}`;
    const traded = contract ? ` · ${shortDollars(rows.reduce((sum, c) => sum + c.premium_cents, 0))} premium` : "";
    return `${what} · ${rows.length} candles (${tf})${traded} · ${minutes.length} minutes of ${this.underlying} net premium`;
  }

  /** The ts_start (ms) of a packet marked here. */
  startMs(packetId) {
    return this.points.get(packetId)?.startMs;
  }

  /** Whether a packet belongs on this chart: one holding the contract, or of the underlying. */
  holds(packet) {
    if (this.kind === "contract") return (packet.legs || []).some((leg) => leg.symbol === this.symbol);
    return packet.underlying === this.symbol;
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
    this.points.set(p.packet_id, { time, price: priceAt, startMs: Math.floor(p.ts_start / 1e6) });
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
