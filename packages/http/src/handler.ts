import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { LineReader, type RequestInfo, type SocketAddress, StreamRequestHandler } from '@srv/core';
import { displayHost } from '@srv/core/internal';
import packageJson from '../package.json' with { type: 'json' };
import { createHttpError } from './errors.js';
import {
  defaultErrorMessageFormat,
  type HTTPExchange,
  type HTTPHandlerStatics,
  type ProtocolVersion,
} from './exchange.js';
import {
  escapeControlCharacters,
  escapeHtml,
  formatHttpDate,
  formatLogDate,
  formatMapping,
  formatPercent,
  pythonRepr,
} from './format.js';
import { flushAtEndOfTurn } from './head-flush.js';
import {
  cleanReason,
  collapseLeadingSlashes,
  headerValueUnsafe,
  invalidHeader,
  isValidLine,
  safeReasons,
  validateHeader,
} from './header-rules.js';
import { HTTPHeaders } from './headers.js';
import { type Informational, sendInformational } from './informational.js';
import { SrvServerResponse } from './response.js';
import type { HTTPServer } from './server.js';
import { responses } from './status.js';
import { versionName } from './target.js';
import { ResponseWriter } from './writer.js';

export type { HTTPHandlerClass, ProtocolVersion } from './exchange.js';

// [serverVersion, sysVersion, joined, joined if it passed the header rules]
let cachedVersion: [string, string, string, string | undefined] = ['', '', '', undefined];
/** What the default `finish()` returns: already settled, so the server need not wait a turn for it. */
export const resolvedFinish: Promise<void> = Promise.resolve();
// `do${command}` for the methods seen so far (a handful), so a request builds no string to dispatch.
const methodNames = new Map<string, string>();

/**
 * Python's `BaseHTTPRequestHandler`, one instance per request. `handle()` dispatches to
 * `do<METHOD>()` (`doGET`, `doHEAD`, `doPOST`, …; may be async); a method without one gets 501.
 * `rfile` reads the request body, `wfile` writes the response body after `endHeaders()`.
 */
export class BaseHTTPRequestHandler extends StreamRequestHandler<HTTPServer> {
  /** Python's `server_version`; first half of the `Server` header. */
  static serverVersion = `srv-http/${packageJson.version}`;
  /** Python's `sys_version`; second half of the `Server` header. */
  static sysVersion = `Node/${process.versions.node}`;
  /**
   * `'HTTP/1.1'` keeps connections alive and streams bodies without a length chunked; `'HTTP/1.0'`
   * answers one request per connection and never uses chunked (Python's default).
   */
  static protocolVersion: ProtocolVersion = 'HTTP/1.1';
  /** Python's `error_message_format`: `%(code)d`, `%(message)s`, `%(explain)s` placeholders. */
  static errorMessageFormat = defaultErrorMessageFormat;
  /** Python's `error_content_type`. */
  static errorContentType = 'text/html;charset=utf-8';
  /** Status code → `[phrase, explanation]` (Python's `responses`). */
  static responses: Readonly<Record<number, readonly [string, string]>> = responses;

  /** The method (`GET`). */
  readonly command: string;
  /**
   * The request target as received (`/a%20b?x=1`), except that a run of leading slashes becomes one:
   * a target like `//evil.com/..` must never turn into a scheme-relative URL in a redirect.
   */
  readonly path: string;
  /** `HTTP/1.1`. */
  readonly requestVersion: string;
  /** The request line without its line ending (`GET / HTTP/1.1`). */
  get requestline(): string {
    // Built on first use: only the access log and error pages read it.
    this.#requestline ??= `${this.command} ${this.#target} ${this.requestVersion}`;
    return this.#requestline;
  }
  /** The request headers. */
  readonly headers: HTTPHeaders;
  /** Node's request (an escape hatch; `rfile` reads its body). */
  readonly req: IncomingMessage;
  /** Node's response (an escape hatch; `wfile` writes to it). */
  readonly res: ServerResponse;

  #body: Readable;
  #rfile: LineReader | undefined;
  #wfile: ResponseWriter | undefined;
  #requestline: string | undefined;
  /** The target as parsed (a handler may rewrite `req.url`; the request line stays as received). */
  #target: string;
  #close: boolean | undefined;
  #informational: Informational | undefined;
  #flushScheduled = false;

