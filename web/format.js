// How values read on the page: exchange time (ET) with UTC beside, dollars, contracts, venues.
// DOM nodes are built with textContent only: data never becomes markup.

const etClock = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/New_York", hour12: false, hour: "2-digit", minute: "2-digit", second: "2-digit",
});
const etDate = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/New_York", month: "short", day: "2-digit",
});
const usd0 = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD", maximumFractionDigits: 0 });
const usd2 = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });
export const int = new Intl.NumberFormat("en-US");

/** hh:mm:ss.mmm in New York time. */
export function etTime(ns) {
  if (ns === null || ns === undefined) return "";
  const ms = Math.floor(ns / 1e6);
  return `${etClock.format(ms)}.${String(ms % 1000).padStart(3, "0")}`;
}

/** "Feb 20 14:30:01.123 ET" for clocks that span days. */
export function etDateTime(ns) {
  if (ns === null || ns === undefined) return "—";
  return `${etDate.format(Math.floor(ns / 1e6))} ${etTime(ns)} ET`;
}

/** The full UTC timestamp (shown on hover). */
export function utcTitle(ns) {
  if (ns === null || ns === undefined) return "";
  return new Date(Math.floor(ns / 1e6)).toISOString().replace("T", " ").replace("Z", " UTC");
}

export const dollars = (cents) => (cents === null || cents === undefined) ? "—" : usd0.format(cents / 100);
export const shortDollars = (cents) => (cents === null || cents === undefined) ? "—" : `$${compact.format(cents / 100)}`;
export const price = (value) => (value === null || value === undefined) ? "—" : usd2.format(value);

/** An OSI symbol ("AAPL  250228C00190000") as {root, expiry "Feb 28 '25", strike, right}. */
export function contract(symbol) {
  const match = /^(.{1,6}?)\s*(\d{2})(\d{2})(\d{2})([CP])(\d{8})$/.exec(symbol || "");
  if (!match) return null;
  const [, root, yy, mm, dd, right, strike] = match;
  const month = new Date(Date.UTC(2000, Number(mm) - 1, 1)).toLocaleString("en-US", { month: "short", timeZone: "UTC" });
  return { root: root.trim(), expiry: `${month} ${dd} '${yy}`, strike: Number(strike) / 1000, right };
}

/** An expiration date as stored (20250228) in the same form as contract(). */
export function expiryOf(yyyymmdd) {
  if (!yyyymmdd) return "—";
  const text = String(yyyymmdd);
  const month = new Date(Date.UTC(2000, Number(text.slice(4, 6)) - 1, 1)).toLocaleString("en-US", { month: "short", timeZone: "UTC" });
  return `${month} ${text.slice(6, 8)} '${text.slice(2, 4)}`;
}

// Venue names from Databento's publisher table (/v1/venues), loaded once.
const venues = new Map();
export async function loadVenues() {
  try {
    const response = await fetch("/v1/venues");
    for (const v of (await response.json()).venues) venues.set(v.publisher_id, v);
  } catch { /* names fall back to the publisher id */ }
}
export const venueCode = (id) => venues.get(id)?.venue ?? `#${id}`;
export const venueName = (id) => venues.get(id)?.description ?? `publisher ${id}`;

/** Money-like keys (`…_cents`) shown in dollars, other numbers as they are. */
export function thresholdText(key, value) {
  if (key.endsWith("_cents")) return `${key.slice(0, -6)} ${dollars(value)}`;
  return `${key} ${Number.isInteger(value) ? int.format(value) : Number(value).toFixed(2)}`;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === "") continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function severityBadge(severity) {
  if (!severity) return "";
  return el("span", { class: `sev sev${Math.min(severity, 5)}`, text: String(severity) });
}

export async function fetchJson(url, options) {
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw Object.assign(new Error(body.detail || `${response.status} ${response.statusText}`), { status: response.status });
  }
  return body;
}
