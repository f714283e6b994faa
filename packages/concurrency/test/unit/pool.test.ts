import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { type BaseServer, type ServerRequest, silentLogger } from '@srv/core';
import { describe, expect, it } from 'vitest';
import { PoolDispatcher, type PoolJob, type PoolLimits, type PoolWorker, stallMs } from '../../src/pool.js';

/** A pool whose workers are plain objects: the bookkeeping alone, with a termination that takes a tick. */
class FakePool extends PoolDispatcher<PoolWorker> {
  readonly name = 'fake';
  readonly running = new Map<PoolWorker, PoolJob>();
  #count = 0;

  protected async spawn(): Promise<PoolWorker> {
    return { name: `W${++this.#count}`, job: undefined, idleTimer: undefined, exited: false };
  }
  protected post(): void {}
  protected send(worker: PoolWorker, job: PoolJob): void {
    this.running.set(worker, job);
  }
  protected async terminate(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
  }
  protected setBusy(): void {}

  /** The worker reports its request done. */
  complete(worker: PoolWorker): void {
    const job = this.running.get(worker)!;
    this.running.delete(worker);
    this.onMessage(worker, { t: 'done', id: job.id });
  }
}

const fakeServer = {
  logger: silentLogger,
  describeForWorker: async () => ({}),
  once: () => fakeServer,
} as unknown as BaseServer<unknown>;

const datagram = {
  kind: 'datagram',
  request: { data: Buffer.alloc(0), info: {} },
  info: {},
} as unknown as ServerRequest;

function limits(overrides: Partial<PoolLimits>): PoolLimits {
  return { max: 3, min: 1, maxQueue: 10, blockOnClose: true, idleTimeout: 0, ...overrides };
}

describe('pool bookkeeping', () => {
  it('idle timers firing together never take the pool below its minimum', async () => {
    const pool = new FakePool(limits({ idleTimeout: 30 }));
    await pool.start(fakeServer);
    const jobs = [pool.dispatch(datagram, async () => {}), pool.dispatch(datagram, async () => {})];
    jobs.push(pool.dispatch(datagram, async () => {}));
    while (pool.running.size < 3) await once(pool, 'spawn');
    const exits: string[] = [];
    const spawns: string[] = [];
    pool.on('exit', (name: string) => exits.push(name));
    pool.on('spawn', (name: string) => spawns.push(name));
    // All three go idle in the same tick, so their idle timers fire together.
    for (const worker of [...pool.running.keys()]) pool.complete(worker);
    await Promise.all(jobs);
    while (pool.size > 1) await once(pool, 'exit');
    await delay(60);
    // Exactly two retire; the pool never dips below its minimum (which would start a replacement).
    expect(exits).toHaveLength(2);
    expect(spawns).toEqual([]);
    expect(pool.size).toBe(1);
    await pool.close();
    expect(pool.size).toBe(0);
  });

  it('queues beyond the maximum, then answers overflow with SRV_ERR_QUEUE_FULL', async () => {
    const pool = new FakePool(limits({ max: 1, maxQueue: 1 }));
    await pool.start(fakeServer);
    const first = pool.dispatch(datagram, async () => {});
    const second = pool.dispatch(datagram, async () => {});
    await expect(pool.dispatch(datagram, async () => {})).rejects.toMatchObject({
      code: 'SRV_ERR_QUEUE_FULL',
    });
    expect(pool.queueLength).toBe(1);
    const [worker] = [...pool.running.keys()];
    pool.complete(worker!);
    await first;
    expect(pool.queueLength).toBe(0);
    pool.complete(worker!);
    await second;
    await pool.close();
    await expect(pool.dispatch(datagram, async () => {})).rejects.toMatchObject({
      code: 'SRV_ERR_DISPATCHER_CLOSED',
    });
  });

  it('runs a steady load on the workers it has while they keep finishing requests', async () => {
    const pool = new FakePool(limits({ max: 4, min: 1 }));
    await pool.start(fakeServer);
    const spawns: string[] = [];
    pool.on('spawn', (name: string) => spawns.push(name));
    const jobs = Array.from({ length: 6 }, () => pool.dispatch(datagram, async () => {}));
    expect(pool.queueLength).toBe(5);
    // One finishes well within the stall window, each time, until all are done.
    for (let done = 0; done < 6; done += 1) {
      await delay(stallMs / 5);
      pool.complete([...pool.running.keys()][0]!);
    }
    await Promise.all(jobs);
    expect(spawns).toEqual([]);
    expect(pool.size).toBe(1);
    await pool.close();
  });

  it('gives every waiting request a worker once the pool is stalled', async () => {
    const pool = new FakePool(limits({ max: 4, min: 1 }));
    await pool.start(fakeServer);
    const started = performance.now();
    const jobs = Array.from({ length: 3 }, () => pool.dispatch(datagram, async () => {}));
    while (pool.running.size < 3) await once(pool, 'spawn');
    // Not before nobody has finished anything for the stall window.
    expect(performance.now() - started).toBeGreaterThanOrEqual(stallMs - 1);
    expect(pool.queueLength).toBe(0);
    for (const worker of [...pool.running.keys()]) pool.complete(worker);
    await Promise.all(jobs);
    await pool.close();
  });

  it('frees the place of a connection that closes while it waits', async () => {
    const pool = new FakePool(limits({ max: 1, min: 1, maxQueue: 1 }));
    await pool.start(fakeServer);
    const busy = pool.dispatch(datagram, async () => {});
    const socket = new PassThrough();
    const stream = { kind: 'stream', request: socket, info: {} } as unknown as ServerRequest;
    const waiting = pool.dispatch(stream, async () => {});
    expect(pool.queueLength).toBe(1);
    socket.destroy();
    await waiting;
    expect(pool.queueLength).toBe(0);
    // Its place is free: another request may wait again instead of being refused.
    const next = pool.dispatch(datagram, async () => {});
    expect(pool.queueLength).toBe(1);
    pool.complete([...pool.running.keys()][0]!);
    await busy;
    pool.complete([...pool.running.keys()][0]!);
    await next;
    await pool.close();
  });
});
