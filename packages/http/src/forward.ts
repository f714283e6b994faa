/**
 * One HTTP request on its way to a worker thread, as a `Duplex` the threading dispatcher relays (see
 * @srv/concurrency's `forwardsRequests`). The connection stays here with Node's parser (llhttp); what
 * goes to the worker is this request alone, already parsed, so the worker parses nothing:
 *
 * - the request's head as llhttp parsed it ({@link ForwardedHead}: method, target, version, raw header
 *   lines, this connection's keep-alive verdict, whether a body follows), which travels with the
 *   request (`[exchangeMarker]`) and becomes the worker handler's `IncomingMessage` (see forwarded.ts);
 * - readable side: its body as llhttp decoded it (a chunked body as its decoded chunks), then the end,
 *   after which {@link Exchange.trailers} holds the raw trailer lines. A request without a body never
 *   ends here: the head already says so.
 * - writable side: the worker's response bytes, exactly as the worker's `ServerResponse` wrote them,
 *   passed to this request's own `ServerResponse` untouched, so pipelined answers stay in order and
 *   Node's keep-alive bookkeeping of the connection stays right.
 * - {@link Exchange.endExchange}: the worker's response is complete; `keepAlive` false when the worker
 *   ended its side (the client asked for `close`, the handler set `closeConnection`, an error), which
 *   closes the client's connection after this response too.
 *
 * Backpressure holds both ways: the body is read from `req` only while the relay takes it, and the
 * worker's writes are acknowledged only when `res` takes them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { type Dispatcher, type ServerRequest, SrvError } from '@srv/core';

/**
 * Marks a stream as an HTTP exchange (read by the threading dispatcher, across package copies); its
 * value is the request's {@link ForwardedHead}, which travels with the request itself.
 */
export const exchangeMarker: unique symbol = Symbol.for('srv.http.exchange') as never;

/** Where an exchange keeps the raw trailer lines of its body once it has ended (read by the relay). */
export const trailersMarker: unique symbol = Symbol.for('srv.http.exchange-trailers') as never;

/**
 * A request's head as llhttp parsed it in the thread that holds the connection: all a worker needs to
 * build the handler's `IncomingMessage` without parsing. Plain data (structured-clone friendly).
 */
export interface ForwardedHead {
  readonly method: string;
  readonly url: string;
  /** `'1.1'`, `'1.0'`. */
  readonly httpVersion: string;
  /** `[name, value, name, value, …]` as received. */
  readonly rawHeaders: string[];
  /** The primary's `res.shouldKeepAlive` (Node's verdict from the version and `Connection`). */
  readonly keepAlive: boolean;
  /** A body follows (its chunks, then an end with the trailers). */
  readonly body: boolean;
  /** `Expect: 100-continue` on HTTP/1.1 (Node's `checkContinue` case; other expectations are ignored). */
  readonly expectContinue: boolean;
}

/** Node's fields of an outgoing message that raw pass-through sets (stable since Node 12). */
interface RawResponse extends ServerResponse {
  _header: string | null;
  _headerSent: boolean;
  _hasBody: boolean;
  _last: boolean;
}

/** Node's test for `Expect: 100-continue` (`continueExpression` in `_http_server`). */
const continueExpression = /(?:^|\W)100-continue(?:$|\W)/i;

/** The head of `req` as it goes to a worker (see {@link ForwardedHead}). */
export function forwardedHead(req: IncomingMessage, res: ServerResponse): ForwardedHead {
  const headers = req.headers;
  const expect = headers.expect;
  const expectContinue =
    expect !== undefined &&
    req.httpVersionMajor === 1 &&
    req.httpVersionMinor === 1 &&
    continueExpression.test(expect);
  const length = headers['content-length'];
  const body =
    !(req.complete && req.readableLength === 0) &&
    (headers['transfer-encoding'] !== undefined || (length !== undefined && Number(length) !== 0));
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    httpVersion: req.httpVersion,
    rawHeaders: req.rawHeaders,
    keepAlive: res.shouldKeepAlive,
    body,
    expectContinue,
  };
}

export class Exchange extends Duplex {
  readonly [exchangeMarker]: ForwardedHead;
  /** The body's raw trailer lines, once it has ended (see the module comment). */
  [trailersMarker]: string[] | undefined = undefined;
  readonly #req: IncomingMessage;
  readonly #res: RawResponse;
  #raw = false;
  #keepAlive = false;
  #reading = false;
  #bodyDone = false;
  #ended = false;
  /** Who waits for room in `res` (see {@link Exchange.writeResponse}). */
  #onRoom: (() => void) | undefined = undefined;
  /** Closed by the worker's side before any byte of an answer, the client still there. */
  unanswered = false;

  constructor(req: IncomingMessage, res: ServerResponse) {
    super({ allowHalfOpen: true });
    this.#req = req;
    this.#res = res as RawResponse;
    const head = forwardedHead(req, res);
    this[exchangeMarker] = head;
    if (!head.body) {
      this.#bodyDone = true;
      // Whatever llhttp still delivers (nothing, by the headers) is Node's to discard.
      if (!req.complete) req.resume();
    }
    // The client went away before the worker answered: the relay (or the queue) lets go of it.
    res.once('close', this.#onResponseClose);
  }

  readonly #onResponseClose = (): void => {
    if (!this.#ended) this.destroy();
  };

  readonly #onData = (chunk: Buffer): void => {
    if (chunk.length === 0) return;
    if (!this.push(chunk)) this.#req.pause();
  };

  readonly #onEnd = (): void => this.#bodyEnd();

