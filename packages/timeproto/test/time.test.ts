import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import type { Logger } from '@srv/core';
import { silentLogger } from '@srv/core';
import { readAll, readUntil, sendDatagram, startServer } from '@srv/core/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  DaytimeDatagramHandler,
  DaytimeRequestHandler,
  decodeRfc868,
  HELP_TEXT,
  Rfc868DatagramHandler,
  Rfc868RequestHandler,
  TimeRequestHandler,
  TimeServer,
  TimeServer6,
  type TimeServerOptions,
  TimeUDPServer,
} from '../src/index.js';

const clock = new Date('2026-11-24T19:02:46.250Z');
const replies = {
  asctime: 'Tue Nov 24 19:02:46 2026\n',
  seconds: '1795546966\n',
  rfc822: 'Tue, 24 Nov 2026 19:02:46 +0000\n',
} as const;
const words = Object.keys(replies) as Array<keyof typeof replies>;

const base: TimeServerOptions = { dispatcher: 'async', clock, logger: silentLogger };

async function startTcp(host: string, options: TimeServerOptions = {}) {
  const t = await startServer(new TimeServer([host, 0], TimeRequestHandler, { ...base, ...options }));
  onTestFinished(() => t.close());
  return t;
}

function capture(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (fieldsOrMessage: object | string, message?: string) =>
    lines.push(typeof fieldsOrMessage === 'string' ? fieldsOrMessage : (message ?? ''));
  return { lines, info: push, warn: push, error: push };
}

describe.each([
  ['IPv4', '127.0.0.1'],
  ['IPv6', '::1'],
])('the line protocol over TCP (%s)', (_family, host) => {
  it.each(words)('answers %s with the exact time and closes', async (word) => {
    const t = await startTcp(host);
    expect((await t.exchange(`${word}\n`)).toString()).toBe(replies[word]);
  });

  it('answers any other word with the help text', async () => {
    const t = await startTcp(host);
    expect((await t.exchange('what time is it\n')).toString()).toBe(HELP_TEXT);
  });
});

