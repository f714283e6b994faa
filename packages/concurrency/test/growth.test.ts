import { availableParallelism } from 'node:os';
import { TCPServer } from '@srv/core';
import { startServer } from '@srv/core/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { threading } from '../src/index.js';
import { Blocking, Waiting, Working } from './fixtures/handlers.js';
import { handlerModule, lineReader } from './helpers.js';

type Handler = typeof Blocking;

/** Serves `count` connections at once, each sending `ms`; resolves with the threads that started. */
async function burst(Handler: Handler, minThreads: number, maxThreads: number, count: number, ms: number) {
  const dispatcher = threading({ minThreads, maxThreads });
  const server = new TCPServer(['127.0.0.1', 0], Handler, { dispatcher, handlerModule });
  const t = await startServer(server);
  onTestFinished(() => t.close());
  let spawned = 0;
  dispatcher.on('spawn', () => {
    spawned += 1;
  });
  await Promise.all(
    Array.from({ length: count }, async () => {
      const socket = await t.connect();
      const lines = lineReader(socket);
      socket.write(`${ms}\n`);
      expect(await lines.next()).toBe('started\n');
      expect(JSON.parse(await lines.next())).toHaveProperty('start');
    }),
  );
  return spawned;
}

describe('threading pool growth', () => {
  it('grows for threads whose handlers block', async () => {
    // The blocked thread's event loop never turns: both waiting connections get a thread.
    expect(await burst(Blocking, 1, 3, 3, 600)).toBe(2);
  });

  it('grows for threads whose handlers wait (I/O, timers), though their event loops run', async () => {
    expect(await burst(Waiting, 1, 3, 3, 1500)).toBe(2);
  });

  it('does not grow beyond one busy thread per core while its threads keep working', async () => {
    // Threads busy with their requests, their event loops turning, only share the CPU with new ones.
    const cores = availableParallelism();
    const minThreads = Math.min(cores, 4);
    const spawned = await burst(Working, minThreads, minThreads + 2, minThreads + 2, 800);
    // The old rule ("no request finished for 50 ms") gave both waiting connections a thread.
    expect(spawned).toBeLessThanOrEqual(Math.max(0, cores - minThreads));
  });
});
