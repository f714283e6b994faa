import type { Readable, Writable } from 'node:stream';
import { createError } from './errors.js';

const newline = 0x0a;
// One shared empty buffer for every reader that has read nothing yet (a zero-length view cannot change).
const empty = Buffer.alloc(0);
const settled: Promise<void> = Promise.resolve();
/** The reader attached to a stream, for the shared listeners. */
const readerKey = Symbol('srv.lineReader');
type Keyed = Readable & { [readerKey]?: LineReader };

/** Options of a {@link LineReader}. */
export interface LineReaderOptions {
  /** Longest line `readline()` (without a limit) and line iteration accept, in bytes. Default 65536. */
  maxLineLength?: number;
  /** Milliseconds a read may wait for data before failing with `SRV_ERR_TIMEOUT` (at most a quarter more); 0 = never. */
  timeout?: number;
  /** Bytes buffered before the source is paused (backpressure). Default 65536. */
  highWaterMark?: number;
}

/**
 * The waiting reads of every {@link LineReader} with one timeout value, under one timer: a waiting read
 * is a map entry, and the timer runs every quarter of the timeout while any read waits. A timer armed
 * and cleared per read costs more, and on a one-line protocol every connection makes such a read. A read
 * fails after its timeout, at most a quarter of it later.
 */
