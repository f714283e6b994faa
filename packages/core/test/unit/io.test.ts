import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isSrvError, LineReader, StreamWriter } from '../../src/index.js';

describe('LineReader', () => {
  it('reads lines across chunks, then the rest at the end', async () => {
    const source = new PassThrough();
    const reader = new LineReader(source);
    const first = reader.readline();
    source.write('hel');
    source.write('lo\nwor');
    expect((await first).toString()).toBe('hello\n');
    source.end('ld');
    expect((await reader.readline()).toString()).toBe('world');
    expect((await reader.readline()).length).toBe(0);
  });

  it('a chunk that is exactly one line, then lines past maxLineLength in one chunk', async () => {
    const source = new PassThrough();
    const reader = new LineReader(source, { maxLineLength: 8 });
    source.write('seconds\n');
    expect(String(await reader.readline())).toBe('seconds\n');
    expect(reader.bufferedLength).toBe(0);
    source.write('ab\ncdefghijkl\n');
    expect(String(await reader.readline())).toBe('ab\n');
    const error = await reader.readline().catch((caught: unknown) => caught);
    expect(isSrvError(error, 'SRV_ERR_LINE_TOO_LONG')).toBe(true);
    source.end();
  });

  it('a second reader on the same stream sees the same bytes as the first', async () => {
    const source = new PassThrough();
    const one = new LineReader(source);
    const two = new LineReader(source);
    const lines = Promise.all([one.readline(), two.readline()]);
    source.write('both\n');
    expect((await lines).map(String)).toEqual(['both\n', 'both\n']);
  });

  it('fails a read after its timeout with SRV_ERR_TIMEOUT and destroys the source', async () => {
    const source = new PassThrough();
    const reader = new LineReader(source, { timeout: 50 });
    const error = await reader.readline().catch((caught: unknown) => caught);
    expect(isSrvError(error, 'SRV_ERR_TIMEOUT')).toBe(true);
    expect(source.destroyed).toBe(true);
  });

  it('readers sharing a timeout: one fed in time is left alone, one left waiting fails after the timeout', async () => {
    const fed = new PassThrough();
    const silent = new PassThrough();
    const fedReader = new LineReader(fed, { timeout: 100 });
    const silentReader = new LineReader(silent, { timeout: 100 });
    const started = performance.now();
    const fedLine = fedReader.readline();
    const failed = silentReader.readline().catch((caught: unknown) => caught);
    setTimeout(() => fed.write('in time\n'), 20);
    expect(String(await fedLine)).toBe('in time\n');
    const error = await failed;
    const waited = performance.now() - started;
    expect(isSrvError(error, 'SRV_ERR_TIMEOUT')).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(95);
    expect(waited).toBeLessThan(1000);
    expect(silent.destroyed).toBe(true);
    expect(fed.destroyed).toBe(false);
    fed.end();
    expect((await fedReader.readline()).length).toBe(0);
  });

  it('passes a stream error to the waiting read', async () => {
    const source = new PassThrough();
    const reader = new LineReader(source);
    const pending = reader.readline();
    source.destroy(new Error('boom'));
    await expect(pending).rejects.toThrow('boom');
  });

  it('reports the error of a source that failed before the reader attached, not a clean end', async () => {
    const source = new PassThrough();
    source.on('error', () => {});
    source.destroy(new Error('cut off'));
    await new Promise((resolve) => source.once('close', resolve));
    await expect(new LineReader(source).read()).rejects.toThrow('cut off');
  });
});

describe('StreamWriter', () => {
  it('resolves at once with room, waits for drain when full, refuses after the end', async () => {
    const target = new PassThrough({ highWaterMark: 4 });
    const writer = new StreamWriter(target);
    await writer.write('ab');
    let drained = false;
    const full = writer.write('cdefgh').then(() => {
      drained = true;
    });
    await Promise.resolve();
    expect(drained).toBe(false);
    target.read();
    await full;
    expect(drained).toBe(true);
    target.end();
    const refused = await writer.write('x').catch((caught: unknown) => caught);
    expect(isSrvError(refused, 'SRV_ERR_SERVER_CLOSED')).toBe(true);
  });
});
