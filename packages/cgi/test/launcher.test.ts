import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ScriptLauncher, sharedLauncher } from '../src/launcher.js';
import type { ScriptProcess } from '../src/process.js';
import { isAlive, rawRequest, startCgi, waitForExit, www } from './helpers.js';

async function parentOf(origin: string): Promise<number> {
  const response = await fetch(`${origin}/cgi-bin/ppid.sh`);
  expect(response.status).toBe(200);
  return Number((await response.text()).trim());
}

describe('the launcher process', () => {
  it('spawns every script (one launcher for the whole process); `direct` spawns from the server', async () => {
    const t = await startCgi({ launcher: 'helper' });
    const first = await parentOf(t.origin);
    expect(first).not.toBe(process.pid);
    expect(first).toBe(sharedLauncher().pid);
    expect(await parentOf(t.origin)).toBe(first);

    const direct = await startCgi({ launcher: 'direct' });
    expect(await parentOf(direct.origin)).toBe(process.pid);
  });

  it('relays a 3 MiB body to stdin and the output back, byte for byte, both ways with backpressure', async () => {
    const t = await startCgi({ launcher: 'helper' });
    const body = randomBytes(3 * 1024 * 1024);
    const response = await fetch(`${t.origin}/cgi-bin/cat.sh`, { method: 'POST', body });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await response.arrayBuffer()).equals(body)).toBe(true);
  });

  it('when the launcher dies, its running script is killed, the request fails with 502 and the next one starts a new launcher', async () => {
    const t = await startCgi({ launcher: 'helper' });
    const launcherPid = await parentOf(t.origin);
    const answer = rawRequest(t, 'GET /cgi-bin/slow.sh HTTP/1.1');
    const line = await t.waitForLine(/slow\.sh: pid \d+ ppid \d+/);
    const [, pid, ppid] = /pid (\d+) ppid (\d+)/.exec(line)!.map(Number);
    expect(ppid).toBe(launcherPid);

    process.kill(launcherPid, 'SIGKILL');
    const response = await answer;
    expect(response.status).toBe(502);
    await waitForExit(pid!);
    await t.waitForLine(/slow\.sh produced no output/);

    const next = await parentOf(t.origin);
    expect(next).not.toBe(launcherPid);
    expect(next).toBe(sharedLauncher().pid);
  });

  it('when the server process dies, the launcher stops its scripts and exits', async () => {
    const bin = fileURLToPath(new URL('../bin/srv-cgi.js', import.meta.url));
    const server = spawn(process.execPath, [bin, '0', '-b', '127.0.0.1', '-d', www], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onTestFinished(() => {
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
    });
    server.stdout.setEncoding('utf8');
    server.stderr.setEncoding('utf8');
    const [banner] = (await once(server.stdout, 'data')) as [string];
    const port = /port (\d+)/.exec(banner)![1];
    let stderr = '';
    const started = new Promise<string>((resolve) => {
      server.stderr.on('data', (chunk: string) => {
        stderr += chunk;
        const match = /slow\.sh: (pid \d+ ppid \d+)/.exec(stderr);
        if (match) resolve(match[1]!);
      });
    });
    const request = fetch(`http://127.0.0.1:${port}/cgi-bin/slow.sh`).catch((error: unknown) => error);
    const [, pid, launcherPid] = /pid (\d+) ppid (\d+)/.exec(await started)!.map(Number);
    expect(launcherPid).not.toBe(server.pid);
    expect(isAlive(launcherPid!)).toBe(true);

    server.kill('SIGKILL');
    expect(await request).toBeInstanceOf(Error);
    await waitForExit(pid!);
    await waitForExit(launcherPid!);
  });
});

describe('a launcher that cannot start', () => {
  const cases: Array<[string, URL]> = [
    ['its module is missing', new URL('./fixtures/no-such-launcher.mjs', import.meta.url)],
    ['it never says it is ready', new URL('./fixtures/silent-launcher.mjs', import.meta.url)],
  ];
  for (const [why, entry] of cases) {
    it(`${why}: scripts are spawned by the server itself, after one warning`, async () => {
      const launcher = new ScriptLauncher(entry, 300);
      onTestFinished(() => launcher.close());
      const warned = once(process, 'warning') as Promise<[Error & { code?: string }]>;
      const options = {
        command: path.join(www, 'cgi-bin', 'ppid.sh'),
        args: [],
        cwd: path.join(www, 'cgi-bin'),
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        killGrace: 1000,
        hasInput: false,
      };
      const run = async (script: ScriptProcess) => {
        const output = await text(script.stdout);
        await script.exited;
        return Number(output.split('\n')[2]);
      };
      expect(await run(await launcher.start(options))).toBe(process.pid);
      const [warning] = await warned;
      expect(warning.code).toBe('SRV_CGI_LAUNCHER_UNAVAILABLE');
      expect(launcher.pid).toBeUndefined();
      expect(await run(await launcher.start(options))).toBe(process.pid);
    });
  }
});
