import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import { createSecureContext } from 'node:tls';
import {
  type AddressFamily,
  type AddressInput,
  formatAddress,
  type ListenAddress,
  parseAddress,
  requestedAddress,
  type SocketAddress,
} from './address.js';
import {
  closeTracker,
  socketErrorLogger,
  startServiceTimer,
  tagConnection,
  wireListener,
} from './connection-listeners.js';
import type { DatagramInfo, DatagramListener } from './datagram-listener.js';
import { type Dispatcher, resolveDispatcher } from './dispatcher.js';
import { createError, toStartError } from './errors.js';
import {
  checkHandler,
  type DatagramRequest,
  type RequestHandler,
  type RequestInfo,
  runHandler,
  type ServerRequest,
} from './handler.js';
import { Lingering } from './linger.js';
import { type ConnectionInfo, type StreamListener, wrapTls } from './listener.js';
import { type Logger, stderrLogger } from './logger.js';
import { RequestQueue } from './request-queue.js';
import { type BaseServerOptions, type ServerStatics, withStaticDefaults } from './server-options.js';
import { closeOnAbort, drainThenDestroy, JobCounter } from './shutdown.js';
import { describeServerForWorker, type WorkerServerSpec } from './worker-spec.js';

const settledPromise: Promise<void> = Promise.resolve();

/**
 * Python's `BaseServer`: the lifecycle shared by every server. Binding starts in the constructor;
 * `await server.ready` tells success or a coded failure. Requests go through `verifyRequest`, then the
 * dispatcher, then the handler; a throwing handler is reported by `handleError` and the server keeps
 * serving.
 *
 * Events: `listening (address)`, `request (info)`, `shutdown`, `close`, `error (error)`.
 */
export abstract class BaseServer<Req = unknown> extends EventEmitter implements AsyncDisposable {
  /** Python's `allow_reuse_address`. */
  static allowReuseAddress: boolean | undefined = undefined;
  /** Python's `allow_reuse_port`. */
  static reusePort = false;
  /** Python's `address_family`. */
  static addressFamily: AddressFamily = 'IPv4';
  /** Python's `request_queue_size`. */
  static backlog = 4096;
  /** Python's `timeout` (milliseconds here), used by `handleRequest()`. */
  static timeout = 0;

  /** The handler given to the constructor. */
  readonly RequestHandlerClass: RequestHandler<Req, BaseServer<Req>>;
  /** Where handlers run. */
  readonly dispatcher: Dispatcher;
  /** The logger in use. */
  readonly logger: Logger;
  /** Options as given (plus static defaults), for subclasses and workers. */
  readonly options: Readonly<BaseServerOptions>;
  /** Resolves once bound and the dispatcher started; rejects with a coded error. Never unhandled. */
  readonly ready: Promise<void>;

