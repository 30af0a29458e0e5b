// flowtape's instrument panel: wires the panels (virtual lists), the filters in the URL, the
// live feed, stored-run playback, the chart and the evidence drawer together.

import { showAlphaStream } from "./alpha.js";
import { FlowChart } from "./chart.js";
import { showEvidence } from "./evidence.js";
import {
  loadFromUrl, packetMatches, packetQuery, printMatches, printQuery, readForm, symbolMatches,
  writeToUrl,
} from "./filters.js";
import { etDateTime, fetchJson, loadVenues } from "./format.js";
import { measureFrames } from "./frames.js";
import { parseContract } from "./occ.js";
import { LiveFeed } from "./live.js";
import { parseSpeed, Playback } from "./playback.js";
import { alertRow, darkpoolRow, equityRow, flowRow, hitRow, marks, printRow } from "./rows.js";
import { VirtualList } from "./vlist.js";
import { setUpWatchlists } from "./watchlists.js";

const $ = (id) => document.getElementById(id);
const ROW_HEIGHT = 22;
const PANELS = ["chart", "flow", "alerts", "hits", "darkpool", "prints", "equities", "alpha"];
const CHANNEL_OF = { flow: "packets", alerts: "alerts", hits: "hits", darkpool: "darkpool", prints: "inference" };
const LAYOUT_KEY = "flowtape.panels";
const SEVERITY_WINDOW_NS = 15 * 60 * 1e9;

const state = {
  runId: "live",
  filters: null,
  generation: 0,        // bumped by every reload: older history answers are dropped
  shown: new Set(PANELS),
  lastEquityNs: null,
  span: null,
};

function setStatus(text, kind) {
  const status = $("status");
  status.textContent = text;
  status.className = `status ${kind}`;
}

// ---------------------------------------------------------------- lists

const list = (id, key, render, extra = {}) =>
  new VirtualList($(id), { rowHeight: ROW_HEIGHT, key, render, ...extra });

const lists = {
  flow: list("flow-list", (p) => p.packet_id, flowRow, { onCount: flowCounter }),
  alerts: list("alerts-list", (a) => a.alert_id, alertRow, { onCount: severityStrip }),
  hits: list("hits-list", (h) => h.hit_id, hitRow),
  darkpool: list("darkpool-list", (d) => d.event_id, darkpoolRow),
  prints: list("prints-list", (p) => `${p.ts_event}:${p.publisher_id}:${p.instrument_id}:${p.sequence}`, printRow, { max: 5000 }),
  equities: list("equities-list", (e) => `${e.ts_event}:${e.publisher_id}:${e.sequence}`, equityRow, { max: 5000 }),
};

function applyFilters() {
  const f = state.filters;
  const golden = (id) => marks.golden.has(id);
  lists.flow.filter = (p) => p.run_id === state.runId && packetMatches(f, p, golden);
  lists.alerts.filter = (a) => a.run_id === state.runId && symbolMatches(f, a.underlying) && a.severity >= f.minSeverity;
  lists.hits.filter = (h) => h.run_id === state.runId && symbolMatches(f, h.underlying);
  lists.darkpool.filter = (d) => d.run_id === state.runId && symbolMatches(f, d.symbol);
  lists.prints.filter = (p) => (p.run_id ?? state.runId) === state.runId && printMatches(f, p);
  lists.equities.filter = (e) => symbolMatches(f, e.symbol);
}

function flowCounter(vlist) {
  setText($("flow-count"), `${vlist.size} rows`);
  setText($("flow-counter"), vlist.paused ? `paused · ${vlist.heldCount} new` : "");
}

function severityStrip(vlist) {
  const counts = [0, 0, 0, 0, 0, 0];
  const newest = vlist.items[0]?.ts_event ?? 0;
  for (const alert of vlist.items) {
    if (alert.ts_event < newest - SEVERITY_WINDOW_NS) break;
    counts[Math.min(alert.severity, 5)] += 1;
  }
  const strip = $("sev-strip");
  if (!strip.children.length) {
    strip.append(...[1, 2, 3, 4, 5].map((sev) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = `sev sev${sev}`;
      button.dataset.sev = String(sev);
      return button;
    }));
  }
  [...strip.children].forEach((button, k) => setText(button, `${k + 1}: ${counts[k + 1]}`));
}

/** Write a text only when it changed (an unchanged page is not laid out again). */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

$("sev-strip").addEventListener("click", (event) => {
  const sev = event.target.closest("button")?.dataset.sev;
  if (!sev) return;
  $("f-severity").value = sev === "1" ? "" : sev;
  reload();
});

