/**
 * How srv answers what llhttp refuses: Python's status, message and explanation for the same bytes
 * (414 for a request line too long, 431 for headers, 505 for HTTP/2 and up, 501 for an unknown
 * method or transfer coding, a plain 400 for framing that could smuggle a request). Pure functions of
 * the parser's error and what the connection knows, so each answer is unit-tested without a socket.
 */
import http from 'node:http';
import { pythonRepr } from './format.js';
import { isHttp09RequestLine } from './head.js';
import { proxyHeaderProblem } from './health.js';

/** The error Node's `clientError` event carries: llhttp's code and reason, and the bytes it failed in. */
export interface ParserError extends Error {
  code?: string;
  reason?: string;
  rawPacket?: Buffer;
  bytesParsed?: number;
}

/** The answer a request gets without a handler's say: status, Python's message and explanation. */
export interface Problem {
  code: number;
  message?: string;
  explain?: string;
  requestline?: string;
  command?: string;
}

/** What a connection knows of where the parser stood when it failed. */
export interface ParserState {
  /** Requests of the connection that are parsed and not answered yet. */
  readonly pending: number;
  /** No request of the connection has been answered yet. */
  readonly fresh: boolean;
  /** The connection's first chunk had no line break: its request line is longer than that chunk. */
  readonly firstLineOpen: boolean;
}

/** llhttp's codes for framing that could smuggle a second request past a proxy: a plain 400. */
export const smugglingCodes: ReadonlySet<string> = new Set([
  'HPE_UNEXPECTED_CONTENT_LENGTH',
  'HPE_INVALID_TRANSFER_ENCODING',
  'HPE_INVALID_CONTENT_LENGTH',
  'HPE_INVALID_HEADER_TOKEN',
  'HPE_INVALID_CHUNK_SIZE',
  'HPE_CR_EXPECTED',
  'HPE_LF_EXPECTED',
  'HPE_INVALID_CONSTANT',
  'HPE_STRICT',
  'HPE_INVALID_EOF_STATE',
  'HPE_INVALID_STATUS',
  'HPE_CLOSED_CONNECTION',
]);

/**
 * Turns a parser error into Python's answer for the same bytes. `state` is what the connection knows
 * of where the bytes stand (see {@link ParserState}).
 */
export function diagnoseParserError(error: ParserError, state: ParserState, maxLineLength: number): Problem {
  const raw = error.rawPacket ? error.rawPacket.toString('latin1') : '';
  const at = Math.min(Math.max(error.bytesParsed ?? 0, 0), raw.length);
  const lineStart = raw.lastIndexOf('\n', at - 1) + 1;
  const lineEnd = raw.indexOf('\n', lineStart);
  const line = raw.slice(lineStart, lineEnd === -1 ? raw.length : lineEnd).replace(/\r$/, '');
  const proxyHeader = proxyHeaderProblem(raw, lineStart);
  if (proxyHeader) return proxyHeader;
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return diagnoseOverflow(raw, state);
    case 'HPE_INVALID_METHOD':
    case 'HPE_INVALID_URL':
    case 'HPE_INVALID_VERSION':
      return diagnoseRequestLine(line, maxLineLength) ?? { code: 400, requestline: line };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { code: 413, explain: error.reason ?? 'Chunk extensions too large' };
    default: {
      const startsRequest =
        (lineStart === 0 && state.pending === 0) ||
        raw.slice(Math.max(0, lineStart - 4), lineStart) === '\r\n\r\n';
      if (startsRequest && /^[A-Za-z]+ \S/.test(line)) {
        // The parser stopped inside a request line (e.g. a bad version token).
        const problem = diagnoseRequestLine(line, maxLineLength);
        if (problem) return problem;
      }
      if (error.code && smugglingCodes.has(error.code)) {
        return { code: 400, message: 'Bad Request', explain: error.reason ?? 'Malformed request' };
      }
      return { code: 400, message: 'Bad Request', explain: error.reason ?? error.message };
    }
  }
}

/**
 * llhttp counts the request line in `maxHeaderSize`; Python's answer differs (414 for the line, 431
 * for the headers), so look at where the overflow hit: the bytes before the first line break of
 * the failing chunk end the line being read.
 */
export function diagnoseOverflow(raw: string, state: ParserState): Problem {
  const newline = raw.indexOf('\n');
  const tooLarge: Problem = { code: 431 };
  if (newline === -1) {
    // One chunk inside one huge line: the request line when the connection's first bytes were
    // already in it, else a header.
    return state.fresh && state.firstLineOpen ? { code: 414 } : tooLarge;
  }
  const head = raw.slice(0, newline).replace(/\r$/, '');
  return /\sHTTP\/\d+\.\d+$/.test(head) && !head.includes(':') ? { code: 414 } : tooLarge;
}

/**
 * An HTTP/0.9 request line (`GET /` and a line break, no version) as the connection's first bytes:
 * the answer (400) it gets at once; undefined for anything else.
 */
