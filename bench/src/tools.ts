import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { autocannonBin, benchDir, type HttpLoader, type TcpLoader } from './load.js';
import type { Pinning } from './proc.js';
import { which } from './proc.js';
import type { MachineFacts } from './report.js';

let aptUpdated = false;

/**
 * Installs Debian packages for the commands that are missing, when running as root with apt-get.
 * Returns what could not be had, so rows can say so instead of failing the run.
 */
export function ensureDebianTools(wanted: Record<string, string>, log: (line: string) => void): string[] {
  const missing = Object.entries(wanted).filter(([command]) => !which(command));
  if (missing.length === 0) return [];
  const packages = [...new Set(missing.map(([, pkg]) => pkg))];
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && which('apt-get')) {
    log(`installing ${packages.join(' ')} with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (!aptUpdated) {
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env, timeout: 180_000 });
      aptUpdated = true;
    }
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], {
      stdio: 'ignore',
      env,
      timeout: 300_000,
    });
  }
  return missing.filter(([command]) => !which(command)).map(([command]) => command);
}

/** wrk when present (unless `prefer` is autocannon), else autocannon. */
export function chooseHttpLoader(prefer?: 'wrk' | 'autocannon'): HttpLoader {
  const wrk = prefer === 'autocannon' ? undefined : which('wrk');
  if (wrk) return { kind: 'wrk', path: wrk };
  return { kind: 'autocannon', path: autocannonBin() };
}

/**
 * The C TCP load generator (`load/tcpload.c`, built into the git-ignored `results/tmp/` with `cc -O2`
 * when missing or older than its source), unless `prefer` is `node` or no C compiler works: then the
 * Node one, which saturates its own core near 20k connections/s and says so in the report.
 */
export function chooseTcpLoader(prefer?: 'c' | 'node', log?: (line: string) => void): TcpLoader {
  const node: TcpLoader = { kind: 'node', path: path.join(benchDir, 'load', 'tcp.mjs') };
  if (prefer === 'node') return node;
  const source = path.join(benchDir, 'load', 'tcpload.c');
  const binary = path.join(benchDir, 'results', 'tmp', 'tcpload');
  const mtime = (file: string) => {
    try {
      return statSync(file).mtimeMs;
    } catch {
      return undefined;
    }
  };
  const built = mtime(binary);
  if (built !== undefined && built >= (mtime(source) ?? 0)) return { kind: 'c', path: binary };
  const cc = which('cc') ?? which('gcc') ?? which('clang');
  if (!cc) {
    log?.('no C compiler: TCP loads use the Node load generator (it may limit the figures)');
    return node;
  }
  mkdirSync(path.dirname(binary), { recursive: true });
  const result = spawnSync(cc, ['-O2', '-o', binary, source], { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) {
    log?.(`cc failed, TCP loads use the Node load generator: ${(result.stderr ?? '').trim().split('\n')[0]}`);
    return node;
  }
  return { kind: 'c', path: binary };
}

function versionOf(command: string, args: string[]): string | undefined {
  try {
    const result = spawnSync(command, args, { encoding: 'utf8', timeout: 5000 });
    const text = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n')[0];
    return text || undefined;
  } catch {
    return undefined;
  }
}

function kernel(): string {
  try {
    return execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  } catch {
    return os.release();
  }
}

/** Cores, CPU model, memory, OS, Node, and the tools in use. */
export function machineFacts(loader: HttpLoader, tcp: TcpLoader, pinning: Pinning): MachineFacts {
  const cpus = os.cpus();
  const facts: MachineFacts = {
    cpus: os.availableParallelism(),
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGB: Math.round(os.totalmem() / 1024 ** 3),
    platform: `${os.platform()}-${os.arch()}`,
    kernel: kernel(),
    node: process.version,
    loader: loader.kind === 'wrk' ? (versionOf(loader.path, ['-v'])?.split(' [')[0] ?? 'wrk') : 'autocannon',
    tcpLoader: tcp.kind === 'c' ? 'load/tcpload.c (epoll)' : 'load/tcp.mjs (Node)',
    loadAverage: { start: os.loadavg()[0] ?? 0 },
    pinning: pinning.taskset
      ? `servers on cpu ${pinning.serverCpus}, load on cpu ${pinning.loadCpus} (taskset)`
      : 'none (taskset missing or a single core)',
  };
  const python = which('python3') ? versionOf('python3', ['--version']) : undefined;
  if (python) facts.python = python;
  const nginx = which('nginx') ? versionOf('nginx', ['-v']) : undefined;
  if (nginx) facts.nginx = nginx.replace(/^nginx version: /, '');
  return facts;
}
