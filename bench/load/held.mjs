// Latency of normal requests while other connections sit on the server (a `held` load).
// Argument: JSON { port, hold, holdSend, requests, path, timeoutMs? }.
//  1. Opens `hold` connections; each sends `holdSend` (a request head that never ends) and then
//     nothing more, or, with `holdSend: null`, closes at once (a connect-and-leave probe, as load
//     balancers' health checks and port scanners do). Held connections stay open until the end.
//  2. Waits 200 ms so the server has accepted and read them all.
//  3. Sends `requests` GETs of `path`, one after another, each on a new connection, timing each from
//     connect to the end of the response (the server closes, or Content-Length bytes of body arrived).
//     A GET unanswered after `timeoutMs` (default 2000) counts as that long and as an error.
// Prints one JSON line: { p50Ms, p95Ms, maxMs, errors, held, heldClosedByServer }.
import net from 'node:net';

const { port, hold, holdSend, requests, path, timeoutMs = 2000 } = JSON.parse(process.argv[2] ?? '{}');
const host = '127.0.0.1';

function open(index) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setNoDelay(true);
    const state = { socket, failed: false, closedByServer: false };
    socket.once('connect', () => {
      if (holdSend === null) {
        socket.destroy();
      } else {
        socket.write(holdSend);
      }
      resolve(state);
    });
    socket.on('error', () => {
      state.failed = true;
      resolve(state);
    });
    socket.on('end', () => {
      state.closedByServer = true;
    });
    socket.on('close', () => resolve(state));
    void index;
  });
}

function timedGet() {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e6;
    const socket = net.connect({ port, host });
    socket.setNoDelay(true);
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (ok) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ms: ok ? elapsed() : Math.max(elapsed(), timeoutMs), ok });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once('connect', () =>
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`),
    );
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      const headEnd = received.indexOf('\r\n\r\n');
      if (headEnd === -1) return;
      const head = received.subarray(0, headEnd).toString('latin1');
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (length && received.length - headEnd - 4 >= Number(length[1]))
        finish(/^HTTP\/1\.[01] 200/.test(head));
    });
    socket.on('end', () => finish(/^HTTP\/1\.[01] 200/.test(received.toString('latin1'))));
    socket.on('error', () => finish(false));
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return undefined;
  // Nearest rank: the smallest value with at least p% of the samples at or below it.
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

const held = await Promise.all(Array.from({ length: hold }, (_, index) => open(index)));
await new Promise((resolve) => setTimeout(resolve, 200));
const times = [];
let errors = 0;
for (let index = 0; index < requests; index += 1) {
  const { ms, ok } = await timedGet();
  times.push(ms);
  if (!ok) errors += 1;
}
const stillHeld = held.filter((state) => !state.failed && !state.socket.destroyed).length;
const closedByServer = held.filter((state) => state.closedByServer).length;
for (const state of held) state.socket.destroy();
times.sort((a, b) => a - b);
process.stdout.write(
  `${JSON.stringify({
    p50Ms: percentile(times, 50),
    p95Ms: percentile(times, 95),
    maxMs: times.at(-1),
    errors,
    held: holdSend === null ? 0 : stillHeld,
    heldClosedByServer: closedByServer,
  })}\n`,
);
process.exit(0);
