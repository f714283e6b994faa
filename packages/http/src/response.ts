import {
  type IncomingMessage,
  type OutgoingHttpHeader,
  type OutgoingHttpHeaders,
  ServerResponse,
} from 'node:http';

/**
 * The `ServerResponse` of srv's internal `node:http` server (its documented `ServerResponse` option).
 * `sendHeader()` lines wait here, in order, until the head is written — by `endHeaders()`' flush, the
 * first body write or `end()`, whichever comes first, including writes made on `res` directly. With
 * no header set through `res.setHeader()` in between they go to Node as one `writeHead()` array, which
 * costs far less than a `setHeader()` per line; otherwise they are merged line by line, so repeated
 * names stay repeated lines and explicit `writeHead()` headers still win.
 */
export class SrvServerResponse<
  Request extends IncomingMessage = IncomingMessage,
> extends ServerResponse<Request> {
  /** `sendHeader()` lines not yet given to Node: `[name, value, name, value, …]`. */
  pendingHeaders: string[] | undefined = undefined;

  /**
   * Replaces every waiting line named `name` (any case) and any header of that name set on the
   * response with this one line: Node's `setHeader()` semantics for a header that must not repeat.
   */
  replacePending(name: string, value: string): void {
    const pending = this.pendingHeaders;
    if (pending !== undefined) {
      let lower: string | undefined;
      for (let index = pending.length - 2; index >= 0; index -= 2) {
        const other = pending[index]!;
        if (other.length !== name.length) continue;
        lower ??= name.toLowerCase();
        if (other.toLowerCase() === lower) pending.splice(index, 2);
      }
    }
    if (this.hasHeader(name)) this.removeHeader(name);
    if (pending === undefined) this.pendingHeaders = [name, value];
    else pending.push(name, value);
  }

  override writeHead(statusCode: number, reason?: string, headers?: ResponseHeaders): this;
  override writeHead(statusCode: number, headers?: ResponseHeaders): this;
  override writeHead(statusCode: number, reason?: string | ResponseHeaders, headers?: ResponseHeaders): this {
    const pending = this.pendingHeaders;
    if (pending === undefined) return super.writeHead(statusCode, reason as string, headers);
    this.pendingHeaders = undefined;
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
