import { once } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BaseHTTPRequestHandler } from '../src/index.js';
import { HelloHandler } from './fixtures.js';
import { exchange, serve, splitResponse } from './helpers.js';

/** Every status line in a raw response stream (how many responses a client got). */
function statusLines(raw: string): string[] {
  return raw.match(/HTTP\/1\.[01] \d{3}[^\r\n]*/g) ?? [];
}

/** Records each request it handles; POST reads the whole body through `rfile` before answering. */
function countingHandler() {
  const handled: string[] = [];
  const bodyErrors: unknown[] = [];
  let reading: (() => void) | undefined;
  const readingStarted = new Promise<void>((resolve) => {
    reading = resolve;
  });
  class Counting extends HelloHandler {
    override doGET(): void {
      handled.push(`${this.command} ${this.path}`);
      super.doGET();
    }

    override async doPOST(): Promise<void> {
      handled.push(`${this.command} ${this.path}`);
      reading?.();
      try {
        await this.rfile.read();
      } catch (error) {
        bodyErrors.push(error);
        throw error;
      }
      this.sendResponse(200);
      this.sendHeader('Content-Length', '2');
      this.endHeaders();
      await this.wfile.write('ok');
    }
  }
  return { Counting, handled, bodyErrors, readingStarted };
}

describe('bad framing in the bytes that came with the head (RFC 9112 §6.3)', () => {
  it.each([
    [
      'an unknown final coding (xchunked) on a GET',
      'GET /a.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n',
    ],
    ['a chunk size zz', 'POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    [
      'a chunk without its CRLF',
      'POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX',
    ],
    [
      'an overflowing chunk size',
      'POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n',
    ],
  ])('%s: exactly one 400, the handler never runs, the connection closes', async (_name, request) => {
    const { Counting, handled } = countingHandler();
    const t = await serve(Counting);
    const raw = await exchange(t, request);
    expect(statusLines(raw)).toEqual(['HTTP/1.1 400 Bad Request']);
    expect(splitResponse(raw).headers).toContain('Connection: close');
    expect(handled).toEqual([]);
  });

  it('answers a coding other than chunked before the final chunked with 501', async () => {
    const { Counting, handled } = countingHandler();
    const t = await serve(Counting);
    const raw = await exchange(
      t,
      'POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
    );
    expect(statusLines(raw)).toEqual(["HTTP/1.1 501 Unsupported transfer coding ('gzip')"]);
    expect(handled).toEqual([]);
  });

  it('answers chunked applied twice with 400', async () => {
    const t = await serve(HelloHandler);
    const raw = await exchange(
      t,
      'POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n',
    );
    expect(statusLines(raw)).toEqual(['HTTP/1.1 400 Bad Request']);
  });

  it('still answers a good request and then the garbage pipelined after it (200, then 400)', async () => {
    const t = await serve(HelloHandler);
    const raw = await exchange(t, 'GET / HTTP/1.1\r\nHost: a\r\n\r\nGARBAGE\r\n\r\n');
    expect(statusLines(raw)).toEqual(['HTTP/1.1 200 OK', "HTTP/1.1 400 Bad request syntax ('GARBAGE')"]);
  });
});

describe('bad body bytes that arrive after the request was dispatched', () => {
  it('closes the connection with no response, and the handler’s rfile errors', async () => {
    const { Counting, handled, bodyErrors, readingStarted } = countingHandler();
    const t = await serve(Counting);
    const socket = await t.connect();
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const closed = once(socket, 'close');
    socket.write('POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n');
    await readingStarted;
    socket.write('zz\r\n');
    await closed;
    expect(Buffer.concat(chunks).toString('latin1')).toBe('');
    expect(handled).toEqual(['POST /up']);
    expect(bodyErrors).toHaveLength(1);
    expect((bodyErrors[0] as { code?: string }).code).toBe('SRV_ERR_BAD_REQUEST_BODY');
    // One line, no stack, no "Exception occurred".
    const lines = t.log.filter((line) => /bad request body|aborted|Exception/.test(line));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^127\.0\.0\.1 - - \[.+\] "POST \/up HTTP\/1\.1" aborted: bad request body \(.+\)$/,
    );
    expect(lines[0]).not.toContain('\n');
  });
});

