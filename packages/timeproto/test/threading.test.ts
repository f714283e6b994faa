import { silentLogger } from '@srv/core';
import { sendDatagram, startServer } from '@srv/core/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import type * as Api from '../src/index.js';

// Worker threads load handlers from built JavaScript, so this file uses the build (turbo builds first).
// A computed specifier keeps `tsc` from requiring dist/ when it type-checks before the build.
const built = new URL('../dist/index.js', import.meta.url).href;
const { HELP_TEXT, TimeRequestHandler, TimeServer, TimeServer6, TimeUDPServer } = (await import(
  built
)) as typeof Api;

const clock = new Date('2026-11-24T19:02:46.250Z');

describe('the tutorial shape: ThreadingMixIn servers', () => {
  it('TimeServer handles connections in worker threads with the fixed clock and options', async () => {
    const server = new TimeServer(['127.0.0.1', 0], TimeRequestHandler, {
      clock,
      maxLineLength: 32,
      logger: silentLogger,
    });
    expect(server.dispatcher.name).toBe('threading');
    const t = await startServer(server);
    onTestFinished(() => t.close());
    const replies = await Promise.all([
      t.exchange('asctime\n'),
      t.exchange('seconds\r\n'),
      t.exchange('RFC822\n'),
      t.exchange('other\n'),
      t.exchange(`${'x'.repeat(64)}\n`),
    ]);
    expect(replies.map(String)).toEqual([
      'Tue Nov 24 19:02:46 2026\n',
      '1795546966\n',
      'Tue, 24 Nov 2026 19:02:46 +0000\n',
      HELP_TEXT,
      'error: request line longer than 32 bytes\n',
    ]);
  });

  it('answers 200 concurrent clients from the thread pool', async () => {
    const t = await startServer(new TimeServer(['127.0.0.1', 0], undefined, { clock, logger: silentLogger }));
    onTestFinished(() => t.close());
    const answers = await Promise.all(Array.from({ length: 200 }, () => t.exchange('seconds\n')));
    expect(answers.map(String)).toEqual(Array.from({ length: 200 }, () => '1795546966\n'));
  });

  it("relays the worker's connection log line to the primary's logger", async () => {
    let logged!: (line: string) => void;
    const line = new Promise<string>((resolve) => {
      logged = resolve;
    });
    const logger = { ...silentLogger, info: (message: object | string) => logged(String(message)) };
    const t = await startServer(new TimeServer(['127.0.0.1', 0], TimeRequestHandler, { clock, logger }));
    onTestFinished(() => t.close());
    const socket = await t.connect();
    socket.write('seconds\n');
    expect(await line).toBe(`[2026-11-24 19:02:46] -- connected from:127.0.0.1:${socket.localPort}`);
  });

  it('TimeServer6 and TimeUDPServer thread too', async () => {
    const v6 = await startServer(new TimeServer6(['::1', 0], undefined, { clock, logger: silentLogger }));
    onTestFinished(() => v6.close());
    expect((await v6.exchange('seconds\n')).toString()).toBe('1795546966\n');
    const udp = new TimeUDPServer(['127.0.0.1', 0], undefined, { clock, logger: silentLogger });
    expect(udp.dispatcher.name).toBe('threading');
    const u = await startServer(udp);
    onTestFinished(() => u.close());
    expect((await sendDatagram({ host: u.host, port: u.port }, 'asctime')).toString()).toBe(
      'Tue Nov 24 19:02:46 2026\n',
    );
  });
});