class ReadTimeouts<T> {
  readonly #tickMs: number;
  readonly #expire: (reader: T) => void;
  /** Each waiting reader and the tick at which its read fails. */
  readonly #waiting = new Map<T, number>();
  #ticks = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(timeout: number, expire: (reader: T) => void) {
    this.#tickMs = Math.max(1, timeout / 4);
    this.#expire = expire;
  }

  add(reader: T): void {
    // Five ticks from now: more than four quarters of the timeout, at most five.
    this.#waiting.set(reader, this.#ticks + 5);
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#sweep(), this.#tickMs);
    this.#timer.unref();
  }

  delete(reader: T): void {
    this.#waiting.delete(reader);
  }

  #sweep(): void {
    this.#ticks += 1;
    for (const [reader, deadline] of this.#waiting) {
      if (this.#ticks < deadline) continue;
      this.#waiting.delete(reader);
      this.#expire(reader);
    }
    if (this.#waiting.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}

/**
 * Python's `rfile`: buffered, line-oriented reading of a byte stream with limits. It attaches to the
 * stream on the first read, so a handler that never reads leaves the stream untouched.
 */
export class LineReader implements AsyncIterable<Buffer> {
  /** Longest accepted line, in bytes. */
  readonly maxLineLength: number;
  readonly #source: Readable | undefined;
  readonly #timeout: number;
  readonly #highWaterMark: number;
  #buffer: Buffer;
  #ended: boolean;
  #error: Error | undefined;
  #attached = false;
  #wake: (() => void) | undefined;
  /** The shared timer of this reader's timeout (undefined: no timeout). */
  readonly #timeouts: ReadTimeouts<LineReader> | undefined;

  /** One {@link ReadTimeouts} per timeout value, shared by every reader with that value. */
  static readonly #timeoutsByValue = new Map<number, ReadTimeouts<LineReader>>();

  static #timeoutsOf(timeout: number): ReadTimeouts<LineReader> {
    let timeouts = LineReader.#timeoutsByValue.get(timeout);
    if (timeouts === undefined) {
      timeouts = new ReadTimeouts<LineReader>(timeout, (reader) => reader.#timedOut());
      LineReader.#timeoutsByValue.set(timeout, timeouts);
    }
    return timeouts;
  }

  /** Reads from a stream, or from a fixed buffer (a datagram) when given one. */
  constructor(source: Readable | Buffer, options: LineReaderOptions = {}) {
    this.maxLineLength = options.maxLineLength ?? 65536;
    this.#timeout = options.timeout ?? 0;
    this.#timeouts = this.#timeout > 0 ? LineReader.#timeoutsOf(this.#timeout) : undefined;
    this.#highWaterMark = Math.max(options.highWaterMark ?? 65536, this.maxLineLength + 1);
    if (Buffer.isBuffer(source)) {
      this.#source = undefined;
      this.#buffer = source;
      this.#ended = true;
    } else {
      this.#source = source;
      this.#buffer = empty;
      this.#ended = false;
    }
  }

  /** Bytes received and not read yet. */
  get bufferedLength(): number {
    return this.#buffer.length;
  }

  #attach(): void {
    const source = this.#source as Keyed | undefined;
    if (this.#attached || source === undefined) return;
    this.#attached = true;
    if (source[readerKey] === undefined) {
      // The usual case, one reader per stream: four shared listeners find the reader on the stream.
      source[readerKey] = this;
      source.on('data', LineReader.#onData);
      source.on('end', LineReader.#onEnd);
      source.on('close', LineReader.#onEnd);
      source.on('error', LineReader.#onError);
    } else {
      source.on('data', (chunk: Buffer | string) => this.#push(chunk));
      source.on('end', () => this.#end());
      source.on('close', () => this.#end());
      source.on('error', (error: Error) => this.#fail(error));
    }
    // A source that failed before this reader attached: its error, not a clean end (a request body
    // cut off by bad framing must not look complete to a handler).
    const errored = (source as Keyed & { errored?: Error | null }).errored;
    if (errored) this.#error = errored;
    else if (source.readableEnded || source.destroyed) this.#ended = true;
  }

  static readonly #onData = function onData(this: Keyed, chunk: Buffer | string): void {
    const reader = this[readerKey];
    if (reader) reader.#push(chunk);
  };

  static readonly #onEnd = function onEnd(this: Keyed): void {
    const reader = this[readerKey];
    if (reader) reader.#end();
  };

  static readonly #onError = function onError(this: Keyed, error: Error): void {
    const reader = this[readerKey];
    if (reader) reader.#fail(error);
  };

  #push(chunk: Buffer | string): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.#buffer = this.#buffer.length === 0 ? bytes : Buffer.concat([this.#buffer, bytes]);
    if (this.#buffer.length >= this.#highWaterMark) this.#source?.pause();
    this.#wakeUp();
  }

  #end(): void {
    this.#ended = true;
    this.#wakeUp();
  }

  #fail(error: Error): void {
    this.#error ??= error;
    this.#wakeUp();
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** Waits for more bytes, the end, an error or the read timeout (one promise, no async frame). */
  #more(): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#ended) return settled;
    this.#source?.resume();
    return new Promise<void>((resolve, reject) => {
      const timeouts = this.#timeouts;
      this.#wake = () => {
        timeouts?.delete(this);
        if (this.#error) reject(this.#error);
        else resolve();
      };
      timeouts?.add(this);
    });
  }

  /** The read waited past the timeout: it fails with `SRV_ERR_TIMEOUT` and the source is destroyed. */
  #timedOut(): void {
    if (this.#wake === undefined) return;
    this.#error = createError('SRV_ERR_TIMEOUT', `no data for ${this.#timeout} ms`);
    this.#wakeUp();
    this.#source?.destroy();
  }

  #take(length: number): Buffer {
    const buffer = this.#buffer;
    // All of it (a one-line request, the usual case): no views to make.
    if (length === buffer.length) {
      this.#buffer = empty;
      if (this.#source?.isPaused()) this.#source.resume();
      return buffer;
    }
    const result = buffer.subarray(0, length);
    this.#buffer = buffer.subarray(length);
    if (this.#buffer.length < this.#highWaterMark && this.#source?.isPaused()) this.#source.resume();
    return result;
  }

  /**
   * Reads one line, newline included; an empty buffer at end of input. With an explicit `limit`,
   * returns at most `limit` bytes like Python; without one, a line longer than `maxLineLength` fails
   * with `SRV_ERR_LINE_TOO_LONG` instead of buffering without bound.
   */
  async readline(limit?: number): Promise<Buffer> {
    this.#attach();
    const max = limit ?? this.maxLineLength;
    let searched = 0;
    for (;;) {
      const buffer = this.#buffer;
      const end = Math.min(buffer.length, max);
      // A view only to keep the search within `max`: none when the whole buffer is within it.
      const index = (end === buffer.length ? buffer : buffer.subarray(0, end)).indexOf(newline, searched);
      if (index !== -1) return this.#take(index + 1);
      searched = end;
      if (this.#buffer.length >= max) {
        if (limit !== undefined) return this.#take(limit);
        throw createError('SRV_ERR_LINE_TOO_LONG', `line longer than ${this.maxLineLength} bytes`);
      }
      if (this.#ended) return this.#take(this.#buffer.length);
      await this.#more();
    }
  }

  /** Reads exactly `size` bytes, fewer only at end of input; without `size`, everything until the end. */
  async read(size?: number): Promise<Buffer> {
    this.#attach();
    if (size !== undefined && (!Number.isInteger(size) || size < 0)) {
      throw createError('SRV_ERR_INVALID_OPTION', `read size must be a non-negative integer, got ${size}`);
    }
    while (!this.#ended && (size === undefined || this.#buffer.length < size)) await this.#more();
    return this.#take(size === undefined ? this.#buffer.length : Math.min(size, this.#buffer.length));
  }

  /** Reads whatever is available (at least one byte unless at end), at most `size` bytes: Python's `read1`. */
  async read1(size = 65536): Promise<Buffer> {
    this.#attach();
    while (!this.#ended && this.#buffer.length === 0) await this.#more();
    return this.#take(Math.min(size, this.#buffer.length));
  }

  /** Lines as strings without their line ending (`\n` or `\r\n`), until end of input. */
  async *lines(encoding: BufferEncoding = 'utf8'): AsyncGenerator<string> {
    for await (const line of this) yield line.toString(encoding).replace(/\r?\n$/, '');
  }

  /** Iterates lines as Python does: bytes with their newline, until end of input. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }
}

/**
 * Python's `wfile`: writes that respect backpressure. `await wfile.write(x)` waits for `drain` when the
 * stream's buffer is full; a write nobody awaits never becomes an unhandled rejection.
 */
export class StreamWriter {
  readonly #target: Writable;

  constructor(target: Writable) {
    this.#target = target;
  }

  /** The underlying writable stream (for `pipeline`). */
  get stream(): Writable {
    return this.#target;
  }

  /** True once the stream can take no more writes. */
  get closed(): boolean {
    return this.#target.destroyed || this.#target.writableEnded;
  }

  /** Writes bytes or a string (UTF-8); resolves when the stream can take more. */
  write(chunk: Uint8Array | string): Promise<void> {
    return this.tryWrite(chunk) ?? settled;
  }

  /**
   * {@link write} for copy loops: `undefined` when the stream took the chunk without asking to wait
   * (nothing to await), otherwise the promise `write` returns.
   */
  tryWrite(chunk: Uint8Array | string): Promise<void> | undefined {
    const target = this.#target;
    if (target.destroyed || target.writableEnded) {
      const refused = Promise.reject(
        createError('SRV_ERR_SERVER_CLOSED', 'write after the connection closed'),
      );
      refused.catch(() => {});
      return refused;
    }
    // Room in the buffer (the usual case): nothing to wait for, no promise or callback to make.
    if (target.write(chunk)) return undefined;
    const promise = new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        target.off('drain', onDrain);
        target.off('close', onClose);
        target.off('error', done);
        if (error) reject(error);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(createError('SRV_ERR_SERVER_CLOSED', 'connection closed while writing'));
      target.on('drain', onDrain);
      target.on('close', onClose);
      target.on('error', done);
    });
    promise.catch(() => {});
    return promise;
  }

  /** Resolves when everything written so far has been handed to the system. */
  flush(): Promise<void> {
    const target = this.#target;
    if (target.destroyed || target.writableLength === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        target.off('drain', done);
        target.off('close', done);
        resolve();
      };
      target.on('drain', done);
      target.on('close', done);
    });
  }

  /** Ends the stream after what was written (half-close for sockets). */
  end(chunk?: Uint8Array | string): Promise<void> {
    const target = this.#target;
    if (target.writableEnded || target.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      target.once('close', resolve);
      target.end(chunk ?? '', () => resolve());
    });
  }
}

/** Collects writes in memory: the `wfile` of a datagram handler, sent as one datagram at the end. */
export class BufferWriter {
  readonly #chunks: Buffer[] = [];

  /** Appends bytes or a string (UTF-8). */
  write(chunk: Uint8Array | string): Promise<void> {
    this.#chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    return Promise.resolve();
  }

  /** Total bytes written. */
  get length(): number {
    return this.#chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  }

  /** Everything written, as one buffer. */
  getValue(): Buffer {
    return Buffer.concat(this.#chunks);
  }
}
