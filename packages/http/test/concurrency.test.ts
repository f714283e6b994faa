import { readAll, readUntil, startServer } from '@srv/core/testing';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type * as Api from '../src/index.js';
import { BaseHTTPRequestHandler, HTTPServer } from '../src/index.js';
import { exchange, recordingLogger } from './helpers.js';

// Worker threads and child processes load the server and handler from built JavaScript, so this file
// uses the build (turbo builds before testing). A computed specifier keeps `tsc` from requiring dist/.
const built = new URL('../dist/index.js', import.meta.url).href;
const { ForkingHTTPServer, ThreadingHTTPServer } = (await import(built)) as typeof Api;
const handlerModule = new URL('./fixtures/handlers.mjs', import.meta.url).href;
const { WhereHandler } = (await import(handlerModule)) as { WhereHandler: Api.HTTPHandlerClass };

interface Where {
  thread: number;
  pid: number;
  started: number;
  ended: number;
  path: string;
}

async function getJson(url: string): Promise<{ where: Where; connection: string | null }> {
  const response = await fetch(url);
  return { where: (await response.json()) as Where, connection: response.headers.get('connection') };
}

describe('the tutorial shape: serial HTTP/1.0', () => {
  it('serves one request at a time and frees the connection when each response is done', async () => {
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    class Serial extends BaseHTTPRequestHandler {
      static override protocolVersion = 'HTTP/1.0' as const;
      async doGET(): Promise<void> {
        events.push(`start ${this.path}`);
        if (this.path === '/first') await gate;
        events.push(`end ${this.path}`);
        this.sendResponse(200);
        this.sendHeader('Content-Type', 'text/plain');
        this.endHeaders();
        await this.wfile.write(`body ${this.path}`);
      }
    }
    const logger = recordingLogger();
    const t = await startServer(new HTTPServer(['127.0.0.1', 0], Serial, { dispatcher: 'serial', logger }));
    onTestFinished(() => t.close());
    const first = exchange(t, 'GET /first HTTP/1.1\r\nHost: a\r\n\r\n');
    await vi.waitFor(() => expect(events).toEqual(['start /first']));
    const second = exchange(t, 'GET /second HTTP/1.1\r\nHost: a\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events).toEqual(['start /first']);
    release();
    const [one, two] = await Promise.all([first, second]);
    expect(events).toEqual(['start /first', 'end /first', 'start /second', 'end /second']);
    // HTTP/1.0 semantics even for an HTTP/1.1 client: no chunked body, the connection closes.
    for (const [raw, path] of [
      [one, '/first'],
      [two, '/second'],
    ] as const) {
      expect(raw).toContain('Connection: close');
      expect(raw).not.toContain('Transfer-Encoding');
      expect(raw.endsWith(`\r\n\r\nbody ${path}`)).toBe(true);
    }
  });
});

describe('ThreadingHTTPServer', () => {
  it('serves slow requests in parallel worker threads', async () => {
    const server = new ThreadingHTTPServer(['127.0.0.1', 0], WhereHandler, {
      handlerModule,
      logger: recordingLogger(),
    });
    expect(server.dispatcher.name).toBe('threading');
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const replies = await Promise.all([1, 2, 3].map((index) => getJson(`${t.origin}/t${index}?ms=1000`)));
    const threads = new Set(replies.map((reply) => reply.where.thread));
    expect(threads.has(0)).toBe(false);
    expect(threads.size).toBe(3);
    // Each handler blocks its thread for 1 s: they overlap only if every one started before any ended.
    const starts = replies.map((reply) => reply.where.started);
    const ends = replies.map((reply) => reply.where.ended);
    expect(Math.max(...starts)).toBeLessThan(Math.min(...ends));
  });

  it('enforces headersTimeout over the worker relay (slowloris)', async () => {
    const server = new ThreadingHTTPServer(['127.0.0.1', 0], WhereHandler, {
      handlerModule,
      headersTimeout: 300,
      logger: recordingLogger(),
    });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const socket = await t.connect();
    socket.write('GET / HTTP/1.1\r\n');
    const timer = setInterval(() => socket.write('X-Slow: 1\r\n'), 50);
    onTestFinished(() => clearInterval(timer));
    const received = await readAll(socket);
    clearInterval(timer);
    expect(received.toString()).toMatch(/^HTTP\/1\.1 408 Request Timeout/);
  });

  it('closes idle keep-alive connections over the worker relay', async () => {
    const server = new ThreadingHTTPServer(['127.0.0.1', 0], WhereHandler, {
      handlerModule,
      keepAliveTimeout: 200,
      logger: recordingLogger(),
    });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const socket = await t.connect();
    socket.write('GET /k HTTP/1.1\r\nHost: a\r\n\r\n');
    const first = await readUntil(socket, (bytes) => bytes.toString().includes('"path":"/k"}'));
    expect(first.toString()).toContain('Connection: keep-alive');
    await readAll(socket);
    expect(socket.destroyed).toBe(true);
  });
});

describe('ThreadingHTTPServer shutdown', () => {
  it('closes an idle keep-alive connection held by a worker at once', async () => {
    const server = new ThreadingHTTPServer(['127.0.0.1', 0], WhereHandler, {
      handlerModule,
      keepAliveTimeout: 60_000,
      graceMs: 10_000,
      logger: recordingLogger(),
    });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const socket = await t.connect();
    socket.write('GET /idle HTTP/1.1\r\nHost: a\r\n\r\n');
    await readUntil(socket, (bytes) => bytes.toString().includes('"path":"/idle"}'));
    const closed = readAll(socket);
    const started = performance.now();
    await server.shutdown();
    await closed;
    expect(performance.now() - started).toBeLessThan(5000);
  });
});

describe('ForkingHTTPServer', () => {
  it('serves requests in child processes', async () => {
    const server = new ForkingHTTPServer(['127.0.0.1', 0], WhereHandler, {
      handlerModule,
      logger: recordingLogger(),
    });
    expect(server.dispatcher.name).toBe('forking');
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const replies = await Promise.all([1, 2].map((index) => getJson(`${t.origin}/f${index}?ms=200`)));
    for (const reply of replies) expect(reply.where.pid).not.toBe(process.pid);
  });
});
