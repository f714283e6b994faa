import http, { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  type AddressInput,
  type BaseServerOptions,
  type ConnectionInfo,
  type RequestHandler,
  type RequestInfo,
  type ServerRequest,
  type SocketAddress,
  SrvError,
  TCPServer,
} from '@srv/core';
import { createHttpError } from './errors.js';
import { forwardRequest, isForwardedRequest } from './exchange.js';
import { escapeControlCharacters, formatLogDate, pythonRepr } from './format.js';
import {
  type BaseHTTPRequestHandler,
  type HTTPExchange,
  type HTTPHandlerClass,
  type ProtocolVersion,
  resolvedFinish,
} from './handler.js';
import { isHttp09RequestLine, readRequestHead } from './head.js';
import { SrvServerResponse } from './response.js';

/** Options of {@link HTTPServer}; each also readable as a static field of a subclass. */
export interface HTTPServerOptions extends BaseServerOptions {
  /** Default: the handler class's static `protocolVersion` (`'HTTP/1.1'`). */
  protocolVersion?: ProtocolVersion;
  /** Milliseconds from a request's first byte (a new connection's accept) to its complete headers; 0 = none. Default 60000. */
  headersTimeout?: number;
  /** Milliseconds from a request's first byte to its complete body; 0 = none. Default 300000. */
  requestTimeout?: number;
  /** Milliseconds an idle keep-alive connection stays open; 0 = forever. Default 5000. */
  keepAliveTimeout?: number;
  /** More header lines than this → 431. Default 100 (Python's `_MAXHEADERS`). */
  maxHeaderLines?: number;
  /** Longest request line or header line, with its CRLF → 414 / 431. Default 65536 (Python's `_MAXLINE`). */
  maxLineLength?: number;
  /** Bytes of request line plus headers Node's parser accepts before 414 / 431. Default 131072. */
  maxHeaderSize?: number;
  /**
   * Milliseconds a connection may have output waiting that the client accepts no byte of; then it is
   * closed and logged once (nginx's `send_timeout`). A slow client that reads is never cut off: every
   * byte it takes restarts the clock. 0 = none. Default 60000.
   */
  sendTimeout?: number;
  /** No access log lines, and no per-request error lines (`code 404, message …`, aborts). Default false. */
  quiet?: boolean;
}

interface HTTPServerStatics {
  headersTimeout?: number;
  sendTimeout?: number;
  requestTimeout?: number;
  keepAliveTimeout?: number;
  maxHeaderLines?: number;
  maxLineLength?: number;
  maxHeaderSize?: number;
  quiet?: boolean;
  protocolVersion?: ProtocolVersion;
}

interface ParserError extends Error {
  code?: string;
  reason?: string;
  rawPacket?: Buffer;
  bytesParsed?: number;
}

interface Problem {
  code: number;
  message?: string;
  explain?: string;
  requestline?: string;
  command?: string;
}

type Phase = 'idle' | 'reading' | 'active';
type StreamRequest = Extract<ServerRequest, { kind: 'stream' }>;

const connectionKey = Symbol('srv.http.connection');
const settledPromise: Promise<void> = Promise.resolve();
type Tagged = Duplex & { [connectionKey]?: Connection; bytesRead?: number; _httpMessage?: unknown };

/** What srv tracks per connection: the parser can't (it never listens), so timeouts live here. */
class Connection {
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

const defaults = {
  headersTimeout: 60_000,
  sendTimeout: 60_000,
  requestTimeout: 300_000,
  keepAliveTimeout: 5_000,
  maxHeaderLines: 100,
  maxLineLength: 65536,
  maxHeaderSize: 131072,
};

const smugglingCodes = new Set([
  'HPE_UNEXPECTED_CONTENT_LENGTH',
  'HPE_INVALID_TRANSFER_ENCODING',
  'HPE_INVALID_CONTENT_LENGTH',
  'HPE_INVALID_HEADER_TOKEN',
  'HPE_INVALID_CHUNK_SIZE',
  'HPE_CR_EXPECTED',
  'HPE_LF_EXPECTED',
  'HPE_INVALID_CONSTANT',
  'HPE_STRICT',
  'HPE_INVALID_EOF_STATE',
  'HPE_INVALID_STATUS',
  'HPE_CLOSED_CONNECTION',
]);

/**
 * Python's `HTTPServer`: a {@link TCPServer} whose connections are parsed by Node's own HTTP parser
 * (llhttp, through an internal `node:http` server that never listens). Each request gets a new
 * handler instance. srv enforces `headersTimeout`, `requestTimeout` and `keepAliveTimeout` itself
 * (the internal server's own checks only run while it listens), answers malformed requests with a
 * Python-shaped error page, and on `shutdown()` closes idle keep-alive connections at once and answers
 * in-flight requests with `Connection: close`.
 */
export class HTTPServer extends TCPServer {
  static override readonly moduleUrl: string = import.meta.url;
  static override readonly exportName: string = 'HTTPServer';

