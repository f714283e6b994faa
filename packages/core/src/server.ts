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
  type SocketAddress,
} from './address.js';
import { type Dispatcher, type DispatcherName, resolveDispatcher } from './dispatcher.js';
import { createError, SrvError } from './errors.js';
import {
  type DatagramRequest,
  isHandlerClass,
  type RequestHandler,
  type RequestInfo,
  runHandler,
  type ServerRequest,
} from './handler.js';
import {
  type ConnectionInfo,
  type DatagramInfo,
  DatagramListener,
  StreamListener,
  type TlsOptions,
  wrapTls,
} from './listener.js';
import { type Logger, stderrLogger } from './logger.js';
import { type ModuleRef, resolveModuleRef, type WorkerServerSpec } from './worker-spec.js';

/** Options of every server class. Each may also be set as a static field of a subclass (Python's way). */
export interface BaseServerOptions {
  /** Where handlers run: `'serial'`, `'async'` (default) or a {@link Dispatcher} (threading, forking). */
  dispatcher?: DispatcherName | Dispatcher;
  /** Bind and listen in the constructor. Default true; with false, call `serverBindAndActivate()`. */
  bindAndActivate?: boolean;
  /** Milliseconds `handleRequest()` waits before calling `handleTimeout()`; 0 = forever. Default 0. */
  timeout?: number;
  /** Milliseconds `shutdown()` lets in-flight requests finish before destroying them. Default 5000. */
  graceMs?: number;
  /** Milliseconds between `serviceActions()` calls while serving. Default 500 (Python's poll_interval). */
  pollInterval?: number;
  /** Aborting it closes the server. */
  signal?: AbortSignal;
  /** Where errors and notices go. Default: stderr. */
  logger?: Logger;
  /** `IPv6` makes the empty host mean `::` (Python's `address_family = AF_INET6`). */
  addressFamily?: AddressFamily;
  /** Accept IPv6 clients only on an IPv6 address. */
  ipv6Only?: boolean;
  /**
   * Kernel accept queue length (the kernel caps it at `net.core.somaxconn`); also the serial
   * dispatcher's waiting limit. Default 4096: with 511, a burst of 1000 connects overflows the queue
   * and clients wait for SYN retransmits (1 s, 3 s, …).
   */
  backlog?: number;
  /** SO_REUSEADDR (Python's `allow_reuse_address`). */
  allowReuseAddress?: boolean;
  /** SO_REUSEPORT (Python's `allow_reuse_port`); Node ≥ 22.12 on Linux. */
  reusePort?: boolean;
  /** Serve TLS on a stream server (certificate and key). */
  tls?: TlsOptions;
  /**
   * Attach mode: bind nothing; requests are handed in with `attach()` / `attachDatagram()` (what
   * threading and forking workers use). The address argument is then only reported.
   */
  attach?: boolean;
  /** URL of the built module exporting the handler, for dispatchers that run it in a worker. */
  handlerModule?: string | URL;
  /** The handler's export name in `handlerModule` (found by identity when omitted). */
  handlerExport?: string;
  /** Structured-cloneable data handed to workers (`server.workerData` there). */
  workerData?: unknown;
}

interface ServerStatics {
  allowReuseAddress?: boolean;
  reusePort?: boolean;
  addressFamily?: AddressFamily;
  backlog?: number;
  timeout?: number;
  ipv6Only?: boolean;
  moduleUrl?: string;
  exportName?: string;
}

/** Marks a worker's stream that carries one request its primary already read (see `attach`). */
const forwardedRequest = Symbol.for('srv.forwarded-request');

/** How long `shutdownRequest` lets a half-closed peer read before the connection is cut, and the sweep. */
const lingerMs = 2000;
const lingerSweepMs = 500;
const settledPromise: Promise<void> = Promise.resolve();
/** The ConnectionInfo of an attached socket, for its shared error listener. */
const infoKey = Symbol('srv.connectionInfo');

