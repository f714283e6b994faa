/**
 * The bins under test, started as a user starts them (`node <bin> … 0`), with the port read from the
 * banner's first line; and the one request that tells each is still serving.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { treeMemory } from '../src/proc.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** How the suite talks to a target. */
export type TargetKind = 'http' | 'time-tcp' | 'time-udp';

export interface TargetSpec {
  readonly name: string;
  readonly kind: TargetKind;
  /** Speaks HTTP/1.1 with keep-alive (srv-demo's tutorial servers speak HTTP/1.0). */
  readonly keepAlive: boolean;
  /** Serves the fixture directory (files, ranges, traversal cases apply). */
  readonly files: boolean;
  /** Runs the fixture's CGI scripts. */
  readonly cgi: boolean;
  /** A path that answers 200. */
  readonly healthPath: string;
  readonly bin: string;
  readonly args: (directory: string) => string[];
}

const bins = {
  static: path.join(root, 'packages/static/bin/srv-static.js'),
  cgi: path.join(root, 'packages/cgi/bin/srv-cgi.js'),
  time: path.join(root, 'packages/timeproto/bin/srv-time.js'),
  demo: path.join(root, 'apps/demo/bin/srv-demo.js'),
};

const staticFlags = (directory: string) => ['0', '-b', '127.0.0.1', '-d', directory, '--quiet'];

export const targetSpecs: readonly TargetSpec[] = [
  {
    name: 'srv-static',
    kind: 'http',
    keepAlive: true,
    files: true,
    cgi: false,
    healthPath: '/a.txt',
    bin: bins.static,
    // A short send timeout, so the suite sees a client that stops reading cut off in seconds.
    args: (directory) => [...staticFlags(directory), '--send-timeout', '2'],
  },
  {
    name: 'srv-static --cgi',
    kind: 'http',
    keepAlive: true,
    files: true,
    cgi: true,
    healthPath: '/a.txt',
    bin: bins.static,
    args: (directory) => [...staticFlags(directory), '--cgi'],
  },
  {
    name: 'srv-cgi',
    kind: 'http',
    keepAlive: true,
    files: true,
    cgi: true,
    healthPath: '/a.txt',
    bin: bins.cgi,
    args: staticFlags,
  },
  ...(['pages', 'threading', 'forking'] as const).map(
    (name): TargetSpec => ({
      name: `srv-demo ${name}`,
      kind: 'http',
      keepAlive: false,
      files: false,
      cgi: false,
      healthPath: '/',
      bin: bins.demo,
      args: () => [name, '--port', '0', '--bind', '127.0.0.1'],
    }),
  ),
  {
    name: 'srv-time serve',
    kind: 'time-tcp',
    keepAlive: false,
    files: false,
    cgi: false,
    healthPath: '',
    bin: bins.time,
    args: () => ['serve', '0', '-b', '127.0.0.1', '--quiet'],
  },
  {
    name: 'srv-time serve --udp',
    kind: 'time-udp',
    keepAlive: false,
    files: false,
    cgi: false,
    healthPath: '',
    bin: bins.time,
    args: () => ['serve', '0', '-b', '127.0.0.1', '--udp', '--quiet'],
  },
];

/** A running bin. */
export interface Target {
  readonly spec: TargetSpec;
  port: number;
  child: ChildProcess;
  /** Times it had to be started again because it died or stopped answering. */
  restarts: number;
  /** The last lines of its stderr (for reports). */
  stderrTail(): string;
  /** Lines of stderr so far (log-flood checks). */
  stderrLines(): number;
  /** Lines of stderr so far that are part of a stack trace or an `Exception occurred` report. */
  stackLines(): number;
}

