const monthNames = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Escapes `&`, `<`, `>` (and, with `quote`, `"` and `'`) for HTML, as Python's `html.escape`.
 * @param quote also escape quotes (default true, like Python)
 */
export function escapeHtml(text: string, quote = true): string {
  let result = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  if (quote) result = result.replace(/"/g, '&quot;').replace(/'/g, '&#x27;');
  return result;
}

// Python escapes C0, DEL and C1 controls and the backslash itself, so a log line cannot be forged
// (a CR/LF in a request target would otherwise start a fake line) or colour a terminal.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const controlPattern = /[\x00-\x1f\x7f-\x9f\\]/g;

/** Escapes control characters as `\xHH` and `\` as `\\`: what Python's `log_message` does to a line. */
export function escapeControlCharacters(text: string): string {
  return text.replace(controlPattern, (char) =>
    char === '\\' ? '\\\\' : `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/** Python's `repr()` of a string, enough for log and error messages (`'GET'`). */
export function pythonRepr(value: unknown): string {
  if (typeof value !== 'string') return String(value);
  const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
  let body = '';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (char === '\\') body += '\\\\';
    else if (char === quote) body += `\\${quote}`;
    else if (char === '\n') body += '\\n';
    else if (char === '\r') body += '\\r';
    else if (char === '\t') body += '\\t';
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) body += `\\x${code.toString(16).padStart(2, '0')}`;
    else body += char;
  }
  return `${quote}${body}${quote}`;
}

/**
 * Python's `%` formatting for log messages: `%s`, `%d`/`%i`, `%r` and `%%`. Extra arguments are appended,
 * missing ones leave the directive as is.
 */
export function formatPercent(format: string, args: readonly unknown[]): string {
  let index = 0;
  const result = format.replace(/%([sdir%])/g, (directive, kind: string) => {
    if (kind === '%') return '%';
    if (index >= args.length) return directive;
    const value = args[index++];
    if (kind === 'r') return pythonRepr(value);
    if (kind === 'd' || kind === 'i') {
      const number = Number(value);
      return Number.isFinite(number) ? String(Math.trunc(number)) : String(value);
    }
    return String(value);
  });
  return index < args.length ? `${result} ${args.slice(index).map(String).join(' ')}` : result;
}

/** Python's `%(name)s` / `%(name)d` mapping formatting, used for `errorMessageFormat`. */
export function formatMapping(format: string, values: Readonly<Record<string, string | number>>): string {
  return format.replace(
    /%\((\w+)\)([sd])|%%/g,
    (match, name: string | undefined, kind: string | undefined) => {
      if (match === '%%') return '%';
      const value = values[name!];
      if (value === undefined) return match;
      return kind === 'd' ? String(Math.trunc(Number(value))) : String(value);
    },
  );
}

/** RFC 9110 IMF-fixdate (`Tue, 24 Nov 2026 19:02:57 GMT`), Python's `date_time_string`. */
export function formatHttpDate(timestamp?: number): string {
  if (timestamp !== undefined) return new Date(timestamp).toUTCString();
  // Every response carries a Date; formatting one per second is enough (Node does the same).
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedDate = new Date(now).toUTCString();
  }
  return cachedDate;
}

let cachedSecond = -1;
let cachedDate = '';

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** Local time as `24/Nov/2026 19:02:57`, Python's `log_date_time_string`. */
export function formatLogDate(timestamp: number = Date.now()): string {
  const date = new Date(timestamp);
  return `${pad(date.getDate())}/${monthNames[date.getMonth()]}/${pad(date.getFullYear(), 4)} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
