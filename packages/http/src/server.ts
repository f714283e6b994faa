import http, { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  type AddressInput,
  type BaseServerOptions,
  type RequestHandler,
  type RequestInfo,
  type ServerRequest,
  type SocketAddress,
  SrvError,
  TCPServer,
} from '@srv/core';
import { Connection, connectionKey, type Tagged } from './connection.js';
import {
  checkTransferCodings,
  diagnoseParserError,
  http09Problem,
  type ParserError,
  type Problem,
} from './diagnose.js';
import { createHttpError } from './errors.js';
import { escapeControlCharacters, formatLogDate } from './format.js';
import { forwardRequest, isForwardedRequest } from './forward.js';
import {
  type BaseHTTPRequestHandler,
  type HTTPExchange,
  type HTTPHandlerClass,
  type ProtocolVersion,
  resolvedFinish,
} from './handler.js';
import { readRequestHead } from './head.js';
import { HealthCheck } from './health.js';
import { SrvServerResponse } from './response.js';
import { peekFirstChunk, rewriteAbsoluteTarget } from './target.js';
import { ConnectionTimeouts } from './timeouts.js';

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
  /**
   * A path (like `/healthz`) answered `200 ok` to GET and HEAD while serving and `503 draining` once
   * {@link HTTPServer.beginDrain} was called, before any handler or dispatcher queue, and not logged.
   * Default: none (the path reaches the handler like any other).
   */
  healthPath?: string;
  /**
   * Also answer the health path (or `/` without one) on a plain HTTP listener on this port, on the
   * server's host: no TLS and no PROXY header, as orchestrators' probes send. Default: none.
   */
  healthPort?: number;
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

type StreamRequest = Extract<ServerRequest, { kind: 'stream' }>;
const settledPromise: Promise<void> = Promise.resolve();

const defaults = {
  headersTimeout: 60_000,
  sendTimeout: 60_000,
  requestTimeout: 300_000,
  keepAliveTimeout: 5_000,
  maxHeaderLines: 100,
  maxLineLength: 65536,
  maxHeaderSize: 131072,
};

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
  readonly #timeouts: ConnectionTimeouts;
  #shuttingDown = false;
  readonly #health: HealthCheck;
  #drain: Promise<void> | undefined;
  #shutdownDone: Promise<void> | undefined;
  /**
   * Resolves with the health listener's address once it listens (`undefined` without `healthPort`);
   * rejects with a coded error when it cannot. Never an unhandled rejection.
   */
  readonly healthReady: Promise<SocketAddress | undefined>;

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
    this.#health = new HealthCheck(options.healthPath);
    const healthPort = options.healthPort;
    // Workers (attach mode) share the primary's listeners; the primary alone answers probes.
    this.healthReady =
      healthPort === undefined || options.attach
        ? Promise.resolve(undefined)
        : this.ready.then(() => {
            const { family, host } = this.address;
            return this.#health.listen(family === 'unix' ? '0.0.0.0' : host, healthPort);
          });
    this.healthReady.catch(() => {});

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
    this.#timeouts = new ConnectionTimeouts(
      {
        headersTimeout: this.headersTimeout,
        requestTimeout: this.requestTimeout,
        keepAliveTimeout: this.keepAliveTimeout,
        sendTimeout: this.sendTimeout,
        logger: this.logger,
        quiet: this.quiet,
        requestTimedOut: (connection) => this.#answerWithoutRequest(connection, { code: 408 }),
      },
      this.#connections,
    );
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
    if (this.#health.draining) res.shouldKeepAlive = false;
    if (this.#health.intercept(req, res)) return settledPromise;
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

  /** Python's answer for what the parser refused (diagnose.ts). */
  #diagnose(error: ParserError, connection: Connection): Problem {
    return diagnoseParserError(error, connection, this.maxLineLength);
  }

  #now(): number {
    return this.#timeouts.now();
  }

  #startTicker(): void {
    this.#timeouts.start();
  }

  #stopTicker(): void {
    this.#timeouts.stop();
  }

  /** True once {@link beginDrain} was called. */
  get draining(): boolean {
    return this.#health.draining;
  }

  /**
   * Begins a drain (what SIGTERM does under an orchestrator): for `delayMs` the server keeps
   * accepting, the health path answers 503 and every response carries `Connection: close`, so load
   * balancers move away without a failed request; then `shutdown()` finishes in-flight requests
   * within `graceMs`. Resolves when the shutdown is done. Idempotent (later delays are ignored).
   */
  beginDrain(delayMs = 0): Promise<void> {
    if (!Number.isFinite(delayMs) || delayMs < 0) {
      return Promise.reject(
        new SrvError('SRV_ERR_INVALID_OPTION', `drain delay must be a non-negative number, got ${delayMs}`),
      );
    }
    this.#drain ??= (async () => {
      this.#health.draining = true;
      this.emit('draining', delayMs);
      if (delayMs > 0 && !this.#shuttingDown) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delayMs);
          this.once('shutdown', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      await this.shutdown();
    })();
    return this.#drain;
  }

  /** Also closes the health listener, once in-flight requests are done. */
  override shutdown(): Promise<void> {
    this.#shutdownDone ??= super.shutdown().then(async () => {
      await this.healthReady.catch(() => {});
      await this.#health.close();
    });
    return this.#shutdownDone;
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
