import { type FigureName, type Figures, figureUnits, lowerIsBetter } from './registry.js';
import type { GoalResult, RatioResult, Spread } from './stats.js';

/** Memory of one server. */
export interface MemoryResult {
  /**
   * What `idleBytes`, `loadedBytes` and the burst's bytes are: `pss` (proportional set size of the
   * process tree: pages shared between processes count once, split between them) or `rss` (older
   * reports, or where smaps cannot be read).
   */
  measure?: 'pss' | 'rss';
  idleBytes?: number;
  loadedBytes?: number;
  /** RSS beside the PSS figures (children's shared pages counted once per child). */
  idleRssBytes?: number;
  loadedRssBytes?: number;
  /** Processes in the tree when idle (the server and its children), and their OS threads. */
  idleProcesses?: number;
  idleThreads?: number;
  /** This entry's idle goal (MB), when it is not the global one. */
  idleGoalMB?: number;
  /** A burst that grows the server, then memory until back under the idle goal. */
  burst?: {
    label: string;
    /** The goal: back under the idle goal within this many seconds of the burst's end. */
    withinSeconds: number;
    burstSeconds?: number;
    peakBytes?: number;
    peakProcesses?: number;
    peakThreads?: number;
    /** The last sample: under the goal, or at `withinSeconds`. */
    afterBytes?: number;
    afterRssBytes?: number;
    afterProcesses?: number;
    afterThreads?: number;
    afterSeconds?: number;
    /** Seconds after the burst's end when memory was first seen under the goal. */
    backAfterSeconds?: number;
  };
  /** Connections asked for, and how many the server still held when RSS was read. */
  connections: number;
  held?: number;
  /** Why a figure is missing or what limited it. */
  note?: string;
}

/** One row of a group. */
export interface EntryResult {
  id: string;
  label: string;
  role: 'srv' | 'anchor';
  status: 'ok' | 'skipped' | 'failed';
  /** Skip reason, failure message, or a note from the entry. */
  note?: string;
  runs: Figures[];
  summary: Partial<Record<FigureName, Spread>>;
  /** The first round of an entry started fresh right before it. */
  firstRound?: Figures;
  memory?: MemoryResult;
}

/** One group's results. */
export interface GroupResult {
  id: string;
  title: string;
  metric: FigureName;
  extra: FigureName[];
  load: string;
  seconds: number;
  rounds: number;
  entries: EntryResult[];
  ratios: RatioResult[];
  goals: GoalResult[];
}

/** What the run was measured on. */
export interface MachineFacts {
  cpus: number;
  cpuModel: string;
  memoryGB: number;
  platform: string;
  kernel: string;
  node: string;
  python?: string;
  nginx?: string;
  loader: string;
  /** The TCP load generator: the compiled C one or the Node one (older reports have none). */
  tcpLoader?: string;
  pinning: string;
  /** 1-minute load average when the run started and ended: other work on the machine skews figures. */
  loadAverage?: { start: number; end?: number };
}

/** A whole run. */
export interface Report {
  date: string;
  mode: 'full' | 'quick';
  machine: MachineFacts;
  groups: GroupResult[];
}

/** A figure in its display unit (bytes/s shown as MB/s). */
export function display(name: FigureName, value: number): number {
  return name === 'bytesPerSec' ? value / 1024 ** 2 : value;
}

/** The memory goals of srv servers (issue: < 60 MB idle, < +150 MB for 10k idle connections). */
export const memoryGoals = { idleMB: 60, addedMB: 150 } as const;

/** A number with sensible precision for tables. */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

