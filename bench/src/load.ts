import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Pinning, startProcess } from './proc.js';
import type { Figures, LoadSpec } from './registry.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** `bench/` itself. */
export const benchDir = path.resolve(here, '..');

/** Which HTTP load generator is in use. */
export interface HttpLoader {
  kind: 'wrk' | 'autocannon';
  path: string;
}

/** Which load generator runs the TCP loads (`tcp-oneshot`, `tcp-echo`, `tcp-burst`). */
export interface TcpLoader {
  kind: 'c' | 'node';
  /** The compiled `load/tcpload.c` (kind `c`) or `load/tcp.mjs`. */
  path: string;
}

/** autocannon's CLI script, run as its own process so it never shares the harness's event loop. */
export function autocannonBin(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('autocannon/package.json')), 'autocannon.js');
}

const sizeUnits: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const timeUnits: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function toMs(value: string, unit: string): number {
  return Number(value) * (timeUnits[unit] ?? Number.NaN);
}

/** Reads wrk's `--latency` report. */
export function parseWrk(output: string): Figures {
  const figures: Figures = {};
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  if (rps) figures.rps = Number(rps[1]);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s|m|h)\b/m.exec(output);
  if (p50) figures.p50Ms = toMs(p50[1]!, p50[2]!);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m|h)\b/m.exec(output);
  if (p99) figures.p99Ms = toMs(p99[1]!, p99[2]!);
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m|h), ([\d.]+)(B|KB|MB|GB|TB) read/.exec(output);
  let requests = 0;
  if (total) {
    requests = Number(total[1]);
    const seconds = toMs(total[2]!, total[3]!) / 1000;
    figures.bytesPerSec = (Number(total[4]) * (sizeUnits[total[5]!] ?? Number.NaN)) / seconds;
  }
  let errors = 0;
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(output);
  if (non2xx) errors += Number(non2xx[1]);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  // Read errors are how wrk counts servers that close after each response (HTTP/1.0): not failures.
  if (socket) errors += Number(socket[1]) + Number(socket[3]) + Number(socket[4]);
  figures.errors = errors;
  if (requests === 0) delete figures.rps;
  return figures;
}

interface AutocannonJson {
  requests?: { average?: number };
  latency?: { p50?: number; p99?: number };
  throughput?: { average?: number };
  errors?: number;
  timeouts?: number;
  non2xx?: number;
}

/** Reads autocannon's `--json` report. */
export function parseAutocannon(output: string): Figures {
  const line = output
    .trim()
    .split('\n')
    .reverse()
    .find((candidate) => candidate.startsWith('{'));
  if (!line) return {};
  const json = JSON.parse(line) as AutocannonJson;
  const figures: Figures = {
    errors: (json.errors ?? 0) + (json.timeouts ?? 0) + (json.non2xx ?? 0),
  };
  if (json.requests?.average) figures.rps = json.requests.average;
  if (json.latency?.p50 !== undefined) figures.p50Ms = json.latency.p50;
  if (json.latency?.p99 !== undefined) figures.p99Ms = json.latency.p99;
  if (json.throughput?.average !== undefined) figures.bytesPerSec = json.throughput.average;
  return figures;
}

/** Everything a measurement needs besides the load itself. */
export interface LoadRun {
  port: number;
  seconds: number;
  pinning: Pinning;
  http: HttpLoader;
  tcp: TcpLoader;
}

/** The command line of a TCP load for the C generator: its arguments are positional, not JSON. */
function tcploadArgs(load: LoadSpec, port: number, seconds: number): string[] {
  const escaped = (text: string) =>
    text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('\r', '\\r');
  if (load.kind === 'tcp-oneshot') {
    return ['oneshot', String(port), String(load.connections), String(seconds), escaped(load.send)];
  }
  if (load.kind === 'tcp-echo') {
    return ['echo', String(port), String(load.connections), String(seconds), String(load.size)];
  }
  if (load.kind === 'tcp-burst') return ['burst', String(port), String(load.count), escaped(load.send)];
  throw new Error(`not a TCP load: ${load.kind}`);
}

/** Runs one measurement in a separate, pinned process and returns its figures. */
export async function runLoad(load: LoadSpec, run: LoadRun): Promise<Figures> {
  let command: string;
  let args: string[];
  let parse: (output: string) => Figures;
  if (load.kind === 'http') {
    const url = `http://127.0.0.1:${run.port}${load.path}`;
    if (run.http.kind === 'wrk') {
      command = run.http.path;
      const seconds = Math.max(1, Math.round(run.seconds));
      args = ['-t1', `-c${load.connections}`, `-d${seconds}s`, '--latency', '--timeout', '10s'];
      if (load.close) args.push('-H', 'Connection: close');
      args.push(url);
      parse = parseWrk;
    } else {
      command = process.execPath;
      args = [run.http.path, '-c', String(load.connections), '-d', String(run.seconds), '-j'];
      if (load.close) args.push('-H', 'Connection=close');
      args.push(url);
      parse = parseAutocannon;
    }
  } else {
    if (load.kind === 'held') {
      command = process.execPath;
      args = [path.join(benchDir, 'load', 'held.mjs'), JSON.stringify({ ...load, port: run.port })];
    } else if (load.kind !== 'spawn' && run.tcp.kind === 'c') {
      command = run.tcp.path;
      args = tcploadArgs(load, run.port, run.seconds);
    } else {
      command = process.execPath;
      args = [
        load.kind === 'spawn' ? path.join(benchDir, 'load', 'spawn.mjs') : run.tcp.path,
        JSON.stringify({ ...load, port: run.port, seconds: run.seconds }),
      ];
    }
    parse = (output) => {
      const line = output
        .trim()
        .split('\n')
        .reverse()
        .find((candidate) => candidate.startsWith('{'));
      return line ? (JSON.parse(line) as Figures) : {};
    };
  }
  const proc = startProcess(command, args, {
    pinning: run.pinning,
    cpus: run.pinning.loadCpus,
    keepStdout: true,
  });
  const limit = setTimeout(() => void proc.stop(), (run.seconds + 30) * 1000);
  const how = await proc.exited;
  clearTimeout(limit);
  await proc.stop();
  const figures = parse(proc.stdout());
  if (Object.keys(figures).filter((name) => name !== 'errors').length === 0) {
    const output = proc.tail().trim().split('\n').slice(-6).join(' / ');
    throw new Error(`the load produced no figure (load generator exit ${how}): ${output}`);
  }
  return figures;
}
