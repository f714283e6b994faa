import { once } from 'node:events';
import { createTestCertificate, readUntil } from '@srv/core/testing';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { BaseHTTPRequestHandler, HTTPSServer } from '../src/index.js';
import { HelloHandler } from './fixtures.js';
import { exchange, recordingLogger, serve, splitResponse } from './helpers.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('access log', () => {
  it('escapes control characters in the line as \\xHH', async () => {
    class Logging extends BaseHTTPRequestHandler {
      doGET(): void {
        this.logMessage(
          'agent %s at %s said %r',
          this.headers.get('x-agent'),
          decodeURIComponent(this.path),
          'a\\b',
        );
        this.sendResponse(204);
        this.endHeaders();
      }
    }
    const t = await serve(Logging);
    const request = 'GET /%1B[31m%C2%85%0A HTTP/1.1\r\nX-Agent: caf\xe9\r\nConnection: close\r\n\r\n';
    await exchange(t, Buffer.from(request, 'latin1'));
    expect(t.log[0]).toMatch(/^127\.0\.0\.1 - - \[[^\]]+\] agent caf\xe9 at /);
    expect(t.log[0]!.endsWith(" at /\\x1b[31m\\x85\\x0a said 'a\\\\\\\\b'")).toBe(true);
    expect(t.log[1]).toMatch(/"GET \/%1B\[31m%C2%85%0A HTTP\/1\.1" 204 -$/);
  });

  it('gives a pino-style logger the access fields beside the line', async () => {
    const calls: Array<[object | string, string | undefined]> = [];
    const log = (fields: object | string, message?: string) => {
      calls.push([fields, message]);
    };
    const t = await serve(HelloHandler, { logger: { info: log, warn: log, error: log } });
    await (await fetch(`${t.origin}/f`)).text();
    expect(calls).toHaveLength(1);
    const [fields, message] = calls[0]!;
    expect(fields).toEqual({ client: '127.0.0.1', requestline: 'GET /f HTTP/1.1', status: 200, size: '-' });
    expect(message).toMatch(/\] "GET \/f HTTP\/1\.1" 200 -$/);
  });

  it('writes nothing per request when quiet', async () => {
    const t = await serve(HelloHandler, { quiet: true });
    await (await fetch(t.origin)).text();
    expect(t.log).toEqual([]);
  });
});