// Options that cannot (or must not) cross to a worker.
const localOnlyOptions = new Set(['dispatcher', 'signal', 'logger', 'attach', 'bindAndActivate']);

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
  readonly #lingering = new Map<Duplex, number>();
  #lingerTimer: NodeJS.Timeout | undefined;
  /** Requests accepted before `serveForever()`, and how each tells its `attach()` caller about its job. */
  readonly #pending: Array<{ request: ServerRequest; settle: (job: Promise<void>) => void }> = [];
  /** `handleRequest()` calls waiting for a request: each starts the job and returns it. */
  readonly #waiters: Array<(request: ServerRequest | undefined) => Promise<void> | undefined> = [];
  readonly #inFlight = new Set<Promise<void>>();
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
    if (typeof RequestHandlerClass !== 'function') {
      throw createError(
        'SRV_ERR_INVALID_HANDLER',
        'the handler must be a BaseRequestHandler subclass or a function',
      );
    }
    const statics = this.constructor as unknown as ServerStatics;
    this.options = {
      ...options,
      addressFamily: options.addressFamily ?? statics.addressFamily,
      backlog: options.backlog ?? statics.backlog,
      timeout: options.timeout ?? statics.timeout,
      allowReuseAddress: options.allowReuseAddress ?? statics.allowReuseAddress,
      reusePort: options.reusePort ?? (statics.reusePort || undefined),
      ipv6Only: options.ipv6Only ?? statics.ipv6Only,
    };
    this.RequestHandlerClass = RequestHandlerClass;
    this.logger = options.logger ?? stderrLogger;
    this.dispatcher = resolveDispatcher(options.dispatcher);
    this.listenAddress = parseAddress(address, { addressFamily: this.options.addressFamily });
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {});
    if (options.signal) {
      if (options.signal.aborted) queueMicrotask(() => void this.close());
      else options.signal.addEventListener('abort', () => void this.close(), { once: true });
    }
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
        this.#wire(listener);
        await listener.ready;
        await this.dispatcher.start(this as BaseServer<unknown>);
        this.emit('listening', listener.address);
        this.#resolveReady();
      } catch (error) {
        const coded =
          error instanceof SrvError
            ? error
            : createError('SRV_ERR_LISTEN_FAILED', String(error), { cause: error });
        await this.listener?.close().catch(() => {});
        this.#rejectReady(coded);
      }
    })();
    return this.ready;
  }

  /** Creates the listener for this server type. */
  protected abstract createListener(address: ListenAddress): StreamListener | DatagramListener;

  #wire(listener: StreamListener | DatagramListener): void {
    listener.on('connection', (socket: Duplex, info: ConnectionInfo) => this.attach(socket, info));
    listener.on('datagram', (data: Buffer, info: DatagramInfo) => this.attachDatagram(data, info));
    listener.on('error', (error: Error) => {
      this.logger.error({ err: error }, `listener error on ${this.describe()}`);
      this.emit('error', error);
    });
  }

  /** Where the server listens (real port after `ready`; the reported address in attach mode). */
  get address(): SocketAddress {
    if (this.listener) return this.listener.address;
    const requested = this.listenAddress;
    if (requested.kind === 'inet') {
      return {
        family: requested.host.includes(':') ? 'IPv6' : 'IPv4',
        host: requested.host,
        port: requested.port,
      };
    }
    if (requested.kind === 'unix') return { family: 'unix', host: requested.path, port: 0 };
    return { family: 'unix', host: `fd:${requested.fd}`, port: 0 };
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
    (socket as Duplex & { [infoKey]?: ConnectionInfo })[infoKey] = info;
    socket.on('error', this.#onSocketError);
    // A stream that carries one request the primary already read (threading's HTTP exchanges) is
    // in-flight work: it is served during shutdown, as the primary's own requests are.
    const forwarded = (socket as Duplex & { [forwardedRequest]?: boolean })[forwardedRequest] === true;
    if (this.#shutdown && !forwarded) {
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
    const request: ServerRequest = { kind: 'stream', request: stream, info };
    // Served even though this server no longer serves new work (see above).
    return forwarded && this.#shutdown ? this.#start(request) : this.#accept(request);
  }

  // One function each for every connection (no closures per connection); `this` is the stream.
  readonly #onSocketError = (() => {
    const server = this;
    return function onSocketError(
      this: Duplex & { [infoKey]?: ConnectionInfo },
      error: NodeJS.ErrnoException,
    ) {
      // Resets and broken pipes are the client's doing; anything else is worth a line.
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || error.code === 'SRV_ERR_TIMEOUT') return;
      const remote = this[infoKey]?.remote;
      server.logger.warn(
        { err: error },
        `connection error from ${remote ? formatAddress(remote) : 'unknown'}: ${error.message}`,
      );
    };
  })();

  readonly #onStreamClose = (() => {
    const active = this.#active;
    const lingering = this.#lingering;
    return function onStreamClose(this: Duplex): void {
      active.delete(this);
      lingering.delete(this);
    };
  })();

  /** Hands a datagram to the server (the listener does this; attach-mode owners call it directly). */
  attachDatagram(data: Buffer, info: DatagramInfo): Promise<void> {
    if (this.#shutdown) return settledPromise;
    const request: DatagramRequest = { data, info };
    return this.#accept({ kind: 'datagram', request, info });
  }

  #accept(request: ServerRequest): Promise<void> {
    const waiter = this.#waiters.shift();
    if (waiter) return waiter(request) ?? settledPromise;
    if (this.#serving) return this.#start(request);
    // Not serving yet: the request waits as it would in the kernel's backlog.
    if (this.#pending.length >= this.backlog) {
      this.shutdownRequest(request.request as Req, request);
      return settledPromise;
    }
    return new Promise<void>((settle) => this.#pending.push({ request, settle }));
  }

  /** Processes a request and tracks it until it is over (never rejects). */
  #start(request: ServerRequest): Promise<void> {
    const job = this.#process(request);
    this.#inFlight.add(job);
    const forget = () => {
      this.#inFlight.delete(job);
    };
    job.then(forget, forget);
    return job;
  }

  async #process(request: ServerRequest): Promise<void> {
    const req = request.request as Req;
    const client = request.info.remote;
    // A connection that closed while it waited for the server (before serveForever, or for a
    // handleRequest call) is no request: no verifyRequest, no handler.
    if (request.kind === 'stream' && request.request.destroyed) return;
    try {
      this.emit('request', request.info);
      const verdict = this.verifyRequest(req, client, request.info);
      // A synchronous verdict (the default) costs no turn of the microtask queue.
      if (!(typeof verdict === 'boolean' ? verdict : await verdict)) {
        this.shutdownRequest(req, request);
        return;
      }
      await this.processRequest(req, client, request);
    } catch (error) {
      this.handleError(req, client, error);
      this.shutdownRequest(req, request);
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
    this.#linger(stream);
  }

  /**
   * Cuts a half-closed connection whose peer has not closed within 2 s (± the 500 ms sweep). One
   * shared timer for all of them: a timer per connection costs more than the connection's own work
   * on a one-request-per-connection protocol.
   */
  #linger(stream: Duplex): void {
    if (this.#lingering.has(stream)) return;
    this.#lingering.set(stream, performance.now() + lingerMs);
    // Streams the server did not attach (handed to shutdownRequest directly) get their own listener.
    if (!this.#active.has(stream)) stream.once('close', () => this.#lingering.delete(stream));
    if (this.#lingerTimer) return;
    this.#lingerTimer = setInterval(() => {
      const now = performance.now();
      for (const [lingered, deadline] of this.#lingering) {
        if (lingered.destroyed) this.#lingering.delete(lingered);
        else if (now >= deadline) {
          this.#lingering.delete(lingered);
          lingered.destroy();
        }
      }
      if (this.#lingering.size === 0) {
        clearInterval(this.#lingerTimer);
        this.#lingerTimer = undefined;
      }
    }, lingerSweepMs);
    this.#lingerTimer.unref();
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
    for (const { request, settle } of this.#pending.splice(0)) settle(this.#start(request));
    const interval = this.options.pollInterval ?? 500;
    if (interval > 0) {
      this.#serviceTimer = setInterval(() => {
        Promise.resolve()
          .then(() => this.serviceActions())
          .catch((error: unknown) => this.logger.error({ err: error }, 'serviceActions failed'));
      }, interval);
      this.#serviceTimer.unref();
    }
    return this.#serveForever;
  }

  /**
   * Python's `handle_request`: handles exactly one request. Resolves true when one was handled, false
   * after `timeout` ms without one (having called `handleTimeout()`).
   */
  async handleRequest(options: { timeout?: number } = {}): Promise<boolean> {
    await this.ready;
    if (this.#shutdown) throw createError('SRV_ERR_SERVER_CLOSED', 'the server is shut down');
    const timeout = options.timeout ?? this.timeout;
    const pending = this.#pending.shift();
    if (pending) {
      const job = this.#start(pending.request);
      pending.settle(job);
      await job;
      return true;
    }
    let timer: NodeJS.Timeout | undefined;
    let waiter: ((request: ServerRequest | undefined) => Promise<void> | undefined) | undefined;
    const job = await new Promise<Promise<void> | undefined>((resolve) => {
      waiter = (request) => {
        const started = request ? this.#start(request) : undefined;
        resolve(started);
        return started;
      };
      this.#waiters.push(waiter);
      if (timeout > 0) timer = setTimeout(() => resolve(undefined), timeout);
    });
    if (timer) clearTimeout(timer);
    const index = waiter ? this.#waiters.indexOf(waiter) : -1;
    if (index !== -1) this.#waiters.splice(index, 1);
    if (!job) {
      await this.handleTimeout();
      return false;
    }
    await job;
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
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
    await this.listener?.close();
    for (const { request, settle } of this.#pending.splice(0)) {
      this.shutdownRequest(request.request as Req, request);
      settle(settledPromise);
    }
    this.emit('shutdown');
    const grace = this.options.graceMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), grace);
    });
    const drained = (async () => {
      while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
      await this.dispatcher.drain();
    })();
    const outcome = await Promise.race([drained.then(() => 'drained' as const), deadline]);
    if (timer) clearTimeout(timer);
    if (outcome === 'deadline') {
      this.logger.warn(
        `${this.describe()}: ${this.#active.size} connection(s) still busy after ${grace} ms; closing them`,
      );
    }
    for (const stream of this.#active) stream.destroy();
    if (outcome === 'deadline')
      await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 1000))]);
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

  /**
   * What a worker needs to rebuild this server in attach mode and run its handler: module references
   * for the server class and the handler, the bound address, and the cloneable options.
   */
  async describeForWorker(): Promise<WorkerServerSpec> {
    const handler = await resolveModuleRef(
      this.RequestHandlerClass,
      this.options.handlerModule,
      this.options.handlerExport,
      'handler',
    );
    const serverClass = findServerModule(this.constructor);
    const options: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this.options)) {
      if (localOnlyOptions.has(key) || typeof value === 'function' || value === undefined) continue;
      // Node >= 22 refuses to clone URL objects (DataCloneError); `handlerModule` is often one.
      options[key] = value instanceof URL ? value.href : value;
    }
    return {
      server: serverClass,
      handler,
      handlerIsClass: isHandlerClass(this.RequestHandlerClass),
      address: this.address,
      options,
      logsToStderr: this.logger === stderrLogger,
    };
  }
}

