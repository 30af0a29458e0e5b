// flowtape live tape: packets and alerts over /v1/ws, history from /v1/packets and
// /v1/alerts, evidence from /v1/packets/{id}, playback from /v1/playback/{run} (SSE).
// Plain JS, no dependencies. Data goes into the page through textContent only.
"use strict";

const MAX_ROWS = 500;
const $ = (id) => document.getElementById(id);

const state = {
  runId: "live",
  symbols: [],
  channels: ["packets", "alerts"],
  lastSeq: null,         // last DERIVED sequence seen: a reconnect resumes after it
  ws: null,
  retryMs: 500,
  playback: null,        // EventSource while a stored run plays back
  severityByPacket: new Map(),
  selected: null,
};

// ---------------------------------------------------------------- formatting

const usd0 = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const usd2 = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const int = new Intl.NumberFormat("en-US");

function timeOf(ns) {
  if (ns === null || ns === undefined) return "";
  const ms = Math.floor(ns / 1e6);
  const iso = new Date(ms).toISOString();            // 2024-01-19T14:30:00.123Z
  return iso.slice(0, 10) + " " + iso.slice(11, 23);
}
const dollarsFromCents = (cents) => (cents === null || cents === undefined) ? "" : usd0.format(cents / 100);
const price = (dollars) => (dollars === null || dollars === undefined) ? "—" : usd2.format(dollars);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function severityBadge(severity) {
  if (!severity) return "";
  return el("span", { class: `sev sev${Math.min(severity, 5)}`, text: String(severity) });
}

function sideCell(side) {
  return el("td", { class: side === "buy" ? "buy" : side === "sell" ? "sell" : "", text: side || "" });
}

// ---------------------------------------------------------------- the tape table

function matchesFilter(symbol) {
  return state.symbols.length === 0 || state.symbols.includes(symbol);
}

function addRow(row, { fresh = true, append = false } = {}) {
  const body = $("rows");
  if (append) body.append(row); else body.prepend(row);
  if (fresh) {
    row.classList.add("fresh");
    setTimeout(() => row.classList.remove("fresh"), 1300);
  }
  while (body.rows.length > MAX_ROWS) body.deleteRow(body.rows.length - 1);
  $("empty").hidden = body.rows.length > 0;
}

function packetRow(packet) {
  const kind = packet.structure && packet.structure !== packet.kind
    ? `${packet.kind} · ${packet.structure}` : packet.kind;
  const severity = state.severityByPacket.get(packet.packet_id);
  const row = el("tr", { "data-packet": packet.packet_id, "data-symbol": packet.underlying },
    el("td", { text: timeOf(packet.ts_start) }),
    el("td", { text: packet.underlying }),
    el("td", { text: kind }),
    sideCell(packet.side),
    el("td", { class: "num", text: dollarsFromCents(packet.premium_cents) }),
    el("td", { class: "num", text: int.format(packet.size) }),
    el("td", { text: (packet.venues || []).join(" ") }),
    el("td", { class: "sev-cell" }, severityBadge(severity)),
  );
  row.addEventListener("click", () => showEvidence(packet.packet_id, packet.run_id, row));
  return row;
}

function alertRow(alert) {
  const row = el("tr", { class: "alert-row", "data-packet": alert.packet_id, "data-symbol": alert.underlying },
    el("td", { text: timeOf(alert.ts_event) }),
    el("td", { text: alert.underlying }),
    el("td", { text: `alert · ${alert.rules.join("+")}` }),
    el("td", { text: "" }),
    el("td", { class: "num", text: "" }),
    el("td", { class: "num", text: "" }),
    el("td", { text: alert.title }),
    el("td", {}, severityBadge(alert.severity)),
  );
  row.addEventListener("click", () => showEvidence(alert.packet_id, alert.run_id, row));
  return row;
}

function notePacketSeverity(alert) {
  const known = state.severityByPacket.get(alert.packet_id) || 0;
  if (alert.severity <= known) return;
  state.severityByPacket.set(alert.packet_id, alert.severity);
  for (const row of document.querySelectorAll(`tr[data-packet="${CSS.escape(alert.packet_id)}"]`)) {
    const cell = row.querySelector(".sev-cell");
    if (cell) cell.replaceChildren(severityBadge(alert.severity));
  }
}

function onEvent(channel, data, options) {
  if (channel === "alerts") {
    notePacketSeverity(data);
    if (matchesFilter(data.underlying)) addRow(alertRow(data), options);
  } else if (channel === "packets") {
    if (matchesFilter(data.underlying)) addRow(packetRow(data), options);
  }
}

// ---------------------------------------------------------------- history

