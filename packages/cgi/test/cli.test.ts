import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { www } from './helpers.js';

const bin = fileURLToPath(new URL('../bin/srv-cgi.js', import.meta.url));

describe('srv-cgi', () => {
  it('serves scripts and files, prints the banner with the real port, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [bin, '0', '-b', '127.0.0.1', '-d', www, '--quiet'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    const banner = new Promise<string>((resolve) => {
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!);
      });
    });
    const line = await banner;
    const match = /^Serving HTTP on 127\.0\.0\.1 port (\d+) \(http:\/\/127\.0\.0\.1:\1\/\) \.\.\.$/.exec(
      line,
    );
    expect(match).not.toBeNull();
    const origin = `http://127.0.0.1:${match![1]}`;
    const script = await fetch(`${origin}/htbin/hello.sh`);
    expect(script.status).toBe(200);
    expect(await script.text()).toBe('Hello World\n');
    expect(await (await fetch(`${origin}/hello.txt`)).text()).toBe('hello static\n');
    const exited = once(child, 'close');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
  });

  it('a bad flag prints usage on stderr and exits 2', async () => {
    const child = spawn(process.execPath, [bin, '--no-such-flag'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const [code] = await once(child, 'close');
    expect(code).toBe(2);
    expect(stderr).toContain('Usage: srv-cgi');
  });
});
