// Load generator for non-HTTP loads. Runs in its own (pinned) process and prints one JSON line:
// { rps, p50Ms, p99Ms, seconds, errors }. Arguments come as one JSON object in argv[2].
import net from 'node:net';

const spec = JSON.parse(process.argv[2] ?? '{}');
const port = Number(spec.port);
const host = '127.0.0.1';

function percentile(sorted, q) {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function summary(latencies, count, errors, elapsedMs) {
  latencies.sort((a, b) => a - b);
  return {
    rps: count / (elapsedMs / 1000),
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    errors,
  };
}

// Each closed connection's 4-tuple sits in TIME_WAIT for 60 s and one source address has ~28k ports,
// so the source cycles through 127.0.1.1-254 (all loopback) and a long run never runs out of ports.
let nextSource = 0;
function localAddress() {
  nextSource = (nextSource % 254) + 1;
  return `127.0.1.${nextSource}`;
}

// One connection: send, read until the server closes; resolves with the reply length (0 = failure).
function oneShot(send) {
  return new Promise((resolve) => {
    let length = 0;
    const socket = net.connect({ port, host, localAddress: localAddress() });
    socket.setNoDelay(true);
    socket.setTimeout(10_000, () => socket.destroy());
    socket.once('connect', () => socket.end(send));
    socket.on('data', (chunk) => {
      length += chunk.length;
    });
    socket.once('error', () => {});
    socket.once('close', () => resolve(length));
  });
}

async function oneshotLoad() {
  const deadline = performance.now() + spec.seconds * 1000;
  const latencies = [];
  let count = 0;
  let errors = 0;
  const start = performance.now();
  async function worker() {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const length = await oneShot(spec.send);
      if (length > 0) {
        count += 1;
        latencies.push(performance.now() - t0);
      } else errors += 1;
    }
  }
  await Promise.all(Array.from({ length: spec.connections }, worker));
  return summary(latencies, count, errors, performance.now() - start);
}

async function echoLoad() {
  const line = Buffer.from(`${'x'.repeat(spec.size - 1)}\n`);
  const deadline = performance.now() + spec.seconds * 1000;
  const latencies = [];
  let count = 0;
  let errors = 0;
  const start = performance.now();
  async function worker() {
    const socket = net.connect({ port, host });
    socket.setNoDelay(true);
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    let pending;
    let received = 0;
    socket.on('data', (chunk) => {
      received += chunk.length;
      if (received >= line.length && pending) {
        received -= line.length;
        const done = pending;
        pending = undefined;
        done(true);
      }
    });
    socket.on('close', () => pending?.(false));
    socket.on('error', () => {});
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const ok = await new Promise((resolve) => {
        // A reply that never comes is an error, not a hang.
        const timer = setTimeout(() => resolve(false), 5000);
        pending = (value) => {
          clearTimeout(timer);
          resolve(value);
        };
        socket.write(line);
      });
      if (!ok) {
        errors += 1;
        break;
      }
      count += 1;
      latencies.push(performance.now() - t0);
    }
    socket.destroy();
  }
  await Promise.all(Array.from({ length: spec.connections }, () => worker().catch(() => (errors += 1))));
  return summary(latencies, count, errors, performance.now() - start);
}

async function burstLoad() {
  const t0 = performance.now();
  const lengths = await Promise.all(Array.from({ length: spec.count }, () => oneShot(spec.send)));
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, errors: lengths.filter((length) => length === 0).length };
}

const run = { 'tcp-oneshot': oneshotLoad, 'tcp-echo': echoLoad, 'tcp-burst': burstLoad }[spec.kind];
if (!run) {
  process.stderr.write(`unknown load kind ${spec.kind}\n`);
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await run())}\n`);
