import { EventEmitter } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { formatAddress, type ListenAddress, type SocketAddress, toFamily } from './address.js';
import { checkReusePort, describeListen, removeStaleSocket, socketAddressOf } from './endpoint.js';
import { createError, toBindError } from './errors.js';
import {
  createTrustList,
  defaultProxyHeaderTimeout,
  isTrustedProxy,
  proxiedInfo,
  readProxyHeader,
} from './proxy-protocol.js';

/** Certificate and key (PEM strings or buffers) plus any other `node:tls` server option. */
export type TlsOptions = tls.TlsOptions & {
  cert: string | Buffer | Array<string | Buffer>;
  key: tls.TlsOptions['key'];
};

/** What a server knows of one accepted connection. */
export interface ConnectionInfo {
  /** The server's end. */
  readonly local: SocketAddress;
  /** The client's end. */
  readonly remote: SocketAddress;
  /** True when the connection is (or is to be) wrapped in TLS. */
  readonly tls: boolean;
  /**
   * With `proxyProtocol`: the proxy that connected and vouched for `remote` (the client its PROXY
   * header named). Absent on direct connections.
   */
  readonly proxy?: SocketAddress;
}

/** Options shared by the stream listeners. */
export interface StreamListenerOptions {
  /** Length of the kernel's accept queue (Python's `request_queue_size`). Default 4096. */
  backlog?: number;
  /** Accept IPv6 only on an IPv6 address (no IPv4-mapped clients). Default false (dual-stack on `::`). */
  ipv6Only?: boolean;
  /** SO_REUSEPORT; needs Node ≥ 22.12 on Linux, else `SRV_ERR_UNSUPPORTED_OPTION`. */
  reusePort?: boolean;
  /** SO_REUSEADDR; libuv always sets it on TCP listeners, so `false` is `SRV_ERR_UNSUPPORTED_OPTION`. */
  allowReuseAddress?: boolean;
  /** Hand sockets over paused (required to pass them to another process without losing bytes). */
  pauseOnConnect?: boolean;
  /** Serve TLS on this listener; the info of each connection says `tls: true`. */
  tls?: TlsOptions;
  /**
   * Every connection starts with a PROXY protocol header (v1 or v2, as nginx, HAProxy and cloud load
   * balancers send): the connection's `remote` is the client the header names, `proxy` the proxy. A
   * connection from outside `trustedProxies`, or without a valid header within `proxyHeaderTimeout`,
   * is closed without a byte of answer. Default false.
   */
  proxyProtocol?: boolean;
  /**
   * Addresses or CIDR blocks allowed to send PROXY headers (IPv4-mapped IPv6 clients match their IPv4
   * form). Connections over a Unix socket are trusted (its file mode says who may connect). Default
   * loopback only: `['127.0.0.0/8', '::1/128']`.
   */
  trustedProxies?: readonly string[];
  /** Milliseconds a connection has to deliver its whole PROXY header. Default 5000. */
  proxyHeaderTimeout?: number;
}

/** Describes an accepted socket. */
export function connectionInfoOf(
  socket: net.Socket,
  isTls: boolean,
  localPath = '',
  knownLocal?: SocketAddress,
): ConnectionInfo {
  const isUnix = socket.remoteAddress === undefined && socket.localAddress === undefined;
  if (isUnix) {
    const end: SocketAddress = { family: 'unix', host: localPath, port: 0 };
    return { local: end, remote: { family: 'unix', host: '', port: 0 }, tls: isTls };
  }
  return {
    // A listener bound to one address knows the server's end of every connection: no getsockname().
    local: knownLocal ?? {
      family: toFamily(socket.localFamily ?? socket.remoteFamily, socket.localAddress),
      host: socket.localAddress ?? '',
      port: socket.localPort ?? 0,
    },
    remote: {
      family: toFamily(socket.remoteFamily, socket.remoteAddress),
      host: socket.remoteAddress ?? '',
      port: socket.remotePort ?? 0,
    },
    tls: isTls,
  };
}

/**
 * Wraps an accepted plain socket in server-side TLS. Used by the server, and by a dispatcher that
 * received the plain socket in another process. Handshake failures surface as `error` on the result.
 */
