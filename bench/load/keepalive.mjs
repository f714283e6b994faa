// Opens `count` keep-alive HTTP/1.1 connections, sends one GET on each, waits for each response's
// headers, then holds them idle. Prints {"phase":"held",...} once all are in, then stays until killed
// (the harness reads the server's RSS meanwhile).
import net from 'node:net';

const spec = JSON.parse(process.argv[2] ?? '{}');
const request = `GET ${spec.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`;
const sockets = new Set();
let failed = 0;
let closedByServer = 0;

function open() {
  return new Promise((resolve) => {
    const socket = net.connect({ port: spec.port, host: '127.0.0.1' });
    let answered = false;
    let head = '';
    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk) => {
      if (answered) return;
      head += chunk.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        answered = true;
        sockets.add(socket);
        resolve();
      }
    });
    socket.once('error', () => {});
    socket.once('close', () => {
      if (sockets.delete(socket)) closedByServer += 1;
      if (!answered) {
        failed += 1;
        resolve();
      }
    });
  });
}

const t0 = performance.now();
const batch = 200;
for (let opened = 0; opened < spec.count; opened += batch) {
  await Promise.all(Array.from({ length: Math.min(batch, spec.count - opened) }, open));
}
process.stdout.write(
  `${JSON.stringify({ phase: 'held', held: sockets.size, failed, closedByServer, openMs: performance.now() - t0 })}\n`,
);
setInterval(() => {}, 60_000);
