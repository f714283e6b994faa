// Raw node: what srv's threading() for HTTP does with nothing of srv — node:http parses in the main
// thread; $WORKERS (2, srv's default minThreads) worker_threads started in advance each get one request
// at a time as a structured message ({ method, url, headers }, by postMessage) and post back
// { status, headers, body }, which the main thread writes with writeHead/end. Requests wait in a queue
// while every worker is busy (a busy worker gets no new request, as in srv). The substrate anchor: what
// threads on Node reach here, not a goal.
//
// PAGE=hello: the hello world of the http group (keep-alive). PAGE=pages: the page of `srv-demo pages`
// over HTTP/1.0 (one connection per request); with LOG=1 the worker prints `Handling with thread <n>`
// (console.log, as the demo's handler does in its thread) and the main thread an access line on stderr
// in Python's shape, as srv-demo does.
import http from 'node:http';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { homePage } from './home-page.mjs';

const hello = 'Hello World\n';

if (!isMainThread) {
  const { name, page, log } = workerData;
  // The "handler": everything about the answer is decided here, from the request's parsed head.
  parentPort.on('message', (request) => {
    if (page === 'pages') {
      if (log) console.log('Handling with thread', name);
      const found = request.url === '/';
      const body = found ? homePage : `not found: ${request.url}\n`;
      parentPort.postMessage({
        id: request.id,
        status: found ? 200 : 404,
        headers: {
          Server: 'BaseHTTP/0.6 Node',
          Date: new Date().toUTCString(),
          'Content-type': 'text/html; charset=utf-8',
          'Content-Length': String(Buffer.byteLength(body)),
        },
        body,
      });
    } else {
      parentPort.postMessage({
        id: request.id,
        status: 200,
        headers: { 'Content-Type': 'text/plain', 'Content-Length': String(hello.length) },
        body: hello,
      });
    }
  });
} else {
  const page = process.env.PAGE ?? 'hello';
  const log = process.env.LOG === '1';
  const count = Number(process.env.WORKERS ?? 2);
  const idle = [];
  const queue = [];
  let nextId = 0;

  const accessLine = (req, status) => {
    const now = new Date();
    const stamp = now.toLocaleString('en-GB', { hour12: false });
    process.stderr.write(
      `${req.socket.remoteAddress} - - [${stamp}] "${req.method} ${req.url} HTTP/${req.httpVersion}" ${status} -\n`,
    );
  };

  const give = (worker, job) => {
    worker.job = job;
    worker.postMessage({ id: job.id, method: job.req.method, url: job.req.url, headers: job.req.headers });
  };

  const started = Array.from({ length: count }, (_, index) => {
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { name: `Thread-${index + 1}`, page, log },
    });
    worker.job = undefined;
    worker.on('message', (answer) => {
      const job = worker.job;
      worker.job = undefined;
      const next = queue.shift();
      if (next) give(worker, next);
      else idle.push(worker);
      if (job?.id !== answer.id) return;
      const { req, res } = job;
      if (page === 'pages') res.shouldKeepAlive = false;
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
      if (log) accessLine(req, answer.status);
    });
    return new Promise((resolve) => worker.once('online', () => resolve(worker)));
  });
  for (const worker of await Promise.all(started)) idle.push(worker);

  const server = http.createServer((req, res) => {
    // Bodies are not part of these loads; a request's body would be read here and sent along.
    req.resume();
    const job = { id: ++nextId, req, res };
    const worker = idle.shift();
    if (worker) give(worker, job);
    else queue.push(job);
  });
  if (page === 'pages') server.keepAliveTimeout = 0;
  server.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
  process.once('SIGTERM', () => process.exit(0));
}
