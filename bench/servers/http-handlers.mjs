// HTTP handlers for the http group, in their own module so worker threads can import them by URL
// (handlerModule) without starting a server.
import { BaseHTTPRequestHandler } from '@srv/http';

const body = Buffer.from('Hello World\n');

/** The same bytes and headers as every other hello entry. */
export class HelloHandler extends BaseHTTPRequestHandler {
  async doGET() {
    this.sendResponse(200);
    this.sendHeader('Content-Type', 'text/plain');
    this.sendHeader('Content-Length', String(body.length));
    this.endHeaders();
    await this.wfile.write(body);
  }
}
