import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ConnectionInfo, RequestInfo, ServerRequest, SocketAddress } from '@srv/core';
import type { Problem } from './diagnose.js';

/** The length of the PROXY header @srv/core's listener read from a socket (its `bytesRead` counts it). */
const proxyHeaderBytesKey = Symbol.for('srv.proxyHeaderBytes');

/** Where a connection stands: waiting for a request, reading one, or handling one. */
export type Phase = 'idle' | 'reading' | 'active';

/** Where a socket keeps its {@link Connection}. */
export const connectionKey: unique symbol = Symbol('srv.http.connection');
/** A socket with what srv and Node hang on it. */
export type Tagged = Duplex & { [connectionKey]?: Connection; bytesRead?: number; _httpMessage?: unknown };

/** What srv tracks per connection: the parser can't (it never listens), so timeouts live here. */
export class Connection {
  readonly socket: Tagged;
  readonly clientAddress: SocketAddress;
  readonly info: RequestInfo;
  readonly started: number;
  phase: Phase = 'idle';
  fresh = true;
  since: number;
  mark = 0;
  readingSince = 0;
  counted = 0;
  pending = 0;
  bodyRequest: IncomingMessage | undefined;
  bodySince = 0;
  /** The latest request has gone to the dispatcher (a parser error after that is a body error). */
  dispatched = false;
  /** Output bytes waiting and taken by the client's TCP stack at the last tick, and when it last took some. */
  unsent = 0;
  sent = 0;
  sendingSince: number;
  /** The server cut the connection and has said why in the log (no second line for it). */
  cut = false;
  /** A request whose framing failed in the bytes that came with its head: answered, never handled. */
  rejected: { req: IncomingMessage; problem: Problem } | undefined;
  closing = false;
  /** The connection's first chunk had no line break: its request line is longer than that chunk. */
  firstLineOpen = false;
  /** The next request's handling waits for this (pipelined requests run one after another). */
  tail: Promise<void> = Promise.resolve();
  /** What each of its requests is, to the dispatcher. */
  readonly serverRequest: ServerRequest;
  readonly done: Promise<void>;
  readonly #countsItself: boolean;

  constructor(socket: Duplex, clientAddress: SocketAddress, info: RequestInfo) {
    this.socket = socket as Tagged;
    this.clientAddress = clientAddress;
    this.info = info;
    this.started = performance.now();
    this.since = this.started;
    this.sendingSince = this.started;
    this.#countsItself = typeof this.socket.bytesRead === 'number';
    // A PROXY protocol header (read by the listener) is no request byte: a connection that sent only
    // that is idle, and closes silently at its timeout or on shutdown.
    if (this.#countsItself)
      this.mark = (socket as Duplex & { [proxyHeaderBytesKey]?: number })[proxyHeaderBytesKey] ?? 0;
    this.serverRequest = { kind: 'stream', request: socket, info: info as ConnectionInfo };
    const ended = new Promise<void>((resolve) => {
      if (socket.destroyed) resolve();
      socket.once('close', () => resolve());
      socket.once('finish', () => resolve());
    });
    this.done = ended.then(() => this.#settled());
  }

  async #settled(): Promise<void> {
    let tail: Promise<void>;
    do {
      tail = this.tail;
      await tail;
    } while (tail !== this.tail);
  }

  /**
   * Bytes written but not yet taken by the client's TCP stack: the stream's buffer plus libuv's write
   * queue (which shrinks with every byte the kernel accepts, also within one large write).
   */
  unsentBytes(): number {
    const handle = (this.socket as Tagged & { _handle?: { writeQueueSize?: number } | null })._handle;
    return this.socket.writableLength + (handle?.writeQueueSize ?? 0);
  }

  /**
   * Bytes the kernel has accepted so far (handed to libuv minus what still waits in its queue), for a
   * socket with a native handle; undefined for other streams (TLS over a relay, worker streams).
   * A level such as {@link unsentBytes} cannot tell a stalled client from one that reads as fast as
   * the handler refills the queue: this counter only moves when the client takes bytes.
   */
  sentBytes(): number | undefined {
    const socket = this.socket as Tagged & {
      _bytesDispatched?: number;
      _handle?: { writeQueueSize?: number } | null;
    };
    const queued = socket._handle?.writeQueueSize;
    return typeof socket._bytesDispatched === 'number' && typeof queued === 'number'
      ? socket._bytesDispatched - queued
      : undefined;
  }

  /** Bytes received so far: the handle's counter for sockets (the parser reads them in C++). */
  bytes(): number {
    return this.#countsItself ? (this.socket.bytesRead ?? 0) : this.counted;
  }

  countData(): void {
    if (this.#countsItself) return;
    this.socket.on('data', (chunk: Buffer | string) => {
      this.counted += chunk.length;
    });
  }

  /** A connection with nothing in flight and no new bytes since its last response. */
  get idle(): boolean {
    return this.pending === 0 && this.phase === 'idle' && this.bytes() === this.mark;
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    if (!this.socket.destroyed) this.socket.end();
  }
}

/** The connection a socket (or a forwarded request's stream) is served as, while it is tracked. */
export function connectionOf(socket: Duplex): Connection | undefined {
  return (socket as Tagged)[connectionKey];
}