async function loadHistory() {
  $("rows").replaceChildren();
  state.severityByPacket.clear();
  const query = new URLSearchParams({ run_id: state.runId, limit: "200" });
  if (state.symbols.length) query.set("underlying", state.symbols.join(","));
  const items = [];
  try {
    const [alerts, packets] = await Promise.all([
      state.channels.includes("alerts") || state.channels.includes("packets")
        ? fetchJson(`/v1/alerts?${query}`) : { items: [] },
      state.channels.includes("packets") ? fetchJson(`/v1/packets?${query}`) : { items: [] },
    ]);
    for (const alert of alerts.items) notePacketSeverity(alert);
    if (state.channels.includes("alerts")) for (const a of alerts.items) items.push([a.ts_event, 1, "alerts", a]);
    for (const p of packets.items) items.push([p.ts_start, 0, "packets", p]);
  } catch (error) {
    setStatus(`history unavailable: ${error.message}`, "off");
  }
  items.sort((a, b) => (b[0] - a[0]) || (b[1] - a[1]));
  for (const [, , channel, data] of items) onEvent(channel, data, { fresh: false, append: true });
  $("empty").hidden = $("rows").rows.length > 0;
}

async function fetchJson(url) {
  const response = await fetch(url);
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || response.statusText);
  return body;
}

// ---------------------------------------------------------------- live tape (WebSocket)

function setStatus(text, kind) {
  const status = $("status");
  status.textContent = text;
  status.className = `status ${kind}`;
}

