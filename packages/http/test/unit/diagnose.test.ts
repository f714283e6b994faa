import { describe, expect, it } from 'vitest';
import {
  checkRequestLimits,
  checkTransferCodings,
  diagnoseOverflow,
  diagnoseParserError,
  diagnoseRequestLine,
  http09Problem,
  type ParserError,
  type ParserState,
  smugglingCodes,
} from '../../src/diagnose.js';

const fresh: ParserState = { pending: 0, fresh: true, firstLineOpen: false };

/** An error shaped like the one llhttp hands to `clientError`. */
function parserError(code: string, raw: string, bytesParsed = raw.length, reason?: string): ParserError {
  return Object.assign(new Error(`Parse Error: ${reason ?? code}`), {
    code,
    rawPacket: Buffer.from(raw, 'latin1'),
    bytesParsed,
    ...(reason === undefined ? {} : { reason }),
  });
}

describe('diagnoseRequestLine (Python parse_request)', () => {
  it.each([
    ['GET / HTTP/2.0', 505, 'Invalid HTTP version (2.0)'],
    ['GET / HTTP/1.2', 400, "Bad request version ('HTTP/1.2')"],
    ['GET / FTP/1.0', 400, "Bad request version ('FTP/1.0')"],
    ['GET', 400, "Bad request syntax ('GET')"],
    ['GET / x HTTP/1.1', 400, "Bad request syntax ('GET / x HTTP/1.1')"],
    ['BREW /pot HTTP/1.1', 501, "Unsupported method ('BREW')"],
  ])('%s → %d %s', (line, code, message) => {
    const problem = diagnoseRequestLine(line, 65536);
    expect(problem).toMatchObject({ code, message, requestline: line });
  });

  it('names the method of a 501 and is 414 past the line limit', () => {
    expect(diagnoseRequestLine('BREW /pot HTTP/1.1', 65536)?.command).toBe('BREW');
    expect(diagnoseRequestLine(`GET /${'a'.repeat(100)} HTTP/1.1`, 64)).toEqual({
      code: 414,
      requestline: `GET /${'a'.repeat(100)} HTTP/1.1`,
    });
  });
});

describe('diagnoseParserError', () => {
  it('a bad version in the first request line → Python’s 505', () => {
    const raw = 'GET / HTTP/3.0\r\nHost: x\r\n\r\n';
    const problem = diagnoseParserError(parserError('HPE_INVALID_VERSION', raw, 11), fresh, 65536);
    expect(problem).toMatchObject({ code: 505, message: 'Invalid HTTP version (3.0)' });
  });

  it('smuggling framing → a plain 400 with llhttp’s reason as the explanation', () => {
    for (const code of ['HPE_UNEXPECTED_CONTENT_LENGTH', 'HPE_INVALID_TRANSFER_ENCODING']) {
      expect(smugglingCodes.has(code)).toBe(true);
      const raw = 'POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n';
      const problem = diagnoseParserError(parserError(code, raw, raw.length - 2, 'Conflict'), fresh, 65536);
      expect(problem).toEqual({ code: 400, message: 'Bad Request', explain: 'Conflict' });
    }
  });

  it('too many chunk extensions → 413', () => {
    const error = parserError('HPE_CHUNK_EXTENSIONS_OVERFLOW', '5;a=b\r\n', 3);
    expect(diagnoseParserError(error, { ...fresh, pending: 1 }, 65536).code).toBe(413);
  });

  it('header overflow: 414 for the request line, 431 for a header', () => {
    const line = 'GET /aaaa HTTP/1.1\r\nHost: x\r\n';
    expect(diagnoseParserError(parserError('HPE_HEADER_OVERFLOW', line), fresh, 65536)).toEqual({
      code: 414,
    });
    expect(diagnoseOverflow('X-Big: aaaa\r\nHost: x', fresh)).toEqual({ code: 431 });
    // One chunk inside one long line: the request line only while the connection's first line is open.
    expect(diagnoseOverflow('aaaaaaaa', { ...fresh, firstLineOpen: true })).toEqual({ code: 414 });
    expect(diagnoseOverflow('aaaaaaaa', { ...fresh, fresh: false, firstLineOpen: true })).toEqual({
      code: 431,
    });
  });
});

