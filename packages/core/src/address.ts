import { isIP } from 'node:net';
import { createError } from './errors.js';

/** Which family `''` (all interfaces) means, and which socket type UDP opens. Python's `address_family`. */
export type AddressFamily = 'IPv4' | 'IPv6';

/**
 * Where a server listens. Python's tuple `['', 6789]` (`''` = all interfaces), `'host:port'`,
 * `'[::1]:8765'`, `':8080'`, a port number, `{ host, port }`, `{ path }` (Unix socket) or `{ fd }`
 * (an inherited, already listening descriptor).
 */
export type AddressInput =
  | readonly [host: string, port: number]
  | string
  | number
  | { readonly host?: string; readonly port: number }
  | { readonly path: string }
  | { readonly fd: number };

/** A parsed, validated {@link AddressInput}. */
export type ListenAddress =
  | { readonly kind: 'inet'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'fd'; readonly fd: number };

/** Where a server or connection endpoint really is, once bound. */
export interface SocketAddress {
  /** `IPv4`, `IPv6` or `unix`. */
  readonly family: AddressFamily | 'unix';
  /** The IP address, or the socket path for `unix`. */
  readonly host: string;
  /** The port; 0 for `unix`. */
  readonly port: number;
}

// RFC 1123 host names: labels of letters, digits and hyphens, not starting or ending with a hyphen.
const hostnamePattern =
  /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

function describe(input: unknown): string {
  try {
    return typeof input === 'string' ? JSON.stringify(input) : (JSON.stringify(input) ?? String(input));
  } catch {
    return String(input);
  }
}

function invalid(input: unknown, why: string): never {
  throw createError('SRV_ERR_INVALID_ADDRESS', `invalid address ${describe(input)}: ${why}`);
}

function checkPort(input: unknown, port: unknown): number {
  const value = typeof port === 'string' && /^\d+$/.test(port) ? Number(port) : port;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
    invalid(input, 'port must be an integer from 0 to 65535');
  }
  return value;
}

function checkHost(input: unknown, host: unknown, family: AddressFamily | undefined): string {
  if (typeof host !== 'string') invalid(input, 'host must be a string');
  if (host === '' || host === '*') return family === 'IPv6' ? '::' : '0.0.0.0';
  if (isIP(host) !== 0) return host;
  if (host.startsWith('[') && host.endsWith(']') && isIP(host.slice(1, -1)) === 6) return host.slice(1, -1);
  if (!hostnamePattern.test(host))
    invalid(input, `${JSON.stringify(host)} is not an IP address or host name`);
  return host;
}

/**
 * Parses and validates an address. Invalid input fails with `SRV_ERR_INVALID_ADDRESS` naming it.
 * With `addressFamily: 'IPv6'`, the empty host means `::` instead of `0.0.0.0`.
 */
export function parseAddress(
  input: AddressInput,
  options: { addressFamily?: AddressFamily } = {},
): ListenAddress {
  const family = options.addressFamily;
  if (typeof input === 'number')
    return { kind: 'inet', host: checkHost(input, '', family), port: checkPort(input, input) };
  if (typeof input === 'string') return parseAddressString(input, family);
  if (Array.isArray(input)) {
    if (input.length !== 2) invalid(input, 'a tuple is [host, port]');
    return { kind: 'inet', host: checkHost(input, input[0], family), port: checkPort(input, input[1]) };
  }
  if (typeof input === 'object' && input !== null) {
    if ('path' in input) {
      if (typeof input.path !== 'string' || input.path === '' || input.path.includes('\0')) {
        invalid(input, 'path must be a non-empty string without NUL');
      }
      return { kind: 'unix', path: input.path };
    }
    if ('fd' in input) {
      if (!Number.isInteger(input.fd) || input.fd < 0) invalid(input, 'fd must be a non-negative integer');
      return { kind: 'fd', fd: input.fd };
    }
    if ('port' in input) {
      return {
        kind: 'inet',
        host: checkHost(input, input.host ?? '', family),
        port: checkPort(input, input.port),
      };
    }
  }
  return invalid(input, 'expected [host, port], "host:port", a port, { host, port }, { path } or { fd }');
}

