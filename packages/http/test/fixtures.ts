import { BaseHTTPRequestHandler } from '../src/index.js';

/** Answers GET and HEAD with a fixed page naming the path; POST echoes the body. */
export class HelloHandler extends BaseHTTPRequestHandler {
  doGET(): void {
    this.#reply(true);
  }

  doHEAD(): void {
    this.#reply(false);
  }

  async doPOST(): Promise<void> {
    const body = await this.rfile.read();
    this.sendResponse(200);
    this.sendHeader('Content-Type', 'text/plain');
    this.sendHeader('Content-Length', String(body.length));
    this.endHeaders();
    await this.wfile.write(body);
  }

  #reply(withBody: boolean): void {
    const body = Buffer.from(`Hello World ${this.path}\n`);
    this.sendResponse(200);
    this.sendHeader('Content-Type', 'text/plain');
    this.sendHeader('Content-Length', String(body.length));
    this.endHeaders();
    if (withBody) void this.wfile.write(body);
  }
}
