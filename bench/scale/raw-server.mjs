// The anchor of the CPU-per-worker proof: raw node:http answering the same hello bytes as
// bench/servers/http-handlers.mjs, one process with WORKERS=1, node:cluster with more (round-robin
// hand-off by the primary, Node's default on Linux; REUSE_PORT=1 lets each worker bind its own socket
// instead, on Node >= 22.12). It prints the same first stdout line as server.mjs once every worker listens.
import cluster from 'node:cluster';
import http from 'node:http';

const workers = Number(process.env.WORKERS ?? '1');
const reusePort = process.env.REUSE_PORT === '1';
const port = Number(process.env.PORT ?? 0);
const body = Buffer.from('Hello World\n');

function serve(listenPort, onListening) {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
    res.end(body);
  });
  server.listen({ host: '127.0.0.1', port: listenPort, ...(reusePort ? { reusePort: true } : {}) }, () =>
    onListening?.(server.address().port),
  );
  // A cluster worker's IPC channel keeps it alive after its server closes: exit once closed.
  process.on('SIGTERM', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

const banner = (listening) =>
  process.stdout.write(`Serving HTTP on 127.0.0.1 port ${listening} (http://127.0.0.1:${listening}/) ...\n`);

if (workers <= 1) {
  serve(port, banner);
} else if (cluster.isPrimary) {
  // With reusePort every worker needs one known port: the primary finds a free one first.
  let shared = port;
  if (reusePort && shared === 0) {
    const probe = http.createServer();
    await new Promise((resolve) => probe.listen({ host: '127.0.0.1', port: 0 }, resolve));
    shared = probe.address().port;
    await new Promise((resolve) => probe.close(resolve));
  }
  let listening = 0;
  cluster.on('listening', (_worker, address) => {
    listening += 1;
    if (listening === workers) banner(address.port);
  });
  for (let index = 0; index < workers; index += 1) cluster.fork({ PORT: String(shared) });
  process.on('SIGTERM', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  });
  let exited = 0;
  cluster.on('exit', () => {
    exited += 1;
    if (exited === workers) process.exit(0);
  });
} else {
  serve(port);
}
