/**
 * The hand-written cases: the defects of issue 19, request smuggling shapes, traversal and open
 * redirects, range abuse, 10k pipelined requests, resets mid-response, and the UDP guards. Each case
 * returns `undefined` when the server behaved, else what went wrong.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';
import { rawExchange, statusesOf, type Target, udpAsk } from './targets.js';

export interface Case {
  readonly name: string;
  /** Which targets it applies to. */
  readonly applies: (target: Target) => boolean;
  readonly run: (target: Target, secret: string) => Promise<string | undefined>;
}

const isHttp = (target: Target) => target.spec.kind === 'http';
const servesFiles = (target: Target) => target.spec.files;
const runsCgi = (target: Target) => target.spec.cgi;

/** Expects exactly these statuses on one connection, and (when `closes`) the connection closed. */
function expectStatuses(
  request: string | readonly string[],
  wanted: readonly number[],
  options: { closes?: boolean; withinMs?: number } = {},
): (target: Target) => Promise<string | undefined> {
  return async (target) => {
    const reply = await rawExchange(target.port, request, { idleMs: options.withinMs ?? 3000 });
    const got = statusesOf(reply.text);
    if (got.join(',') !== wanted.join(','))
      return `statuses ${got.join(',') || 'none'}, wanted ${wanted.join(',')}`;
    if (options.closes && !reply.closed) return 'connection left open';
    return undefined;
  };
}

/** At most one response and never the smuggled request's; a 2xx only when `mayServe`. */
function expectNoSmuggling(
  request: string,
  mayServe = false,
): (target: Target) => Promise<string | undefined> {
  return async (target) => {
    const reply = await rawExchange(target.port, request, { idleMs: 2000 });
    const got = statusesOf(reply.text);
    if (got.length > 1) return `${got.length} responses (${got.join(',')}): a second request was smuggled`;
    if (reply.text.includes('/smuggled')) return 'the smuggled request was answered';
    if (!mayServe && got[0] !== undefined && got[0] < 400) return `answered ${got[0]}, wanted a 4xx`;
    return undefined;
  };
}

