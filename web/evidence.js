// The evidence drawer: a packet with its legs, member prints and the NBBO used, its alerts
// and classifier hits with thresholds and baselines; money in dollars throughout.

import {
  dollars, el, etTime, expiryOf, fetchJson, int, price, severityBadge, thresholdText, utcTitle,
  venueCode, venueName,
} from "./format.js";

const $ = (id) => document.getElementById(id);
let shownRequest = 0;
// A live packet reaches the tape before the sink has stored it: a live view asks again a while.
const LIVE_STORE_WAIT_MS = 30000;
const ASK_AGAIN_MS = 1000;

/** Open the drawer on a packet's evidence; `tsMs`, its ts_start in ms where the caller knows
 * it, lets the server find a lone print's single without searching the run. */
export async function showEvidence(packetId, runId, tsMs) {
  const request = ++shownRequest;
  $("evidence").hidden = false;
  const body = $("evidence-body");
  body.replaceChildren(el("p", { class: "hint", text: "loading evidence…" }));
  const query = new URLSearchParams({ run_id: runId, ...(tsMs !== undefined ? { ts_ms: String(tsMs) } : {}) });
  const url = `/v1/packets/${encodeURIComponent(packetId)}?${query}`;
  const giveUpAt = performance.now() + (runId === "live" ? LIVE_STORE_WAIT_MS : 0);
  for (;;) {
    try {
      const evidence = await fetchJson(url);
      if (request === shownRequest) body.replaceChildren(...renderEvidence(evidence));
      return;
    } catch (error) {
      if (request !== shownRequest) return;
      if (error.status !== 404 || performance.now() >= giveUpAt) {
        body.replaceChildren(el("p", { class: "hint", text: `no evidence: ${error.message}` }));
        return;
      }
      setHint(body, "loading evidence… (the packet is being stored)");
      await new Promise((resolve) => setTimeout(resolve, ASK_AGAIN_MS));
      if (request !== shownRequest) return;
    }
  }
}

function setHint(body, text) {
  if (body.textContent !== text) body.replaceChildren(el("p", { class: "hint", text }));
}

function table(headers, rows) {
  return el("table", {},
    el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { text: h })))),
    el("tbody", {}, ...rows.map((cells) => el("tr", {}, ...cells.map((c) =>
      c instanceof Node ? el("td", {}, c) : el("td", { class: typeof c === "number" ? "num" : "", text: c ?? "" }))))));
}

function details(pairs) {
  return el("dl", {}, ...pairs.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v ?? "—" })]));
}

// A baseline's value, mean and std in dollars when its metric is premium (stored in cents).
function baselineAmount(metric, cents) {
  return metric === "premium" ? dollars(cents) : Number(cents).toLocaleString("en-US", { maximumFractionDigits: 2 });
}

function baselines(list) {
  if (!list.length) return el("p", { class: "hint", text: "fixed thresholds only: no baseline behind this rule" });
  return table(["key", "metric", "value", "n", "mean", "std", "z"],
    list.map((b) => [b.key, b.metric, baselineAmount(b.metric, b.value), b.n,
      baselineAmount(b.metric, b.mean), baselineAmount(b.metric, b.std), b.z === null ? "—" : b.z.toFixed(2)]));
}

const thresholds = (t) => Object.entries(t).map(([k, v]) => thresholdText(k, v)).join(", ") || "—";

export function renderEvidence({ packet, hits, alerts }) {
  const out = [
    el("h2", { text: `${packet.underlying} ${packet.kind}${packet.structure ? " · " + packet.structure : ""}` }),
    details([
      ["packet", packet.packet_id], ["run", packet.run_id],
      ["time (ET)", `${etTime(packet.ts_start)} → ${etTime(packet.ts_end)}`],
      ["time (UTC)", utcTitle(packet.ts_start)],
      ["side", packet.side], ["premium", dollars(packet.premium_cents)],
      ["size", int.format(packet.size)], ["prints", packet.n_prints],
      ["venues", packet.venues.map((v) => `${venueCode(v)} (${venueName(v)})`).join(", ")],
      ["price levels", packet.price_levels],
      ["aggressor ratio", packet.aggressor_ratio], ["NBBO coverage", packet.nbbo_coverage],
      ["spot", price(packet.spot_px_dollars)], ["late", packet.late ? "yes" : "no"],
    ]),
    el("h3", { text: `Legs (${packet.legs.length})` }),
    table(["contract", "expiry", "strike", "C/P", "side", "size", "premium", "prints", "venues", "VWAP", "DTE", "day vol", "OI"],
      packet.legs.map((leg) => [leg.symbol, expiryOf(leg.expiration_date), price(leg.strike_price_dollars), leg.right,
        leg.side, leg.size, dollars(leg.premium_cents), leg.n_prints, leg.venues.map(venueCode).join(" "),
        price(leg.vwap_px_dollars), leg.dte ?? "—", leg.day_volume ?? "—", leg.open_interest ?? "—"])),
    el("h3", { text: `Member prints (${packet.members.length}) with the NBBO used` }),
    table(["time (ET)", "contract", "venue", "price", "size", "side", "bucket", "NBBO bid × ask", "NBBO", "conf."],
      packet.members.map((m) => [etTime(m.ts_event), m.symbol ?? m.instrument_id,
        venueCode(m.publisher_id), price(m.price_dollars), m.size, m.side, m.bucket,
        `${price(m.nbbo_bid_px_dollars)} × ${price(m.nbbo_ask_px_dollars)}`, m.nbbo_status ?? "—",
        m.confidence === null || m.confidence === undefined ? "—" : m.confidence.toFixed(2)])),
    el("h3", { text: `Alerts (${alerts.length})` }),
  ];
  for (const alert of alerts) {
    out.push(el("div", { class: "card" },
      el("div", {}, severityBadge(alert.severity), " ", alert.title, ` · score ${alert.score}`),
      details([["rules", alert.rules.join(", ")], ["thresholds", thresholds(alert.thresholds)]]),
      baselines(alert.baselines)));
  }
  out.push(el("h3", { text: `Classifier hits (${hits.length})` }));
  for (const hit of hits) {
    out.push(el("div", { class: "card" },
      el("div", { text: `${hit.rule} · score ${hit.score}` }),
      details([["thresholds", thresholds(hit.thresholds)]]),
      baselines(hit.baselines)));
  }
  return out;
}
