/**
 * The registration API of the harness. A group is one measurement (a load shape and a metric) run
 * against several entries side by side: srv's own servers and the anchors they are judged against.
 * Each file under `src/entries/` defines the groups of one area and is listed in `entries/index.ts`.
 */

/** How the harness loads a server. All loads target 127.0.0.1 and are bounded in time. */
export type LoadSpec =
  /**
   * HTTP GETs over keep-alive connections (wrk, or autocannon when wrk is missing); with `close`, one
   * connection per request (`Connection: close`; wrk reconnects after each response, as a client of an
   * HTTP/1.0 server does).
   */
  | { kind: 'http'; path: string; connections: number; close?: boolean }
  /** Connect, send `send`, read until the server closes, repeat; `connections` at once. Conn/s. */
  | { kind: 'tcp-oneshot'; send: string; connections: number }
  /** Ping-pong of a `size`-byte line (newline included) on `connections` persistent connections. */
  | { kind: 'tcp-echo'; size: number; connections: number }
  /** `count` connections at once, each sends `send` and waits for the close; seconds for all. */
  | { kind: 'tcp-burst'; send: string; count: number }
  /**
   * `hold` connections are opened first and held: each sends `holdSend` and then nothing more (a request
   * head that never ends), or, with `holdSend: null`, closes at once (a connect-and-leave probe). Then
   * `requests` GETs of `path`, one after another, each on a new connection and timed from connect to
   * the end of the response. Latency figures of those GETs (p50, p95, max).
   */
  | { kind: 'held'; hold: number; holdSend: string | null; requests: number; path: string }
  /** No server: spawn `command` directly from Node, `concurrency` at once. Spawns/s. */
  | {
      kind: 'spawn';
      command: string;
      args: string[];
      concurrency: number;
      cwd?: string;
      env?: Record<string, string>;
      uid?: number;
      gid?: number;
    };

/** Figures one measurement can produce. */
export interface Figures {
  /** Requests (or connections, round trips, spawns) per second. */
  rps?: number;
  /** Median latency in milliseconds. */
  p50Ms?: number;
  /** 95th percentile latency in milliseconds. */
  p95Ms?: number;
  /** 99th percentile latency in milliseconds. */
  p99Ms?: number;
  /** Slowest of the timed requests, in milliseconds. */
  maxMs?: number;
  /** Response bytes per second. */
  bytesPerSec?: number;
  /** Wall time of a burst, in seconds. */
  seconds?: number;
  /** Failed requests or connections during the measurement. */
  errors?: number;
}

/** A figure's name. */
export type FigureName = Exclude<keyof Figures, 'errors'>;

/** A server the harness starts in its own process (pinned to the server core when `taskset` exists). */
export interface ServerCommand {
  command: string;
  args: string[];
  cwd?: string;
  env?: Record<string, string>;
}

/** What an entry's `setup` returns: a server to start, and/or a load that replaces the group's. */
export interface EntryPlan {
  server?: ServerCommand;
  load?: LoadSpec;
  /** A note shown beside the entry's row (configuration worth knowing). */
  note?: string;
  /**
   * Seconds of load before the first round, also in `--quick` (which otherwise skips warm-up), for
   * servers that start workers lazily. Default: 2 s in full runs, none in quick ones.
   */
  warmup?: number;
  /**
   * Start the server fresh instead of at the start of the group, with no warm-up: `first-round`
   * starts it right before the entry's first measurement (the first round is then what a user sees
   * right after starting the server, and ratios can be asked for it alone); `every-round` starts a
   * new server before each measurement (no round is served by workers a previous round started).
   */
  fresh?: 'first-round' | 'every-round';
  /**
   * A line the server prints on stdout once it is ready (e.g. srv's `Serving HTTP on …` banner, printed
   * after its pool's minimum has started): a fresh server is measured from that line, not from the
   * moment its port listens.
   */
  readyLine?: RegExp;
  /** Memory goals and the burst after which memory must come back (entries with `memory`). */
  memory?: MemoryPlan;
}

/** What an entry's memory is judged by. */
export interface MemoryPlan {
  /** Goal for the idle PSS (MB) of this server; default: the global srv goal (`memoryGoals.idleMB`). */
  idleGoalMB?: number;
  /**
   * A load that makes the server grow (e.g. 200 blocking requests at once), after which its PSS must be
   * back under `idleGoalMB` within `withinSeconds` of the burst's end (sampled every 0.5 s).
   */
  burst?: { load: LoadSpec; withinSeconds: number; label: string };
}

/** Thrown (via `ctx.skip()`) when an entry cannot run here; the row shows the reason. */
export class SkipEntry extends Error {
  override readonly name = 'SkipEntry';
}

