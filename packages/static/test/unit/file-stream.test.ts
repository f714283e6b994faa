import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  chunkSourceKey,
  chunkSourceOf,
  FileRangeStream,
  maxChunk,
  minChunk,
  rampAfter,
  transferableKey,
} from '../../src/file-stream.js';

async function fileOf(bytes: Buffer) {
  const directory = await mkdtemp(join(tmpdir(), 'srv-file-stream-'));
  onTestFinished(() => rm(directory, { recursive: true, force: true }));
  const path = join(directory, 'f.bin');
  await writeFile(path, bytes);
  const handle = await open(path, 'r');
  onTestFinished(() => handle.close());
  return handle;
}

describe('FileRangeStream', () => {
  it('reads exactly the range, both ends inclusive', async () => {
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, index) => index % 251));
    const handle = await fileOf(bytes);
    const chunks: Buffer[] = [];
    for await (const chunk of new FileRangeStream(handle, 1000, 250_000)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(bytes.subarray(1000, 250_001))).toBe(true);
  });

  it('grows its reads to 1 MiB for a reader that keeps up, after the first 8 MiB', async () => {
    const size = rampAfter + 8 * maxChunk;
    const handle = await fileOf(Buffer.alloc(size, 7));
    const sizes: number[] = [];
    const stream = new FileRangeStream(handle, 0, size - 1);
    for await (const chunk of stream) sizes.push((chunk as Buffer).length);
    expect(sizes.reduce((sum, length) => sum + length, 0)).toBe(size);
    expect(sizes.slice(0, rampAfter / minChunk).every((length) => length === minChunk)).toBe(true);
    expect(sizes).toContain(maxChunk);
    expect(Math.max(...sizes)).toBe(maxChunk);
  });

  it('stays at 64 KiB for a reader that makes it wait', async () => {
    const size = rampAfter + 4 * maxChunk;
    const handle = await fileOf(Buffer.alloc(size, 7));
    const stream = new FileRangeStream(handle, 0, size - 1);
    const sizes: number[] = [];
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk: Buffer) => {
        sizes.push(chunk.length);
        received += chunk.length;
        // Past the ramp, every chunk makes the stream wait longer than a fast client would.
        if (received >= rampAfter - minChunk) {
          stream.pause();
          setTimeout(() => stream.resume(), 30);
        }
      });
      stream.once('end', resolve);
      stream.once('error', reject);
    });
    expect(received).toBe(size);
    expect(Math.max(...sizes.slice(rampAfter / minChunk))).toBeLessThanOrEqual(2 * minChunk);
  });

  it('marks its full reads transferable only when asked to', async () => {
    const size = 3 * minChunk + 10;
    const handle = await fileOf(Buffer.alloc(size, 7));
    const marks = async (transferable: boolean) => {
      const seen: Array<boolean | undefined> = [];
      for await (const chunk of new FileRangeStream(handle, 0, size - 1, transferable)) {
        seen.push((chunk as Buffer & { [transferableKey]?: boolean })[transferableKey]);
      }
      return seen;
    };
    // The last read (10 bytes) is a slice of Node's shared buffer pool: never marked.
    expect(await marks(true)).toEqual([true, true, true, undefined]);
    expect(await marks(false)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('reads into memory its consumer lends, only when its chunks are transferable', async () => {
    const size = 3 * minChunk + 10;
    const bytes = Buffer.from(Array.from({ length: size }, (_, index) => index % 253));
    const handle = await fileOf(bytes);
    const lentMemory = Buffer.alloc(minChunk, 0xee);
    const asked: number[] = [];
    // Lends one buffer, the first time a 64 KiB one is asked for.
    const source = (length: number) => {
      asked.push(length);
      return asked.length === 1 && length === minChunk ? lentMemory : undefined;
    };
    const read = async (transferable: boolean) => {
      const chunks: Buffer[] = [];
      for await (const chunk of new FileRangeStream(handle, 0, size - 1, transferable, source)) {
        chunks.push(Buffer.from(chunk as Buffer));
        if (chunk === lentMemory) chunks.push(Buffer.from('lent'));
      }
      return chunks;
    };
    const lent = await read(true);
    expect(asked).toEqual([minChunk, minChunk, minChunk, 10]);
    expect(lent[1]?.toString()).toBe('lent');
    expect(lentMemory.equals(bytes.subarray(0, minChunk))).toBe(true);
    expect(Buffer.concat(lent.filter((_, index) => index !== 1)).equals(bytes)).toBe(true);
    asked.length = 0;
    const own = await read(false);
    expect(asked).toEqual([]);
    expect(Buffer.concat(own).equals(bytes)).toBe(true);
  });

  it('finds the lender of a socket by its shared symbol', () => {
    const lend = (length: number) => Buffer.alloc(length);
    expect(chunkSourceOf({ [Symbol.for('srv.chunk-source')]: lend })).toBe(lend);
    expect(chunkSourceKey).toBe(Symbol.for('srv.chunk-source'));
    expect(chunkSourceOf({})).toBeUndefined();
    expect(chunkSourceOf(undefined)).toBeUndefined();
    expect(chunkSourceOf({ [Symbol.for('srv.chunk-source')]: 'no' })).toBeUndefined();
  });
});