export function wrapTls(socket: net.Socket, options: TlsOptions | tls.SecureContext): tls.TLSSocket {
  const secureContext = 'context' in options ? options : tls.createSecureContext(options);
  const wrapped = new tls.TLSSocket(socket, { isServer: true, secureContext, ...optionsOf(options) });
  if (socket.isPaused()) socket.resume();
  return wrapped;
}

function optionsOf(options: TlsOptions | tls.SecureContext): tls.TLSSocketOptions {
  if ('context' in options) return {};
  const { ALPNProtocols, requestCert, rejectUnauthorized } = options;
  return {
    ...(ALPNProtocols ? { ALPNProtocols } : {}),
    ...(requestCert !== undefined ? { requestCert } : {}),
    ...(rejectUnauthorized !== undefined ? { rejectUnauthorized } : {}),
  };
}

/**
 * Owns one bound stream endpoint (TCP v4/v6/dual-stack, Unix socket, or an inherited descriptor) and
 * emits `connection` with each accepted socket and its {@link ConnectionInfo}. TLS is not applied here:
 * the info says `tls: true` and the consumer wraps (in this process or another).
 *
 * Events: `listening`, `connection (socket, info)`, `close`, `error`, and with `proxyProtocol`
 * `proxyRefused (info, reason)` for a connection closed unanswered (`'untrusted'` sender, or no valid
 * `'header'` in time).
 */
export class StreamListener extends EventEmitter {
  /** Resolves once listening; rejects with a coded error. Never an unhandled rejection. */
  readonly ready: Promise<void>;
  readonly #server: net.Server;
  readonly #address: ListenAddress;
  readonly #isTls: boolean;
  #bound: SocketAddress | undefined;
  /** The local end of every connection when bound to one IP address (not a wildcard). */
  #knownLocal: SocketAddress | undefined;
  #closing: Promise<void> | undefined;
  #trusted: net.BlockList | undefined;
  readonly #proxyHeaderTimeout: number;
  readonly #pauseOnConnect: boolean;

