import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { benchDir, type HttpLoader, runLoad, type TcpLoader } from './load.js';
import {
  fdLimitOf,
  freePort,
  type Pinning,
  type Proc,
  startProcess,
  trackTemp,
  treeMemory,
  waitForPort,
  which,
} from './proc.js';
import {
  type EntryContext,
  type EntryDef,
  type EntryPlan,
  type Figures,
  type GroupDef,
  type LoadSpec,
  type ServerCommand,
  SkipEntry,
} from './registry.js';
import {
  describeLoad,
  type EntryResult,
  type GroupResult,
  type MemoryResult,
  memoryGoals,
} from './report.js';
import { alternate, goal, ratio, summarize } from './stats.js';

/** How a run is shaped. */
export interface RunOptions {
  quick: boolean;
  pinning: Pinning;
  http: HttpLoader;
  tcp: TcpLoader;
  /** Rounds per entry (default 3, quick 1). */
  rounds?: number;
  /** Seconds per measurement (default the group's, quick 1 for HTTP and 0.5 otherwise). */
  seconds?: number;
  log?: (line: string) => void;
}

const require = createRequire(path.join(benchDir, 'package.json'));

function skip(reason: string): never {
  throw new SkipEntry(reason);
}

async function requireExports(pkg: string, names: string[]): Promise<Record<string, unknown>> {
  let namespace: Record<string, unknown>;
  try {
    // Resolved from bench/ (these packages are ESM-only, which require.resolve cannot see).
    namespace = (await import(pkg)) as Record<string, unknown>;
  } catch (error) {
    skip(`${pkg} is not built or not installed (${(error as Error).message.split('\n')[0]})`);
  }
  const absent = names.filter((name) => !(name in namespace));
  if (absent.length > 0) skip(`${pkg} does not export ${absent.join(', ')} yet`);
  return namespace;
}

async function requireBin(pkg: string, bin: string): Promise<string> {
  let dir: string;
  let manifest: { bin?: string | Record<string, string> };
  try {
    const manifestPath = require.resolve(`${pkg}/package.json`);
    dir = path.dirname(manifestPath);
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as typeof manifest;
  } catch {
    skip(`${pkg} is not installed`);
  }
  const relative = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.[bin];
  if (!relative) skip(`${pkg} has no bin ${bin}`);
  const file = path.join(dir, relative);
  if (!existsSync(file)) skip(`${pkg}'s bin ${relative} is missing`);
  // Bins are thin shims importing the built CLI: without it the package is not built (yet).
  for (const match of readFileSync(file, 'utf8').matchAll(/import\s+['"](\.[^'"]+)['"]/g)) {
    const target = path.resolve(path.dirname(file), match[1]!);
    if (!existsSync(target)) skip(`${pkg} is not built (${path.relative(dir, target)} missing)`);
  }
  return file;
}

async function requireCommand(command: string, why?: string): Promise<string> {
  const found = which(command);
  if (!found) skip(`${command} not found${why ? ` (${why})` : ''}`);
  return found;
}

function contextFor(port: number, quick: boolean, dir: string, tmp: string): EntryContext {
  return {
    port,
    quick,
    dir,
    tmp,
    script: (file) => path.join(benchDir, 'servers', file),
    node: (file, env = {}, args = []): ServerCommand => ({
      command: process.execPath,
      args: [path.join(benchDir, 'servers', file), ...args],
      env: { PORT: String(port), ...env },
    }),
    requireExports,
    requireBin,
    requireCommand,
    skip,
  };
}

