// The ceiling for HTTP hello: raw node:http, the same bytes and headers as the srv entry.
import http from 'node:http';

const body = Buffer.from('Hello World\n');
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
  res.end(body);
});
// Idle keep-alive connections must survive the memory measurement (as with srv's keepAliveTimeout).
server.keepAliveTimeout = Number(process.env.KEEPALIVE_MS ?? 5000);
server.listen(Number(process.env.PORT), '127.0.0.1');
