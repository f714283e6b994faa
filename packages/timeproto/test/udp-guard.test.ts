import dgram from 'node:dgram';
import { once } from 'node:events';
import type { DatagramInfo, Logger } from '@srv/core';
import { startServer } from '@srv/core/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  DaytimeDatagramHandler,
  Rfc868DatagramHandler,
  TimeDatagramHandler,
  TimeUDPServer,
} from '../src/index.js';

const clock = new Date('2026-11-24T19:02:46.250Z');

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (fields: object | string, message?: string) => {
    lines.push(typeof fields === 'string' ? fields : (message ?? ''));
  };
  return { lines, info: log, warn: log, error: log };
}

type DatagramHandlerClass =
  | typeof TimeDatagramHandler
  | typeof DaytimeDatagramHandler
  | typeof Rfc868DatagramHandler;

async function startUdp(
  Handler: DatagramHandlerClass = TimeDatagramHandler,
  options: { udpRate?: number } = {},
) {
  const logger = recordingLogger();
  const t = await startServer(
    new TimeUDPServer(['127.0.0.1', 0], Handler, { dispatcher: 'async', clock, logger, ...options }),
  );
  onTestFinished(() => t.close());
  /** Hands the server a datagram claiming to come from `host:port`; resolves with the replies sent. */
  const inject = async (data: string, host: string, port: number): Promise<string[]> => {
    const replies: string[] = [];
    const info: DatagramInfo = {
      local: t.server.address,
      remote: { family: 'IPv4', host, port },
      reply: async (payload) => {
        replies.push(Buffer.from(payload).toString('latin1'));
      },
    };
    await t.server.attachDatagram(Buffer.from(data), info);
    return replies;
  };
  return { ...t, inject, log: logger.lines };
}

describe('UDP loops and amplification (CVE-2024-2169)', () => {
  it.each([
    ['line', TimeDatagramHandler, 'seconds'],
    ['daytime', DaytimeDatagramHandler, ''],
    ['time', Rfc868DatagramHandler, ''],
  ] as const)(
    '%s: no answer to a datagram from the server’s own port or a port below 1024',
    async (_name, Handler, word) => {
      const t = await startUdp(Handler);
      expect(await t.inject(word, '127.0.0.1', t.port)).toEqual([]);
      expect(await t.inject(word, '192.0.2.7', 7)).toEqual([]);
      expect(await t.inject(word, '192.0.2.7', 53)).toEqual([]);
      expect(await t.inject(word, '192.0.2.7', 40000)).toHaveLength(1);
      expect(t.log.filter((line) => line.includes('dropped'))).toHaveLength(2);
    },
  );

  it('line service: an unknown word, an empty or 1-byte datagram gets no answer over UDP', async () => {
    const t = await startUdp();
    expect(await t.inject('', '192.0.2.7', 40000)).toEqual([]);
    expect(await t.inject('x', '192.0.2.7', 40000)).toEqual([]);
    expect(await t.inject('help me', '192.0.2.7', 40000)).toEqual([]);
    expect(await t.inject('SECONDS\n', '192.0.2.7', 40000)).toEqual(['1795546966\n']);
  });

  it('daytime and time answer an empty datagram (RFC 867/868 need it)', async () => {
    const daytime = await startUdp(DaytimeDatagramHandler);
    expect(await daytime.inject('', '192.0.2.7', 40000)).toHaveLength(1);
    const time = await startUdp(Rfc868DatagramHandler);
    expect((await time.inject('', '192.0.2.7', 40000))[0]).toHaveLength(4);
  });

  it('answers one source 40 at once and then 20 a second (--udp-rate), logging the drops once', async () => {
    const t = await startUdp();
    let answered = 0;
    for (let index = 0; index < 200; index += 1)
      answered += (await t.inject('seconds', '192.0.2.9', 40000)).length;
    // The test runs in well under a second: the burst plus what refilled meanwhile.
    expect(answered).toBeGreaterThanOrEqual(40);
    expect(answered).toBeLessThan(60);
    expect(await t.inject('seconds', '192.0.2.10', 40000)).toHaveLength(1);
    const drops = t.log.filter((line) => line.includes('dropped'));
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatch(/-- dropped 1 datagram from 192\.0\.2\.9 \(over 20\/s\)$/);
  });

  it('udpRate sets the rate over the wire too; a real client on a high port is answered', async () => {
    const t = await startUdp(TimeDatagramHandler, { udpRate: 1 });
    const client = t.track(dgram.createSocket('udp4'));
    client.bind(0, '127.0.0.1');
    await once(client, 'listening');
    const replies: string[] = [];
    let got: (() => void) | undefined;
    client.on('message', (message) => {
      replies.push(message.toString());
      got?.();
    });
    const twoReplies = new Promise<void>((resolve) => {
      got = () => {
        if (replies.length === 2) resolve();
      };
    });
    for (let index = 0; index < 5; index += 1) client.send('seconds', t.port, '127.0.0.1');
    await twoReplies;
    // Burst 2 at rate 1: the other three are dropped, and said so once.
    const dropped = new Promise<void>((resolve) => {
      const check = () => (t.log.some((line) => line.includes('dropped')) ? resolve() : setImmediate(check));
      check();
    });
    await dropped;
    expect(replies).toEqual(['1795546966\n', '1795546966\n']);
  });
});
