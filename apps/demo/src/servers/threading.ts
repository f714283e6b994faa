/**
 * Tutorial section "ThreadingMixIn": the pages server with each request in a worker thread, so slow
 * requests overlap. Each GET logs `Handling with thread <name>`.
 */
import { currentThreadName, ThreadingMixIn } from '@srv/concurrency';
import { HTTPServer } from '@srv/http';
import { type DemoOptions, graceFor, listenAddress, type PagesData } from '../options.js';
import { PagesRequestHandler } from './pages.js';

/** The pages handler, announcing the thread it runs in (it runs in a worker thread). */
export class ThreadingRequestHandler extends PagesRequestHandler {
  override async doGET(): Promise<void> {
    if (!this.isQuiet) console.log('Handling with thread', currentThreadName());
    await super.doGET();
  }
}

/** `class ThreadingHTTPServer(ThreadingMixIn, HTTPServer): pass`. */
export class ThreadingHTTPServer extends ThreadingMixIn(HTTPServer) {
  // Workers rebuild this very class from the built module that defines it.
  static override readonly moduleUrl: string = import.meta.url;
  static override readonly exportName: string = 'ThreadingHTTPServer';
  // Four threads start with the server, so the tutorial's "open a few tabs" overlaps from the first
  // request instead of waiting for threads to start.
  static minThreads = 4;
}

/** `ThreadingHTTPServer(('', 7890), RequestHandler)`. */
export function createThreadingServer(options: DemoOptions): ThreadingHTTPServer {
  const workerData: PagesData = { startTime: Date.now(), slow: options.slow, quiet: options.quiet };
  return new ThreadingHTTPServer(listenAddress(options), ThreadingRequestHandler, {
    handlerModule: import.meta.url,
    handlerExport: 'ThreadingRequestHandler',
    workerData,
    quiet: options.quiet,
    graceMs: graceFor(options.slow),
  });
}
