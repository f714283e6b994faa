// The ceiling for static files: raw node:http sending the files of $DIR from memory (read once at start).
// With STAT=1 it first makes the one fs.stat per request that a correct cache of small files needs
// (bigint, synchronous, as @srv/static does), so the cost of that stat alone can be read beside it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const dir = process.env.DIR;
const stat = process.env.STAT === '1';
const files = new Map();
for (const name of readdirSync(dir)) {
  const file = path.join(dir, name);
  if (statSync(file).isFile()) files.set(`/${name}`, { file, body: readFileSync(file) });
}
const server = http.createServer((req, res) => {
  const entry = files.get(req.url);
  if (!entry || (stat && statSync(entry.file, { bigint: true, throwIfNoEntry: false }) === undefined)) {
    res.writeHead(404, { 'Content-Length': 0 });
    res.end();
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': entry.body.length });
  res.end(entry.body);
});
server.keepAliveTimeout = Number(process.env.KEEPALIVE_MS ?? 5000);
server.listen(Number(process.env.PORT), '127.0.0.1', Number(process.env.BACKLOG ?? 511));