function parseAddressString(input: string, family: AddressFamily | undefined): ListenAddress {
  if (input.startsWith('unix:')) return parseAddress({ path: input.slice(5) });
  if (input.startsWith('/') || input.startsWith('./')) return parseAddress({ path: input });
  if (/^\d+$/.test(input))
    return { kind: 'inet', host: checkHost(input, '', family), port: checkPort(input, input) };
  const bracketed = /^\[([^\]]*)\]:(\d+)$/.exec(input);
  if (bracketed) {
    if (isIP(bracketed[1]!) !== 6) invalid(input, 'brackets hold an IPv6 address');
    return { kind: 'inet', host: bracketed[1]!, port: checkPort(input, bracketed[2]) };
  }
  const colon = input.lastIndexOf(':');
  if (colon === -1) invalid(input, 'expected "host:port"');
  const host = input.slice(0, colon);
  if (host.includes(':')) invalid(input, 'write an IPv6 address in brackets: "[::1]:8765"');
  return {
    kind: 'inet',
    host: checkHost(input, host, family),
    port: checkPort(input, input.slice(colon + 1)),
  };
}

/** `127.0.0.1:54321`, `[::1]:8765`, or the socket path: how logs and banners show an address. */
export function formatAddress(address: SocketAddress): string {
  if (address.family === 'unix') return address.host;
  return address.family === 'IPv6' || address.host.includes(':')
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

/**
 * The URL of a bound address as Python's banner shows it (`http://[::]:8000/`); Unix sockets get
 * `http+unix://<encoded path>/`.
 */
export function formatUrl(address: SocketAddress, scheme = 'http'): string {
  if (address.family === 'unix') return `${scheme}+unix://${encodeURIComponent(address.host)}/`;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${scheme}://${host}:${address.port}/`;
}

/** Normalises Node's `family` (a string, or a number on some versions) to `IPv4`/`IPv6`. */
export function toFamily(family: string | number | undefined, host?: string): AddressFamily {
  if (family === 'IPv6' || family === 6) return 'IPv6';
  if (family === 'IPv4' || family === 4) return 'IPv4';
  return host !== undefined && isIP(host) === 6 ? 'IPv6' : 'IPv4';
}

/**
 * The descriptors systemd passed by socket activation (`LISTEN_FDS` / `LISTEN_PID`), first at 3.
 * Fails with `SRV_ERR_SOCKET_ACTIVATION` when none were passed to this process.
 */
export function listenFds(env: NodeJS.ProcessEnv = process.env, pid: number = process.pid): number[] {
  const count = Number(env.LISTEN_FDS);
  if (env.LISTEN_PID !== undefined && Number(env.LISTEN_PID) !== pid) {
    throw createError(
      'SRV_ERR_SOCKET_ACTIVATION',
      `LISTEN_PID is ${env.LISTEN_PID}, not this process (${pid})`,
    );
  }
  if (!Number.isInteger(count) || count < 1) {
    throw createError(
      'SRV_ERR_SOCKET_ACTIVATION',
      'no sockets were passed: LISTEN_FDS is not set to a count ≥ 1',
    );
  }
  return Array.from({ length: count }, (_, i) => 3 + i);
}

/** The address a server reports before (or without) binding: what was asked for. */
export function requestedAddress(requested: ListenAddress): SocketAddress {
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

/**
 * The host as logs show it: an IPv4 client of a dual-stack socket (`::ffff:127.0.0.1`) as plain IPv4
 * (`127.0.0.1`), so the same client reads the same whichever socket it reached.
 */
export function displayHost(host: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  return mapped ? mapped[1]! : host;
}
