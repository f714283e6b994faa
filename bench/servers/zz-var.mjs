const http = await import(process.env.HTTP_DIST);
const body = Buffer.from('Hello World\n');
class H extends http.BaseHTTPRequestHandler {
  async doGET() {
    this.sendResponse(200);
    this.sendHeader('Content-Type', 'text/plain');
    this.sendHeader('Content-Length', String(body.length));
    this.endHeaders();
    await this.wfile.write(body);
  }
}
const server = new http.HTTPServer(['127.0.0.1', Number(process.env.PORT)], H, { quiet: true });
await server.serveForever();
