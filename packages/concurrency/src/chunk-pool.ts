/**
 * Memory a worker thread's large writes travel in, handed back for the next ones. A chunk of a
 * response moves to the main thread (transferred, not copied), and without a way back each one was a
 * fresh allocation in the worker: the kernel faults in and zeroes every page of it on the first read
 * into it, and the main thread's collector frees it once the socket took the bytes. Once the main
 * thread's socket has written a chunk it returns its memory with the next acknowledgement (see
 * relay.ts), and the worker reads or copies its next chunks into it.
 */

/**
 * The property of a worker's relayed socket that lends memory for a chunk about to be written to it:
 * `(size) => Buffer | undefined` (undefined: none of that size is free; allocate as usual). A buffer
 * it lends has memory of its own, and its writer must let go of it once written, as of a chunk marked
 * `Symbol.for('srv.transferable')`. Shared by name across packages (@srv/static's file reads use it).
 */
export const chunkSourceKey: unique symbol = Symbol.for('srv.chunk-source') as never;

/** Bytes of returned memory a thread keeps at most (four 1 MiB reads of a fast download, twice). */
export const chunkPoolLimit = 8 * 1024 * 1024;

/**
 * Returned memory of one thread, by size. Only whole `ArrayBuffer`s of the sizes writers ask for are
 * kept; a buffer that would pass {@link chunkPoolLimit} is left to the collector. Everything is let go
 * once no relayed socket of the thread is open, so an idle thread holds none.
 */
export class ChunkPool {
  readonly #free = new Map<number, ArrayBuffer[]>();
  readonly #limit: number;
  #bytes = 0;
  #users = 0;

  constructor(limit = chunkPoolLimit) {
    this.#limit = limit;
  }

  /** Bytes held right now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** A relayed socket opened: returned memory is worth keeping. */
  use(): void {
    this.#users += 1;
  }

  /** A relayed socket closed; the last one lets go of everything held. */
  release(): void {
    this.#users = Math.max(0, this.#users - 1);
    if (this.#users === 0) this.clear();
  }

  /** Keeps `buffer` for a later {@link take} of its size (a detached or empty one is ignored). */
  give(buffer: ArrayBuffer): void {
    const size = buffer.byteLength;
    if (size === 0 || this.#users === 0 || this.#bytes + size > this.#limit) return;
    const list = this.#free.get(size);
    if (list === undefined) this.#free.set(size, [buffer]);
    else list.push(buffer);
    this.#bytes += size;
  }

  /** A buffer of exactly `size` bytes over returned memory, or undefined when none is free. */
  take(size: number): Buffer | undefined {
    const buffer = this.#free.get(size)?.pop();
    if (buffer === undefined) return undefined;
    this.#bytes -= size;
    return Buffer.from(buffer);
  }

  /** Lets go of everything held. */
  clear(): void {
    this.#free.clear();
    this.#bytes = 0;
  }
}
