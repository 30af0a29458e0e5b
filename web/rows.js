// One row of each panel, as a trader reads it. Each renderer fills a row node (a CSS grid of
// cells); `marks` holds what other channels told about a packet (golden sweep, severity).
// A row node keeps its cells from one render to the next: only a cell's changed class, text
// or title is written.

import {
  contract, dollars, etTime, expiryOf, int, price, severityBadge, shortDollars, utcTitle,
  venueCode, venueName,
} from "./format.js";

export const marks = {
  golden: new Set(),          // packet ids a golden_sweep hit fired on
  severity: new Map(),        // packet id -> highest alert severity
};

const cell = (cls, text, title) => ({ cls, text, title });
// The contract's cells (expiry, strike, C/P) of a one-contract row chart that contract.
const CONTRACT = " contract";
const CHART_TITLE = "chart this contract";
const badgeCell = (severity) => ({ cls: "c-sev", severity: severity || 0 });
const sideClass = (side) => (side === "buy" ? "buy" : side === "sell" ? "sell" : "");

function timeCell(ns) { return cell("c-time", etTime(ns), utcTitle(ns)); }

function venuesCell(ids) {
  return cell("c-venues", (ids || []).map(venueCode).join(" "), (ids || []).map(venueName).join(", "));
}

function dominantBucket(counts) {
  let best = "", most = -1;
  for (const [bucket, n] of Object.entries(counts || {})) if (n > most) { best = bucket; most = n; }
  return best;
}

/** Put `cells` into `node`'s spans, writing only what differs from what they show. */
function fill(node, cells) {
  if (node.childElementCount !== cells.length) {
    node.replaceChildren(...cells.map(() => document.createElement("span")));
  }
  const spans = node.children;
  cells.forEach((spec, i) => {
    const span = spans[i];
    if (span.className !== spec.cls) span.className = spec.cls;
    if (spec.severity !== undefined) {
      if (span.dataset.severity !== String(spec.severity)) {
        span.replaceChildren(severityBadge(spec.severity));
        span.dataset.severity = String(spec.severity);
      }
      return;
    }
    const text = spec.text ?? "";
    if (span.textContent !== text) span.textContent = text;
    if (spec.title === undefined || spec.title === "") {
      if (span.hasAttribute("title")) span.removeAttribute("title");
    } else if (span.title !== spec.title) span.title = spec.title;
  });
}

/** A flow packet: contract, side and bucket, fill vs bid/ask, size, premium, kind. */
export function flowRow(packet, node) {
  const legs = packet.legs || [];
  const leg = legs[0] || {};
  const multi = legs.length > 1;
  const golden = marks.golden.has(packet.packet_id);
  const kind = golden ? "golden sweep" : packet.kind;
  node.className = `row flow k-${packet.kind}${golden ? " golden" : ""} ${sideClass(packet.side)}`;
  node.dataset.packet = packet.packet_id;
  node.dataset.ms = Math.floor(packet.ts_start / 1e6);  // finds a single's evidence at once
  node.dataset.symbol = packet.underlying;
  const first = (packet.members || [])[0];
  const bidAsk = first && first.nbbo_bid_px_dollars !== undefined
    ? `${price(first.nbbo_bid_px_dollars)}×${price(first.nbbo_ask_px_dollars)}` : "";
  const bucket = dominantBucket(packet.bucket_counts);
  const volOi = leg.open_interest ? `${int.format(leg.day_volume ?? 0)}/${int.format(leg.open_interest)}` : "—";
  const charted = !multi && leg.symbol ? CONTRACT : "";
  if (charted) node.dataset.contract = leg.symbol; else delete node.dataset.contract;
  fill(node, [
    timeCell(packet.ts_start),
    cell("c-sym", packet.underlying),
    cell(`c-side ${sideClass(packet.side)}`, `${packet.side || "?"}${bucket ? " " + bucket : ""}`),
    cell("c-prem num", shortDollars(packet.premium_cents), dollars(packet.premium_cents)),
    cell("c-size num", int.format(packet.size)),
    cell(`c-exp${charted}`, multi ? `${legs.length} legs` : expiryOf(leg.expiration_date), charted && CHART_TITLE),
    cell(`c-strike num${charted}`, multi ? "" : price(leg.strike_price_dollars), charted && CHART_TITLE),
    cell(`c-right r-${leg.right || ""}${charted}`, multi ? "" : leg.right || "", charted && CHART_TITLE),
    cell("c-fill num", `${price(leg.vwap_px_dollars)}${bucket ? " @" + bucket : ""}`, bidAsk ? `bid×ask at trade ${bidAsk}` : "no NBBO in this view"),
    cell("c-kind", packet.structure && packet.structure !== packet.kind ? `${kind} · ${packet.structure}` : kind),
    venuesCell(packet.venues),
    cell("c-voloi num", volOi, leg.open_interest && leg.day_volume > leg.open_interest ? "volume above open interest" : undefined),
    cell("c-spot num", price(packet.spot_px_dollars)),
    badgeCell(marks.severity.get(packet.packet_id)),
  ]);
}

