import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { writeDirectly } from '../../src/worker-stdio.js';

type Chunk = { chunk: Buffer | string; encoding: string };

/** A stand-in for a worker's stdout: a Writable whose `_writev` records what it would post. */
function workerStdio() {
  const relayed: Chunk[][] = [];
  const stream = new Writable({
    decodeStrings: false,
    writev(chunks, callback) {
      relayed.push(chunks.map(({ chunk, encoding }) => ({ chunk, encoding })));
      callback();
    },
  });
  return { stream, relayed };
}

function tempFile(): { fd: number; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'srv-stdio-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'out');
  const fd = openSync(file, 'w');
  return { fd, file };
}

const written = (stream: Writable, chunk: string | Buffer) =>
  new Promise<void>((resolve, reject) => stream.write(chunk, (error) => (error ? reject(error) : resolve())));

describe('writeDirectly', () => {
  it('writes every chunk to the descriptor itself, in order, and posts nothing', async () => {
    const { stream, relayed } = workerStdio();
    const { fd, file } = tempFile();
    onTestFinished(() => closeSync(fd));
    writeDirectly(stream, fd);
    await written(stream, 'Handling with thread Thread-1\n');
    await written(stream, Buffer.from('bytes é\n'));
    stream.cork();
    stream.write('a');
    stream.write(Buffer.from('b'));
    stream.write('ü\n');
    stream.uncork();
    await written(stream, '');
    expect(readFileSync(file, 'utf8')).toBe('Handling with thread Thread-1\nbytes é\nabü\n');
    expect(relayed).toEqual([]);
  });

  it('falls back to the main thread for a write the descriptor refuses, and for every later one', async () => {
    const { stream, relayed } = workerStdio();
    const { fd } = tempFile();
    closeSync(fd);
    writeDirectly(stream, fd);
    await written(stream, 'first\n');
    await written(stream, 'second\n');
    const text = relayed.flat().map(({ chunk }) => Buffer.from(chunk).toString());
    expect(text).toEqual(['first\n', 'second\n']);
  });
});
