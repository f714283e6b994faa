/**
 * `pnpm test:resilience`: starts the bins as a user would and drives them with hostile and sloppy
 * clients (the cases), a seeded raw-byte fuzzer, and load; prints a table and exits non-zero on any
 * failure or restart. The 1000-connection latency goal is reported beside raw node:http, not gated. `--minutes N` fuzzes for N minutes (default: 1), `--seed N` picks the
 * fuzzer's seed, `--skip-load` leaves the load part out.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BaseServer } from '@srv/core';
import { freePort, type Proc, startProcess, waitForPort } from '../src/proc.js';
import { type Case, httpCases, timeTcpCases, timeUdpCases } from './cases.js';
import { fuzz } from './fuzz.js';
import { findLoader, type LoadCheck, manyConnections, mb, slowloris, slowReaders } from './load.js';
import {
  createFixture,
  isHealthy,
  pssOf,
  startTarget,
  stopTarget,
  type Target,
  targetSpecs,
} from './targets.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    seed: { type: 'string' },
    'skip-load': { type: 'boolean' },
    'load-seconds': { type: 'string' },
  },
});
const fuzzMs = Math.round(Number(values.minutes ?? '1') * 60_000);
const seed = Number(values.seed ?? '19');
const loadSeconds = Number(values['load-seconds'] ?? '20');
if (!Number.isFinite(fuzzMs) || fuzzMs < 0 || !Number.isInteger(seed) || !(loadSeconds > 0)) {
  process.stderr.write('usage: resilience [--minutes N] [--seed N] [--skip-load] [--load-seconds S]\n');
  process.exit(2);
}

interface Row {
  cases: number;
  failures: string[];
  pssBefore: number;
  pssAfter: number;
}

const started = performance.now();
const log = (line: string) => process.stdout.write(`${line}\n`);
const fixture = createFixture();
const targets: Target[] = [];
const rows = new Map<Target, Row>();

/** After a case: still serving? If not, restart it and count the restart. */
async function check(target: Target, after: string): Promise<boolean> {
  if (await isHealthy(target)) return true;
  log(
    `  ! ${target.spec.name} stopped serving after ${after}; restarting\n${target.stderrTail().slice(-800)}`,
  );
  await stopTarget(target);
  const fresh = await startTarget(target.spec, fixture.www, target);
  Object.assign(target, {
    port: fresh.port,
    child: fresh.child,
    stderrTail: fresh.stderrTail,
    stderrLines: fresh.stderrLines,
  });
  target.restarts += 1;
  return false;
}

async function runCases(target: Target, cases: readonly Case[]): Promise<void> {
  const row = rows.get(target)!;
  for (const testCase of cases) {
    if (!testCase.applies(target)) continue;
    row.cases += 1;
    let failure: string | undefined;
    try {
      failure = await testCase.run(target, fixture.secret);
    } catch (error) {
      failure = `threw ${(error as Error).message}`;
    }
    if (!(await check(target, testCase.name))) failure ??= 'stopped serving';
    if (failure) {
      row.failures.push(`${testCase.name}: ${failure}`);
      log(`  ✗ ${target.spec.name}: ${testCase.name}: ${failure}`);
    }
  }
}

const anchors: Proc[] = [];

/**
 * Raw node:http sending the fixture's files from memory, with srv's default backlog (4096): the anchor
 * of the 1000-connection latency goal. Its origin, once it listens.
 */
async function startAnchor(www: string): Promise<string> {
  const port = await freePort();
  const script = fileURLToPath(new URL('../servers/node-static-memory.mjs', import.meta.url));
  const proc = startProcess(process.execPath, [script], {
    env: { DIR: www, PORT: String(port), BACKLOG: String(BaseServer.backlog) },
  });
  anchors.push(proc);
  await waitForPort(proc, port);
  return `http://127.0.0.1:${port}`;
}

