// Spoofing checks over the wire, against bench/scale/server.mjs (the server the scale proofs run):
// 1. a PROXY header from an address outside the trusted list is refused: closed without a byte, and
//    no access-log line names the address it claimed;
// 2. the same header from a trusted proxy is believed (the log names the claimed client);
// 3. a PROXY header sent to a listener without PROXY protocol gets 400 and is not believed either.
// Exits 1 when a check fails.
//
//   node bench/scale/spoof.mjs
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const claimed = '203.0.113.66';
const header = `PROXY TCP4 ${claimed} 127.0.0.1 40000 80\r\n`;
const request = 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
let failed = false;

async function start(env) {
  const child = spawn(process.execPath, [path.join(here, 'server.mjs')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KIND: 'hello', LOG: '1', ...env },
  });
  let log = '';
  child.stderr.on('data', (chunk) => {
    log += chunk;
  });
  let out = '';
  for await (const chunk of child.stdout) {
    out += chunk;
    if (out.includes('\n')) break;
  }
  const port = Number(/port (\d+)/.exec(out)?.[1]);
  return {
    port,
    log: () => log,
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Sends `data` from `localAddress` and returns everything received until the server closes. A server
 * that refuses a connection may close it before reading what the client sent, and the kernel then
 * answers with a reset instead of a FIN: that is still "closed without a byte", so a reset ends the
 * exchange like a close does (and is reported beside the bytes).
 */
async function send(port, data, localAddress = '127.0.0.1') {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  const chunks = [];
  let failure;
  socket.on('data', (chunk) => chunks.push(chunk));
  socket.on('error', (error) => {
    failure = error;
  });
  await once(socket, 'connect');
  socket.write(data);
  // Not events.once(): it would reject on the reset that is an expected outcome here.
  await new Promise((resolve) => socket.once('close', resolve));
  if (failure && failure.code !== 'ECONNRESET' && failure.code !== 'EPIPE') throw failure;
  return Buffer.concat(chunks).toString('latin1');
}

function check(what, ok, detail) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${ok ? '' : `: ${detail}`}`);
  if (!ok) failed = true;
}

const proxied = await start({ PROXY: '1', TRUSTED: '127.0.0.2/32' });
try {
  const untrusted = await send(proxied.port, header + request, '127.0.0.1');
  check(
    'untrusted sender (127.0.0.1, trusted: 127.0.0.2/32): closed without a byte',
    untrusted === '',
    untrusted,
  );
  const trusted = await send(proxied.port, header + request, '127.0.0.2');
  check('trusted sender (127.0.0.2): answered', trusted.startsWith('HTTP/1.1 200 '), trusted.slice(0, 40));
  const noHeader = await send(proxied.port, request, '127.0.0.2');
  check('trusted sender without a header: closed without a byte', noHeader === '', noHeader);
} finally {
  await proxied.stop();
}
const lines = proxied
  .log()
  .split('\n')
  .filter((line) => line.includes('"GET /'));
check(
  'one access-log line, naming the client the trusted proxy vouched for',
  lines.length === 1 && lines[0].startsWith(`${claimed} - - [`),
  lines.join(' | '),
);

const plain = await start({});
try {
  const answer = await send(plain.port, header + request);
  check('listener without PROXY protocol: 400', answer.startsWith('HTTP/1.1 400 '), answer.slice(0, 40));
} finally {
  await plain.stop();
}
check(
  '…and no log line has the claimed address as its client',
  !plain
    .log()
    .split('\n')
    .some((line) => line.startsWith(claimed)),
  plain.log(),
);
check(
  '…its log names the real peer',
  /^127\.0\.0\.1 - - \[.*\] "PROXY TCP4 /m.test(plain.log()),
  plain.log(),
);
process.exitCode = failed ? 1 : 0;
