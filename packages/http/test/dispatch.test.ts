/**
 * The unit of dispatch is a request that exists (DESIGN.md, data flow step 3): probes that connect and
 * leave, connections that never finish their head, and clients that half-close cost the serial queue,
 * a thread or a child nothing. Raw sockets throughout: a polite client never shows these.
 */
import { once } from 'node:events';
import type net from 'node:net';
import * as concurrency from '@srv/concurrency';
import { type Dispatcher, SerialDispatcher } from '@srv/core';
import { startServer, type TestServer } from '@srv/core/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import type * as Api from '../src/index.js';
import { BaseHTTPRequestHandler } from '../src/index.js';
import { exchange, recordingLogger, serve } from './helpers.js';

// Worker threads and child processes load the server and handler from built JavaScript.
const built = new URL('../dist/index.js', import.meta.url).href;
const { HTTPServer: BuiltHTTPServer } = (await import(built)) as typeof Api;
const handlerModule = new URL('./fixtures/handlers.mjs', import.meta.url).href;
const { WhereHandler } = (await import(handlerModule)) as { WhereHandler: Api.HTTPHandlerClass };

type Kind = 'serial' | 'async' | 'threading' | 'forking';
const kinds: Kind[] = ['serial', 'async', 'threading', 'forking'];

function dispatcherFor(kind: Kind): 'serial' | 'async' | Dispatcher {
  if (kind === 'threading') return concurrency.threading({ minThreads: 1, maxThreads: 4 });
  if (kind === 'forking') return concurrency.forking({ minChildren: 1, maxChildren: 4 });
  return kind;
}

/** A server of each kind with the worker-loadable handler; closed when the test finishes. */
async function serveKind(kind: Kind): Promise<TestServer<Api.HTTPServer>> {
  const t = await startServer(
    new BuiltHTTPServer(['127.0.0.1', 0], WhereHandler, {
      dispatcher: dispatcherFor(kind),
      handlerModule,
      logger: recordingLogger(),
    }),
  );
  onTestFinished(() => t.close());
  return t;
}

/** A GET on its own connection: the status line and how long the answer took. */
async function timedGet(t: TestServer<Api.HTTPServer>): Promise<{ status: string; ms: number }> {
  const started = performance.now();
  const raw = await exchange(t, 'GET /ok HTTP/1.0\r\n\r\n');
  return { status: raw.slice(0, raw.indexOf('\r\n')), ms: performance.now() - started };
}

/** Opens `count` connections that each send `bytes` (maybe nothing) and then stay silent. */
async function openSilent(
  t: TestServer<Api.HTTPServer>,
  count: number,
  bytes: string,
): Promise<net.Socket[]> {
  const sockets = await Promise.all(Array.from({ length: count }, () => t.connect()));
  if (bytes) for (const socket of sockets) socket.write(bytes);
  return sockets;
}

/** The pool's size and busy workers (threading and forking). */
function poolOf(server: Api.HTTPServer): { size: number; busyCount: number } {
  const pool = server.dispatcher as unknown as { size: number; busyCount: number };
  return { size: pool.size, busyCount: pool.busyCount };
}

