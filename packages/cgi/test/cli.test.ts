import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseResponse, www } from './helpers.js';

// What `--version` must print: the version in this package's package.json (0.1.0 in the first release),
// so a release needs no edit here.
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const bin = fileURLToPath(new URL('../bin/srv-cgi.js', import.meta.url));

/** Spawns a command that serves, and resolves with its first stdout line (the banner) and the child. */
async function serve(args: readonly string[], cwd?: string) {
  // Without pnpm's NODE_PATH (the workspace's hoisted packages): a user's shell has none.
  const { NODE_PATH: _, ...env } = process.env;
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const banner = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before its banner: ${stderr}`)));
  });
  return { child, banner };
}

describe('srv-static --cgi', () => {
  it('runs scripts when the project it is started in has @srv/cgi installed', async () => {
    // A project whose node_modules holds @srv/cgi (this package): srv-static, which does not depend on
    // @srv/cgi, finds it from the current directory.
    const project = await mkdtemp(path.join(tmpdir(), 'srv-cgi-project-'));
    onTestFinished(() => rm(project, { recursive: true, force: true }));
    await writeFile(path.join(project, 'package.json'), '{ "private": true }\n');
    await mkdir(path.join(project, 'node_modules', '@srv'), { recursive: true });
    const cgiPackage = fileURLToPath(new URL('..', import.meta.url));
    await symlink(cgiPackage, path.join(project, 'node_modules', '@srv', 'cgi'), 'dir');
    const staticManifest = createRequire(import.meta.url).resolve('@srv/static/package.json');
    const staticBin = path.join(path.dirname(staticManifest), 'bin', 'srv-static.js');

    const { child, banner } = await serve(
      [staticBin, '0', '-b', '127.0.0.1', '-d', www, '--quiet', '--cgi'],
      project,
    );
    const port = / port (\d+) /.exec(banner)?.[1];
    expect(port).toBeDefined();
    const script = await fetch(`http://127.0.0.1:${port}/htbin/hello.sh`);
    expect(await script.text()).toBe('Hello World\n');
    const exited = once(child, 'close');
    child.kill('SIGTERM');
    expect((await exited)[0]).toBe(0);
  });
});

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

  async function runToEnd(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const [code] = (await once(child, 'close')) as [number];
    return { code, stdout, stderr };
  }

  it('a bad flag prints one line on stderr and exits 2', async () => {
    expect(await runToEnd(['--no-such-flag'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'srv-cgi: unknown option --no-such-flag (see --help)\n',
    });
  });

  it('--help describes srv-cgi, not srv-static, and offers no --cgi; --version prints the version', async () => {
    const help = await runToEnd(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(
      /^Usage: srv-cgi \[options\] \[port\]\n\nServe a directory over HTTP and run the CGI scripts/,
    );
    expect(help.stdout).not.toContain('--cgi');
    expect(help.stdout).not.toContain('srv-static');
    for (const flag of ['--version', '-v']) {
      expect(await runToEnd([flag])).toEqual({ code: 0, stdout: `srv-cgi ${version}\n`, stderr: '' });
    }
  });
});

describe('srv-cgi deployment flags', () => {
  it('--proxy-protocol --workers 2: REMOTE_ADDR and the access log are the header’s client; SIGTERM exits 0', async () => {
    const { child, banner } = await serve([
      bin,
      '--proxy-protocol',
      '--workers',
      '2',
      '-b',
      '127.0.0.1',
      '-d',
      www,
      '0',
    ]);
    const exited = once(child, 'exit');
    let stderr = '';
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const port = Number(/ port (\d+) /.exec(banner)?.[1]);
    const socket = net.connect(port, '127.0.0.1');
    onTestFinished(() => void socket.destroy());
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const closed = once(socket, 'close');
    socket.write(
      'PROXY TCP4 203.0.113.7 127.0.0.1 51000 80\r\n' +
        'GET /cgi-bin/env.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    await closed;
    const response = parseResponse(Buffer.concat(chunks));
    expect(response.status).toBe(200);
    const { env } = JSON.parse(response.body) as { env: Record<string, string> };
    expect(env).toMatchObject({ REMOTE_ADDR: '203.0.113.7', REMOTE_PORT: '51000' });
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(stderr).toMatch(/^203\.0\.113\.7 - - \[[^\]]+\] "GET \/cgi-bin\/env\.js HTTP\/1\.1" 200 -$/m);
  });
});
