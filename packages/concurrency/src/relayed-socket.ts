import { Duplex } from 'node:stream';
import type { ConnectionInfo } from '@srv/core';
import { ChunkPool, chunkSourceKey } from './chunk-pool.js';
import {
  ackThreshold,
  defaultRelayWindow,
  type ExchangeHead,
  post,
  type RelayMessage,
  type RelayPort,
  smallChunk,
  toBuffer,
  trailersMarker,
} from './relay.js';

/** Where an exchange's socket holds the request's parsed head (read by @srv/http's `HTTPServer`). */
const headMarker = Symbol.for('srv.http.forwarded-head');

/** This thread's memory of large writes, back from the main thread (see chunk-pool.ts). */
const chunkPool = new ChunkPool();
/** What a relayed socket lends its writers (see `chunkSourceKey`). */
const takeChunk = (size: number): Buffer | undefined => chunkPool.take(size);

/**
 * Worker end of a relayed connection: a `Duplex` that looks enough like a `net.Socket` for handlers
 * and for `node:http` (`emit('connection', socket)`): address fields, `encrypted` for TLS, a real idle
 * `setTimeout`, `setNoDelay`/`setKeepAlive` forwarded to the real socket, `destroySoon`.
 */
export class RelayedSocket extends Duplex {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly remoteFamily: string | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** `true` when the client spoke TLS to the main thread (node:http reads it for `https`). */
  readonly encrypted: true | undefined;
  /** Bytes handed to the relay so far. */
  bytesWritten = 0;
  /** Bytes received from the relay so far. */
  bytesRead = 0;
  readonly #port: RelayPort;
  readonly #window: number;
  readonly #threshold: number;
  #unacked = 0;
  #owed = 0;
  #blocked: (() => void) | undefined;
  /** Bytes of the write that waits (`#blocked`). */
  #blockedBytes = 0;
  #remoteClosed = false;
  #timeout = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #exchange: boolean;
  #message: unknown = null;
  /** Lends memory of written chunks to a writer (@srv/static's file reads): see chunk-pool.ts. */
  readonly [chunkSourceKey] = takeChunk;

  /**
   * `head`: the port carries one HTTP request and its response (threading's `forwardsRequests`), not a
   * connection. The request arrives parsed: `head` is its head, the readable side its decoded body
   * (ending with the body, trailers kept under a marker), and @srv/http's server builds the handler's
   * request from it with no parser. Once the response is done this socket tells the primary (`fin`,
   * when the worker's server kept its end open; an ended socket says `end` itself) and closes.
   */
  constructor(port: RelayPort, info: ConnectionInfo, window = defaultRelayWindow, head?: ExchangeHead) {
    super({ allowHalfOpen: true });
    this.#port = port;
    const exchange = head !== undefined;
    this.#exchange = exchange;
    // @srv/http's HTTPServer serves such a stream from its head, even while shutting down: its request
    // is in flight.
    if (exchange) Object.defineProperty(this, headMarker, { value: head });
    this.#window = window;
    this.#threshold = ackThreshold(window);
    const isUnix = info.remote.family === 'unix';
    this.remoteAddress = isUnix ? undefined : info.remote.host;
    this.remotePort = isUnix ? undefined : info.remote.port;
    this.remoteFamily = isUnix ? undefined : info.remote.family;
    this.localAddress = isUnix ? undefined : info.local.host;
    this.localPort = isUnix ? undefined : info.local.port;
    this.encrypted = info.tls ? true : undefined;
    chunkPool.use();
    port.on('message', (message: RelayMessage) => this.#receive(message));
    port.on('close', () => {
      this.#remoteClosed = true;
      this.destroy();
    });
    port.start();
  }

  /** The response `node:http` is writing here; it clears it once that response has finished. */
  get _httpMessage(): unknown {
    return this.#message;
  }

  set _httpMessage(value: unknown) {
    const previous = this.#message;
    this.#message = value;
    // Node detaches a finished response, then (in the same turn) ends the socket if the response
    // was the connection's last: judge one tick later.
    if (this.#exchange && previous && !value) process.nextTick(() => this.#responseDone());
  }

  #responseDone(): void {
    if (this.destroyed || this.writableEnded || this.#remoteClosed || this.#message) return;
    this.#lastWord({ t: 'fin' });
    this.destroy();
  }

  /** An exchange's `fin` or `end`: the primary closes its end on it, so nothing follows. */
  #lastWord(message: RelayMessage): void {
    this.#port.postMessage(message);
    this.#remoteClosed = true;
    this.#port.detach?.();
  }

  #receive(message: RelayMessage): void {
    switch (message.t) {
      case 'data': {
        this.#touch();
        const bytes = toBuffer(message.b);
        const length = bytes.length;
        this.bytesRead += length;
        this.#owed += length;
        if (this.push(bytes)) this.#ack();
        break;
      }
      case 'ack':
        if (message.back !== undefined) for (const buffer of message.back) chunkPool.give(buffer);
        this.#unacked -= message.n;
        if (this.#blocked && this.#unacked - this.#blockedBytes < this.#window) {
          const resume = this.#blocked;
          this.#blocked = undefined;
          resume();
        }
        break;
      case 'end':
        if (message.tr !== undefined) {
          Object.defineProperty(this, trailersMarker, { value: message.tr, configurable: true });
        }
        this.push(null);
        break;
      case 'close':
        this.#remoteClosed = true;
        this.destroy();
        break;
      default:
        break;
    }
  }

