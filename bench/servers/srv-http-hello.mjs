// @srv/http hello world: HTTPServer (in-process, async dispatcher) or, with CLASS=ThreadingHTTPServer,
// requests served in worker threads (Python's ThreadingHTTPServer shape; the connections stay here).
import * as http from '@srv/http';
import { HelloHandler } from './http-handlers.mjs';

const Server = process.env.CLASS === 'ThreadingHTTPServer' ? http.ThreadingHTTPServer : http.HTTPServer;
const server = new Server(['127.0.0.1', Number(process.env.PORT)], HelloHandler, {
  quiet: true,
  keepAliveTimeout: Number(process.env.KEEPALIVE_MS ?? 5000),
  handlerModule: new URL('./http-handlers.mjs', import.meta.url),
  handlerExport: 'HelloHandler',
});
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
await server.serveForever();