function subscribeMessage(resume) {
  const message = { action: "subscribe", channels: state.channels, symbols: state.symbols };
  if (resume && state.lastSeq !== null) message.since_seq = state.lastSeq + 1;
  return JSON.stringify(message);
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/v1/ws`);
  state.ws = ws;
  ws.onopen = () => {
    state.retryMs = 500;
    ws.send(subscribeMessage(true));
  };
  ws.onmessage = (message) => {
    const frame = JSON.parse(message.data);
    if (frame.channel === "control") return onControl(frame);
    if (state.playback) return;  // the table shows a stored run; live resumes after it
    if (frame.seq > (state.lastSeq ?? 0)) state.lastSeq = frame.seq;
    setStatus(`live · seq ${state.lastSeq}`, "on");
    onEvent(frame.channel, frame.data, { fresh: true });
  };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    setStatus("disconnected — retrying", "off");
    setTimeout(connect, state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, 10000);
  };
}

function onControl(frame) {
  if (frame.event === "subscribed") {
    if (state.lastSeq === null) state.lastSeq = frame.seq;
    if (!state.playback) setStatus(`live · after seq ${frame.seq}`, "on");
  } else if (frame.event === "dropped") {
    setStatus(`live · ${frame.dropped_total} messages dropped (too slow)`, "on");
  } else if (frame.event === "error") {
    setStatus(frame.detail, "off");
  }
}

// ---------------------------------------------------------------- evidence

async function showEvidence(packetId, runId, row) {
  document.querySelectorAll("tr.selected").forEach((r) => r.classList.remove("selected"));
  if (row) row.classList.add("selected");
  const panel = $("evidence");
  const body = $("evidence-body");
  panel.hidden = false;
  body.replaceChildren(el("p", { class: "hint", text: "loading evidence…" }));
  try {
    const evidence = await fetchJson(
      `/v1/packets/${encodeURIComponent(packetId)}?run_id=${encodeURIComponent(runId || state.runId)}`);
    body.replaceChildren(...renderEvidence(evidence));
  } catch (error) {
    body.replaceChildren(el("p", { class: "hint", text: `no evidence: ${error.message}` }));
  }
}

function table(headers, rows) {
  return el("table", {},
    el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { text: h })))),
    el("tbody", {}, ...rows.map((cells) => el("tr", {}, ...cells.map((c) =>
      c instanceof Node ? c : el("td", { class: typeof c === "number" ? "num" : "", text: c ?? "" }))))));
}

function details(pairs) {
  return el("dl", {}, ...pairs.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v ?? "—" })]));
}

function baselinesTable(baselines) {
  return table(["key", "metric", "value", "n", "mean", "std", "z"],
    baselines.map((b) => [b.key, b.metric, int.format(b.value), b.n, b.mean.toFixed(2),
                          b.std.toFixed(2), b.z === null ? "—" : b.z.toFixed(2)]));
}

function thresholdsText(thresholds) {
  return Object.entries(thresholds).map(([k, v]) => `${k} ${v}`).join(", ");
}

function renderEvidence({ packet, hits, alerts }) {
  const out = [
    el("h2", { text: `${packet.underlying} ${packet.kind}${packet.structure ? " · " + packet.structure : ""}` }),
    details([
      ["packet", packet.packet_id], ["run", packet.run_id],
      ["time", `${timeOf(packet.ts_start)} → ${timeOf(packet.ts_end)}`],
      ["side", packet.side], ["premium", `$${dollarsFromCents(packet.premium_cents)}`],
      ["size", int.format(packet.size)], ["prints", packet.n_prints],
      ["venues", packet.venues.join(" ")], ["price levels", packet.price_levels],
      ["aggressor ratio", packet.aggressor_ratio], ["NBBO coverage", packet.nbbo_coverage],
      ["spot", price(packet.spot_px_dollars)], ["late", packet.late ? "yes" : "no"],
    ]),
    el("h3", { text: `Legs (${packet.legs.length})` }),
    table(["contract", "side", "size", "premium $", "prints", "venues", "VWAP", "DTE", "day vol", "OI"],
      packet.legs.map((leg) => [leg.symbol, leg.side, leg.size, dollarsFromCents(leg.premium_cents),
        leg.n_prints, leg.venues.join(" "), price(leg.vwap_px_dollars), leg.dte ?? "—",
        leg.day_volume ?? "—", leg.open_interest ?? "—"])),
    el("h3", { text: `Member prints (${packet.members.length}) with the NBBO used` }),
    table(["time", "contract", "venue", "price", "size", "side", "bucket", "NBBO bid × ask",
           "NBBO", "conf."],
      packet.members.map((m) => [timeOf(m.ts_event).slice(11), m.symbol ?? m.instrument_id,
        m.publisher_id, price(m.price_dollars), m.size, m.side, m.bucket,
        `${price(m.nbbo_bid_px_dollars)} × ${price(m.nbbo_ask_px_dollars)}`, m.nbbo_status ?? "—",
        m.confidence === null || m.confidence === undefined ? "—" : m.confidence.toFixed(2)])),
  ];
  out.push(el("h3", { text: `Alerts (${alerts.length})` }));
  for (const alert of alerts) {
    out.push(el("div", { class: "card" },
      el("div", {}, severityBadge(alert.severity), " ", alert.title, ` · score ${alert.score}`),
      details([["rules", alert.rules.join(", ")], ["thresholds", thresholdsText(alert.thresholds)]]),
      baselinesTable(alert.baselines)));
  }
  out.push(el("h3", { text: `Classifier hits (${hits.length})` }));
  for (const hit of hits) {
    out.push(el("div", { class: "card" },
      el("div", { text: `${hit.rule} · score ${hit.score}` }),
      details([["thresholds", thresholdsText(hit.thresholds)]]),
      baselinesTable(hit.baselines)));
  }
  return out;
}

// ---------------------------------------------------------------- playback (SSE)

function startPlayback(runId, speed) {
  stopPlayback();
  state.runId = runId;
  $("rows").replaceChildren();
  $("empty").hidden = false;
  state.severityByPacket.clear();
  const query = new URLSearchParams({ speed: String(speed), channels: state.channels.join(",") });
  if (state.symbols.length) query.set("underlying", state.symbols.join(","));
  const source = new EventSource(`/v1/playback/${encodeURIComponent(runId)}?${query}`);
  state.playback = source;
  $("live").disabled = false;
  setStatus(`playing back ${runId} at ${speed}×`, "replay");
  for (const channel of ["packets", "alerts"]) {
    source.addEventListener(channel, (message) => {
      const frame = JSON.parse(message.data);
      onEvent(frame.channel, frame.data, { fresh: true });
    });
  }
  source.addEventListener("end", () => {
    source.close();
    setStatus(`playback of ${runId} finished`, "replay");
  });
  source.onerror = () => {
    source.close();
    if (state.playback === source) setStatus(`playback of ${runId} stopped`, "off");
  };
}

function stopPlayback() {
  if (state.playback) state.playback.close();
  state.playback = null;
  $("live").disabled = true;
}

// ---------------------------------------------------------------- wiring

function readFilters() {
  state.symbols = $("symbols").value.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean);
  state.channels = ["packets", "alerts"].filter((c) => $(`ch-${c}`).checked);
}

$("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  readFilters();
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(subscribeMessage(false));
  if (!state.playback) loadHistory();
});

$("playback").addEventListener("submit", (event) => {
  event.preventDefault();
  readFilters();
  startPlayback($("run").value.trim() || "live", Number($("speed").value) || 0);
});

$("live").addEventListener("click", () => {
  stopPlayback();
  state.runId = "live";
  $("run").value = "live";
  loadHistory();
  setStatus("live", "on");
});

$("close-evidence").addEventListener("click", () => { $("evidence").hidden = true; });

const params = new URLSearchParams(location.search);
if (params.get("symbols")) $("symbols").value = params.get("symbols");
if (params.get("run")) { state.runId = params.get("run"); $("run").value = state.runId; }
readFilters();
loadHistory().then(() => {
  connect();
  // ?packet=ID opens that packet's evidence (links from alerts, notebooks, chat).
  const packetId = params.get("packet");
  if (packetId) {
    const row = document.querySelector(`tr[data-packet="${CSS.escape(packetId)}"]`);
    showEvidence(packetId, state.runId, row);
  }
});