  /** The handler class given to the constructor. */
  readonly Handler: HTTPHandlerClass;
  /** The protocol the handler speaks: `'HTTP/1.1'` (keep-alive, chunked) or `'HTTP/1.0'`. */
  readonly protocolVersion: ProtocolVersion;
  /** No access log lines. */
  readonly quiet: boolean;
  readonly headersTimeout: number;
  readonly requestTimeout: number;
  readonly keepAliveTimeout: number;
  /** See {@link HTTPServerOptions.sendTimeout}. */
  readonly sendTimeout: number;
  readonly maxHeaderLines: number;
  readonly maxLineLength: number;
  readonly maxHeaderSize: number;

  readonly #http: http.Server;
  readonly #connections = new Set<Connection>();
  #ticker: NodeJS.Timeout | undefined;
  #shuttingDown = false;

  constructor(address: AddressInput, Handler: HTTPHandlerClass, options: HTTPServerOptions = {}) {
    super(address, Handler as unknown as RequestHandler<Duplex, TCPServer>, options);
    const statics = this.constructor as unknown as HTTPServerStatics;
    const pick = <K extends keyof typeof defaults>(key: K): number => {
      const value = options[key] ?? statics[key] ?? defaults[key];
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new SrvError(
          'SRV_ERR_INVALID_OPTION',
          `${key} must be a non-negative number, got ${String(value)}`,
        );
      }
      return value;
    };
    this.Handler = Handler;
    this.protocolVersion =
      options.protocolVersion ?? statics.protocolVersion ?? Handler.protocolVersion ?? 'HTTP/1.1';
    if (this.protocolVersion !== 'HTTP/1.0' && this.protocolVersion !== 'HTTP/1.1') {
      throw new SrvError(
        'SRV_ERR_INVALID_OPTION',
        `protocolVersion must be 'HTTP/1.0' or 'HTTP/1.1', got ${String(this.protocolVersion)}`,
      );
    }
    this.quiet = options.quiet ?? statics.quiet ?? false;
    this.headersTimeout = pick('headersTimeout');
    this.requestTimeout = pick('requestTimeout');
    this.keepAliveTimeout = pick('keepAliveTimeout');
    this.sendTimeout = pick('sendTimeout');
    this.maxHeaderLines = pick('maxHeaderLines');
    this.maxLineLength = pick('maxLineLength');
    this.maxHeaderSize = pick('maxHeaderSize');

