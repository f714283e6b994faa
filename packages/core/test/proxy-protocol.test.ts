import { once } from 'node:events';
import net from 'node:net';
import {
  Command,
  IPv4Address,
  IPv4ProxyAddress,
  IPv6Address,
  IPv6ProxyAddress,
  TransportProtocol,
  V2ProxyProtocol,
} from 'proxy-protocol-js';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  type ConnectionInfo,
  isSrvError,
  type StreamListener,
  StreamRequestHandler,
  TCPServer,
  UnixStreamServer,
} from '../src/index.js';
import { frameProxyHeader, parseProxyHeader, unmapAddress } from '../src/proxy-protocol.js';
import { readAll, readUntil, startServer } from '../src/testing.js';

/** Says who it thinks the client is (and through which proxy), then echoes lines. */
class WhoHandler extends StreamRequestHandler {
  override async handle(): Promise<void> {
    const proxy = (this.info as ConnectionInfo).proxy;
    await this.wfile.write(
      `client ${this.clientAddress.host} ${this.clientAddress.port} via ${proxy ? proxy.host : '-'}\n`,
    );
    for await (const line of this.rfile) await this.wfile.write(line);
  }
}

function v2Header(command: Command, address: IPv4ProxyAddress | IPv6ProxyAddress): Buffer {
  return Buffer.from(new V2ProxyProtocol(command, TransportProtocol.STREAM, address).build());
}

const v2Client = () =>
  v2Header(
    Command.PROXY,
    new IPv4ProxyAddress(
      IPv4Address.createFrom([198, 51, 100, 9]),
      40123,
      IPv4Address.createFrom([192, 0, 2, 1]),
      443,
    ),
  );

async function proxied(options: ConstructorParameters<typeof TCPServer>[2] = {}, host = '127.0.0.1') {
  const t = await startServer(new TCPServer([host, 0], WhoHandler, { proxyProtocol: true, ...options }));
  onTestFinished(() => t.close());
  return t;
}