describe('protocol details', () => {
  it('serves an absolute-form target: path and query only, its host wins over Host', async () => {
    const seen: Array<{ path: string; host: string | undefined; requestline: string }> = [];
    class Recording extends BaseHTTPRequestHandler {
      doGET(): void {
        seen.push({ path: this.path, host: this.headers.get('host'), requestline: this.requestline });
        this.sendResponse(204);
        this.endHeaders();
      }
    }
    const t = await serve(Recording);
    const raw = await exchange(
      t,
      'GET http://h.example:8080/a.txt?x=1 HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n',
    );
    expect(statusLines(raw)).toEqual(['HTTP/1.1 204 No Content']);
    expect(seen).toEqual([
      {
        path: '/a.txt?x=1',
        host: 'h.example:8080',
        requestline: 'GET http://h.example:8080/a.txt?x=1 HTTP/1.1',
      },
    ]);
  });

  it('keeps an absolute-form path byte for byte (no URL normalisation) and gives an empty one /', async () => {
    const paths: string[] = [];
    class Recording extends BaseHTTPRequestHandler {
      doGET(): void {
        paths.push(this.path);
        this.sendResponse(204);
        this.endHeaders();
      }
    }
    const t = await serve(Recording);
    await exchange(t, 'GET http://h/%2e%2e/../x HTTP/1.1\r\nConnection: close\r\n\r\n');
    await exchange(t, 'GET https://h?q HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(paths).toEqual(['/%2e%2e/../x', '/?q']);
  });

  it('answers an absolute-form target that is not an http(s) URL with 400', async () => {
    const t = await serve(HelloHandler);
    for (const target of ['ftp://h/a', 'http://user@h/a']) {
      const raw = await exchange(t, `GET ${target} HTTP/1.1\r\nConnection: close\r\n\r\n`);
      expect(statusLines(raw)).toEqual(['HTTP/1.1 400 Bad Request']);
    }
  });

  it('answers two Host headers with 400', async () => {
    const { Counting, handled } = countingHandler();
    const t = await serve(Counting);
    const raw = await exchange(t, 'GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    expect(statusLines(raw)).toEqual(['HTTP/1.1 400 Bad Request']);
    expect(handled).toEqual([]);
  });

  it('answers an HTTP/0.9 request line at once, not after headersTimeout', async () => {
    const t = await serve(HelloHandler, { headersTimeout: 60_000 });
    const started = performance.now();
    const raw = await exchange(t, 'GET /\r\n');
    expect(statusLines(raw)).toEqual(["HTTP/1.1 400 Bad request syntax ('GET /')"]);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe('log floods', () => {
  it.each([
    ['closes', 'destroy'],
    ['resets', 'resetAndDestroy'],
  ] as const)('logs one line without a stack for an upload the client %s mid-body', async (_how, method) => {
    const { Counting, readingStarted } = countingHandler();
    const t = await serve(Counting);
    const socket = await t.connect();
    socket.write('POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\npartial');
    await readingStarted;
    socket[method]();
    await t.server.shutdown();
    const lines = t.log.filter((line) => /aborted|Exception/.test(line));
    expect(lines).toEqual([expect.stringMatching(/"POST \/up HTTP\/1\.1" aborted: client connection lost/)]);
    expect(lines[0]).not.toContain('\n');
  });

  it('--quiet (quiet: true) silences per-request error lines as well as access lines', async () => {
    class NotFound extends BaseHTTPRequestHandler {
      doGET(): void {
        this.sendError(404, 'File not found');
      }
    }
    const t = await serve(NotFound, { quiet: true });
    const raw = await exchange(t, 'GET /missing HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(statusLines(raw)).toEqual(['HTTP/1.1 404 File not found']);
    expect(t.log).toEqual([]);
  });
});

describe('clients that stop reading (sendTimeout)', () => {
  /** Streams `total` bytes in 64 KiB writes, waiting for drain as a well-behaved handler does. */
  class Big extends BaseHTTPRequestHandler {
    static total = 32 * 1024 * 1024;
    async doGET(): Promise<void> {
      const total = (this.constructor as typeof Big).total;
      this.sendResponse(200);
      this.sendHeader('Content-Length', String(total));
      this.endHeaders();
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      for (let sent = 0; sent < total; sent += chunk.length) await this.wfile.write(chunk);
    }
  }

  it('closes a connection whose client reads nothing for sendTimeout, and logs it once', async () => {
    const lines: string[] = [];
    let logged: (() => void) | undefined;
    const cut = new Promise<void>((resolve) => {
      logged = resolve;
    });
    const record = (fields: object | string, message?: string) => {
      const line = typeof fields === 'string' ? fields : (message ?? '');
      if (/took no data|aborted|Exception/.test(line)) lines.push(line);
      if (line.includes('took no data')) logged?.();
    };
    const t = await serve(Big, { sendTimeout: 300, logger: { info: record, warn: record, error: record } });
    const socket = await t.connect();
    socket.pause();
    const started = performance.now();
    socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await cut;
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    // The client, reading again, gets what was in flight and then the end: far less than the body.
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.on('error', () => {});
    const closed = once(socket, 'close');
    socket.resume();
    await closed;
    expect(received).toBeLessThan(Big.total);
    await t.server.shutdown();
    expect(lines).toEqual([
      expect.stringMatching(/client took no data for 0 s \(\d+ bytes waiting\); connection closed$/),
    ]);
    await t.server.shutdown();
  });

  it('never cuts off a slow client that keeps reading', async () => {
    class Medium extends Big {
      static override total = 12 * 1024 * 1024;
    }
    const t = await serve(Medium, { sendTimeout: 1000 });
    const socket = await t.connect();
    socket.pause();
    let received = 0;
    const ended = new Promise<void>((resolve, reject) => {
      socket.once('close', () => resolve());
      socket.once('error', reject);
    });
    socket.write('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    // About 2.5 MB/s: far slower than the server writes, so its output waits on every read.
    const reader = setInterval(() => {
      const chunk = socket.read(256 * 1024) as Buffer | null;
      if (chunk !== null) received += chunk.length;
    }, 100);
    onTestFinished(() => clearInterval(reader));
    socket.on('end', () => {
      for (let chunk = socket.read(); chunk !== null; chunk = socket.read())
        received += (chunk as Buffer).length;
    });
    await ended;
    clearInterval(reader);
    expect(received).toBeGreaterThan(Medium.total);
    expect(t.log.filter((line) => /took no data/.test(line))).toEqual([]);
  }, 30_000);
});