// ---------------------------------------------------------------- events from anywhere

function take(channel, data) {
  if (channel === "packets") {
    lists.flow.push(data);
    if (chart.holds(data)) markChartSoon();
  }
  else if (channel === "alerts") {
    const known = marks.severity.get(data.packet_id) || 0;
    if (data.severity > known) {
      marks.severity.set(data.packet_id, data.severity);
      lists.flow.refresh(data.packet_id);
    }
    lists.alerts.push(data);
  } else if (channel === "hits") {
    if (data.rule === "golden_sweep" && !marks.golden.has(data.packet_id)) {
      marks.golden.add(data.packet_id);
      lists.flow.refresh(data.packet_id);
    }
    lists.hits.push(data);
  } else if (channel === "darkpool") lists.darkpool.push(data);
  else if (channel === "inference") lists.prints.push(data);
}

// ---------------------------------------------------------------- history (REST)

async function loadHistory(generation) {
  const f = state.filters;
  const run = state.runId;
  const symbols = f.symbols.join(",");
  const common = (extra = {}) => {
    const query = new URLSearchParams({ run_id: run, limit: "500", ...extra });
    if (symbols) query.set("underlying", symbols);
    return query;
  };
  const requests = {
    packets: fetchJson(`/v1/packets?${packetQuery(f, run, 500)}`),
    alerts: fetchJson(`/v1/alerts?${common(f.minSeverity ? { min_severity: String(f.minSeverity) } : {})}`),
    hits: fetchJson(`/v1/hits?${common()}`),
    darkpool: fetchJson(`/v1/darkpool?${new URLSearchParams({ run_id: run, limit: "500", ...(symbols ? { symbol: symbols } : {}) })}`),
    prints: fetchJson(`/v1/prints/options?${printQuery(f, run, 300)}`),
  };
  const answers = {};
  for (const [name, promise] of Object.entries(requests)) {
    try { answers[name] = (await promise).items; } catch (error) {
      answers[name] = [];
      setStatus(`${name} history unavailable: ${error.message}`, "off");
    }
  }
  if (generation !== state.generation) return;
  for (const hit of answers.hits) if (hit.rule === "golden_sweep") marks.golden.add(hit.packet_id);
  for (const alert of answers.alerts) {
    marks.severity.set(alert.packet_id, Math.max(alert.severity, marks.severity.get(alert.packet_id) || 0));
  }
  // live rows that came while history loaded stay on top; history goes below them
  lists.flow.appendOlder(answers.packets);
  lists.alerts.appendOlder(answers.alerts);
  lists.hits.appendOlder(answers.hits);
  lists.darkpool.appendOlder(answers.darkpool);
  lists.prints.appendOlder(answers.prints);
  lists.flow.refresh();
  markChart();
  state.lastEquityNs = null;
  await pollEquities(generation);
}

async function pollEquities(generation) {
  if (!state.shown.has("equities")) return;
  const query = new URLSearchParams({ run_id: state.runId, limit: "300" });
  if (state.filters.symbols.length) query.set("symbol", state.filters.symbols.join(","));
  // ns times are above 2^53: step back a microsecond (rows seen twice are dropped by key)
  if (state.lastEquityNs !== null) query.set("since", String(state.lastEquityNs - 1000));
  try {
    const { items } = await fetchJson(`/v1/prints/equities?${query}`);
    if (generation !== state.generation) return;
    if (items.length) state.lastEquityNs = items[0].ts_event;
    lists.equities.push(...items.slice().reverse());
  } catch { /* the next poll tries again */ }
}

setInterval(() => { if (state.runId === "live") pollEquities(state.generation); }, 1000);

// ---------------------------------------------------------------- reloading a view

const live = new LiveFeed({
  onFrame: (frame) => {
    if (state.runId === "live") for (const data of frame.events) take(frame.channel, data);
  },
  onStatus: (text, kind) => { if (state.runId === "live") setStatus(text, kind); },
});

function liveChannels() {
  return Object.entries(CHANNEL_OF).filter(([panel]) => state.shown.has(panel)).map(([, c]) => c)
    .concat(state.shown.has("flow") ? ["alerts", "hits"] : []).filter((c, i, all) => all.indexOf(c) === i);
}

function reload() {
  state.filters = readForm();
  state.generation += 1;
  writeToUrl(state.filters, state.runId);
  applyFilters();
  for (const vlist of Object.values(lists)) vlist.reset([]);
  if (state.runId === "live") {
    live.follow(liveChannels(), state.filters.symbols);
    loadHistory(state.generation);
  } else {
    live.follow([], []);
    playback.stop();
  }
  loadChart();
}