const loadChecks: LoadCheck[] = [];
let loadNotice = '';
try {
  log(`resilience: starting ${targetSpecs.length} bins`);
  for (const spec of targetSpecs) {
    const target = await startTarget(spec, fixture.www);
    targets.push(target);
  }
  for (const target of targets) {
    rows.set(target, {
      cases: 0,
      failures: [],
      pssBefore: pssOf(target) ?? Number.NaN,
      pssAfter: Number.NaN,
    });
  }

  log('cases');
  for (const target of targets) {
    const cases =
      target.spec.kind === 'http' ? httpCases : target.spec.kind === 'time-tcp' ? timeTcpCases : timeUdpCases;
    await runCases(target, cases);
  }

  log(`fuzzer: seed ${seed}, ${(fuzzMs / 1000).toFixed(0)} s`);
  const httpTargets = targets.filter((target) => target.spec.kind === 'http');
  const fuzzed = await fuzz(httpTargets, seed, fuzzMs, check);
  for (const [target, result] of fuzzed) {
    const row = rows.get(target)!;
    row.cases += result.cases;
    row.failures.push(...result.failures);
    for (const failure of result.failures.slice(0, 5)) log(`  ✗ ${target.spec.name}: ${failure}`);
  }

  if (values['skip-load']) loadNotice = 'load part skipped (--skip-load)';
  else {
    const loader = findLoader();
    if (!loader) {
      loadNotice = 'load part SKIPPED: neither wrk nor autocannon is available (.ci/run installs wrk)';
    } else {
      for (const name of ['srv-static', 'srv-demo threading']) {
        const target = targets.find((candidate) => candidate.spec.name === name)!;
        log(`load: ${name}`);
        const checks = [
          await manyConnections(
            target,
            loader,
            loadSeconds,
            target.spec.files ? await startAnchor(fixture.www) : undefined,
          ),
          await slowloris(target, Math.min(10, loadSeconds)),
          await slowReaders(target, Math.min(10, loadSeconds)),
        ];
        for (const result of checks) {
          loadChecks.push(result);
          log(`  ${result.ok ? '✓' : '✗'} ${result.name}: ${result.detail}`);
          if (result.goal) log(`    goal ${result.goal.met ? 'met' : 'NOT MET'}: ${result.goal.detail}`);
          const row = rows.get(target)!;
          row.cases += 1;
          if (!result.ok) row.failures.push(`${result.name}: ${result.detail}`);
          if (!(await check(target, result.name))) row.failures.push(`${result.name}: stopped serving`);
        }
      }
    }
  }
  for (const target of targets) rows.get(target)!.pssAfter = pssOf(target) ?? Number.NaN;
} finally {
  await Promise.all([...targets.map((target) => stopTarget(target)), ...anchors.map((proc) => proc.stop())]);
  fixture.cleanup();
}

const table = [
  ['target', 'cases', 'failures', 'restarts', 'PSS before', 'PSS after'],
  ...targets.map((target) => {
    const row = rows.get(target)!;
    return [
      target.spec.name,
      String(row.cases),
      String(row.failures.length),
      String(target.restarts),
      mb(row.pssBefore),
      mb(row.pssAfter),
    ];
  }),
];
const totals = {
  cases: [...rows.values()].reduce((sum, row) => sum + row.cases, 0),
  failures: [...rows.values()].reduce((sum, row) => sum + row.failures.length, 0),
  restarts: targets.reduce((sum, target) => sum + target.restarts, 0),
};
table.push(['total', String(totals.cases), String(totals.failures), String(totals.restarts), '', '']);
const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
log('');
for (const [index, line] of table.entries()) {
  log(`| ${line.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`);
  if (index === 0) log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
}
if (loadNotice) log(`\n${loadNotice}`);
if (loadChecks.length > 0) {
  log('');
  for (const result of loadChecks) {
    log(`${result.ok ? 'ok  ' : 'FAIL'} ${result.target}: ${result.name}: ${result.detail}`);
    if (result.goal) log(`${result.goal.met ? 'goal' : 'GOAL NOT MET'}: ${result.goal.detail}`);
  }
}
log(`\n${((performance.now() - started) / 1000).toFixed(0)} s, fuzzer seed ${seed}`);
process.exitCode = totals.failures === 0 && totals.restarts === 0 ? 0 : 1;
