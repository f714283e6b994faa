import { once } from 'node:events';
import net from 'node:net';
import { describe, expect, onTestFinished, test } from 'vitest';
import { descendantsOf, exchange, expectGone, runDemo } from './helpers.js';

// `srv-demo all` binds fixed ports; a developer's running demo would hold them.
const fixedPorts: Array<[host: string, port: number]> = [
  ['0.0.0.0', 6789],
  ['0.0.0.0', 7890],
  ['0.0.0.0', 7891],
  ['0.0.0.0', 7892],
  ['0.0.0.0', 9876],
  ['0.0.0.0', 9877],
  ['0.0.0.0', 9878],
  ['0.0.0.0', 8765],
  ['::', 8765],
];

async function isFree(host: string, port: number): Promise<boolean> {
  const probe = net.createServer();
  probe.listen({ host, port, ipv6Only: host === '::', exclusive: true });
  const [event] = await Promise.race([
    once(probe, 'listening').then(() => ['listening']),
    once(probe, 'error'),
  ]);
  if (event === 'listening') await new Promise((resolve) => probe.close(resolve));
  return event === 'listening';
}

async function requireFixedPortsFree(): Promise<void> {
  const busy: string[] = [];
  for (const [host, port] of fixedPorts) if (!(await isFree(host, port))) busy.push(`${host}:${port}`);
  if (busy.length > 0) {
    throw new Error(
      `srv-demo all needs ports ${busy.join(', ')}, which are in use (a running \`pnpm demo\`?): stop it and rerun`,
    );
  }
}

describe('srv-demo all', () => {
  test('starts all nine on their fixed ports; SIGINT stops them, exit 0, nothing left running', async () => {
    await requireFixedPortsFree();
    const demo = runDemo(['all']);
    await demo.line(/^Press Ctrl-C to stop\.$/);
    const banners = demo.stdout.filter((line) => line.startsWith('Serving '));
    expect(banners).toEqual([
      'Serving HTTP on 0.0.0.0 port 6789 (http://0.0.0.0:6789/) ...',
      'Serving HTTP on 0.0.0.0 port 7890 (http://0.0.0.0:7890/) ...',
      'Serving HTTP on 0.0.0.0 port 7891 (http://0.0.0.0:7891/) ...',
      'Serving HTTP on 0.0.0.0 port 7892 (http://0.0.0.0:7892/) ...',
      'Serving HTTP on 0.0.0.0 port 9876 (http://0.0.0.0:9876/) ...',
      'Serving HTTP on 0.0.0.0 port 9877 (http://0.0.0.0:9877/) ...',
      'Serving HTTP on 0.0.0.0 port 9878 (http://0.0.0.0:9878/) ...',
      'Serving TIME on 0.0.0.0 port 8765 (tcp://0.0.0.0:8765/) ...',
      'Serving TIME on :: port 8765 (tcp://[::]:8765/) ...',
    ]);
    const table = demo.stdout.join('\n');
    for (const url of ['http://localhost:6789/', 'http://localhost:9878/', 'tcp://[::1]:8765']) {
      expect(table).toContain(url);
    }
    expect(await (await fetch('http://127.0.0.1:6789/')).text()).toContain('Hello World');
    expect((await fetch('http://127.0.0.1:7892/stats.html')).status).toBe(200);
    expect((await fetch('http://127.0.0.1:9878/cgi-bin/hello.sh')).status).toBe(200);
    expect(await exchange(8765, 'seconds\n', '127.0.0.1')).toMatch(/^\d+\n$/);
    expect(await exchange(8765, 'seconds\n', '::1')).toMatch(/^\d+\n$/);

    const children = descendantsOf(demo.pid);
    expect(children.length).toBeGreaterThan(0);
    const exit = await demo.stop('SIGINT');
    expect(exit).toEqual({ code: 0, signal: null });
    await expectGone(children);
    for (const [host, port] of fixedPorts) expect(await isFree(host, port)).toBe(true);
  });

  test('a busy port: "srv-demo: <name>: <host>:<port> is already in use", exit 1, nothing left running', async () => {
    await requireFixedPortsFree();
    const blocker = net.createServer();
    blocker.listen({ host: '0.0.0.0', port: 9878 });
    await once(blocker, 'listening');
    onTestFinished(() => {
      blocker.close();
    });
    const demo = runDemo(['all']);
    const seen = new Set<number>();
    const watch = setInterval(() => {
      for (const pid of descendantsOf(demo.pid)) seen.add(pid);
    }, 20);
    onTestFinished(() => clearInterval(watch));
    const exit = await demo.exit;
    clearInterval(watch);
    expect(exit.code).toBe(1);
    expect(demo.stderr()).toContain(
      'srv-demo: cgi: 0.0.0.0:9878 is already in use (another server there?)\n',
    );
    expect(demo.stdout.filter((line) => line.startsWith('Serving '))).toEqual([]);
    await expectGone([...seen]);
    for (const [host, port] of fixedPorts.filter(([, port]) => port !== 9878)) {
      expect(await isFree(host, port)).toBe(true);
    }
  });
});