$("filters").addEventListener("submit", (event) => { event.preventDefault(); reload(); });
setUpWatchlists({
  pick: $("wl-pick"), name: $("wl-name"), save: $("wl-save"), symbols: $("f-symbols"), apply: reload,
});

// ---------------------------------------------------------------- panels shown / hidden

function applyPanels() {
  for (const panel of PANELS) {
    $(`panel-${panel}`).hidden = !state.shown.has(panel);
    document.querySelector(`#panel-menu input[data-panel="${panel}"]`).checked = state.shown.has(panel);
  }
}

function loadPanels() {
  try {
    const saved = JSON.parse(localStorage.getItem(LAYOUT_KEY));
    if (Array.isArray(saved)) state.shown = new Set(saved.filter((p) => PANELS.includes(p)));
  } catch { /* the default layout */ }
  applyPanels();
}

$("panel-menu").addEventListener("change", (event) => {
  const panel = event.target.dataset.panel;
  if (!panel) return;
  if (event.target.checked) state.shown.add(panel); else state.shown.delete(panel);
  localStorage.setItem(LAYOUT_KEY, JSON.stringify([...state.shown]));
  applyPanels();
  reload();
});

// ---------------------------------------------------------------- flow tape: pause, clicks

$("flow-pause").addEventListener("click", () => {
  const flow = lists.flow;
  if (flow.paused) flow.resume(); else flow.pause();
  $("flow-pause").textContent = flow.paused ? "Resume" : "Pause";
  $("flow-pause").classList.toggle("active", flow.paused);
  flowCounter(flow);
});

document.getElementById("layout").addEventListener("click", (event) => {
  const charted = event.target.closest(".contract")?.closest(".row[data-contract]");
  if (charted) { chartContract(charted.dataset.contract, charted.dataset.symbol); return; }
  const row = event.target.closest(".row[data-packet]");
  if (!row || row.classList.contains("head")) return;
  document.querySelectorAll(".row.selected").forEach((r) => r.classList.remove("selected"));
  row.classList.add("selected");
  showEvidence(row.dataset.packet, state.runId, row.dataset.ms);
});

$("close-evidence").addEventListener("click", () => { $("evidence").hidden = true; });

// ---------------------------------------------------------------- chart

const chart = new FlowChart($("chart"), {
  onMarkerClick: (id) => showEvidence(id, state.runId, chart.startMs(id)),
});

let chartAsked = 0;  // a newer load (a symbol typed or clicked meanwhile) wins over an older one

async function loadChart() {
  if (!state.shown.has("chart")) return;
  const asked = ++chartAsked;
  const typed = $("chart-symbol").value.trim().toUpperCase();
  let key = parseContract(typed)?.symbol || typed || state.filters.symbols[0];
  if (!key) {
    try {
      const top = await fetchJson(`/v1/flow/top-tickers?run_id=${encodeURIComponent(state.runId)}&limit=1`);
      key = top.items[0]?.underlying;
    } catch { key = undefined; }
  }
  if (asked !== chartAsked) return;
  // a symbol typed meanwhile is left alone: its own change event loads it
  if ($("chart-symbol").value.trim().toUpperCase() !== typed) return;
  if (!key) { $("chart-note").textContent = "no flow yet"; return; }
  $("chart-symbol").value = key;
  const note = await chart.load(key, state.runId, $("chart-tf").value, chartedUnderlying.get(key));
  if (asked !== chartAsked) return;
  $("chart-note").textContent = note;
  markChart();
}

function markChart() {
  if (chart.symbol) chart.setPackets(lists.flow.all().filter((p) => chart.holds(p)));
}

// A contract clicked in a tape row: its underlying is the row's (an OCC root may differ).
const chartedUnderlying = new Map();
function chartContract(symbol, underlying) {
  if (underlying) chartedUnderlying.set(symbol, underlying);
  $("chart-symbol").value = symbol;
  if (!state.shown.has("chart")) {
    state.shown.add("chart");
    localStorage.setItem(LAYOUT_KEY, JSON.stringify([...state.shown]));
    applyPanels();
  }
  loadChart();
}

// New packets reach the chart's markers every 2 s: a marker pass redraws the whole chart.
let markTimer = null;
function markChartSoon() {
  if (markTimer === null) markTimer = setTimeout(() => { markTimer = null; markChart(); }, 2000);
}

