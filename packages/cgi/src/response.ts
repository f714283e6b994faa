import { createCgiError } from './errors.js';

/** The header block of a script's output, checked (RFC 3875 §6.3). */
export interface ScriptHeaders {
  /** From `Status: NNN reason`. */
  readonly status?: { readonly code: number; readonly reason: string };
  /** From `Location`. */
  readonly location?: string;
  /** From `Content-Type`. */
  readonly contentType?: string;
  /**
   * Every other field to send, in order, names as written. Framing and connection fields
   * (`Content-Length`, `Transfer-Encoding`, `Connection`, …) and the server's own `Server`/`Date` are
   * left out: the server frames the body itself and never trusts a script to (CVE-2024-24795).
   */
  readonly fields: ReadonlyArray<readonly [string, string]>;
}

/** How to answer, decided from the header block (RFC 3875 §6.2). */
export type ResponseKind =
  /** A document: status (default 200), headers and body as produced. */
  | 'document'
  /** `Location: /path` alone: the server fetches that path itself, as a GET. */
  | 'local-redirect'
  /** A `Location` the client follows: 302 unless a 3xx Status says otherwise. */
  | 'client-redirect';

const tokenName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Field values may hold visible characters, spaces, tabs and obs-text, never CR, LF or NUL.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const invalidValue = /[\0-\x08\x0a-\x1f\x7f]/;
const dropped = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
  'server',
  'date',
]);

function malformed(reason: string) {
  return createCgiError('SRV_ERR_CGI_BAD_RESPONSE', `malformed header from script: ${reason}`);
}

/**
 * Parses a complete header block (the bytes before the blank line, CRLF or LF line ends). Throws
 * `SRV_ERR_CGI_BAD_RESPONSE` on a line that is not `Name: value`, a folded line, a bad Status, or a block
 * with none of Content-Type, Location and Status.
 */
export function parseHeaderBlock(block: string): ScriptHeaders {
  let status: ScriptHeaders['status'];
  let location: string | undefined;
  let contentType: string | undefined;
  const fields: Array<readonly [string, string]> = [];
  const lines = block.split('\n');
  for (let line of lines) {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line === '') continue;
    if (line.startsWith(' ') || line.startsWith('\t')) throw malformed('folded header line');
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed(`not a header line: ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (!tokenName.test(name)) throw malformed(`bad header name ${JSON.stringify(name.slice(0, 80))}`);
    if (invalidValue.test(value)) throw malformed(`control character in ${name}`);
    const lower = name.toLowerCase();
    if (lower === 'status') {
      if (status !== undefined) throw malformed('repeated Status');
      const parsed = /^([1-5]\d\d)(?:[ \t]+(.*))?$/.exec(value);
      if (!parsed) throw malformed(`bad Status ${JSON.stringify(value.slice(0, 80))}`);
      const code = Number(parsed[1]);
      if (code < 200) throw malformed(`informational Status ${code}`);
      status = { code, reason: parsed[2]?.trim() ?? '' };
    } else if (lower === 'location') {
      if (location !== undefined) throw malformed('repeated Location');
      if (value === '') throw malformed('empty Location');
      location = value;
    } else if (lower === 'content-type') {
      if (contentType !== undefined) throw malformed('repeated Content-Type');
      contentType = value;
    } else if (!dropped.has(lower)) {
      fields.push([name, value]);
    }
  }
  if (status === undefined && location === undefined && contentType === undefined) {
    throw malformed('none of Content-Type, Location or Status');
  }
  return {
    ...(status !== undefined ? { status } : {}),
    ...(location !== undefined ? { location } : {}),
    ...(contentType !== undefined ? { contentType } : {}),
    fields,
  };
}

/**
 * RFC 3875 §6.2: a local path (`/…`, not `//…`) in Location with no Status, Content-Type or other field
 * is a local redirect; any other Location is a client redirect; everything else is a document.
 */
export function classifyResponse(headers: ScriptHeaders): ResponseKind {
  if (headers.location === undefined) return 'document';
  const isLocal = headers.location.startsWith('/') && !headers.location.startsWith('//');
  if (
    isLocal &&
    headers.status === undefined &&
    headers.contentType === undefined &&
    headers.fields.length === 0
  ) {
    return 'local-redirect';
  }
  return 'client-redirect';
}

/**
 * Collects a script's stdout until the header block ends (a blank line, CRLF or LF), enforcing a size
 * limit so a script cannot make the server buffer without bound.
 */
export class HeaderBlockReader {
  readonly #maxBytes: number;
  #buffer: Buffer = Buffer.alloc(0);
  #searched = 0;

  /** @param maxBytes largest header block accepted, in bytes */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes held so far. */
  get length(): number {
    return this.#buffer.length;
  }

  /**
   * Adds output. Returns the parsed headers and whatever body bytes followed them once the block is
   * complete, `undefined` while more is needed; throws `SRV_ERR_CGI_BAD_RESPONSE` when malformed or too large.
   */
  push(chunk: Buffer): { headers: ScriptHeaders; body: Buffer } | undefined {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const buffer = this.#buffer;
    let index = buffer.indexOf(0x0a, this.#searched);
    while (index !== -1) {
      // A blank line: LF right at the start, or LF preceded by LF or CR LF.
      let blankStart = -1;
      if (index === 0) blankStart = 0;
      else if (buffer[index - 1] === 0x0a) blankStart = index - 1;
      else if (buffer[index - 1] === 0x0d && (index === 1 || buffer[index - 2] === 0x0a))
        blankStart = index - 1;
      if (blankStart !== -1) {
        if (index + 1 > this.#maxBytes) break;
        const headers = parseHeaderBlock(buffer.subarray(0, blankStart).toString('latin1'));
        return { headers, body: buffer.subarray(index + 1) };
      }
      index = buffer.indexOf(0x0a, index + 1);
    }
    if (buffer.length > this.#maxBytes) {
      throw malformed(`header block longer than ${this.#maxBytes} bytes`);
    }
    this.#searched = Math.max(0, buffer.length - 2);
    return undefined;
  }
}