    const inner = http.createServer({
      // Buffers sendHeader() lines and hands them to Node as one writeHead() array (see response.ts).
      ServerResponse: SrvServerResponse,
      maxHeaderSize: this.maxHeaderSize,
      requireHostHeader: false,
      joinDuplicateHeaders: false,
    });
    // maxHeadersCount drops extra lines silently; srv counts rawHeaders itself and answers 431.
    inner.maxHeadersCount = 0;
    // A client that half-closes after its request still gets the answer (Python's behaviour): Node
    // otherwise ends the connection on the client's FIN, before a request still waiting in the serial
    // queue (or a worker) has answered.
    (inner as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    // Node's own keep-alive timer would race srv's (and is absent over a worker relay).
    inner.keepAliveTimeout = 0;
    inner.headersTimeout = 0;
    inner.requestTimeout = 0;
    inner.timeout = 0;
    inner.on('request', (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res, false));
    inner.on('checkContinue', (req: IncomingMessage, res: ServerResponse) =>
      this.#onRequest(req, res, this.protocolVersion === 'HTTP/1.1'),
    );
    // Python ignores expectations other than 100-continue; so does srv (Node would answer 417).
    inner.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) =>
      this.#onRequest(req, res, false),
    );
    inner.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onConnect(req, socket, head),
    );
    inner.on('clientError', (error: ParserError, socket: Duplex) => this.#onClientError(error, socket));
    this.#http = inner;
    this.on('shutdown', () => this.#onShutdown());
  }

  /**
   * Python's `process_request`, per connection. With an in-process dispatcher (`serial`, `async`) the
   * connection is parsed here at once and each request, once its head has arrived, goes to the
   * dispatcher; so a connection that sends nothing, or closes, never holds the serial queue. With one
   * that runs elsewhere (threading, forking) the connection is handed off once its first request's head
   * has arrived, with the bytes read so far; TLS that the dispatcher ends itself hides the head, so such
   * a connection goes at once.
   */
  override processRequest(
    request: Duplex,
    clientAddress: SocketAddress,
    serverRequest: ServerRequest,
  ): Promise<void> {
    if (serverRequest.kind !== 'stream') return super.processRequest(request, clientAddress, serverRequest);
    if (!this.dispatcher.runsElsewhere || this.dispatcher.forwardsRequests) {
      return this.runRequest(request, clientAddress, serverRequest);
    }
    if (serverRequest.info.tls && this.dispatcher.handlesTls) {
      return super.processRequest(request, clientAddress, serverRequest);
    }
    return this.#handOff(request, clientAddress, serverRequest);
  }

  /** Waits here for the first request's head (timeouts as for any connection), then dispatches. */
  async #handOff(socket: Duplex, clientAddress: SocketAddress, serverRequest: StreamRequest): Promise<void> {
    const connection = new Connection(socket, clientAddress, serverRequest.info);
    (socket as Tagged)[connectionKey] = connection;
    this.#connections.add(connection);
    this.#startTicker();
    let head: Buffer | undefined;
    try {
      if (this.#shuttingDown) connection.close();
      else {
        connection.countData();
        head = await readRequestHead(socket, {
          limit: this.maxHeaderSize,
          // The socket's handle moves to another process: it must not read on its own meanwhile.
          detach: this.dispatcher.pauseOnConnect === true,
          gone: connection.done,
        });
      }
    } finally {
      this.#connections.delete(connection);
      if (this.#connections.size === 0) this.#stopTicker();
      (socket as Tagged)[connectionKey] = undefined;
    }
    if (head === undefined || connection.closing || this.#shuttingDown) {
      // Gone, silent until its timeout, or answered here (408): nothing to dispatch.
      if (!connection.closing) connection.close();
      await connection.done;
      this.shutdownRequest(socket, serverRequest);
      return;
    }
    return super.processRequest(socket, clientAddress, { ...serverRequest, head });
  }

  /** Serves one connection: hands it to the parser and settles when it has closed. */
  override async finishRequest(
    request: Duplex,
    clientAddress: SocketAddress,
    info: RequestInfo,
  ): Promise<void> {
    const connection = new Connection(request, clientAddress, info);
    (request as Tagged)[connectionKey] = connection;
    this.#connections.add(connection);
    this.#startTicker();
    try {
      // A request the primary already read (threading) is in flight: answered, with Connection: close.
      if (this.#shuttingDown && !isForwardedRequest(request)) {
        connection.close();
      } else {
        const first = await peekFirstChunk(request);
        const http09 = first === undefined ? undefined : http09Problem(first, this.maxLineLength);
        if (http09) {
          // llhttp would wait for headers an HTTP/0.9 client never sends (until headersTimeout).
          this.#answerWithoutRequest(connection, http09);
        } else if (first !== undefined && !request.destroyed) {
          connection.firstLineOpen = !first.includes(0x0a);
          (request as Duplex & { setNoDelay?(value: boolean): unknown }).setNoDelay?.(true);
          request.unshift(first);
          this.#http.emit('connection', request);
          connection.countData();
          request.resume();
        }
      }
      await connection.done;
    } finally {
      this.#connections.delete(connection);
      if (this.#connections.size === 0) this.#stopTicker();
    }
  }

  #connectionOf(socket: Duplex): Connection | undefined {
    return (socket as Tagged)[connectionKey];
  }

  #onRequest(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): void {
    const connection = this.#connectionOf(req.socket);
    if (!connection) {
      res.destroy();
      return;
    }
    if (connection.phase === 'idle') connection.readingSince = this.#now();
    connection.phase = 'active';
    connection.pending += 1;
    // The ticker checks `complete`; no per-request listener needed.
    connection.bodyRequest = req;
    connection.bodySince = connection.readingSince;
    (res as ServerResponse & { [connectionKey]?: Connection })[connectionKey] = connection;
    res.on('close', this.#onResponseClose);
    connection.dispatched = false;
    // Pipelined requests wait for the one before; a lone request starts one microtask later, once
    // llhttp has parsed the rest of the bytes that came with its head: framing that fails there
    // (`Transfer-Encoding: xchunked`, a chunk size `zz`) is then answered with one 400, never handled.
    connection.tail =
      connection.pending === 1
        ? settledPromise.then(() => this.#dispatch(connection, req, res, expectContinue))
        : connection.tail.then(() => this.#dispatch(connection, req, res, expectContinue));
  }

  /** A request whose head has arrived goes to the dispatcher (serial: one at a time, in order). */
  #dispatch(
    connection: Connection,
    req: IncomingMessage,
    res: ServerResponse,
    expectContinue: boolean,
  ): Promise<void> {
    if (connection.bodyRequest === req) connection.dispatched = true;
    const rejected = connection.rejected;
    if (rejected?.req === req) {
      connection.rejected = undefined;
      this.#reject(connection, req, res, rejected.problem);
      return settledPromise;
    }
    const dispatched = this.dispatcher.forwardsRequests
      ? forwardRequest(this.dispatcher, connection.serverRequest, connection.closing, req, res)
      : this.dispatcher.dispatch(connection.serverRequest, () =>
          this.#serve(connection, req, res, expectContinue),
        );
    return dispatched.catch((error: unknown) => this.#dispatchFailed(connection, req, res, error));
  }

  /** The dispatcher refused the request (a full serial queue): 503, and the connection closes. */
  #dispatchFailed(connection: Connection, req: IncomingMessage, res: ServerResponse, error: unknown): void {
    this.logger.warn(
      { err: error },
      `request from ${connection.clientAddress.host} not served: ${error instanceof Error ? error.message : String(error)}`,
    );
    if (res.headersSent || res.destroyed || connection.socket.destroyed) {
      connection.socket.destroy();
      return;
    }
    const handler = this.#createHandler(connection, { req, res });
    if (!handler) return;
    handler.closeConnection = true;
    this.#sendProblem(handler, { code: 503, explain: 'The server is too busy to serve this request' });
    if (res.writableFinished || res.destroyed) connection.close();
    else res.once('finish', () => connection.close());
  }

  /** Answers a request whose framing failed before it was dispatched: one error response, then close. */
  #reject(connection: Connection, req: IncomingMessage, res: ServerResponse, problem: Problem): void {
    if (res.headersSent || res.destroyed || connection.socket.destroyed) {
      connection.socket.destroy();
      return;
    }
    res.shouldKeepAlive = false;
    const handler = this.#createHandler(connection, { req, res });
    if (!handler) return;
    handler.closeConnection = true;
    this.#sendProblem(handler, problem);
    if (res.writableFinished || res.destroyed) connection.close();
    else res.once('finish', () => connection.close());
  }

  // One function for every response (no closure per request); `this` is the response.
  readonly #onResponseClose = (() => {
    const server = this;
    return function onResponseClose(this: ServerResponse & { [connectionKey]?: Connection }): void {
      const connection = this[connectionKey];
      if (connection) server.#responseDone(connection);
    };
  })();

  #responseDone(connection: Connection): void {
    connection.pending -= 1;
    if (connection.pending > 0) return;
    // An idle connection keeps no request alive (its body, if unread, is Node's to discard).
    if (connection.bodyRequest?.complete) connection.bodyRequest = undefined;
    connection.phase = 'idle';
    connection.fresh = false;
    connection.since = this.#now();
    connection.mark = connection.bytes();
    // A forwarded request's stream is always idle after its one response: the primary decides for its
    // connection (a request may still wait behind this one there).
    if (this.#shuttingDown && connection.idle && !isForwardedRequest(connection.socket)) connection.close();
  }

  #createHandler(connection: Connection, exchange: HTTPExchange): BaseHTTPRequestHandler | undefined {
    try {
      return new this.Handler(connection.socket, connection.clientAddress, this, connection.info, exchange);
    } catch (error) {
      this.handleError(connection.socket, connection.clientAddress, error);
      exchange.res.destroy();
      return undefined;
    }
  }

  #serve(
    connection: Connection,
    req: IncomingMessage,
    res: ServerResponse,
    expectContinue: boolean,
  ): Promise<void> {
    if (connection.socket.destroyed || connection.closing) {
      res.destroy();
      return settledPromise;
    }
    if (this.protocolVersion === 'HTTP/1.0') {
      res.shouldKeepAlive = false;
      res.useChunkedEncodingByDefault = false;
    }
    if (this.#shuttingDown) res.shouldKeepAlive = false;
    const target = req.url ?? '';
    const problem = this.#checkLimits(req) ?? rewriteAbsoluteTarget(req);
    // An absolute-form target was rewritten to its path: the request line still shows it as received.
    const handler = this.#createHandler(
      connection,
      req.url === target
        ? { req, res }
        : { req, res, requestline: `${req.method} ${target} HTTP/${req.httpVersion}` },
    );
    if (!handler) return settledPromise;
    if (problem) {
      handler.closeConnection = true;
      this.#sendProblem(handler, problem);
      return settledPromise;
    }
    return this.#run(handler, connection, expectContinue);
  }

  async #run(
    handler: BaseHTTPRequestHandler,
    connection: Connection,
    expectContinue: boolean,
  ): Promise<void> {
    const { res } = handler;
    let failed = false;
    try {
      const setup = settle(handler.setup());
      if (setup) await setup;
      try {
        if (!expectContinue || (await handler.handleExpect100())) {
          const handled = settle(handler.handle());
          if (handled) await handled;
        }
      } catch (error) {
        failed = true;
        this.#handlerFailed(handler, connection, error);
      } finally {
        const finished = settle(handler.finish());
        if (finished) await finished;
      }
    } catch (error) {
      if (!failed) this.#handlerFailed(handler, connection, error);
    }
    if (!res.writableEnded && !res.destroyed && !connection.closing) res.end();
    if (handler.closeConnection) {
      if (res.writableFinished || res.destroyed) connection.close();
      else res.once('finish', () => connection.close());
    }
  }

  #handlerFailed(handler: BaseHTTPRequestHandler, connection: Connection, error: unknown): void {
    const { res } = handler;
    const aborted = connection.cut ? '' : abortReason(error, handler);
    if (aborted !== undefined) {
      // The client left mid-request (or its body broke): nothing to answer and no stack worth
      // printing; one line per request (a flood of aborted uploads must not flood the log).
      if (aborted !== '' && !this.quiet) handler.logError('"%s" aborted: %s', handler.requestline, aborted);
      connection.closing = true;
      connection.socket.destroy();
      if (!res.destroyed) res.destroy();
      return;
    }
    this.handleError(connection.socket, connection.clientAddress, error);
    if (res.headersSent || res.writableEnded || res.destroyed) {
      // Part of a response is out: the client can only learn of the failure from a cut connection
      // (what was written still goes out first; a chunked body then lacks its last chunk).
      connection.closing = true;
      const socket = connection.socket as Tagged & { uncork?(): void; writableCorked?: number };
      while ((socket.writableCorked ?? 0) > 0) socket.uncork?.();
      socket.end();
      return;
    }
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    if (res instanceof SrvServerResponse) res.pendingHeaders = undefined;
    handler.closeConnection = true;
    try {
      handler.sendError(500);
    } catch (secondary) {
      this.handleError(connection.socket, connection.clientAddress, secondary);
      res.destroy();
    }
  }

  #sendProblem(handler: BaseHTTPRequestHandler, problem: Problem): void {
    try {
      handler.sendError(problem.code, problem.message, problem.explain);
    } catch (error) {
      this.handleError(handler.request, handler.clientAddress, error);
      handler.res.destroy();
      return;
    }
    if (!handler.res.writableEnded) handler.res.end();
  }

  /** Python's request-line and header limits, checked on what llhttp parsed. */
  #checkLimits(req: IncomingMessage): Problem | undefined {
    // `METHOD SP target SP HTTP/x.y CRLF`, as Python measures the raw line.
    const lineLength = (req.method?.length ?? 0) + (req.url?.length ?? 0) + 12;
    if (lineLength > this.maxLineLength) return { code: 414 };
    if (req.httpVersionMajor >= 2) {
      return { code: 505, message: `Invalid HTTP version (${req.httpVersionMajor}.${req.httpVersionMinor})` };
    }
    const raw = req.rawHeaders;
    if (raw.length / 2 > this.maxHeaderLines) {
      return {
        code: 431,
        message: 'Too many headers',
        explain: `got more than ${this.maxHeaderLines} headers`,
      };
    }
    let hosts = 0;
    let codings: string | undefined;
    for (let index = 0; index + 1 < raw.length; index += 2) {
      const name = raw[index]!;
      if (name.length + raw[index + 1]!.length + 4 > this.maxLineLength) {
        return {
          code: 431,
          message: 'Line too long',
          explain: `got more than ${this.maxLineLength} bytes when reading header line`,
        };
      }
      if (name.length === 4 && name.toLowerCase() === 'host') hosts += 1;
      else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
        codings = codings === undefined ? raw[index + 1]! : `${codings},${raw[index + 1]!}`;
      }
    }
    // RFC 9112 §3.2: more than one Host is a 400 (two hosts are how cache poisoning starts).
    if (hosts > 1) return { code: 400, message: 'Bad Request', explain: 'More than one Host header' };
    if (codings !== undefined) return checkTransferCodings(codings);
    return undefined;
  }

  #onConnect(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const connection = this.#connectionOf(socket);
    if (!connection) {
      socket.destroy();
      return;
    }
    if (head.length > 0) socket.unshift(head);
    connection.phase = 'active';
    connection.pending += 1;
    connection.tail = connection.tail.then(async () => {
      try {
        const res = new ServerResponse(req);
        res.shouldKeepAlive = false;
        res.useChunkedEncodingByDefault = false;
        res.assignSocket(socket as Socket);
        const handler = this.#createHandler(connection, { req, res, body: socket });
        if (!handler) return;
        handler.closeConnection = true;
        await this.#run(handler, connection, false);
        if (!socket.destroyed) {
          if (res.writableFinished) socket.end();
          else res.once('finish', () => socket.end());
        }
      } finally {
        connection.pending -= 1;
      }
    });
  }

  #onClientError(error: ParserError, socket: Duplex): void {
    const connection = this.#connectionOf(socket);
    if (!connection || error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const current = connection.bodyRequest;
    if (current && !current.complete && connection.pending > 0) {
      // RFC 9112 §6.3: the framing of a request that llhttp already passed on has failed.
      if (!connection.dispatched) {
        // In the bytes that came with its head: that request gets one 400 (and nothing else).
        const tooLarge = error.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW';
        connection.rejected = {
          req: current,
          problem: {
            code: tooLarge ? 413 : 400,
            message: tooLarge ? 'Content Too Large' : 'Bad Request',
            explain: error.reason ?? 'Malformed request body framing',
          },
        };
      } else {
        this.#abortBody(connection, current, error);
      }
      return;
    }
    const problem = this.#diagnose(error, connection);
    connection.pending += 1;
    connection.tail = connection.tail.then(() => {
      connection.pending -= 1;
      this.#answerWithoutRequest(connection, problem);
    });
  }

  /**
   * Bad bytes in the body of a request that is being handled: no second response can follow the
   * handler's, so the connection is closed and the body stream (the handler's `rfile`) errors with
   * `SRV_ERR_BAD_REQUEST_BODY`, so a handler reading it stops.
   */
  #abortBody(connection: Connection, req: IncomingMessage, error: ParserError): void {
    connection.closing = true;
    // llhttp reports a client that half-closed mid-body as a bad EOF: that is an abort, not an attack.
    const reason =
      error.code === 'HPE_INVALID_EOF_STATE'
        ? 'client connection lost'
        : `bad request body (${error.reason ?? error.message})`;
    if (!this.quiet) {
      const requestline = `${req.method} ${req.url} HTTP/${req.httpVersion}`;
      this.logger.error(
        `${connection.clientAddress.host} - - [${formatLogDate()}] ${escapeControlCharacters(`"${requestline}" aborted: ${reason}`)}`,
      );
    }
    // The socket first, so destroying the request does not hand the error to the socket's listeners.
    connection.socket.destroy();
    req.destroy(createHttpError('SRV_ERR_BAD_REQUEST_BODY', reason, { cause: error }));
  }

  /** Answers a connection that has no parsed request (parser error, timeout) through a handler. */
  #answerWithoutRequest(connection: Connection, problem: Problem): void {
    const socket = connection.socket;
    const inFlight = socket._httpMessage as ServerResponse | null | undefined;
    // (Node detaches a response from its socket on 'finish', which may come after writableFinished.)
    if (inFlight && !socket.destroyed && !inFlight.destroyed) {
      // The response before it is still going out (pipelined garbage after a good request): this
      // answer follows it, as the next response on the connection.
      inFlight.once('finish', () => this.#answerWithoutRequest(connection, problem));
      return;
    }
    if (socket.destroyed || !socket.writable || socket._httpMessage) {
      socket.destroy();
      return;
    }
    const req = new IncomingMessage(socket as Socket);
    req.method = problem.command ?? '';
    req.url = '';
    req.httpVersionMajor = 1;
    req.httpVersionMinor = 1;
    req.httpVersion = '1.1';
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.useChunkedEncodingByDefault = false;
    res.assignSocket(socket as Socket);
    connection.closing = true;
    res.once('finish', () => {
      res.detachSocket(socket as Socket);
      socket.end();
    });
    const handler = this.#createHandler(connection, {
      req,
      res,
      requestline: problem.requestline ?? '',
      command: problem.command ?? '',
      requestVersion: 'HTTP/1.1',
    });
    if (!handler) {
      socket.destroy();
      return;
    }
    this.#sendProblem(handler, problem);
  }

  /** Turns a parser error into Python's answer for the same bytes. */
  #diagnose(error: ParserError, connection: Connection): Problem {
    const raw = error.rawPacket ? error.rawPacket.toString('latin1') : '';
    const at = Math.min(Math.max(error.bytesParsed ?? 0, 0), raw.length);
    const lineStart = raw.lastIndexOf('\n', at - 1) + 1;
    const lineEnd = raw.indexOf('\n', lineStart);
    const line = raw.slice(lineStart, lineEnd === -1 ? raw.length : lineEnd).replace(/\r$/, '');
    switch (error.code) {
      case 'HPE_HEADER_OVERFLOW':
        return this.#diagnoseOverflow(raw, connection);
      case 'HPE_INVALID_METHOD':
      case 'HPE_INVALID_URL':
      case 'HPE_INVALID_VERSION':
        return diagnoseRequestLine(line, this.maxLineLength) ?? { code: 400, requestline: line };
      case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
        return { code: 413, explain: error.reason ?? 'Chunk extensions too large' };
      default: {
        const startsRequest =
          (lineStart === 0 && connection.pending === 0) ||
          raw.slice(Math.max(0, lineStart - 4), lineStart) === '\r\n\r\n';
        if (startsRequest && /^[A-Za-z]+ \S/.test(line)) {
          // The parser stopped inside a request line (e.g. a bad version token).
          const problem = diagnoseRequestLine(line, this.maxLineLength);
          if (problem) return problem;
        }
        if (error.code && smugglingCodes.has(error.code)) {
          return { code: 400, message: 'Bad Request', explain: error.reason ?? 'Malformed request' };
        }
        return { code: 400, message: 'Bad Request', explain: error.reason ?? error.message };
      }
    }
  }

  /**
   * llhttp counts the request line in `maxHeaderSize`; Python's answer differs (414 for the line, 431
   * for the headers), so look at where the overflow hit: the bytes before the first line break of
   * the failing chunk end the line being read.
   */
  #diagnoseOverflow(raw: string, connection: Connection): Problem {
    const newline = raw.indexOf('\n');
    const tooLarge: Problem = { code: 431 };
    if (newline === -1) {
      // One chunk inside one huge line: the request line when the connection's first bytes were
      // already in it, else a header.
      return connection.fresh && connection.firstLineOpen ? { code: 414 } : tooLarge;
    }
    const head = raw.slice(0, newline).replace(/\r$/, '');
    return /\sHTTP\/\d+\.\d+$/.test(head) && !head.includes(':') ? { code: 414 } : tooLarge;
  }

  #now(): number {
    return performance.now();
  }

  #startTicker(): void {
    if (this.#ticker) return;
    const limits = [this.headersTimeout, this.requestTimeout, this.keepAliveTimeout, this.sendTimeout].filter(
      (value) => value > 0,
    );
    if (limits.length === 0) return;
    const interval = Math.min(1000, Math.max(5, Math.floor(Math.min(...limits) / 8)));
    this.#ticker = setInterval(() => this.#tick(), interval);
    this.#ticker.unref();
  }

  #stopTicker(): void {
    if (this.#ticker) clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  #tick(): void {
    const now = this.#now();
    for (const connection of this.#connections) {
      if (connection.socket.destroyed) continue;
      if (this.sendTimeout > 0 && this.#checkSending(connection, now)) continue;
      if (connection.closing) continue;
      if (connection.pending === 0) this.#checkWaiting(connection, now);
      else if (connection.bodyRequest && !connection.bodyRequest.complete) this.#checkBody(connection, now);
    }
  }

  /** Closes a connection whose client has taken no byte of its output for `sendTimeout`; true if so. */
  #checkSending(connection: Connection, now: number): boolean {
    const unsent = connection.unsentBytes();
    const sent = connection.sentBytes();
    const progressed = sent === undefined ? unsent < connection.unsent : sent !== connection.sent;
    connection.sent = sent ?? 0;
    if (unsent === 0 || progressed) {
      // Nothing waits, or the client took some since the last tick.
      connection.unsent = unsent;
      connection.sendingSince = now;
      return false;
    }
    connection.unsent = unsent;
    if (now - connection.sendingSince < this.sendTimeout) return false;
    connection.cut = true;
    connection.closing = true;
    if (!this.quiet) {
      this.logger.warn(
        `${connection.clientAddress.host} - - [${formatLogDate()}] client took no data for ${Math.round(this.sendTimeout / 1000)} s (${unsent} bytes waiting); connection closed`,
      );
    }
    connection.socket.destroy();
    return true;
  }

  #checkWaiting(connection: Connection, now: number): void {
    if (connection.phase === 'idle') {
      if (connection.bytes() === connection.mark) {
        const limit = connection.fresh ? this.headersTimeout : this.keepAliveTimeout;
        if (limit > 0 && now - connection.since >= limit) connection.close();
        return;
      }
      connection.phase = 'reading';
      connection.readingSince = connection.fresh ? connection.started : now;
    }
    const elapsed = now - connection.readingSince;
    if (
      (this.headersTimeout > 0 && elapsed >= this.headersTimeout) ||
      (this.requestTimeout > 0 && elapsed >= this.requestTimeout)
    ) {
      this.#answerWithoutRequest(connection, { code: 408 });
    }
  }

  #checkBody(connection: Connection, now: number): void {
    if (this.requestTimeout > 0 && now - connection.bodySince >= this.requestTimeout) {
      this.logger.warn(
        `request body from ${connection.clientAddress.host} not complete after ${this.requestTimeout} ms; closing`,
      );
      connection.closing = true;
      connection.socket.destroy();
    }
  }

  #onShutdown(): void {
    this.#shuttingDown = true;
    for (const connection of this.#connections) {
      if (connection.idle) connection.close();
      else {
        const message = connection.socket._httpMessage as ServerResponse | undefined;
        if (message && !message.headersSent) message.shouldKeepAlive = false;
      }
    }
  }
}

