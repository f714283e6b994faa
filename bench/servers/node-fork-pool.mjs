// Raw node: what srv's forking() does with nothing of srv — $WORKERS (4) children forked in advance;
// the primary accepts sockets paused and hands each to an idle child over IPC (`send(message, socket)`),
// queueing when all are busy; each child serves one connection at a time with node:http and tells the
// primary when it has closed. The anchor for the cost of handing a connection to a process in Node.
import { fork } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { homePage as page } from './home-page.mjs';

if (process.argv[2] === 'child') {
  const server = http.createServer((_req, res) => {
    res.shouldKeepAlive = false;
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(page));
    res.end(page);
  });
  process.on('message', (_message, socket) => {
    if (!socket) return;
    socket.once('close', () => process.send?.({ t: 'done' }));
    server.emit('connection', socket);
  });
  process.on('disconnect', () => process.exit(0));
  // Only now can a handed socket be received (one sent before the listener exists would be lost).
  process.send?.({ t: 'ready' });
} else {
  const children = Array.from({ length: Number(process.env.WORKERS ?? 4) }, () =>
    fork(new URL(import.meta.url).pathname, ['child'], { serialization: 'json' }),
  );
  const idle = [];
  const queue = [];
  const give = (child, socket) => child.send({ t: 'conn' }, socket, () => socket.destroy());
  let ready = 0;
  let markReady;
  const everyoneReady = new Promise((resolve) => {
    markReady = resolve;
  });
  for (const child of children) {
    // 'ready' once, then 'done' after each connection: either way the child is free.
    child.on('message', (message) => {
      if (message?.t === 'ready' && ++ready === children.length) markReady();
      const next = queue.shift();
      if (next) give(child, next);
      else idle.push(child);
    });
  }
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    socket.on('error', () => {});
    const child = idle.shift();
    if (child) give(child, socket);
    else queue.push(socket);
  });
  // Listens once every child can take a connection, as srv's forking() starts its children before ready.
  await everyoneReady;
  server.listen(Number(process.env.PORT), '127.0.0.1');
  process.once('SIGTERM', () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(0);
  });
}
