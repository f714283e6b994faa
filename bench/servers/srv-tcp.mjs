// A @srv/core TCPServer with a handler from handlers.mjs ($HANDLER) on the dispatcher $MODE:
// async (in-process), threading or forking with $WORKERS warm workers.
import { silentLogger, TCPServer } from '@srv/core';

const mode = process.env.MODE ?? 'async';
const workers = Number(process.env.WORKERS ?? 4);
const exportName = process.env.HANDLER ?? 'HelloHandler';
const handlerModule = new URL('./handlers.mjs', import.meta.url);
const handlers = await import(handlerModule.href);

let dispatcher = 'async';
if (mode === 'threading') {
  const { threading } = await import('@srv/concurrency');
  dispatcher = threading({ minThreads: workers, maxThreads: workers });
} else if (mode === 'forking') {
  const { forking } = await import('@srv/concurrency');
  dispatcher = forking({ minChildren: workers, maxChildren: workers });
}

const server = new TCPServer(['127.0.0.1', Number(process.env.PORT)], handlers[exportName], {
  dispatcher,
  handlerModule,
  handlerExport: exportName,
  logger: silentLogger,
});
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
await server.serveForever();
