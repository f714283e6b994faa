/** What both listeners need of an endpoint: reusePort support, its description, its bound address. */
import { lstat, unlink } from 'node:fs/promises';
import net from 'node:net';
import { type ListenAddress, type SocketAddress, toFamily } from './address.js';
import { createError } from './errors.js';

/** True when this Node supports SO_REUSEPORT on listeners (Linux, Node ≥ 22.12 / ≥ 23.1). */
export function supportsReusePort(version: string = process.versions.node): boolean {
  if (process.platform !== 'linux' && process.platform !== 'freebsd') return false;
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/** `SRV_ERR_UNSUPPORTED_OPTION` when `reusePort` is asked for where Node cannot set it. */
export function checkReusePort(reusePort: boolean | undefined): void {
  if (reusePort && !supportsReusePort()) {
    throw createError(
      'SRV_ERR_UNSUPPORTED_OPTION',
      `reusePort needs Node >= 22.12 on Linux; this is Node ${process.versions.node} on ${process.platform}`,
    );
  }
}

/** `host:port`, `[v6]:port`, a socket path or `fd N`: the requested endpoint, for messages. */
export function describeListen(address: ListenAddress): string {
  switch (address.kind) {
    case 'unix':
      return address.path;
    case 'fd':
      return `fd ${address.fd}`;
    default:
      return address.host.includes(':')
        ? `[${address.host}]:${address.port}`
        : `${address.host}:${address.port}`;
  }
}

/** Reads a socket's address as a {@link SocketAddress}. */
export function socketAddressOf(
  info: net.AddressInfo | string | null | undefined,
  fallbackPath = '',
): SocketAddress {
  if (info === null || info === undefined || typeof info === 'string') {
    return { family: 'unix', host: typeof info === 'string' ? info : fallbackPath, port: 0 };
  }
  return { family: toFamily(info.family, info.address), host: info.address, port: info.port };
}

/** Removes a stale Unix socket file: only a socket, and only when nobody accepts on it. */
export async function removeStaleSocket(path: string): Promise<void> {
  let stats: Awaited<ReturnType<typeof lstat>>;
  try {
    stats = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (!stats.isSocket()) {
    throw createError('SRV_ERR_ADDRESS_IN_USE', `${path} exists and is not a socket; not removing it`);
  }
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect({ path });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive)
    throw createError('SRV_ERR_ADDRESS_IN_USE', `address already in use: ${path} (a server accepts on it)`);
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}
