/**
 * Pure text and byte forms of a moment: the tutorial's three words, RFC 867 daytime, RFC 868 time and
 * the connection log stamp. Kept apart from sockets so they are unit-testable with any date.
 */

/** Where handlers read the time. Injectable so tests (and replays) can assert exact replies. */
export type Clock = () => Date;

/** A clock, or a fixed moment (a `Date` or epoch milliseconds) that also crosses to worker threads. */
export type ClockInput = Clock | Date | number;

/** The words of the tutorial's line protocol. */
export type TimeWord = 'asctime' | 'seconds' | 'rfc822';

/** The tutorial's help text, its four lines dedented; sent for any word it does not know. */
export const HELP_TEXT =
  'Unhandled request. Send a line with one of the following words:\n' +
  'asctime -- for human-readable time\n' +
  'seconds -- seconds since the Unix Epoch\n' +
  'rfc822 -- date/time in format used for mail and posts\n';

/** Seconds from 1900-01-01 00:00 UTC (RFC 868's epoch) to the Unix epoch. */
export const RFC868_EPOCH_OFFSET = 2_208_988_800;

const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

function pad2(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}

interface Fields {
  year: number;
  month: number;
  day: number;
  weekday: number;
  hours: number;
  minutes: number;
  seconds: number;
}

function fieldsOf(date: Date, utc: boolean): Fields {
  return utc
    ? {
        year: date.getUTCFullYear(),
        month: date.getUTCMonth(),
        day: date.getUTCDate(),
        weekday: date.getUTCDay(),
        hours: date.getUTCHours(),
        minutes: date.getUTCMinutes(),
        seconds: date.getUTCSeconds(),
      }
    : {
        year: date.getFullYear(),
        month: date.getMonth(),
        day: date.getDate(),
        weekday: date.getDay(),
        hours: date.getHours(),
        minutes: date.getMinutes(),
        seconds: date.getSeconds(),
      };
}

function clockTime(fields: Fields): string {
  return `${pad2(fields.hours)}:${pad2(fields.minutes)}:${pad2(fields.seconds)}`;
}

/** Turns a {@link ClockInput} into a clock. */
export function toClock(input: ClockInput | undefined): Clock {
  if (input === undefined) return () => new Date();
  if (typeof input === 'function') return input;
  const fixed = typeof input === 'number' ? input : input.getTime();
  return () => new Date(fixed);
}

/**
 * C's `asctime()` / Python's `time.asctime()`: `Tue Nov 24 19:02:46 2026`, the day padded with a
 * space (`Wed Nov  4 …`). Local time unless `utc`.
 */
export function formatAsctime(date: Date, options: { utc?: boolean } = {}): string {
  const fields = fieldsOf(date, options.utc ?? false);
  const day = String(fields.day).padStart(2, ' ');
  return `${days[fields.weekday]} ${months[fields.month]} ${day} ${clockTime(fields)} ${fields.year}`;
}

/** Whole seconds since the Unix epoch, as the tutorial's `str(int(time.time()))`. */
export function formatSeconds(date: Date): string {
  return String(Math.floor(date.getTime() / 1000));
}

/** RFC 822 date in UTC, day zero-padded: `Tue, 24 Nov 2026 19:02:46 +0000`. */
export function formatRfc822(date: Date): string {
  const fields = fieldsOf(date, true);
  return `${days[fields.weekday]}, ${pad2(fields.day)} ${months[fields.month]} ${fields.year} ${clockTime(fields)} +0000`;
}

/** The log stamp of the tutorial's `time.strftime('%Y-%m-%d %H:%M:%S', time.localtime())`. */
export function formatLogTime(date: Date): string {
  const fields = fieldsOf(date, false);
  return `${fields.year}-${pad2(fields.month + 1)}-${pad2(fields.day)} ${clockTime(fields)}`;
}

/** True for a word the line protocol answers with a time (`asctime`, `seconds`, `rfc822`, any case). */
export function isTimeWord(word: string): boolean {
  const lower = word.trim().toLowerCase();
  return lower === 'asctime' || lower === 'seconds' || lower === 'rfc822';
}

/**
 * The reply to one request line of the tutorial's protocol, newline included. The word is trimmed and
 * matched case-insensitively; anything else gets {@link HELP_TEXT}.
 */

export function answerWord(word: string, date: Date, options: { utc?: boolean } = {}): string {
  switch (word.trim().toLowerCase()) {
    case 'asctime':
      return `${formatAsctime(date, options)}\n`;
    case 'seconds':
      return `${formatSeconds(date)}\n`;
    case 'rfc822':
      return `${formatRfc822(date)}\n`;
    default:
      return HELP_TEXT;
  }
}

/**
 * An RFC 867 daytime line: the format is left to the server, so this uses what inetd sends, the
 * `asctime` form, ended with CRLF.
 */
export function formatDaytime(date: Date, options: { utc?: boolean } = {}): string {
  return `${formatAsctime(date, options)}\r\n`;
}

/**
 * RFC 868: whole seconds since 1900-01-01 00:00 UTC as a 32-bit big-endian number. The count wraps in
 * February 2036; the wrapped value is sent, as every implementation does.
 */
export function encodeRfc868(date: Date): Buffer {
  const value = (Math.floor(date.getTime() / 1000) + RFC868_EPOCH_OFFSET) % 2 ** 32;
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >= 0 ? value : value + 2 ** 32);
  return bytes;
}

/**
 * Reads an RFC 868 value. Values below the Unix epoch are taken to be after the 2036 wrap, so the
 * result lies between 1970 and 2106.
 */
export function decodeRfc868(bytes: Uint8Array): Date {
  const value = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt32BE(0);
  let seconds = value - RFC868_EPOCH_OFFSET;
  if (seconds < 0) seconds += 2 ** 32;
  return new Date(seconds * 1000);
}