  /** Acknowledges what was received and has room, once it reaches the threshold (see relay.ts). */
  #ack(): void {
    if (this.#owed < this.#threshold || this.#remoteClosed) return;
    this.#port.postMessage({ t: 'ack', n: this.#owed } satisfies RelayMessage);
    this.#owed = 0;
  }

  override _read(): void {
    this.#ack();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#send([chunk], callback);
  }

  /**
   * Chunks `node:http` corked together (a response's head and body, say) go as one message, so the
   * primary writes them to its response at once; large ones are copied into messages of their own
   * anyway (see `post`).
   */
  override _writev(
    chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>,
    callback: (error?: Error | null) => void,
  ): void {
    let total = 0;
    for (const entry of chunks) total += entry.chunk.length;
    const buffers = chunks.map((entry) => entry.chunk);
    this.#send(
      total > smallChunk || buffers.length === 1 ? buffers : [Buffer.concat(buffers, total)],
      callback,
    );
  }

  #send(chunks: Buffer[], callback: (error?: Error | null) => void): void {
    if (this.#remoteClosed) {
      callback(Object.assign(new Error('write after the connection closed'), { code: 'EPIPE' }));
      return;
    }
    this.#touch();
    const before = this.#unacked;
    for (const chunk of chunks) {
      post(this.#port, chunk, chunkPool);
      this.bytesWritten += chunk.length;
      this.#unacked += chunk.length;
    }
    // A write is called back once the bytes in flight before it are under the window, so the primary
    // always holds the next chunk while its socket sends the one before. With only "all in flight under
    // the window", a chunk as large as the window (a file streamed in 1 MiB reads) went one at a time:
    // the client's socket sat idle from each drain until the worker's next read arrived. In flight: at
    // most the window plus two writes.
    if (before < this.#window) callback();
    else {
      this.#blockedBytes = this.#unacked - before;
      this.#blocked = () => callback();
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.#remoteClosed) {
      // Nothing to tell.
    } else if (this.#exchange) {
      this.#lastWord({ t: 'end' });
      // Its one request is over; the readable side never ends (the primary holds the connection).
      this.once('finish', () => this.destroy());
    } else this.#port.postMessage({ t: 'end' } satisfies RelayMessage);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#clearTimer();
    chunkPool.release();
    if (!this.#remoteClosed) {
      this.#remoteClosed = true;
      this.#port.postMessage({ t: 'close' } satisfies RelayMessage);
    }
    this.#port.close();
    const blocked = this.#blocked;
    this.#blocked = undefined;
    blocked?.();
    callback(error);
  }

  #touch(): void {
    if (this.#timeout > 0 && this.#timer) this.#timer.refresh();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Like `net.Socket#setTimeout`: emits `timeout` after `ms` without traffic; 0 disables. */
  setTimeout(ms: number, callback?: () => void): this {
    this.#clearTimer();
    this.#timeout = ms;
    if (callback) this.once('timeout', callback);
    if (ms > 0 && !this.destroyed) {
      this.#timer = setTimeout(() => this.emit('timeout'), ms);
      this.#timer.unref();
    }
    return this;
  }

  /**
   * Forwarded to the real socket in the main thread. Not for an exchange: the primary's server set it on
   * its connection, and `node:http` here sets it for every request (a message each time, for nothing).
   */
  setNoDelay(noDelay = true): this {
    if (!this.#remoteClosed && !this.#exchange)
      this.#port.postMessage({ t: 'noDelay', v: noDelay } satisfies RelayMessage);
    return this;
  }

  /** Forwarded to the real socket in the main thread (not for an exchange, as `setNoDelay`). */
  setKeepAlive(enable = false, initialDelay = 0): this {
    if (!this.#remoteClosed && !this.#exchange) {
      this.#port.postMessage({ t: 'keepAlive', v: enable, d: initialDelay } satisfies RelayMessage);
    }
    return this;
  }

  /** Ends the writable side, then destroys once everything was handed over (as `net.Socket` does). */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /** The server's end, as `net.Socket#address()` reports it. */
  address(): { address: string; family: string; port: number } | Record<string, never> {
    if (this.localAddress === undefined) return {};
    return {
      address: this.localAddress,
      family: this.localAddress.includes(':') ? 'IPv6' : 'IPv4',
      port: this.localPort ?? 0,
    };
  }

  /** No-op: the relay holds no handle of its own. */
  ref(): this {
    return this;
  }

  /** No-op: the relay holds no handle of its own. */
  unref(): this {
    return this;
  }
}