describe.each(kinds)('%s HTTPServer', (kind) => {
  it('answers at once after connect-and-leave probes', async () => {
    const t = await serveKind(kind);
    const probes = await openSilent(t, 20, '');
    await Promise.all(
      probes.map((socket) => {
        const closed = once(socket, 'close');
        socket.destroy();
        return closed;
      }),
    );
    const { status, ms } = await timedGet(t);
    expect(status).toBe('HTTP/1.1 200 OK');
    expect(ms).toBeLessThan(1000);
  });

  it('answers a request whose client half-closed after sending it', async () => {
    const t = await serveKind(kind);
    const raw = await exchange(t, 'GET /half HTTP/1.0\r\n\r\n', { end: true });
    expect(raw.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(raw).toContain('"path":"/half"');
  });

  it.each([70, 200])(
    'answers a normal request with %i connections that never finish their head',
    async (count) => {
      const t = await serveKind(kind);
      const silent = await openSilent(t, count, 'GET / HTTP/1.1\r\n');
      // The server has read them all (so they are not merely waiting in the kernel's backlog).
      await expect.poll(() => t.server.connectionCount, { interval: 5 }).toBeGreaterThanOrEqual(count);
      const { status, ms } = await timedGet(t);
      expect(status).toBe('HTTP/1.1 200 OK');
      expect(ms).toBeLessThan(1000);
      if (kind === 'threading' || kind === 'forking') {
        // None of them holds a worker: the pool is still the one it started with, and goes idle once the
        // normal request's worker has reported it done.
        await expect.poll(() => poolOf(t.server), { interval: 5 }).toEqual({ size: 1, busyCount: 0 });
      }
      expect(silent.every((socket) => !socket.destroyed)).toBe(true);
    },
  );
});

describe.each(['threading', 'forking'] as const)('%s: a head that arrives in pieces', (kind) => {
  it('hands the connection over only once the head is complete, with every byte read so far', async () => {
    const t = await serveKind(kind);
    const socket = await t.connect();
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.write('GET /pie');
    socket.write('ces HTTP/1.1\r\nHost: a\r');
    await expect.poll(() => t.server.connectionCount, { interval: 5 }).toBe(1);
    expect(poolOf(t.server).busyCount).toBe(0);
    // The blank line straddles two writes, and the body follows in the same write as its end.
    socket.write('\nContent-Length: 5\r\n\r');
    socket.write('\nhello');
    await expect.poll(() => Buffer.concat(chunks).toString('latin1'), { interval: 5 }).toContain('/pieces');
    const raw = Buffer.concat(chunks).toString('latin1');
    expect(raw.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    socket.destroy();
  });
});

describe('serial dispatch is per request', () => {
  /** `/slow` waits for `release()`; every request is recorded in order. */
  function gatedHandler(): { Handler: Api.HTTPHandlerClass; events: string[]; release(): void } {
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    class Gated extends BaseHTTPRequestHandler {
      static override protocolVersion = 'HTTP/1.0' as const;
      async doGET(): Promise<void> {
        events.push(`start ${this.path}`);
        if (this.path === '/slow') await gate;
        events.push(`end ${this.path}`);
        this.sendResponse(200);
        this.sendHeader('Content-Length', this.path.length);
        this.endHeaders();
        await this.wfile.write(this.path);
      }
    }
    return { Handler: Gated, events, release: () => release() };
  }

  it('answers a request that was half-closed while it waited its turn', async () => {
    const { Handler, events, release } = gatedHandler();
    const t = await serve(Handler, { dispatcher: 'serial' });
    const slow = exchange(t, 'GET /slow HTTP/1.0\r\n\r\n');
    await expect.poll(() => events).toEqual(['start /slow']);
    const waiting = exchange(t, 'GET /queued HTTP/1.0\r\n\r\n', { end: true });
    await expect.poll(() => (t.server.dispatcher as unknown as { size: number }).size).toBe(2);
    release();
    const [first, second] = await Promise.all([slow, waiting]);
    expect(first.endsWith('\r\n\r\n/slow')).toBe(true);
    expect(second.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(second.endsWith('\r\n\r\n/queued')).toBe(true);
    expect(events).toEqual(['start /slow', 'end /slow', 'start /queued', 'end /queued']);
  });

  it('drops a waiting request whose client reset the connection, without running its handler', async () => {
    const { Handler, events, release } = gatedHandler();
    const t = await serve(Handler, { dispatcher: 'serial' });
    const slow = exchange(t, 'GET /slow HTTP/1.0\r\n\r\n');
    await expect.poll(() => events).toEqual(['start /slow']);
    const gone = await t.connect();
    gone.write('GET /gone HTTP/1.0\r\n\r\n');
    const dispatcher = t.server.dispatcher as unknown as { size: number };
    await expect.poll(() => dispatcher.size).toBe(2);
    // A FIN alone cannot be told from a half-close (which still gets its answer); a reset can.
    gone.resetAndDestroy();
    await expect.poll(() => dispatcher.size).toBe(1);
    const after = exchange(t, 'GET /after HTTP/1.0\r\n\r\n');
    release();
    await Promise.all([slow, after]);
    expect(events).toEqual(['start /slow', 'end /slow', 'start /after', 'end /after']);
  });

  it('answers 503 beyond its queue limit and keeps serving', async () => {
    const { Handler, release } = gatedHandler();
    const t = await serve(Handler, { dispatcher: new SerialDispatcher({ limit: 1 }) });
    const slow = exchange(t, 'GET /slow HTTP/1.0\r\n\r\n');
    const dispatcher = t.server.dispatcher as unknown as { size: number };
    await expect.poll(() => dispatcher.size).toBe(1);
    const queued = exchange(t, 'GET /queued HTTP/1.0\r\n\r\n');
    await expect.poll(() => dispatcher.size).toBe(2);
    const refused = await exchange(t, 'GET /refused HTTP/1.0\r\n\r\n');
    expect(refused.startsWith('HTTP/1.1 503 Service Unavailable\r\n')).toBe(true);
    expect(refused).toContain('Connection: close');
    expect(t.log.some((line) => line.includes('requests waiting'))).toBe(true);
    release();
    const [first, second] = await Promise.all([slow, queued]);
    expect(first.endsWith('/slow')).toBe(true);
    expect(second.endsWith('/queued')).toBe(true);
  });
});
