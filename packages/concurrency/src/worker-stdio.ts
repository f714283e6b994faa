/**
 * A worker thread's `process.stdout` and `process.stderr` hand every write to the main thread by
 * message, which writes it to the real stream: one more message, wake-up and stream write in the main
 * thread per `console.log`. A handler that prints a line per request (the tutorial's `Handling with
 * thread …`) and the access log (one line per request) cost the main thread more than the request
 * itself (measured: `srv-demo threading`, one connection per request, about twice the server CPU per
 * request of `--quiet`). Python's threads write to the file descriptor themselves; so do srv's: each
 * chunk goes to fd 1 or 2 with a synchronous `write(2)`, as the main thread itself writes to files and
 * pipes on Linux and macOS. A write the descriptor refuses (a non-blocking pipe that is full, a closed
 * descriptor) falls back to Node's path for it and every later chunk, so nothing is lost or reordered.
 */
import { writeSync } from 'node:fs';
import type { Writable } from 'node:stream';

type Chunk = { chunk: Buffer | string; encoding: BufferEncoding | 'buffer' };
type Writev = (chunks: Chunk[], callback: (error?: Error | null) => void) => void;

/** Writes `bytes` to `fd` from `offset` on; returns how far it got (all of it, unless it threw). */
function writeAll(fd: number, bytes: Buffer, progress: { offset: number }): void {
  while (progress.offset < bytes.length) {
    progress.offset += writeSync(fd, bytes, progress.offset, bytes.length - progress.offset);
  }
}

/** Makes `stream` (a worker's stdout or stderr) write its chunks to `fd` itself. */
export function writeDirectly(stream: Writable, fd: number): void {
  const relay = (stream as Writable & { _writev?: Writev })._writev;
  if (typeof relay !== 'function') return;
  let direct = true;
  const writev: Writev = (chunks, callback) => {
    if (!direct) {
      relay.call(stream, chunks, callback);
      return;
    }
    for (let index = 0; index < chunks.length; index++) {
      const { chunk, encoding } = chunks[index]!;
      const bytes =
        typeof chunk === 'string'
          ? Buffer.from(chunk, encoding === 'buffer' ? 'utf8' : encoding)
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      const progress = { offset: 0 };
      try {
        writeAll(fd, bytes, progress);
      } catch {
        // From here on the main thread writes, starting with what this write left.
        direct = false;
        const rest: Chunk[] = [
          { chunk: bytes.subarray(progress.offset), encoding: 'buffer' },
          ...chunks.slice(index + 1),
        ];
        relay.call(stream, rest, callback);
        return;
      }
    }
    callback();
  };
  Object.defineProperty(stream, '_writev', { value: writev, configurable: true, writable: true });
}
