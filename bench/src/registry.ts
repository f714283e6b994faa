/**
 * The registration API of the harness. A group is one measurement (a load shape and a metric) run
 * against several entries side by side: srv's own servers and the anchors they are judged against.
 * Each file under `src/entries/` defines the groups of one area and is listed in `entries/index.ts`.
 */

/** How the harness loads a server. All loads target 127.0.0.1 and are bounded in time. */
export type LoadSpec =
  /** HTTP GETs over keep-alive connections (wrk, or autocannon when wrk is missing). */
  | { kind: 'http'; path: string; connections: number }
  /** Connect, send `send`, read until the server closes, repeat; `connections` at once. Conn/s. */
  | { kind: 'tcp-oneshot'; send: string; connections: number }
  /** Ping-pong of a `size`-byte line (newline included) on `connections` persistent connections. */
  | { kind: 'tcp-echo'; size: number; connections: number }
  /** `count` connections at once, each sends `send` and waits for the close; seconds for all. */
  | { kind: 'tcp-burst'; send: string; count: number }
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
  /** 99th percentile latency in milliseconds. */
  p99Ms?: number;
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
   * Also measure memory: `true` = idle RSS and RSS with many idle keep-alive connections (HTTP groups);
   * `'idle'` = idle RSS only (any server).
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
export const lowerIsBetter: ReadonlySet<FigureName> = new Set<FigureName>(['p50Ms', 'p99Ms', 'seconds']);

/** Units of each figure, for tables and charts. */
export const figureUnits: Readonly<Record<FigureName, string>> = {
  rps: 'req/s',
  p50Ms: 'ms',
  p99Ms: 'ms',
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
