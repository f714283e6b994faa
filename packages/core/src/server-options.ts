import type { AddressFamily } from './address.js';
import type { Dispatcher, DispatcherName } from './dispatcher.js';
import type { TlsOptions } from './listener.js';
import type { Logger } from './logger.js';

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
   * Stream servers: every connection starts with a PROXY protocol header (v1 or v2) from a trusted
   * proxy, and `clientAddress` is the client it names. See {@link StreamListenerOptions.proxyProtocol}.
   */
  proxyProtocol?: boolean;
  /** Addresses or CIDR blocks trusted to send PROXY headers. Default loopback only. */
  trustedProxies?: readonly string[];
  /** Milliseconds a connection has to deliver its PROXY header. Default 5000. */
  proxyHeaderTimeout?: number;
  /**
   * Attach mode: bind nothing; requests are handed in with `attach()` / `attachDatagram()` (what
   * threading and forking workers use). The address argument is then only reported. `verifyRequest`
   * is not called: whoever accepted the connection and handed it in has verified it (as Python's
   * `ForkingMixIn` verifies in the parent and runs only the handler in the child).
   */
  attach?: boolean;
  /** URL of the built module exporting the handler, for dispatchers that run it in a worker. */
  handlerModule?: string | URL;
  /** The handler's export name in `handlerModule` (found by identity when omitted). */
  handlerExport?: string;
  /** Structured-cloneable data handed to workers (`server.workerData` there). */
  workerData?: unknown;
}

/** The static fields a server class may set (Python's class attributes), and its worker module. */
export interface ServerStatics {
  allowReuseAddress?: boolean;
  reusePort?: boolean;
  addressFamily?: AddressFamily;
  backlog?: number;
  timeout?: number;
  ipv6Only?: boolean;
  moduleUrl?: string;
  exportName?: string;
}

/** The options as a server keeps them: those given, else its class's static fields. */
export function withStaticDefaults(options: BaseServerOptions, statics: ServerStatics): BaseServerOptions {
  return {
    ...options,
    addressFamily: options.addressFamily ?? statics.addressFamily,
    backlog: options.backlog ?? statics.backlog,
    timeout: options.timeout ?? statics.timeout,
    allowReuseAddress: options.allowReuseAddress ?? statics.allowReuseAddress,
    reusePort: options.reusePort ?? (statics.reusePort || undefined),
    ipv6Only: options.ipv6Only ?? statics.ipv6Only,
  };
}
