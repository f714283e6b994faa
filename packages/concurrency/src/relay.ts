/**
 * Sockets cannot move to a worker thread in Node, so the socket stays in the main thread and its bytes
 * travel over a `MessagePort` to a {@link RelayedSocket} in the worker. Both directions use a credit
 * window: the sender stops once `window` bytes are unacknowledged and the receiver acknowledges only
 * when it has room (the socket drained, or the reader asked for more), so a slow peer on either side
 * holds at most a window in flight instead of growing a buffer without bound.
 *
 * Acknowledgements are batched: the receiver owes them up to a quarter of the window before it sends
 * one. Every message wakes the other thread, so a short request/response exchange (an HTTP request,
 * a line and its answer) costs two messages instead of four. It cannot stall: a sender waits only with
 * a whole window unacknowledged, and once those bytes have arrived and have room the receiver owes far
 * more than the threshold.
 */
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ChunkPool } from './chunk-pool.js';

/** Default bytes in flight per direction before the sender waits. */
export const defaultRelayWindow = 256 * 1024;

/** Messages on a connection's port, in either direction. */
export type RelayMessage =
  /**
   * Bytes: a transferred copy, or for a small chunk a latin1 string (see {@link post}). `r`: the
   * memory came from a thread that takes it back once written (see chunk-pool.ts).
   */
  | { readonly t: 'data'; readonly b: Uint8Array | string; readonly r?: true }
  /** Credit: `n` bytes were taken; `back`, the memory of written chunks that were sent with `r`. */
  | { readonly t: 'ack'; readonly n: number; readonly back?: ArrayBuffer[] }
  /** The end of the stream; on an exchange's body, with its raw trailer lines (primary to worker). */
  | { readonly t: 'end'; readonly tr?: string[] }
  | { readonly t: 'close' }
  /** Worker to primary, on an exchange: the response is complete and the worker kept its end open. */
  | { readonly t: 'fin' }
  | { readonly t: 'noDelay'; readonly v: boolean }
  | { readonly t: 'keepAlive'; readonly v: boolean; readonly d: number };

/**
 * The end of a relay: a `MessagePort` (a connection), or a {@link MuxPort} on the worker's own channel
 * (an HTTP exchange).
 */
