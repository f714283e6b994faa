/**
 * Waiting for a request's head before a connection is handed to another thread or process: a
 * connection that sends nothing, or leaves, must cost a worker nothing (load balancers' probes, port
 * scanners, browsers' preconnects). This only finds where the head ends; every byte is still parsed by
 * llhttp in the worker that serves the connection.
 */
import type { Duplex } from 'node:stream';

/** How {@link readRequestHead} waits. */
export interface ReadHeadOptions {
  /**
   * Bytes after which the head is handed on unfinished: the parser that serves the connection then
   * answers 431 or 414 as it would to any oversized head.
   */
  readonly limit: number;
  /**
   * Stop the socket's handle from reading once the head is in (its handle is about to move to another
   * process, and bytes it read here would be lost there).
   */
  readonly detach: boolean;
  /** Settles when the connection has closed or been answered (a timeout): the wait is over. */
  readonly gone: Promise<void>;
}

const lf = 0x0a;
const cr = 0x0d;

/**
 * Where the blank line that ends a head finishes in `bytes`, searching from `from`; -1 when it has not
 * arrived. RFC 9112 §2.2: a recipient may take a bare LF as a line terminator, so `LF LF` and
 * `LF CR LF` end a head too (llhttp then decides whether it accepts them).
 */
export function findHeadEnd(bytes: Uint8Array, from = 0): number {
  for (let index = bytes.indexOf(lf, from); index !== -1; index = bytes.indexOf(lf, index + 1)) {
    // A line that starts right after this LF and is empty: LF, or CR LF.
    if (bytes[index + 1] === lf) return index + 2;
    if (bytes[index + 1] === cr && bytes[index + 2] === lf) return index + 3;
  }
  return -1;
}

const http09Line = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+[ \t]+[^ \t\r\n]+[ \t]*\r?$/;

/**
 * True for an HTTP/0.9 request line (`GET /`, two words and no version), given without its LF: such
 * a client sends no headers and waits, so it is answered at once rather than after `headersTimeout`.
 */
export function isHttp09RequestLine(line: Uint8Array): boolean {
  return (
    line.length < 8192 &&
    http09Line.test((Buffer.isBuffer(line) ? line : Buffer.from(line)).toString('latin1'))
  );
}

/** The socket's native handle, where there is one (a plain TCP or Unix socket). */
interface ReadingHandle {
  reading?: boolean;
  readStop?(): number;
}

/**
 * Stops a socket's handle from reading and returns what it had buffered. Node pauses a handle only
 * when its buffer is full; a handle given to another process while it still reads would drop the bytes
 * that arrive in between (Node sets its `onread` to a no-op on send).
 */
function detachReading(socket: Duplex): Buffer[] {
  const chunks: Buffer[] = [];
  for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
    chunks.push(chunk);
  }
  // read() may have restarted the handle; no callback can run before this line stops it again.
  const handle = (socket as Duplex & { _handle?: ReadingHandle | null })._handle;
  if (handle && typeof handle.readStop === 'function') {
    handle.readStop();
    handle.reading = false;
  }
  return chunks;
}

/** The first line has arrived and is an HTTP/0.9 request line: no more of its head will come. */
function isHttp09Start(chunks: readonly Buffer[], total: number): boolean {
  if (total > 8192) return false;
  const first = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  const newline = first.indexOf(0x0a);
  return (
    newline !== -1 && newline === first.lastIndexOf(0x0a) && isHttp09RequestLine(first.subarray(0, newline))
  );
}

/**
 * Reads from `socket` until a request head has fully arrived (or `limit` bytes have, or the client
 * half-closed after sending something) and resolves with every byte read, leaving the socket paused.
 * Resolves `undefined` when the connection closes, or sends nothing before its end, or `gone` settles
 * first.
 */
export function readRequestHead(socket: Duplex, options: ReadHeadOptions): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    // The last bytes of the previous chunk: a blank line may straddle two chunks.
    let tail: Buffer = Buffer.alloc(0);
    let settled = false;
    const settle = (arrived: boolean) => {
      if (settled) return;
      settled = true;
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onClose);
      if (!arrived) {
        resolve(undefined);
        return;
      }
      socket.pause();
      if (options.detach) chunks.push(...detachReading(socket));
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    };
    const onData = (data: Buffer | string) => {
      const chunk = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
      chunks.push(chunk);
      total += chunk.length;
      const window = tail.length === 0 ? chunk : Buffer.concat([tail, chunk]);
      if (findHeadEnd(window) !== -1 || total > options.limit || isHttp09Start(chunks, total)) {
        settle(true);
        return;
      }
      tail = window.subarray(Math.max(0, window.length - 2));
    };
    const onEnd = () => settle(total > 0);
    const onClose = () => settle(false);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onClose);
    // A socket accepted paused (for a hand-off) stays paused for a 'data' listener alone.
    socket.resume();
    void options.gone.then(() => settle(false));
    if (socket.destroyed) settle(false);
  });
}
