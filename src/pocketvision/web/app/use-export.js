// The Use view's log as files: CSV (the columns below; cells escaped as
// `predict --output` escapes its CSV: quoted where they hold a comma, a quote or a
// line break, and a leading ' where a spreadsheet would run the cell) and JSON.
// Both are built a slice of entries at a time, letting the page draw between
// slices, so a long log exports without freezing the view.

import { CSV_RISKY_STARTS } from "../recipe/shared.js";

export const LOG_COLUMNS = ["time", "session", "label", "confidence", "novelty", "latitude", "longitude", "note"];

export async function logCsv(slices) {
  const parts = [row(LOG_COLUMNS)];
  for await (const slice of slices) {
    parts.push(slice.map((entry) => row(LOG_COLUMNS.map((column) => entry[column]))).join(""));
    await nextTurn();
  }
  return new Blob(parts, { type: "text/csv" });
}

export async function logJson(slices, model) {
  const parts = [`{"format": "pocketvision-log", "version": 1, "model": ${JSON.stringify(model)}, "entries": [`];
  let first = true;
  for await (const slice of slices) {
    const text = slice.map((entry) => JSON.stringify(Object.fromEntries(LOG_COLUMNS.map((c) => [c, entry[c] ?? null]))));
    if (text.length) parts.push((first ? "\n" : ",\n") + text.join(",\n"));
    first = false;
    await nextTurn();
  }
  parts.push("\n]}\n");
  return new Blob(parts, { type: "application/json" });
}

// A time as ISO 8601 with the phone's offset: 2026-12-06T16:20:01.123+01:00.
export function localTime(date = new Date()) {
  const pad = (n, width = 2) => String(Math.abs(n)).padStart(width, "0");
  const offset = -date.getTimezoneOffset();
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:` +
    `${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}` +
    `${offset < 0 ? "-" : "+"}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}

function row(values) {
  return values.map(cell).join(",") + "\r\n"; // Python's csv module ends rows so
}

function cell(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return String(value);
  let text = String(value);
  if (CSV_RISKY_STARTS.some((start) => text.startsWith(start))) text = "'" + text;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function nextTurn() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
