/**
 * Tutorial section "TCPServer", last paragraph: the time server over IPv6
 * (`address_family = socket.AF_INET6`). The socket is IPv6-only, so it shares port 8765 with the IPv4
 * time server: `nc -6 ::1 8765`.
 */
import { TimeRequestHandler, TimeServer6 } from '@srv/timeproto';
import { printLogger } from '../log.js';
import { type DemoOptions, listenAddress } from '../options.js';

/** `TimeServer` with `address_family = AF_INET6`, on `[::]:8765`. */
export function createTime6Server(options: DemoOptions): TimeServer6 {
  return new TimeServer6(listenAddress(options), TimeRequestHandler, {
    logger: printLogger,
    logConnections: !options.quiet,
  });
}
