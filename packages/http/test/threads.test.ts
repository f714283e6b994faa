// Threads that scale: the connection stays in the main thread with Node's parser; each request (head,
// then body as a stream) goes to a free worker thread and its response streams back.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';
import type * as Concurrency from '@srv/concurrency';
import { readAll, readUntil, startServer, type TestServer } from '@srv/core/testing';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type * as Api from '../src/index.js';
import { recordingLogger } from './helpers.js';

// Worker threads load the server and handler from built JavaScript (see concurrency.test.ts).
const built = new URL('../dist/index.js', import.meta.url).href;
const { ThreadingHTTPServer } = (await import(built)) as typeof Api;
const { threading } = (await import('@srv/concurrency')) as typeof Concurrency;
const handlerModule = new URL('./fixtures/handlers.mjs', import.meta.url).href;
const { ExchangeHandler } = (await import(handlerModule)) as { ExchangeHandler: Api.HTTPHandlerClass };

interface Info {
  thread: number;
  started: number;
  ended: number;
  path: string;
  command: string;
  version: string;
  host: string;
  test: string | null;
  client: string;
}

type Threaded = TestServer<Api.HTTPServer> & { pool: Concurrency.ThreadingDispatcher; log: string[] };

async function serveThreads(options: Concurrency.ThreadingOptions, extra: Api.HTTPServerOptions = {}) {
  const logger = recordingLogger();
  const pool = threading(options);
  const server = new ThreadingHTTPServer(['127.0.0.1', 0], ExchangeHandler, {
    handlerModule,
    handlerExport: 'ExchangeHandler',
    dispatcher: pool,
    logger,
    ...extra,
  });
  const t = await startServer(server);
  onTestFinished(() => t.close());
  return Object.assign(t, { pool, log: logger.lines }) as Threaded;
}

