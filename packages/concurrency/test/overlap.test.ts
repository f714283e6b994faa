import { type BaseServerOptions, TCPServer } from '@srv/core';
import { startServer } from '@srv/core/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { forking, threading } from '../src/index.js';
import { Blocking } from './fixtures/handlers.js';
import { handlerModule, lineReader } from './helpers.js';

interface Stamp {
  start: number;
  end: number;
  pid: number;
  thread: string;
}

const clients = 8;
const blockMs = 500;

/** 8 clients at once against a handler that blocks its thread for 500 ms; the handlers' own timestamps. */
async function run(options: BaseServerOptions): Promise<{ total: number; stamps: Stamp[] }> {
  const server = new TCPServer(['127.0.0.1', 0], Blocking, { ...options, handlerModule });
  const t = await startServer(server);
  onTestFinished(() => t.close());
  const sockets = await Promise.all(Array.from({ length: clients }, () => t.connect()));
  const began = Date.now();
  const stamps = await Promise.all(
    sockets.map(async (socket) => {
      const lines = lineReader(socket);
      socket.write(`${blockMs}\n`);
      expect(await lines.next()).toBe('started\n');
      return JSON.parse(await lines.next()) as Stamp;
    }),
  );
  return { total: Date.now() - began, stamps };
}

/** True when every handler was running at one same moment (the latest start precedes the earliest end). */
function allOverlap(stamps: Stamp[]): boolean {
  return Math.max(...stamps.map((s) => s.start)) < Math.min(...stamps.map((s) => s.end));
}

function noneOverlap(stamps: Stamp[]): boolean {
  const sorted = [...stamps].sort((a, b) => a.start - b.start);
  return sorted.every((stamp, i) => i === 0 || stamp.start >= sorted[i - 1]!.end);
}

describe('a handler that blocks for 500 ms, 8 clients at once', () => {
  it('serial handles them one after another (about 4 s)', async () => {
    const { total, stamps } = await run({ dispatcher: 'serial' });
    expect(noneOverlap(stamps)).toBe(true);
    expect(total).toBeGreaterThanOrEqual(clients * blockMs - 50);
    expect(new Set(stamps.map((s) => s.thread))).toEqual(new Set(['MainThread']));
  });

  it('threading overlaps them in 8 threads (< 1.5 s)', async () => {
    const { total, stamps } = await run({ dispatcher: threading({ minThreads: clients }) });
    expect(allOverlap(stamps)).toBe(true);
    expect(new Set(stamps.map((s) => s.thread)).size).toBe(clients);
    expect(total).toBeLessThan(1500);
  });

  it('forking overlaps them in 8 processes (< 1.5 s)', async () => {
    const { total, stamps } = await run({ dispatcher: forking({ minChildren: clients }) });
    expect(allOverlap(stamps)).toBe(true);
    const pids = new Set(stamps.map((s) => s.pid));
    expect(pids.size).toBe(clients);
    expect(pids.has(process.pid)).toBe(false);
    expect(total).toBeLessThan(1500);
  });
});
