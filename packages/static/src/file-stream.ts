import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';

/** The first read of a range, and the size a client that makes the copy wait falls back to. */
export const minChunk = 64 * 1024;
/** The largest read, for a client that takes everything as fast as it comes. */
export const maxChunk = 1024 * 1024;

/** Bytes a reader must have taken before its reads grow: more than 200 slow readers take in 10 s. */
export const rampAfter = 8 * 1024 * 1024;
/** A wait for the client longer than this (ms) marks a slow reader: reads drop back to 64 KiB. */
const slowDrainMs = 20;

/**
 * Set on a chunk whose memory its consumer may take over (see {@link FileRangeStream}'s `transferable`):
 * a worker thread's relay (@srv/concurrency) then moves the chunk's bytes to the main thread instead of
 * copying them. Shared by name across packages, like Node's `Symbol.for` keys.
 */
export const transferableKey: unique symbol = Symbol.for('srv.transferable') as never;

/**
 * The property of a socket that lends memory for the chunks written to it: `(size) => Buffer |
 * undefined` (a worker thread's relayed socket of @srv/concurrency, whose main thread hands the memory
 * of written chunks back). Shared by name across packages.
 */
export const chunkSourceKey: unique symbol = Symbol.for('srv.chunk-source') as never;

/** Lends a buffer of `size` bytes with memory of its own, or undefined (see {@link chunkSourceKey}). */
export type ChunkSource = (size: number) => Buffer | undefined;

/** The chunk source of `socket`, if it offers one. */
export function chunkSourceOf(socket: unknown): ChunkSource | undefined {
  if (typeof socket !== 'object' || socket === null) return undefined;
  const source = (socket as { [chunkSourceKey]?: unknown })[chunkSourceKey];
  return typeof source === 'function' ? (source as ChunkSource) : undefined;
}

/**
 * One range of an open file (both ends inclusive) as a stream whose reads grow while its reader keeps
 * up. Reads are 64 KiB until the reader has taken 8 MiB; from then on each doubles, up to 1 MiB, as
 * long as every wait for the client (the copy pauses this stream while the socket drains) ends within
 * 20 ms; a longer wait drops them back to 64 KiB. A slow reader so holds about two small chunks (200
 * of them stay well under 64 MB, as with plain 64 KiB reads), while a fast one gets the large reads
 * that keep a 100 MB download near the loopback's speed. The handle stays open (the caller closes
 * it); destroying the stream stops reading at once.
 */
export class FileRangeStream extends Readable {
  readonly #handle: FileHandle;
  #position: number;
  readonly #start: number;
  readonly #end: number;
  #chunk = minChunk;
  #reading = false;
  #pausedAt = 0;
  readonly #transferable: boolean;
  readonly #source: ChunkSource | undefined;

  /**
   * `transferable`: every chunk is a buffer of its own that nothing reads after the consumer wrote it
   * (srv's own copy loop), so it is marked with {@link transferableKey}; such a stream reads its full
   * chunks into memory `source` lends, when it has some (see {@link chunkSourceKey}).
   */
  constructor(handle: FileHandle, start: number, end: number, transferable = false, source?: ChunkSource) {
    // highWaterMark 0: nothing is read ahead of what the copy asks for beyond the chunk in flight.
    super({ highWaterMark: 0 });
    this.#transferable = transferable;
    this.#source = transferable ? source : undefined;
    this.#handle = handle;
    this.#position = start;
    this.#start = start;
    this.#end = end;
    this.on('pause', () => {
      this.#pausedAt = performance.now();
    });
    this.on('resume', () => {
      if (this.#pausedAt !== 0 && performance.now() - this.#pausedAt > slowDrainMs) this.#chunk = minChunk;
    });
  }

  /** Bytes read from the file so far (as `fs.ReadStream` has it). */
  get bytesRead(): number {
    return this.#position - this.#start;
  }

  override _read(): void {
    if (this.#reading) return;
    const remaining = this.#end - this.#position + 1;
    if (remaining <= 0) {
      this.push(null);
      return;
    }
    const size = Math.min(this.#chunk, remaining);
    this.#reading = true;
    const buffer = this.#source?.(size) ?? Buffer.allocUnsafe(size);
    this.#handle.read(buffer, 0, size, this.#position).then(
      ({ bytesRead }) => {
        this.#reading = false;
        if (this.destroyed) return;
        if (bytesRead === 0) {
          // The file shrank under us: end here (the response is then short and the client sees it).
          this.push(null);
          return;
        }
        this.#position += bytesRead;
        if (this.#chunk < maxChunk && this.bytesRead >= rampAfter) this.#chunk *= 2;
        if (bytesRead !== size) this.push(buffer.subarray(0, bytesRead));
        else {
          // A small read shares Node's buffer pool: only a buffer with memory of its own can move.
          if (this.#transferable && buffer.byteLength === buffer.buffer.byteLength) {
            Object.defineProperty(buffer, transferableKey, { value: true });
          }
          this.push(buffer);
        }
        if (this.#position > this.#end) this.push(null);
      },
      (error: Error) => {
        this.#reading = false;
        this.destroy(error);
      },
    );
  }
}
