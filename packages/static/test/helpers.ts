import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@srv/core';
import { startServer, type TestServer } from '@srv/core/testing';
import { HTTPServer, type HTTPServerOptions } from '@srv/http';
import { onTestFinished } from 'vitest';
import { type SimpleHTTPOptions, SimpleHTTPRequestHandler } from '../src/index.js';

/** A served tree beside a sibling whose name starts with the root's (the classic prefix-check bypass). */
export interface Fixture {
  /** The parent of everything (removed at the end). */
  readonly base: string;
  /** The served directory (`<base>/www`). */
  readonly root: string;
  /** `<base>/www-secret`, outside the root. */
  readonly secret: string;
}

export const secretText = 'TOP-SECRET-OUTSIDE-ROOT';

/** Builds the tree every behaviour test serves; removed when the test finishes. */
export async function createFixture(): Promise<Fixture> {
  const base = await realpath(await mkdtemp(join(tmpdir(), 'srv-static-')));
  onTestFinished(() => rm(base, { recursive: true, force: true }));
  const root = join(base, 'www');
  const secret = join(base, 'www-secret');
  await mkdir(join(root, 'sub', 'deeper'), { recursive: true });
  await mkdir(join(root, 'withindex'));
  await mkdir(join(root, '.git'));
  await mkdir(join(root, '.well-known'));
  await mkdir(join(root, 'app'));
  await mkdir(secret);
  await writeFile(join(secret, 'f'), secretText);
  await writeFile(join(base, 'x'), secretText);
  await writeFile(join(root, 'hello.txt'), 'hello world\n');
  await writeFile(join(root, 'digits.txt'), '0123456789');
  await writeFile(join(root, 'page.html'), '<p>page</p>');
  await writeFile(join(root, 'data.json'), '{"a":1}');
  await writeFile(join(root, 'noext'), 'plain bytes');
  await writeFile(join(root, 'a b&<c>.txt'), 'odd name');
  await writeFile(join(root, 'sub', 'f.txt'), 'in sub');
  await writeFile(join(root, 'withindex', 'index.html'), '<h1>index</h1>');
  await writeFile(join(root, '.env'), `SECRET=${secretText}`);
  await writeFile(join(root, '.git', 'config'), secretText);
  await writeFile(join(root, '.well-known', 'security.txt'), 'Contact: mailto:a@b.c');
  await writeFile(join(root, 'app', 'index.html'), '<h1>spa</h1>');
  await writeFile(join(root, 'index.html.br'), 'not used');
  await writeFile(join(root, 'script.js'), 'console.log(1);');
  await writeFile(join(root, 'script.js.br'), 'BROTLI-BYTES');
  await writeFile(join(root, 'script.js.gz'), 'GZIP-BYTES');
  await symlink(join(secret, 'f'), join(root, 'escape-link'));
  await symlink(secret, join(root, 'escape-dir'));
  await symlink(join(root, 'hello.txt'), join(root, 'inside-link'));
  await symlink(join(root, '.env'), join(root, 'dotfile-link'));
  return { base, root, secret };
}

/** Starts an HTTPServer on 127.0.0.1:0 with a configured handler; closed when the test finishes. */
export async function serve(
  options: SimpleHTTPOptions,
  Handler: typeof SimpleHTTPRequestHandler = SimpleHTTPRequestHandler,
  serverOptions: HTTPServerOptions = {},
): Promise<TestServer<HTTPServer>> {
  const server = new HTTPServer(['127.0.0.1', 0], Handler.withOptions(options), {
    quiet: true,
    logger: silentLogger,
    ...serverOptions,
  });
  const t = await startServer(server);
  onTestFinished(() => t.close());
  return t;
}

/** A parsed raw HTTP/1.1 response. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Map<string, string>;
  readonly body: Buffer;
  readonly text: string;
}

/** Parses one response (Content-Length framed, or until close). */
export function parseResponse(raw: Buffer): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end === -1 ? raw.length : end).toString('latin1');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  let body = end === -1 ? Buffer.alloc(0) : raw.subarray(end + 4);
  const length = headers.get('content-length');
  if (length !== undefined) body = body.subarray(0, Number(length));
  return { status: Number(statusLine.split(' ')[1]), headers, body, text: body.toString('utf8') };
}

/** Sends one request as raw bytes (the target is not normalised by any URL parser). */
export async function rawRequest(
  t: TestServer<HTTPServer>,
  target: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<RawResponse> {
  let head = `${method} ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  const raw = await t.exchange(Buffer.from(`${head}\r\n`, 'latin1'));
  return parseResponse(raw);
}

/** The built bin. */
export const bin = fileURLToPath(new URL('../bin/srv-static.js', import.meta.url));

export interface Running {
  readonly child: ChildProcess;
  readonly banner: string;
  readonly port: number;
  stdout(): string;
  stderr(): string;
  exit(): Promise<number | null>;
  /** The first `count` stdout lines, once they have come. */
  lines(count: number): Promise<string[]>;
}

/** Starts the built bin and waits for its banner (the first stdout line). */
export async function startCli(args: string[], cwd?: string): Promise<Running> {
  const child = spawn(process.execPath, [bin, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const banner = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf('\n');
      if (newline !== -1) resolve(stdout.slice(0, newline));
    });
    void exited.then((code) => reject(new Error(`exited ${code} before the banner: ${stderr}`)));
  });
  const port = Number(/ port (\d+) /.exec(banner)?.[1]);
  const lines = (count: number) =>
    new Promise<string[]>((resolve, reject) => {
      const check = () => {
        const all = stdout.split('\n');
        if (all.length > count) resolve(all.slice(0, count));
      };
      child.stdout!.on('data', check);
      check();
      void exited.then(() => reject(new Error(`exited before ${count} lines: ${stdout}`)));
    });
  return { child, banner, port, stdout: () => stdout, stderr: () => stderr, exit: () => exited, lines };
}
