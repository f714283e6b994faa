import * as http from '@srv/http';
import { threading } from '@srv/concurrency';
import { HelloHandler } from '/work/wt18/bench/servers/http-handlers.mjs';
const n = Number(process.env.N ?? 4);
const server = new http.HTTPServer(['127.0.0.1', Number(process.env.PORT)], HelloHandler, {
  quiet: true,
  dispatcher: threading({ minThreads: n, maxThreads: n }),
  handlerModule: new URL('file:///work/wt18/bench/servers/http-handlers.mjs'),
  handlerExport: 'HelloHandler',
});
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
await server.serveForever();