function findServerModule(ctor: unknown): ModuleRef {
  let current = ctor as (ServerStatics & { name?: string }) | null;
  while (current && current !== BaseServer) {
    if (Object.hasOwn(current, 'moduleUrl') && Object.hasOwn(current, 'exportName')) {
      return { url: current.moduleUrl!, exportName: current.exportName! };
    }
    current = Object.getPrototypeOf(current) as (ServerStatics & { name?: string }) | null;
  }
  throw createError('SRV_ERR_INVALID_HANDLER', 'this server class has no module reference for workers');
}

/** Python's `TCPServer`: a stream server over TCP (v4, v6, dual-stack), optionally TLS. */
export class TCPServer extends BaseServer<Duplex> {
  /** Where workers import this class from (the built module) and under which export. */
  static readonly moduleUrl: string = import.meta.url;
  static readonly exportName: string = 'TCPServer';

  constructor(
    address: AddressInput,
    RequestHandlerClass: RequestHandler<Duplex, TCPServer>,
    options: BaseServerOptions = {},
  ) {
    super(address, RequestHandlerClass as RequestHandler<Duplex, BaseServer<Duplex>>, options);
  }

  protected createListener(address: ListenAddress): StreamListener | DatagramListener {
    return new StreamListener(address, {
      backlog: this.backlog,
      ...(this.options.ipv6Only !== undefined ? { ipv6Only: this.options.ipv6Only } : {}),
      ...(this.options.reusePort !== undefined ? { reusePort: this.options.reusePort } : {}),
      ...(this.options.allowReuseAddress !== undefined && address.kind === 'inet'
        ? { allowReuseAddress: this.options.allowReuseAddress }
        : {}),
      ...(this.options.tls ? { tls: this.options.tls } : {}),
      pauseOnConnect: this.dispatcher.pauseOnConnect ?? false,
    });
  }
}

