// The ceiling for a CGI host on node:http: each request spawns $DIR/cgi-bin/<name> with the options a
// safe host needs (own process group, stderr collected, stdin closed for a body-less request, run as
// $UID/$GID when given) and answers with its output; no CGI environment, no parsing beyond the blank line.
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';

const dir = path.join(process.env.DIR, 'cgi-bin');
const user = process.env.UID_ ? { uid: Number(process.env.UID_), gid: Number(process.env.GID_) } : {};
const env = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  GATEWAY_INTERFACE: 'CGI/1.1',
  REQUEST_METHOD: 'GET',
};

const server = http.createServer((req, res) => {
  const name = req.url.startsWith('/cgi-bin/') ? req.url.slice(9) : '';
  if (!/^[\w.-]+$/.test(name)) {
    res.writeHead(404, { 'Content-Length': 0 }).end();
    return;
  }
  const child = spawn(path.join(dir, name), [], {
    cwd: dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    ...user,
  });
  const parts = [];
  child.stdout.on('data', (chunk) => parts.push(chunk));
  child.stderr.resume();
  child.once('error', () => {
    if (!res.headersSent) res.writeHead(500, { 'Content-Length': 0 }).end();
  });
  child.once('close', (code) => {
    const out = Buffer.concat(parts);
    const end = out.indexOf('\r\n\r\n');
    if (code !== 0 || end < 0) {
      if (!res.headersSent) res.writeHead(502, { 'Content-Length': 0 }).end();
      return;
    }
    const type =
      /^content-type:[ \t]*([^\r\n]+)/im.exec(out.subarray(0, end).toString('latin1'))?.[1] ?? 'text/plain';
    const body = out.subarray(end + 4);
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length }).end(body);
  });
});
server.listen(Number(process.env.PORT), '127.0.0.1');