/** The fixture tree: files, a large file, CGI scripts, and a secret beside (not inside) the root. */
export function createFixture(): { root: string; www: string; secret: string; cleanup(): void } {
  const base = mkdtempSync(path.join(tmpdir(), 'srv-resilience-'));
  const www = path.join(base, 'www');
  const secret = 'SRV-RESILIENCE-SECRET-7f3a';
  mkdirSync(path.join(www, 'dir'), { recursive: true });
  mkdirSync(path.join(www, 'cgi-bin'), { recursive: true });
  writeFileSync(path.join(base, 'secret.txt'), `${secret}\n`);
  writeFileSync(path.join(www, 'a.txt'), `${'a'.repeat(1023)}\n`);
  writeFileSync(path.join(www, 'index.html'), '<!doctype html><title>index</title>\n');
  writeFileSync(path.join(www, 'dir', 'b.txt'), 'b\n');
  writeFileSync(path.join(www, 'big.bin'), Buffer.alloc(32 * 1024 * 1024, 0x62));
  const script = (name: string, body: string) => {
    const file = path.join(www, 'cgi-bin', name);
    writeFileSync(file, body);
    chmodSync(file, 0o755);
  };
  script(
    'env.sh',
    '#!/bin/sh\nprintf \'Content-Type: text/plain\\r\\n\\r\\n\'\necho "PATH_INFO=$PATH_INFO"\n',
  );
  script('cat.sh', "#!/bin/sh\nprintf 'Content-Type: application/octet-stream\\r\\n\\r\\n'\nexec cat\n");
  return { root: base, www, secret, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

/** Starts a bin and resolves once its banner names the port. */
export async function startTarget(spec: TargetSpec, directory: string, previous?: Target): Promise<Target> {
  const child = spawn(process.execPath, [spec.bin, ...spec.args(directory)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: { ...process.env, NODE_ENV: 'production' },
  });
  let stderr = '';
  let lines = 0;
  let stackLines = 0;
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    lines += text.split('\n').length - 1;
    stackLines += text.match(/^\s+at |Exception occurred/gm)?.length ?? 0;
    stderr = (stderr + text).slice(-4000);
  });
  let stdout = '';
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const match = /^Serving \S+ on \S+ port (\d+) /m.exec(stdout);
      if (match) {
        child.stdout!.off('data', onData);
        // Keep draining: a full pipe would block the server's stdout writes.
        child.stdout!.resume();
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`${spec.name} exited (${code}) before its banner: ${stderr}`)),
    );
  });
  return {
    spec,
    port,
    child,
    restarts: previous?.restarts ?? 0,
    stderrTail: () => stderr,
    stderrLines: () => lines,
    stackLines: () => stackLines,
  };
}

/** SIGTERM to the bin's process group (its workers and scripts too), SIGKILL after 3 s. */
export async function stopTarget(target: Target): Promise<void> {
  const { child } = target;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {}
  };
  kill('SIGTERM');
  const timer = setTimeout(() => kill('SIGKILL'), 3000);
  await once(child, 'exit');
  clearTimeout(timer);
  kill('SIGKILL');
}

/** PSS of the bin's process tree in bytes (undefined off Linux). */
export function pssOf(target: Target): number | undefined {
  const memory = treeMemory(target.child.pid!);
  return memory?.pss ?? memory?.rss;
}

/** Sends raw bytes on a new connection; resolves with what came back and how it ended. */
export function rawExchange(
  port: number,
  data: string | Buffer | readonly (string | Buffer)[],
  options: { idleMs?: number; maxBytes?: number } = {},
): Promise<{ text: string; bytes: number; closed: boolean; ms: number }> {
  const idleMs = options.idleMs ?? 1500;
  const maxBytes = options.maxBytes ?? 4 * 1024 * 1024;
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let bytes = 0;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      socket.destroy();
      resolve({
        text: Buffer.concat(chunks).toString('latin1'),
        bytes,
        closed,
        ms: performance.now() - started,
      });
    };
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => finish(false), idleMs);
    };
    socket.on('connect', () => {
      for (const part of Array.isArray(data) ? data : [data]) socket.write(part);
      arm();
    });
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= maxBytes) chunks.push(chunk);
      arm();
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

/** The status codes of every response in a raw stream (bodies with `HTTP/1.x NNN` in them aside). */
export function statusesOf(text: string): number[] {
  return [...text.matchAll(/(?:^|\n)HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n/g)].map((match) => Number(match[1]));
}

/** True when the target answers its normal request (within 5 s). */
export async function isHealthy(target: Target): Promise<boolean> {
  if (target.child.exitCode !== null || target.child.signalCode !== null) return false;
  if (target.spec.kind === 'http') {
    const reply = await rawExchange(
      target.port,
      `GET ${target.spec.healthPath} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
      { idleMs: 5000 },
    );
    return statusesOf(reply.text)[0] === 200;
  }
  if (target.spec.kind === 'time-tcp') {
    const reply = await rawExchange(target.port, 'seconds\n', { idleMs: 5000 });
    return /^\d+\n$/.test(reply.text);
  }
  return /^\d+\n$/.test((await udpAsk(target.port, 'seconds', 5000)) ?? '');
}

/** One datagram from a fresh high port; the reply or undefined after `timeoutMs`. */
export async function udpAsk(port: number, word: string, timeoutMs: number): Promise<string | undefined> {
  const socket = dgram.createSocket('udp4');
  try {
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    const reply = once(socket, 'message').then(([message]) => String(message));
    socket.send(word, port, '127.0.0.1');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    const result = await Promise.race([reply, timeout]);
    clearTimeout(timer);
    return result;
  } finally {
    socket.close();
  }
}
