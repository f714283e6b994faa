import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { groups } from './entries/index.js';
import { benchDir } from './load.js';
import { detectPinning, killAll, stopAllOnSignals } from './proc.js';
import { type Report, renderMarkdown, renderSvg } from './report.js';
import { runGroup } from './run.js';
import { chooseHttpLoader, chooseTcpLoader, ensureDebianTools, machineFacts } from './tools.js';

const usage = `usage: pnpm bench [--quick] [--only group,group] [--rounds N] [--seconds S] [--out DIR]
  --quick      every entry briefly (a smoke test); results go to bench/results/tmp/quick
  --only       run only these groups (${groups.map((group) => group.id).join(', ')});
               results go to bench/results/tmp/partial
  --rounds     rounds per entry (default 5; 1 with --quick)
  --seconds    seconds per measurement (default per group, 3)
  --out        output directory (default bench/results)
  --loader     HTTP load generator: wrk (default when installed) or autocannon
  --tcp-loader TCP load generator: c (load/tcpload.c, compiled with cc; default when cc exists) or node
  --render-only  measure nothing: redraw latest.md and svg/ from latest.json in the output directory`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    // pnpm passes a literal `--` before forwarded flags.
    args: process.argv.slice(2).filter((arg) => arg !== '--'),
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      out: { type: 'string' },
      loader: { type: 'string' },
      'tcp-loader': { type: 'string' },
      'render-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
}
try {
  parsed = parse();
} catch (error) {
  fail((error as Error).message);
}
const { values } = parsed;
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
const quick = values.quick ?? false;
const only = values.only?.split(',').map((id) => id.trim());
const unknown = only?.filter((id) => !groups.some((group) => group.id === id)) ?? [];
if (unknown.length > 0) fail(`unknown group: ${unknown.join(', ')}`);
const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
const seconds = values.seconds === undefined ? undefined : Number(values.seconds);
if (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 1))
  fail('--rounds must be a whole number ≥ 1');
if (seconds !== undefined && !(seconds > 0 && seconds <= 120)) fail('--seconds must be in (0, 120]');
if (values.loader !== undefined && values.loader !== 'wrk' && values.loader !== 'autocannon') {
  fail('--loader must be wrk or autocannon');
}
if (values['tcp-loader'] !== undefined && values['tcp-loader'] !== 'c' && values['tcp-loader'] !== 'node') {
  fail('--tcp-loader must be c or node');
}
// Only a complete full run replaces the committed results; quick and partial (--only) runs go to tmp/.
const scratch = quick ? ['tmp', 'quick'] : only ? ['tmp', 'partial'] : [];
const outDir = path.resolve(values.out ?? path.join(benchDir, 'results', ...scratch));

/** Writes latest.md and svg/ (the JSON is written by a measuring run only). */
async function writeReport(report: Report): Promise<void> {
  await mkdir(path.join(outDir, 'svg'), { recursive: true });
  await writeFile(path.join(outDir, 'latest.md'), renderMarkdown(report));
  const m = report.machine;
  const footer = `${report.date.slice(0, 10)} · ${m.cpus} cpus · Node ${m.node} · ${m.loader.split(' ')[0]}`;
  for (const group of report.groups) {
    await writeFile(path.join(outDir, 'svg', `${group.id}.svg`), renderSvg(group, footer));
  }
}

if (values['render-only']) {
  const report = JSON.parse(await readFile(path.join(outDir, 'latest.json'), 'utf8')) as Report;
  await writeReport(report);
  process.stdout.write(`redrew ${path.join(outDir, 'latest.md')} and svg/ from latest.json\n`);
  process.exit(0);
}

stopAllOnSignals();
const log = (line: string) => process.stdout.write(`${line}\n`);
const started = Date.now();
const wanted: Record<string, string> = { nginx: 'nginx-light', python3: 'python3' };
if (values.loader !== 'autocannon') wanted.wrk = 'wrk';
const missing = ensureDebianTools(wanted, log);
if (missing.length > 0) log(`not available: ${missing.join(', ')} (their rows say so)`);
const pinning = detectPinning();
const http = chooseHttpLoader(values.loader as 'wrk' | 'autocannon' | undefined);
const tcp = chooseTcpLoader(values['tcp-loader'] as 'c' | 'node' | undefined, log);
const machine = machineFacts(http, tcp, pinning);
log(
  `srv bench (${quick ? 'quick' : 'full'}): ${machine.cpus} cpus, Node ${machine.node}, load ${machine.loader}, pinning ${machine.pinning}`,
);

const report: Report = {
  date: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  machine,
  groups: [],
};
try {
  for (const group of groups) {
    if (only && !only.includes(group.id)) continue;
    log(`\n${group.id}: ${group.title}`);
    report.groups.push(
      await runGroup(group, {
        quick,
        pinning,
        http,
        tcp,
        log,
        ...(rounds === undefined ? {} : { rounds }),
        ...(seconds === undefined ? {} : { seconds }),
      }),
    );
  }
} finally {
  killAll();
}

if (machine.loadAverage) machine.loadAverage.end = os.loadavg()[0] ?? 0;
// The quick and partial output folders are git-ignored, so a fresh clone does not have them yet.
await mkdir(outDir, { recursive: true });
await writeFile(path.join(outDir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
await writeReport(report);

const failed = report.groups.flatMap((group) =>
  group.entries
    .filter((entry) => entry.status === 'failed')
    .map((entry) => `${group.id}/${entry.id}: ${entry.note}`),
);
const skipped = report.groups.flatMap((group) =>
  group.entries
    .filter((entry) => entry.status === 'skipped')
    .map((entry) => `${group.id}/${entry.id}: ${entry.note}`),
);
log(
  `\nwrote ${path.relative(process.cwd(), outDir) || '.'}/latest.{json,md} and svg/ in ${Math.round((Date.now() - started) / 1000)} s`,
);
if (skipped.length > 0) log(`skipped (${skipped.length}):\n  ${skipped.join('\n  ')}`);
if (failed.length > 0) {
  process.stderr.write(
    `failed (${failed.length}) — these entries should run and gave no number:\n  ${failed.join('\n  ')}\n`,
  );
  process.exit(1);
}
