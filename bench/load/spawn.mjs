// The bare spawn rate: how many times per second Node can run a command to completion, `concurrency`
// at once (the ceiling of any CGI host). Prints { rps, p50Ms, p99Ms, errors }.
import { spawn } from 'node:child_process';

const spec = JSON.parse(process.argv[2] ?? '{}');

function once() {
  return new Promise((resolve) => {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? {},
      uid: spec.uid,
      gid: spec.gid,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let length = 0;
    child.stdout.on('data', (chunk) => {
      length += chunk.length;
    });
    child.once('error', () => resolve(false));
    child.once('close', (code) => resolve(code === 0 && length > 0));
  });
}

const deadline = performance.now() + spec.seconds * 1000;
const latencies = [];
let count = 0;
let errors = 0;
const start = performance.now();
async function worker() {
  while (performance.now() < deadline) {
    const t0 = performance.now();
    if (await once()) {
      count += 1;
      latencies.push(performance.now() - t0);
    } else errors += 1;
  }
}
await Promise.all(Array.from({ length: spec.concurrency }, worker));
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
process.stdout.write(
  `${JSON.stringify({ rps: count / ((performance.now() - start) / 1000), p50Ms: at(0.5), p99Ms: at(0.99), errors })}\n`,
);
