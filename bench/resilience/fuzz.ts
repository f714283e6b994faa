/**
 * A seeded raw-byte fuzzer: it mutates valid requests (byte flips, inserted separators and control
 * bytes, deleted or repeated spans, duplicated, dropped or swapped lines, truncation, numbers made
 * huge or negative) and sends each to a target; after every case, the target must still answer its
 * normal request. The same seed gives the same cases.
 */
import { rawExchange, statusesOf, type Target } from './targets.js';

/** mulberry32: small, fast, and the same sequence everywhere. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seedCorpus(target: Target): string[] {
  const path = target.spec.healthPath;
  const corpus = [
    `GET ${path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: fuzz\r\nAccept: */*\r\n\r\n`,
    `HEAD ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    `GET ${path}?q=1&r=%20 HTTP/1.0\r\n\r\n`,
    `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world`,
    `POST ${path} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`,
    `GET ${path} HTTP/1.1\r\nHost: localhost\r\nRange: bytes=0-10,20-30\r\nIf-None-Match: "x"\r\n\r\n`,
    `OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n`,
    `GET http://localhost${path} HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n\r\n`,
    `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\nGET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
  ];
  if (target.spec.cgi) {
    corpus.push(
      'POST /cgi-bin/cat.sh HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello',
      'GET /cgi-bin/env.sh/extra/path?x=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    );
  }
  if (target.spec.files) {
    corpus.push('GET /dir/ HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip, br\r\n\r\n');
  }
  return corpus;
}

const interesting = [
  '\0',
  '\r',
  '\n',
  '\r\n',
  ' ',
  '\t',
  ':',
  '%',
  '/',
  '..',
  '\x7f',
  '\xff',
  ',',
  ';',
  '"',
  '\\',
  '#',
  '?',
];

/** One mutation of `input` (as latin1 text, so every byte survives). */
function mutate(input: string, random: () => number): string {
  const pick = (n: number) => Math.floor(random() * n);
  const at = pick(input.length + 1);
  switch (pick(10)) {
    case 0: {
      const code = input.charCodeAt(at) ^ (1 << pick(8));
      return input.slice(0, at) + String.fromCharCode(code & 0xff) + input.slice(at + 1);
    }
    case 1:
      return input.slice(0, at) + interesting[pick(interesting.length)] + input.slice(at);
    case 2:
      return input.slice(0, at) + input.slice(at + 1 + pick(16));
    case 3: {
      const span = input.slice(at, at + 1 + pick(12));
      return (
        input.slice(0, at) + span.repeat(2 + pick(pick(2) === 0 ? 8 : 4000)) + input.slice(at + span.length)
      );
    }
    case 4: {
      const lines = input.split('\r\n');
      const index = pick(lines.length);
      lines.splice(index, 0, lines[index] ?? '');
      return lines.join('\r\n');
    }
    case 5: {
      const lines = input.split('\r\n');
      lines.splice(pick(lines.length), 1);
      return lines.join('\r\n');
    }
    case 6: {
      const lines = input.split('\r\n');
      const a = pick(lines.length);
      const b = pick(lines.length);
      [lines[a], lines[b]] = [lines[b]!, lines[a]!];
      return lines.join('\r\n');
    }
    case 7:
      return input.slice(0, at);
    case 8:
      return input.replace(/\d+/, () => ['0', '-1', '99999999999999999999', '1e3', '0x10', ' 5'][pick(6)]!);
    default: {
      const bytes = Array.from({ length: 1 + pick(8) }, () => String.fromCharCode(pick(256))).join('');
      return input.slice(0, at) + bytes + input.slice(at);
    }
  }
}

export interface FuzzResult {
  cases: number;
  failures: string[];
}

/**
 * Fuzzes `targets` round-robin for `durationMs`; `check` tells whether a target still serves (and
 * restarts it when not, counting the restart).
 */
export async function fuzz(
  targets: readonly Target[],
  seed: number,
  durationMs: number,
  check: (target: Target, what: string) => Promise<boolean>,
): Promise<Map<Target, FuzzResult>> {
  const random = createRandom(seed);
  const results = new Map<Target, FuzzResult>(targets.map((target) => [target, { cases: 0, failures: [] }]));
  const corpora = new Map(targets.map((target) => [target, seedCorpus(target)]));
  const deadline = performance.now() + durationMs;
  for (let round = 0; performance.now() < deadline; round += 1) {
    const target = targets[round % targets.length]!;
    const corpus = corpora.get(target)!;
    let input = corpus[Math.floor(random() * corpus.length)]!;
    const rounds = 1 + Math.floor(random() * 4);
    for (let index = 0; index < rounds; index += 1) input = mutate(input, random);
    const result = results.get(target)!;
    result.cases += 1;
    const reply = await rawExchange(target.port, Buffer.from(input, 'latin1'), { idleMs: 250 });
    const statuses = statusesOf(reply.text);
    // A 500 means a handler threw on this input: a bug, whatever the input.
    if (statuses.includes(500)) result.failures.push(`500 for ${JSON.stringify(input.slice(0, 200))}`);
    if (!(await check(target, `fuzz case ${JSON.stringify(input.slice(0, 120))}`))) {
      result.failures.push(`stopped serving after ${JSON.stringify(input.slice(0, 200))}`);
    }
  }
  return results;
}
