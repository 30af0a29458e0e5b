// The tape's filters: read from the form, written to the URL (shareable), turned into the
// server's query parameters where the API has them and into a row predicate for the rest.

import { newYorkDate, parseContract, tradingDaysTo } from "./occ.js";

export const DEFAULT_MIN_PREMIUM = 25000;  // dollars: hides the wall of small singles
const ATM_BAND = 0.02;  // a strike within 2 % of spot is at the money

const FIELDS = {  // URL name -> form control id
  symbols: "f-symbols", min_premium: "f-min-premium", kind: "f-kind", side: "f-side",
  right: "f-right", dte_min: "f-dte-min", dte_max: "f-dte-max", money: "f-money",
  money_band: "f-money-band", vol_oi: "f-vol-oi", severity: "f-severity",
};

export function readForm() {
  const value = (id) => document.getElementById(id).value.trim();
  const minPremium = Number(value("f-min-premium"));
  const number = (id) => (value(id) === "" || !Number.isFinite(Number(value(id))) ? null : Number(value(id)));
  return {
    symbols: value("f-symbols").split(/[\s,]+/).map((s) => s.toUpperCase()).filter(Boolean),
    minPremium: Number.isFinite(minPremium) && minPremium > 0 ? minPremium : 0,
    kind: value("f-kind"),
    side: value("f-side"),
    right: value("f-right"),
    dteMin: number("f-dte-min"),
    dteMax: number("f-dte-max"),
    money: value("f-money"),
    moneyBand: number("f-money-band"),
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
    ["dte_min", filters.dteMin ?? ""], ["dte_max", filters.dteMax ?? ""], ["money", filters.money],
    ["money_band", filters.moneyBand ?? ""], ["severity", filters.minSeverity || ""]]) {
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
  if (filters.dteMin !== null) query.set("dte_min", String(filters.dteMin));
  if (filters.dteMax !== null) query.set("dte_max", String(filters.dteMax));
  if (filters.volOverOi) query.set("vol_over_oi", "true");
  return query;
}

/** Signed distance of a leg's strike from the packet's spot, in the money positive. */
function moneyness(packet, leg) {
  const spot = packet.spot_px_dollars, strike = leg.strike_price_dollars;
  if (!spot || strike === undefined || strike === null || !leg.right) return null;
  return (leg.right === "C" ? spot - strike : strike - spot) / spot;
}

function moneyMatches(filters, packet, leg) {
  if (!filters.money && filters.moneyBand === null) return true;
  const m = moneyness(packet, leg);
  if (m === null) return false;
  if (filters.moneyBand !== null && Math.abs(m) > filters.moneyBand / 100) return false;
  if (filters.money === "itm") return m > ATM_BAND;
  if (filters.money === "otm") return m < -ATM_BAND;
  if (filters.money === "atm") return Math.abs(m) <= ATM_BAND;
  return true;
}

function dteWithin(filters, dte) {
  if (filters.dteMin === null && filters.dteMax === null) return true;
  if (dte === null || dte === undefined) return false;
  return (filters.dteMin === null || dte >= filters.dteMin)
    && (filters.dteMax === null || dte <= filters.dteMax);
}

const dteMatches = (filters, leg) => dteWithin(filters, leg.dte);

/** The whole filter on one packet: live rows and what the server cannot filter (side, C/P,
 * moneyness). Leg terms hold when one leg meets them all. */
export function packetMatches(filters, packet, golden) {
  if (filters.symbols.length && !filters.symbols.includes(packet.underlying)) return false;
  if (packet.premium_cents < filters.minPremium * 100) return false;
  if (filters.kind === "golden" ? !golden(packet.packet_id) : filters.kind && packet.kind !== filters.kind) return false;
  if (filters.side && packet.side !== filters.side) return false;
  const legs = packet.legs || [];
  const legTerms = filters.right || filters.dteMin !== null || filters.dteMax !== null
    || filters.money || filters.moneyBand !== null || filters.volOverOi;
  return !legTerms || legs.some((leg) => (!filters.right || leg.right === filters.right)
    && dteMatches(filters, leg)
    && moneyMatches(filters, packet, leg)
    && (!filters.volOverOi || (leg.open_interest > 0 && leg.day_volume > leg.open_interest)));
}

export function symbolMatches(filters, symbol) {
  return filters.symbols.length === 0 || filters.symbols.includes(symbol);
}

/** /v1/prints/options parameters the server filters on (symbols, C/P). */
export function printQuery(filters, runId, limit) {
  const query = new URLSearchParams({ run_id: runId, limit: String(limit) });
  if (filters.symbols.length) query.set("underlying", filters.symbols.join(","));
  if (filters.right) query.set("right", filters.right);
  return query;
}

/** The filters an option print carries the fields of: symbols, side, C/P and DTE (NYSE
 * sessions from the print's New York date to its expiry, as a packet leg counts them). The
 * premium floor is the flow tape's: the prints tape shows every print. Prints carry no spot,
 * so moneyness does not apply to them. */
export function printMatches(filters, print) {
  if (!symbolMatches(filters, print.underlying)) return false;
  if (filters.side && print.side !== filters.side) return false;
  if (!filters.right && filters.dteMin === null && filters.dteMax === null) return true;
  const contract = parseContract(print.symbol);
  if (!contract || (filters.right && contract.right !== filters.right)) return false;
  if (filters.dteMin === null && filters.dteMax === null) return true;
  return dteWithin(filters, tradingDaysTo(newYorkDate(print.ts_event), contract.expiration));
}
