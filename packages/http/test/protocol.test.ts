import { describe, expect, it } from 'vitest';
import { BaseHTTPRequestHandler } from '../src/index.js';
import { HelloHandler } from './fixtures.js';
import { exchange, serve, splitResponse } from './helpers.js';

const closeHeader = 'Connection: close';

describe('malformed and oversized requests', () => {
  it('answers a token llhttp rejects (FOO) with 501 and escapes the request line', async () => {
    const t = await serve(HelloHandler);
    const raw = await exchange(t, 'FOO /<script>alert(1)</script> HTTP/1.1\r\nHost: a\r\n\r\n');
    const { status, headers, body } = splitResponse(raw);
    expect(status).toBe("HTTP/1.1 501 Unsupported method ('FOO')");
    expect(headers).toContain(closeHeader);
    expect(body).toContain("<p>Message: Unsupported method ('FOO').</p>");
    expect(raw).not.toContain('<script>');
    expect(t.log.at(-1)).toMatch(/"FOO \/<script>alert\(1\)<\/script> HTTP\/1\.1" 501 -$/);
  });

  it('answers a known method with raw non-ASCII bytes in the target with 400, not 501', async () => {
    const t = await serve(HelloHandler);
    const raw = await exchange(t, Buffer.from('GET /\u00e9 HTTP/1.1\r\nHost: a\r\n\r\n', 'utf8'));
    expect(splitResponse(raw).status).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('escapes a request line with markup in a 400 page, never echoing it raw', async () => {
    const t = await serve(HelloHandler);
    const raw = await exchange(t, 'GET / <script>alert(1)</script>\r\n\r\n');
    const { status, body } = splitResponse(raw);
    expect(status).toBe("HTTP/1.1 400 Bad request version ('&lt;script&gt;alert(1)&lt;/script&gt;')");
    expect(raw).not.toContain('<script>');
    expect(body).toContain("<p>Message: Bad request version ('&lt;script&gt;alert(1)&lt;/script&gt;').</p>");
  });

  it('answers a malformed request line with 400 and a status line (not a bare body)', async () => {
    const t = await serve(HelloHandler);
    const raw = await exchange(t, 'garbage\r\n\r\n');
    const { status, headers, body } = splitResponse(raw);
    expect(status).toBe("HTTP/1.1 400 Bad request syntax ('garbage')");
    expect(headers).toContain('Content-Type: text/html;charset=utf-8');
    expect(body).toContain('<p>Error code: 400</p>');
  });

  it('answers HTTP/1.2 with 400 Bad request version', async () => {
    const t = await serve(HelloHandler);
    const raw = await exchange(t, 'GET / HTTP/1.2\r\n\r\n');
    expect(splitResponse(raw).status).toBe("HTTP/1.1 400 Bad request version ('HTTP/1.2')");
  });

  it.each([
    ['HTTP/2.0', '2.0'],
    ['HTTP/3.1', '3.1'],
  ])('answers %s with 505', async (version, number) => {
    const t = await serve(HelloHandler);
    const raw = await exchange(t, `GET / ${version}\r\n\r\n`);
    expect(splitResponse(raw).status).toBe(`HTTP/1.1 505 Invalid HTTP version (${number})`);
  });

  it('answers a request line over 65536 bytes with 414', async () => {
    const t = await serve(HelloHandler);
    const raw = await exchange(t, `GET /${'a'.repeat(70_000)} HTTP/1.1\r\n\r\n`);
    expect(splitResponse(raw).status).toBe('HTTP/1.1 414 URI Too Long');
  });

  it('answers a request line that overflows the parser with 414, not 431', async () => {
    const t = await serve(HelloHandler);
    const raw = await exchange(t, `GET /${'a'.repeat(400_000)} HTTP/1.1\r\n\r\n`);
    expect(splitResponse(raw).status).toBe('HTTP/1.1 414 URI Too Long');
  });

  it('answers a header section that overflows the parser with 431', async () => {
    const t = await serve(HelloHandler);
    const raw = await exchange(t, `GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(400_000)}\r\n\r\n`);
    expect(splitResponse(raw).status).toBe('HTTP/1.1 431 Request Header Fields Too Large');
  });

  it('answers more than 100 header lines with 431 Too many headers; 100 are fine', async () => {
    const t = await serve(HelloHandler);
    const lines = (count: number) => Array.from({ length: count }, (_, i) => `X-${i}: v\r\n`).join('');
    const over = await exchange(t, `GET / HTTP/1.1\r\n${lines(100)}Connection: close\r\n\r\n`);
    expect(splitResponse(over).status).toBe('HTTP/1.1 431 Too many headers');
    const fine = await exchange(t, `GET / HTTP/1.1\r\n${lines(99)}Connection: close\r\n\r\n`);
    expect(splitResponse(fine).status).toBe('HTTP/1.1 200 OK');
    const raw = await exchange(t, `GET / HTTP/1.1\r\n${lines(150)}\r\n`);
    const { status, body } = splitResponse(raw);
    expect(status).toBe('HTTP/1.1 431 Too many headers');
    expect(body).toContain('got more than 100 headers');
  });

  it('answers a header line over 65536 bytes with 431 Line too long', async () => {
    const t = await serve(HelloHandler);
    const raw = await exchange(t, `GET / HTTP/1.1\r\nX-Long: ${'b'.repeat(70_000)}\r\n\r\n`);
    expect(splitResponse(raw).status).toBe('HTTP/1.1 431 Line too long');
  });

  it.each([
    ['conflicting Content-Length', 'POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'],
    [
      'Content-Length with Transfer-Encoding',
      'POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    ['obs-fold', 'GET / HTTP/1.1\r\nX-A: b\r\n c\r\n\r\n'],
    ['an invalid header name', 'GET / HTTP/1.1\r\nBad Name: x\r\n\r\n'],
    ['a space before the colon', 'GET / HTTP/1.1\r\nContent-Length : 1\r\n\r\nx'],
  ])('answers %s with 400 and closes the connection', async (_shape, request) => {
    const t = await serve(HelloHandler);
    // A follow-up request on the same connection must never be served.
    const raw = await exchange(t, `${request}GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n`);
    const { status, headers } = splitResponse(raw);
    expect(status).toBe('HTTP/1.1 400 Bad Request');
    expect(headers).toContain(closeHeader);
    expect(raw).not.toContain('/smuggled');
    expect(raw.match(/HTTP\/1\.1 /g)).toHaveLength(1);
  });

  it('never yields a Location starting with // for a path like //evil.com/..', async () => {
    class Redirect extends BaseHTTPRequestHandler {
      doGET(): void {
        this.sendResponse(301);
        this.sendHeader('Location', `${this.path}/`);
        this.sendHeader('X-Path', this.path);
        this.sendHeader('Content-Length', '0');
        this.endHeaders();
      }
    }
    const t = await serve(Redirect);
    const raw = await exchange(t, 'GET //evil.com/.. HTTP/1.1\r\nConnection: close\r\n\r\n');
    const { headers } = splitResponse(raw);
    expect(headers).toContain('X-Path: /evil.com/..');
    expect(headers).toContain('Location: /evil.com/../');
    const direct = await exchange(
      t,
      'GET /x HTTP/1.1\r\nConnection: close\r\n\r\n'.replace('/x', '/\\\\evil.com'),
    );
    expect(splitResponse(direct).headers.find((line) => line.startsWith('Location:'))).not.toMatch(
      /^Location: [/\\]{2}/,
    );
  });

  it('answers Expect: 100-continue before reading the body', async () => {
    const t = await serve(HelloHandler);
    const socket = await t.connect();
    let received = '';
    const continued = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString();
        if (received.includes('100 Continue\r\n\r\n')) resolve();
      });
    });
    socket.write('POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
    await continued;
    expect(received).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.end('hello');
    await closed;
    expect(received).toMatch(/HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nhello$/);
  });
});