export function http09Problem(first: Buffer, maxLineLength: number): Problem | undefined {
  const newline = first.indexOf(0x0a);
  if (newline === -1 || !isHttp09RequestLine(first.subarray(0, newline))) return undefined;
  const line = first.subarray(0, newline).toString('latin1').replace(/\r$/, '');
  return diagnoseRequestLine(line, maxLineLength) ?? { code: 400, requestline: line };
}

/**
 * llhttp only passes a request whose last transfer coding is `chunked`, and decodes only that one:
 * any coding before it (`gzip, chunked`) is one srv does not implement (RFC 9112 §6.1: 501), and
 * `chunked` twice is bad framing (400).
 */
export function checkTransferCodings(value: string): Problem | undefined {
  const codings = value
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding.length > 0);
  if (codings.length < 2) return undefined;
  const first = codings[0]!;
  if (first === 'chunked') {
    return { code: 400, message: 'Bad Request', explain: 'chunked applied more than once' };
  }
  return {
    code: 501,
    message: `Unsupported transfer coding (${pythonRepr(first.split(';')[0]!.trim())})`,
    explain: 'Only the chunked transfer coding is implemented',
  };
}

/** Python's `parse_request` checks of a request line llhttp refused; undefined when none applies. */
export function diagnoseRequestLine(line: string, maxLineLength: number): Problem | undefined {
  if (line.length + 2 > maxLineLength) return { code: 414, requestline: line };
  const words = line.split(/[ \t]+/).filter((word) => word.length > 0);
  const requestline = line;
  if (words.length === 0)
    return { code: 400, message: `Bad request syntax (${pythonRepr(line)})`, requestline };
  if (words.length >= 3) {
    const version = words[words.length - 1]!;
    const match = /^HTTP\/(\d+)\.(\d+)$/.exec(version);
    if (!match) return { code: 400, message: `Bad request version (${pythonRepr(version)})`, requestline };
    const major = Number(match[1]);
    if (major >= 2)
      return { code: 505, message: `Invalid HTTP version (${match[1]}.${match[2]})`, requestline };
    if (major !== 1 || Number(match[2]) > 1) {
      // Python accepts any HTTP/1.x; llhttp only 1.0 and 1.1. Name the version either way.
      return { code: 400, message: `Bad request version (${pythonRepr(version)})`, requestline };
    }
  }
  if (words.length < 2 || words.length > 3) {
    return { code: 400, message: `Bad request syntax (${pythonRepr(line)})`, requestline };
  }
  const command = words[0]!;
  // A method llhttp knows was refused for something else (e.g. raw non-ASCII bytes in the target): 400.
  if (
    /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(command) &&
    words.length === 3 &&
    !http.METHODS.includes(command)
  ) {
    // A well-formed line with a method llhttp does not know: Python has no do_<METHOD> for it either.
    return { code: 501, message: `Unsupported method (${pythonRepr(command)})`, requestline, command };
  }
  return { code: 400, message: `Bad request syntax (${pythonRepr(line)})`, requestline };
}

/** What of a parsed request Python's limits look at. */
export interface ParsedHead {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly rawHeaders: readonly string[];
}

/** Python's request-line and header limits, checked on what llhttp parsed. */
export function checkRequestLimits(
  req: ParsedHead,
  maxLineLength: number,
  maxHeaderLines: number,
): Problem | undefined {
  // `METHOD SP target SP HTTP/x.y CRLF`, as Python measures the raw line.
  const lineLength = (req.method?.length ?? 0) + (req.url?.length ?? 0) + 12;
  if (lineLength > maxLineLength) return { code: 414 };
  if (req.httpVersionMajor >= 2) {
    return { code: 505, message: `Invalid HTTP version (${req.httpVersionMajor}.${req.httpVersionMinor})` };
  }
  const raw = req.rawHeaders;
  if (raw.length / 2 > maxHeaderLines) {
    return { code: 431, message: 'Too many headers', explain: `got more than ${maxHeaderLines} headers` };
  }
  let hosts = 0;
  let codings: string | undefined;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index]!;
    if (name.length + raw[index + 1]!.length + 4 > maxLineLength) {
      return {
        code: 431,
        message: 'Line too long',
        explain: `got more than ${maxLineLength} bytes when reading header line`,
      };
    }
    // Clients spell it `Host`: that comparison costs no lower-cased copy.
    if (name.length === 4 && (name === 'Host' || name.toLowerCase() === 'host')) hosts += 1;
    else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      codings = codings === undefined ? raw[index + 1]! : `${codings},${raw[index + 1]!}`;
    }
  }
  // RFC 9112 §3.2: more than one Host is a 400 (two hosts are how cache poisoning starts).
  if (hosts > 1) return { code: 400, message: 'Bad Request', explain: 'More than one Host header' };
  if (codings !== undefined) return checkTransferCodings(codings);
  return undefined;
}
