/**
 * Directory listings: an HTML page a person can read and a JSON array a program can. Pure functions
 * of the entries, so escaping is unit-testable. Names are HTML-escaped for text and percent-encoded
 * for links; nothing shows a filesystem path.
 */
import { escapeHtml } from '@srv/http';
import { encodeSegment, formatPath } from './path.js';

/** One entry of a listing. */
export interface ListingEntry {
  /** The file name (no path). */
  readonly name: string;
  /** `symlink` for a link (whatever it points to), else what the entry is. */
  readonly type: 'file' | 'directory' | 'symlink';
  /** True when the entry is, or links to, a directory (its link gets a trailing `/`). */
  readonly isDirectory: boolean;
  /** Size in bytes (of the target, for a link). */
  readonly size: number;
  /** Last modification. */
  readonly mtime: Date;
}

/** The JSON shape of one entry: `{ name, type, size, mtime }`, `mtime` in ISO 8601. */
export interface ListingJsonEntry {
  name: string;
  type: 'file' | 'directory' | 'symlink';
  size: number;
  mtime: string;
}

/** Python's order: case-insensitive by name, then by name, so the order is total. */
export function sortEntries(entries: readonly ListingEntry[]): ListingEntry[] {
  return [...entries].sort((a, b) => {
    const left = a.name.toLowerCase();
    const right = b.name.toLowerCase();
    if (left !== right) return left < right ? -1 : 1;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

/** The listing as JSON text: sorted `[{ name, type, size, mtime }]`. */
export function renderListingJson(entries: readonly ListingEntry[]): string {
  const json: ListingJsonEntry[] = sortEntries(entries).map((entry) => ({
    name: entry.name,
    type: entry.type,
    size: entry.size,
    mtime: entry.mtime.toISOString(),
  }));
  return JSON.stringify(json);
}

/** `1.5 KiB`: sizes a person reads at a glance (exact bytes are in the title attribute). */
export function formatSize(size: number): string {
  if (size < 1024) return `${size} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = size / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 10 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

function formatTime(date: Date): string {
  return date.toISOString().replace('T', ' ').slice(0, 19);
}

const style = `
body{font-family:system-ui,sans-serif;margin:2rem;line-height:1.5}
table{border-collapse:collapse}td,th{padding:.15rem 1.5rem .15rem 0;text-align:left}
td.size,th.size{text-align:right}td.time{font-variant-numeric:tabular-nums}
a{text-decoration:none}a:hover{text-decoration:underline}`;

/**
 * Python's "Directory listing for /path/" page, as a table of name, size and modification time (UTC).
 * Directories end with `/`, links with `@` (as `ls -F` shows them); `..` leads up except at the root.
 */
export function renderListingHtml(segments: readonly string[], entries: readonly ListingEntry[]): string {
  const displayPath = `/${segments.map((segment) => `${segment}/`).join('')}`;
  const title = `Directory listing for ${escapeHtml(displayPath)}`;
  const rows: string[] = [];
  if (segments.length > 0) {
    const parent = formatPath(segments.slice(0, -1), true);
    rows.push(`<tr><td><a href="${escapeHtml(parent)}">../</a></td><td class="size"></td><td></td></tr>`);
  }
  for (const entry of sortEntries(entries)) {
    const suffix = entry.type === 'symlink' ? '@' : entry.isDirectory ? '/' : '';
    const href = `./${encodeSegment(entry.name)}${entry.isDirectory ? '/' : ''}`;
    const size = entry.isDirectory
      ? '-'
      : `<span title="${entry.size} bytes">${escapeHtml(formatSize(entry.size))}</span>`;
    rows.push(
      `<tr><td><a href="${escapeHtml(href)}">${escapeHtml(entry.name)}${suffix}</a></td>` +
        `<td class="size">${size}</td><td class="time">${formatTime(entry.mtime)}</td></tr>`,
    );
  }
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    `<title>${title}</title>`,
    `<style>${style}</style>`,
    '</head>',
    '<body>',
    `<h1>${title}</h1>`,
    '<hr>',
    '<table>',
    '<thead><tr><th>Name</th><th class="size">Size</th><th>Modified (UTC)</th></tr></thead>',
    `<tbody>\n${rows.join('\n')}\n</tbody>`,
    '</table>',
    '<hr>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * True when the client asked for JSON: `application/json` in `Accept` with a weight above zero and
 * at least that of `text/html` (a browser's `*\/*` never selects JSON).
 */
export function wantsJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  let json = 0;
  let html = 0;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';');
    const name = type!.trim().toLowerCase();
    let q = 1;
    for (const param of params) {
      const match = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(param);
      if (match) q = Number(match[1]);
    }
    if (!Number.isFinite(q)) q = 0;
    if (name === 'application/json') json = Math.max(json, q);
    else if (name === 'text/html') html = Math.max(html, q);
  }
  return json > 0 && json >= html;
}