  protected readonly listenAddress: ListenAddress;
  protected listener: StreamListener | DatagramListener | undefined;
  readonly #active = new Set<Duplex>();
  /** Half-closed connections and when they are cut if the peer has not closed (`shutdownRequest`). */
  readonly #lingering = new Lingering();
  /** Requests waiting for `serveForever()`, and `handleRequest()` calls waiting for a request. */
  readonly #queue = new RequestQueue();
  readonly #startJob = (request: ServerRequest): Promise<void> => this.#start(request);
  readonly #refuse = (request: ServerRequest): Promise<void> => {
    this.shutdownRequest(request.request as Req, request);
    return settledPromise;
  };
  readonly #inFlight = new JobCounter();
  readonly #attached: boolean;
  #secureContext: tls.SecureContext | undefined;
  #serving = false;
  #serviceTimer: NodeJS.Timeout | undefined;
  #shutdown: Promise<void> | undefined;
  #closed: Promise<void> | undefined;
  #resolveServeForever: (() => void) | undefined;
  #serveForever: Promise<void> | undefined;
  #activated: Promise<void> | undefined;
  #resolveReady!: () => void;
  #rejectReady!: (error: unknown) => void;

  constructor(
    address: AddressInput,
    RequestHandlerClass: RequestHandler<Req, BaseServer<Req>>,
    options: BaseServerOptions = {},
  ) {
    super();
    checkHandler(RequestHandlerClass);
    this.options = withStaticDefaults(options, this.constructor as unknown as ServerStatics);
    this.RequestHandlerClass = RequestHandlerClass;
    this.logger = options.logger ?? stderrLogger;
    this.dispatcher = resolveDispatcher(options.dispatcher);
    this.listenAddress = parseAddress(address, { addressFamily: this.options.addressFamily });
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {});
    closeOnAbort(options.signal, () => this.close());
    this.#attached = options.attach === true;
    if (options.attach) {
      this.#serving = true;
      this.#activated = Promise.resolve(this.dispatcher.start(this as BaseServer<unknown>)).then(
        () => this.#resolveReady(),
        (error: unknown) => this.#rejectReady(error),
      );
    } else if (options.bindAndActivate !== false) {
      void this.serverBindAndActivate();
    }
  }

  /** Binds, listens and starts the dispatcher (the constructor does this unless `bindAndActivate: false`). */
  serverBindAndActivate(): Promise<void> {
    this.#activated ??= (async () => {
      try {
        if (this.options.tls) this.#secureContext = createSecureContext(this.options.tls);
        const listener = this.createListener(this.listenAddress);
        this.listener = listener;
        wireListener(listener, this);
        await listener.ready;
        await this.dispatcher.start(this as BaseServer<unknown>);
        this.emit('listening', listener.address);
        this.#resolveReady();
      } catch (error) {
        await this.listener?.close().catch(() => {});
        this.#rejectReady(toStartError(error));
      }
    })();
    return this.ready;
  }

  /** Creates the listener for this server type. */
  protected abstract createListener(address: ListenAddress): StreamListener | DatagramListener;

  /** Where the server listens (real port after `ready`; the reported address in attach mode). */
  get address(): SocketAddress {
    return this.listener ? this.listener.address : requestedAddress(this.listenAddress);
  }

  /** Python's `server_address` tuple: `[host, port]`. */
  get serverAddress(): readonly [string, number] {
    const { host, port } = this.address;
    return [host, port];
  }

  /** Accept queue length (also the serial dispatcher's waiting limit). */
  get backlog(): number {
    return this.options.backlog ?? 4096;
  }

  /** Python's `timeout`, in milliseconds. */
  get timeout(): number {
    return this.options.timeout ?? 0;
  }

  /** Data the primary handed to workers; in the primary, the `workerData` option. */
  get workerData(): unknown {
    return this.options.workerData;
  }

  /** True while the endpoint is bound and accepting. */
  get listening(): boolean {
    return this.listener?.listening ?? false;
  }

  /** True between `serveForever()` and `shutdown()` (always in attach mode until shutdown). */
  get serving(): boolean {
    return this.#serving;
  }

  /** Connections open right now. */
  get connectionCount(): number {
    return this.#active.size;
  }

  /**
   * Hands a connection to the server (the listener does this; attach-mode owners call it directly).
   * Settles when the server is done with it: its handler has finished, or for HTTP every request on it.
   */
  attach(socket: Duplex, info: ConnectionInfo): Promise<void> {
    tagConnection(socket, info);
    socket.on('error', this.#onSocketError);
    if (this.#shutdown) {
      socket.destroy();
      return settledPromise;
    }
    let stream: Duplex = socket;
    if (info.tls && this.#secureContext && !this.dispatcher.handlesTls) {
      stream = wrapTls(socket as import('node:net').Socket, this.#secureContext);
      stream.on('error', () => socket.destroy());
    }
    this.#active.add(stream);
    stream.on('close', this.#onStreamClose);
    return this.#accept({ kind: 'stream', request: stream, info });
  }

  // One function each for every connection (no closures per connection); `this` is the stream.
  readonly #onSocketError = socketErrorLogger(() => this.logger);

  readonly #onStreamClose = closeTracker(this.#active, this.#lingering);

  /** Hands a datagram to the server (the listener does this; attach-mode owners call it directly). */
  attachDatagram(data: Buffer, info: DatagramInfo): Promise<void> {
    if (this.#shutdown) return settledPromise;
    const request: DatagramRequest = { data, info };
    return this.#accept({ kind: 'datagram', request, info });
  }

  #accept(request: ServerRequest): Promise<void> {
    return this.#queue.accept(request, this.#serving, this.backlog, this.#startJob, this.#refuse);
  }

  /** Processes a request and tracks it until it is over (never rejects). */
  #start(request: ServerRequest): Promise<void> {
    this.#inFlight.begin();
    return this.#process(request);
  }

  /** The job of one request; ends its count in {@link #inFlight} when it is over. */
  async #process(request: ServerRequest): Promise<void> {
    const req = request.request as Req;
    const client = request.info.remote;
    // A connection that closed while it waited for the server (before serveForever, or for a
    // handleRequest call) is no request: no verifyRequest, no handler.
    if (request.kind === 'stream' && request.request.destroyed) {
      this.#inFlight.end();
      return;
    }
    try {
      this.emit('request', request.info);
      // In attach mode the owner that accepted the connection (threading's or forking's primary) has
      // run verifyRequest already: as in Python, a worker runs only the handler.
      if (!this.#attached) {
        const verdict = this.verifyRequest(req, client, request.info);
        // A synchronous verdict (the default) costs no turn of the microtask queue.
        if (!(typeof verdict === 'boolean' ? verdict : await verdict)) {
          this.shutdownRequest(req, request);
          return;
        }
      }
      await this.processRequest(req, client, request);
    } catch (error) {
      this.handleError(req, client, error);
      this.shutdownRequest(req, request);
    } finally {
      this.#inFlight.end();
    }
  }

  /** Python's `verify_request`: return false to close the connection without running the handler. */
  verifyRequest(
    _request: Req,
    _clientAddress: SocketAddress,
    _info: RequestInfo,
  ): boolean | Promise<boolean> {
    return true;
  }

  /** Python's `process_request`: gives the request to the dispatcher. */
  processRequest(request: Req, clientAddress: SocketAddress, serverRequest: ServerRequest): Promise<void> {
    return this.dispatcher.dispatch(serverRequest, () =>
      this.runRequest(request, clientAddress, serverRequest),
    );
  }

  /**
   * Serves a request in this process, as an in-process dispatcher's `run` does: `finishRequest`, a
   * failure reported through `handleError`, then `shutdownRequest`. Never rejects.
   */
  protected async runRequest(
    request: Req,
    clientAddress: SocketAddress,
    serverRequest: ServerRequest,
  ): Promise<void> {
    try {
      await this.finishRequest(request, clientAddress, serverRequest.info);
    } catch (error) {
      this.handleError(request, clientAddress, error);
    } finally {
      this.shutdownRequest(request, serverRequest);
    }
  }

  /** Python's `finish_request`: runs the handler for one request in this process. */
  finishRequest(request: Req, clientAddress: SocketAddress, info: RequestInfo): Promise<void> {
    return runHandler(this.RequestHandlerClass, request, clientAddress, this, info);
  }

  /** Python's `shutdown_request`: closes a connection once its handler is done (no-op for datagrams). */
  shutdownRequest(request: Req, serverRequest?: ServerRequest): void {
    if (serverRequest?.kind === 'datagram') return;
    const stream = request as unknown as Duplex;
    if (typeof stream?.end !== 'function' || stream.destroyed) return;
    // Half-close, drop whatever the client still sends, and give the peer a moment to read our bytes.
    stream.end();
    stream.resume();
    this.#lingering.add(stream, this.#active.has(stream));
  }

  /** Python's `handle_error`: logs with the client address; the server keeps serving. */
  handleError(_request: Req, clientAddress: SocketAddress, error: unknown): void {
    this.logger.error(
      { err: error, client: formatAddress(clientAddress) },
      `Exception occurred during processing of request from ${formatAddress(clientAddress)}`,
    );
  }

  /** Python's `handle_timeout`: called when `handleRequest()` times out. */
  handleTimeout(): void | Promise<void> {}

  /** Python's `service_actions`: called every `pollInterval` while serving. */
  serviceActions(): void | Promise<void> {}

  /**
   * Python's `serve_forever`: handles requests until `shutdown()`. Awaits `ready` (rejecting as it
   * does) and settles once shutdown has finished.
   */
  async serveForever(): Promise<void> {
    await this.ready;
    if (this.#shutdown) return this.#shutdown;
    if (this.#serveForever) return this.#serveForever;
    this.#serveForever = new Promise<void>((resolve) => {
      this.#resolveServeForever = resolve;
    });
    this.#serving = true;
    this.#queue.startAll(this.#startJob);
    this.#serviceTimer = startServiceTimer(
      this.options.pollInterval ?? 500,
      () => this.serviceActions(),
      this.logger,
    );
    return this.#serveForever;
  }

  /**
   * Python's `handle_request`: handles exactly one request. Resolves true when one was handled, false
   * after `timeout` ms without one (having called `handleTimeout()`).
   */
  async handleRequest(options: { timeout?: number } = {}): Promise<boolean> {
    await this.ready;
    if (this.#shutdown) throw createError('SRV_ERR_SERVER_CLOSED', 'the server is shut down');
    const taken = await this.#queue.takeOne(this.#startJob, options.timeout ?? this.timeout);
    if (!taken) {
      await this.handleTimeout();
      return false;
    }
    await taken.job;
    return true;
  }

  /**
   * Stops accepting, lets in-flight requests finish (subclasses answer them with `Connection: close`
   * on the `shutdown` event), destroys what remains after `graceMs`, and settles `serveForever()`.
   * Idempotent.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#doShutdown();
    return this.#shutdown;
  }

  async #doShutdown(): Promise<void> {
    if (this.#activated === undefined) {
      // Never bound (bindAndActivate: false): nothing to drain; settle `ready` so nobody waits forever.
      this.#rejectReady(
        createError('SRV_ERR_SERVER_CLOSED', 'the server was closed before it was activated'),
      );
    }
    await this.ready.catch(() => {});
    this.#serving = false;
    if (this.#serviceTimer) clearInterval(this.#serviceTimer);
    this.#queue.wakeWaiters();
    await this.listener?.close();
    this.#queue.refuseHeld(this.#refuse);
    this.emit('shutdown');
    const grace = this.options.graceMs ?? 5000;
    await drainThenDestroy(
      this.#inFlight,
      this.#active,
      () => this.dispatcher.drain(),
      grace,
      (busy) =>
        this.logger.warn(
          `${this.describe()}: ${busy} connection(s) still busy after ${grace} ms; closing them`,
        ),
    );
    this.#resolveServeForever?.();
  }

  /** Python's `server_close`: shuts down if needed, stops the dispatcher, releases the endpoint. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.shutdown();
      await this.dispatcher.close();
      await this.listener?.close();
      this.emit('close');
    })();
    return this.#closed;
  }

  /** `await using server = new TCPServer(…)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * What a worker needs to rebuild this server in attach mode and run its handler: module references
   * for the server class and the handler, the bound address, and the cloneable options.
   */
  describeForWorker(): Promise<WorkerServerSpec> {
    return describeServerForWorker(this, BaseServer, this.logger === stderrLogger);
  }

  /** `TCPServer 127.0.0.1:8765`: for logs. */
  describe(): string {
    let where: string;
    try {
      where = formatAddress(this.address);
    } catch {
      where = '(not bound)';
    }
    return `${this.constructor.name} ${where}`;
  }
}