  #bodyEnd(): void {
    if (this.#bodyDone) return;
    this.#bodyDone = true;
    this.#detachBody();
    this[trailersMarker] = this.#req.rawTrailers;
    this.push(null);
  }

  #detachBody(): void {
    this.#req.off('data', this.#onData);
    this.#req.off('end', this.#onEnd);
  }

  override _read(): void {
    if (this.#bodyDone) return;
    if (!this.#reading) {
      this.#reading = true;
      this.#req.on('data', this.#onData);
      this.#req.once('end', this.#onEnd);
      if (this.#req.readableEnded) {
        this.#bodyEnd();
        return;
      }
    }
    this.#req.resume();
  }

  /** From the first byte on, `res` sends the worker's bytes as they are: no head of its own. */
  #toRaw(): void {
    if (this.#raw) return;
    this.#raw = true;
    const res = this.#res;
    res._header = ' ';
    res._headerSent = true;
    // Node drops body writes of a HEAD response; these bytes are the worker's whole answer.
    res._hasBody = true;
  }

  /**
   * The relay's write of the worker's bytes: straight to `res`, without this stream's writable
   * machinery in between (a buffer, a callback and a tick per write), as long as nothing written the
   * stream's way still waits (then in order, behind it). False when `res` is full: `onRoom` is called
   * once it has room again (or has closed). `onWritten`, when given, hears once the connection wrote
   * the bytes (the kernel has them, so their memory may be reused) or failed to; a chunk that only
   * queued here, or whose connection is not a `net.Socket`, never calls it.
   */
  writeResponse(chunk: Buffer, onRoom: () => void, onWritten?: (error?: Error | null) => void): boolean {
    if (this.writableLength > 0) {
      if (this.write(chunk)) return true;
      this.once('drain', onRoom);
      return false;
    }
    const res = this.#res;
    if (res.destroyed || res.writableEnded) return true;
    this.#toRaw();
    // Only a real socket is known to drop a chunk once its write was called back.
    const written = onWritten !== undefined && res.socket instanceof Socket;
    if (written ? res.write(chunk, onWritten) : res.write(chunk)) return true;
    if (this.#onRoom === undefined) {
      res.on('drain', this.#roomFreed);
      res.on('close', this.#roomFreed);
    }
    this.#onRoom = onRoom;
    return false;
  }

  readonly #roomFreed = (): void => {
    this.#res.off('drain', this.#roomFreed);
    this.#res.off('close', this.#roomFreed);
    const onRoom = this.#onRoom;
    this.#onRoom = undefined;
    onRoom?.();
  };

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const res = this.#res;
    if (res.destroyed || res.writableEnded) {
      callback();
      return;
    }
    this.#toRaw();
    if (res.write(chunk)) callback();
    else {
      const resume = () => {
        res.off('drain', resume);
        res.off('close', resume);
        callback();
      };
      res.on('drain', resume);
      res.on('close', resume);
    }
  }

  /**
   * The worker's response is complete; `keepAlive` says whether the worker's server kept its end open.
   * Ends `res` (after the bytes still queued here, if any).
   */
  endExchange(keepAlive: boolean): void {
    this.#keepAlive = keepAlive;
    if (this.writableLength === 0 && !this.writableEnded && !this.destroyed) {
      // Nothing waits in this stream: `res` ends now, and the relay lets go of the stream (destroys
      // it) without its writable side's end and finish.
      this.#endResponse();
    } else this.end();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#endResponse();
    callback();
  }

  #endResponse(): void {
    if (this.#ended) return;
    this.#ended = true;
    const res = this.#res;
    if (res.destroyed || res.writableEnded) return;
    if (!this.#raw) {
      // The worker ended without a byte: the caller answers (see forwardRequest).
      this.unanswered = true;
      return;
    }
    // Node closes the connection after a response marked last, as it would after `Connection: close`.
    res._last = !this.#keepAlive;
    res.end();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#res.off('close', this.#onResponseClose);
    this.#detachBody();
    // A body the worker no longer reads is discarded, so the connection can serve its next request.
    if (!this.#req.complete && !this.#req.destroyed) this.#req.resume();
    if (!this.#raw && !this.#res.destroyed && !this.#res.writableEnded) this.unanswered = true;
    if (!this.#ended && this.#raw && !this.#res.destroyed) {
      // The worker died (or let go) mid-response: the client learns of it from a cut connection.
      this.#res.destroy();
    }
    callback(error);
  }
}

const settled: Promise<void> = Promise.resolve();

/** Never called: a dispatcher that forwards requests runs none in this thread. */
function notHere(): Promise<void> {
  return Promise.reject(
    new SrvError('SRV_ERR_INVALID_OPTION', 'a dispatcher with forwardsRequests must not run requests here'),
  );
}

/**
 * Hands one parsed request of `connection` to a dispatcher that `forwardsRequests` (threading): it
 * serves the request elsewhere and streams the response back into `res`. Settles once the response
 * has been handed to `res` (or the request was given up); rejects when the dispatcher refused it
 * before a byte was answered (the caller answers then, e.g. 503).
 */
export function forwardRequest(
  dispatcher: Dispatcher,
  connection: ServerRequest,
  closing: boolean,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (connection.kind !== 'stream' || connection.request.destroyed || closing) {
    res.destroy();
    return settled;
  }
  const exchange = new Exchange(req, res);
  return dispatcher
    .dispatch({ kind: 'stream', request: exchange, info: connection.info }, notHere)
    .then(() => {
      // The worker let go without a word (its server refused the request): the caller answers.
      if (exchange.unanswered) {
        throw new SrvError('SRV_ERR_SERVER_CLOSED', 'the worker closed the request without answering it');
      }
    });
}
