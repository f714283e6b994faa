/**
 * The `srv-cgi` bin: `srv-static` with CGI on. It reuses @srv/static's runner (flags, banner, signals,
 * built on `@srv/core/cli`) with its own name, description and version, and imports the handler
 * through `./index.js`, kept external by the build, so the class workers load is the one the entry
 * exports.
 */
import { readPackageVersion } from '@srv/core/cli';
import { runStaticCli } from '@srv/static';
import { CGIHTTPRequestHandler } from './index.js';

process.exitCode = await runStaticCli(process.argv.slice(2), {
  name: 'srv-cgi',
  summary:
    "Serve a directory over HTTP and run the CGI scripts (RFC 3875) in its cgi-bin/ and htbin/:\nPython's CGIHTTPRequestHandler as a command.",
  version: readPackageVersion(import.meta.url),
  handler: CGIHTTPRequestHandler,
});