  constructor(
    request: Duplex,
    clientAddress: SocketAddress,
    server: HTTPServer,
    info?: RequestInfo,
    exchange?: HTTPExchange,
  ) {
    super(request, clientAddress, server, info);
    if (!exchange) {
      throw createHttpError(
        'SRV_ERR_NOT_HTTP_REQUEST',
        'BaseHTTPRequestHandler serves requests parsed by an HTTPServer; use it as an HTTPServer handler',
      );
    }
    const { req, res } = exchange;
    this.req = req;
    this.res = res;
    this.#body = exchange.body ?? req;
    this.command = exchange.command ?? req.method ?? '';
    const target = req.url ?? '';
    this.#target = target;
    this.path = target.startsWith('//') ? `/${target.replace(/^\/+/, '')}` : target;
    this.requestVersion = exchange.requestVersion ?? versionName(req);
    this.#requestline = exchange.requestline;
    this.headers = new HTTPHeaders(req.rawHeaders ?? []);
  }

  /** Static fields of the concrete class. */
  protected get statics(): HTTPHandlerStatics {
    return this.constructor as unknown as HTTPHandlerStatics;
  }

  /** Python's `close_connection`: true when the connection closes after this response. */
  get closeConnection(): boolean {
    return this.#close ?? !this.res.shouldKeepAlive;
  }

  set closeConnection(value: boolean) {
    this.#close = value;
    if (value && !this.res.headersSent) this.res.shouldKeepAlive = false;
  }

  /** True once the status line and headers have gone out (no other answer can follow). */
  get headersSent(): boolean {
    return this.res.headersSent;
  }

  /** Python's `protocol_version` as this server speaks it. */
  get protocolVersion(): ProtocolVersion {
    return this.server.protocolVersion;
  }

  /** Python's `server_version`. */
  get serverVersion(): string {
    return this.statics.serverVersion;
  }

  /** Python's `setup()`: nothing to do; `rfile` and `wfile` are made when first used. */
  override setup(): void {}

  /** The request body (made on first use; assigning replaces it). */
  override get rfile(): LineReader {
    const { timeout, maxLineLength } = this.statics;
    this.#rfile ??= new LineReader(this.#body, { timeout, maxLineLength });
    return this.#rfile;
  }
  override set rfile(reader: LineReader) {
    this.#rfile = reader;
  }

  /** The response body: write with backpressure, `end(body)`, `pipeFrom(readable)`. First use makes it. */
  override get wfile(): ResponseWriter {
    this.#wfile ??= new ResponseWriter(this.res);
    return this.#wfile;
  }
  override set wfile(writer: ResponseWriter) {
    this.#wfile = writer;
  }

  /** Dispatches to `do<METHOD>()`; 501 `Unsupported method ('X')` when there is none. */
  override handle(): void | Promise<void> {
    let name = methodNames.get(this.command);
    if (name === undefined) {
      // Interned once, as an object's key (a look-up by a string made at run time searches the string table).
      name = Object.keys({ [`do${this.command}`]: true })[0]!;
      // Bounded: llhttp only passes the methods it knows (a few dozen).
      if (methodNames.size < 64) methodNames.set(this.command, name);
    }
    const method = (this as unknown as Record<string, unknown>)[name];
    if (typeof method !== 'function') {
      this.sendError(501, `Unsupported method (${pythonRepr(this.command)})`);
      return;
    }
    return (method as () => void | Promise<void>).call(this);
  }

  /** Ends the response (what the handler wrote is flushed). */
  override finish(): Promise<void> {
    // A connection already being cut (the handler failed mid-response) gets no closing chunk.
    if (!this.res.writableEnded && this.request.writable) this.res.end();
    return resolvedFinish;
  }

  /**
   * Python's `handle_expect_100`: called for `Expect: 100-continue` before `do<METHOD>()`. Sends
   * `100 Continue` and returns true; return false (after sending an error) to refuse the body.
   */
  handleExpect100(): boolean | Promise<boolean> {
    this.sendResponseOnly(100);
    this.endHeaders();
    return true;
  }

  /** Python's `send_response`: logs the request, then the status line plus `Server` (and `Date`). */
  sendResponse(code: number, message?: string): void {
    this.logRequest(code);
    this.sendResponseOnly(code, message);
    const version = this.versionString();
    const res = this.res;
    // The default version string was checked once when it was joined: its line needs no second look.
    if (version === cachedVersion[3] && !this.#informational && res instanceof SrvServerResponse) {
      res.addHeaderLine('Server', version);
    } else {
      this.sendHeader('Server', version);
    }
    // Date comes from Node's once-a-second clock when the headers go out (unless a handler sent one),
    // so a response costs no extra header validation for it.
  }

