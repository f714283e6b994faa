// A @srv/core TCPServer with a handler from handlers.mjs ($HANDLER) on the dispatcher $MODE:
// async (in-process), threading or forking. $WORKERS warm workers (minimum = maximum), or, with
// WORKERS=default, the dispatcher's default pool (threading: 2 threads up to 64; forking: 2 children up
// to 40; both grow when requests stall and shrink back after idleTimeout). $IDLE_TIMEOUT (ms) overrides
// the default idleTimeout (30 s). Prints `ready` once the server (and its pool's minimum) is ready.
import { silentLogger, TCPServer } from '@srv/core';

const mode = process.env.MODE ?? 'async';
const workers = process.env.WORKERS === 'default' ? undefined : Number(process.env.WORKERS ?? 4);
const idleTimeout = process.env.IDLE_TIMEOUT ? { idleTimeout: Number(process.env.IDLE_TIMEOUT) } : {};
const exportName = process.env.HANDLER ?? 'HelloHandler';
const handlerModule = new URL('./handlers.mjs', import.meta.url);
const handlers = await import(handlerModule.href);

let dispatcher = 'async';
if (mode === 'threading') {
  const { threading } = await import('@srv/concurrency');
  dispatcher = threading({
    ...(workers === undefined ? {} : { minThreads: workers, maxThreads: workers }),
    ...idleTimeout,
  });
} else if (mode === 'forking') {
  const { forking } = await import('@srv/concurrency');
  dispatcher = forking({
    ...(workers === undefined ? {} : { minChildren: workers, maxChildren: workers }),
    ...idleTimeout,
  });
}

const server = new TCPServer(['127.0.0.1', Number(process.env.PORT)], handlers[exportName], {
  dispatcher,
  handlerModule,
  handlerExport: exportName,
  logger: silentLogger,
});
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
await server.ready;
process.stdout.write('ready\n');
await server.serveForever();
