/**
 * Tutorial section "ForkingMixIn": the pages server with each request in a child process, so slow
 * requests overlap. Each GET logs `Handling with forking <pid>`.
 */
import { ForkingMixIn } from '@srv/concurrency';
import { HTTPServer } from '@srv/http';
import { keepChildThroughCtrlC } from '../children.js';
import { type DemoOptions, graceFor, listenAddress, type PagesData } from '../options.js';
import { PagesRequestHandler } from './pages.js';

keepChildThroughCtrlC();

/** The pages handler, announcing the process it runs in (it runs in a child process). */
export class ForkingRequestHandler extends PagesRequestHandler {
  override async doGET(): Promise<void> {
    if (!this.isQuiet) console.log('Handling with forking', process.pid);
    await super.doGET();
  }
}

/** `class ForkingHTTPServer(ForkingMixIn, HTTPServer): pass`. */
export class ForkingHTTPServer extends ForkingMixIn(HTTPServer) {
  // Child processes rebuild this very class from the built module that defines it.
  static override readonly moduleUrl: string = import.meta.url;
  static override readonly exportName: string = 'ForkingHTTPServer';
  // Four children start with the server, so the tutorial's "open a few tabs" overlaps from the first
  // request instead of waiting for children to start.
  static minChildren = 4;
}

/** `ForkingHTTPServer(('', 7890), RequestHandler)`. */
export function createForkingServer(options: DemoOptions): ForkingHTTPServer {
  const workerData: PagesData = { startTime: Date.now(), slow: options.slow, quiet: options.quiet };
  return new ForkingHTTPServer(listenAddress(options), ForkingRequestHandler, {
    handlerModule: import.meta.url,
    handlerExport: 'ForkingRequestHandler',
    workerData,
    quiet: options.quiet,
    graceMs: graceFor(options.slow),
  });
}
