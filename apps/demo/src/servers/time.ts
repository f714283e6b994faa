/**
 * Tutorial section "TCPServer": a time server built directly on socketserver's classes. Send a line
 * `asctime`, `seconds` or `rfc822` and get the time in that form; anything else gets the help text.
 * Each connection logs `[time] -- connected from:<addr>`.
 */
import { TimeRequestHandler, TimeServer } from '@srv/timeproto';
import { printLogger } from '../log.js';
import { type DemoOptions, listenAddress } from '../options.js';

/**
 * `TimeServer(('', 8765), TimeRequestHandler)`. @srv/timeproto's `TimeServer` is the tutorial's
 * `class TimeServer(ThreadingMixIn, TCPServer): allow_reuse_address = 1`, and its
 * `TimeRequestHandler` the tutorial's `StreamRequestHandler` subclass.
 */
export function createTimeServer(options: DemoOptions): TimeServer {
  return new TimeServer(listenAddress(options), TimeRequestHandler, {
    logger: printLogger,
    logConnections: !options.quiet,
  });
}
