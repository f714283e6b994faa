/**
 * Tutorial section "CGIHTTPServer": a forking server with `CGIHTTPRequestHandler`, which serves files
 * and runs the scripts in `cgi-bin/` (or `htbin/`) as CGI programs.
 */
import { CGIHTTPRequestHandler } from '@srv/cgi';
import { ForkingMixIn } from '@srv/concurrency';
import { HTTPServer } from '@srv/http';
import { keepChildThroughCtrlC } from '../children.js';
import { type DemoOptions, listenAddress } from '../options.js';
import type { DirectoryData } from './static.js';

keepChildThroughCtrlC();

/**
 * `CGIHTTPRequestHandler` serving the directory given to srv-demo, read from the server's
 * `workerData` in whichever child process runs it (as `DirectoryRequestHandler` in static.ts).
 */
export class DirectoryCGIRequestHandler extends CGIHTTPRequestHandler {
  static override readonly moduleUrl: string = import.meta.url;
  static override readonly exportName: string = 'DirectoryCGIRequestHandler';

  override get directory(): string {
    return (this.server.workerData as Partial<DirectoryData> | undefined)?.directory ?? super.directory;
  }
}

/** `class ForkingServer(ForkingMixIn, HTTPServer): pass`. */
export class ForkingServer extends ForkingMixIn(HTTPServer) {
  // Child processes rebuild this very class from the built module that defines it.
  static override readonly moduleUrl: string = import.meta.url;
  static override readonly exportName: string = 'ForkingServer';
}

/** `ForkingServer(('', 9876), CGIHTTPRequestHandler)`, serving `--directory` (the sample by default). */
export function createCgiServer(options: DemoOptions): ForkingServer {
  const workerData: DirectoryData = { directory: options.directory };
  return new ForkingServer(listenAddress(options), DirectoryCGIRequestHandler, {
    workerData,
    quiet: options.quiet,
  });
}