  /** Python's `send_response_only`: the status line alone (headers follow with `sendHeader`). */
  sendResponseOnly(code: number, message?: string): void {
    if (!Number.isInteger(code) || code < 100 || code > 999) {
      throw createHttpError('SRV_ERR_INVALID_STATUS', `invalid status code ${String(code)}`);
    }
    const reason = message ?? this.statics.responses?.[code]?.[0] ?? responses[code]?.[0] ?? '';
    const isSafe = safeReasons.has(reason);
    if (!isSafe && headerValueUnsafe.test(reason)) {
      throw createHttpError('SRV_ERR_INVALID_HEADER', `status message contains CR, LF or NUL`);
    }
    if (code < 200) {
      this.#informational = { code, message: isSafe ? reason : cleanReason(reason), headers: [] };
      return;
    }
    if (this.res.headersSent) {
      throw createHttpError('SRV_ERR_HEADERS_SENT', `cannot send status ${code}: headers already sent`);
    }
    this.res.statusCode = code;
    this.res.statusMessage = isSafe ? reason : cleanReason(reason);
  }

  /**
   * Python's `send_header`: adds a header line (repeated calls add repeated lines). A CR, LF or NUL
   * in the name or value is a coded error (`SRV_ERR_INVALID_HEADER`): that is response splitting.
   * As in Python, the lines are buffered and go out with the head (at `endHeaders()`' flush or the
   * first body byte, whichever is first), so `res.getHeader()` does not see them before that.
   */
  sendHeader(name: string, value: string | number | readonly string[]): void {
    // Only Location and Connection need a second look; skip lower-casing every other name.
    const lower = name.length === 8 || name.length === 10 ? name.toLowerCase() : '';
    let checked: string | string[] =
      typeof value === 'string' ? value : Array.isArray(value) ? value.map(String) : String(value);
    if (lower === 'location') {
      // `//host/…` and `/\host/…` are scheme-relative to browsers: an open redirect.
      checked =
        typeof checked === 'string' ? collapseLeadingSlashes(checked) : checked.map(collapseLeadingSlashes);
    }
    if (this.#informational) {
      validateHeader(name, checked);
      for (const item of [checked].flat()) this.#informational.headers.push([name, item]);
      return;
    }
    if (this.res.headersSent) {
      throw createHttpError('SRV_ERR_HEADERS_SENT', `cannot send header ${name}: headers already sent`);
    }
    const res = this.res;
    if (res instanceof SrvServerResponse) {
      // Checked now by Node's rules (CR, LF, NUL and other controls), sent with the head.
      if (typeof checked === 'string') {
        if (!isValidLine(name, checked)) throw invalidHeader(name, [checked]);
        res.addHeaderLine(name, checked);
      } else {
        for (const item of checked) if (!isValidLine(name, item)) throw invalidHeader(name, checked);
        for (const item of checked) res.addHeaderLine(name, item);
      }
    } else {
      try {
        // Node validates names and values (CR, LF, NUL and other controls); its errors become coded ones.
        if (res.hasHeader(name)) res.appendHeader(name, checked);
        else res.setHeader(name, checked);
      } catch (error) {
        throw createHttpError('SRV_ERR_INVALID_HEADER', `invalid header ${pythonRepr(name)}`, {
          cause: error,
        });
      }
    }
    if (lower === 'connection') {
      const token = String(checked).toLowerCase();
      if (token.includes('close')) this.closeConnection = true;
      else if (token.includes('keep-alive')) this.#close = false;
    }
  }

