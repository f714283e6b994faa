import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSrvError, TCPServer, UnixStreamServer } from '@srv/core';
import { createTestCertificate, readAll, sendDatagram, startServer } from '@srv/core/testing';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { ThreadingMixIn, ThreadingTCPServer, ThreadingUDPServer, threading } from '../src/index.js';
import {
  Blocking,
  Crashing,
  HttpBridge,
  Impatient,
  Throwing,
  UpperDatagram,
  WhoEcho,
} from './fixtures/handlers.js';
import { GreetingHandler, GreetingServer } from './fixtures/other-package/server.js';
import { handlerModule, lineReader, recordingLogger } from './helpers.js';

/** OS threads of this process right now (Linux). */
function osThreadCount(): number {
  return readdirSync('/proc/self/task').length;
}

describe('threading dispatcher', () => {
  it('a client that left while waiting for a thread does not hold the only thread', async () => {
    const server = new TCPServer(['127.0.0.1', 0], WhoEcho, {
      dispatcher: threading({ minThreads: 1, maxThreads: 1 }),
      handlerModule,
    });
    const t = await startServer(server, { serve: false });
    onTestFinished(() => t.close());
    // Accepted but not served yet: the client's FIN reaches the server while the request waits.
    const gone = await t.connect();
    gone.end();
    await vi.waitFor(() => expect(server.connectionCount).toBe(1));
    await new Promise((resolve) => setTimeout(resolve, 100));
    void server.serveForever();
    const socket = await t.connect();
    const lines = lineReader(socket);
    await lines.next();
    socket.write('still served\n');
    expect(await lines.next()).toBe('still served\n');
  });

  it('runs the handler in a worker thread with the in-process API', async () => {
    const server = new TCPServer(['127.0.0.1', 0], WhoEcho, {
      dispatcher: threading(),
      handlerModule,
      workerData: { greeting: 'hi' },
    });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const socket = await t.connect();
    const lines = lineReader(socket);
    const who = JSON.parse(await lines.next());
    expect(who).toMatchObject({
      pid: process.pid,
      isWorker: true,
      isPrimary: false,
      remotePort: socket.localPort,
      serverClass: 'TCPServer',
      workerData: { greeting: 'hi' },
      tls: false,
    });
    expect(who.thread).toMatch(/^Thread-\d+$/);
    socket.write('hello\n');
    expect(await lines.next()).toBe('hello\n');
    socket.end('last line without newline');
    expect(await lines.next()).toBe('last line without newline');
  });

  it('logs a handler that throws in a worker through the server and keeps serving', async () => {
    const logger = recordingLogger();
    const server = new TCPServer(['127.0.0.1', 0], Throwing, {
      dispatcher: threading({ maxThreads: 2 }),
      handlerModule,
      logger,
    });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const socket = await t.connect();
    const port = socket.localPort;
    socket.write('boom\n');
    expect((await readAll(socket)).toString()).toBe('');
    const failure = await logger.waitFor((entry) => entry.message.startsWith('Exception occurred'));
    expect(failure.message).toBe(`Exception occurred during processing of request from 127.0.0.1:${port}`);
    expect(failure.err).toBeInstanceOf(Error);
    expect((failure.err as Error).message).toBe('boom in a worker');
    expect((failure.err as Error).stack).toContain('handlers.js');
    for (let i = 0; i < 5; i += 1)
      expect((await t.exchange('fine\n')).toString()).toBe(`ok ${process.pid}\n`);
  });

  it('replaces a thread that dies mid-request; only that connection is lost', async () => {
    const logger = recordingLogger();
    const dispatcher = threading({ minThreads: 2, maxThreads: 4 });
    const server = new TCPServer(['127.0.0.1', 0], Crashing, { dispatcher, handlerModule, logger });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const before = dispatcher.threadNames;
    expect(before).toHaveLength(2);
    expect((await t.exchange('crash\n')).toString()).toBe('');
    const lost = await logger.waitFor((entry) => isSrvError(entry.err, 'SRV_ERR_WORKER_EXITED'));
    expect((lost.err as Error).message).toMatch(
      /^threading: Thread-\d+ exited with code 3 while serving this request$/,
    );
    for (let i = 0; i < 20; i += 1)
      expect((await t.exchange('hi\n')).toString()).toMatch(/^alive Thread-\d+\n$/);
    while (dispatcher.size < 2) await once(dispatcher, 'spawn');
    expect(dispatcher.size).toBe(2);
    expect(dispatcher.threadNames).not.toEqual(before);
  });

  it('answers a full queue by closing the connection with SRV_ERR_QUEUE_FULL', async () => {
    const logger = recordingLogger();
    const server = new TCPServer(['127.0.0.1', 0], Blocking, {
      dispatcher: threading({ maxThreads: 1, maxQueue: 1 }),
      handlerModule,
      logger,
    });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const first = await t.connect();
    const firstLines = lineReader(first);
    first.write('300\n');
    expect(await firstLines.next()).toBe('started\n');
    const second = await t.connect();
    second.write('10\n');
    const waiting = readAll(second);
    const third = await t.connect();
    expect((await readAll(third)).toString()).toBe('');
    expect(JSON.parse(await firstLines.next())).toMatchObject({ pid: process.pid });
    expect((await waiting).toString()).toMatch(/^started\n\{.*\}\n$/);
    await logger.waitFor((entry) => isSrvError(entry.err, 'SRV_ERR_QUEUE_FULL'));
  });

  it('serves TLS: the handshake ends in the main thread, the worker sees plaintext and info.tls', async () => {
    const { cert, key } = await createTestCertificate();
    const server = new ThreadingTCPServer(['127.0.0.1', 0], WhoEcho, { tls: { cert, key }, handlerModule });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const socket = await t.connect({ tls: { ca: cert, servername: 'localhost' } });
    const lines = lineReader(socket);
    expect(JSON.parse(await lines.next())).toMatchObject({ tls: true, isWorker: true });
    socket.write('secret\n');
    expect(await lines.next()).toBe('secret\n');
  });

  it('gives node:http what it needs from a relayed socket (keep-alive, https, addresses)', async () => {
    const { cert, key } = await createTestCertificate();
    const server = new ThreadingTCPServer(['127.0.0.1', 0], HttpBridge, {
      tls: { cert, key },
      handlerModule,
    });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const socket = await t.connect({ tls: { ca: cert, servername: 'localhost' } });
    const get = (path: string) =>
      new Promise<string>((resolve, reject) => {
        const req = httpsRequest(
          { createConnection: () => socket, path, headers: { connection: 'keep-alive' } },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              body += chunk;
            });
            res.on('end', () => resolve(body));
          },
        );
        req.on('error', reject);
        req.end();
      });
    const first = JSON.parse(await get('/one'));
    expect(first).toEqual({
      url: '/one',
      encrypted: true,
      remoteAddress: '127.0.0.1',
      remotePort: socket.localPort,
      localPort: t.port,
      thread: first.thread,
      pid: process.pid,
    });
    expect(first.thread).toMatch(/^Thread-\d+$/);
    // The same connection serves a second request (keep-alive over the relay).
    expect(JSON.parse(await get('/two'))).toMatchObject({ url: '/two', thread: first.thread });
  });

  it('enforces the stream handler timeout over the relay', async () => {
    const logger = recordingLogger();
    const server = new TCPServer(['127.0.0.1', 0], Impatient, {
      dispatcher: threading(),
      handlerModule,
      logger,
    });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const socket = await t.connect();
    const started = Date.now();
    expect((await readAll(socket)).toString()).toBe('');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    await logger.waitFor((entry) => isSrvError(entry.err, 'SRV_ERR_TIMEOUT'));
  });

  it('echoes UDP datagrams from worker threads', async () => {
    const server = new ThreadingUDPServer(['127.0.0.1', 0], UpperDatagram, { handlerModule });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const reply = (await sendDatagram({ host: t.host, port: t.port }, 'ping')).toString();
    expect(reply).toMatch(new RegExp(`^PING Thread-\\d+ ${process.pid}$`));
  });

  it('serves a Unix stream socket', async () => {
    const path = join(tmpdir(), `srv-threading-${process.pid}-${Date.now()}.sock`);
    const server = new (ThreadingMixIn(UnixStreamServer))(path, WhoEcho, { handlerModule });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const socket = await t.connect();
    const lines = lineReader(socket);
    expect(JSON.parse(await lines.next())).toMatchObject({ isWorker: true });
  });

  it('rebuilds a server class from another package (static moduleUrl/exportName) in the worker', async () => {
    const Threading = ThreadingMixIn(GreetingServer);
    const server = new Threading(['127.0.0.1', 0], GreetingHandler);
    const t = await startServer(server);
    onTestFinished(() => t.close());
    expect((await t.exchange('')).toString()).toMatch(
      new RegExp(`^GreetingServer says hello from Thread-\\d+ ${process.pid}\\n$`),
    );
  });

  it('fails ready with a coded error when the handler cannot be loaded in a worker', async () => {
    const server = new TCPServer(['127.0.0.1', 0], WhoEcho, { dispatcher: threading() });
    await expect(server.ready).rejects.toMatchObject({ code: 'SRV_ERR_INVALID_HANDLER' });
    await server.close();
  });

  it('reads Python-style static fields and lets an explicit dispatcher win', async () => {
    class Daemonic extends ThreadingTCPServer {
      static daemonThreads = true;
      static maxThreads = 3;
    }
    const server = new Daemonic(['127.0.0.1', 0], WhoEcho, { handlerModule });
    onTestFinished(() => server.close());
    expect(server.dispatcher.name).toBe('threading');
    await server.ready;
    const serial = new ThreadingTCPServer(['127.0.0.1', 0], WhoEcho, { dispatcher: 'serial' });
    onTestFinished(() => serial.close());
    expect(serial.dispatcher.name).toBe('serial');
  });

  it('shutdown() waits for in-flight handlers; after close() no worker thread remains', async () => {
    await stat('.'); // starts libuv's thread pool now, so it is part of the baseline
    const baseline = osThreadCount();
    const dispatcher = threading({ minThreads: 3 });
    const server = new TCPServer(['127.0.0.1', 0], Blocking, { dispatcher, handlerModule });
    const t = await startServer(server);
    expect(osThreadCount()).toBeGreaterThanOrEqual(baseline + 3);
    const socket = await t.connect();
    const lines = lineReader(socket);
    socket.write('400\n');
    expect(await lines.next()).toBe('started\n');
    await server.shutdown();
    const shutdownAt = Date.now();
    const answer = JSON.parse(await lines.next());
    expect(answer.end).toBeLessThanOrEqual(shutdownAt);
    await t.close();
    expect(dispatcher.size).toBe(0);
    expect(osThreadCount()).toBeLessThanOrEqual(baseline);
  });
});