/** What `setup` can use. */
export interface EntryContext {
  /** The free loopback port the server must listen on (127.0.0.1). */
  readonly port: number;
  /** `--quick` run. */
  readonly quick: boolean;
  /** The group's fixtures directory (created by the group's `prepare`), or a fresh temp dir. */
  readonly dir: string;
  /** A temp directory private to this entry, removed at the end. */
  readonly tmp: string;
  /** Absolute path of `bench/servers/<file>` (server scripts in plain JavaScript or Python). */
  script(file: string): string;
  /** `node <bench/servers/file> ...args` with `env`. */
  node(file: string, env?: Record<string, string>, args?: string[]): ServerCommand;
  /** Imports a workspace package and checks it exports `names`; skips the entry otherwise. */
  requireExports(pkg: string, names: string[]): Promise<Record<string, unknown>>;
  /** Absolute path of a package's bin script; skips when the package or its built files are missing. */
  requireBin(pkg: string, bin: string): Promise<string>;
  /** Absolute path of an executable on PATH; skips (with `why`) when missing. */
  requireCommand(command: string, why?: string): Promise<string>;
  /** Skip this entry with a reason. */
  skip(reason: string): never;
}

/** One row of a group. */
export interface EntryDef {
  /** Stable id used in ratios and JSON (`srv-http`, `node-http`, …). */
  id: string;
  /** What the row is called in tables and charts. */
  label: string;
  /** `srv` rows are what we build; `anchor` rows are what we compare against. */
  role: 'srv' | 'anchor';
  /**
   * Also measure memory (PSS of the server's process tree, RSS beside it): `true` = idle and with many
   * idle keep-alive connections (HTTP groups); `'idle'` = idle only (any server), plus the plan's
   * `memory.burst` when it has one.
   */
  memory?: boolean | 'idle';
  setup(ctx: EntryContext): EntryPlan | Promise<EntryPlan>;
}

/** `of / to` on the group's metric: the median of the per-round ratios of the same run. */
export interface RatioDef {
  of: string;
  to: string;
  /** The goal: at least `min` (throughput) or at most `max` (latency, time). */
  goal?: { min?: number; max?: number };
  /** `first`: the first round's pair alone (an entry started `fresh` right before it). */
  round?: 'first';
}

/** An absolute goal on an entry's metric (e.g. a burst finishing within 1.3 s). */
export interface GoalDef {
  entry: string;
  min?: number;
  max?: number;
}

/** What a group's `prepare` can use. */
export interface GroupContext {
  readonly quick: boolean;
  /** The group's fixtures directory (mode 0755, removed at the end). */
  readonly dir: string;
}

/** A measurement run against several entries in alternation. */
export interface GroupDef {
  /** Stable id (`http-hello`, `static-small`, …); also the chart's file name. */
  id: string;
  title: string;
  /** The load every entry gets unless its plan overrides it. */
  load: LoadSpec;
  /** The figure charted and used for ratios. */
  metric: FigureName;
  /** Further figures shown in the table. */
  extra?: FigureName[];
  /** Seconds per measurement (full run); `--quick` uses 1 (HTTP) or 0.5. Default 3. */
  seconds?: number;
  /** Creates fixtures (files, scripts) in `ctx.dir` before any entry starts. */
  prepare?(ctx: GroupContext): void | Promise<void>;
  entries: EntryDef[];
  ratios?: RatioDef[];
  goals?: GoalDef[];
}

/** Figures where smaller is better. */
export const lowerIsBetter: ReadonlySet<FigureName> = new Set<FigureName>([
  'p50Ms',
  'p95Ms',
  'p99Ms',
  'maxMs',
  'seconds',
]);

/** Units of each figure, for tables and charts. */
export const figureUnits: Readonly<Record<FigureName, string>> = {
  rps: 'req/s',
  p50Ms: 'ms',
  p95Ms: 'ms',
  p99Ms: 'ms',
  maxMs: 'ms',
  bytesPerSec: 'MB/s',
  seconds: 's',
};

/** Declares a group (identity function: it exists for type checking and readability). */
export function defineGroup(group: GroupDef): GroupDef {
  return group;
}

/** An srv row. */
export function srv(
  id: string,
  label: string,
  setup: EntryDef['setup'],
  options: { memory?: boolean | 'idle' } = {},
): EntryDef {
  return { id, label, role: 'srv', setup, ...options };
}

/** An anchor row. */
export function anchor(
  id: string,
  label: string,
  setup: EntryDef['setup'],
  options: { memory?: boolean | 'idle' } = {},
): EntryDef {
  return { id, label, role: 'anchor', setup, ...options };
}
