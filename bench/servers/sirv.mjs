// sirv (production mode: files indexed at start, ETags) on node:http, serving $DIR.
import http from 'node:http';
import sirv from 'sirv';

const serve = sirv(process.env.DIR, { dev: false, etag: true, dotfiles: false });
http
  .createServer((req, res) =>
    serve(req, res, () => {
      res.statusCode = 404;
      res.end();
    }),
  )
  .listen(Number(process.env.PORT), '127.0.0.1');