$("chart-symbol").addEventListener("change", loadChart);
$("chart-tf").addEventListener("change", loadChart);
setInterval(() => { if (state.runId === "live") loadChart(); else markChart(); }, 10000);

// ---------------------------------------------------------------- runs and playback

// The position clock moves every frame while a run plays, and costs no frame otherwise.
let clockFrame = null;
function tick() {
  showClock();
  clockFrame = playback.state === "playing" ? requestAnimationFrame(tick) : null;
}

const playback = new Playback({
  onEvent: (channel, data) => { if (state.runId === playback.runId) take(channel, data); },
  onState: ({ state: now, reason }) => {
    $("pb-play").disabled = now === "playing";
    $("pb-pause").disabled = now !== "playing";
    if (now === "failed") setStatus(`playback of ${playback.runId} failed — ${reason}`, "off");
    else if (now === "finished") setStatus(`playback of ${playback.runId} finished`, "replay");
    else if (now === "paused") setStatus(`playback of ${playback.runId} paused`, "replay");
    else if (now === "playing") setStatus(`playing back ${playback.runId} at ${playback.speed}×`, "replay");
    else if (state.runId !== "live") setStatus(`stored run ${state.runId} — press Play`, "replay");
    showClock();  // the clock and completion agree with the status at once
    if (now === "playing" && clockFrame === null) clockFrame = requestAnimationFrame(tick);
  },
});

async function loadRuns() {
  try {
    const { runs } = await fetchJson("/v1/runs");
    const picker = $("run");
    for (const run of runs) {
      if (run.run_id === "live" || picker.querySelector(`option[value="${CSS.escape(run.run_id)}"]`)) continue;
      const option = document.createElement("option");
      option.value = run.run_id;
      option.textContent = `${run.run_id}${run.kind ? " · " + run.kind : ""}`;
      picker.append(option);
    }
  } catch (error) { setStatus(`runs unavailable: ${error.message}`, "off"); }
}

async function switchRun(runId) {
  state.runId = runId;
  $("run").value = runId;
  $("playback-controls").hidden = runId === "live";
  state.span = null;
  reload();
  if (runId === "live") return;
  try {
    state.span = await fetchJson(`/v1/runs/${encodeURIComponent(runId)}/span`);
  } catch (error) {
    // a playback started meanwhile says how it went; its status stays
    if (state.runId === runId && playback.state === "idle") {
      setStatus(`stored run ${runId}: ${error.message}`, "off");
    }
  }
  showClock();
}

$("run").addEventListener("change", () => switchRun($("run").value));
$("run").addEventListener("focus", loadRuns);

function play(fromNs) {
  const parsed = parseSpeed($("speed").value);
  if (parsed.error) { setStatus(parsed.error, "off"); return; }
  playback.speed = parsed.speed;
  const channels = ["packets", "alerts"];
  playback.play(state.runId, parsed.speed, channels, state.filters.symbols, fromNs);
}

$("pb-play").addEventListener("click", () => play(playback.clock));
$("pb-pause").addEventListener("click", () => playback.pause());
$("pb-seek").addEventListener("change", () => {
  if (!state.span?.first_ns) return;
  const { first_ns: first, last_ns: last } = state.span;
  const at = Math.round(first + (last - first) * Number($("pb-seek").value) / 1000);
  for (const vlist of Object.values(lists)) vlist.reset([]);
  playback.abort();
  playback.clock = at;
  play(at);
});

function showClock() {
  const clock = playback.clock;
  setText($("pb-clock"), etDateTime(clock));
  const span = state.span;
  if (!span?.first_ns || clock === null) return;
  const done = playback.state === "finished" ? 1 : Math.max(0, Math.min(1, (clock - span.first_ns) / Math.max(span.last_ns - span.first_ns, 1)));
  if ($("pb-progress").value !== Math.round(done * 1000)) $("pb-progress").value = Math.round(done * 1000);
  setText($("pb-percent"), `${Math.round(done * 100)}%`);
  if (document.activeElement !== $("pb-seek")) $("pb-seek").value = String(Math.round(done * 1000));
}


// ---------------------------------------------------------------- start

const params = new URLSearchParams(location.search);
loadFromUrl(params);
loadPanels();
state.filters = readForm();
applyFilters();
window.flowtape = { lists, chart, playback, frames: measureFrames() };
showAlphaStream($("alpha-body"));
await loadVenues();
await loadRuns();
await switchRun(params.get("run") || "live");
live.connect();  // after the view is chosen: no live row is taken into a view about to be reset
const packetId = params.get("packet");
if (packetId) showEvidence(packetId, state.runId);
