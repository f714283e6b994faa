// The ceiling for static files: raw node:http sending the files of $DIR from memory (read once at start).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const dir = process.env.DIR;
const files = new Map();
for (const name of readdirSync(dir)) {
  const file = path.join(dir, name);
  if (statSync(file).isFile()) files.set(`/${name}`, readFileSync(file));
}
const server = http.createServer((req, res) => {
  const body = files.get(req.url);
  if (!body) {
    res.writeHead(404, { 'Content-Length': 0 });
    res.end();
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
  res.end(body);
});
server.keepAliveTimeout = Number(process.env.KEEPALIVE_MS ?? 5000);
server.listen(Number(process.env.PORT), '127.0.0.1');
