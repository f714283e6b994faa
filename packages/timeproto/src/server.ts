import type { Duplex } from 'node:stream';
import { ThreadingMixIn } from '@srv/concurrency';
import {
  type AddressFamily,
  type AddressInput,
  type BaseServerOptions,
  type DatagramRequest,
  type RequestHandler,
  type RequestInfo,
  type SocketAddress,
  SrvError,
  TCPServer,
  UDPServer,
} from '@srv/core';
import { formatLogTime } from './format.js';
import { UdpGuard, type UdpGuardOptions } from './guard.js';
import { TimeDatagramHandler, type TimeHandlerOptions, TimeRequestHandler } from './handler.js';

/** Options of {@link TimeServer} and {@link TimeUDPServer}: a server's options plus the handlers' own. */
export interface TimeServerOptions extends BaseServerOptions, TimeHandlerOptions, UdpGuardOptions {}

const ThreadingTCPBase = ThreadingMixIn(TCPServer);
const ThreadingUDPBase = ThreadingMixIn(UDPServer);

/**
 * The tutorial's `TimeServer(ThreadingMixIn, TCPServer)` with `allow_reuse_address`: each connection
 * is handled in a worker thread unless `dispatcher` says otherwise (`'async'` suits this protocol,
 * which never blocks). The handler defaults to {@link TimeRequestHandler}; the time options reach it
 * in the workers too.
 */
export class TimeServer extends ThreadingTCPBase {
  static override readonly moduleUrl: string = import.meta.url;
  static override readonly exportName: string = 'TimeServer';
  static override allowReuseAddress: boolean | undefined = true;

  constructor(
    address: AddressInput,
    RequestHandlerClass: RequestHandler<Duplex, TimeServer> = TimeRequestHandler,
    options: TimeServerOptions = {},
  ) {
    super(address, RequestHandlerClass as RequestHandler<Duplex, TCPServer>, options);
  }
}

/**
 * {@link TimeServer} for IPv6 only, Python's `address_family = AF_INET6`: `''` means `::`, and the
 * socket takes no IPv4 clients, so it can share a port with an IPv4 `TimeServer` (the tutorial's
 * `[::]:8765` beside `0.0.0.0:8765`).
 */
export class TimeServer6 extends TimeServer {
  static override readonly moduleUrl: string = import.meta.url;
  static override readonly exportName: string = 'TimeServer6';
  static override addressFamily: AddressFamily = 'IPv6';
  static ipv6Only = true;
}

/**
 * The line protocol over UDP, threaded like {@link TimeServer}: a datagram holds the word, the reply
 * datagram the answer. The handler defaults to {@link TimeDatagramHandler}.
 *
 * UDP sources can be spoofed, so before any handler runs, `verifyRequest` drops datagrams from
 * source ports below 1024 and from the server's own port (loops with other services or itself,
 * CVE-2024-2169), and from a source address past its token bucket (`udpRate` per second, `udpBurst`
 * at once: a reflector for nobody). Drops log one line per source address per minute.
 */
export class TimeUDPServer extends ThreadingUDPBase {
  static override readonly moduleUrl: string = import.meta.url;
  static override readonly exportName: string = 'TimeUDPServer';

  /** The loop and rate guard that `verifyRequest` consults. */
  readonly guard: UdpGuard;

  constructor(
    address: AddressInput,
    RequestHandlerClass: RequestHandler<DatagramRequest, TimeUDPServer> = TimeDatagramHandler,
    options: TimeServerOptions = {},
  ) {
    let guard: UdpGuard;
    try {
      guard = new UdpGuard(options);
    } catch (error) {
      throw new SrvError('SRV_ERR_INVALID_OPTION', (error as Error).message, { cause: error });
    }
    super(address, RequestHandlerClass as RequestHandler<DatagramRequest, UDPServer>, options);
    this.guard = guard;
  }

  /** Refuses looping source ports and sources over their rate (see the class comment). */
  override verifyRequest(
    request: DatagramRequest,
    clientAddress: SocketAddress,
    info: RequestInfo,
  ): boolean | Promise<boolean> {
    const ownPort = (info as { local?: SocketAddress }).local?.port ?? this.address.port;
    const dropped = this.guard.check(clientAddress, ownPort, (line) =>
      this.logger.warn(`[${formatLogTime(new Date())}] -- ${line}`),
    );
    return dropped === undefined ? super.verifyRequest(request, clientAddress, info) : false;
  }
}