/** Sends `parts` in separate writes and reads until two lines came back (or the server closed). */
async function talk(socket: net.Socket, parts: Array<string | Buffer>): Promise<string> {
  const reply = readUntil(socket, (received) => received.toString().split('\n').length > 2);
  for (const part of parts) {
    socket.write(part);
    // Each part its own TCP segment: the server must frame the header across reads.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return (await reply).toString();
}

describe('PROXY protocol on a stream listener', () => {
  it('v1: the handler sees the client the header names, the rest of the bytes intact', async () => {
    const t = await proxied();
    const socket = await t.connect();
    const reply = await talk(socket, ['PROXY TCP4 203.0.113.7 127.0.0.1 51000 80\r\nhello\n']);
    expect(reply).toBe('client 203.0.113.7 51000 via 127.0.0.1\nhello\n');
  });

  it('v1 split across reads, and TCP6', async () => {
    const t = await proxied();
    const socket = await t.connect();
    const reply = await talk(socket, ['PRO', 'XY TCP6 2001:db8::7 ::1 6', '0000 8080\r', '\nhi', '\n']);
    expect(reply).toBe('client 2001:db8::7 60000 via 127.0.0.1\nhi\n');
  });

  it('v2 over IPv4 and IPv6, split inside the header', async () => {
    const t = await proxied();
    const header = v2Client();
    const socket = await t.connect();
    const reply = await talk(socket, [
      header.subarray(0, 7),
      header.subarray(7, 15),
      header.subarray(15),
      'x\n',
    ]);
    expect(reply).toBe('client 198.51.100.9 40123 via 127.0.0.1\nx\n');

    const v6 = v2Header(
      Command.PROXY,
      new IPv6ProxyAddress(
        IPv6Address.createFrom([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42]),
        1234,
        IPv6Address.createFrom([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        80,
      ),
    );
    const second = await t.connect();
    expect(await talk(second, [Buffer.concat([v6, Buffer.from('y\n')])])).toBe(
      'client 2001:db8::42 1234 via 127.0.0.1\ny\n',
    );
  });

  it('v2 LOCAL and v1 UNKNOWN keep the connection’s own address (a proxy’s health check)', async () => {
    const t = await proxied();
    const local = v2Header(
      Command.LOCAL,
      new IPv4ProxyAddress(IPv4Address.createWithEmptyAddress(), 0, IPv4Address.createWithEmptyAddress(), 0),
    );
    const socket = await t.connect();
    const reply = await talk(socket, [Buffer.concat([local, Buffer.from('z\n')])]);
    expect(reply).toMatch(/^client 127\.0\.0\.1 \d+ via -\nz\n$/);
    const other = await t.connect();
    expect(await talk(other, ['PROXY UNKNOWN ffff::1 ffff::2 1 2\r\nw\n'])).toMatch(
      /^client 127\.0\.0\.1 \d+ via -\nw\n$/,
    );
  });

  it('a sender outside trustedProxies is closed without a byte, even with a valid header', async () => {
    const t = await proxied({ trustedProxies: ['10.0.0.0/8', 'fd00::/8'] });
    const refused = once((t.server as unknown as { listener: StreamListener }).listener, 'proxyRefused');
    const bytes = await t.exchange('PROXY TCP4 203.0.113.7 127.0.0.1 51000 80\r\nhello\n', { end: false });
    expect(bytes.length).toBe(0);
    const [info, reason] = (await refused) as [ConnectionInfo, string];
    expect(reason).toBe('untrusted');
    expect(info.remote.host).toBe('127.0.0.1');
  });

  it('no header, a broken header, or a header too long: closed without a byte', async () => {
    const t = await proxied();
    for (const input of [
      'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
      'PROXY TCP4 not-an-ip 127.0.0.1 1 2\r\n',
      'PROXY TCP4 2001:db8::1 127.0.0.1 1 2\r\n',
      `PROXY TCP4 ${'1'.repeat(120)}`,
      Buffer.concat([v2Client().subarray(0, 12), Buffer.from([0x11, 0x11, 0x00, 0x02, 0, 0])]),
    ]) {
      const bytes = await t.exchange(input, { end: false });
      expect(bytes.length, String(input)).toBe(0);
    }
  });

  it('a connection that sends no header within proxyHeaderTimeout is closed', async () => {
    const t = await proxied({ proxyHeaderTimeout: 50 });
    const socket = await t.connect();
    socket.write('PROXY TCP4 ');
    const started = performance.now();
    const bytes = await readAll(socket);
    expect(bytes.length).toBe(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(40);
  });

  it('dual-stack: an IPv4-mapped sender matches its IPv4 CIDR', async () => {
    let t: Awaited<ReturnType<typeof proxied>>;
    try {
      t = await proxied({ trustedProxies: ['127.0.0.1/32'], ipv6Only: false }, '::');
    } catch {
      return; // no IPv6 on this host
    }
    const socket = net.connect({ host: '127.0.0.1', port: t.port });
    t.track(socket);
    await once(socket, 'connect');
    const reply = await talk(socket, ['PROXY TCP4 203.0.113.8 127.0.0.1 5 80\r\nm\n']);
    expect(reply).toBe('client 203.0.113.8 5 via ::ffff:127.0.0.1\nm\n');
  });

  it('a Unix socket peer is trusted (the socket file mode says who may connect)', async () => {
    const path = `/tmp/srv-proxy-${process.pid}-${Date.now()}.sock`;
    const t = await startServer(new UnixStreamServer(path, WhoHandler, { proxyProtocol: true }));
    onTestFinished(() => t.close());
    const socket = await t.connect();
    expect(await talk(socket, ['PROXY TCP4 203.0.113.9 127.0.0.1 7 80\r\nu\n'])).toBe(
      'client 203.0.113.9 7 via \nu\n',
    );
  });

  it('a malformed trustedProxies entry or timeout is a coded error', async () => {
    for (const options of [
      { trustedProxies: ['10.0.0.0/33'] },
      { trustedProxies: ['example.com'] },
      { trustedProxies: ['10.0.0.0/8/1'] },
      { proxyHeaderTimeout: 0 },
    ]) {
      const server = new TCPServer(['127.0.0.1', 0], WhoHandler, { proxyProtocol: true, ...options });
      onTestFinished(() => server.close());
      const error = await server.ready.catch((e: unknown) => e);
      expect(isSrvError(error, 'SRV_ERR_INVALID_OPTION'), JSON.stringify(options)).toBe(true);
    }
  });
});

describe('PROXY header framing and parsing', () => {
  it('frames v1 and v2 only when complete', () => {
    const line = Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nrest');
    expect(frameProxyHeader(line.subarray(0, 3))).toBe(0);
    expect(frameProxyHeader(line)).toBe(line.indexOf('rest'));
    const v2 = v2Client();
    expect(frameProxyHeader(v2.subarray(0, 15))).toBe(0);
    expect(frameProxyHeader(v2.subarray(0, v2.length - 1))).toBe(0);
    expect(frameProxyHeader(Buffer.concat([v2, Buffer.from('abc')]))).toBe(v2.length);
    expect(frameProxyHeader(Buffer.from('GET / HTTP/1.1\r\n'))).toBe(-1);
    expect(frameProxyHeader(Buffer.from(`PROXY ${'x'.repeat(110)}`))).toBe(-1);
  });

  it('parses to addresses; rejects what the spec does not allow', () => {
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n'))).toEqual({
      version: 1,
      source: { family: 'IPv4', host: '1.2.3.4', port: 1 },
      destination: { family: 'IPv4', host: '5.6.7.8', port: 2 },
    });
    expect(parseProxyHeader(Buffer.from('PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n'))).toBeUndefined();
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n'))).toBeUndefined();
    expect(parseProxyHeader(Buffer.from('PROXY TCP9 1.2.3.4 5.6.7.8 1 2\r\n'))).toBeUndefined();
    expect(parseProxyHeader(v2Client())?.source).toEqual({
      family: 'IPv4',
      host: '198.51.100.9',
      port: 40123,
    });
  });

  it('unmaps IPv4-mapped IPv6 addresses only', () => {
    expect(unmapAddress('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(unmapAddress('::FFFF:127.0.0.1')).toBe('127.0.0.1');
    expect(unmapAddress('::1')).toBe('::1');
    expect(unmapAddress('2001:db8::ffff:1.2.3.4')).toBe('2001:db8::ffff:1.2.3.4');
  });
});