async function getInfo(t: Threaded, path: string): Promise<Info> {
  const response = await fetch(`${t.origin}${path}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Info;
}

/** Bodies of the complete JSON responses in `raw` (each with a Content-Length), in order. */
function jsonBodies(raw: string): Info[] {
  const bodies: Info[] = [];
  let rest = raw;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) return bodies;
    const length = Number(/Content-Length: (\d+)/i.exec(rest.slice(0, end))?.[1]);
    if (rest.length < end + 4 + length) return bodies;
    bodies.push(JSON.parse(rest.slice(end + 4, end + 4 + length)) as Info);
    rest = rest.slice(end + 4 + length);
  }
}

async function request(socket: net.Socket, path: string, count = 1): Promise<Info[]> {
  socket.write(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
  const raw = await readUntil(socket, (bytes) => jsonBodies(bytes.toString('latin1')).length >= count);
  return jsonBodies(raw.toString('latin1'));
}

describe('ThreadingHTTPServer: requests, not connections, go to threads', () => {
  it('a keep-alive connection holds no thread between requests', async () => {
    const t = await serveThreads({ minThreads: 1, maxThreads: 1 }, { keepAliveTimeout: 60_000 });
    // With one thread pinned to a connection, the second connection would wait for the first to close.
    const sockets = await Promise.all([t.connect(), t.connect(), t.connect()]);
    const first: Info[] = [];
    for (const socket of sockets) first.push(...(await request(socket, '/one')));
    // The thread reports done right after the response it streamed (a message behind the bytes).
    await vi.waitFor(() => expect(t.pool.busyCount).toBe(0));
    const again = await request(sockets[0]!, '/two');
    const threads = new Set([...first, ...again].map((info) => info.thread));
    expect(threads.size).toBe(1);
    expect(threads.has(0)).toBe(false);
    expect(t.pool.size).toBe(1);
    for (const socket of sockets) expect(socket.destroyed).toBe(false);
  });

  it('answers pipelined requests in order, each in a free thread', async () => {
    const t = await serveThreads({ minThreads: 2, maxThreads: 2 });
    const socket = await t.connect();
    socket.write(
      'GET /p?n=1&ms=300 HTTP/1.1\r\nHost: a\r\n\r\nGET /p?n=2 HTTP/1.1\r\nHost: a\r\n\r\nGET /p?n=3 HTTP/1.1\r\nHost: a\r\n\r\n',
    );
    const raw = await readUntil(socket, (bytes) => jsonBodies(bytes.toString('latin1')).length >= 3);
    expect(jsonBodies(raw.toString('latin1')).map((info) => info.path)).toEqual([
      '/p?n=1&ms=300',
      '/p?n=2',
      '/p?n=3',
    ]);
  });

  it('gives a thread that is blocked no new request while another is free', async () => {
    const t = await serveThreads({ minThreads: 2, maxThreads: 2, idleTimeout: 0 });
    const slow = getInfo(t, '/slow?ms=1500');
    await vi.waitFor(() => expect(t.pool.busyCount).toBe(1));
    const quick: Info[] = [];
    for (let index = 0; index < 4; index += 1) quick.push(await getInfo(t, `/quick${index}`));
    const blocked = await slow;
    for (const info of quick) {
      expect(info.thread).not.toBe(blocked.thread);
      expect(info.ended).toBeLessThan(blocked.ended);
    }
  });

  it('grows to maxThreads while all are busy and shrinks to minThreads after idleTimeout', async () => {
    // Each request blocks its thread long enough for two more threads to start on a loaded machine.
    const t = await serveThreads({ minThreads: 1, maxThreads: 3, idleTimeout: 300 });
    let largest = t.pool.size;
    t.pool.on('spawn', () => {
      largest = Math.max(largest, t.pool.size);
    });
    const replies = await Promise.all([1, 2, 3].map((index) => getInfo(t, `/b${index}?ms=2500`)));
    expect(new Set(replies.map((info) => info.thread)).size).toBe(3);
    expect(Math.max(...replies.map((info) => info.started))).toBeLessThan(
      Math.min(...replies.map((info) => info.ended)),
    );
    expect(largest).toBe(3);
    while (t.pool.size > 1) await once(t.pool, 'exit');
    expect(t.pool.size).toBe(1);
  });

  it('a handler that throws fails only its own request (500), and the thread serves on', async () => {
    const t = await serveThreads({ minThreads: 2, maxThreads: 2 });
    const [crashed, fine] = await Promise.all([fetch(`${t.origin}/crash`), getInfo(t, '/fine')]);
    expect(crashed.status).toBe(500);
    expect(crashed.headers.get('connection')).toBe('close');
    await crashed.text();
    expect(fine.path).toBe('/fine');
    expect((await getInfo(t, '/after')).path).toBe('/after');
    expect(t.pool.size).toBe(2);
    expect(
      t.log.some((line) => line.includes('handler crashed on purpose') || line.includes('Exception')),
    ).toBe(true);
  });

  it('gives the handler the request as the client sent it: line, headers, address, chunked body', async () => {
    const t = await serveThreads({ minThreads: 1, maxThreads: 1 });
    const socket = await t.connect();
    socket.write('GET /info?q=1 HTTP/1.1\r\nHost: example.test\r\nX-Test: yes\r\n\r\n');
    const [info] = jsonBodies(
      (await readUntil(socket, (bytes) => jsonBodies(bytes.toString('latin1')).length >= 1)).toString(
        'latin1',
      ),
    );
    expect(info).toMatchObject({
      path: '/info?q=1',
      command: 'GET',
      version: 'HTTP/1.1',
      host: 'example.test',
      test: 'yes',
      client: '127.0.0.1',
    });
    // A chunked body reaches the worker's parser framed again; the handler reads the bytes sent.
    const second = await t.connect();
    second.write('POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    second.write('6\r\n world\r\n0\r\n\r\n');
    const raw = await readUntil(second, (bytes) => jsonBodies(bytes.toString('latin1')).length >= 1);
    expect(jsonBodies(raw.toString('latin1'))[0]).toMatchObject({ bytes: 11 });
    // Expect: 100-continue: the worker's handler answers the interim response, then reads the body.
    const third = await t.connect();
    third.write('POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n');
    const interim = await readUntil(third, (bytes) => bytes.toString('latin1').includes('\r\n\r\n'));
    expect(interim.toString('latin1')).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    third.write('abc');
    const answer = await readUntil(third, (bytes) => bytes.toString('latin1').includes('"bytes":3'));
    expect(answer.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });
});

describe('ThreadingHTTPServer: the worker parses nothing', () => {
  it("hands the handler a request built from the primary's parse: no node:http connection in the worker", async () => {
    const t = await serveThreads({ minThreads: 1, maxThreads: 1 });
    const socket = await t.connect();
    socket.write('GET /parsed HTTP/1.1\r\nHost: a\r\n\r\nGET /parsed HTTP/1.1\r\nHost: a\r\n\r\n');
    const raw = await readUntil(socket, (bytes) => jsonBodies(bytes.toString('latin1')).length >= 2);
    const answers = jsonBodies(raw.toString('latin1')) as unknown as Array<{
      connectionEvents: number;
      parser: boolean;
    }>;
    // The worker's server was never handed a connection, and the request's stream has no parser.
    expect(answers).toEqual([
      expect.objectContaining({ connectionEvents: 0, parser: false }),
      expect.objectContaining({ connectionEvents: 0, parser: false }),
    ]);
  });

  it("passes a chunked body's trailers and an HTTP/1.0 request's close as the primary parsed them", async () => {
    const t = await serveThreads({ minThreads: 1, maxThreads: 1 });
    const socket = await t.connect();
    socket.write('POST /trailers HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n');
    socket.write('3\r\nabc\r\n0\r\nX-Sum: 6\r\nX-Other: b\r\n\r\n');
    const raw = await readUntil(socket, (bytes) => jsonBodies(bytes.toString('latin1')).length >= 1);
    expect(jsonBodies(raw.toString('latin1'))[0]).toMatchObject({
      bytes: 3,
      trailers: ['X-Sum', '6', 'X-Other', 'b'],
    });
    const old = await t.connect();
    old.write('GET /info HTTP/1.0\r\nHost: a\r\n\r\n');
    const answer = (await readAll(old)).toString('latin1');
    // The server closed the connection after the answer (readAll returned): HTTP/1.0 without keep-alive.
    expect(answer).toMatch(/^HTTP\/1\.[01] 200 OK\r\n/);
    expect(jsonBodies(answer)[0]).toMatchObject({ version: 'HTTP/1.0', path: '/info' });
  });
});

describe('ThreadingHTTPServer: shutdown', () => {
  it('answers a request still queued on its connection, with Connection: close', async () => {
    const t = await serveThreads({ minThreads: 2, maxThreads: 2 }, { graceMs: 10_000 });
    const socket = await t.connect();
    socket.write('GET /a?ms=600 HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n');
    await vi.waitFor(() => expect(t.pool.busyCount).toBe(1));
    const stopped = t.server.shutdown();
    const raw = (await readAll(socket)).toString('latin1');
    await stopped;
    expect(jsonBodies(raw).map((info) => info.path)).toEqual(['/a?ms=600', '/b']);
    const heads = raw.match(/HTTP\/1\.1 \d{3}[\s\S]*?\r\n\r\n/g) ?? [];
    expect(heads).toHaveLength(2);
    expect(heads[1]).toContain('Connection: close');
  });
});

describe('ThreadingHTTPServer: backpressure both ways', () => {
  const gib = 1024 * 1024 * 1024;
  const window = 256 * 1024;

  it('streams a 1 GiB download; a client that stops reading stops the handler within the window', async () => {
    const t = await serveThreads({ minThreads: 1, maxThreads: 1, relayWindow: window });
    const socket = await t.connect();
    socket.write('GET /big?mib=1024 HTTP/1.1\r\nHost: a\r\n\r\n');
    let received = 0;
    let grewWhilePaused = -1;
    const done = new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        const before = received;
        received += chunk.length;
        if (before < 64 * 1024 * 1024 && received >= 64 * 1024 * 1024) {
          // Stop reading for a while: the handler must stop too, holding at most a window or so.
          socket.pause();
          const rss = process.memoryUsage.rss();
          setTimeout(() => {
            grewWhilePaused = process.memoryUsage.rss() - rss;
            socket.resume();
          }, 1000);
        }
        if (received >= gib) resolve();
      });
    });
    await done;
    // The head (a few hundred bytes) and exactly 1 GiB of body.
    expect(received - gib).toBeGreaterThan(0);
    expect(received - gib).toBeLessThan(512);
    // Unbounded buffering would have taken most of the GiB into memory during the pause.
    expect(grewWhilePaused).toBeLessThan(64 * 1024 * 1024);
  }, 120_000);

  it('streams a 1 GiB upload; a handler that does not read yet holds the client back', async () => {
    const t = await serveThreads({ minThreads: 1, maxThreads: 1, relayWindow: window });
    const socket = await t.connect();
    // The handler blocks its thread for 1.5 s before it reads a byte.
    socket.write(`POST /up?ms=1500 HTTP/1.1\r\nHost: a\r\nContent-Length: ${gib}\r\n\r\n`);
    const chunk = Buffer.alloc(1024 * 1024, 0x62);
    let taken = -1;
    const sample = setTimeout(() => {
      taken = socket.bytesWritten - socket.writableLength;
    }, 1000);
    onTestFinished(() => clearTimeout(sample));
    let sent = 0;
    while (sent < gib) {
      sent += chunk.length;
      if (!socket.write(chunk)) await once(socket, 'drain');
    }
    const raw = await readUntil(socket, (bytes) => jsonBodies(bytes.toString('latin1')).length >= 1);
    expect(jsonBodies(raw.toString('latin1'))[0]).toMatchObject({ bytes: gib });
    // While the handler did not read, the client got no further than socket buffers and one window.
    expect(taken).toBeGreaterThan(0);
    expect(taken).toBeLessThan(32 * 1024 * 1024);
  }, 120_000);
});

describe('a handler module that imports itself', () => {
  it('fails at once with SRV_ERR_HANDLER_IMPORTS_ITSELF instead of hanging every request', async () => {
    const script = fileURLToPath(new URL('./fixtures/self-import.mjs', import.meta.url));
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => {
      child.kill('SIGKILL');
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const started = performance.now();
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).not.toBe(0);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(stderr).toContain('SRV_ERR_HANDLER_IMPORTS_ITSELF');
    expect(stderr).toContain('handlerExport');
  }, 20_000);
});
