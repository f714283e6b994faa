import { describe, expect, test } from 'vitest';
import { type StartedDemo, startDemo } from './helpers.js';

/** Fires `count` requests for `/` at once; resolves with the seconds until the last full answer. */
async function timeConcurrent(demo: StartedDemo, count: number): Promise<number> {
  const started = performance.now();
  const bodies = await Promise.all(
    Array.from({ length: count }, async () => {
      const response = await fetch(`${demo.origin}/`);
      expect(response.status).toBe(200);
      return response.text();
    }),
  );
  for (const body of bodies) expect(body).toContain('<h3>This is Home Page</h3>');
  return (performance.now() - started) / 1000;
}

describe("the tutorial's lesson: --slow 1 and four requests at once", () => {
  test('pages (one at a time) takes ≥ 4 s; threading and forking overlap in < 2 s', async () => {
    // All three start first, so none pays for another's start-up while being measured.
    const [pages, threading, forking] = await Promise.all(
      ['pages', 'threading', 'forking'].map((name) => startDemo(name, ['--slow', '1'])),
    );
    const [serial, threaded, forked] = await Promise.all([
      timeConcurrent(pages!, 4),
      timeConcurrent(threading!, 4),
      timeConcurrent(forking!, 4),
    ]);
    expect(serial).toBeGreaterThanOrEqual(4);
    expect(threaded).toBeGreaterThanOrEqual(1);
    expect(threaded).toBeLessThan(2);
    expect(forked).toBeGreaterThanOrEqual(1);
    expect(forked).toBeLessThan(2);
    // Four requests, four different threads / processes.
    const threads = await threading!.lines(/^Handling with thread /, 4);
    expect(new Set(threads).size).toBe(4);
    const processes = await forking!.lines(/^Handling with forking /, 4);
    expect(new Set(processes).size).toBe(4);
    for (const demo of [pages!, threading!, forking!]) expect((await demo.stop()).code).toBe(0);
  });
});
