/**
 * Pure helpers that turn a request target into a safe relative path, kept apart from I/O so every
 * attack input is unit-testable. The rules: decode once; refuse NUL, control characters, backslashes
 * and encoded separators; refuse malformed percent-encoding and invalid UTF-8 (overlong `%c0%ae` is
 * how `..` was smuggled past IIS); resolve dot segments without ever climbing above the root.
 */
import { sep } from 'node:path';
import { createStaticError } from './errors.js';

/** A request target mapped to path segments. */
export interface RequestPath {
  /** Decoded, normalised segments: no empty, `.` or `..` segment, no separator inside any. */
  readonly segments: readonly string[];
  /** True when the path names a directory form (`/a/`, `/a/.`, `/`). */
  readonly hasTrailingSlash: boolean;
  /** The query as received, with its `?`, or `''`. */
  readonly query: string;
}

/** Longest request path accepted, in bytes after decoding (Linux's PATH_MAX). */
export const maxPathLength = 4096;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function invalidPath(why: string, status = 400): never {
  throw createStaticError('SRV_ERR_INVALID_PATH', `invalid request path: ${why}`, { status });
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/** Decodes one raw path segment exactly once; throws `SRV_ERR_INVALID_PATH` (400) on anything unsafe. */
export function decodeSegment(raw: string): string {
  if (isPlainAscii(raw)) {
    checkDecoded(raw);
    return raw;
  }
  const bytes = Buffer.allocUnsafe(raw.length);
  let length = 0;
  for (let index = 0; index < raw.length; index++) {
    const code = raw.charCodeAt(index);
    if (code === 0x25) {
      const high = hexValue(raw.charCodeAt(index + 1));
      const low = hexValue(raw.charCodeAt(index + 2));
      if (high < 0 || low < 0) invalidPath('malformed percent-encoding');
      bytes[length++] = high * 16 + low;
      index += 2;
    } else if (code < 0x80) {
      bytes[length++] = code;
    } else {
      // llhttp passes bytes ≥ 0x80 through as latin1 characters; a raw UTF-8 name arrives that way.
      if (code > 0xff) invalidPath('non-byte character');
      bytes[length++] = code;
    }
  }
  let decoded: string;
  try {
    decoded = utf8.decode(bytes.subarray(0, length));
  } catch {
    return invalidPath('not valid UTF-8');
  }
  checkDecoded(decoded);
  return decoded;
}

/** No `%` and nothing above 0x7f: the segment decodes to itself. */
function isPlainAscii(raw: string): boolean {
  for (let index = 0; index < raw.length; index++) {
    const code = raw.charCodeAt(index);
    if (code === 0x25 || code > 0x7f) return false;
  }
  return true;
}

function checkDecoded(segment: string): void {
  for (let index = 0; index < segment.length; index++) {
    const code = segment.charCodeAt(index);
    // NUL truncates paths in C, CR/LF split headers, `/` and `\` inside a segment are encoded
    // separators: each has been a traversal or injection in some static server.
    if (code < 0x20 || code === 0x7f) invalidPath('control character');
    if (code === 0x2f || code === 0x5c) invalidPath('encoded path separator');
  }
}

/**
 * Maps a raw request target (`/a%20b/../c?x=1`) to normalised segments. Dot segments are resolved
 * and clamped at the root (`/../x` is `/x`), as browsers do. Throws `SRV_ERR_INVALID_PATH` with
 * status 400 (malformed, NUL, control characters, `\`, `%2f`, `%5c`, invalid UTF-8) or 414 (too long).
 */
export function parseRequestPath(target: string): RequestPath {
  let end = target.length;
  const hash = target.indexOf('#');
  if (hash !== -1) end = hash;
  const question = target.indexOf('?');
  const hasQuery = question !== -1 && question < end;
  const rawPath = target.slice(0, hasQuery ? question : end);
  const query = hasQuery ? target.slice(question, end) : '';
  if (!rawPath.startsWith('/')) invalidPath('the path must start with "/"');
  if (rawPath.length > maxPathLength * 3) invalidPath('too long', 414);
  if (rawPath.includes('\\')) invalidPath('backslash');
  const segments: string[] = [];
  let bytes = 0;
  let hasTrailingSlash = true;
  const raws = rawPath.split('/');
  for (let index = 1; index < raws.length; index++) {
    const segment = decodeSegment(raws[index]!);
    bytes += Buffer.byteLength(segment) + 1;
    if (bytes > maxPathLength) invalidPath('too long', 414);
    if (segment === '' || segment === '.') {
      hasTrailingSlash = true;
      continue;
    }
    if (segment === '..') {
      segments.pop();
      hasTrailingSlash = true;
      continue;
    }
    segments.push(segment);
    hasTrailingSlash = false;
  }
  return { segments, hasTrailingSlash, query };
}

/**
 * True when a segment is hidden: starts with `.`. `/.well-known/` at the top is not hidden (RFC 8615:
 * ACME challenges and security.txt live there).
 */
export function isHiddenPath(segments: readonly string[]): boolean {
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index]!;
    if (segment.charCodeAt(0) !== 0x2e) continue;
    if (index === 0 && segment === '.well-known') continue;
    return true;
  }
  return false;
}

/**
 * True when `candidate` is `root` or lies below it. Separator-aware: `/srv/www-secret` is not inside
 * `/srv/www`. Both must be absolute, normalised paths (real paths, for symlink safety).
 */
export function isInsideRoot(root: string, candidate: string): boolean {
  if (candidate === root) return true;
  const prefix = root.endsWith(sep) ? root : root + sep;
  return candidate.startsWith(prefix);
}

/** Percent-encodes one segment for a URL path (`:` too, so a name never reads as a scheme). */
export function encodeSegment(segment: string): string {
  return encodeURIComponent(segment);
}

/** `/a%20b/c/`: segments encoded for a `Location` or `href`, never starting with `//`. */
export function formatPath(segments: readonly string[], hasTrailingSlash: boolean): string {
  if (segments.length === 0) return '/';
  return `/${segments.map(encodeSegment).join('/')}${hasTrailingSlash ? '/' : ''}`;
}

/**
 * The `Location` of a directory's trailing-slash redirect: the normalised path plus `/`, the query
 * kept. Built from segments, so `//evil.com` or `/\evil.com` can never come out (no open redirect).
 */
export function redirectLocation(path: RequestPath): string {
  return `${formatPath(path.segments, true)}${path.query}`;
}

/** True when the last segment has a file extension (`app.js`), for the single-page fallback. */
export function hasExtension(segments: readonly string[]): boolean {
  const last = segments[segments.length - 1];
  if (last === undefined) return false;
  const dot = last.lastIndexOf('.');
  return dot > 0 && dot < last.length - 1;
}
