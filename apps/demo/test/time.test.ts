import { once } from 'node:events';
import net from 'node:net';
import { describe, expect, test } from 'vitest';
import { exchange, startDemo } from './helpers.js';

const asctime =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d \d{4}\n$/;
const rfc822 =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000\n$/;

async function expectAnswers(port: number, host: string): Promise<void> {
  const before = Math.floor(Date.now() / 1000);
  const seconds = await exchange(port, 'seconds\r\n', host);
  expect(seconds).toMatch(/^\d+\n$/);
  expect(Number(seconds)).toBeGreaterThanOrEqual(before);
  expect(Number(seconds)).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
  expect(await exchange(port, 'asctime\n', host)).toMatch(asctime);
  expect(await exchange(port, 'rfc822\n', host)).toMatch(rfc822);
  const help = await exchange(port, 'what time is it?\n', host);
  expect(help).toContain('Unhandled request. Send a line with one of the following words:');
  expect(help).toContain('seconds -- seconds since the Unix Epoch');
}

describe("time and time6: the tutorial's time protocol over raw sockets", () => {
  test('time answers asctime, seconds, rfc822 and help, and logs each connection', async () => {
    const demo = await startDemo('time');
    expect(demo.stdout[0]).toMatch(
      /^Serving TIME on 0\.0\.0\.0 port \d+ \(tcp:\/\/0\.0\.0\.0:\d+\/\) \.\.\.$/,
    );
    await expectAnswers(demo.port, '127.0.0.1');
    await demo.lines(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] -- connected from:127\.0\.0\.1:\d+$/, 4);
    expect((await demo.stop()).code).toBe(0);
  });

  test('time6 answers over IPv6 only', async () => {
    const demo = await startDemo('time6');
    expect(demo.stdout[0]).toMatch(/^Serving TIME on :: port \d+ \(tcp:\/\/\[::\]:\d+\/\) \.\.\.$/);
    await expectAnswers(demo.port, '::1');
    await demo.lines(/-- connected from:\[::1\]:\d+$/, 4);
    // An IPv6-only socket takes no IPv4 clients: that is how it shares 8765 with the time server.
    const v4 = net.connect({ port: demo.port, host: '127.0.0.1' });
    const [error] = (await once(v4, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNREFUSED');
    expect((await demo.stop()).code).toBe(0);
  });
});
