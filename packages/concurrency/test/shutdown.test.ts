import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { silentLogger, TCPServer } from '@srv/core';
import { readAll, startServer } from '@srv/core/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ForkingMixIn, forking, ThreadingMixIn, threading } from '../src/index.js';
import { Blocking } from './fixtures/handlers.js';
import { PoliteHandler, PoliteServer } from './fixtures/other-package/server.js';
import { handlerModule, lineReader } from './helpers.js';

const mixins = [
  ['threading', ThreadingMixIn],
  ['forking', ForkingMixIn],
] as const;

describe.each(mixins)('%s: shutdown and close', (_name, MixIn) => {
  it('passes shutdown on to the server rebuilt in the worker, so it can end its own connections', async () => {
    const Server = MixIn(PoliteServer);
    const server = new Server(['127.0.0.1', 0], PoliteHandler, { graceMs: 20_000 });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const client = await t.connect();
    const lines = lineReader(client);
    expect(await lines.next()).toBe('hello\n');
    const started = Date.now();
    const shutdown = server.shutdown();
    expect(await lines.next()).toBe('bye\n');
    client.end();
    await shutdown;
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('blockOnClose and daemonThreads', () => {
  const cases = [
    {
      name: 'threading, blockOnClose: close() waits',
      make: () => threading({ blockOnClose: true }),
      waits: true,
    },
    {
      name: 'threading, blockOnClose false: close() stops it',
      make: () => threading({ blockOnClose: false }),
      waits: false,
    },
    {
      name: 'threading, daemonThreads: close() stops it',
      make: () => threading({ daemonThreads: true }),
      waits: false,
    },
    {
      name: 'forking, blockOnClose: close() waits',
      make: () => forking({ blockOnClose: true, minChildren: 1 }),
      waits: true,
    },
    {
      name: 'forking, blockOnClose false: close() stops it',
      make: () => forking({ blockOnClose: false, minChildren: 1 }),
      waits: false,
    },
  ];

  // Independent servers whose handlers sleep in other threads or processes: run side by side.
  it.concurrent.for(cases)('$name', async ({ make, waits }, { expect, onTestFinished }) => {
    const dispatcher = make();
    const server = new TCPServer(['127.0.0.1', 0], Blocking, {
      dispatcher,
      handlerModule,
      graceMs: 100,
      logger: silentLogger,
    });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const socket = await t.connect();
    const lines = lineReader(socket);
    socket.write('3000\n');
    expect(await lines.next()).toBe('started\n');
    const started = Date.now();
    await server.close();
    const took = Date.now() - started;
    expect(dispatcher.size).toBe(0);
    // shutdown() itself takes graceMs plus up to 1 s for destroyed connections to settle.
    if (waits) expect(took).toBeGreaterThanOrEqual(2500);
    else expect(took).toBeLessThan(2300);
  });
});

describe('idle threads', () => {
  it('stop after idleTimeout, down to minThreads', async () => {
    const dispatcher = threading({ minThreads: 1, idleTimeout: 1500 });
    const server = new TCPServer(['127.0.0.1', 0], Blocking, { dispatcher, handlerModule });
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const replies = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const socket = await t.connect();
        socket.write('1000\n');
        return (await readAll(socket)).toString();
      }),
    );
    for (const reply of replies) expect(reply).toMatch(/^started\n\{.*\}\n$/);
    // Overlapping blocked handlers grew the pool (a loaded machine may start the third thread after the
    // first is free again, so at least two).
    expect(dispatcher.size).toBeGreaterThanOrEqual(2);
    while (dispatcher.size > 1) await once(dispatcher, 'exit');
    // The idle timers fired together; none may take the pool below minThreads.
    await delay(300);
    expect(dispatcher.size).toBe(1);
    const socket = await t.connect();
    socket.write('1\n');
    expect((await readAll(socket)).toString()).toMatch(/^started\n\{.*\}\n$/);
  });
});