describe('the line protocol over TCP', () => {
  it('accepts CRLF, surrounding whitespace and any case', async () => {
    const t = await startTcp('127.0.0.1');
    expect((await t.exchange('  SeCoNdS \r\n')).toString()).toBe(replies.seconds);
    expect((await t.exchange('RFC822\r\n')).toString()).toBe(replies.rfc822);
  });

  it('answers a word sent without a newline once the client half-closes', async () => {
    const t = await startTcp('127.0.0.1');
    expect((await t.exchange('asctime', { end: true })).toString()).toBe(replies.asctime);
  });

  it('answers a line longer than the limit with an error line and closes', async () => {
    const t = await startTcp('127.0.0.1');
    const reply = await t.exchange(`${'x'.repeat(5000)}\n`);
    expect(reply.toString()).toBe('error: request line longer than 1024 bytes\n');
    const small = await startTcp('127.0.0.1', { maxLineLength: 16 });
    expect((await small.exchange('seconds\n')).toString()).toBe(replies.seconds);
    expect((await small.exchange(`${'y'.repeat(16)}\n`)).toString()).toBe(
      'error: request line longer than 16 bytes\n',
    );
  });

  it('closes a connection that stays silent past the idle timeout', async () => {
    const t = await startTcp('127.0.0.1', { idleTimeout: 150 });
    const socket = await t.connect();
    const started = Date.now();
    expect((await readAll(socket)).length).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });

  it('answers line after line in interactive mode until quit', async () => {
    const t = await startTcp('127.0.0.1', { interactive: true });
    const socket = await t.connect();
    socket.write('seconds\r\n');
    expect((await readUntil(socket, (b) => b.includes(0x0a))).toString()).toBe(replies.seconds);
    socket.write('\r\nasctime\nbogus\n');
    const more = await readUntil(socket, (b) => b.toString().endsWith(HELP_TEXT));
    expect(more.toString()).toBe(replies.asctime + HELP_TEXT);
    const rest = readAll(socket);
    socket.write('QUIT\r\n');
    expect((await rest).length).toBe(0);
  });

  it('ends an interactive session at end of input', async () => {
    const t = await startTcp('127.0.0.1', { interactive: true });
    expect((await t.exchange('rfc822\nseconds\n', { end: true })).toString()).toBe(
      replies.rfc822 + replies.seconds,
    );
  });

  it('logs each connection as the tutorial does', async () => {
    const logger = capture();
    const t = await startTcp('127.0.0.1', { logger });
    const socket = await t.connect();
    const port = socket.localPort;
    socket.write('seconds\n');
    await readAll(socket);
    expect(logger.lines).toEqual([`[2026-11-24 19:02:46] -- connected from:127.0.0.1:${port}`]);
  });

  it('logs IPv4 clients of a dual-stack socket without the mapped prefix', async () => {
    const logger = capture();
    const t = await startTcp('::', { logger });
    const socket = net.connect({ host: '127.0.0.1', port: t.port });
    t.track(socket);
    await once(socket, 'connect');
    const port = socket.localPort;
    socket.write('seconds\n');
    expect((await readAll(socket)).toString()).toBe(replies.seconds);
    expect(logger.lines).toEqual([`[2026-11-24 19:02:46] -- connected from:127.0.0.1:${port}`]);
  });

  it('answers 200 concurrent clients', async () => {
    const t = await startTcp('127.0.0.1');
    const answers = await Promise.all(Array.from({ length: 200 }, () => t.exchange('seconds\n')));
    expect(answers.map(String)).toEqual(Array.from({ length: 200 }, () => replies.seconds));
  });

  it('reuses the address and shares a port between IPv4 and an IPv6-only server (rows 8 and 9)', async () => {
    const v4 = await startTcp('0.0.0.0');
    const v6 = await startServer(new TimeServer6(['', v4.port], TimeRequestHandler, base));
    onTestFinished(() => v6.close());
    expect(TimeServer.allowReuseAddress).toBe(true);
    expect(v6.address).toEqual({ family: 'IPv6', host: '::', port: v4.port });
    expect((await v4.exchange('seconds\n')).toString()).toBe(replies.seconds);
    expect((await v6.exchange('rfc822\n')).toString()).toBe(replies.rfc822);
  });

  it('TimeServer6 takes no IPv4 clients', async () => {
    const t = await startServer(new TimeServer6(['', 0], TimeRequestHandler, base));
    onTestFinished(() => t.close());
    const socket = net.connect({ host: '127.0.0.1', port: t.port });
    t.track(socket);
    const [error] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('takes its settings from static fields of a handler subclass', async () => {
    class Frozen extends TimeRequestHandler {
      static override clock = new Date('2026-11-04T07:08:09Z');
      static override logConnections = false;
    }
    const t = await startServer(
      new TimeServer(['127.0.0.1', 0], Frozen, { dispatcher: 'async', logger: silentLogger }),
    );
    onTestFinished(() => t.close());
    expect((await t.exchange('asctime\n')).toString()).toBe('Wed Nov  4 07:08:09 2026\n');
  });
});

describe('the line protocol over UDP', () => {
  it.each([
    ['IPv4', '127.0.0.1'],
    ['IPv6', '::1'],
  ])('answers each word in one datagram (%s)', async (_family, host) => {
    const t = await startServer(new TimeUDPServer([host, 0], undefined, base));
    onTestFinished(() => t.close());
    for (const word of words) {
      expect((await sendDatagram({ host, port: t.port }, word)).toString()).toBe(replies[word]);
    }
    expect((await sendDatagram({ host, port: t.port }, 'Seconds\r\n')).toString()).toBe(replies.seconds);
    // An unknown word gets no answer over UDP (the help text would be an amplifier): the first reply
    // to 'help' then 'seconds' on one socket is the seconds line.
    const client = t.track(dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4'));
    const firstReply = once(client, 'message');
    client.send('help', t.port, host);
    client.send('seconds', t.port, host);
    expect(String((await firstReply)[0])).toBe(replies.seconds);
    expect((await sendDatagram({ host, port: t.port }, 'z'.repeat(2000))).toString()).toBe(
      'error: request line longer than 1024 bytes\n',
    );
  });
});

describe('RFC 867 daytime and RFC 868 time', () => {
  it('daytime over TCP sends the line and closes without waiting for input', async () => {
    const t = await startServer(new TimeServer(['127.0.0.1', 0], DaytimeRequestHandler, base));
    onTestFinished(() => t.close());
    const socket = await t.connect();
    expect((await readAll(socket)).toString()).toBe('Tue Nov 24 19:02:46 2026\r\n');
  });

  it('daytime over UDP answers any datagram', async () => {
    const t = await startServer(new TimeUDPServer(['127.0.0.1', 0], DaytimeDatagramHandler, base));
    onTestFinished(() => t.close());
    expect((await sendDatagram({ host: t.host, port: t.port }, 'anything')).toString()).toBe(
      'Tue Nov 24 19:02:46 2026\r\n',
    );
  });

  it('time over TCP sends 4 bytes that decode to the clock', async () => {
    const t = await startServer(new TimeServer(['::1', 0], Rfc868RequestHandler, base));
    onTestFinished(() => t.close());
    const reply = await readAll(await t.connect());
    expect(reply).toEqual(Buffer.from([0xee, 0xb0, 0x5d, 0xd6]));
    expect(decodeRfc868(reply)).toEqual(new Date('2026-11-24T19:02:46Z'));
  });

  it('time over UDP answers an empty datagram', async () => {
    const t = await startServer(new TimeUDPServer(['127.0.0.1', 0], Rfc868DatagramHandler, base));
    onTestFinished(() => t.close());
    const reply = await sendDatagram({ host: t.host, port: t.port }, Buffer.alloc(0));
    expect(decodeRfc868(reply)).toEqual(new Date('2026-11-24T19:02:46Z'));
  });
});