export interface RelayPort {
  postMessage(message: RelayMessage, transfer?: ArrayBuffer[]): void;
  on(event: 'message', listener: (message: RelayMessage) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  start(): void;
  close(): void;
  /** Set when messages and the close travel in order on one channel (a MuxPort). */
  readonly closesInOrder?: boolean;
  /** Closes this end without telling the other (which said it is done): a MuxPort. */
  detach?(): void;
}

/** Bytes a receiver may owe before it must acknowledge them: a quarter of the window (at least 1). */
export function ackThreshold(window: number): number {
  return Math.max(1, Math.floor(window / 4));
}

/** Chunks up to this size travel as latin1 strings. */
export const smallChunk = 16 * 1024;

/**
 * Posts bytes. A Buffer is often a view of a larger pooled ArrayBuffer, and cloning a view clones its
 * whole buffer: a large chunk is copied and the copy transferred. A small one (a request head, a short
 * response) travels as a latin1 string, which is cloned as plain bytes: an ArrayBuffer per message in
 * each thread is work for both garbage collectors, and an HTTP request crosses with a few of them.
 */
export function post(port: RelayPort, chunk: Uint8Array, pool?: ChunkPool): void {
  if (chunk.byteLength <= smallChunk) {
    const text = (Buffer.isBuffer(chunk) ? chunk : toBuffer(chunk)).toString('latin1');
    port.postMessage({ t: 'data', b: text } satisfies RelayMessage);
    return;
  }
  // With a pool, the receiver hands the memory back once written (`r`).
  const data = (b: Uint8Array): RelayMessage =>
    pool === undefined ? { t: 'data', b } : { t: 'data', b, r: true };
  if (isTransferable(chunk)) {
    // Its writer let go of it (a file read of @srv/static): the memory moves, nothing is copied.
    port.postMessage(data(chunk), [chunk.buffer as ArrayBuffer]);
    return;
  }
  const reused = pool?.take(chunk.byteLength);
  const copy = reused === undefined ? new Uint8Array(chunk) : reused;
  if (reused !== undefined) reused.set(chunk);
  port.postMessage(data(copy), [copy.buffer as ArrayBuffer]);
}

/** Set by a writer on a chunk it lets go of once written (@srv/static's file reads). */
const transferableKey = Symbol.for('srv.transferable');

/**
 * Whether `chunk`'s memory may move to the other thread: its writer marked it, and it is the whole of
 * a plain ArrayBuffer (moving a view would take the bytes around it too).
 */
function isTransferable(chunk: Uint8Array): boolean {
  return (
    (chunk as Uint8Array & { [transferableKey]?: boolean })[transferableKey] === true &&
    chunk.byteOffset === 0 &&
    chunk.byteLength === chunk.buffer.byteLength &&
    chunk.buffer instanceof ArrayBuffer
  );
}

/** Received bytes as a Buffer (a view, without copying, of transferred bytes). */
export function toBuffer(bytes: Uint8Array | string): Buffer {
  if (typeof bytes === 'string') return Buffer.from(bytes, 'latin1');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

interface SocketLike extends Duplex {
  setNoDelay?(noDelay?: boolean): unknown;
  setKeepAlive?(enable?: boolean, initialDelay?: number): unknown;
  /** An HTTP exchange (@srv/http): the worker's response is complete. */
  endExchange?(keepAlive: boolean): void;
  /**
   * An HTTP exchange's direct write of the worker's bytes (no writable buffer in between); false: wait
   * for `onRoom`. `onWritten`, when given, is called once the connection's socket wrote the bytes
   * (not when they were only queued), or with an error.
   */
  writeResponse?(chunk: Buffer, onRoom: () => void, onWritten?: (error?: Error | null) => void): boolean;
}

/** Marks an HTTP exchange of @srv/http (a request relayed on its own, not a connection). */
const exchangeMarker = Symbol.for('srv.http.exchange');
/**
 * Where an exchange keeps its body's raw trailer lines once the body has ended (the main thread's
 * `Exchange`, and the worker's stream once the end arrived).
 */
export const trailersMarker = Symbol.for('srv.http.exchange-trailers');

/**
 * An HTTP exchange's head, as @srv/http describes it (plain data: method, target, version, raw header
 * lines, keep-alive verdict, whether a body follows); it travels to the worker as it is.
 */
export type ExchangeHead = Readonly<Record<string, unknown>>;

/** Whether `stream` is an HTTP exchange rather than a connection. */
export function isExchange(stream: Duplex): boolean {
  return exchangeHead(stream) !== undefined;
}

/** An HTTP exchange's head: its marker holds it. */
export function exchangeHead(stream: Duplex): ExchangeHead | undefined {
  const head = (stream as Duplex & { [exchangeMarker]?: unknown })[exchangeMarker];
  return typeof head === 'object' && head !== null ? (head as ExchangeHead) : undefined;
}

/**
 * Lets go of the main-thread end. An exchange that was ended still hands its last bytes to the
 * response first (they wait in its buffer); anything else goes at once.
 */
function release(socket: SocketLike): void {
  if (socket.endExchange && socket.writableEnded && !socket.writableFinished && !socket.destroyed) {
    socket.once('finish', () => socket.destroy());
  } else socket.destroy();
}

/**
 * Main-thread end: pumps `socket` into `port` and the port's bytes into `socket`. `head` holds bytes
 * already read from the socket (the server's look at the request's head); they go first. Resolves
 * when the socket has closed (the port is closed then too).
 */
export function relaySocket(
  socket: Duplex,
  port: RelayPort,
  window = defaultRelayWindow,
  head?: Buffer,
): Promise<void> {
  const target = socket as SocketLike;
  let unacked = 0;
  if (head !== undefined && head.length > 0) {
    post(port, head);
    unacked = head.length;
  }
  let paused = false;
  let owed = 0;
  let waitingDrain = false;
  let portClosed = false;
  const threshold = ackThreshold(window);
  // Memory of written chunks its sender takes back (`r`), returned with the next acknowledgement.
  let spare: ArrayBuffer[] | undefined;

  // `force`: the socket is gone, so nothing will ever drain; release a sender that may be waiting.
  const sendAck = (force = false) => {
    if (owed === 0 || (owed < threshold && !force) || portClosed) return;
    if (spare === undefined) port.postMessage({ t: 'ack', n: owed } satisfies RelayMessage);
    else {
      port.postMessage({ t: 'ack', n: owed, back: spare } satisfies RelayMessage, spare);
      spare = undefined;
    }
    owed = 0;
  };
  // Called back once the socket wrote `bytes` (the kernel has them): only then may their memory go back.
  // Only a real socket (or an exchange, whose response writes to one) is known to keep no reference
  // to a chunk after its write was called back; another stream's chunks stay where they are.
  const recycles = socket instanceof Socket || target.writeResponse !== undefined;
  const recycle = (bytes: Buffer) => (error?: Error | null) => {
    if (error != null || portClosed) return;
    if (spare === undefined) spare = [bytes.buffer as ArrayBuffer];
    else spare.push(bytes.buffer as ArrayBuffer);
  };

  const onRoom = () => {
    waitingDrain = false;
    sendAck();
  };

  socket.on('data', (chunk: Buffer) => {
    if (portClosed) return;
    post(port, chunk);
    unacked += chunk.length;
    if (unacked >= window && !paused) {
      paused = true;
      socket.pause();
    }
  });
  socket.on('end', () => {
    if (portClosed) return;
    // An exchange's body ended: its trailers go with the end.
    const trailers = (socket as Duplex & { [trailersMarker]?: string[] })[trailersMarker];
    port.postMessage(
      trailers !== undefined && trailers.length > 0
        ? ({ t: 'end', tr: trailers } satisfies RelayMessage)
        : ({ t: 'end' } satisfies RelayMessage),
    );
  });
  // A server that read the head paused the socket, and a 'data' listener alone does not undo that.
  if (unacked >= window) {
    paused = true;
    socket.pause();
  } else socket.resume();
  // A socket that waited for a worker may have seen its client's FIN already: with nothing buffered,
  // Node emits 'end' without a reader, and the worker must still learn of it.
  if (socket.readableEnded) port.postMessage({ t: 'end' } satisfies RelayMessage);
  port.on('message', (message: RelayMessage) => {
    switch (message.t) {
      case 'ack':
        unacked -= message.n;
        if (paused && unacked < window) {
          paused = false;
          socket.resume();
        }
        break;
      case 'data': {
        const bytes = toBuffer(message.b);
        owed += bytes.length;
        if (socket.destroyed || socket.writableEnded) {
          sendAck(true);
          break;
        }
        const written = message.r === true && recycles ? recycle(bytes) : undefined;
        if (target.writeResponse) {
          if (target.writeResponse(bytes, onRoom, written)) {
            if (!waitingDrain) sendAck();
          } else waitingDrain = true;
        } else if (socket.write(bytes, written)) {
          if (!waitingDrain) sendAck();
        } else if (!waitingDrain) {
          waitingDrain = true;
          socket.once('drain', onRoom);
        }
        break;
      }
      case 'end':
        if (target.endExchange) {
          // The worker's last word on an exchange (it sends no close after it).
          target.endExchange(false);
          port.detach?.();
        } else socket.end();
        break;
      case 'fin':
        target.endExchange?.(true);
        port.detach?.();
        break;
      case 'close':
        release(target);
        break;
      case 'noDelay':
        target.setNoDelay?.(message.v);
        break;
      case 'keepAlive':
        target.setKeepAlive?.(message.v, message.d);
        break;
    }
  });
  // Worker gone (terminated, crashed) or its end destroyed: nothing will ever answer this client.
  port.on('close', () => {
    portClosed = true;
    release(target);
  });
  port.start();
  return new Promise<void>((resolve) => {
    const done = () => {
      if (!portClosed) {
        // The worker closes both ends when it reads this. Closing here at once could lose the message
        // while the worker's end is still in transit, leaving its handler waiting for bytes forever;
        // the timer only frees the port of a worker that never answers.
        port.postMessage({ t: 'close' } satisfies RelayMessage);
        portClosed = true;
        if (port.closesInOrder) port.close();
        else setTimeout(() => port.close(), 10_000).unref();
      }
      resolve();
    };
    if (socket.destroyed) done();
    else socket.once('close', done);
  });
}
