// Option contracts in the browser, read as the server reads them: an OCC symbol in its padded
// form (schemas/occ.py, analytics/candles.normalise_key) and its days to expiry counted in
// NYSE sessions after the trade date (compute/calendar.py, the DTE of a packet's legs).

const OCC = /^([A-Z0-9.]{1,6}) *(\d{2})(\d{2})(\d{2})([CP])(\d{8})$/;

/** {symbol (padded OCC form), root, expiration YYYYMMDD, right, strike} or null. */
export function parseContract(text) {
  const match = OCC.exec(String(text ?? "").trim().toUpperCase());
  if (!match) return null;
  const [, root, yy, mm, dd, right, strike] = match;
  return {
    symbol: `${root.padEnd(6)}${yy}${mm}${dd}${right}${strike}`,
    root,
    expiration: 20_000_000 + Number(`${yy}${mm}${dd}`),
    right,
    strike: Number(strike) / 1000,
  };
}

const nyDate = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/New_York", year: "numeric", month: "2-digit", day: "2-digit",
});

const HOUR_NS = 3.6e12;
const dateOfHour = new Map();  // New York's offset is whole hours: one date per UTC hour

/** The New York calendar date (YYYYMMDD) of a UTC nanosecond time. */
export function newYorkDate(ns) {
  const hour = Math.floor(ns / HOUR_NS);
  if (!dateOfHour.has(hour)) {
    const parts = Object.fromEntries(nyDate.formatToParts(hour * 3600 * 1000).map((p) => [p.type, p.value]));
    dateOfHour.set(hour, Number(`${parts.year}${parts.month}${parts.day}`));
  }
  return dateOfHour.get(hour);
}

const ymd = (d) => d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
const utc = (y, m, d) => new Date(Date.UTC(y, m - 1, d));
const AD_HOC_CLOSURES = new Set([
  20010911, 20010912, 20010913, 20010914, 20040611, 20070102, 20121029, 20121030, 20181205, 20250109,
]);

function nthWeekday(year, month, weekday, n) {
  const first = utc(year, month, 1);
  return utc(year, month, 1 + ((weekday - first.getUTCDay() + 7) % 7) + 7 * (n - 1));
}

function lastWeekday(year, month, weekday) {
  const last = utc(year, month + 1, 0);
  return utc(year, month, last.getUTCDate() - ((last.getUTCDay() - weekday + 7) % 7));
}

function easter(year) {
  const a = year % 19, b = Math.floor(year / 100), c = year % 100;
  const d = Math.floor(b / 4), e = b % 4, f = Math.floor((b + 8) / 25), g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30, i = Math.floor(c / 4), k = c % 4;
  const m = (32 + 2 * e + 2 * i - h - k) % 7, n = Math.floor((a + 11 * h + 22 * m) / 451);
  const month = Math.floor((h + m - 7 * n + 114) / 31), day = ((h + m - 7 * n + 114) % 31) + 1;
  return utc(year, month, day);
}

/** A fixed holiday moved off the weekend (none for a Saturday New Year's Day). */
function observed(day) {
  const weekday = day.getUTCDay();
  if (weekday === 6) return day.getUTCMonth() === 0 && day.getUTCDate() === 1 ? null : utc(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate() - 1);
  if (weekday === 0) return utc(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate() + 1);
  return day;
}

const holidayCache = new Map();
function holidays(year) {
  if (!holidayCache.has(year)) {
    const fixed = [utc(year, 1, 1), utc(year, 7, 4), utc(year, 12, 25)];
    if (year >= 2022) fixed.push(utc(year, 6, 19));
    const goodFriday = easter(year);
    goodFriday.setUTCDate(goodFriday.getUTCDate() - 2);
    const days = [
      ...fixed.map(observed).filter(Boolean), nthWeekday(year, 1, 1, 3), nthWeekday(year, 2, 1, 3),
      goodFriday, lastWeekday(year, 5, 1), nthWeekday(year, 9, 1, 1), nthWeekday(year, 11, 4, 4),
    ];
    const closed = new Set(days.map(ymd));
    for (const d of AD_HOC_CLOSURES) if (Math.floor(d / 10000) === year) closed.add(d);
    holidayCache.set(year, closed);
  }
  return holidayCache.get(year);
}

const sessionCache = new Map();
/** NYSE sessions after `tradeDate` up to and including `expiration` (0: expires that day),
 * negative for an expiration in the past. */
export function tradingDaysTo(tradeDate, expiration) {
  if (expiration === tradeDate) return 0;
  if (expiration < tradeDate) return -tradingDaysTo(expiration, tradeDate);
  const key = tradeDate * 1e8 + expiration;
  if (sessionCache.has(key)) return sessionCache.get(key);
  const day = utc(Math.floor(tradeDate / 10000), Math.floor(tradeDate / 100) % 100, tradeDate % 100);
  let count = 0;
  for (let at = ymd(day); at < expiration;) {
    day.setUTCDate(day.getUTCDate() + 1);
    at = ymd(day);
    const weekday = day.getUTCDay();
    if (weekday !== 0 && weekday !== 6 && !holidays(day.getUTCFullYear()).has(at)) count += 1;
  }
  sessionCache.set(key, count);
  return count;
}
