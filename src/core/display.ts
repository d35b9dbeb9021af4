// How untrusted text is shown in messages and logs. A module of its own so that errors.ts can
// use it without importing the name rules (which import errors.ts).

/**
 * Quotes untrusted text for an error message: JSON escapes keep it on one line, and every
 * character outside printable ASCII is escaped as `\uXXXX` (bidi overrides, zero-width and
 * no-break spaces, U+2028, look-alike letters such as Cyrillic `а`), so a log line shows what
 * the text is instead of what it pretends to be.
 */
export function quote(value: unknown): string {
  if (typeof value !== 'string') return value === undefined ? 'undefined' : typeof value;
  const cut = value.length > 80;
  const escaped = JSON.stringify(cut ? value.slice(0, 80) : value).replace(/[^\x20-\x7e]/gu, escapeChar);
  return cut ? `${escaped.slice(0, -1)}…"` : escaped;
}

/**
 * A checked name (project, branch) for a log line or message: as it is when it is printable
 * ASCII, else {@link quote}d, so a look-alike or invisible character shows as an escape.
 */
export function showName(name: string): string {
  return /^[\x21-\x7e]+$/.test(name) ? name : quote(name);
}

/**
 * A name in single quotes, as messages have always shown names, with every character outside
 * printable ASCII escaped (and `'` and `\\` too, so the quotes stay unambiguous).
 */
export function quoteName(name: string): string {
  return `'${name.replace(/[^\x20-\x7e]|['\\]/gu, (c) => (c === "'" || c === '\\' ? `\\${c}` : escapeChar(c)))}'`;
}

function escapeChar(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
}
