/**
 * PROXY protocol (HAProxy's v1 text and v2 binary headers) in front of a stream listener. The header
 * itself is parsed by `proxy-protocol-js` (typed, no dependencies, both versions, and a builder the
 * tests use to send real headers); this module only frames it (how many bytes belong to it), decides
 * whom to believe, and turns the result into a {@link ConnectionInfo}.
 */
import { createRequire } from 'node:module';
import { BlockList, isIP, type Socket } from 'node:net';
import type { V1ProxyProtocol, V2ProxyProtocol } from 'proxy-protocol-js';
import type { SocketAddress } from './address.js';
import { createError } from './errors.js';
import type { ConnectionInfo } from './listener.js';

/**
 * `proxy-protocol-js`, loaded the first time a header is parsed. Loading it (a CommonJS package of
 * some twenty files) costs every process that imports @srv/core about 20 ms of CPU at start, and only
 * a listener with `proxyProtocol` needs it: forking children, CLI runs and most servers never do.
 */
let proxyProtocolJs: typeof import('proxy-protocol-js') | undefined;
function parser(): typeof import('proxy-protocol-js') {
  proxyProtocolJs ??= createRequire(import.meta.url)(
    'proxy-protocol-js',
  ) as typeof import('proxy-protocol-js');
  return proxyProtocolJs;
}

/** Who may send a PROXY header when none is configured: the loopback addresses. */
export const defaultTrustedProxies: readonly string[] = Object.freeze(['127.0.0.0/8', '::1/128']);

/**
 * Set on a socket whose PROXY header was read: the header's length in bytes. `socket.bytesRead`
 * counts them; a server that tells "sent nothing yet" from `bytesRead` subtracts them.
 */
export const proxyHeaderBytesKey: unique symbol = Symbol.for('srv.proxyHeaderBytes');

/** Milliseconds a connection has to deliver its PROXY header. */
export const defaultProxyHeaderTimeout = 5000;

const v2Signature = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const v1Prefix = Buffer.from('PROXY ', 'latin1');
/** The longest v1 line, CRLF included (the spec's 107 bytes). */
const v1MaxLength = 107;

/** `::ffff:10.0.0.1` → `10.0.0.1`: a dual-stack listener sees IPv4 clients in this form. */
export function unmapAddress(host: string): string {
  const match = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(host);
  return match?.[1] ?? host;
}

/**
 * The CIDR list of trusted proxies as a `net.BlockList`. Bare addresses mean one host. A malformed
 * entry is `SRV_ERR_INVALID_OPTION`.
 */
export function createTrustList(cidrs: readonly string[] = defaultTrustedProxies): BlockList {
  const list = new BlockList();
  for (const entry of cidrs) {
    const [rawHost = '', bits, extra] = String(entry).trim().split('/');
    const host = unmapAddress(rawHost.replace(/^\[|\]$/g, ''));
    const version = isIP(host);
    const type = version === 6 ? 'ipv6' : 'ipv4';
    const max = version === 6 ? 128 : 32;
    const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
    if (version === 0 || extra !== undefined || !(prefix >= 0 && prefix <= max)) {
      throw createError(
        'SRV_ERR_INVALID_OPTION',
        `trustedProxies: ${JSON.stringify(entry)} is not an address or CIDR block (like 10.0.0.0/8 or fd00::/8)`,
      );
    }
    list.addSubnet(host, prefix, type);
  }
  return list;
}

/** True when a connection from `host` may send a PROXY header (IPv4-mapped forms match their IPv4 form). */
export function isTrustedProxy(list: BlockList, host: string): boolean {
  const plain = unmapAddress(host);
  const version = isIP(plain);
  if (version === 0) return false;
  return list.check(plain, version === 6 ? 'ipv6' : 'ipv4');
}

/** What a PROXY header said. `undefined` addresses: use the connection's own (LOCAL, UNKNOWN, UNSPEC). */
export interface ProxyHeader {
  readonly version: 1 | 2;
  /** The original client, when the header names one. */
  readonly source?: SocketAddress;
  /** The address the client connected to, when the header names one. */
  readonly destination?: SocketAddress;
}

/** How many bytes of `data` the header takes: a number, 0 when more bytes are needed, -1 when it is no header. */
export function frameProxyHeader(data: Buffer): number {
  const v2Seen = Math.min(data.length, v2Signature.length);
  if (data.subarray(0, v2Seen).equals(v2Signature.subarray(0, v2Seen))) {
    if (data.length < 16) return 0;
    const total = 16 + data.readUInt16BE(14);
    return data.length >= total ? total : 0;
  }
  const v1Seen = Math.min(data.length, v1Prefix.length);
  if (data.subarray(0, v1Seen).equals(v1Prefix.subarray(0, v1Seen))) {
    const end = data.subarray(0, v1MaxLength).indexOf('\r\n');
    if (end !== -1) return end + 2;
    return data.length >= v1MaxLength ? -1 : 0;
  }
  return -1;
}

