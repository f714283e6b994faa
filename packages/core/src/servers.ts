/**
 * The concrete servers of Python's socketserver: {@link TCPServer} (and over a Unix socket,
 * {@link UnixStreamServer}) and {@link UDPServer}. Each only picks its listener; the lifecycle is
 * {@link BaseServer}'s.
 */
import type { Duplex } from 'node:stream';
import type { AddressInput, ListenAddress } from './address.js';
import { DatagramListener } from './datagram-listener.js';
import type { DatagramRequest, RequestHandler } from './handler.js';
import { StreamListener } from './listener.js';
import { BaseServer } from './server.js';
import type { BaseServerOptions } from './server-options.js';

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
      ...(this.options.proxyProtocol ? { proxyProtocol: true } : {}),
      ...(this.options.trustedProxies ? { trustedProxies: this.options.trustedProxies } : {}),
      ...(this.options.proxyHeaderTimeout !== undefined
        ? { proxyHeaderTimeout: this.options.proxyHeaderTimeout }
        : {}),
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
