import type http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  type AddressInput,
  AsyncDispatcher,
  type RequestHandler,
  type RequestInfo,
  type ServerRequest,
  type SocketAddress,
  SrvError,
  TCPServer,
} from '@srv/core';
import {
  abortBody,
  answerDispatchFailed,
  answerWithoutRequest,
  createHandler,
  refuseRequest,
  sendProblem,
} from './answers.js';
import { Connection, connectionKey, connectionOf, type Tagged } from './connection.js';
import { checkRequestLimits, diagnoseParserError, http09Problem, type ParserError } from './diagnose.js';
import { forwardRequest } from './forward.js';
import { buildForwardedExchange, forwardedHeadOf } from './forwarded.js';
import type { HTTPHandlerClass, ProtocolVersion } from './handler.js';
import { runHandler, serveTunnel } from './handler-run.js';
import { readRequestHead } from './head.js';
import { HealthCheck, waitUnlessShutdown } from './health.js';
import { createParser } from './parser.js';
import { SrvServerResponse } from './response.js';
import { type HTTPServerOptions, settleOptions } from './server-options.js';
import { hasNoBody, peekFirstChunk, rewriteAbsoluteTarget } from './target.js';
import { ConnectionTimeouts } from './timeouts.js';

export type { HTTPServerOptions } from './server-options.js';

