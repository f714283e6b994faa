import { once } from 'node:events';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSrvError, TCPServer } from '@srv/core';
import { createTestCertificate, readAll, sendDatagram, startServer } from '@srv/core/testing';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import {
  ForkingMixIn,
  ForkingTCPServer,
  ForkingUDPServer,
  ForkingUnixStreamServer,
  forking,
} from '../src/index.js';
import {
  Blocking,
  HttpBridge,
  Throwing,
  UpperDatagram,
  Waiting,
  WhoEcho,
  Working,
} from './fixtures/handlers.js';
import { GreetingHandler, GreetingServer } from './fixtures/other-package/server.js';
import { handlerModule, lineReader, recordingLogger } from './helpers.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('forking dispatcher', () => {
  it('serves a connection in a child process without losing the first bytes', async () => {
    const server = new ForkingTCPServer(['127.0.0.1', 0], WhoEcho, { handlerModule, workerData: { n: 1 } });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const socket = await t.connect();
    // Sent before the hand-off: the parent must not read (and lose) these bytes.
    socket.write('early\n');
    const lines = lineReader(socket);
    const who = JSON.parse(await lines.next());
    expect(who.pid).not.toBe(process.pid);
    expect(who).toMatchObject({
      thread: 'MainThread',
      isWorker: true,
      isPrimary: false,
      serverClass: 'TCPServer',
      remotePort: socket.localPort,
      workerData: { n: 1 },
    });
    expect(await lines.next()).toBe('early\n');
  });

  it('spreads concurrent connections over the children, one connection per child', async () => {
    const dispatcher = forking({ minChildren: 3, maxChildren: 3 });
    const server = new TCPServer(['127.0.0.1', 0], WhoEcho, { dispatcher, handlerModule });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const sockets = await Promise.all([t.connect(), t.connect(), t.connect()]);
    const pids = await Promise.all(
      sockets.map(async (socket) => JSON.parse(await lineReader(socket).next()).pid),
    );
    expect(new Set(pids).size).toBe(3);
    expect(pids.sort()).toEqual([...dispatcher.pids].sort());
    // The sockets live in the children now: the parent counts none of them as open.
    await vi.waitFor(() => expect(server.connectionCount).toBe(0));
  });

  it('a child killed mid-request loses only its connection; the pool is refilled', async () => {
    const logger = recordingLogger();
    const dispatcher = forking({ minChildren: 2, maxChildren: 4 });
    const server = new TCPServer(['127.0.0.1', 0], WhoEcho, { dispatcher, handlerModule, logger });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    expect(dispatcher.size).toBe(2);
    const socket = await t.connect();
    const { pid } = JSON.parse(await lineReader(socket).next());
    const closed = once(socket, 'close');
    process.kill(pid, 'SIGKILL');
    await closed;
    const lost = await logger.waitFor((entry) => isSrvError(entry.err, 'SRV_ERR_WORKER_EXITED'));
    expect((lost.err as Error).message).toMatch(
      new RegExp(`^forking: Process-\\d+ \\(pid ${pid}\\) exited with SIGKILL while serving this request$`),
    );
    for (let i = 0; i < 20; i += 1) {
      const reply = (await t.exchange('hello\n', { end: true })).toString();
      expect(reply).toMatch(/^\{.*\}\nhello\n$/);
    }
    while (dispatcher.size < 2) await once(dispatcher, 'spawn');
    expect(dispatcher.size).toBe(2);
    expect(dispatcher.pids).not.toContain(pid);
  });

  it('logs a handler that throws in a child through the parent logger and keeps serving', async () => {
    const logger = recordingLogger();
    const server = new ForkingTCPServer(['127.0.0.1', 0], Throwing, { handlerModule, logger });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    expect((await t.exchange('boom\n')).toString()).toBe('');
    const failure = await logger.waitFor((entry) => entry.message.startsWith('Exception occurred'));
    expect((failure.err as Error).message).toBe('boom in a worker');
    const replies = await Promise.all(Array.from({ length: 5 }, () => t.exchange('fine\n')));
    for (const reply of replies) expect(reply.toString()).toMatch(/^ok \d+\n$/);
  });

  it('answers a full queue by closing the connection with SRV_ERR_QUEUE_FULL', async () => {
    const logger = recordingLogger();
    const server = new TCPServer(['127.0.0.1', 0], Blocking, {
      dispatcher: forking({ minChildren: 1, maxChildren: 1, maxQueue: 1 }),
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
    expect(JSON.parse(await firstLines.next())).toHaveProperty('pid');
    expect((await waiting).toString()).toMatch(/^started\n\{.*\}\n$/);
    await logger.waitFor((entry) => isSrvError(entry.err, 'SRV_ERR_QUEUE_FULL'));
  });

  it('wraps TLS in the child after the hand-off', async () => {
    const { cert, key } = await createTestCertificate();
    const server = new ForkingTCPServer(['127.0.0.1', 0], WhoEcho, { tls: { cert, key }, handlerModule });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const socket = await t.connect({ tls: { ca: cert, servername: 'localhost' } });
    const lines = lineReader(socket);
    const who = JSON.parse(await lines.next());
    expect(who).toMatchObject({ tls: true, isWorker: true });
    expect(who.pid).not.toBe(process.pid);
    socket.write('secret\n');
    expect(await lines.next()).toBe('secret\n');
  });

  it('lets node:http serve a handed-over socket', async () => {
    const server = new ForkingTCPServer(['127.0.0.1', 0], HttpBridge, { handlerModule });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const response = await fetch(`${t.origin}/forked`);
    const body = (await response.json()) as { pid: number };
    expect(body).toMatchObject({
      url: '/forked',
      encrypted: false,
      remoteAddress: '127.0.0.1',
      localPort: t.port,
    });
    expect(body.pid).not.toBe(process.pid);
  });

  it('relays UDP datagrams to children and their replies back', async () => {
    const server = new ForkingUDPServer(['127.0.0.1', 0], UpperDatagram, { handlerModule });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const reply = (await sendDatagram({ host: t.host, port: t.port }, 'ping')).toString();
    const [word, thread, pid] = reply.split(' ');
    expect([word, thread]).toEqual(['PING', 'MainThread']);
    expect(Number(pid)).not.toBe(process.pid);
  });

  it('serves a Unix stream socket', async () => {
    const path = join(tmpdir(), `srv-forking-${process.pid}-${Date.now()}.sock`);
    const server = new ForkingUnixStreamServer(path, WhoEcho, { handlerModule });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const socket = await t.connect();
    socket.write('over unix\n');
    const lines = lineReader(socket);
    expect(JSON.parse(await lines.next())).toMatchObject({ isWorker: true });
    expect(await lines.next()).toBe('over unix\n');
  });

  it('rebuilds a server class from another package (static moduleUrl/exportName) in the child', async () => {
    const Forking = ForkingMixIn(GreetingServer);
    const server = new Forking(['127.0.0.1', 0], GreetingHandler);
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const reply = (await t.exchange('')).toString();
    expect(reply).toMatch(/^GreetingServer says hello from MainThread \d+\n$/);
    expect(reply).not.toContain(` ${process.pid}\n`);
  });

  it('fails ready with a coded error when a child cannot load the handler', async () => {
    const server = new ForkingTCPServer(['127.0.0.1', 0], WhoEcho, {
      handlerModule: new URL('./fixtures/missing.js', import.meta.url),
      handlerExport: 'WhoEcho',
    });
    await expect(server.ready).rejects.toMatchObject({ code: 'SRV_ERR_INVALID_HANDLER' });
    await server.close();
    expect(server.dispatcher).toMatchObject({ size: 0 });
  });

  it('grows while its children block, then shrinks back to minChildren after idleTimeout', async () => {
    const dispatcher = forking({ minChildren: 1, maxChildren: 3, idleTimeout: 300 });
    const server = new TCPServer(['127.0.0.1', 0], Blocking, { dispatcher, handlerModule });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    // Started before ready, not on the first request.
    expect(dispatcher.size).toBe(1);
    let spawned = 0;
    dispatcher.on('spawn', () => {
      spawned += 1;
    });
    await Promise.all(
      [1, 2, 3].map(async () => {
        const socket = await t.connect();
        const lines = lineReader(socket);
        socket.write('500\n');
        expect(await lines.next()).toBe('started\n');
        expect(JSON.parse(await lines.next())).toHaveProperty('pid');
      }),
    );
    // The first child blocked and finished nothing, so both waiting connections got a child.
    expect(spawned).toBe(2);
    while (dispatcher.size > 1) await once(dispatcher, 'exit');
    expect(dispatcher.size).toBe(1);
    expect(dispatcher.pids.every(isAlive)).toBe(true);
  });

  it('grows for children whose handlers wait (I/O, timers), though their event loops run', async () => {
    const dispatcher = forking({ minChildren: 1, maxChildren: 3 });
    const server = new TCPServer(['127.0.0.1', 0], Waiting, { dispatcher, handlerModule });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    let spawned = 0;
    dispatcher.on('spawn', () => {
      spawned += 1;
    });
    const answers = await Promise.all(
      [1, 2, 3].map(async () => {
        const socket = await t.connect();
        const lines = lineReader(socket);
        socket.write('1500\n');
        expect(await lines.next()).toBe('started\n');
        return JSON.parse(await lines.next()) as { start: number; end: number; pid: number };
      }),
    );
    // The waiting child answers pings with an idle event loop: both queued connections got a child.
    expect(spawned).toBe(2);
    expect(new Set(answers.map((answer) => answer.pid)).size).toBe(3);
  });

  it('does not grow beyond one busy child per core while its children keep working', async () => {
    // Children still busy with their requests (as a cold child is with its first ones) only share the
    // CPU with new ones: the pool waits for them (a child started per core at most).
    const cores = availableParallelism();
    const minChildren = Math.min(cores, 4);
    const dispatcher = forking({ minChildren, maxChildren: minChildren + 2 });
    const server = new TCPServer(['127.0.0.1', 0], Working, { dispatcher, handlerModule });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    let spawned = 0;
    dispatcher.on('spawn', () => {
      spawned += 1;
    });
    await Promise.all(
      Array.from({ length: minChildren + 2 }, async () => {
        const socket = await t.connect();
        const lines = lineReader(socket);
        socket.write('400\n');
        expect(await lines.next()).toBe('started\n');
        expect(JSON.parse(await lines.next())).toHaveProperty('pid');
      }),
    );
    // Without the pings, both waiting connections would have got a child after 50 ms.
    expect(spawned).toBeLessThanOrEqual(Math.max(0, cores - minChildren));
  });

  it('shutdown() waits for in-flight requests; after close() no child process remains', async () => {
    const dispatcher = forking({ minChildren: 3 });
    const server = new TCPServer(['127.0.0.1', 0], Blocking, { dispatcher, handlerModule });
    const t = await startServer(server);
    const pids = dispatcher.pids;
    expect(pids).toHaveLength(3);
    expect(pids.every(isAlive)).toBe(true);
    const socket = await t.connect();
    const lines = lineReader(socket);
    socket.write('400\n');
    expect(await lines.next()).toBe('started\n');
    await server.shutdown();
    const shutdownAt = Date.now();
    const answer = JSON.parse(await lines.next());
    expect(answer.end).toBeLessThanOrEqual(shutdownAt);
    expect(pids).toContain(answer.pid);
    await t.close();
    expect(dispatcher.size).toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
  });
});
