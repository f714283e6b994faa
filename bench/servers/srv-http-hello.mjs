// @srv/http's HTTPServer with a hello-world BaseHTTPRequestHandler (in-process, async dispatcher).
import { BaseHTTPRequestHandler, HTTPServer } from '@srv/http';

const body = Buffer.from('Hello World\n');

class HelloHandler extends BaseHTTPRequestHandler {
  async doGET() {
    this.sendResponse(200);
    this.sendHeader('Content-Type', 'text/plain');
    this.sendHeader('Content-Length', String(body.length));
    this.endHeaders();
    await this.wfile.write(body);
  }
}

const server = new HTTPServer(['127.0.0.1', Number(process.env.PORT)], HelloHandler, {
  quiet: true,
  keepAliveTimeout: Number(process.env.KEEPALIVE_MS ?? 5000),
});
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
await server.serveForever();
