import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';

/** Where servers and load generators run: pinned to separate cores when possible. */
export interface Pinning {
  /** `taskset` path, when it exists and the machine has at least 2 cores. */
  taskset: string | undefined;
  serverCpus: string;
  loadCpus: string;
}

function which(command: string): string | undefined {
  try {
    const out = execFileSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' }).trim();
    return out || undefined;
  } catch {
    return undefined;
  }
}

export { which };

/** Server on core 0, load on core 1 (the other cores too, on bigger machines). */
export function detectPinning(): Pinning {
  const cpus = os.availableParallelism();
  const taskset = cpus >= 2 ? which('taskset') : undefined;
  const half = Math.max(1, Math.floor(cpus / 2));
  return {
    taskset,
    serverCpus: half === 1 ? '0' : `0-${half - 1}`,
    loadCpus: half === 1 ? '1' : `${half}-${cpus - 1}`,
  };
}

/** The file-descriptor limit every child is started with (raised with `ulimit -n` in its shell). */
export const wantedFdLimit = 65536;

const live = new Set<ChildProcess>();

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {}
  }
}

const temps = new Set<string>();

/** Registers a temp directory to remove if the run is interrupted (runs remove their own otherwise). */
export function trackTemp(dir: string): () => void {
  temps.add(dir);
  return () => temps.delete(dir);
}

/** Kills every process group the harness started and removes tracked temp dirs (synchronously). */
export function killAll(): void {
  for (const child of live) killGroup(child, 'SIGKILL');
  live.clear();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
  temps.clear();
}

let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
}

/** For the CLI: Ctrl-C (and SIGTERM, SIGHUP) stop every process the harness started, then exit 130. */
export function stopAllOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.stderr.write(`\nbench: ${signal}, stopped every process it started\n`);
      process.exit(130);
    });
  }
}

/** A process started by the harness, in its own process group. */
export interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Last output (stdout and stderr), for error messages. */
  tail(): string;
  /** Resolves with the exit code (or signal) when the process exits. */
  readonly exited: Promise<string>;
  /** Resolves with all of stdout once the process exits. */
  stdout(): string;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves when it is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  cwd?: string | undefined;
  env?: Record<string, string> | undefined;
  /** CPU list for `taskset -c`. */
  cpus?: string | undefined;
  pinning?: Pinning | undefined;
  /** Keep the whole stdout (load generators print their JSON there). */
  keepStdout?: boolean;
}

/**
 * Starts `command` through `sh` so the fd limit can be raised (`ulimit -n`), then `exec`s it (under
 * `taskset` when pinning), so the pid is the program's own.
 */
export function startProcess(command: string, args: string[], options: StartOptions = {}): Proc {
  hookExit();
  const pinned =
    options.pinning?.taskset && options.cpus ? [options.pinning.taskset, '-c', options.cpus] : [];
  const script = `ulimit -n ${wantedFdLimit} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"`;
  const child = spawn('sh', ['-c', script, 'sh', ...pinned, command, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);
  let tail = '';
  let out = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    if (options.keepStdout) out += chunk.toString('utf8');
    keep(chunk);
  });
  child.stderr?.on('data', keep);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(signal ?? String(code));
    });
    child.once('error', (error) => {
      live.delete(child);
      tail += `\n${error.message}`;
      resolve('error');
    });
  });
  return {
    child,
    pid: child.pid ?? -1,
    tail: () => tail,
    exited,
    stdout: () => out,
    async stop(graceMs = 3000) {
      if (child.exitCode !== null || child.signalCode !== null) {
        killGroup(child, 'SIGKILL');
        return;
      }
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // Children of the group (nginx workers, CGI scripts, forked workers) must not outlive it.
      killGroup(child, 'SIGKILL');
    },
  };
}

/** A free loopback port (the kernel's choice, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Whether something listens on `port`, read from `/proc/net/tcp{,6}` without connecting (a probe
 * connection would be a request to the server under test); undefined where `/proc` is missing.
 */
export function isListening(port: number): boolean | undefined {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let seen = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let table: string;
    try {
      table = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    seen = true;
    for (const line of table.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[3] === '0A' && fields[1]?.endsWith(`:${hex}`)) return true;
    }
  }
  return seen ? false : undefined;
}

function tryConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Waits until 127.0.0.1:port listens (accepts, where /proc is missing), the process exits (rejects with its output), or `timeoutMs`. */
export async function waitForPort(proc: Proc, port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: string | undefined;
  void proc.exited.then((how) => {
    exited = how;
  });
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`server exited (${exited}) before listening:\n${proc.tail()}`);
    const listening = isListening(port);
    if (listening === true || (listening === undefined && (await tryConnect(port)))) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`server did not accept on 127.0.0.1:${port} within ${timeoutMs} ms:\n${proc.tail()}`);
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[1]);
  } catch {
    return undefined;
  }
}

function rssOf(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Proportional set size of one process in bytes (`Pss:` of smaps_rollup, or the sum over smaps). */
function pssOf(pid: number): number | undefined {
  for (const file of [`/proc/${pid}/smaps_rollup`, `/proc/${pid}/smaps`]) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    let total = 0;
    let seen = false;
    for (const match of text.matchAll(/^Pss:\s+(\d+) kB/gm)) {
      total += Number(match[1]) * 1024;
      seen = true;
    }
    if (seen) return total;
  }
  return undefined;
}

/** A process and all its descendants (Linux `/proc`; undefined elsewhere). */
function treeOf(pid: number): number[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const children = new Map<number, number[]>();
  for (const name of entries) {
    const child = Number(name);
    const parent = parentOf(child);
    if (parent === undefined) continue;
    const list = children.get(parent) ?? [];
    list.push(child);
    children.set(parent, list);
  }
  const tree: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const current = stack.pop()!;
    tree.push(current);
    stack.push(...(children.get(current) ?? []));
  }
  return tree;
}

/** Resident memory of a process and all its descendants, in bytes (Linux `/proc`; undefined elsewhere). */
export function treeRss(pid: number): number | undefined {
  return treeOf(pid)?.reduce((sum, current) => sum + rssOf(current), 0);
}

/** Memory of a process tree: PSS (pages shared by n processes count 1/n each) and RSS, in bytes. */
export interface TreeMemory {
  /** Sum of `Pss:` over the tree; undefined when smaps cannot be read (then judge by RSS). */
  pss: number | undefined;
  rss: number;
  processes: number;
  /** OS threads of the whole tree (Node's own plus worker threads). */
  threads: number;
}

function threadsOf(pid: number): number {
  try {
    const match = /^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * PSS and RSS of a process and all its descendants (Linux `/proc`; undefined elsewhere). RSS counts the
 * pages children share with each other (Node's code, the snapshot) once per child; PSS divides them.
 */
export function treeMemory(pid: number): TreeMemory | undefined {
  const tree = treeOf(pid);
  if (!tree) return undefined;
  let pss: number | undefined = 0;
  let rss = 0;
  let threads = 0;
  for (const current of tree) {
    rss += rssOf(current);
    threads += threadsOf(current);
    const own = pssOf(current);
    // A process gone between the listing and the read counts nothing; one unreadable while alive
    // (no permission) makes the PSS unknown.
    if (own === undefined) {
      if (rssOf(current) > 0) pss = undefined;
    } else if (pss !== undefined) pss += own;
  }
  return { pss, rss, processes: tree.length, threads };
}

/** The soft "Max open files" of a running process, from `/proc/<pid>/limits`. */
export function fdLimitOf(pid: number): number | undefined {
  try {
    const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    if (!match) return undefined;
    return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
  } catch {
    return undefined;
  }
}