/** Python's `UnixStreamServer`: a stream server on a Unix socket path. */
export class UnixStreamServer extends TCPServer {
  static override readonly moduleUrl: string = import.meta.url;
  static override readonly exportName: string = 'UnixStreamServer';

  constructor(
    address: AddressInput,
    RequestHandlerClass: RequestHandler<Duplex, UnixStreamServer>,
    options: BaseServerOptions = {},
  ) {
    const normalised =
      typeof address === 'string' && !address.startsWith('unix:') ? { path: address } : address;
    super(normalised, RequestHandlerClass as RequestHandler<Duplex, TCPServer>, options);
  }
}

/** Python's `UDPServer`: one request per datagram, v4 or v6. */
export class UDPServer extends BaseServer<DatagramRequest> {
  static readonly moduleUrl: string = import.meta.url;
  static readonly exportName: string = 'UDPServer';

  constructor(
    address: AddressInput,
    RequestHandlerClass: RequestHandler<DatagramRequest, UDPServer>,
    options: BaseServerOptions = {},
  ) {
    super(
      address,
      RequestHandlerClass as RequestHandler<DatagramRequest, BaseServer<DatagramRequest>>,
      options,
    );
  }

  protected createListener(address: ListenAddress): StreamListener | DatagramListener {
    return new DatagramListener(address, {
      ...(this.options.addressFamily ? { addressFamily: this.options.addressFamily } : {}),
      ...(this.options.ipv6Only !== undefined ? { ipv6Only: this.options.ipv6Only } : {}),
      ...(this.options.reusePort !== undefined ? { reusePort: this.options.reusePort } : {}),
      ...(this.options.allowReuseAddress !== undefined
        ? { allowReuseAddress: this.options.allowReuseAddress }
        : {}),
    });
  }
}