describe('handler errors', () => {
  it('answers a handler throwing before its headers with a 500 page and keeps serving', async () => {
    class Failing extends BaseHTTPRequestHandler {
      async doGET(): Promise<void> {
        this.sendResponse(200);
        this.sendHeader('X-Partial', 'yes');
        await Promise.resolve();
        throw new Error('boom');
      }
    }
    const t = await serve(Failing);
    const response = await fetch(t.origin);
    expect(response.status).toBe(500);
    expect(response.headers.get('x-partial')).toBeNull();
    expect(await response.text()).toContain('<p>Error code: 500</p>');
    expect(
      t.log.some((line) => line.startsWith('Exception occurred during processing of request from 127.0.0.1')),
    ).toBe(true);
    expect((await fetch(t.origin)).status).toBe(500);
  });

  it('closes the connection when a handler throws after its headers went out', async () => {
    class Failing extends BaseHTTPRequestHandler {
      async doGET(): Promise<void> {
        this.sendResponse(200);
        this.endHeaders();
        await this.wfile.write('partial');
        throw new Error('late boom');
      }
    }
    const t = await serve(Failing);
    const raw = await exchange(t, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(raw).toContain('partial');
    expect(raw).not.toContain('0\r\n\r\n');
    expect(t.log.some((line) => line.startsWith('Exception occurred'))).toBe(true);
  });
});

describe('timeouts enforced by srv', () => {
  it('closes a slowloris connection whose headers trickle past headersTimeout', async () => {
    const t = await serve(HelloHandler, { headersTimeout: 300 });
    const socket = await t.connect();
    const started = performance.now();
    socket.write('GET / HTTP/1.1\r\n');
    const timer = setInterval(() => socket.write('X-Slow: 1\r\n'), 50);
    onTestFinished(() => clearInterval(timer));
    const received = await readUntil(socket, () => false);
    const elapsed = performance.now() - started;
    clearInterval(timer);
    expect(socket.destroyed || socket.readableEnded).toBe(true);
    expect(received.toString()).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(5000);
  });

  it('closes an idle keep-alive connection after keepAliveTimeout', async () => {
    const t = await serve(HelloHandler, { keepAliveTimeout: 200 });
    const socket = await t.connect();
    socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    const answered = performance.now();
    const received = await readUntil(socket, () => false);
    const idle = performance.now() - answered;
    expect(received.toString()).toContain('Hello World /');
    expect(idle).toBeGreaterThanOrEqual(150);
    expect(idle).toBeLessThan(5000);
  });

  it('closes a connection whose body trickles past requestTimeout', async () => {
    const t = await serve(HelloHandler, { requestTimeout: 300, headersTimeout: 300 });
    const socket = await t.connect();
    const started = performance.now();
    socket.write('POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n');
    const timer = setInterval(() => socket.write('x'), 50);
    onTestFinished(() => clearInterval(timer));
    await readUntil(socket, () => false);
    clearInterval(timer);
    const elapsed = performance.now() - started;
    expect(socket.destroyed || socket.readableEnded).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(5000);
    expect(t.log.some((line) => line.includes('not complete after 300 ms'))).toBe(true);
  });

  it('keeps a keep-alive connection that stays busy', async () => {
    const t = await serve(HelloHandler, { keepAliveTimeout: 300 });
    const socket = await t.connect();
    for (let index = 0; index < 4; index += 1) {
      socket.write(`GET /${index} HTTP/1.1\r\nHost: a\r\n\r\n`);
      await readUntil(socket, (bytes) => bytes.toString().includes(`Hello World /${index}\n`));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(socket.destroyed).toBe(false);
  });
});

describe('shutdown', () => {
  it('answers in-flight requests with Connection: close and closes idle keep-alive connections at once', async () => {
    const gate = deferred();
    const started: string[] = [];
    class Slow extends BaseHTTPRequestHandler {
      async doGET(): Promise<void> {
        started.push(this.path);
        await gate.promise;
        this.sendResponse(200);
        this.sendHeader('Content-Length', '4');
        this.endHeaders();
        await this.wfile.write('done');
      }
    }
    const t = await serve(Slow, { keepAliveTimeout: 60_000 });
    const idle = await t.connect();
    idle.write('GET /idle-first HTTP/1.1\r\nHost: a\r\n\r\n');
    await vi.waitFor(() => expect(started).toEqual(['/idle-first']));
    gate.resolve();
    await readUntil(idle, (bytes) => bytes.toString().endsWith('done'));
    const idleClosed = once(idle, 'close');

    const second = deferred();
    started.length = 0;
    Object.assign(gate, second);
    const busy = await Promise.all([1, 2, 3].map(() => t.connect()));
    for (const [index, socket] of busy.entries())
      socket.write(`GET /busy${index} HTTP/1.1\r\nHost: a\r\n\r\n`);
    await vi.waitFor(() => expect(started).toHaveLength(3));
    const replies = busy.map((socket) => readUntil(socket, () => false));
    const shutdown = t.server.shutdown();
    await idleClosed;
    second.resolve();
    for (const reply of await Promise.all(replies)) {
      const { status, headers, body } = splitResponse(reply.toString());
      expect(status).toBe('HTTP/1.1 200 OK');
      expect(headers).toContain('Connection: close');
      expect(body).toBe('done');
    }
    await shutdown;
  });
});

describe('shutdown deadline', () => {
  it('destroys connections still busy after graceMs', async () => {
    let started = false;
    class Stuck extends BaseHTTPRequestHandler {
      async doGET(): Promise<void> {
        started = true;
        await new Promise(() => {});
      }
    }
    const t = await serve(Stuck, { graceMs: 200 });
    const socket = await t.connect();
    socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await vi.waitFor(() => expect(started).toBe(true));
    const shutdownAt = performance.now();
    const closed = readUntil(socket, () => false);
    await t.server.shutdown();
    await closed;
    expect(performance.now() - shutdownAt).toBeGreaterThanOrEqual(150);
    expect(t.log.some((line) => line.includes('still busy after 200 ms'))).toBe(true);
  });
});

describe('HTTPS', () => {
  it('serves over TLS with a throwaway certificate', async () => {
    const tls = await createTestCertificate();
    const logger = recordingLogger();
    const server = new HTTPSServer(['127.0.0.1', 0], HelloHandler, { tls, logger });
    onTestFinished(() => server.close());
    await server.ready;
    void server.serveForever();
    const { request } = await import('node:https');
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: server.address.port, path: '/tls', ca: tls.cert, servername: 'localhost' },
        (res) => {
          let data = '';
          res.on('data', (chunk: Buffer) => {
            data += chunk.toString();
          });
          res.on('end', () => resolve(data));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('Hello World /tls\n');
    expect(logger.lines[0]).toMatch(/"GET \/tls HTTP\/1\.1" 200 -$/);
  });

  it('requires tls options', () => {
    expect(() => new HTTPSServer(['127.0.0.1', 0], HelloHandler)).toThrow(
      expect.objectContaining({ code: 'SRV_ERR_INVALID_OPTION' }),
    );
  });
});