type StreamRequest = Extract<ServerRequest, { kind: 'stream' }>;
type TaggedResponse = ServerResponse & { [connectionKey]?: Connection };
const settledPromise: Promise<void> = Promise.resolve();
const asyncDispatch = AsyncDispatcher.prototype.dispatch;

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
    const settings = settleOptions(options, this.constructor, Handler);
    this.Handler = Handler;
    this.protocolVersion = settings.protocolVersion;
    this.quiet = settings.quiet;
    this.headersTimeout = settings.headersTimeout;
    this.requestTimeout = settings.requestTimeout;
    this.keepAliveTimeout = settings.keepAliveTimeout;
    this.sendTimeout = settings.sendTimeout;
    this.maxHeaderLines = settings.maxHeaderLines;
    this.maxLineLength = settings.maxLineLength;
    this.maxHeaderSize = settings.maxHeaderSize;
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

    const inner = createParser(this.maxHeaderSize, {
      request: (req, res, expectContinue) =>
        this.#onRequest(req, res, expectContinue && this.protocolVersion === 'HTTP/1.1'),
      connect: (req, socket, head) => {
        const connection = connectionOf(socket);
        if (connection) serveTunnel(this, connection, req, head);
        else socket.destroy();
      },
      clientError: (error, socket) => this.#onClientError(error, socket),
    });
    this.#http = inner;
    this.#timeouts = new ConnectionTimeouts({
      headersTimeout: this.headersTimeout,
      requestTimeout: this.requestTimeout,
      keepAliveTimeout: this.keepAliveTimeout,
      sendTimeout: this.sendTimeout,
      logger: this.logger,
      quiet: this.quiet,
      requestTimedOut: (connection) => answerWithoutRequest(this, connection, { code: 408 }),
    });
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
    this.#timeouts.track(connection);
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
      this.#timeouts.untrack(connection);
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
    this.#timeouts.track(connection);
    try {
      const head = forwardedHeadOf(request);
      if (head !== undefined) {
        // A request the primary's parser read (threading): served from its head, with no parser here
        // (see forwarded.ts); in flight, so answered even while shutting down (Connection: close).
        const { req, res, expectContinue } = buildForwardedExchange(request, head);
        this.#onRequest(req, res, expectContinue && this.protocolVersion === 'HTTP/1.1');
      } else if (this.#shuttingDown) {
        connection.close();
      } else {
        const first = await peekFirstChunk(request);
        const http09 = first === undefined ? undefined : http09Problem(first, this.maxLineLength);
        if (http09) {
          // llhttp would wait for headers an HTTP/0.9 client never sends (until headersTimeout).
          answerWithoutRequest(this, connection, http09);
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
      this.#timeouts.untrack(connection);
    }
  }

  #onRequest(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): void {
    const connection = connectionOf(req.socket);
    if (!connection) {
      res.destroy();
      return;
    }
    if (connection.phase === 'idle') connection.readingSince = this.#timeouts.now();
    connection.phase = 'active';
    connection.pending += 1;
    // The ticker checks `complete`; no per-request listener needed.
    connection.bodyRequest = req;
    connection.bodySince = connection.readingSince;
    (res as TaggedResponse)[connectionKey] = connection;
    if (res instanceof SrvServerResponse) res.onClose(this.#onResponseClose);
    else res.on('close', this.#onResponseClose);
    connection.dispatched = false;
    const alone = connection.pending === 1 && !expectContinue;
    if (alone && hasNoBody(req) && this.dispatcher.dispatch === asyncDispatch) {
      // No body, so no framing left to fail: handled now, inside the parser's callback, as node:http's
      // own handlers are (no closure, promise or microtask turn for it).
      connection.tail = this.#dispatch(connection, req, res, false) ?? settledPromise;
      return;
    }
    // Pipelined requests wait for the one before; a lone request with a body starts one microtask
    // later, once llhttp has parsed the rest of the bytes that came with its head: framing that fails
    // there (`Transfer-Encoding: xchunked`, a chunk size `zz`) is then answered with one 400, never handled.
    connection.tail =
      connection.pending === 1
        ? settledPromise.then(() => this.#dispatch(connection, req, res, expectContinue))
        : connection.tail.then(() => this.#dispatch(connection, req, res, expectContinue));
  }

  /**
   * A request whose head has arrived goes to the dispatcher (serial: one at a time, in order);
   * undefined when answered at once (the connection's `tail` then adopts no promise).
   */
  #dispatch(
    connection: Connection,
    req: IncomingMessage,
    res: ServerResponse,
    expectContinue: boolean,
  ): Promise<void> | undefined {
    if (connection.bodyRequest === req) connection.dispatched = true;
    const rejected = connection.rejected;
    if (rejected?.req === req) {
      connection.rejected = undefined;
      refuseRequest(this, connection, req, res, rejected.problem);
      return undefined;
    }
    if (this.#health.draining) res.shouldKeepAlive = false;
    if (this.#health.intercept(req, res)) return undefined;
    const dispatcher = this.dispatcher;
    // Core's async dispatcher only calls `run` (and a handler's run never rejects): called here.
    if (dispatcher.dispatch === asyncDispatch) return this.#serve(connection, req, res, expectContinue);
    const dispatched = dispatcher.forwardsRequests
      ? forwardRequest(this.dispatcher, connection.serverRequest, connection.closing, req, res)
      : dispatcher.dispatch(
          connection.serverRequest,
          () => this.#serve(connection, req, res, expectContinue) ?? settledPromise,
        );
    return dispatched.catch((error: unknown) => answerDispatchFailed(this, connection, req, res, error));
  }

  // One function for every response: called with it (its close hook), or as its `close` listener.
  readonly #onResponseClose = (() => {
    const server = this;
    return function onResponseClose(this: TaggedResponse, res?: TaggedResponse): void {
      const connection = (res ?? this)[connectionKey];
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
    connection.since = this.#timeouts.now();
    connection.mark = connection.bytes();
    // A forwarded request's stream idles after its one response; the primary decides for its connection.
    if (this.#shuttingDown && connection.idle && forwardedHeadOf(connection.socket) === undefined)
      connection.close();
  }

  #serve(
    connection: Connection,
    req: IncomingMessage,
    res: ServerResponse,
    expectContinue: boolean,
  ): Promise<void> | undefined {
    if (connection.socket.destroyed || connection.closing) {
      res.destroy();
      return undefined;
    }
    if (this.protocolVersion === 'HTTP/1.0') {
      res.shouldKeepAlive = false;
      res.useChunkedEncodingByDefault = false;
    }
    if (this.#shuttingDown) res.shouldKeepAlive = false;
    const target = req.url ?? '';
    const problem =
      checkRequestLimits(req, this.maxLineLength, this.maxHeaderLines) ?? rewriteAbsoluteTarget(req);
    // An absolute-form target was rewritten to its path: the request line still shows it as received.
    const handler = createHandler(
      this,
      connection,
      req.url === target
        ? { req, res }
        : { req, res, requestline: `${req.method} ${target} HTTP/${req.httpVersion}` },
    );
    if (!handler) return undefined;
    if (problem) {
      handler.closeConnection = true;
      sendProblem(this, handler, problem);
      return undefined;
    }
    return runHandler(this, handler, connection, expectContinue);
  }

  #onClientError(error: ParserError, socket: Duplex): void {
    const connection = connectionOf(socket);
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
        abortBody(this, connection, current, error);
      }
      return;
    }
    const problem = diagnoseParserError(error, connection, this.maxLineLength);
    connection.pending += 1;
    connection.tail = connection.tail.then(() => {
      connection.pending -= 1;
      answerWithoutRequest(this, connection, problem);
    });
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
        await waitUnlessShutdown(this, delayMs);
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
    for (const connection of this.#timeouts.connections) {
      if (connection.idle) connection.close();
      else {
        const message = connection.socket._httpMessage as ServerResponse | undefined;
        if (message && !message.headersSent) message.shouldKeepAlive = false;
      }
    }
  }
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