describe('checkTransferCodings and HTTP/0.9', () => {
  it('gzip before chunked → 501 naming it; chunked twice → 400; chunked alone → nothing', () => {
    expect(checkTransferCodings('gzip, chunked')).toMatchObject({
      code: 501,
      message: "Unsupported transfer coding ('gzip')",
    });
    expect(checkTransferCodings('chunked, chunked')?.code).toBe(400);
    expect(checkTransferCodings('chunked')).toBeUndefined();
  });

  it('a request line without a version is answered 400; a real one is left to the parser', () => {
    expect(http09Problem(Buffer.from('GET /\r\n'), 65536)).toMatchObject({ code: 400, requestline: 'GET /' });
    expect(http09Problem(Buffer.from('GET / HTTP/1.1\r\n'), 65536)).toBeUndefined();
  });
});

describe('checkRequestLimits (Python _MAXLINE, _MAXHEADERS, one Host)', () => {
  const head = (rawHeaders: string[], url = '/', major = 1) => ({
    method: 'GET',
    url,
    httpVersionMajor: major,
    httpVersionMinor: 1,
    rawHeaders,
  });

  it('passes a request within the limits', () => {
    expect(checkRequestLimits(head(['Host', 'a', 'Accept', '*/*']), 100, 10)).toBeUndefined();
  });

  it('measures the request line as Python does (method, target, version, CRLF)', () => {
    // 'GET ' + 84 + ' HTTP/1.1\r\n' = 99 bytes: within 99, over 98.
    const url = `/${'a'.repeat(83)}`;
    expect(checkRequestLimits(head([], url), 99, 10)).toBeUndefined();
    expect(checkRequestLimits(head([], url), 98, 10)).toEqual({ code: 414 });
  });

  it('answers HTTP/2 and up with 505', () => {
    expect(checkRequestLimits(head([], '/', 2), 100, 10)).toEqual({
      code: 505,
      message: 'Invalid HTTP version (2.1)',
    });
  });

  it('counts header lines and measures each one', () => {
    const three = ['A', '1', 'B', '2', 'C', '3'];
    expect(checkRequestLimits(head(three), 100, 3)).toBeUndefined();
    expect(checkRequestLimits(head(three), 100, 2)).toEqual({
      code: 431,
      message: 'Too many headers',
      explain: 'got more than 2 headers',
    });
    expect(checkRequestLimits(head(['X', 'y'.repeat(95)]), 100, 10)).toBeUndefined();
    expect(checkRequestLimits(head(['X', 'y'.repeat(96)]), 100, 10)).toEqual({
      code: 431,
      message: 'Line too long',
      explain: 'got more than 100 bytes when reading header line',
    });
  });

  it('refuses two Host lines and checks every Transfer-Encoding line together', () => {
    expect(checkRequestLimits(head(['Host', 'a', 'host', 'b']), 100, 10)).toEqual({
      code: 400,
      message: 'Bad Request',
      explain: 'More than one Host header',
    });
    expect(
      checkRequestLimits(head(['Transfer-Encoding', 'gzip', 'transfer-encoding', 'chunked']), 100, 10),
    ).toEqual(checkTransferCodings('gzip,chunked'));
    expect(checkRequestLimits(head(['Transfer-Encoding', 'chunked']), 100, 10)).toBeUndefined();
    // Joined, `chunked` is no longer the last coding: a smuggling shape.
    expect(
      checkRequestLimits(head(['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'gzip']), 100, 10),
    ).toMatchObject({ code: 400 });
  });
});
