import { describe, expect, it } from 'vitest';
import { parseAutocannon, parseWrk } from '../src/load.js';
import { detectPinning, isListening, treeMemory } from '../src/proc.js';
import { anchor, defineGroup } from '../src/registry.js';
import { formatRatio, type GroupResult, type Report, renderMarkdown, renderSvg } from '../src/report.js';
import { runGroup } from '../src/run.js';
import { alternate, goal, ratio, spread, summarize } from '../src/stats.js';
import { chooseHttpLoader, chooseTcpLoader } from '../src/tools.js';

describe('stats', () => {
  it('takes the median, min and max', () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spread([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
    expect(spread([Number.NaN, 5])).toEqual({ median: 5, min: 5, max: 5, n: 1 });
    expect(spread([])).toBeUndefined();
  });

  it('summarizes only the figures present', () => {
    const summary = summarize([{ rps: 10, errors: 1 }, { rps: 30 }, { rps: 20, p99Ms: 4 }]);
    expect(summary).toEqual({
      rps: { median: 20, min: 10, max: 30, n: 3 },
      p99Ms: { median: 4, min: 4, max: 4, n: 1 },
    });
  });

  it('computes ratios of medians against goals', () => {
    const medians = new Map<string, number | undefined>([
      ['srv', 95],
      ['node', 100],
      ['gone', undefined],
    ]);
    expect(ratio({ of: 'srv', to: 'node', goal: { min: 0.95 } }, 'rps', medians)).toMatchObject({
      value: 0.95,
      met: true,
    });
    expect(ratio({ of: 'srv', to: 'node', goal: { min: 0.96 } }, 'rps', medians).met).toBe(false);
    expect(ratio({ of: 'node', to: 'srv', goal: { max: 1 } }, 'p50Ms', medians).met).toBe(false);
    expect(ratio({ of: 'srv', to: 'node' }, 'rps', medians)).not.toHaveProperty('met');
    expect(ratio({ of: 'srv', to: 'gone' }, 'rps', medians)).toMatchObject({ missing: 'no figure for gone' });
    expect(goal({ entry: 'srv', max: 1.3 }, 'seconds', 1.2).met).toBe(true);
    expect(goal({ entry: 'srv', max: 1.3 }, 'seconds', 1.4).met).toBe(false);
    expect(goal({ entry: 'srv', max: 1.3 }, 'seconds', undefined)).not.toHaveProperty('met');
  });

  it('takes the median of per-round ratios when rounds pair up', () => {
    const medians = new Map<string, number | undefined>([
      ['srv', 20],
      ['node', 20],
    ]);
    // Load drifted: round 2 ran everything 3× slower; each pair still says srv is 0.9× to 1.1× node.
    const rounds = new Map<string, (number | undefined)[]>([
      ['srv', [90, 30, undefined, 110]],
      ['node', [100, 30, 50, 100]],
    ]);
    const result = ratio({ of: 'srv', to: 'node', goal: { min: 0.95 } }, 'rps', medians, rounds);
    expect(result.value).toBeCloseTo(1, 10);
    expect(result.range).toEqual({ min: 0.9, max: 1.1, n: 3 });
    expect(result.met).toBe(true);
    expect(formatRatio(result)).toBe('1.00× (0.90–1.10) · goal ≥ 0.95× ✅');
  });

  it('takes the first round alone when asked', () => {
    const medians = new Map<string, number | undefined>([
      ['fork', 90],
      ['async', 100],
    ]);
    const rounds = new Map<string, (number | undefined)[]>([
      ['fork', [30, 90, 95]],
      ['async', [100, 100, 100]],
    ]);
    const first = ratio(
      { of: 'fork', to: 'async', round: 'first', goal: { min: 0.4 } },
      'rps',
      medians,
      rounds,
    );
    expect(first).toMatchObject({ value: 0.3, met: false, round: 'first' });
    expect(ratio({ of: 'fork', to: 'async', goal: { min: 0.4 } }, 'rps', medians, rounds).met).toBe(true);
    rounds.set('fork', [undefined, 90, 95]);
    expect(ratio({ of: 'fork', to: 'async', round: 'first' }, 'rps', medians, rounds)).toMatchObject({
      missing: 'no first-round figure for fork',
    });
  });

  it('alternates the order round by round', () => {
    expect([0, 1, 2, 3].map((round) => alternate(['a', 'b', 'c'], round).join(''))).toEqual([
      'abc',
      'bca',
      'cab',
      'abc',
    ]);
  });
});

describe('load reports', () => {
  it('reads wrk --latency output', () => {
    const output = `Running 5s test @ http://127.0.0.1:8080/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms  300.00us  12.00ms   90.00%
    Req/Sec    24.00k     1.00k   25.00k    80.00%
  Latency Distribution
     50%  750.00us
     75%    2.20ms
     90%    2.50ms
     99%    1.20s
  120000 requests in 5.00s, 10.00MB read
  Socket errors: connect 1, read 7, write 2, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:  24000.00
Transfer/sec:      2.00MB
`;
    expect(parseWrk(output)).toEqual({
      rps: 24000,
      p50Ms: 0.75,
      p99Ms: 1200,
      bytesPerSec: 2 * 1024 * 1024,
      errors: 10,
    });
    expect(parseWrk('unable to connect to 127.0.0.1:1 Connection refused\n').rps).toBeUndefined();
  });

  it('reads autocannon --json output', () => {
    const json = JSON.stringify({
      requests: { average: 5000 },
      latency: { p50: 1, p99: 9 },
      throughput: { average: 1000 },
      errors: 1,
      timeouts: 2,
      non2xx: 3,
    });
    expect(parseAutocannon(`noise\n${json}\n`)).toEqual({
      rps: 5000,
      p50Ms: 1,
      p99Ms: 9,
      bytesPerSec: 1000,
      errors: 6,
    });
  });
});

const sample: GroupResult = {
  id: 'demo',
  title: 'demo <group>',
  metric: 'rps',
  extra: ['p99Ms'],
  load: 'HTTP GET / keep-alive, c=50',
  seconds: 5,
  rounds: 3,
  entries: [
    {
      id: 'srv',
      label: 'srv <fast>',
      role: 'srv',
      status: 'ok',
      runs: [{ rps: 90 }, { rps: 100 }, { rps: 110 }],
      summary: { rps: { median: 100, min: 90, max: 110, n: 3 }, p99Ms: { median: 2, min: 1, max: 3, n: 3 } },
      memory: { connections: 10_000, held: 10_000, idleBytes: 40 * 1024 ** 2, loadedBytes: 100 * 1024 ** 2 },
    },
    {
      id: 'node',
      label: 'node | raw',
      role: 'anchor',
      status: 'ok',
      runs: [{ rps: 200 }],
      summary: { rps: { median: 200, min: 200, max: 200, n: 1 } },
    },
    { id: 'later', label: 'later', role: 'srv', status: 'skipped', note: 'not built', runs: [], summary: {} },
  ],
  ratios: [{ of: 'srv', to: 'node', figure: 'rps', value: 0.5, goal: { min: 0.95 }, met: false }],
  goals: [],
};

describe('report', () => {
  it('formats ratios with their goal', () => {
    expect(formatRatio(sample.ratios[0]!)).toBe('0.50× · goal ≥ 0.95× ❌');
    expect(formatRatio({ of: 'a', to: 'b', figure: 'rps', missing: 'no figure for b' })).toBe(
      '– (no figure for b)',
    );
  });

  it('renders a Markdown table with figures, ratios, memory and notes', () => {
    const report: Report = {
      date: '2026-11-24T21:00:00.000Z',
      mode: 'full',
      machine: {
        cpus: 2,
        cpuModel: 'Test CPU',
        memoryGB: 4,
        platform: 'linux-x64',
        kernel: '6.1',
        node: 'v20.20.2',
        loader: 'wrk',
        pinning: 'none',
      },
      groups: [sample],
    };
    const markdown = renderMarkdown(report);
    expect(markdown).toContain('- machine: 2 × Test CPU, 4 GB, linux-x64 6.1');
    expect(markdown).toContain('| srv <fast> | srv | 100 (90.0–110) | 2.00 (1.00–3.00) | 0 |  |');
    expect(markdown).toContain('| node \\| raw | anchor | 200 | – | 0 |  |');
    expect(markdown).toContain('| later | srv | – | – | – | **skipped**: not built |');
    expect(markdown).toContain('| srv <fast> / node \\| raw | 0.50× · goal ≥ 0.95× ❌ |');
    expect(markdown).toContain('| srv <fast> | 40.0 | 100.0 | 60.0 | 10000 / 10000 |  |');
    expect(markdown).toContain('![demo](svg/demo.svg)');
    // An old report (no `measure`) is RSS; no RSS column figure and no process count were recorded.
    expect(markdown).toContain('| demo | srv <fast> | 40.0 ✅ | – | – | 60.0 (10000 conns) ✅ |');
    expect(markdown).toContain('| memory | idle RSS (MB) |');
  });

  it("renders PSS memory, an entry's own goal, a burst, and a first-round figure", () => {
    const group: GroupResult = {
      ...sample,
      entries: [
        {
          ...sample.entries[0]!,
          firstRound: { rps: 70 },
          memory: {
            measure: 'pss',
            connections: 0,
            idleBytes: 90 * 1024 ** 2,
            idleRssBytes: 150 * 1024 ** 2,
            idleProcesses: 3,
            idleGoalMB: 100,
            burst: {
              label: '200 at once',
              withinSeconds: 35,
              burstSeconds: 2.5,
              peakBytes: 900 * 1024 ** 2,
              peakProcesses: 41,
              afterBytes: 95 * 1024 ** 2,
              afterRssBytes: 160 * 1024 ** 2,
              afterProcesses: 3,
              afterSeconds: 31,
              backAfterSeconds: 31,
            },
          },
        },
        sample.entries[1]!,
      ],
      ratios: [
        { of: 'srv', to: 'node', figure: 'rps', value: 0.35, goal: { min: 0.4 }, met: false, round: 'first' },
      ],
    };
    const markdown = renderMarkdown({
      date: '2026-11-24T21:00:00.000Z',
      mode: 'full',
      machine: {
        cpus: 2,
        cpuModel: 'x',
        memoryGB: 4,
        platform: 'linux-x64',
        kernel: '6.1',
        node: 'v20',
        loader: 'wrk',
        pinning: 'none',
      },
      groups: [group],
    });
    expect(markdown).toContain('| demo | srv <fast> | 90.0 (goal < 100) ✅ | 150.0 | 3 | – |');
    expect(markdown).toContain(
      '| demo | srv <fast> | 200 at once | 2.50 | 900.0 | 41 | 95.0 | 160.0 | 3 | 31.0 s | < 100 MB within 35 s ✅ |',
    );
    expect(markdown).toContain('| memory | idle PSS (MB) |');
    expect(markdown).toContain(
      'srv <fast> / node \\| raw (rate, first round alone) | 0.35× (first round) · goal ≥ 0.4× ❌ |',
    );
    expect(markdown).toContain(
      '- srv <fast>, started right before its first round (no warm-up): first round 70.0 req/s',
    );
  });

  it('draws an SVG bar per measured entry, scaled to the largest, with escaped labels', () => {
    const svg = renderSvg(sample, '2026-11-24 · 2 cpus');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('demo &lt;group&gt;');
    expect(svg).toContain('srv &lt;fast&gt;');
    expect(svg).not.toContain('<fast>');
    const bars = [...svg.matchAll(/<rect x="230" y="\d+" width="([\d.]+)"/g)].map((match) =>
      Number(match[1]),
    );
    expect(bars).toHaveLength(2);
    // The node bar reaches the full plot width (the largest max); srv's median is half of it.
    expect(bars[1]).toBeCloseTo(390, 0);
    expect(bars[0]).toBeCloseTo(195, 0);
    expect(svg).toContain('>skipped</text>');
    expect(svg).toContain('grey: anchors · 2026-11-24 · 2 cpus');
  });
});

describe('memory', () => {
  it('reads PSS and RSS of a process tree from /proc', () => {
    const memory = treeMemory(process.pid);
    if (memory === undefined) return; // not Linux
    expect(memory.processes).toBeGreaterThanOrEqual(1);
    expect(memory.rss).toBeGreaterThan(0);
    expect(memory.pss).toBeGreaterThan(0);
    expect(memory.pss!).toBeLessThanOrEqual(memory.rss);
  });
});

describe('a real group, end to end', () => {
  it('measures raw node:http with the real load generator, skips a missing package, stops its server', async () => {
    const ports: number[] = [];
    const group = defineGroup({
      id: 'e2e',
      title: 'e2e',
      load: { kind: 'http', path: '/', connections: 4 },
      metric: 'rps',
      entries: [
        anchor(
          'node-http',
          'raw node:http',
          (ctx) => {
            ports.push(ctx.port);
            return { server: ctx.node('node-http-hello.mjs', { KEEPALIVE_MS: '60000' }) };
          },
          { memory: true },
        ),
        anchor('missing', 'missing package', async (ctx) => {
          await ctx.requireExports('@srv/does-not-exist', ['Nothing']);
          return {};
        }),
      ],
      ratios: [{ of: 'node-http', to: 'missing' }],
    });
    const result = await runGroup(group, {
      quick: true,
      pinning: detectPinning(),
      http: chooseHttpLoader(),
      tcp: chooseTcpLoader(),
      seconds: 1,
    });
    const [node, missing] = result.entries;
    expect(node?.status).toBe('ok');
    expect(node?.summary.rps?.median).toBeGreaterThan(0);
    expect(node?.memory?.idleBytes).toBeGreaterThan(0);
    expect(node?.memory?.held).toBe(1000);
    expect(node?.memory?.loadedBytes).toBeGreaterThan(node?.memory?.idleBytes ?? 0);
    expect(missing).toMatchObject({ status: 'skipped' });
    expect(missing?.note).toContain('@srv/does-not-exist');
    expect(result.ratios[0]).toMatchObject({ missing: 'no figure for missing' });
    expect(isListening(ports[0]!)).toBe(false);
  }, 60_000);

  it('falls back to autocannon, and fails (not skips) an entry whose server never listens', async () => {
    const group = defineGroup({
      id: 'e2e-autocannon',
      title: 'e2e',
      load: { kind: 'http', path: '/', connections: 4 },
      metric: 'rps',
      entries: [
        anchor('node-http', 'raw node:http', (ctx) => ({ server: ctx.node('node-http-hello.mjs') })),
        anchor('broken', 'exits at once', () => ({
          server: { command: process.execPath, args: ['-e', 'process.exit(3)'] },
        })),
      ],
    });
    const result = await runGroup(group, {
      quick: true,
      pinning: detectPinning(),
      http: chooseHttpLoader('autocannon'),
      tcp: chooseTcpLoader('node'),
      seconds: 1,
    });
    const [node, broken] = result.entries;
    expect(node?.summary.rps?.median).toBeGreaterThan(0);
    expect(broken).toMatchObject({ status: 'failed' });
    expect(broken?.note).toContain('server exited (3) before listening');
  }, 60_000);

  it('holds connections and times GETs; starts fresh servers per round and records the first', async () => {
    const group = defineGroup({
      id: 'e2e-held',
      title: 'e2e',
      load: { kind: 'held', hold: 20, holdSend: 'GET / HTTP/1.1\r\nHost: x\r\n', requests: 5, path: '/' },
      metric: 'p95Ms',
      extra: ['p50Ms', 'maxMs'],
      entries: [
        anchor('fresh', 'fresh every round', (ctx) => ({
          server: ctx.node('node-http-hello.mjs'),
          fresh: 'every-round',
        })),
        anchor('probes', 'after probes', (ctx) => ({
          server: ctx.node('node-http-hello.mjs'),
          load: { kind: 'held', hold: 20, holdSend: null, requests: 5, path: '/' },
          fresh: 'first-round',
        })),
      ],
      goals: [{ entry: 'fresh', max: 1000 }],
    });
    const result = await runGroup(group, {
      quick: true,
      pinning: detectPinning(),
      http: chooseHttpLoader(),
      tcp: chooseTcpLoader(),
      rounds: 2,
    });
    const [fresh, probes] = result.entries;
    expect(fresh?.status).toBe('ok');
    expect(fresh?.runs).toHaveLength(2);
    expect(fresh?.runs[0]).toMatchObject({ held: 20, errors: 0 });
    expect(fresh?.summary.p95Ms?.median).toBeGreaterThan(0);
    expect(fresh?.firstRound?.p95Ms).toBe(fresh?.runs[0]?.p95Ms);
    expect(probes?.runs[0]).toMatchObject({ held: 0, errors: 0 });
    expect(probes?.firstRound).toBeDefined();
    expect(result.goals[0]?.met).toBe(true);
    expect(result.load).toContain('20 connections holding an unfinished request head, then 5 GETs /');
  }, 60_000);

  // Both TCP load generators drive the same three loads against the raw node:net servers; their
  // figures must be real (a reply counted only when its bytes came back, errors only when refused).
  it.each(['c', 'node'] as const)(
    'the %s TCP load generator runs one-shot, echo and burst loads',
    async (prefer) => {
      const tcp = chooseTcpLoader(prefer);
      expect(tcp.kind).toBe(prefer);
      const group = (id: string, load: Parameters<typeof defineGroup>[0]['load'], script: string) =>
        defineGroup({
          id,
          title: id,
          load,
          metric: load.kind === 'tcp-burst' ? 'seconds' : 'rps',
          entries: [anchor('net', 'raw node:net', (ctx) => ({ server: ctx.node(script) }))],
        });
      const options = { quick: true, pinning: detectPinning(), http: chooseHttpLoader(), tcp, seconds: 0.5 };
      const oneshot = await runGroup(
        group('oneshot', { kind: 'tcp-oneshot', send: 'seconds\n', connections: 8 }, 'net-time.mjs'),
        options,
      );
      expect(oneshot.entries[0]?.status).toBe('ok');
      expect(oneshot.entries[0]?.summary.rps?.median).toBeGreaterThan(0);
      expect(oneshot.entries[0]?.runs[0]?.errors).toBe(0);
      const echo = await runGroup(
        group('echo', { kind: 'tcp-echo', size: 64, connections: 2 }, 'net-echo.mjs'),
        options,
      );
      expect(echo.entries[0]?.summary.rps?.median).toBeGreaterThan(0);
      expect(echo.entries[0]?.summary.p50Ms?.median).toBeGreaterThan(0);
      const burst = await runGroup(
        group('burst', { kind: 'tcp-burst', send: 'seconds\n', count: 16 }, 'net-time.mjs'),
        options,
      );
      expect(burst.entries[0]?.summary.seconds?.median).toBeGreaterThan(0);
      expect(burst.entries[0]?.runs[0]?.errors).toBe(0);
    },
    60_000,
  );
});