/**
 * Why a handler's failure is the client's doing: its request body broke (`SRV_ERR_BAD_REQUEST_BODY`,
 * already logged: `''`) or the connection went away mid-request; undefined for a real failure.
 */
function abortReason(error: unknown, handler: BaseHTTPRequestHandler): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'SRV_ERR_BAD_REQUEST_BODY') return '';
  const gone = handler.req.destroyed || handler.request.destroyed || handler.res.destroyed;
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE') {
    return `client connection lost (${String(code)})`;
  }
  if (gone && (error as { message?: unknown } | undefined)?.message === 'aborted') {
    return 'client connection lost';
  }
  return undefined;
}

/** Awaits only what is a promise: a synchronous handler method costs no extra turn of the microtask queue. */
function settle(value: unknown): Promise<unknown> | undefined {
  return value !== resolvedFinish && typeof (value as PromiseLike<unknown> | undefined)?.then === 'function'
    ? (value as Promise<unknown>)
    : undefined;
}

/**
 * Waits for a connection's first bytes (undefined when it closes first) and leaves the stream paused.
 * Knowing whether they hold a line break tells a request line that overflows the parser (414) from a
 * header that does (431); llhttp's error only shows the chunk it failed in.
 */
function peekFirstChunk(socket: Duplex): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const onData = (chunk: Buffer | string) => {
      cleanup();
      socket.pause();
      resolve(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(undefined);
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onEnd);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.once('error', onEnd);
  });
}