function expectNoLeak(target: string): (target: Target, secret: string) => Promise<string | undefined> {
  return async (t, secret) => {
    const reply = await rawExchange(t.port, `GET ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
    const status = statusesOf(reply.text)[0];
    if (reply.text.includes(secret) || /root:.*:0:0:/.test(reply.text))
      return `leaked a file outside the root (${status})`;
    if (status === undefined) return 'no answer';
    if (status >= 500) return `answered ${status}`;
    const location = /\r\nLocation: ([^\r\n]*)/i.exec(reply.text)?.[1];
    if (location !== undefined && /^(?:[/\\]{2}|[a-z][a-z0-9+.-]*:)/i.test(location)) {
      return `open redirect: Location ${location}`;
    }
    return undefined;
  };
}

const get = (target: string, extra = '') =>
  `GET ${target} HTTP/1.1\r\nHost: a\r\n${extra}Connection: close\r\n\r\n`;

export const httpCases: readonly Case[] = [
  // Issue 19, item 2: bad framing → one 400 (501 for a coding before chunked), close.
  {
    name: 'Transfer-Encoding: xchunked → one 400, closed',
    applies: isHttp,
    run: expectStatuses('GET /a.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n', [400], {
      closes: true,
    }),
  },
  ...['zz\r\n', '5\r\nhelloXX', 'fffffffffffffffffffff\r\n'].map(
    (body): Case => ({
      name: `chunked body ${JSON.stringify(body)} → one 400, closed`,
      applies: isHttp,
      run: expectStatuses(
        `POST /a.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${body}`,
        [400],
        {
          closes: true,
        },
      ),
    }),
  ),
  {
    name: 'Transfer-Encoding: gzip, chunked → 501',
    applies: isHttp,
    run: expectStatuses(
      'POST /a.txt HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
      [501],
      {
        closes: true,
      },
    ),
  },
  {
    name: 'bad chunk after a CGI script started reading → closed, no response',
    applies: runsCgi,
    run: async (target) => {
      const reply = await rawExchange(
        target.port,
        [
          'POST /cgi-bin/cat.sh HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n',
          'zz\r\n',
        ],
        { idleMs: 5000 },
      );
      const got = statusesOf(reply.text);
      if (!reply.closed) return 'connection left open';
      if (got.length > 1 || (got.length === 1 && got[0] !== 400)) return `statuses ${got.join(',')}`;
      return undefined;
    },
  },
  // Item 5: protocol details.
  {
    name: 'absolute-form target is served',
    applies: servesFiles,
    run: expectStatuses(
      'GET http://example.test/a.txt HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n',
      [200],
    ),
  },
  {
    name: 'two Host headers → 400',
    applies: isHttp,
    run: expectStatuses('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', [400]),
  },
  {
    name: 'HTTP/0.9 request line answered at once',
    applies: isHttp,
    run: async (target) => {
      const reply = await rawExchange(target.port, 'GET /\r\n', { idleMs: 3000 });
      if (!reply.closed) return `no answer within ${Math.round(reply.ms)} ms`;
      return statusesOf(reply.text).length === 1 ? undefined : 'no status line';
    },
  },
  // Item 6.
  {
    name: 'CGI PATH_INFO with a control character → 400',
    applies: runsCgi,
    run: expectStatuses(get('/cgi-bin/env.sh/a%0ab'), [400]),
  },
  // Smuggling shapes.
  {
    name: 'CL.TE',
    applies: isHttp,
    run: expectNoSmuggling(
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n',
    ),
  },
  {
    name: 'TE.CL',
    applies: isHttp,
    run: expectNoSmuggling(
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n1e\r\nGET /smuggled HTTP/1.1\r\nX: \r\n0\r\n\r\n',
    ),
  },
  {
    name: 'duplicate Content-Length',
    applies: isHttp,
    run: expectNoSmuggling(
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 40\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n',
    ),
  },
  {
    name: 'Transfer-Encoding with obs-fold',
    applies: isHttp,
    run: expectNoSmuggling(
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n chunked\r\nContent-Length: 0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n',
    ),
  },
  {
    name: 'obs-fold header',
    applies: isHttp,
    run: expectNoSmuggling('GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n'),
  },
  {
    name: 'bare CR in the request line',
    applies: isHttp,
    run: expectNoSmuggling('GET / HTTP/1.1\rHost: a\r\n\r\n'),
  },
  {
    name: 'bare CR in a header',
    applies: isHttp,
    run: expectNoSmuggling('GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n'),
  },
  {
    name: 'bare LF line endings',
    applies: isHttp,
    run: expectNoSmuggling('GET / HTTP/1.1\nHost: a\n\n', true),
  },
  {
    name: 'NUL in a header value',
    applies: isHttp,
    run: expectNoSmuggling('GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n'),
  },
  {
    name: 'NUL in the target',
    applies: isHttp,
    run: expectNoSmuggling('GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n'),
  },
  {
    name: 'space before the header colon',
    applies: isHttp,
    run: expectNoSmuggling(
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n',
    ),
  },
  // Traversal and open redirects.
  ...[
    '/../secret.txt',
    '/%2e%2e/secret.txt',
    '/..%2fsecret.txt',
    '/..%5csecret.txt',
    '/dir/../../secret.txt',
    '/%252e%252e/secret.txt',
    '/.%2e/.%2e/etc/passwd',
    '/a.txt%00.html',
    '//etc/passwd',
    'http://a/../secret.txt',
    '/cgi-bin/../../secret.txt',
    '/cgi-bin/%2e%2e/%2e%2e/secret.txt',
  ].map((target): Case => ({ name: `traversal ${target}`, applies: isHttp, run: expectNoLeak(target) })),
  ...['//evil.example/%2e%2e', '/\\evil.example/', '//evil.example/dir', '/dir', '/%2f%2fevil.example/'].map(
    (target): Case => ({ name: `redirect ${target}`, applies: isHttp, run: expectNoLeak(target) }),
  ),
  // Range abuse.
  {
    name: 'a thousand overlapping ranges',
    applies: servesFiles,
    run: async (target) => {
      const ranges = Array.from({ length: 1000 }, () => '0-1023').join(',');
      const reply = await rawExchange(target.port, get('/a.txt', `Range: bytes=${ranges}\r\n`));
      const status = statusesOf(reply.text)[0];
      if (status === undefined) return 'no answer';
      if (reply.bytes > 8192) return `${reply.bytes} bytes for a 1 KiB file`;
      return undefined;
    },
  },
  {
    name: 'ranges: suffix 0, past the end, huge numbers',
    applies: servesFiles,
    run: async (target) => {
      for (const range of [
        'bytes=-0',
        'bytes=5000-6000',
        'bytes=0-99999999999999999999999',
        'bytes=1-0',
        'bytes=--1',
      ]) {
        const reply = await rawExchange(target.port, get('/a.txt', `Range: ${range}\r\n`));
        const status = statusesOf(reply.text)[0];
        if (status === undefined || status >= 500) return `${range} → ${status ?? 'no answer'}`;
      }
      return undefined;
    },
  },
  // 10k pipelined requests on one connection.
  {
    name: '10k pipelined requests',
    applies: isHttp,
    run: async (target) => {
      const count = target.spec.keepAlive ? 10_000 : 100;
      const one = `GET ${target.spec.healthPath} HTTP/1.1\r\nHost: a\r\n\r\n`;
      const reply = await rawExchange(target.port, one.repeat(count), {
        idleMs: 10_000,
        maxBytes: 64 * 1024 * 1024,
      });
      const got = statusesOf(reply.text);
      const wanted = target.spec.keepAlive ? count : 1;
      if (got.length !== wanted || got.some((status) => status !== 200)) {
        return `${got.length} responses (${[...new Set(got)].join(',')}), wanted ${wanted}×200`;
      }
      return undefined;
    },
  },
  // Resets mid-response, aborted uploads, a client that stops reading.
  {
    name: '20 resets mid-response',
    applies: isHttp,
    run: async (target) => {
      const path = target.spec.files ? '/big.bin' : target.spec.healthPath;
      for (let index = 0; index < 20; index += 1) {
        const socket = net.connect(target.port, '127.0.0.1');
        socket.on('error', () => {});
        await once(socket, 'connect');
        socket.write(`GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`);
        await once(socket, 'data');
        socket.resetAndDestroy();
      }
      return undefined;
    },
  },
  {
    name: '20 uploads aborted mid-body',
    applies: isHttp,
    run: async (target) => {
      const path = target.spec.cgi ? '/cgi-bin/cat.sh' : '/';
      const before = target.stderrLines();
      const stacksBefore = target.stackLines();
      for (let index = 0; index < 20; index += 1) {
        const socket = net.connect(target.port, '127.0.0.1');
        socket.on('error', () => {});
        await once(socket, 'connect');
        socket.write(
          `POST ${path} HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n${'x'.repeat(1000)}`,
        );
        await new Promise((resolve) => setImmediate(resolve));
        if (index % 2 === 0) socket.resetAndDestroy();
        else socket.destroy();
      }
      // Log floods: no stack traces, and a few lines per request at most (access, error, abort).
      const lines = target.stderrLines() - before;
      const stacks = target.stackLines() - stacksBefore;
      if (stacks > 0) return `${stacks} stack-trace lines for 20 aborted uploads`;
      return lines > 60 ? `${lines} log lines for 20 aborted uploads` : undefined;
    },
  },
  {
    name: 'a client that stops reading is cut off after --send-timeout',
    applies: (target) => target.spec.name === 'srv-static',
    run: async (target) => {
      const socket = net.connect(target.port, '127.0.0.1');
      socket.on('error', () => {});
      await once(socket, 'connect');
      socket.pause();
      socket.write('GET /big.bin HTTP/1.1\r\nHost: a\r\n\r\n');
      // The bin runs with --send-timeout 2: within 6 s the server must have closed its end.
      const closed = once(socket, 'close').then(() => true);
      await new Promise((resolve) => setTimeout(resolve, 4000));
      let received = 0;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
      });
      socket.resume();
      const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000));
      const result = await Promise.race([closed, timer]);
      socket.destroy();
      if (!result) return 'still open';
      return received >= 32 * 1024 * 1024 ? 'got the whole file: never cut off' : undefined;
    },
  },
];

export const timeTcpCases: readonly Case[] = [
  {
    name: 'each word',
    applies: () => true,
    run: async (target) => {
      for (const word of ['seconds', 'asctime', 'rfc822', 'SECONDS\r']) {
        const reply = await rawExchange(target.port, `${word}\n`);
        if (!reply.closed || reply.text.length === 0) return `${word}: no answer`;
      }
      return undefined;
    },
  },
  {
    name: 'an unknown word gets the help text (TCP)',
    applies: () => true,
    run: async (target) =>
      (await rawExchange(target.port, 'nope\n')).text.length > 100 ? undefined : 'no help text',
  },
  {
    name: 'a line longer than 1024 bytes',
    applies: () => true,
    run: async (target) => {
      const reply = await rawExchange(target.port, `${'z'.repeat(100_000)}\n`);
      return reply.text.startsWith('error: request line longer') && reply.closed ? undefined : 'not refused';
    },
  },
  {
    name: 'binary garbage and NULs',
    applies: () => true,
    run: async (target) => {
      const reply = await rawExchange(target.port, Buffer.from([0, 255, 13, 10, 0, 1, 2]));
      return reply.closed ? undefined : 'left open';
    },
  },
  {
    name: '200 connections that send nothing',
    applies: () => true,
    run: async (target) => {
      const sockets = await Promise.all(
        Array.from({ length: 200 }, async () => {
          const socket = net.connect(target.port, '127.0.0.1');
          socket.on('error', () => {});
          await once(socket, 'connect');
          return socket;
        }),
      );
      const reply = await rawExchange(target.port, 'seconds\n');
      for (const socket of sockets) socket.destroy();
      return /^\d+\n$/.test(reply.text) ? undefined : 'not served beside idle connections';
    },
  },
];

/** A UDP socket bound to `port` on `host` (a low port needs root): undefined when it cannot bind. */
async function udpFrom(host: string, port: number): Promise<dgram.Socket | undefined> {
  const socket = dgram.createSocket('udp4');
  socket.on('error', () => {});
  try {
    socket.bind(port, host);
    await once(socket, 'listening');
    return socket;
  } catch {
    socket.close();
    return undefined;
  }
}

/** Sends `word` from `socket` and reports whether anything came back before a control reply did. */
async function answeredBefore(target: Target, socket: dgram.Socket, word: string): Promise<boolean> {
  let answered = false;
  socket.on('message', () => {
    answered = true;
  });
  socket.send(word, target.port, '127.0.0.1');
  // The same server answers a normal client after the datagram above has been handled (in order).
  await udpAsk(target.port, 'seconds', 3000);
  await new Promise((resolve) => setImmediate(resolve));
  return answered;
}

export const timeUdpCases: readonly Case[] = [
  {
    name: 'empty, 1-byte and unknown datagrams get no answer',
    applies: () => true,
    run: async (target) => {
      for (const word of ['', 'x', 'help']) {
        const socket = await udpFrom('127.0.0.1', 0);
        if (!socket) return 'cannot bind';
        const answered = await answeredBefore(target, socket, word);
        socket.close();
        if (answered) return `${JSON.stringify(word)} was answered`;
      }
      return undefined;
    },
  },
  {
    name: "no answer to the server's own port (self-loop)",
    applies: () => true,
    run: async (target) => {
      const socket = await udpFrom('127.0.0.2', target.port);
      if (!socket) return undefined; // 127.0.0.2 not routable here: covered by the package tests
      const answered = await answeredBefore(target, socket, 'seconds');
      socket.close();
      return answered ? 'answered its own port' : undefined;
    },
  },
  {
    name: 'no answer to a source port below 1024 (loop with echo/daytime)',
    applies: () => true,
    run: async (target) => {
      const socket = await udpFrom('127.0.0.1', 7);
      if (!socket) return undefined; // not root: covered by the package tests
      const answered = await answeredBefore(target, socket, 'seconds');
      socket.close();
      return answered ? 'answered port 7' : undefined;
    },
  },
  {
    name: 'a flood from one source gets at most the burst',
    applies: () => true,
    run: async (target) => {
      const socket = await udpFrom('127.0.0.1', 0);
      if (!socket) return 'cannot bind';
      let replies = 0;
      socket.on('message', () => {
        replies += 1;
      });
      for (let index = 0; index < 500; index += 1) socket.send('seconds', target.port, '127.0.0.1');
      await udpAsk(target.port, 'seconds', 3000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.close();
      return replies > 60 ? `${replies} replies to 500 datagrams` : undefined;
    },
  },
];
