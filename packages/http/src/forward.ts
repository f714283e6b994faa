/**
 * One HTTP request on its way to a worker thread, as a `Duplex` the threading dispatcher relays like a
 * connection of its own (see @srv/concurrency's `forwardsRequests`). The connection stays here with
 * Node's parser (llhttp); what goes to the worker is this request alone:
 *
 * - the request's head, written back out from what llhttp parsed (request line and raw header lines,
 *   byte for byte as Node decoded them), travels with the request (`[exchangeMarker]`);
 * - readable side: its body as llhttp decoded it (a chunked
 *   body is framed as chunks again, so the worker's own parser reads the same request). It never ends:
 *   an end would tell the worker's parser that the client half-closed.
 * - writable side: the worker's response bytes, exactly as the worker's `node:http` wrote them, passed
 *   to this request's own `ServerResponse` untouched, so pipelined answers stay in order and Node's
 *   keep-alive bookkeeping of the connection stays right.
 * - {@link Exchange.endExchange}: the worker's response is complete; `keepAlive` false when the worker's
 *   server ended its connection (the client asked for `close`, the handler set `closeConnection`, an
 *   error), which closes the client's connection after this response too.
 *
 * Backpressure holds both ways: the body is read from `req` only while the relay takes it, and the
 * worker's writes are acknowledged only when `res` takes them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import { type Dispatcher, type ServerRequest, SrvError } from '@srv/core';

/**
 * Marks a stream as an HTTP exchange (read by the threading dispatcher, across package copies); its
 * value is the request's head, which travels with the request itself.
 */
export const exchangeMarker: unique symbol = Symbol.for('srv.http.exchange') as never;

/** Node's fields of an outgoing message that raw pass-through sets (stable since Node 12). */
interface RawResponse extends ServerResponse {
  _header: string | null;
  _headerSent: boolean;
  _hasBody: boolean;
  _last: boolean;
}

/** Set by @srv/concurrency on a worker's end of an exchange: one request the primary has read. */
const forwardedMarker = Symbol.for('srv.forwarded-request');

/** Whether `stream` (in a worker) carries one request forwarded by the primary, not a connection. */
export function isForwardedRequest(stream: Duplex): boolean {
  return (stream as Duplex & { [forwardedMarker]?: boolean })[forwardedMarker] === true;
}

const crlf = Buffer.from('\r\n');
const lastChunk = Buffer.from('0\r\n');

/**
 * The request's head as a latin1 string (one byte per character): what llhttp parsed, written back
 * out. A string, not a Buffer: it crosses to the worker as one, with no ArrayBuffer to allocate,
 * clone and collect on either side.
 */
export function serializeHead(req: IncomingMessage): string {
  const raw = req.rawHeaders;
  let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  for (let index = 0; index + 1 < raw.length; index += 2) head += `${raw[index]}: ${raw[index + 1]}\r\n`;
  return `${head}\r\n`;
}

function isChunked(req: IncomingMessage): boolean {
  const codings = req.headers['transfer-encoding'];
  return codings !== undefined && /(?:^|,)\s*chunked\s*$/i.test(codings);
}

export class Exchange extends Duplex {
  readonly [exchangeMarker]: string;
  readonly #req: IncomingMessage;
  readonly #res: RawResponse;
  readonly #chunked: boolean;
  #raw = false;
  #keepAlive = false;
  #reading = false;
  #bodyDone = false;
  #ended = false;
  /** Closed by the worker's side before any byte of an answer, the client still there. */
  unanswered = false;

  constructor(req: IncomingMessage, res: ServerResponse) {
    super({ allowHalfOpen: true });
    this.#req = req;
    this.#res = res as RawResponse;
    this.#chunked = isChunked(req);
    this[exchangeMarker] = serializeHead(req);
    if (req.complete && req.readableLength === 0) this.#bodyEnd();
    // The client went away before the worker answered: the relay (or the queue) lets go of it.
    res.once('close', this.#onResponseClose);
  }

  readonly #onResponseClose = (): void => {
    if (!this.#ended) this.destroy();
  };

  readonly #onData = (chunk: Buffer): void => {
    if (chunk.length === 0) return;
    let more: boolean;
    if (this.#chunked) {
      this.push(Buffer.from(`${chunk.length.toString(16)}\r\n`, 'latin1'));
      this.push(chunk);
      more = this.push(crlf);
    } else more = this.push(chunk);
    if (!more) this.#req.pause();
  };

  readonly #onEnd = (): void => this.#bodyEnd();

  #bodyEnd(): void {
    if (this.#bodyDone) return;
    this.#bodyDone = true;
    this.#detachBody();
    if (!this.#chunked) return;
    const trailers = this.#req.rawTrailers;
    let tail = '';
    for (let index = 0; index + 1 < trailers.length; index += 2) {
      tail += `${trailers[index]}: ${trailers[index + 1]}\r\n`;
    }
    this.push(Buffer.concat([lastChunk, Buffer.from(`${tail}\r\n`, 'latin1')]));
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
   * Ends this stream (after the bytes still queued here).
   */
  endExchange(keepAlive: boolean): void {
    this.#keepAlive = keepAlive;
    this.end();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#ended = true;
    const res = this.#res;
    if (res.destroyed || res.writableEnded) {
      callback();
      return;
    }
    if (!this.#raw) {
      // The worker ended without a byte: the caller answers (see forwardRequest).
      this.unanswered = true;
      callback();
      return;
    }
    // Node closes the connection after a response marked last, as it would after `Connection: close`.
    res._last = !this.#keepAlive;
    res.end();
    callback();
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
