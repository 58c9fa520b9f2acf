// Numbers, dates and names in the page language.

import { app, consensusLevel } from "./state.js";
import { tr } from "./view.js";

// The page language as a full locale for numbers and dates.
export const LOCALES = { nl: "nl-NL", en: "en-GB" };

// Units written without a space: "12,5%".
export const TIGHT_UNITS = new Set(["%", "‰"]);

export function locale() {
  return LOCALES[app.lang] || LOCALES.nl;
}

export function formatNumber(value) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(value);
}

/** "0,93" (nl) or "0.93" (en): a fixed number of decimals. */
export function formatFixed(value, digits) {
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

/** "+1", "-0,5", "0": a change, with its sign (rounded to zero: no sign). */
export function formatChange(value, digits = 1) {
  return new Intl.NumberFormat(locale(), {
    minimumFractionDigits: digits > 1 ? digits : 0,
    maximumFractionDigits: digits,
    signDisplay: "exceptZero",
  }).format(value);
}

/** "eensgezind 0,93" / "verdeeld 0,41". */
export function consensusText(consensus) {
  return tr(`consensus.${consensusLevel(consensus)}`, { value: formatFixed(consensus, 2) });
}

export function formatDate(iso) {
  const [y, m, d] = iso.split("-").map(Number);
  if (!y || !m || !d) return iso;
  return new Intl.DateTimeFormat(locale(), { day: "numeric", month: "long", year: "numeric" }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

/** "2025" as is, "2025-10" as "oktober 2025", "2025-10-01" as "1 oktober 2025". */
export function figureDate(value) {
  const [y, m, d] = String(value).split("-").map(Number);
  if (!y) return String(value);
  if (!m) return String(y);
  const date = new Date(Date.UTC(y, m - 1, d || 1));
  // An impossible date ("2025-13", "2025-02-30") as written, not moved to another month.
  if (date.getUTCMonth() !== m - 1 || (d && date.getUTCDate() !== d)) return String(value);
  const options = d ? { day: "numeric", month: "long", year: "numeric" } : { month: "long", year: "numeric" };
  return new Intl.DateTimeFormat(locale(), { ...options, timeZone: "UTC" }).format(date);
}

/** "1.234,5 jongeren" (nl) or "1,234.5 jongeren" (en). */
export function figureValue(value, unit) {
  const number = new Intl.NumberFormat(locale(), { maximumFractionDigits: 3 }).format(value);
  if (!unit) return number;
  return TIGHT_UNITS.has(unit) ? `${number}${unit}` : `${number}\u00a0${unit}`;
}

export function normLabel(normId) {
  const norm = app.normById.get(normId);
  return norm ? `${norm.number}. ${norm.title}` : normId;
}

export function phaseName(phase) {
  // One name per phase for every page (i18n/{lang}.json), not the dashboard's own.
  return app.t(`phase.${phase}`);
}
