/**
 * Test helpers shared by every srv package: start a server on port 0, wait for it, talk to it over
 * real sockets, and close everything at the end. Only types come from the core entry, so this module
 * adds no second copy of the classes.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import type { SocketAddress } from './address.js';

/** What the helper needs of a server: any srv server class fits. */
export interface TestableServer {
  readonly ready: Promise<void>;
  readonly address: SocketAddress;
  serveForever(): Promise<void>;
  close(): Promise<void>;
}

/** A started server with the means to reach it. */
export interface TestServer<S> extends AsyncDisposable {
  readonly server: S;
  /** The bound address. */
  readonly address: SocketAddress;
  /** A host a local client can connect to (`0.0.0.0` → `127.0.0.1`, `::` → `::1`). */
  readonly host: string;
  readonly port: number;
  /** `http://host:port` (IPv6 bracketed), no trailing slash. */
  readonly origin: string;
  /** Opens a tracked TCP (or Unix) connection; resolves once connected. */
  connect(options?: { tls?: tls.ConnectionOptions }): Promise<net.Socket>;
  /** Sends raw bytes on a new connection and resolves with everything received until the server closes. */
  exchange(
    data: string | Uint8Array,
    options?: { tls?: tls.ConnectionOptions; end?: boolean },
  ): Promise<Buffer>;
  /** Tracks a socket made elsewhere so `close()` destroys it. */
  track<T extends net.Socket | dgram.Socket>(socket: T): T;
  /** Destroys every tracked client, then closes the server. Idempotent. */
  close(): Promise<void>;
}

function localHost(address: SocketAddress): string {
  if (address.host === '0.0.0.0') return '127.0.0.1';
  if (address.host === '::') return '::1';
  return address.host;
}

/**
 * Waits for `server.ready`, starts `serveForever()` (unless `serve: false`) and returns the helper.
 * Register `close()` on the next line (`onTestFinished(() => t.close())` or `await using`).
 */
export async function startServer<S extends TestableServer>(
  server: S,
  options: { serve?: boolean } = {},
): Promise<TestServer<S>> {
  const sockets = new Set<net.Socket | dgram.Socket>();
  try {
    await server.ready;
  } catch (error) {
    await server.close().catch(() => {});
    throw error;
  }
  if (options.serve !== false) server.serveForever().catch(() => {});
  const address = server.address;
  const host = localHost(address);
  const origin =
    address.family === 'unix'
      ? `unix:${address.host}`
      : `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  let closing: Promise<void> | undefined;

  const track = <T extends net.Socket | dgram.Socket>(socket: T): T => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    return socket;
  };

  const connect = async (connectOptions: { tls?: tls.ConnectionOptions } = {}): Promise<net.Socket> => {
    const target = address.family === 'unix' ? { path: address.host } : { host, port: address.port };
    const socket = connectOptions.tls
      ? tls.connect({ ...target, ...connectOptions.tls })
      : net.connect(target as net.NetConnectOpts);
    track(socket);
    socket.on('error', () => {});
    await once(socket, connectOptions.tls ? 'secureConnect' : 'connect');
    return socket;
  };

  const helper: TestServer<S> = {
    server,
    address,
    host,
    port: address.port,
    origin,
    connect,
    track,
    async exchange(data, exchangeOptions = {}) {
      const socket = await connect(exchangeOptions.tls ? { tls: exchangeOptions.tls } : {});
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      const closed = once(socket, 'close');
      socket.write(data);
      if (exchangeOptions.end) socket.end();
      await closed;
      return Buffer.concat(chunks);
    },
    close() {
      closing ??= (async () => {
        for (const socket of sockets) {
          if (socket instanceof net.Socket) socket.destroy();
          else
            try {
              socket.close();
            } catch {}
        }
        await server.close();
      })();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return helper.close();
    },
  };
  return helper;
}

/** Reads from a socket until it closes; resolves with all bytes. */
export async function readAll(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  if (!socket.destroyed) await once(socket, 'close');
  return Buffer.concat(chunks);
}

/** Reads from a socket until `predicate` holds for the bytes so far (or the socket closes). */
export async function readUntil(
  socket: net.Socket,
  predicate: (received: Buffer) => boolean,
): Promise<Buffer> {
  let received = Buffer.alloc(0);
  return new Promise<Buffer>((resolve) => {
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (predicate(received)) finish();
    };
    const finish = () => {
      socket.off('data', onData);
      socket.off('close', finish);
      resolve(received);
    };
    socket.on('data', onData);
    socket.on('close', finish);
  });
}

/** Sends one datagram and resolves with the first reply (rejects after `timeout` ms). */
export async function sendDatagram(
  address: { host: string; port: number },
  data: string | Uint8Array,
  timeout = 5000,
): Promise<Buffer> {
  const socket = dgram.createSocket(net.isIP(address.host) === 6 ? 'udp6' : 'udp4');
  try {
    const reply = once(socket, 'message', { signal: AbortSignal.timeout(timeout) });
    socket.send(data, address.port, address.host);
    const [message] = (await reply) as [Buffer];
    return message;
  } finally {
    socket.close();
  }
}

/** A listening socket a child process can inherit (see {@link createInheritableListener}). */
export interface InheritableListener {
  /** The socket's file descriptor in this process: pass it in a child's `stdio` (e.g. at index 3). */
  readonly fd: number;
  /** The port it listens on. */
  readonly port: number;
  /** Closes this process's copy (a child that inherited the socket keeps its own). Idempotent. */
  close(): Promise<void>;
}

/**
 * A TCP socket listening on loopback, to hand to a command as systemd's socket activation does:
 * spawn with `stdio: [..., listener.fd]` so it is descriptor 3 in the child, then `--fd 3`, or
 * `LISTEN_FDS=1` with `LISTEN_PID` set to the child's pid.
 */
export async function createInheritableListener(host = '127.0.0.1'): Promise<InheritableListener> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => resolve());
  });
  const handle = (server as unknown as { _handle?: { fd?: number } })._handle;
  if (typeof handle?.fd !== 'number' || handle.fd < 0) {
    server.close();
    throw new Error('this platform gives no file descriptor for a listening socket');
  }
  return {
    fd: handle.fd,
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) resolve();
        else server.close(() => resolve());
      }),
  };
}

/** A throwaway self-signed certificate for `localhost`, `127.0.0.1` and `::1` (needs `selfsigned`). */
export async function createTestCertificate(): Promise<{ cert: string; key: string }> {
  const selfsigned = (await import('selfsigned')) as unknown as {
    generate(
      attrs: Array<{ name: string; value: string }>,
      options: Record<string, unknown>,
    ): Promise<{ cert: string; private: string }>;
  };
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    days: 2,
    algorithm: 'sha256',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
