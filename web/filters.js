// The tape's filters: read from the form, written to the URL (shareable), turned into the
// server's query parameters where the API has them and into a row predicate for the rest.

export const DEFAULT_MIN_PREMIUM = 25000;  // dollars: hides the wall of small singles

const FIELDS = {  // URL name -> form control id
  symbols: "f-symbols", min_premium: "f-min-premium", kind: "f-kind", side: "f-side",
  right: "f-right", dte_max: "f-dte-max", vol_oi: "f-vol-oi", severity: "f-severity",
};

export function readForm() {
  const value = (id) => document.getElementById(id).value.trim();
  const minPremium = Number(value("f-min-premium"));
  return {
    symbols: value("f-symbols").split(/[\s,]+/).map((s) => s.toUpperCase()).filter(Boolean),
    minPremium: Number.isFinite(minPremium) && minPremium > 0 ? minPremium : 0,
    kind: value("f-kind"),
    side: value("f-side"),
    right: value("f-right"),
    dteMax: value("f-dte-max") === "" ? null : Number(value("f-dte-max")),
    volOverOi: document.getElementById("f-vol-oi").checked,
    minSeverity: Number(value("f-severity")) || 0,
  };
}

/** Fill the form from the URL; the premium floor defaults when the URL does not set it. */
export function loadFromUrl(params) {
  for (const [name, id] of Object.entries(FIELDS)) {
    const control = document.getElementById(id);
    const given = params.get(name);
    if (control.type === "checkbox") control.checked = given === "1";
    else if (given !== null) control.value = given;
    else if (name === "min_premium") control.value = String(DEFAULT_MIN_PREMIUM);
  }
}

export function writeToUrl(filters, runId) {
  const params = new URLSearchParams();
  if (filters.symbols.length) params.set("symbols", filters.symbols.join(","));
  params.set("min_premium", String(filters.minPremium));
  for (const [name, value] of [["kind", filters.kind], ["side", filters.side], ["right", filters.right],
    ["dte_max", filters.dteMax ?? ""], ["severity", filters.minSeverity || ""]]) {
    if (value !== "") params.set(name, String(value));
  }
  if (filters.volOverOi) params.set("vol_oi", "1");
  if (runId !== "live") params.set("run", runId);
  history.replaceState(null, "", `${location.pathname}?${params}`);
}

/** /v1/packets parameters the server filters on. */
export function packetQuery(filters, runId, limit) {
  const query = new URLSearchParams({ run_id: runId, limit: String(limit) });
  if (filters.symbols.length) query.set("underlying", filters.symbols.join(","));
  if (filters.kind) query.set("kind", filters.kind === "golden" ? "sweep" : filters.kind);
  if (filters.minPremium) query.set("min_premium_cents", String(Math.round(filters.minPremium * 100)));
  return query;
}

/** What the server cannot filter: side, C/P, DTE, vol > OI (and premium/kind on live rows). */
export function packetMatches(filters, packet, golden) {
  if (filters.symbols.length && !filters.symbols.includes(packet.underlying)) return false;
  if (packet.premium_cents < filters.minPremium * 100) return false;
  if (filters.kind === "golden" ? !golden(packet.packet_id) : filters.kind && packet.kind !== filters.kind) return false;
  if (filters.side && packet.side !== filters.side) return false;
  const legs = packet.legs || [];
  if (filters.right && !legs.some((l) => l.right === filters.right)) return false;
  if (filters.dteMax !== null && !legs.some((l) => l.dte !== null && l.dte <= filters.dteMax)) return false;
  if (filters.volOverOi && !legs.some((l) => l.open_interest && l.day_volume > l.open_interest)) return false;
  return true;
}

export function symbolMatches(filters, symbol) {
  return filters.symbols.length === 0 || filters.symbols.includes(symbol);
}
