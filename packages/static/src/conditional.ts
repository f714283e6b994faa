/**
 * Validators and preconditions (RFC 9110 §8.8, §13). The ETag is cheap — built from the file's
 * identity and metadata, never a hash of its bytes — and strong, so `If-Range` and `If-Match` can use it.
 */
import fresh from 'fresh';

/** The file metadata the validators are built from (a bigint `fs.Stats` fits). */
export interface FileIdentity {
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
}

/** `"<inode>-<size>-<mtime ns>"` in hex: changes whenever the file is replaced or rewritten. */
export function makeETag(file: FileIdentity): string {
  return `"${file.ino.toString(16)}-${file.size.toString(16)}-${file.mtimeNs.toString(16)}"`;
}

/** The `Last-Modified` instant in whole milliseconds (HTTP dates have second precision). */
export function lastModifiedMs(file: FileIdentity): number {
  return Number(file.mtimeNs / 1_000_000n);
}

/** Splits an entity-tag list (`"a", W/"b"`), keeping each tag as written. */
export function parseETagList(value: string): string[] {
  const tags: string[] = [];
  for (const match of value.matchAll(/\s*((?:W\/)?"[^"]*"|\*)\s*(?:,|$)/g)) tags.push(match[1]!);
  return tags;
}

function parseHttpDate(value: string | undefined): number {
  if (value === undefined) return Number.NaN;
  // Date.parse also accepts things like "1"; an HTTP date has at least a day, month, year and time.
  if (!/\d{1,2}:\d{2}:\d{2}/.test(value)) return Number.NaN;
  return Date.parse(value);
}

/** What the preconditions decided. */
export type PreconditionResult = 'proceed' | 'not-modified' | 'failed';

/** The request headers the preconditions read (lower-case names). */
export interface ConditionalHeaders {
  'if-match'?: string | undefined;
  'if-none-match'?: string | undefined;
  'if-modified-since'?: string | undefined;
  'if-unmodified-since'?: string | undefined;
  'cache-control'?: string | undefined;
}

/**
 * Evaluates the preconditions of a GET or HEAD in RFC 9110 §13.2.2's order: `If-Match` (strong
 * comparison, `*`), else `If-Unmodified-Since` → `failed` (412); then `If-None-Match` (weak
 * comparison, lists, `*`), else `If-Modified-Since` → `not-modified` (304). `If-Modified-Since` is
 * ignored when `If-None-Match` is present, and unparseable dates are ignored.
 */
export function evaluatePreconditions(
  headers: ConditionalHeaders,
  etag: string,
  lastModified: number,
): PreconditionResult {
  const ifMatch = headers['if-match'];
  if (ifMatch !== undefined) {
    const tags = parseETagList(ifMatch);
    if (!tags.includes('*') && !tags.includes(etag)) return 'failed';
  } else {
    const since = parseHttpDate(headers['if-unmodified-since']);
    if (!Number.isNaN(since) && Math.floor(lastModified / 1000) * 1000 > since) return 'failed';
  }
  const ifNoneMatch = headers['if-none-match'];
  const ifModifiedSince = headers['if-modified-since'];
  if (ifNoneMatch === undefined && Number.isNaN(parseHttpDate(ifModifiedSince))) return 'proceed';
  const isFresh = fresh(
    {
      'if-none-match': ifNoneMatch,
      'if-modified-since': ifNoneMatch === undefined ? ifModifiedSince : undefined,
      'cache-control': headers['cache-control'],
    },
    { etag, 'last-modified': new Date(lastModified).toUTCString() },
  );
  return isFresh ? 'not-modified' : 'proceed';
}

/**
 * `If-Range` (RFC 9110 §13.1.5): the range applies only when the validator still matches — an entity
 * tag by strong comparison, or a date equal to `Last-Modified`. A weak tag never matches.
 */
export function isIfRangeSatisfied(ifRange: string | undefined, etag: string, lastModified: number): boolean {
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"')) return value === etag;
  if (value.startsWith('W/')) return false;
  const date = parseHttpDate(value);
  return !Number.isNaN(date) && date === Math.floor(lastModified / 1000) * 1000;
}