  constructor(address: ListenAddress, options: StreamListenerOptions = {}) {
    super();
    this.#address = address;
    this.#isTls = options.tls !== undefined;
    // Half-open: a client that shuts down its sending side (`nc -N`, `shutdown(SHUT_WR)`) still gets
    // its answer; the server closes its side when the handler is done (node:http expects this too).
    this.#server = net.createServer({ pauseOnConnect: options.pauseOnConnect ?? false, allowHalfOpen: true });
    const path = address.kind === 'unix' ? address.path : '';
    if (options.proxyProtocol) {
      this.#server.on('connection', (socket: net.Socket) => this.#acceptProxied(socket, path));
    } else {
      this.#server.on('connection', (socket: net.Socket) => {
        this.emit('connection', socket, connectionInfoOf(socket, this.#isTls, path, this.#knownLocal));
      });
    }
    this.#proxyHeaderTimeout = options.proxyHeaderTimeout ?? defaultProxyHeaderTimeout;
    this.#pauseOnConnect = options.pauseOnConnect ?? false;
    // A failing accept (EMFILE…) must not take the process down: report it and keep listening.
    this.#server.on('error', (error) => {
      if (this.#bound !== undefined) this.emit('error', error);
    });
    this.ready = this.#listen(options);
    this.ready.catch(() => {});
  }

  async #listen(options: StreamListenerOptions): Promise<void> {
    const address = this.#address;
    const where = describeListen(address);
    if (options.allowReuseAddress === false && address.kind === 'inet') {
      throw createError(
        'SRV_ERR_UNSUPPORTED_OPTION',
        'allowReuseAddress: false is not possible for TCP in Node (libuv always sets SO_REUSEADDR)',
      );
    }
    checkReusePort(options.reusePort);
    if (options.proxyProtocol) {
      const timeout = options.proxyHeaderTimeout;
      if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) {
        throw createError(
          'SRV_ERR_INVALID_OPTION',
          `proxyHeaderTimeout must be a positive number of milliseconds, got ${timeout}`,
        );
      }
      this.#trusted = createTrustList(options.trustedProxies);
    }
    if (options.backlog !== undefined && (!Number.isInteger(options.backlog) || options.backlog < 0)) {
      throw createError(
        'SRV_ERR_INVALID_OPTION',
        `backlog must be a non-negative integer, got ${options.backlog}`,
      );
    }
    const listenOptions: net.ListenOptions & { reusePort?: boolean } = { backlog: options.backlog ?? 4096 };
    if (address.kind === 'inet') {
      listenOptions.host = address.host;
      listenOptions.port = address.port;
      if (options.ipv6Only) listenOptions.ipv6Only = true;
      // In a cluster worker, `exclusive` binds this process's own socket: without it the primary would
      // bind one shared socket and SO_REUSEPORT would spread nothing.
      if (options.reusePort) Object.assign(listenOptions, { reusePort: true, exclusive: true });
    } else if (address.kind === 'unix') {
      await removeStaleSocket(address.path).catch((error) => {
        throw toBindError(error, where);
      });
      listenOptions.path = address.path;
    } else {
      (listenOptions as { fd?: number }).fd = address.fd;
    }
    const server = this.#server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(listenOptions, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      // Node closes the handle on a failed bind; close() makes sure and keeps the promise settled.
      server.close(() => {});
      throw toBindError(error, where);
    }
    this.#bound = socketAddressOf(
      server.address(),
      address.kind === 'unix' ? address.path : `fd:${address.kind === 'fd' ? address.fd : ''}`,
    );
    const bound = this.#bound;
    if (
      address.kind === 'inet' &&
      (bound.family === 'IPv4' || bound.family === 'IPv6') &&
      net.isIP(bound.host) !== 0 &&
      bound.host !== '0.0.0.0' &&
      bound.host !== '::' &&
      !bound.host.includes('%')
    ) {
      this.#knownLocal = Object.freeze({ family: bound.family, host: bound.host, port: bound.port });
    }
    this.emit('listening', this.#bound);
  }

  /** Checks the sender, reads its PROXY header, then emits the connection as the header's client's. */
  async #acceptProxied(socket: net.Socket, path: string): Promise<void> {
    const direct = connectionInfoOf(socket, this.#isTls, path, this.#knownLocal);
    const trusted = this.#trusted;
    // A listener that failed its checks never accepts, so `trusted` is set; a Unix peer is local.
    if (
      trusted === undefined ||
      (direct.remote.family !== 'unix' && !isTrustedProxy(trusted, direct.remote.host))
    ) {
      socket.destroy();
      this.emit('proxyRefused', direct, 'untrusted');
      return;
    }
    const header = await readProxyHeader(socket, {
      timeout: this.#proxyHeaderTimeout,
      paused: this.#pauseOnConnect,
    });
    if (header === undefined) {
      this.emit('proxyRefused', direct, 'header');
      return;
    }
    this.emit('connection', socket, proxiedInfo(direct, header));
  }

  /** The bound address (real port when 0 was asked). Throws before `ready`. */
  get address(): SocketAddress {
    if (this.#bound === undefined) {
      throw createError('SRV_ERR_SERVER_CLOSED', `not listening on ${describeListen(this.#address)}`);
    }
    return this.#bound;
  }

  /** True while accepting connections. */
  get listening(): boolean {
    return this.#server.listening;
  }

  /** How the endpoint was asked for. */
  get requested(): ListenAddress {
    return this.#address;
  }

  /** Stops accepting. Open connections are not touched. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.ready.catch(() => {});
      // net.Server#close stops accepting at once but calls back only when every connection has
      // ended; connections belong to the server above, so don't wait for them here.
      if (this.#server.listening) this.#server.close();
      this.emit('close');
    })();
    return this.#closing;
  }

  /** Pauses accepting (connections queue in the kernel backlog) or resumes it. */
  setAccepting(accepting: boolean): void {
    const handle = (this.#server as unknown as { _handle?: { readStop?(): void; readStart?(): void } })
      ._handle;
    if (accepting) handle?.readStart?.();
    else handle?.readStop?.();
  }

  override toString(): string {
    return this.#bound ? formatAddress(this.#bound) : describeListen(this.#address);
  }
}
