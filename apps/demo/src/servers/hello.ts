/**
 * Tutorial section "BaseHTTPServer", first example: an `HTTPServer` on port 6789 whose handler answers
 * every GET with the same page, and HEAD with its headers only.
 */
import { BaseHTTPRequestHandler, HTTPServer, type ProtocolVersion } from '@srv/http';
import { type DemoOptions, listenAddress } from '../options.js';

const page = `<html>
  <head><title>Sample Page</title></head>
  <body>
    <h3>Hello World</h3>
    <p>This is a Sample HTML Page,Every Page this server provides will like this</p>
  </body>
</html>
`;

/** The tutorial's `RequestHandle`. */
export class HelloRequestHandler extends BaseHTTPRequestHandler {
  // Python 2's BaseHTTPServer spoke HTTP/1.0: one request per connection.
  static override protocolVersion: ProtocolVersion = 'HTTP/1.0';

  private writeHeaders(): void {
    this.sendResponse(200);
    this.sendHeader('Content-type', 'text/html; charset=utf-8');
    this.sendHeader('Content-Length', Buffer.byteLength(page));
    // The tutorial writes `self.end_headers` without the call; the headers are ended here.
    this.endHeaders();
  }

  doHEAD(): void {
    this.writeHeaders();
  }

  async doGET(): Promise<void> {
    this.writeHeaders();
    await this.wfile.write(page);
  }
}

/** `HTTPServer(('', 6789), RequestHandle)`. */
export function createHelloServer(options: DemoOptions): HTTPServer {
  return new HTTPServer(listenAddress(options), HelloRequestHandler, { quiet: options.quiet });
}