/**
 * An HTTP/0.9 request line (`GET /` and a line break, no version) as the connection's first bytes:
 * the answer (400) it gets at once; undefined for anything else.
 */
function http09Problem(first: Buffer, maxLineLength: number): Problem | undefined {
  const newline = first.indexOf(0x0a);
  if (newline === -1 || !isHttp09RequestLine(first.subarray(0, newline))) return undefined;
  const line = first.subarray(0, newline).toString('latin1').replace(/\r$/, '');
  return diagnoseRequestLine(line, maxLineLength) ?? { code: 400, requestline: line };
}

const absoluteTarget = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/s;
const authorityForm = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::\d{0,5})?$/;

/**
 * RFC 9112 §3.2.2: an absolute-form target (`GET http://host/a.txt?q HTTP/1.1`, what proxies send) is
 * served as its path and query, and its authority replaces any `Host` (§7.2: the target wins). The
 * path is kept byte for byte (no URL normalisation), so every later check sees what was sent.
 * Returns the 400 for a target that is not an http(s) URL with a plain authority.
 */
function rewriteAbsoluteTarget(req: IncomingMessage): Problem | undefined {
  const target = req.url ?? '';
  if (target.charCodeAt(0) === 0x2f || target === '*' || req.method === 'CONNECT') return undefined;
  const match = absoluteTarget.exec(target);
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  const authority = match[2]!;
  if ((scheme !== 'http' && scheme !== 'https') || !authorityForm.test(authority)) {
    return { code: 400, message: 'Bad Request', explain: 'The absolute-form target is not an http(s) URL' };
  }
  const rest = match[3]!;
  req.url = rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest;
  const raw: string[] = [];
  const source = req.rawHeaders;
  for (let index = 0; index + 1 < source.length; index += 2) {
    if (source[index]!.toLowerCase() !== 'host') raw.push(source[index]!, source[index + 1]!);
  }
  raw.push('Host', authority);
  req.rawHeaders = raw;
  req.headers.host = authority;
  return undefined;
}

