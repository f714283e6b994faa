// Cost of workers: server CPU time (every process of the server's tree, from /proc) per 1000 requests,
// for @srv/http's hello and a 1 KiB static file (`srv-static --workers N`) with 1, 2 and 4 workers, and (on Node >= 22.12) with
// reusePort. The server tree is pinned to core 0 and wrk to core 1, so the same run also shows what N
// workers sharing one core cost in throughput. Rounds alternate the configurations (A B C, B C A, ...)
// and each figure is the median.
//
//   node bench/scale/cpu.mjs [--rounds 3] [--seconds 5] [--workers 1,2,4] [--kinds raw,hello,static]
//                            [--reuse-port] [--node /path/to/node24] [--json out.json]
//
// Needs wrk (Debian's `wrk`) and Linux /proc; says why and exits 0 when they are missing.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    workers: { type: 'string', default: '1,2,4' },
    kinds: { type: 'string', default: 'raw,hello,static' },
    'reuse-port': { type: 'boolean', default: false },
    node: { type: 'string', default: process.execPath },
    connections: { type: 'string', default: '50' },
    json: { type: 'string' },
  },
});

function has(command) {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
if (!has('wrk') || process.platform !== 'linux') {
  console.log('skipped: needs wrk and Linux /proc (apt-get install wrk)');
  process.exit(0);
}
const pin = os.availableParallelism() >= 2 && has('taskset');
const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const here = path.dirname(new URL(import.meta.url).pathname);
const root = mkdtempSync(path.join(os.tmpdir(), 'srv-scale-'));
writeFileSync(path.join(root, 'f1k.bin'), Buffer.alloc(1024, 'x'));

/** utime + stime (ticks) of `pid` and all its descendants, from /proc. */
function treeTicks(pid) {
  const parents = new Map();
  const ticks = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
    } catch {
      continue;
    }
    // Fields after the command (which may hold spaces) start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    parents.set(Number(entry), Number(fields[1]));
    ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]));
  }
  let total = 0;
  for (const [candidate, value] of ticks) {
    for (let at = candidate; at > 1; at = parents.get(at) ?? 0) {
      if (at === pid) {
        total += value;
        break;
      }
    }
  }
  return total;
}

// `raw` is the anchor: raw node:http (node:cluster for N workers) with the same hello bytes, so the
// same run shows what the substrate itself pays per worker.
// The static 1 KiB file is served by the real command (`srv-static --workers N [--reuse-port]`); the
// hello server, which no command serves, by server.mjs through runWorkers (what --workers runs).
const srvStatic = path.join(here, '..', '..', 'packages', 'static', 'bin', 'srv-static.js');

async function startServer(config) {
  const args =
    config.kind === 'static'
      ? [
          srvStatic,
          '--quiet',
          '--bind',
          '127.0.0.1',
          '--directory',
          root,
          '--workers',
          String(config.workers),
          ...(config.reusePort ? ['--reuse-port'] : []),
          '0',
        ]
      : [path.join(here, config.kind === 'raw' ? 'raw-server.mjs' : 'server.mjs')];
  const command = pin ? 'taskset' : values.node;
  const argv = pin ? ['-c', '0', values.node, ...args] : args;
  const child = spawn(command, argv, {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      KIND: config.kind,
      WORKERS: String(config.workers),
      REUSE_PORT: config.reusePort ? '1' : '',
      DIR: root,
    },
  });
  let text = '';
  for await (const chunk of child.stdout) {
    text += chunk;
    if (text.includes('\n')) break;
  }
  const port = Number(/port (\d+)/.exec(text)?.[1]);
  if (!port) throw new Error(`no Serving line from ${JSON.stringify(config)}: ${text}`);
  return { child, port };
}

function wrk(port, target, seconds) {
  const argv = ['-t1', `-c${values.connections}`, `-d${seconds}s`, `http://127.0.0.1:${port}${target}`];
  const out = execFileSync(pin ? 'taskset' : 'wrk', pin ? ['-c', '1', 'wrk', ...argv] : argv, {
    encoding: 'utf8',
  });
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errors = /Socket errors: (.*)/.exec(out)?.[1] ?? '';
  return { requests, non2xx, errors };
}

const configs = [];
for (const kind of values.kinds.split(',')) {
  for (const workers of values.workers.split(',').map(Number)) {
    configs.push({ kind, workers, reusePort: false });
    if (values['reuse-port'] && workers > 1) configs.push({ kind, workers, reusePort: true });
  }
}
const samples = new Map(configs.map((config) => [config, []]));
const rounds = Number(values.rounds);
for (let round = 0; round < rounds; round += 1) {
  const order = configs.map((_, i) => configs[(i + round) % configs.length]);
  for (const config of order) {
    const { child, port } = await startServer(config);
    const target = config.kind === 'static' ? '/f1k.bin' : '/';
    try {
      wrk(port, target, 1); // warm-up: JIT, caches, every worker reached
      const before = treeTicks(child.pid);
      const load = wrk(port, target, Number(values.seconds));
      const cpuMs = ((treeTicks(child.pid) - before) * 1000) / ticksPerSecond;
      samples.get(config).push({
        cpuMsPer1000: (cpuMs / load.requests) * 1000,
        rate: load.requests / Number(values.seconds),
        non2xx: load.non2xx,
        errors: load.errors,
      });
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  }
}

const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const rows = configs.map((config) => {
  const list = samples.get(config);
  return {
    ...config,
    cpuMsPer1000: median(list.map((s) => s.cpuMsPer1000)),
    rate: median(list.map((s) => s.rate)),
    non2xx: list.reduce((sum, s) => sum + s.non2xx, 0),
    errors: list.map((s) => s.errors).filter(Boolean),
  };
});
const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} cores, Node ${execFileSync(values.node, ['-v'], { encoding: 'utf8' }).trim()}, ${pin ? 'server on core 0, wrk on core 1' : 'unpinned'}`;
console.log(
  `machine: ${machine}; load average ${os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')}`,
);
console.log(
  '| kind | workers | hand-off | CPU ms / 1000 req | × 1 worker | req/s on one core | × 1 worker |',
);
console.log('|---|---|---|---|---|---|---|');
for (const row of rows) {
  const one = rows.find((r) => r.kind === row.kind && r.workers === 1);
  console.log(
    `| ${row.kind} | ${row.workers} | ${row.reusePort ? 'SO_REUSEPORT' : row.workers > 1 ? 'cluster' : '-'} | ${row.cpuMsPer1000.toFixed(1)} | ${(row.cpuMsPer1000 / one.cpuMsPer1000).toFixed(2)} | ${Math.round(row.rate)} | ${(row.rate / one.rate).toFixed(2)} |` +
      (row.non2xx || row.errors.length ? ` non-2xx ${row.non2xx} ${row.errors.join('; ')}` : ''),
  );
}
if (values.json) writeFileSync(values.json, `${JSON.stringify({ machine, rows }, null, 2)}\n`);
