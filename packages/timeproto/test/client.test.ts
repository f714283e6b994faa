import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import { isSrvError, silentLogger } from '@srv/core';
import { startServer } from '@srv/core/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  DaytimeDatagramHandler,
  DaytimeRequestHandler,
  HELP_TEXT,
  queryDaytime,
  queryRfc868,
  queryTime,
  Rfc868DatagramHandler,
  Rfc868RequestHandler,
  TimeServer,
  type TimeServerOptions,
  TimeUDPServer,
} from '../src/index.js';

const clock = new Date('2026-11-24T19:02:46.250Z');
const base: TimeServerOptions = { dispatcher: 'async', clock, logger: silentLogger };

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(isSrvError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
}

/** A TCP server that accepts and never answers; closed at the end of the test. */
async function silentTcp(): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(async () => {
    for (const socket of sockets) socket.destroy();
    server.close();
    await once(server, 'close');
  });
  return (server.address() as net.AddressInfo).port;
}

describe('queryTime', () => {
  it('asks over TCP (v4 and v6) and over UDP', async () => {
    const tcp = await startServer(new TimeServer(['::', 0], undefined, base));
    onTestFinished(() => tcp.close());
    const udp = await startServer(new TimeUDPServer(['127.0.0.1', 0], undefined, base));
    onTestFinished(() => udp.close());
    expect(await queryTime(`127.0.0.1:${tcp.port}`, 'asctime')).toBe('Tue Nov 24 19:02:46 2026');
    expect(await queryTime(['::1', tcp.port], 'rfc822')).toBe('Tue, 24 Nov 2026 19:02:46 +0000');
    expect(await queryTime({ host: 'localhost', port: tcp.port })).toBe('1795546966');
    expect(await queryTime(tcp.port, 'nonsense')).toBe(HELP_TEXT.slice(0, -1));
    expect(await queryTime(`127.0.0.1:${udp.port}`, 'seconds', { transport: 'udp' })).toBe('1795546966');
    expect(await queryTime(`localhost:${udp.port}`, 'asctime', { transport: 'udp' })).toBe(
      'Tue Nov 24 19:02:46 2026',
    );
  });

  it('works against an interactive server (the query half-closes)', async () => {
    const t = await startServer(new TimeServer(['127.0.0.1', 0], undefined, { ...base, interactive: true }));
    onTestFinished(() => t.close());
    expect(await queryTime(`127.0.0.1:${t.port}`, 'seconds')).toBe('1795546966');
  });

  it('fails with SRV_ERR_TIME_CONNECT_FAILED when nobody listens', async () => {
    // Take a port that was just free, then free it again: nobody listens there now.
    const probe = net.createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const closedPort = (probe.address() as net.AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    await expectCode(queryTime(`127.0.0.1:${closedPort}`), 'SRV_ERR_TIME_CONNECT_FAILED');
    await expectCode(
      queryTime(`127.0.0.1:${closedPort}`, 'seconds', { transport: 'udp' }),
      'SRV_ERR_TIME_CONNECT_FAILED',
    );
  });

  it('fails with SRV_ERR_TIME_QUERY_TIMEOUT when the server stays silent', async () => {
    const port = await silentTcp();
    const started = Date.now();
    await expectCode(
      queryTime(`127.0.0.1:${port}`, 'seconds', { timeout: 150 }),
      'SRV_ERR_TIME_QUERY_TIMEOUT',
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    const mute = dgram.createSocket('udp4');
    mute.bind(0, '127.0.0.1');
    await once(mute, 'listening');
    onTestFinished(() => {
      mute.close();
    });
    await expectCode(
      queryTime(`127.0.0.1:${mute.address().port}`, 'seconds', { transport: 'udp', timeout: 150 }),
      'SRV_ERR_TIME_QUERY_TIMEOUT',
    );
  });

  it('rejects bad arguments with core codes before sending anything', async () => {
    await expectCode(queryTime('127.0.0.1:8765', 'sec\nonds'), 'SRV_ERR_INVALID_OPTION');
    await expectCode(queryTime('no port here'), 'SRV_ERR_INVALID_ADDRESS');
    await expectCode(queryTime({ path: '/tmp/x' } as never), 'SRV_ERR_INVALID_OPTION');
    await expectCode(queryTime('127.0.0.1:8765', 'seconds', { timeout: 0 }), 'SRV_ERR_INVALID_OPTION');
    await expectCode(
      queryTime('127.0.0.1:8765', 'seconds', { transport: 'sctp' as never }),
      'SRV_ERR_INVALID_OPTION',
    );
  });

  it('stops when its signal aborts', async () => {
    const port = await silentTcp();
    const controller = new AbortController();
    const pending = queryTime(`127.0.0.1:${port}`, 'seconds', { signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
  });
});

describe('queryDaytime and queryRfc868', () => {
  it('read RFC 867 and RFC 868 servers over TCP and UDP', async () => {
    const start = async (server: TimeServer | TimeUDPServer) => {
      const t = await startServer(server);
      onTestFinished(() => t.close());
      return t;
    };
    const daytimeTcp = await start(new TimeServer(['127.0.0.1', 0], DaytimeRequestHandler, base));
    const daytimeUdp = await start(new TimeUDPServer(['127.0.0.1', 0], DaytimeDatagramHandler, base));
    const timeTcp = await start(new TimeServer(['127.0.0.1', 0], Rfc868RequestHandler, base));
    const timeUdp = await start(new TimeUDPServer(['::1', 0], Rfc868DatagramHandler, base));
    expect(await queryDaytime(daytimeTcp.port)).toBe('Tue Nov 24 19:02:46 2026');
    expect(await queryDaytime(['127.0.0.1', daytimeUdp.port], { transport: 'udp' })).toBe(
      'Tue Nov 24 19:02:46 2026',
    );
    expect(await queryRfc868(timeTcp.port)).toEqual(new Date('2026-11-24T19:02:46Z'));
    expect(await queryRfc868(`[::1]:${timeUdp.port}`, { transport: 'udp' })).toEqual(
      new Date('2026-11-24T19:02:46Z'),
    );
  });

  it('fail with SRV_ERR_TIME_BAD_REPLY on a reply of the wrong shape', async () => {
    const line = await startServer(new TimeServer(['127.0.0.1', 0], undefined, base));
    onTestFinished(() => line.close());
    // The line server reads nothing but an empty line from an RFC 868 client and answers with help.
    await expectCode(queryRfc868(line.port), 'SRV_ERR_TIME_BAD_REPLY');
    await expectCode(queryTime(line.port, 'x', { maxReplyLength: 10 }), 'SRV_ERR_TIME_BAD_REPLY');
    const empty = await startServer(new TimeServer(['127.0.0.1', 0], (socket) => socket.end(), base));
    onTestFinished(() => empty.close());
    await expectCode(queryDaytime(empty.port), 'SRV_ERR_TIME_BAD_REPLY');
  });
});