/**
 * llhttp only passes a request whose last transfer coding is `chunked`, and decodes only that one:
 * any coding before it (`gzip, chunked`) is one srv does not implement (RFC 9112 §6.1: 501), and
 * `chunked` twice is bad framing (400).
 */
function checkTransferCodings(value: string): Problem | undefined {
  const codings = value
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding.length > 0);
  if (codings.length < 2) return undefined;
  const first = codings[0]!;
  if (first === 'chunked') {
    return { code: 400, message: 'Bad Request', explain: 'chunked applied more than once' };
  }
  return {
    code: 501,
    message: `Unsupported transfer coding (${pythonRepr(first.split(';')[0]!.trim())})`,
    explain: 'Only the chunked transfer coding is implemented',
  };
}

/** Python's `parse_request` checks of a request line llhttp refused; undefined when none applies. */
function diagnoseRequestLine(line: string, maxLineLength: number): Problem | undefined {
  if (line.length + 2 > maxLineLength) return { code: 414, requestline: line };
  const words = line.split(/[ \t]+/).filter((word) => word.length > 0);
  const requestline = line;
  if (words.length === 0)
    return { code: 400, message: `Bad request syntax (${pythonRepr(line)})`, requestline };
  if (words.length >= 3) {
    const version = words[words.length - 1]!;
    const match = /^HTTP\/(\d+)\.(\d+)$/.exec(version);
    if (!match) return { code: 400, message: `Bad request version (${pythonRepr(version)})`, requestline };
    const major = Number(match[1]);
    if (major >= 2)
      return { code: 505, message: `Invalid HTTP version (${match[1]}.${match[2]})`, requestline };
    if (major !== 1 || Number(match[2]) > 1) {
      // Python accepts any HTTP/1.x; llhttp only 1.0 and 1.1. Name the version either way.
      return { code: 400, message: `Bad request version (${pythonRepr(version)})`, requestline };
    }
  }
  if (words.length < 2 || words.length > 3) {
    return { code: 400, message: `Bad request syntax (${pythonRepr(line)})`, requestline };
  }
  const command = words[0]!;
  // A method llhttp knows was refused for something else (e.g. raw non-ASCII bytes in the target): 400.
  if (
    /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(command) &&
    words.length === 3 &&
    !http.METHODS.includes(command)
  ) {
    // A well-formed line with a method llhttp does not know: Python has no do_<METHOD> for it either.
    return { code: 501, message: `Unsupported method (${pythonRepr(command)})`, requestline, command };
  }
  return { code: 400, message: `Bad request syntax (${pythonRepr(line)})`, requestline };
}

/** Python 3.14's `HTTPSServer`: an {@link HTTPServer} that requires `options.tls`. */
export class HTTPSServer extends HTTPServer {
  static override readonly moduleUrl: string = import.meta.url;
  static override readonly exportName: string = 'HTTPSServer';

  constructor(address: AddressInput, Handler: HTTPHandlerClass, options: HTTPServerOptions = {}) {
    if (!options.tls) {
      throw new SrvError('SRV_ERR_INVALID_OPTION', 'HTTPSServer needs options.tls (a certificate and key)');
    }
    super(address, Handler, options);
  }
}