interface Prepared {
  def: EntryDef;
  result: EntryResult;
  plan?: EntryPlan;
  port: number;
  tmp: string;
  proc?: Proc;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function startServer(prepared: Prepared, options: RunOptions): Promise<Proc> {
  const server = prepared.plan!.server!;
  const proc = startProcess(server.command, server.args, {
    cwd: server.cwd,
    env: { PORT: String(prepared.port), ...server.env },
    pinning: options.pinning,
    cpus: options.pinning.serverCpus,
  });
  const readyLine = prepared.plan!.readyLine;
  // Listening from the start, so a line printed before the port is seen is not missed.
  const ready = readyLine ? waitForLine(proc, readyLine, 30_000) : undefined;
  try {
    await waitForPort(proc, prepared.port);
    if (ready && (await ready) === undefined) {
      throw new Error(`server did not print ${String(readyLine)} within 30 s:\n${proc.tail()}`);
    }
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return proc;
}

function settle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function waitForLine(proc: Proc, pattern: RegExp, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      proc.child.stdout?.off('data', onData);
      resolve(undefined);
    }, timeoutMs);
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const line = seen.split('\n').find((candidate) => pattern.test(candidate));
      if (line) {
        clearTimeout(timer);
        proc.child.stdout?.off('data', onData);
        resolve(line);
      }
    };
    proc.child.stdout?.on('data', onData);
    void proc.exited.then(() => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

const mbOf = (bytes: number | undefined) =>
  bytes === undefined ? '?' : `${(bytes / 1024 ** 2).toFixed(1)} MB`;

/**
 * Memory of a fresh server (PSS of its process tree, RSS beside it): idle; then while a client holds
 * `connections` idle keep-alive connections (HTTP, `memory: true`); then, when the plan has a burst,
 * the peak during the burst and every 0.5 s after it until PSS is back under the idle goal or
 * `withinSeconds` have passed.
 */
async function measureMemory(
  prepared: Prepared,
  load: LoadSpec,
  options: RunOptions,
  idleOnly: boolean,
): Promise<MemoryResult> {
  const connections = idleOnly ? 0 : options.quick ? 1000 : 10_000;
  const memory: MemoryResult = { connections, measure: 'pss' };
  const notes: string[] = [];
  const plan = prepared.plan!.memory;
  if (plan?.idleGoalMB !== undefined) memory.idleGoalMB = plan.idleGoalMB;
  const proc = await startServer(prepared, options);
  try {
    await settle(options.quick ? 300 : 1000);
    const idle = treeMemory(proc.pid);
    if (idle === undefined) {
      memory.note = 'memory needs Linux /proc';
      return memory;
    }
    if (idle.pss === undefined) {
      notes.push('PSS unreadable (smaps): RSS shown as PSS');
      memory.measure = 'rss';
    }
    memory.idleBytes = idle.pss ?? idle.rss;
    memory.idleRssBytes = idle.rss;
    memory.idleProcesses = idle.processes;
    memory.idleThreads = idle.threads;
    if (plan?.burst) await measureBurst(prepared, proc, plan.burst, options, memory, notes);
    if (idleOnly || load.kind !== 'http') return memory;
    const serverLimit = fdLimitOf(proc.pid);
    if (serverLimit !== undefined && serverLimit < connections + 64) {
      notes.push(`server fd limit ${serverLimit} (ulimit -n could not be raised) < ${connections}`);
    }
    const client = startProcess(
      process.execPath,
      [
        path.join(benchDir, 'load', 'keepalive.mjs'),
        JSON.stringify({ port: prepared.port, path: load.path, count: connections }),
      ],
      { pinning: options.pinning, cpus: options.pinning.loadCpus },
    );
    try {
      const clientLimit = fdLimitOf(client.pid);
      if (clientLimit !== undefined && clientLimit < connections + 64) {
        notes.push(`client fd limit ${clientLimit} < ${connections}`);
      }
      const line = await waitForLine(client, /"phase":"held"/, 120_000);
      if (!line) {
        notes.push(`client did not finish opening connections: ${client.tail().slice(-200)}`);
      } else {
        const held = JSON.parse(line) as { held: number; failed: number; closedByServer: number };
        await settle(500);
        const loaded = treeMemory(proc.pid);
        memory.loadedBytes = loaded?.pss ?? loaded?.rss;
        memory.loadedRssBytes = loaded?.rss;
        memory.held = held.held;
        if (held.failed > 0) notes.push(`${held.failed} connections failed`);
        if (held.closedByServer > 0)
          notes.push(`${held.closedByServer} closed by the server (keep-alive timeout)`);
      }
    } finally {
      await client.stop();
    }
  } finally {
    await proc.stop();
  }
  if (notes.length > 0) memory.note = notes.join('; ');
  return memory;
}

/** The burst of a memory plan: peak memory while it runs, then memory each second until back under the goal. */
async function measureBurst(
  prepared: Prepared,
  proc: Proc,
  burst: NonNullable<NonNullable<EntryPlan['memory']>['burst']>,
  options: RunOptions,
  memory: MemoryResult,
  notes: string[],
): Promise<void> {
  const goalBytes = (memory.idleGoalMB ?? memoryGoals.idleMB) * 1024 ** 2;
  const pssOrRss = () => {
    const now = treeMemory(proc.pid);
    return now
      ? { bytes: now.pss ?? now.rss, rss: now.rss, processes: now.processes, threads: now.threads }
      : undefined;
  };
  const result: NonNullable<MemoryResult['burst']> = {
    label: burst.label,
    withinSeconds: burst.withinSeconds,
  };
  memory.burst = result;
  let peak = 0;
  let peakProcesses = 0;
  let peakThreads = 0;
  const sampler = setInterval(() => {
    const now = pssOrRss();
    if (now && now.bytes > peak) {
      peak = now.bytes;
      peakProcesses = now.processes;
      peakThreads = now.threads;
    }
  }, 250);
  const started = Date.now();
  try {
    const figures = await runLoad(burst.load, {
      port: prepared.port,
      seconds: 60,
      pinning: options.pinning,
      http: options.http,
      tcp: options.tcp,
    });
    if (figures.seconds !== undefined) result.burstSeconds = figures.seconds;
    if ((figures.errors ?? 0) > 0) notes.push(`${figures.errors} errors in the burst`);
  } catch (error) {
    notes.push(`burst failed: ${messageOf(error)}`);
  } finally {
    clearInterval(sampler);
  }
  if (result.burstSeconds === undefined) result.burstSeconds = (Date.now() - started) / 1000;
  result.peakBytes = peak;
  result.peakProcesses = peakProcesses;
  result.peakThreads = peakThreads;
  const ended = Date.now();
  // Sampled every 0.5 s (a sample of a big tree takes a few milliseconds of /proc reads).
  for (;;) {
    await settle(500);
    const now = pssOrRss();
    const elapsed = (Date.now() - ended) / 1000;
    if (!now) break;
    result.afterBytes = now.bytes;
    result.afterRssBytes = now.rss;
    result.afterProcesses = now.processes;
    result.afterThreads = now.threads;
    result.afterSeconds = elapsed;
    if (now.bytes < goalBytes) {
      result.backAfterSeconds = elapsed;
      break;
    }
    if (elapsed >= burst.withinSeconds) break;
  }
}

function hasNumber(figures: Figures, metric: keyof Figures): boolean {
  const value = figures[metric];
  return value !== undefined && Number.isFinite(value);
}

/** Runs one group: fixtures, setup, memory, alternating rounds, ratios. Stops everything it started. */
export async function runGroup(group: GroupDef, options: RunOptions): Promise<GroupResult> {
  const log = options.log ?? (() => {});
  const rounds = options.rounds ?? (options.quick ? 1 : 5);
  const isHttp = group.load.kind === 'http';
  const seconds = options.seconds ?? (options.quick ? (isHttp ? 1 : 0.5) : (group.seconds ?? 3));
  const dir = await mkdtemp(path.join(os.tmpdir(), `srv-bench-${group.id}-`));
  await chmod(dir, 0o755);
  const untrack = [trackTemp(dir)];
  const prepared: Prepared[] = [];
  const perRound = new Map<string, (number | undefined)[]>();
  try {
    await group.prepare?.({ quick: options.quick, dir });
    for (const def of group.entries) {
      const tmp = await mkdtemp(path.join(os.tmpdir(), `srv-bench-${def.id}-`));
      await chmod(tmp, 0o755);
      untrack.push(trackTemp(tmp));
      const port = await freePort();
      const result: EntryResult = {
        id: def.id,
        label: def.label,
        role: def.role,
        status: 'ok',
        runs: [],
        summary: {},
      };
      const item: Prepared = { def, result, port, tmp };
      prepared.push(item);
      try {
        item.plan = await def.setup(contextFor(port, options.quick, dir, tmp));
        if (item.plan.note) result.note = item.plan.note;
        if (!item.plan.server && !item.plan.load)
          throw new Error('setup returned neither a server nor a load');
      } catch (error) {
        result.status = error instanceof SkipEntry ? 'skipped' : 'failed';
        result.note = messageOf(error);
        log(`  ${def.id}: ${result.status}: ${result.note}`);
      }
    }
    const runnable = prepared.filter((item) => item.result.status === 'ok');

    for (const item of runnable) {
      if (!item.def.memory || !item.plan?.server) continue;
      try {
        item.result.memory = await measureMemory(
          item,
          item.plan.load ?? group.load,
          options,
          item.def.memory === 'idle',
        );
        const m = item.result.memory;
        const loaded = m.connections > 0 ? `, with ${m.held ?? '?'} connections ${mbOf(m.loadedBytes)}` : '';
        const burst = m.burst
          ? `; ${m.burst.label}: peak ${mbOf(m.burst.peakBytes)}, ${mbOf(m.burst.afterBytes)} ${m.burst.afterSeconds?.toFixed(0) ?? '?'} s after`
          : '';
        log(
          `  ${item.def.id}: memory (${m.measure ?? 'rss'}) idle ${mbOf(m.idleBytes)} (RSS ${mbOf(m.idleRssBytes)})${loaded}${burst}${m.note ? ` (${m.note})` : ''}`,
        );
      } catch (error) {
        item.result.memory = { connections: 0, note: `memory not measured: ${messageOf(error)}` };
      }
    }

    const start = async (item: Prepared): Promise<boolean> => {
      try {
        item.proc = await startServer(item, options);
        return true;
      } catch (error) {
        item.result.status = 'failed';
        item.result.note = messageOf(error);
        log(`  ${item.def.id}: failed to start: ${item.result.note}`);
        return false;
      }
    };
    for (const item of runnable) {
      // Fresh servers start right before their measurement (below), not here.
      if (!item.plan?.server || item.plan.fresh) continue;
      try {
        item.proc = await startServer(item, options);
      } catch (error) {
        item.result.status = 'failed';
        item.result.note = messageOf(error);
        log(`  ${item.def.id}: failed to start: ${item.result.note}`);
      }
    }
    const measured = runnable.filter((item) => item.result.status === 'ok');
    const measure = async (item: Prepared, duration: number): Promise<Figures> =>
      runLoad(item.plan!.load ?? group.load, {
        port: item.port,
        seconds: duration,
        pinning: options.pinning,
        http: options.http,
        tcp: options.tcp,
      });

    for (const item of measured) {
      if (item.plan?.fresh) continue;
      const warmup = Math.max(item.plan?.warmup ?? 0, options.quick ? 0 : Math.min(2, seconds));
      if (warmup > 0) await measure(item, warmup).catch(() => undefined);
    }
    const failures = new Map<string, string>();
    for (const item of measured)
      perRound.set(item.def.id, new Array<number | undefined>(rounds).fill(undefined));
    for (let round = 0; round < rounds; round += 1) {
      for (const item of alternate(measured, round)) {
        if (item.result.status !== 'ok') continue;
        const fresh = item.plan?.fresh;
        if (item.plan?.server && (fresh === 'every-round' || (fresh === 'first-round' && round === 0))) {
          if (item.proc) {
            await item.proc.stop();
            item.proc = undefined;
          }
          if (!(await start(item))) continue;
        }
        if (item.proc && item.proc.child.exitCode !== null) {
          failures.set(item.def.id, `server exited: ${item.proc.tail().slice(-300)}`);
          continue;
        }
        try {
          let measuredSeconds = seconds;
          let figures = await measure(item, measuredSeconds);
          // Quick runs skip the warm-up: a server whose workers start lazily may answer nothing in
          // its first second, so that attempt counts as its warm-up and is measured once more, over a
          // longer window each time (a loaded machine can take more than a second to answer at all).
          for (
            let retry = 0;
            options.quick && round === 0 && !fresh && retry < 2 && !hasNumber(figures, group.metric);
            retry += 1
          ) {
            log(`  ${item.def.id}: no figure on a cold start, measuring again`);
            measuredSeconds = seconds * (retry + 2);
            figures = await measure(item, measuredSeconds);
          }
          const done = (figures.rps ?? 0) * measuredSeconds;
          const load = item.plan?.load ?? group.load;
          if (fresh && round === 0) item.result.firstRound = figures;
          // A held load's errors are GETs that timed out: they are counted in its latency figures.
          if (load.kind !== 'held' && (figures.errors ?? 0) > 0 && (figures.errors ?? 0) > done) {
            failures.set(item.def.id, `mostly errors (${figures.errors} errors)`);
          } else if (hasNumber(figures, group.metric)) {
            item.result.runs.push(figures);
            perRound.get(item.def.id)![round] = figures[group.metric];
          } else {
            failures.set(item.def.id, 'the load produced no figure');
          }
          const shown = figures[group.metric];
          log(
            `  ${item.def.id} round ${round + 1}: ${group.metric} ${shown === undefined ? '–' : shown.toFixed(2)}`,
          );
        } catch (error) {
          failures.set(item.def.id, messageOf(error));
        }
        if (fresh === 'every-round' && item.proc) {
          await item.proc.stop();
          item.proc = undefined;
        }
      }
    }
    for (const item of measured) {
      item.result.summary = summarize(item.result.runs);
      if (item.result.runs.length === 0) {
        item.result.status = 'failed';
        const serverSaid = item.proc?.tail().trim().slice(-400);
        item.result.note = `${failures.get(item.def.id) ?? 'no figure'}${serverSaid ? ` — server output: ${serverSaid}` : ''}`;
        log(`  ${item.def.id}: failed: ${item.result.note}`);
      }
    }
  } finally {
    await Promise.all(prepared.map((item) => item.proc?.stop()));
    await Promise.all(prepared.map((item) => rm(item.tmp, { recursive: true, force: true })));
    await rm(dir, { recursive: true, force: true });
    for (const done of untrack) done();
  }

  const medians = new Map<string, number | undefined>(
    prepared.map((item) => [item.def.id, item.result.summary[group.metric]?.median]),
  );
  return {
    id: group.id,
    title: group.title,
    metric: group.metric,
    extra: group.extra ?? [],
    load: describeLoad(group.load),
    seconds,
    rounds,
    entries: prepared.map((item) => item.result),
    ratios: (group.ratios ?? []).map((def) => ratio(def, group.metric, medians, perRound)),
    goals: (group.goals ?? []).map((def) => goal(def, group.metric, medians.get(def.entry))),
  };
}