  /**
   * Like {@link sendHeader}, but the one line of its name: it replaces any line of that name sent or
   * set before (Node's `setHeader()` semantics). For headers that must not repeat, such as
   * `Content-Type` or `Content-Length` after a configurable set of extra headers.
   */
  replaceHeader(name: string, value: string): void {
    const res = this.res;
    if (!(res instanceof SrvServerResponse) || this.#informational) {
      if (!this.#informational && res.hasHeader(name)) res.removeHeader(name);
      this.sendHeader(name, value);
      return;
    }
    if (res.headersSent) {
      throw createHttpError('SRV_ERR_HEADERS_SENT', `cannot send header ${name}: headers already sent`);
    }
    if (!isValidLine(name, value)) throw invalidHeader(name, [value]);
    res.replaceHeaderLine(name, value);
  }

  /**
   * Python's `end_headers`: the header block is complete. Node sends it with body bytes written in
   * the same synchronous stretch (one packet for small responses), else as soon as the handler awaits.
   */
  endHeaders(): void {
    const informational = this.#informational;
    if (informational) {
      this.#informational = undefined;
      sendInformational(this.res, this.request, informational);
      return;
    }
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // A handler that writes its body right away sends headers and body together; one that awaits
    // something first sends the headers now, as Python's end_headers does. The handlers that ended
    // their headers in one synchronous stretch share one microtask (no closure per request).
    flushAtEndOfTurn(this);
  }

  /** Python's `flush_headers`: sends the status line and headers now. */
  flushHeaders(): void {
    if (!this.res.headersSent) this.res.flushHeaders();
  }

  /**
   * Python's `send_error`: logs `code 404, message …` (unless the server is quiet), then sends an HTML
   * page from `errorMessageFormat` (message and explanation escaped) with `Connection: close`; no body
   * for 1xx, 204, 205, 304 or HEAD. `headers` (`[name, value]` pairs) go out with it: `Allow` of a
   * 405, `Retry-After` of a 503.
   */
  sendError(
    code: number,
    message?: string,
    explain?: string,
    headers?: ReadonlyArray<readonly [string, string]>,
  ): void {
    const [phrase, explanation] = this.statics.responses?.[code] ?? responses[code] ?? ['???', '???'];
    const shortMessage = message ?? phrase;
    const longMessage = explain ?? explanation;
    // The line each error answer logs is per request, like the access line: a quiet server skips it
    // (a scan of missing paths must not flood the log). Server-side failures still log.
    if (!this.server.quiet) this.logError('code %d, message %s', code, shortMessage);
    // The reason phrase echoes request bytes too: escaped like the page, so markup never comes back raw.
    this.sendResponse(code, cleanReason(escapeHtml(shortMessage, false)));
    this.sendHeader('Connection', 'close');
    if (headers !== undefined) for (const [name, value] of headers) this.sendHeader(name, value);
    let body: Buffer | undefined;
    if (code >= 200 && code !== 204 && code !== 205 && code !== 304) {
      const content = formatMapping(this.statics.errorMessageFormat, {
        code,
        message: escapeHtml(shortMessage, false),
        explain: escapeHtml(longMessage, false),
      });
      body = Buffer.from(content, 'utf8');
      this.sendHeader('Content-Type', this.statics.errorContentType);
      this.sendHeader('Content-Length', String(body.length));
    }
    this.endHeaders();
    if (this.command !== 'HEAD' && body) this.res.write(body);
  }

  /** Python's `log_request`: the access line (`"GET / HTTP/1.1" 200 -`), unless the server is quiet. */
  logRequest(code: number | string = '-', size: number | string = '-'): void {
    if (this.server.quiet) return;
    if (this.logMessage !== BaseHTTPRequestHandler.prototype.logMessage) {
      this.logMessage('"%s" %s %s', this.requestline, String(code), String(size));
      return;
    }
    // A structured logger (pino) gets the fields as well; the stderr logger prints the line only.
    const fields = { client: this.addressString(), requestline: this.requestline, status: code, size };
    this.server.logger.info(
      fields,
      this.#logLine('"%s" %s %s', [this.requestline, String(code), String(size)]),
    );
  }

  /** Python's `log_error`: like `logMessage`, at error level. */
  logError(format: string, ...args: unknown[]): void {
    if (this.logMessage !== BaseHTTPRequestHandler.prototype.logMessage) {
      this.logMessage(format, ...args);
      return;
    }
    this.server.logger.error(this.#logLine(format, args));
  }

  /**
   * Python's `log_message`: `%`-formats the message and writes
   * `127.0.0.1 - - [24/Nov/2026 19:02:57] message` to the server's logger (stderr by default), with
   * control characters escaped as `\xHH`.
   */
  logMessage(format: string, ...args: unknown[]): void {
    this.server.logger.info(this.#logLine(format, args));
  }

  #logLine(format: string, args: readonly unknown[]): string {
    const message = escapeControlCharacters(formatPercent(format, args));
    return `${this.addressString()} - - [${this.logDateTimeString()}] ${message}`;
  }

  /** Python's `date_time_string`: IMF-fixdate of `timestamp` (milliseconds; default now). */
  dateTimeString(timestamp?: number): string {
    return formatHttpDate(timestamp);
  }

  /** Python's `log_date_time_string`: local time, `24/Nov/2026 19:02:57`. */
  logDateTimeString(): string {
    return formatLogDate();
  }

  /** Python's `version_string`: `srv-http/<version> Node/<version>`. */
  versionString(): string {
    const { serverVersion, sysVersion } = this.statics;
    // Asked for on every response; the statics rarely change, so the joined string is kept.
    if (serverVersion !== cachedVersion[0] || sysVersion !== cachedVersion[1]) {
      const joined = `${serverVersion} ${sysVersion}`.trim();
      cachedVersion = [serverVersion, sysVersion, joined, isValidLine('Server', joined) ? joined : undefined];
    }
    return cachedVersion[2];
  }

  /** Python's `address_string`: the client's host. */
  addressString(): string {
    // An IPv4 client of a dual-stack socket logs as plain IPv4 (`127.0.0.1`, not `::ffff:127.0.0.1`),
    // as every srv command shows it.
    return displayHost(this.clientAddress.host);
  }
}
