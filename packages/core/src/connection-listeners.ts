import type { Duplex } from 'node:stream';
import { formatAddress } from './address.js';
import type { DatagramInfo, DatagramListener } from './datagram-listener.js';
import type { Lingering } from './linger.js';
import type { ConnectionInfo, StreamListener } from './listener.js';
import type { Logger } from './logger.js';

/** The ConnectionInfo of an attached socket, for its shared error listener. */
const infoKey = Symbol('srv.connectionInfo');
type Tagged = Duplex & { [infoKey]?: ConnectionInfo };

/** Remembers a socket's ConnectionInfo for {@link socketErrorLogger}. */
export function tagConnection(socket: Duplex, info: ConnectionInfo): void {
  (socket as Tagged)[infoKey] = info;
}

/**
 * One `error` listener for every connection of a server (no closure per connection; `this` is the
 * socket): resets and broken pipes are the client's doing; anything else is worth a line.
 */
export function socketErrorLogger(
  logger: () => Logger,
): (this: Duplex, error: NodeJS.ErrnoException) => void {
  return function onSocketError(this: Tagged, error: NodeJS.ErrnoException): void {
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || error.code === 'SRV_ERR_TIMEOUT') return;
    const remote = this[infoKey]?.remote;
    logger().warn(
      { err: error },
      `connection error from ${remote ? formatAddress(remote) : 'unknown'}: ${error.message}`,
    );
  };
}

/** One `close` listener for every connection of a server (`this` is the stream): forgets it. */
export function closeTracker(active: Set<Duplex>, lingering: Lingering): (this: Duplex) => void {
  return function onStreamClose(this: Duplex): void {
    active.delete(this);
    lingering.delete(this);
  };
}

/** Calls `action` every `interval` ms (Python's `service_actions` poll); a failure is logged. */
export function startServiceTimer(
  interval: number,
  action: () => void | Promise<void>,
  logger: Logger,
): NodeJS.Timeout | undefined {
  if (interval <= 0) return undefined;
  const timer = setInterval(() => {
    Promise.resolve()
      .then(action)
      .catch((error: unknown) => logger.error({ err: error }, 'serviceActions failed'));
  }, interval);
  timer.unref();
  return timer;
}

/** What a listener's events go to: its server. */
interface ListenerOwner {
  readonly logger: Logger;
  attach(socket: Duplex, info: ConnectionInfo): unknown;
  attachDatagram(data: Buffer, info: DatagramInfo): unknown;
  describe(): string;
  emit(event: 'error', error: Error): boolean;
}

/** Gives a listener's connections and datagrams to its server; a listener error is logged and re-emitted. */
export function wireListener(listener: StreamListener | DatagramListener, server: ListenerOwner): void {
  listener.on('connection', (socket: Duplex, info: ConnectionInfo) => server.attach(socket, info));
  listener.on('datagram', (data: Buffer, info: DatagramInfo) => server.attachDatagram(data, info));
  listener.on('error', (error: Error) => {
    server.logger.error({ err: error }, `listener error on ${server.describe()}`);
    server.emit('error', error);
  });
}
