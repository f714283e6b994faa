// The handler of `srv-demo pages` (the tutorial's RequestHandler, HTTP/1.0, an access line per request
// on stderr as srv-demo logs it) on an HTTPServer with the async (in-process) dispatcher: what the
// serial, threading and forking dispatchers of the demo are compared with. Imports the built demo
// module ($DEMO_PAGES, apps/demo/dist/servers/pages.js).
import { HTTPServer } from '@srv/http';

const { PagesRequestHandler } = await import(process.env.DEMO_PAGES);
const server = new HTTPServer(['127.0.0.1', Number(process.env.PORT)], PagesRequestHandler, {
  dispatcher: 'async',
  workerData: { startTime: Date.now(), slow: 0 },
});
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
await server.ready;
process.stdout.write('ready\n');
await server.serveForever();
