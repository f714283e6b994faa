/**
 * Runs `srv-demo` as a child process, the way a user does, and reads what it prints. Every process
 * started here is killed at the end of the test that started it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, onTestFinished } from 'vitest';

/** The command as installed: bin/srv-demo.js, which imports the build. */
/**
 * True when `tool` is not on the PATH: a test that needs it is then skipped (`test.skipIf(lacks(…))`),
 * and the run says so on stderr. Never in CI, which installs it (.ci/run): there it fails instead.
 */
export function lacks(tool: string): boolean {
  if (process.env.CI) return false;
  if (spawnSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'ignore' }).status === 0) return false;
  console.warn(`${tool} is not installed: the tests that need it are skipped`);
  return true;
}

export const binPath = fileURLToPath(new URL('../bin/srv-demo.js', import.meta.url));
/** The bundled sample directory. */
export const sampleDirectory = fileURLToPath(new URL('../sample', import.meta.url));

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running (or finished) `srv-demo`. */
export interface DemoRun {
  readonly child: ChildProcess;
  readonly pid: number;
  /** stdout lines so far. */
  readonly stdout: string[];
  /** stderr text so far. */
  stderr(): string;
  /** Resolves with the first stdout line (present or future) matching `pattern`. */
  line(pattern: RegExp): Promise<string>;
  /** Resolves once `count` stdout lines match `pattern`. */
  lines(pattern: RegExp, count: number): Promise<string[]>;
  /** Resolves once stderr matches `pattern`. */
  stderrMatch(pattern: RegExp): Promise<void>;
  readonly exit: Promise<Exit>;
  /** Sends `signal` and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
  /** Sends SIGINT to the whole process group (started with `group`), children included, and waits. */
  interrupt(): Promise<Exit>;
}

/**
 * Starts `srv-demo <args>`; killed (SIGKILL) at the end of the test if still running. With `group`,
 * it leads its own process group, so {@link DemoRun.interrupt} can signal it as a terminal's Ctrl-C does.
 */
export function runDemo(args: readonly string[], options: { group?: boolean } = {}): DemoRun {
  const child = spawn(process.execPath, [binPath, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.group ?? false,
  });
  const stdout: string[] = [];
  let stderr = '';
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const waiter of [...waiters]) waiter();
  };
  let exited = false;
  const exit = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    });
  });
  // Lines and stderr are complete only once the pipes close, which may follow the exit.
  const closed = once(child, 'close').then(() => {
    exited = true;
    wake();
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdout.push(line);
    wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    wake();
  });
  onTestFinished(async () => {
    if (!exited) {
      if (options.group) process.kill(-child.pid!, 'SIGKILL');
      else child.kill('SIGKILL');
      await closed;
    }
  });

  const waitFor = <T>(check: () => T | undefined, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const attempt = () => {
        const found = check();
        if (found !== undefined) {
          waiters.delete(attempt);
          resolve(found);
        } else if (exited && child.stdout!.readableEnded && child.stderr!.readableEnded) {
          waiters.delete(attempt);
          reject(
            new Error(
              `srv-demo ${args.join(' ')} ended before ${what}\nstdout:\n${stdout.join('\n')}\nstderr:\n${stderr}`,
            ),
          );
        }
      };
      waiters.add(attempt);
      attempt();
    });

  const lines = (pattern: RegExp, count: number) =>
    waitFor(() => {
      const matching = stdout.filter((line) => pattern.test(line));
      return matching.length >= count ? matching.slice(0, count) : undefined;
    }, `${count} line(s) matching ${pattern}`);

  return {
    child,
    pid: child.pid!,
    stdout,
    stderr: () => stderr,
    line: async (pattern) => (await lines(pattern, 1))[0]!,
    lines,
    stderrMatch: (pattern) =>
      waitFor(() => (pattern.test(stderr) ? true : undefined), `stderr matching ${pattern}`).then(() => {}),
    exit: exit.then(async (result) => {
      await closed;
      return result;
    }),
    async stop(signal = 'SIGTERM') {
      if (!exited) child.kill(signal);
      const result = await exit;
      await closed;
      return result;
    },
    async interrupt() {
      if (!exited) process.kill(-child.pid!, 'SIGINT');
      const result = await exit;
      await closed;
      return result;
    },
  };
}

/** Runs `srv-demo <args>` to its end. */
export async function runToEnd(
  args: readonly string[],
): Promise<{ exit: Exit; stdout: string; stderr: string }> {
  const run = runDemo(args);
  const exit = await run.exit;
  return { exit, stdout: run.stdout.join('\n'), stderr: run.stderr() };
}

const bannerPattern = /^Serving (HTTP|TIME) on (\S+) port (\d+) \((\S+)\) \.\.\.$/;

/** A server started through `srv-demo <name> --port 0 …`, with the port its banner tells. */
export interface StartedDemo extends DemoRun {
  readonly port: number;
  /** `http://127.0.0.1:<port>` for IPv4 servers. */
  readonly origin: string;
}

/** Starts one server on a free port and waits for its banner (the first stdout line). */
export async function startDemo(
  name: string,
  args: readonly string[] = [],
  options: { group?: boolean } = {},
): Promise<StartedDemo> {
  const run = runDemo([name, '--port', '0', ...args], options);
  await run.line(/./);
  const match = bannerPattern.exec(run.stdout[0]!);
  if (!match) throw new Error(`first line is not a banner: ${JSON.stringify(run.stdout[0])}`);
  const port = Number(match[3]);
  return { ...run, port, origin: `http://127.0.0.1:${port}` };
}

/**
 * Sends `data` on a new connection and resolves with everything received until the server closes.
 * With `end` false the client keeps its side open, so only the server can end the exchange.
 */
export async function exchange(port: number, data: string, host = '127.0.0.1', end = true): Promise<string> {
  const socket = net.connect({ port, host });
  onTestFinished(() => {
    socket.destroy();
  });
  await once(socket, 'connect');
  if (end) socket.end(data);
  else socket.write(data);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('utf8');
}

/** Process ids of the descendants of `pid` (children, grandchildren …), from /proc. */
export function descendantsOf(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // The command name (field 2) may hold spaces and parentheses: the fields after its last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const children = parents.get(ppid) ?? [];
    children.push(Number(entry));
    parents.set(ppid, children);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of parents.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** True while a process with this id exists (zombies count as gone). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Waits until none of `pids` runs any more (their parent may still be reaping them); fails after `ms`. */
export async function expectGone(pids: readonly number[], ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (pids.some(isRunning) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  expect(pids.filter(isRunning)).toEqual([]);
}
