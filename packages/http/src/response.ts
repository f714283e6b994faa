import {
  type IncomingMessage,
  type OutgoingHttpHeader,
  type OutgoingHttpHeaders,
  ServerResponse,
} from 'node:http';
import { hasNoBody } from './target.js';

/**
 * The `ServerResponse` of srv's internal `node:http` server (its documented `ServerResponse` option),
 * and the one owner of the response-header lines a handler's `sendHeader()` buffers: they wait here,
 * private, in order, until the head is written — by `endHeaders()`' flush, the first body write or
 * `end()`, whichever comes first, including writes made on `res` directly. With no header set through
 * `res.setHeader()` in between they go to Node as one `writeHead()` array, which costs far less than a
 * `setHeader()` per line; otherwise they are merged line by line, so repeated names stay repeated lines
 * and explicit `writeHead()` headers still win. Lines reach it already validated.
 */
export class SrvServerResponse<
  Request extends IncomingMessage = IncomingMessage,
> extends ServerResponse<Request> {
  /** Lines not yet given to Node: `[name, value, name, value, …]`. */
  #lines: string[] | undefined = undefined;
  /** Called with this response when it emits `close`, before any listener (see {@link onClose}). */
  #closeHook: ((res: SrvServerResponse<Request>) => void) | undefined = undefined;

  /**
   * Calls `hook` once, when this response emits `close` and before its `close` listeners: the
   * server's own bookkeeping, without a listener added (and looked up) per response.
   */
  onClose(hook: (res: SrvServerResponse<Request>) => void): void {
    this.#closeHook = hook;
  }

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'close') {
      const hook = this.#closeHook;
      if (hook !== undefined) {
        this.#closeHook = undefined;
        hook(this);
      }
    }
    return super.emit(event, ...args);
  }

  /** The value of the one `Content-Length` line waiting here: -1 without one, -2 when unclear. */
  #declaredLength = -1;

  /** Adds one header line (repeated names stay repeated lines). */
  addHeaderLine(name: string, value: string): void {
    if (name.length === 14) this.#noteLength(name, value);
    const lines = this.#lines;
    if (lines === undefined) this.#lines = [name, value];
    else lines.push(name, value);
  }

  #noteLength(name: string, value: string): void {
    if (name !== 'Content-Length' && name.toLowerCase() !== 'content-length') return;
    this.#declaredLength = this.#declaredLength === -1 && decimal.test(value) ? Number(value) : -2;
  }

  /**
   * True when `chunk` is this response's whole body: nothing of it is out yet, its one waiting
   * `Content-Length` line says exactly this many bytes, and its request has no body of its own (RFC 9112
   * §6.3: neither `Content-Length` nor `Transfer-Encoding`), so ending the response now discards none.
   */
  isWholeBody(chunk: Uint8Array | string): boolean {
    const declared = this.#declaredLength;
    if (declared < 0 || this.headersSent) return false;
    const length = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    if (length !== declared || this.hasHeader('content-length')) return false;
    return hasNoBody(this.req);
  }

  /**
   * Replaces every waiting line named `name` (any case) and any header of that name set on the
   * response with this one line: Node's `setHeader()` semantics for a header that must not repeat.
   */
  replaceHeaderLine(name: string, value: string): void {
    const lines = this.#lines;
    if (lines !== undefined) {
      let lower: string | undefined;
      for (let index = lines.length - 2; index >= 0; index -= 2) {
        const other = lines[index]!;
        if (other.length !== name.length) continue;
        lower ??= name.toLowerCase();
        if (other.toLowerCase() === lower) lines.splice(index, 2);
      }
    }
    if (this.hasHeader(name)) this.removeHeader(name);
    if (name.length === 14 && name.toLowerCase() === 'content-length') this.#declaredLength = -1;
    this.addHeaderLine(name, value);
  }

  /** Drops every waiting line and every header set on the response (a failed handler's 500 starts clean). */
  discardHeaders(): void {
    this.#lines = undefined;
    this.#declaredLength = -1;
    for (const name of this.getHeaderNames()) this.removeHeader(name);
  }

  override writeHead(statusCode: number, reason?: string, headers?: ResponseHeaders): this;
  override writeHead(statusCode: number, headers?: ResponseHeaders): this;
  override writeHead(statusCode: number, reason?: string | ResponseHeaders, headers?: ResponseHeaders): this {
    const pending = this.#lines;
    if (pending === undefined) return super.writeHead(statusCode, reason as string, headers);
    this.#lines = undefined;
    const message = typeof reason === 'string' ? reason : undefined;
    const explicit = typeof reason === 'string' ? headers : reason;
    if (explicit === undefined && this.getHeaderNames().length === 0) {
      return message !== undefined || this.statusMessage
        ? super.writeHead(statusCode, message ?? this.statusMessage, pending)
        : super.writeHead(statusCode, pending);
    }
    for (let index = 0; index < pending.length; index += 2) {
      const name = pending[index]!;
      const value = pending[index + 1]!;
      if (this.hasHeader(name)) this.appendHeader(name, value);
      else this.setHeader(name, value);
    }
    return message !== undefined
      ? super.writeHead(statusCode, message, explicit)
      : super.writeHead(statusCode, explicit);
  }
}

type ResponseHeaders = OutgoingHttpHeaders | OutgoingHttpHeader[];
const decimal = /^\d{1,15}$/;

/** Drops every header of a response not yet sent, buffered lines included (a failed handler's 500 starts clean). */
export function discardHeaders(res: ServerResponse): void {
  if (res instanceof SrvServerResponse) res.discardHeaders();
  else for (const name of res.getHeaderNames()) res.removeHeader(name);
}
