/**
 * The `srv-cgi` bin: `srv-static` with CGI on. It reuses @srv/static's runner (flags, banner, signals)
 * and imports the handler through `./index.js`, kept external by the build, so the class workers load
 * is the one the entry exports.
 */
import { runStaticCli } from '@srv/static';
import { CGIHTTPRequestHandler } from './index.js';

runStaticCli(process.argv.slice(2), { name: 'srv-cgi', handler: CGIHTTPRequestHandler }).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`srv-cgi: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
