import dgram from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import net from 'node:net';
import {
  type AddressFamily,
  formatAddress,
  type ListenAddress,
  type SocketAddress,
  toFamily,
} from './address.js';
import { checkReusePort, describeListen, socketAddressOf } from './endpoint.js';
import { createError, toBindError } from './errors.js';

/** One received datagram, with the way to answer it. */
export interface DatagramInfo {
  readonly local: SocketAddress;
  readonly remote: SocketAddress;
  /** Sends one datagram back to the sender. */
  reply(data: Uint8Array | string): Promise<void>;
}

/** Options of the datagram listener. */
export interface DatagramListenerOptions {
  /** `IPv6` opens a udp6 socket for host names and the empty host. */
  addressFamily?: AddressFamily;
  ipv6Only?: boolean;
  reusePort?: boolean;
  /** Maps to dgram's `reuseAddr`. Default false. */
  allowReuseAddress?: boolean;
  /** Receive buffer size in bytes (SO_RCVBUF). */
  receiveBufferSize?: number;
}

/**
 * Owns one bound UDP socket (v4 or v6) and emits `datagram (data, info)` for each packet received.
 *
 * Events: `listening`, `datagram`, `close`, `error`.
 */
export class DatagramListener extends EventEmitter {
  readonly ready: Promise<void>;
  readonly #socket: dgram.Socket;
  readonly #address: ListenAddress & { kind: 'inet' };
  #bound: SocketAddress | undefined;
  #closing: Promise<void> | undefined;

  constructor(address: ListenAddress, options: DatagramListenerOptions = {}) {
    super();
    if (address.kind !== 'inet') {
      // Node has no Unix datagram sockets (and dgram cannot adopt a descriptor): say so, don't pretend.
      throw createError(
        'SRV_ERR_UNSUPPORTED_OPTION',
        `UDP servers need a host and port; ${address.kind === 'unix' ? 'Unix datagram sockets do not exist in Node' : 'dgram cannot adopt an inherited descriptor'}`,
      );
    }
    this.#address = address;
    const isV6 =
      net.isIP(address.host) === 6 || (net.isIP(address.host) === 0 && options.addressFamily === 'IPv6');
    checkReusePort(options.reusePort);
    const socketOptions: dgram.SocketOptions & { reusePort?: boolean } = {
      type: isV6 ? 'udp6' : 'udp4',
      reuseAddr: options.allowReuseAddress ?? false,
      ...(options.ipv6Only ? { ipv6Only: true } : {}),
      ...(options.reusePort ? { reusePort: true } : {}),
      ...(options.receiveBufferSize ? { recvBufferSize: options.receiveBufferSize } : {}),
    };
    this.#socket = dgram.createSocket(socketOptions);
    this.#socket.on('message', (data, rinfo) => {
      const socket = this.#socket;
      const remote: SocketAddress = {
        family: toFamily(rinfo.family, rinfo.address),
        host: rinfo.address,
        port: rinfo.port,
      };
      this.emit('datagram', data, {
        local: this.#bound!,
        remote,
        reply: (payload: Uint8Array | string) =>
          new Promise<void>((resolve, reject) =>
            socket.send(payload, rinfo.port, rinfo.address, (error) => (error ? reject(error) : resolve())),
          ),
      } satisfies DatagramInfo);
    });
    this.#socket.on('error', (error) => {
      if (this.#bound !== undefined) this.emit('error', error);
    });
    this.ready = this.#bind();
    this.ready.catch(() => {});
  }

  async #bind(): Promise<void> {
    const socket = this.#socket;
    const where = describeListen(this.#address);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ address: this.#address.host, port: this.#address.port }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      // A failed bind leaves the descriptor open until close(): release it now.
      try {
        socket.close();
      } catch {}
      throw toBindError(error, where);
    }
    this.#bound = socketAddressOf(socket.address());
    this.emit('listening', this.#bound);
  }

  get address(): SocketAddress {
    if (this.#bound === undefined) {
      throw createError('SRV_ERR_SERVER_CLOSED', `not bound to ${describeListen(this.#address)}`);
    }
    return this.#bound;
  }

  get listening(): boolean {
    return this.#bound !== undefined && this.#closing === undefined;
  }

  get requested(): ListenAddress {
    return this.#address;
  }

  /** The underlying socket, for sending datagrams that are not replies. */
  get socket(): dgram.Socket {
    return this.#socket;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      const bound = await this.ready.then(
        () => true,
        () => false,
      );
      if (bound) {
        const closed = once(this.#socket, 'close');
        this.#socket.close();
        await closed;
      }
      this.emit('close');
    })();
    return this.#closing;
  }

  override toString(): string {
    return this.#bound ? formatAddress(this.#bound) : describeListen(this.#address);
  }
}