function addressOf(host: string, port: number): SocketAddress | undefined {
  const version = isIP(host);
  if (version === 0 || !Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  return { family: version === 6 ? 'IPv6' : 'IPv4', host, port };
}

function ipv6Text(bytes: readonly number[]): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  // Canonical text (zero runs compressed) through the URL parser, which Node ships.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/**
 * Parses one framed header (see {@link frameProxyHeader}); `undefined` for anything the spec does not
 * allow (such a connection is closed unanswered, so there is nobody to tell why).
 */
export function parseProxyHeader(header: Buffer): ProxyHeader | undefined {
  const { Command, IPv4ProxyAddress, IPv6ProxyAddress, V1ProxyProtocol, V2ProxyProtocol } = parser();
  if (header[0] === 0x50) {
    const line = header.toString('latin1');
    // UNKNOWN: the proxy could not tell; the spec says to use the connection's own addresses.
    if (line.startsWith('PROXY UNKNOWN')) return { version: 1 };
    let parsed: V1ProxyProtocol;
    try {
      parsed = V1ProxyProtocol.parse(line);
    } catch {
      return undefined;
    }
    const source = addressOf(parsed.source.ipAddress, parsed.source.port);
    const destination = addressOf(parsed.destination.ipAddress, parsed.destination.port);
    const want = parsed.inetProtocol === 'TCP6' ? 'IPv6' : 'IPv4';
    if (!source || !destination || source.family !== want || destination.family !== want || parsed.data) {
      return undefined;
    }
    return { version: 1, source, destination };
  }
  let parsed: V2ProxyProtocol;
  try {
    parsed = V2ProxyProtocol.parse(new Uint8Array(header));
  } catch {
    return undefined;
  }
  // LOCAL: the proxy's own connection (its health checks); the connection's addresses are the truth.
  if (parsed.command === Command.LOCAL) return { version: 2 };
  const address = parsed.proxyAddress;
  if (address instanceof IPv4ProxyAddress) {
    return {
      version: 2,
      source: { family: 'IPv4', host: address.sourceAddress.address.join('.'), port: address.sourcePort },
      destination: {
        family: 'IPv4',
        host: address.destinationAddress.address.join('.'),
        port: address.destinationPort,
      },
    };
  }
  if (address instanceof IPv6ProxyAddress) {
    return {
      version: 2,
      source: { family: 'IPv6', host: ipv6Text(address.sourceAddress.address), port: address.sourcePort },
      destination: {
        family: 'IPv6',
        host: ipv6Text(address.destinationAddress.address),
        port: address.destinationPort,
      },
    };
  }
  // UNSPEC or a Unix socket pair: nothing better than the connection's own addresses.
  return { version: 2 };
}

/** Options of {@link readProxyHeader}. */
export interface ReadProxyHeaderOptions {
  /** Milliseconds to wait for the whole header. */
  timeout: number;
  /** Leave the socket paused afterwards (it was accepted paused, to be handed to another process). */
  paused: boolean;
}

/**
 * Reads and removes the PROXY header at the start of `socket`; bytes after it are put back. Resolves
 * with the header, or `undefined` after destroying the socket (no valid header in time, or it closed).
 * Nothing is ever written to the socket: a client that is not a proxy learns nothing.
 */
export function readProxyHeader(
  socket: Socket,
  options: ReadProxyHeaderOptions,
): Promise<ProxyHeader | undefined> {
  return new Promise((resolve) => {
    let buffered: Buffer = Buffer.alloc(0);
    const finish = (header: ProxyHeader | undefined, rest?: Buffer) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onGone);
      socket.off('close', onGone);
      socket.off('error', onGone);
      if (header === undefined) {
        socket.destroy();
        resolve(undefined);
        return;
      }
      socket.pause();
      if (rest !== undefined && rest.length > 0) socket.unshift(rest);
      // Back to how the listener would have handed it over: a consumer's first `data` listener starts
      // the flow (or, accepted paused, the consumer resumes it).
      // (Node's Readable has a setter for it; the typings call it read-only.)
      (socket as { readableFlowing: boolean | null }).readableFlowing = options.paused ? false : null;
      resolve(header);
    };
    const onData = (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      const length = frameProxyHeader(buffered);
      if (length === 0) return;
      if (length < 0) {
        finish(undefined);
        return;
      }
      const header = parseProxyHeader(buffered.subarray(0, length));
      (socket as Socket & { [proxyHeaderBytesKey]?: number })[proxyHeaderBytesKey] = length;
      finish(header, buffered.subarray(length));
    };
    const onGone = () => finish(undefined);
    // A silent connection must not keep a closed server's process alive for the whole timeout.
    const timer = setTimeout(onGone, options.timeout).unref();
    socket.on('data', onData);
    socket.once('end', onGone);
    socket.once('close', onGone);
    socket.once('error', onGone);
    socket.resume();
  });
}

/** The info of a proxied connection: the header's addresses, the proxy kept as `proxy`. */
export function proxiedInfo(info: ConnectionInfo, header: ProxyHeader): ConnectionInfo {
  if (header.source === undefined) return info;
  return {
    local: header.destination ?? info.local,
    remote: header.source,
    tls: info.tls,
    proxy: info.remote,
  };
}