/** An option print with the engine's side, bucket and the NBBO it used. */
export function printRow(print, node) {
  const c = contract(print.symbol);
  const premium = print.premium_cents ?? Math.floor((print.price * print.size) / 100000);
  node.className = `row print ${sideClass(print.side)}`;
  node.dataset.symbol = print.underlying;
  node.dataset.contract = print.symbol;
  fill(node, [
    timeCell(print.ts_event),
    cell("c-sym", print.underlying),
    cell(`c-side ${sideClass(print.side)}`, `${print.side || "?"} ${print.bucket || ""}`),
    cell("c-prem num", shortDollars(premium), dollars(premium)),
    cell("c-size num", int.format(print.size)),
    cell(`c-exp${CONTRACT}`, c ? c.expiry : print.symbol, CHART_TITLE),
    cell(`c-strike num${CONTRACT}`, c ? price(c.strike) : "", CHART_TITLE),
    cell(`c-right r-${c?.right || ""}${CONTRACT}`, c?.right || "", CHART_TITLE),
    cell("c-fill num", price(print.price_dollars), `bid×ask ${price(print.nbbo_bid_px_dollars)}×${price(print.nbbo_ask_px_dollars)}`),
    cell("c-venues", venueCode(print.publisher_id), venueName(print.publisher_id)),
  ]);
}

/** An equity print; off-exchange (TRF/ATS) prints are marked. */
export function equityRow(trade, node) {
  node.className = `row equity${trade.off_exchange ? " offex" : ""}`;
  node.dataset.symbol = trade.symbol;
  const notional = Math.round((trade.price_dollars ?? 0) * trade.size * 100);
  fill(node, [
    timeCell(trade.ts_event),
    cell("c-sym", trade.symbol),
    cell("c-fill num", price(trade.price_dollars), `bid×ask ${price(trade.bid_px_dollars)}×${price(trade.ask_px_dollars)}`),
    cell("c-size num", int.format(trade.size)),
    cell("c-prem num", shortDollars(notional), dollars(notional)),
    cell("c-venue", trade.off_exchange ? `${trade.venue} · off-exch` : trade.venue),
  ]);
}

/** An alert: severity, underlying, title, rules, score. */
export function alertRow(alert, node) {
  node.className = `row alert sev-row${Math.min(alert.severity, 5)}`;
  node.dataset.packet = alert.packet_id;
  node.dataset.symbol = alert.underlying;
  fill(node, [
    timeCell(alert.ts_event),
    badgeCell(alert.severity),
    cell("c-sym", alert.underlying),
    cell("c-title", alert.title),
    cell("c-rules", alert.rules.join(" + ")),
    cell("c-score num", Number(alert.score).toFixed(2)),
  ]);
}

/** A classifier hit: rule, underlying, packet kind, premium, score. */
export function hitRow(hit, node) {
  node.className = `row hit${hit.rule === "golden_sweep" ? " golden" : ""}`;
  node.dataset.packet = hit.packet_id;
  node.dataset.symbol = hit.underlying;
  fill(node, [
    timeCell(hit.ts_event),
    cell("c-rule", hit.rule),
    cell("c-sym", hit.underlying),
    cell("c-kind", hit.packet_kind),
    cell("c-prem num", shortDollars(hit.premium_cents), dollars(hit.premium_cents)),
    cell("c-score num", Number(hit.score).toFixed(2)),
  ]);
}

/** A dark-pool inference: kind, symbol, size, notional, impact, confidence. */
export function darkpoolRow(event, node) {
  node.className = "row darkpool";
  node.dataset.symbol = event.symbol;
  fill(node, [
    timeCell(event.ts_start),
    cell("c-sym", event.symbol),
    cell("c-kind", event.kind.replaceAll("_", " ")),
    cell("c-size num", int.format(event.size)),
    cell("c-prem num", shortDollars(event.notional_cents), dollars(event.notional_cents)),
    cell("c-impact num", event.price_impact_bps === null ? "—" : `${Number(event.price_impact_bps).toFixed(1)} bp`),
    cell("c-conf num", Number(event.confidence).toFixed(2)),
  ]);
}