function formatSpread(name: FigureName, figure: Spread | undefined): string {
  if (!figure) return '–';
  const median = formatNumber(display(name, figure.median));
  if (figure.n < 2) return median;
  return `${median} (${formatNumber(display(name, figure.min))}–${formatNumber(display(name, figure.max))})`;
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

const figureTitles: Record<FigureName, string> = {
  rps: 'rate',
  p50Ms: 'p50',
  p95Ms: 'p95',
  p99Ms: 'p99',
  maxMs: 'max',
  bytesPerSec: 'throughput',
  seconds: 'time',
};

function columnTitle(name: FigureName): string {
  return `${figureTitles[name]} (${figureUnits[name]})`;
}

function mb(bytes: number | undefined): string {
  return bytes === undefined ? '–' : (bytes / 1024 ** 2).toFixed(1);
}

/** A ratio formatted as `0.97×`, with its goal and a check mark when a goal exists. */
export function formatRatio(result: RatioResult): string {
  if (result.value === undefined) return `– (${result.missing ?? 'no figure'})`;
  const goal = result.goal
    ? ` · goal ${result.goal.min !== undefined ? `≥ ${result.goal.min}×` : ''}${result.goal.max !== undefined ? `≤ ${result.goal.max}×` : ''} ${result.met ? '✅' : '❌'}`
    : '';
  const range =
    result.range && result.range.n > 1
      ? ` (${result.range.min.toFixed(2)}–${result.range.max.toFixed(2)})`
      : '';
  return `${result.value.toFixed(2)}×${range}${result.round === 'first' ? ' (first round)' : ''}${goal}`;
}

function labelOf(group: GroupResult, id: string): string {
  return group.entries.find((entry) => entry.id === id)?.label ?? id;
}

/** An absolute goal's outcome: `1.03 s · goal ≤ 1.3 s ✅`. */
export function formatGoal(result: GoalResult): string {
  const unit = figureUnits[result.figure];
  const bound = `${result.min !== undefined ? `≥ ${result.min} ${unit}` : ''}${result.max !== undefined ? `≤ ${result.max} ${unit}` : ''}`;
  if (result.value === undefined) return `– (no figure) · goal ${bound}`;
  return `${formatNumber(display(result.figure, result.value))} ${unit} · goal ${bound} ${result.met ? '✅' : '❌'}`;
}

/** The Markdown report: machine facts, then per group a table of figures, ratios, goals and memory. */
export function renderMarkdown(report: Report, svgDir = 'svg'): string {
  const m = report.machine;
  const lines: string[] = [
    `# srv benchmarks (${report.mode} run)`,
    '',
    `- date: ${report.date}`,
    `- machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGB} GB, ${m.platform} ${m.kernel}`,
    `- Node ${m.node}${m.python ? ` · ${m.python}` : ''}${m.nginx ? ` · ${m.nginx}` : ''}`,
    `- load: ${m.loader}${m.tcpLoader ? ` (HTTP), ${m.tcpLoader} (TCP)` : ''} · pinning: ${m.pinning}`,
    ...(m.loadAverage
      ? [
          `- 1-min load average: ${m.loadAverage.start.toFixed(2)} at start${m.loadAverage.end === undefined ? '' : `, ${m.loadAverage.end.toFixed(2)} at end`} (other work on the machine skews figures; compare within a run)`,
        ]
      : []),
    '- each figure: median of the rounds (min–max); entries of a group measured in alternation; each ratio: median (min–max) of the per-round ratios of this run',
    '',
  ];
  const headline = report.groups.flatMap((group) =>
    group.ratios.map((result) => ({ group, result })).filter(({ result }) => result.goal),
  );
  const absolute = report.groups.flatMap((group) => group.goals.map((result) => ({ group, result })));
  if (headline.length + absolute.length > 0) {
    lines.push('## Headline ratios', '', '| group | ratio | value |', '|---|---|---|');
    for (const { group, result } of headline) {
      lines.push(
        `| ${group.id} | ${escapeCell(`${labelOf(group, result.of)} / ${labelOf(group, result.to)}`)} (${figureTitles[result.figure]}${result.round === 'first' ? ', first round alone' : ''}) | ${formatRatio(result)} |`,
      );
    }
    for (const { group, result } of absolute) {
      lines.push(
        `| ${group.id} | ${escapeCell(labelOf(group, result.entry))} (${figureTitles[result.figure]}) | ${formatGoal(result)} |`,
      );
    }
    lines.push('');
  }
  const memoryRows = report.groups.flatMap((group) =>
    group.entries.filter((entry) => entry.memory?.idleBytes !== undefined).map((entry) => ({ group, entry })),
  );
  if (memoryRows.length > 0) {
    const pss = memoryRows.some(({ entry }) => (entry.memory!.measure ?? 'rss') === 'pss');
    const name = pss ? 'PSS' : 'RSS';
    lines.push(
      `## Memory (goals for srv servers: idle < ${memoryGoals.idleMB} MB unless the row says otherwise; < +${memoryGoals.addedMB} MB with 10 000 idle keep-alive connections)`,
      '',
      pss
        ? "PSS (proportional set size, from /proc/PID/smaps_rollup) of the server process and all its descendants: a page shared by n processes (Node's code, a forked child's copy-on-write pages) counts 1/n in each, so the sum is what the tree really costs; threads share the process. RSS, beside it, counts shared pages once per process."
        : 'RSS of the server process and all its descendants (a forking server counts its children; threads share the process).',
      '',
      `| group | server | idle ${name} (MB) | idle RSS (MB) | processes (threads) | added with connections (MB) |`,
      '|---|---|---:|---:|---:|---:|',
    );
    for (const { group, entry } of memoryRows) {
      const memory = entry.memory!;
      const idle = memory.idleBytes! / 1024 ** 2;
      const idleGoal = memory.idleGoalMB ?? memoryGoals.idleMB;
      const idleMark = entry.role === 'srv' ? (idle < idleGoal ? ' ✅' : ' ❌') : '';
      const goalNote = memory.idleGoalMB !== undefined ? ` (goal < ${memory.idleGoalMB})` : '';
      let added = '–';
      if (memory.loadedBytes !== undefined) {
        const value = (memory.loadedBytes - memory.idleBytes!) / 1024 ** 2;
        const judged =
          entry.role === 'srv' && memory.connections >= 10_000 && memory.held === memory.connections;
        added = `${value.toFixed(1)} (${memory.held ?? '?'} conns)${judged ? (value < memoryGoals.addedMB ? ' ✅' : ' ❌') : ''}`;
      }
      lines.push(
        `| ${group.id} | ${escapeCell(entry.label)} | ${idle.toFixed(1)}${goalNote}${idleMark} | ${mb(memory.idleRssBytes)} | ${memory.idleProcesses ?? '–'}${memory.idleThreads === undefined ? '' : ` (${memory.idleThreads})`} | ${added} |`,
      );
    }
    lines.push('');
    const bursts = memoryRows.filter(({ entry }) => entry.memory!.burst);
    if (bursts.length > 0) {
      lines.push(
        `### ${name} after a burst (goal: back under the idle goal within the time shown)`,
        '',
        `| group | server | burst | burst time (s) | peak ${name} (MB) | peak processes (threads) | ${name} after (MB) | RSS after (MB) | processes (threads) after | back under the goal after | goal |`,
        '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
      );
      for (const { group, entry } of bursts) {
        const memory = entry.memory!;
        const burst = memory.burst!;
        const idleGoal = memory.idleGoalMB ?? memoryGoals.idleMB;
        const met = burst.backAfterSeconds !== undefined && burst.backAfterSeconds <= burst.withinSeconds;
        lines.push(
          `| ${group.id} | ${escapeCell(entry.label)} | ${escapeCell(burst.label)} | ${burst.burstSeconds === undefined ? '–' : burst.burstSeconds.toFixed(2)} | ${mb(burst.peakBytes)} | ${burst.peakProcesses ?? '–'}${burst.peakThreads === undefined ? '' : ` (${burst.peakThreads})`} | ${mb(burst.afterBytes)} | ${mb(burst.afterRssBytes)} | ${burst.afterProcesses ?? '–'}${burst.afterThreads === undefined ? '' : ` (${burst.afterThreads})`} | ${burst.backAfterSeconds === undefined ? `not within ${burst.afterSeconds?.toFixed(1) ?? '?'} s` : `${burst.backAfterSeconds.toFixed(1)} s`} | < ${idleGoal} MB within ${burst.withinSeconds} s ${met ? '✅' : '❌'} |`,
        );
      }
      lines.push('');
    }
  }
  for (const group of report.groups) {
    const figures = [group.metric, ...group.extra];
    lines.push(
      `## ${group.title}`,
      '',
      `\`${group.id}\` · ${group.load} · ${group.rounds} round(s) of ${group.seconds} s`,
      '',
      `![${group.id}](${svgDir}/${group.id}.svg)`,
      '',
      `| entry | role | ${figures.map(columnTitle).join(' | ')} | errors | note |`,
      `|---|---|${figures.map(() => '---:|').join('')}---:|---|`,
    );
    for (const entry of group.entries) {
      const errors = entry.runs.reduce((sum, run) => sum + (run.errors ?? 0), 0);
      const cells = figures.map((name) => formatSpread(name, entry.summary[name]));
      const note = entry.status === 'ok' ? (entry.note ?? '') : `**${entry.status}**: ${entry.note ?? ''}`;
      lines.push(
        `| ${escapeCell(entry.label)} | ${entry.role} | ${cells.join(' | ')} | ${entry.status === 'ok' ? errors : '–'} | ${escapeCell(note)} |`,
      );
    }
    lines.push('');
    if (group.ratios.length > 0) {
      lines.push('| ratio | value |', '|---|---|');
      for (const result of group.ratios) {
        lines.push(
          `| ${escapeCell(`${labelOf(group, result.of)} / ${labelOf(group, result.to)}`)} | ${escapeCell(formatRatio(result))} |`,
        );
      }
      lines.push('');
    }
    for (const result of group.goals) {
      lines.push(`- ${labelOf(group, result.entry)}: ${formatGoal(result)}`);
    }
    if (group.goals.length > 0) lines.push('');
    const firsts = group.entries.filter((entry) => entry.firstRound);
    for (const entry of firsts) {
      const value = entry.firstRound![group.metric];
      lines.push(
        `- ${escapeCell(entry.label)}, started right before its first round (no warm-up): first round ${value === undefined ? '–' : `${formatNumber(display(group.metric, value))} ${figureUnits[group.metric]}`}`,
      );
    }
    if (firsts.length > 0) lines.push('');
    const withMemory = group.entries.filter((entry) => entry.memory);
    if (withMemory.length > 0) {
      const name = withMemory.some((entry) => (entry.memory!.measure ?? 'rss') === 'pss') ? 'PSS' : 'RSS';
      lines.push(
        `| memory | idle ${name} (MB) | ${name} with connections (MB) | added (MB) | connections held | note |`,
        '|---|---:|---:|---:|---:|---|',
      );
      for (const entry of withMemory) {
        const memory = entry.memory!;
        const added =
          memory.idleBytes !== undefined && memory.loadedBytes !== undefined
            ? mb(memory.loadedBytes - memory.idleBytes)
            : '–';
        lines.push(
          `| ${escapeCell(entry.label)} | ${mb(memory.idleBytes)} | ${mb(memory.loadedBytes)} | ${added} | ${memory.connections === 0 ? '–' : `${memory.held ?? '–'} / ${memory.connections}`} | ${escapeCell(memory.note ?? '')} |`,
        );
      }
      lines.push('');
    }
  }
  return `${lines.join('\n')}\n`;
}

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/**
 * A horizontal bar chart of the group's metric: one bar per entry (srv rows coloured), a whisker from
 * min to max, the median printed at the bar's end; skipped or failed rows are listed with their status.
 */
export function renderSvg(group: GroupResult, footer = ''): string {
  const width = 760;
  const labelWidth = 230;
  const valueWidth = 120;
  const rowHeight = 28;
  const top = 44;
  const plotWidth = width - labelWidth - valueWidth - 20;
  const metric = group.metric;
  const max = Math.max(0, ...group.entries.map((entry) => display(metric, entry.summary[metric]?.max ?? 0)));
  const scale = (value: number) => (max > 0 ? (display(metric, value) / max) * plotWidth : 0);
  const height = top + group.entries.length * rowHeight + 30;
  const better = lowerIsBetter.has(metric) ? 'lower is better' : 'higher is better';
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="13">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escapeXml(group.title)}</text>`,
    `<text x="10" y="36" fill="#555">${escapeXml(`${figureTitles[metric]} in ${figureUnits[metric]}, ${better}; median of ${group.rounds}, whisker min–max`)}</text>`,
  ];
  group.entries.forEach((entry, index) => {
    const y = top + index * rowHeight;
    const figure = entry.summary[metric];
    parts.push(
      `<text x="${labelWidth - 8}" y="${y + 18}" text-anchor="end">${escapeXml(entry.label)}</text>`,
    );
    if (entry.status !== 'ok' || !figure) {
      parts.push(
        `<text x="${labelWidth + 4}" y="${y + 18}" fill="#888">${escapeXml(entry.status === 'ok' ? 'no figure' : entry.status)}</text>`,
      );
      return;
    }
    const colour = entry.role === 'srv' ? '#2f7ed8' : '#9aa5b1';
    const barWidth = Math.max(1, scale(figure.median));
    parts.push(
      `<rect x="${labelWidth}" y="${y + 5}" width="${barWidth.toFixed(1)}" height="${rowHeight - 10}" fill="${colour}"/>`,
    );
    if (figure.n > 1) {
      const x1 = labelWidth + scale(figure.min);
      const x2 = labelWidth + scale(figure.max);
      const mid = y + rowHeight / 2;
      parts.push(
        `<line x1="${x1.toFixed(1)}" y1="${mid}" x2="${x2.toFixed(1)}" y2="${mid}" stroke="#222" stroke-width="1.5"/>`,
      );
    }
    parts.push(
      `<text x="${(labelWidth + Math.max(barWidth, scale(figure.max)) + 6).toFixed(1)}" y="${y + 18}">${escapeXml(formatNumber(display(metric, figure.median)))}</text>`,
    );
  });
  parts.push(
    `<text x="10" y="${height - 10}" fill="#555">${escapeXml(`blue: srv · grey: anchors${footer ? ` · ${footer}` : ''}`)}</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}

/** A one-line description of a load, for tables. */
export function describeLoad(load: {
  kind: string;
  connections?: number;
  close?: boolean;
  hold?: number;
  holdSend?: string | null;
  requests?: number;
  path?: string;
  count?: number;
  concurrency?: number;
  size?: number;
}): string {
  switch (load.kind) {
    case 'http':
      return `HTTP GET ${load.path} ${load.close ? 'one connection per request' : 'keep-alive'}, c=${load.connections}`;
    case 'held':
      return `${load.hold} ${load.holdSend === null ? 'connect-and-leave probes' : 'connections holding an unfinished request head'}, then ${load.requests} GETs ${load.path} one after another`;
    case 'tcp-oneshot':
      return `one request per TCP connection, c=${load.connections}`;
    case 'tcp-echo':
      return `${load.size} B echo on persistent connections, c=${load.connections}`;
    case 'tcp-burst':
      return `${load.count} connections at once`;
    default:
      return `spawn, c=${load.concurrency}`;
  }
}
