import { describe, expect, it } from 'vitest';
import { ChunkPool } from '../../src/chunk-pool.js';

describe('ChunkPool', () => {
  it('lends back memory of exactly the size asked for', () => {
    const pool = new ChunkPool(1024);
    pool.use();
    const memory = new ArrayBuffer(256);
    new Uint8Array(memory).fill(7);
    pool.give(memory);
    expect(pool.bytes).toBe(256);
    expect(pool.take(128)).toBeUndefined();
    const lent = pool.take(256);
    expect(lent?.buffer).toBe(memory);
    expect(lent?.byteOffset).toBe(0);
    expect(lent?.byteLength).toBe(256);
    expect(pool.bytes).toBe(0);
    expect(pool.take(256)).toBeUndefined();
  });

  it('keeps no more than its limit, and nothing detached', () => {
    const pool = new ChunkPool(512);
    pool.use();
    pool.give(new ArrayBuffer(256));
    pool.give(new ArrayBuffer(256));
    pool.give(new ArrayBuffer(256));
    expect(pool.bytes).toBe(512);
    const detached = new ArrayBuffer(64);
    structuredClone(detached, { transfer: [detached] });
    expect(detached.byteLength).toBe(0);
    pool.give(detached);
    expect(pool.bytes).toBe(512);
  });

  it('holds nothing while no relayed socket is open, and lets go when the last one closes', () => {
    const pool = new ChunkPool(1024);
    pool.give(new ArrayBuffer(256));
    expect(pool.bytes).toBe(0);
    pool.use();
    pool.use();
    pool.give(new ArrayBuffer(256));
    pool.release();
    expect(pool.bytes).toBe(256);
    pool.release();
    expect(pool.bytes).toBe(0);
    expect(pool.take(256)).toBeUndefined();
    pool.release();
    pool.give(new ArrayBuffer(256));
    expect(pool.bytes).toBe(0);
  });
});
